package sts

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/gateway"
)

func server(t *testing.T) *httptest.Server {
	g := gateway.New(gateway.Options{Auth: gateway.ScopeAuth("000000000000", "us-east-1"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Services: []awsproto.Service{New()}})
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return srv
}

func TestGetCallerIdentitySDK(t *testing.T) {
	srv := server(t)
	for key, account := range map[string]string{"AKIDEXAMPLE": "000000000000", "123456789012": "123456789012"} {
		c := sts.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider(key, "secret", "")})
		out, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if *out.Account != account || *out.Arn != "arn:aws:iam::"+account+":root" || *out.UserId != account {
			t.Fatalf("key %s: %s %s %s", key, *out.Account, *out.Arn, *out.UserId)
		}
	}
}

func TestUnknownSTSAction(t *testing.T) {
	srv := server(t)
	resp, err := http.Post(srv.URL+"/", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "<Code>InvalidAction</Code>") || !strings.Contains(string(b), "Could not find operation AssumeRole for version 2011-06-15") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	// a form for no known service
	resp, err = http.Post(srv.URL+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=ListQueues&Version=2012-11-05"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "InvalidAction") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}
