package firehose

import "testing"

func TestSigningRegion(t *testing.T) {
	stream := "arn:aws:firehose:ap-south-1:000000000000:deliverystream/s"
	for _, c := range []struct{ arn, endpoint, want string }{
		{"arn:aws:es:eu-west-1:000000000000:domain/logs", "", "eu-west-1"},
		{"", "https://search-logs-abc123.us-west-2.es.amazonaws.com", "us-west-2"},
		{"", "https://abc123.eu-central-1.aoss.amazonaws.com:443/", "eu-central-1"},
		{"", "http://127.0.0.1:9200", "ap-south-1"},
		{"", "https://es.amazonaws.com", "ap-south-1"},
		{"arn:aws:es", "", "ap-south-1"},
	} {
		if got := signingRegion(c.arn, c.endpoint, stream); got != c.want {
			t.Errorf("signingRegion(%q, %q) = %q, want %q", c.arn, c.endpoint, got, c.want)
		}
	}
	if got := signingRegion("", "", "bad"); got != "us-east-1" {
		t.Errorf("no region anywhere: %q", got)
	}
}
