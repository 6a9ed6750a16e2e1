package natsstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/storage/natsstore"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestLeaseOneHolderAndTakeover(t *testing.T) {
	st, err := natsstore.OpenEmbedded(t.TempDir(), "lease")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	a := st.NewLease("firehose", "node-a", 3*time.Second, clk.Now)
	b := st.NewLease("firehose", "node-b", 3*time.Second, clk.Now)

	mustStep := func(l *natsstore.Lease, want bool, what string) {
		t.Helper()
		got, err := l.Step(ctx)
		if err != nil || got != want {
			t.Fatalf("%s: held=%v err=%v, want held=%v", what, got, err, want)
		}
	}
	mustStep(a, true, "a takes the free lease")
	mustStep(b, false, "b while a holds it")
	if !a.Held() || b.Held() {
		t.Fatal("exactly a must hold")
	}
	clk.Add(time.Second)
	mustStep(a, true, "a renews")
	clk.Add(2500 * time.Millisecond) // a's renewal has not expired yet (1 s + 3 s)
	mustStep(b, false, "b before a's renewal expires")
	if a.Held() {
		t.Fatal("a must stop acting once less than TTL/3 is left without a renewal")
	}
	clk.Add(600 * time.Millisecond) // now past a's expiry: a died
	mustStep(b, true, "b takes the expired lease over")
	if b.Epoch() != a.Epoch()+1 {
		t.Fatalf("epoch after takeover %d, want %d", b.Epoch(), a.Epoch()+1)
	}
	mustStep(a, false, "a comes back and finds b holding it")
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	mustStep(a, true, "a takes the released lease without waiting")
}

// TestLeaseRace: many contenders step at once on a free lease; exactly one wins.
func TestLeaseRace(t *testing.T) {
	st, err := natsstore.OpenEmbedded(t.TempDir(), "race")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	var wg sync.WaitGroup
	wins := make(chan string, 8)
	for i := range 8 {
		l := st.NewLease("agent", string(rune('a'+i)), 5*time.Second, clk.Now)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := l.Step(context.Background()); err == nil && ok {
				wins <- string(rune('a' + i))
			}
		}()
	}
	wg.Wait()
	close(wins)
	var got []string
	for w := range wins {
		got = append(got, w)
	}
	if len(got) != 1 {
		t.Fatalf("winners %v, want exactly one", got)
	}
}
