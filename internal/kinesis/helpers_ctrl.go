package kinesis

// Helpers shared by the control-plane operations: tag validation with AWS's
// texts, resource ARNs (stream or consumer), consumers and their state
// transitions, and the account's billing commitment.

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

const maxTags = 50

// ---- tags ----

// javaMap renders a map the way AWS's validation messages show one:
// {a=1, b=2} (sorted here; AWS's order is a hash order).
func javaMap(m map[string]string) string {
	keys := sortedKeys(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// javaList renders a list as AWS's validation messages do: [a, b].
func javaList(l []string) string { return "[" + strings.Join(l, ", ") + "]" }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkTagMap adds the model constraints of a tag map member (1..max
// entries, keys 1..128, values 0..256 characters).
func checkTagMap(v *awserr.Validation, tags map[string]string, present bool, path string, max int) {
	if !present {
		v.Add(nil, path, "Member must not be null")
		return
	}
	if len(tags) < 1 {
		v.Add(javaMap(tags), path, "Member must have length greater than or equal to 1")
		return
	}
	if len(tags) > max {
		v.Add(javaMap(tags), path, fmt.Sprintf("Member must have length less than or equal to %d", max))
		return
	}
	for _, k := range sortedKeys(tags) {
		if n := len([]rune(k)); n < 1 || n > 128 {
			v.Add(javaMap(tags), path, "Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]")
			return
		}
	}
	for _, k := range sortedKeys(tags) {
		if len([]rune(tags[k])) > 256 {
			v.Add(javaMap(tags), path, "Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]")
			return
		}
	}
}

// checkTagKeys adds the model constraints of a tag key list (1..50 keys of
// 1..128 characters).
func checkTagKeys(v *awserr.Validation, keys []string, present bool, path string) {
	if !present {
		v.Add(nil, path, "Member must not be null")
		return
	}
	if len(keys) < 1 {
		v.Add(javaList(keys), path, "Member must have length greater than or equal to 1")
		return
	}
	if len(keys) > maxTags {
		v.Add(javaList(keys), path, fmt.Sprintf("Member must have length less than or equal to %d", maxTags))
		return
	}
	for _, k := range keys {
		if n := len([]rune(k)); n < 1 || n > 128 {
			v.Add(javaList(keys), path, "Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]")
			return
		}
	}
}

// tagCharsOK reports whether s holds only the characters AWS accepts in
// tags: Unicode letters and digits, the space and _ . / = + - % @ :.
func tagCharsOK(s string) bool {
	for _, r := range s {
		switch {
		case r == ' ', r == '_', r == '.', r == '/', r == '=', r == '+', r == '-', r == '%', r == '@', r == ':':
		case unicode.IsLetter(r), unicode.IsDigit(r):
		default:
			return false
		}
	}
	return true
}

// checkTagText applies AWS's two character checks to tag keys and values:
// characters outside the set, then '%' (listed as valid by the first
// message, refused by the second, as AWS does). verb is "add tags to" or
// "remove tags from"; what names the resource ("stream s under account a").
func checkTagText(texts []string, verb, what string) error {
	for _, t := range texts {
		if !tagCharsOK(t) {
			return awserr.InvalidArgument("%s", "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.")
		}
	}
	for _, t := range texts {
		if strings.ContainsRune(t, '%') {
			return awserr.InvalidArgument("Failed to %s %s because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'.", verb, what)
		}
	}
	return nil
}

func tagTexts(tags map[string]string) []string {
	out := make([]string, 0, 2*len(tags))
	for _, k := range sortedKeys(tags) {
		out = append(out, k, tags[k])
	}
	return out
}

// mergeTags adds tags to *dst, refusing to go over maxTags in total.
func mergeTags(dst *map[string]string, tags map[string]string, verb, what, kind string) error {
	n := len(*dst)
	for k := range tags {
		if _, ok := (*dst)[k]; !ok {
			n++
		}
	}
	if n > maxTags {
		return awserr.InvalidArgument("Failed to %s %s because a given %s cannot have more than %d tags associated with it.", verb, what, kind, maxTags)
	}
	if *dst == nil {
		*dst = map[string]string{}
	}
	for k, v := range tags {
		(*dst)[k] = v
	}
	return nil
}

type tagShape struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func tagList(m map[string]string) []tagShape {
	out := make([]tagShape, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, tagShape{k, m[k]})
	}
	return out
}

func (st *stream) what() string {
	return fmt.Sprintf("stream %s under account %s", st.Name, st.Account)
}

// ---- resource ARNs ----

var resourceARNPattern = `arn:aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+(\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+)?`

var resourceARNRe = regexp.MustCompile(`^` + resourceARNPattern + `$`)

// checkResourceARN adds the model constraints of a ResourceARN member.
func checkResourceARN(v *awserr.Validation, arn *string, path string) {
	if arn == nil {
		v.Add(nil, path, "Member must not be null")
		return
	}
	checkLen(v, *arn, path, 1, 2048)
	if *arn != "" && !resourceARNRe.MatchString(*arn) {
		v.Add(*arn, path, "Member must satisfy regular expression pattern: "+resourceARNPattern)
	}
}

// resourceLocked resolves a stream or consumer ARN. c is nil for a stream.
// Caller holds s.mu.
func (s *Service) resourceLocked(arn string) (*stream, *consumer, error) {
	p, ok := parseARN(arn)
	if !ok {
		return nil, nil, awserr.InvalidArgument("ResourceARN %s is invalid.", arn)
	}
	st := s.streams[nsKey{p.account, p.region, p.stream}]
	if st == nil {
		return nil, nil, notFound(p.stream, p.account)
	}
	if p.consumer == "" {
		return st, nil, nil
	}
	c := st.consumer(p.consumer)
	if c == nil || fmt.Sprint(c.CreatedMs/1000) != p.consumerTime {
		return nil, nil, consumerNotFound(p.consumer, st)
	}
	return st, c, nil
}

func consumerNotFound(name string, st *stream) error {
	return awserr.ResourceNotFound("Consumer %s under stream %s under account %s not found.", name, st.Name, st.Account)
}

// ---- consumers ----

// consumerLocked resolves a consumer from ConsumerARN and/or StreamARN +
// ConsumerName (all given must agree). Caller holds s.mu.
func (s *Service) consumerLocked(r *awsproto.Request, consumerARN, streamARN, name *string) (*stream, *consumer, error) {
	has := func(p *string) bool { return p != nil && *p != "" }
	if has(consumerARN) {
		p, ok := parseARN(*consumerARN)
		if !ok || p.consumer == "" {
			return nil, nil, awserr.InvalidArgument("ConsumerARN %s is invalid.", *consumerARN)
		}
		if has(name) && *name != p.consumer {
			return nil, nil, awserr.InvalidArgument("ConsumerARN %s and ConsumerName %s do not refer to the same consumer.", *consumerARN, *name)
		}
		if has(streamARN) && !strings.HasPrefix(*consumerARN, *streamARN+"/consumer/") {
			return nil, nil, awserr.InvalidArgument("ConsumerARN %s does not belong to stream %s.", *consumerARN, *streamARN)
		}
		return s.resourceLocked(*consumerARN)
	}
	if !has(streamARN) || !has(name) {
		return nil, nil, awserr.InvalidArgument("Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
	}
	st, err := s.lookupLocked(r, nil, streamARN)
	if err != nil {
		return nil, nil, err
	}
	c := st.consumer(*name)
	if c == nil {
		return nil, nil, consumerNotFound(*name, st)
	}
	return st, c, nil
}

type consumerShape struct {
	ConsumerName              string              `json:"ConsumerName"`
	ConsumerARN               string              `json:"ConsumerARN"`
	ConsumerStatus            string              `json:"ConsumerStatus"`
	ConsumerCreationTimestamp *awsproto.Timestamp `json:"ConsumerCreationTimestamp"`
	StreamARN                 string              `json:"StreamARN,omitempty"` // DescribeStreamConsumer only
}

func (st *stream) consumerShape(c *consumer) consumerShape {
	return consumerShape{ConsumerName: c.Name, ConsumerARN: st.consumerARN(c), ConsumerStatus: c.Status, ConsumerCreationTimestamp: awsproto.TSMillis(c.CreatedMs)}
}

// consumerLimitLocked is how many consumers a stream may have: 20, or 50
// when the account has the minimum throughput billing commitment.
func (s *Service) consumerLimitLocked(account string) int {
	if s.commitmentOnLocked(account) {
		return 50
	}
	return 20
}

// activateConsumerLater moves a CREATING consumer to ACTIVE after the
// transition delay.
func (s *Service) activateConsumerLater(st *stream, c *consumer) {
	id, name, created := st.ID, c.Name, c.CreatedMs
	s.schedule(s.opt.TransitionDelay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		cur := s.streams[nsKey{st.Account, st.Region, st.Name}]
		if cur == nil || cur.ID != id {
			return
		}
		if c := cur.consumer(name); c != nil && c.CreatedMs == created && c.Status == stateCreating {
			c.Status = stateActive
			_ = s.commitLocked()
		}
	})
}

// removeConsumerLocked drops a consumer and tells the fan-out side.
func (s *Service) removeConsumerLocked(st *stream, c *consumer) {
	kept := st.Consumers[:0]
	for _, x := range st.Consumers {
		if x != c {
			kept = append(kept, x)
		}
	}
	st.Consumers = kept
	if s.hooks.onConsumerGone != nil {
		s.hooks.onConsumerGone(st.consumerARN(c))
	}
}

// removeConsumerLater removes a DELETING consumer after the transition delay.
func (s *Service) removeConsumerLater(st *stream, c *consumer) {
	id, name, created := st.ID, c.Name, c.CreatedMs
	s.schedule(s.opt.TransitionDelay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		cur := s.streams[nsKey{st.Account, st.Region, st.Name}]
		if cur == nil || cur.ID != id {
			return
		}
		if c := cur.consumer(name); c != nil && c.CreatedMs == created && c.Status == stateDeleting {
			s.removeConsumerLocked(cur, c)
			_ = s.commitLocked()
		}
	})
}

// ConsumerInfo describes a registered consumer for enhanced fan-out.
type ConsumerInfo struct {
	StreamName, Account, Region string
	StreamID                    string // internal id naming the shard logs
	Status                      string // CREATING | ACTIVE | DELETING
}

// ConsumerByARN resolves a consumer ARN. ok is false when no such consumer
// is registered.
func (s *Service) ConsumerByARN(arn string) (ConsumerInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, c, err := s.resourceLocked(arn)
	if err != nil || c == nil {
		return ConsumerInfo{}, false
	}
	return ConsumerInfo{StreamName: st.Name, Account: st.Account, Region: st.Region, StreamID: st.ID, Status: c.Status}, true
}

// OnConsumerGone adds f to the functions called when a consumer is
// deregistered or its stream deleted. They run with the service lock held,
// so f must not call back into the service.
func (s *Service) OnConsumerGone(f func(consumerARN string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.hooks.onConsumerGone
	s.hooks.onConsumerGone = func(arn string) {
		if prev != nil {
			prev(arn)
		}
		f(arn)
	}
}

// ---- account settings ----

const (
	commitEnabled      = "ENABLED"
	commitDisabled     = "DISABLED"
	commitUntilEarlier = "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
	// commitMinMs is the minimum commitment window (unverified: 24 hours).
	commitMinMs = 24 * 3600_000
)

// settleCommitmentLocked ends a commitment whose disable took effect.
func (s *Service) settleCommitmentLocked(a *accountSettings) {
	if a != nil && a.CommitmentStatus == commitUntilEarlier && s.nowMs() >= a.EndedMs {
		a.CommitmentStatus = commitDisabled
	}
}

// commitmentOnLocked reports whether the account's minimum throughput
// billing commitment is in force.
func (s *Service) commitmentOnLocked(account string) bool {
	a := s.accounts[account]
	if a == nil {
		return false
	}
	switch a.CommitmentStatus {
	case commitEnabled:
		return true
	case commitUntilEarlier:
		return s.nowMs() < a.EndedMs
	}
	return false
}

// readResource decodes a {ResourceARN} request, resolves the stream or
// consumer it names and calls f with them under the read lock (c is nil for
// a stream ARN).
func (s *Service) readResource(r *awsproto.Request, f func(st *stream, c *consumer) (any, error)) (any, error) {
	var in resourceARNInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	checkResourceARN(&v, in.ResourceARN, "resourceARN")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, c, err := s.resourceLocked(*in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return f(st, c)
}
