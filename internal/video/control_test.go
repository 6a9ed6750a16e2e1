package video_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo/types"
	"github.com/aws/smithy-go"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestControlPlane(t *testing.T) {
	e := start(t, "")
	ctx := context.Background()
	kv := e.kv
	arn := e.createStream("cam-1", 24)
	if !strings.HasPrefix(arn, "arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam-1/") {
		t.Fatalf("arn %s", arn)
	}
	e.createStream("cam-2", 0)
	e.createStream("other", 1)
	if _, err := kv.CreateStream(ctx, &kinesisvideo.CreateStreamInput{StreamName: aws.String("cam-1")}); apiCode(err) != "ResourceInUseException" {
		t.Fatalf("duplicate create: %v", err)
	}
	if _, err := kv.CreateStream(ctx, &kinesisvideo.CreateStreamInput{StreamName: aws.String("bad name!")}); apiCode(err) != "InvalidArgumentException" {
		t.Fatalf("bad name: %v", err)
	}

	d, err := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("cam-1")})
	if err != nil {
		t.Fatal(err)
	}
	si := d.StreamInfo
	if *si.StreamARN != arn || si.Status != types.StatusActive || *si.DataRetentionInHours != 24 || *si.MediaType != "video/h264" ||
		len(*si.Version) != 20 || !strings.Contains(*si.KmsKeyId, "alias/aws/kinesisvideo") || si.CreationTime == nil {
		t.Fatalf("describe: %+v", si)
	}
	if _, err := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("nope")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("describe missing: %v", err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamARN: aws.String(arn + "0")}); !errors.As(err, &nf) {
		t.Fatalf("describe missing ARN: %v", err)
	}

	ls, err := kv.ListStreams(ctx, &kinesisvideo.ListStreamsInput{StreamNameCondition: &types.StreamNameCondition{ComparisonOperator: types.ComparisonOperatorBeginsWith, ComparisonValue: aws.String("cam-")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.StreamInfoList) != 2 || *ls.StreamInfoList[0].StreamName != "cam-1" || *ls.StreamInfoList[1].StreamName != "cam-2" {
		t.Fatalf("list: %+v", ls.StreamInfoList)
	}
	// paging
	var names []string
	p := kinesisvideo.NewListStreamsPaginator(kv, &kinesisvideo.ListStreamsInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range pg.StreamInfoList {
			names = append(names, *s.StreamName)
		}
	}
	if strings.Join(names, ",") != "cam-1,cam-2,other" {
		t.Fatalf("paged list: %v", names)
	}

	// UpdateStream needs the current version and changes it
	v1 := *si.Version
	if _, err := kv.UpdateStream(ctx, &kinesisvideo.UpdateStreamInput{StreamName: aws.String("cam-1"), CurrentVersion: aws.String("stale"), DeviceName: aws.String("d")}); apiCode(err) != "VersionMismatchException" {
		t.Fatalf("stale update: %v", err)
	}
	if _, err := kv.UpdateStream(ctx, &kinesisvideo.UpdateStreamInput{StreamName: aws.String("cam-1"), CurrentVersion: aws.String(v1), DeviceName: aws.String("door")}); err != nil {
		t.Fatal(err)
	}
	d, _ = kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("cam-1")})
	v2 := *d.StreamInfo.Version
	if v2 == v1 || *d.StreamInfo.DeviceName != "door" {
		t.Fatalf("after update: %+v", d.StreamInfo)
	}

	// retention
	if _, err := kv.UpdateDataRetention(ctx, &kinesisvideo.UpdateDataRetentionInput{StreamName: aws.String("cam-1"), CurrentVersion: aws.String(v2),
		Operation: types.UpdateDataRetentionOperationIncreaseDataRetention, DataRetentionChangeInHours: aws.Int32(6)}); err != nil {
		t.Fatal(err)
	}
	d, _ = kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("cam-1")})
	if *d.StreamInfo.DataRetentionInHours != 30 {
		t.Fatalf("retention %d", *d.StreamInfo.DataRetentionInHours)
	}
	if _, err := kv.UpdateDataRetention(ctx, &kinesisvideo.UpdateDataRetentionInput{StreamName: aws.String("cam-1"), CurrentVersion: d.StreamInfo.Version,
		Operation: types.UpdateDataRetentionOperationDecreaseDataRetention, DataRetentionChangeInHours: aws.Int32(31)}); apiCode(err) != "InvalidArgumentException" {
		t.Fatalf("decrease below 0: %v", err)
	}
	if _, err := kv.UpdateDataRetention(ctx, &kinesisvideo.UpdateDataRetentionInput{StreamName: aws.String("cam-1"), CurrentVersion: d.StreamInfo.Version,
		Operation: types.UpdateDataRetentionOperationDecreaseDataRetention, DataRetentionChangeInHours: aws.Int32(10)}); err != nil {
		t.Fatal(err)
	}

	// endpoints
	for _, api := range types.APIName("").Values() {
		out, err := kv.GetDataEndpoint(ctx, &kinesisvideo.GetDataEndpointInput{StreamName: aws.String("cam-1"), APIName: api})
		if err != nil || *out.DataEndpoint != e.url {
			t.Fatalf("endpoint %s: %v %v", api, out, err)
		}
	}

	// tags, both families
	if _, err := kv.TagStream(ctx, &kinesisvideo.TagStreamInput{StreamName: aws.String("cam-1"), Tags: map[string]string{"a": "1", "b": "2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.TagResource(ctx, &kinesisvideo.TagResourceInput{ResourceARN: aws.String(arn), Tags: []types.Tag{{Key: aws.String("c"), Value: aws.String("3")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.UntagStream(ctx, &kinesisvideo.UntagStreamInput{StreamARN: aws.String(arn), TagKeyList: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := kv.ListTagsForStream(ctx, &kinesisvideo.ListTagsForStreamInput{StreamName: aws.String("cam-1")})
	if err != nil || len(lt.Tags) != 2 || lt.Tags["b"] != "2" || lt.Tags["c"] != "3" {
		t.Fatalf("tags %v %v", lt, err)
	}
	if _, err := kv.UntagResource(ctx, &kinesisvideo.UntagResourceInput{ResourceARN: aws.String(arn), TagKeyList: []string{"b"}}); err != nil {
		t.Fatal(err)
	}
	lr, err := kv.ListTagsForResource(ctx, &kinesisvideo.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil || len(lr.Tags) != 1 || lr.Tags["c"] != "3" {
		t.Fatalf("resource tags %v %v", lr, err)
	}
	many := map[string]string{}
	for i := 0; i < 50; i++ {
		many[string(rune('A'+i%26))+string(rune('a'+i/26))] = "x"
	}
	var tl *types.TagsPerResourceExceededLimitException
	if _, err := kv.TagStream(ctx, &kinesisvideo.TagStreamInput{StreamName: aws.String("cam-1"), Tags: many}); !errors.As(err, &tl) {
		t.Fatalf("51 tags: %v", err)
	}

	// stored configuration and refused operations
	if _, err := kv.UpdateNotificationConfiguration(ctx, &kinesisvideo.UpdateNotificationConfigurationInput{StreamName: aws.String("cam-1"),
		NotificationConfiguration: &types.NotificationConfiguration{Status: types.ConfigurationStatusEnabled, DestinationConfig: &types.NotificationDestinationConfig{Uri: aws.String("arn:aws:sns:us-east-1:000000000000:t")}}}); err != nil {
		t.Fatal(err)
	}
	nc, err := kv.DescribeNotificationConfiguration(ctx, &kinesisvideo.DescribeNotificationConfigurationInput{StreamName: aws.String("cam-1")})
	if err != nil || nc.NotificationConfiguration == nil || *nc.NotificationConfiguration.DestinationConfig.Uri != "arn:aws:sns:us-east-1:000000000000:t" {
		t.Fatalf("notification config %+v %v", nc, err)
	}
	if _, err := kv.CreateSignalingChannel(ctx, &kinesisvideo.CreateSignalingChannelInput{ChannelName: aws.String("c")}); apiCode(err) != "UnsupportedOperationException" ||
		!strings.Contains(err.Error(), "not supported by Eddy") {
		t.Fatalf("signaling channel: %v", err)
	}

	// delete with CurrentVersion
	d, _ = kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("cam-1")})
	if _, err := kv.DeleteStream(ctx, &kinesisvideo.DeleteStreamInput{StreamARN: aws.String(arn), CurrentVersion: aws.String("old")}); apiCode(err) != "VersionMismatchException" {
		t.Fatalf("delete stale: %v", err)
	}
	if _, err := kv.DeleteStream(ctx, &kinesisvideo.DeleteStreamInput{StreamARN: aws.String(arn), CurrentVersion: d.StreamInfo.Version}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.DescribeStream(ctx, &kinesisvideo.DescribeStreamInput{StreamName: aws.String("cam-1")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("after delete: %v", err)
	}

	// metadata survives a restart
	e.svc.Close()
	e2 := start(t, e.dir)
	ls, err = e2.kv.ListStreams(ctx, &kinesisvideo.ListStreamsInput{})
	if err != nil || len(ls.StreamInfoList) != 2 || *ls.StreamInfoList[0].StreamName != "cam-2" {
		t.Fatalf("after restart: %+v %v", ls, err)
	}
}
