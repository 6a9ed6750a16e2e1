package query

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

func TestTree(t *testing.T) {
	v, _ := url.ParseQuery("Action=A&Version=1&Namespace=n&MetricData.member.10.MetricName=ten&MetricData.member.2.MetricName=two" +
		"&MetricData.member.2.Dimensions.member.1.Name=d&MetricData.member.2.Dimensions.member.1.Value=v&MetricData.member.2.StatisticValues.Sum=3")
	tr := Tree(v)
	if _, ok := tr["Action"]; ok || tr["Namespace"] != "n" {
		t.Fatalf("top: %v", tr)
	}
	md := tr["MetricData"].([]any)
	if len(md) != 2 || md[0].(map[string]any)["MetricName"] != "two" || md[1].(map[string]any)["MetricName"] != "ten" {
		t.Fatalf("list order: %v", md)
	}
	two := md[0].(map[string]any)
	if fmt.Sprint(two["Dimensions"]) != "[map[Name:d Value:v]]" || two["StatisticValues"].(map[string]any)["Sum"] != "3" {
		t.Fatalf("nested: %v", two)
	}
	if len(Tree(url.Values{"member.1": {"x"}})) != 0 {
		t.Fatal("a bare list at the top is no structure")
	}
}

func TestGzipBody(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(bytes.Repeat([]byte("a"), MaxInflated+1))
	zw.Close()
	r, _ := http.NewRequest("POST", "/", nil)
	r.Header.Set("Content-Encoding", "gzip")
	if _, err := Body(r, b.Bytes()); err == nil {
		t.Fatal("a body inflating past the cap was accepted")
	}
	b.Reset()
	zw = gzip.NewWriter(&b)
	zw.Write([]byte("Action=X"))
	zw.Close()
	if out, err := Body(r, b.Bytes()); err != nil || string(out) != "Action=X" {
		t.Fatalf("%q %v", out, err)
	}
	if _, err := Body(r, []byte("not gzip")); err == nil {
		t.Fatal("a corrupt gzip body was accepted")
	}
}
