package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func dynamoClient(url string) *dynamodb.Client {
	return dynamodb.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(url),
		HTTPClient:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
	}, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
}

// TestDynamoDBKill9LosesNoAcknowledgedWrite writes DynamoDB items and
// bumps counters from several clients, SIGKILLs the server at a random
// moment, restarts it on the same data directory and checks that every
// acknowledged put is there and every counter holds at least its last
// acknowledged value (at most one more: a bump in flight at the kill).
func TestDynamoDBKill9LosesNoAcknowledgedWrite(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const writers, cycles = 6, 4
	var mu sync.Mutex
	puts := map[string]string{}      // id -> value
	counters := make([]int, writers) // last acknowledged value
	check := func(c *dynamodb.Client) {
		t.Helper()
		for id, v := range puts {
			out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("crash"), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := out.Item["v"].(*types.AttributeValueMemberS)
			if got == nil || got.Value != v {
				t.Fatalf("acknowledged item %s lost or changed: %v", id, out.Item)
			}
		}
		for w, want := range counters {
			out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("crash"), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: fmt.Sprint("ctr-", w)}}})
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			if n, ok := out.Item["n"].(*types.AttributeValueMemberN); ok {
				got, _ = strconv.Atoi(n.Value)
			}
			if got < want || got > want+1 {
				t.Fatalf("counter %d is %d, last acknowledged %d", w, got, want)
			}
			counters[w] = got
		}
	}
	for cycle := 0; cycle < cycles; cycle++ {
		s := startServer(t, dir, "--durability", "always")
		c := dynamoClient(s.URL)
		if cycle == 0 {
			if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("crash"), BillingMode: types.BillingModePayPerRequest,
				AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
				KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}}}); err != nil {
				t.Fatal(err)
			}
		}
		check(c)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id, v := fmt.Sprintf("c%d-w%d-%d", cycle, w, i), fmt.Sprintf("%x", rand.Uint64())
					if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("crash"), Item: map[string]types.AttributeValue{
						"id": &types.AttributeValueMemberS{Value: id}, "v": &types.AttributeValueMemberS{Value: v}}}); err != nil {
						return
					}
					mu.Lock()
					puts[id] = v
					mu.Unlock()
					out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("crash"),
						Key:              map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: fmt.Sprint("ctr-", w)}},
						UpdateExpression: aws.String("ADD n :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
						ReturnValues: types.ReturnValueUpdatedNew})
					if err != nil {
						return
					}
					n, _ := strconv.Atoi(out.Attributes["n"].(*types.AttributeValueMemberN).Value)
					mu.Lock()
					counters[w] = n
					mu.Unlock()
				}
			}(w)
		}
		time.Sleep(time.Duration(150+rand.IntN(600)) * time.Millisecond)
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
		close(stop)
		wg.Wait()
	}
	s := startServer(t, dir, "--durability", "always")
	check(dynamoClient(s.URL))
	if len(puts) < 200 {
		t.Fatalf("only %d puts acknowledged over %d cycles: load too light to mean anything", len(puts), cycles)
	}
	t.Logf("%d acknowledged puts and %d counters survived %d SIGKILLs", len(puts), writers, cycles)
	s.stop(t)
}
