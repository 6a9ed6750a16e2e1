package firehose

// Destinations beyond S3 (HTTP endpoint, OpenSearch/Elasticsearch/Serverless,
// Splunk, Redshift): configuration, description, update and the delivery
// pipeline around an fhdest.Destination.
//
// Storage: streamMeta.Other holds the destination kind and its API
// configuration without S3Configuration, which is streamMeta.Dest (the backup
// or intermediate bucket); so the S3 machinery (object keys, compression,
// uploads) serves these destinations unchanged.
//
// Delivery of one buffer (deliverOther, called from deliver):
//  0. (Lambda processor) transform the buffer once (dest_transform.go);
//     the steps below see the transformed records;
//  1. (Redshift) write the intermediate S3 object and its manifest;
//  2. send the records; retry the records the attempt reports as failed
//     and not permanent, with backoff (1 s doubling, ±15 % jitter, capped at
//     2 min; Options.DestRetryBase/Max), until RetryOptions.DurationInSeconds
//     has passed since the first failure;
//  3. write what is still undelivered to S3 as error records with the
//     destination's fields (Redshift: a manifest under errors/), and with
//     AllData/AllDocuments/AllEvents every record as backup;
//  4. only then does the loop checkpoint. Until then every record is in the
//     durable buffer log: a restart re-sends the buffer (at least once).
// The S3 writes of step 3 are retried until they succeed (or the service
// stops), so nothing is dropped when S3 is down too.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
)

// otherDest is the persisted configuration of a destination beyond S3.
type otherDest struct {
	Kind   string          `json:"kind"`   // a destSpec.kind
	Config json.RawMessage `json:"config"` // API members, S3Configuration excluded
}

// destSpec describes one destination type.
type destSpec struct {
	kind        string // member prefix: <kind>DestinationConfiguration/Update/Description
	path        string // validation path of the configuration member
	metric      string // CloudWatch family: DeliveryTo<metric>
	errType     string // error-output-type folder of failed records
	sizeMax     int32
	intervalMax int32
	defSize     int32
	defInterval int32
	defRetry    int32
	backupModes [2]string      // [failed-only (default), all]
	hidden      []string       // members never described (secrets)
	defaults    map[string]any // described when not set
	needsRole   bool           // RoleARN is a required member
	check       func(s *Service, c map[string]json.RawMessage, dest *S3Config) error
	build       func(s *Service, c json.RawMessage) (fhdest.Destination, error)
	// buildFor, when set, is used instead of build: it also sees the
	// stream (its ARN, the eddy:opensearch-endpoint tag).
	buildFor func(s *Service, cfg deliveryConfig) (fhdest.Destination, error)
	// ownProcessing: check validates ProcessingConfiguration itself (Iceberg
	// reads a MetadataExtraction query for routing) instead of the common
	// processor rules of checkOtherProcessing.
	ownProcessing bool
}

var destSpecs = map[string]*destSpec{}

func registerDest(d *destSpec) { destSpecs[d.kind] = d }

// otherCommon are the members every destination has.
type otherCommon struct {
	BufferingHints                    *BufferingHints `json:"BufferingHints,omitempty"`
	RetryOptions                      *RetryOptions   `json:"RetryOptions,omitempty"`
	S3BackupMode                      *string         `json:"S3BackupMode,omitempty"`
	HECAcknowledgmentTimeoutInSeconds *int32          `json:"HECAcknowledgmentTimeoutInSeconds,omitempty"`
}

// otherInputs lists the destination members of a create or update input.
func otherInputs(in map[string]json.RawMessage, suffix string) (spec *destSpec, raw json.RawMessage) {
	for k, d := range destSpecs {
		if r, ok := in[k+suffix]; ok && len(r) > 0 && string(r) != "null" {
			return d, r
		}
	}
	return nil, nil
}

// parseOther validates a full configuration of spec and splits it into the
// stored otherDest and the S3 configuration (with defaults filled in).
func (s *Service) parseOther(spec *destSpec, raw json.RawMessage, path string) (*otherDest, *S3Config, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return nil, nil, awserr.InvalidArgument("%s must be an object.", path)
	}
	var s3c *S3Config
	if r, ok := members["S3Configuration"]; ok {
		if err := json.Unmarshal(r, &s3c); err != nil {
			return nil, nil, awserr.InvalidArgument("S3Configuration: %v", err)
		}
	}
	delete(members, "S3Configuration")
	var v awserr.Validation
	if s3c == nil {
		v.Add(nil, path+".s3Configuration", "Member must not be null")
	}
	validateS3Shape(&v, s3c, path+".s3Configuration", true)
	if r, ok := members["RoleARN"]; spec.needsRole && (!ok || string(r) == "null") {
		v.Add(nil, path+".roleARN", "Member must not be null")
	}
	var c otherCommon
	b, _ := json.Marshal(members)
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, nil, awserr.InvalidArgument("%s: %v", path, err)
	}
	if h := c.BufferingHints; h != nil {
		if h.SizeInMBs != nil && (*h.SizeInMBs < 1 || *h.SizeInMBs > spec.sizeMax) {
			v.Add(*h.SizeInMBs, path+".bufferingHints.sizeInMBs", fmt.Sprintf("Member must have value between 1 and %d", spec.sizeMax))
		}
		if h.IntervalInSeconds != nil && (*h.IntervalInSeconds < 0 || *h.IntervalInSeconds > spec.intervalMax) {
			v.Add(*h.IntervalInSeconds, path+".bufferingHints.intervalInSeconds", fmt.Sprintf("Member must have value between 0 and %d", spec.intervalMax))
		}
	}
	if r := c.RetryOptions; r != nil && r.DurationInSeconds != nil && (*r.DurationInSeconds < 0 || *r.DurationInSeconds > 7200) {
		v.Add(*r.DurationInSeconds, path+".retryOptions.durationInSeconds", "Member must have value between 0 and 7200")
	}
	if m := c.S3BackupMode; m != nil && *m != spec.backupModes[0] && *m != spec.backupModes[1] {
		v.Add(*m, path+".s3BackupMode", fmt.Sprintf("Member must satisfy enum value set: [%s, %s]", spec.backupModes[0], spec.backupModes[1]))
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	s3c = s3c.clone()
	withDefaults(s3c)
	if err := checkS3Semantics(s3c, true); err != nil {
		return nil, nil, err
	}
	if spec.check != nil {
		if err := spec.check(s, members, s3c); err != nil {
			return nil, nil, err
		}
	}
	if !spec.ownProcessing {
		if err := checkOtherProcessing(spec, members); err != nil { // dest_transform.go
			return nil, nil, err
		}
	}
	cfg, _ := json.Marshal(members)
	return &otherDest{Kind: spec.kind, Config: cfg}, s3c, nil
}

// common decodes the shared members of o.
func (o *otherDest) common() otherCommon {
	var c otherCommon
	_ = json.Unmarshal(o.Config, &c)
	return c
}

// bufferingDest is the S3Config the delivery loop reads its buffering
// hints from: dest with o's hints (and defaults) in place.
func (o *otherDest) bufferingDest(dest *S3Config) *S3Config {
	spec := destSpecs[o.Kind]
	if spec == nil || o.Kind == "Redshift" {
		return dest // Redshift buffers by its S3Configuration's hints
	}
	out := dest.clone()
	h := &BufferingHints{SizeInMBs: ptr(spec.defSize), IntervalInSeconds: ptr(spec.defInterval)}
	if c := o.common(); c.BufferingHints != nil {
		if c.BufferingHints.SizeInMBs != nil {
			h.SizeInMBs = c.BufferingHints.SizeInMBs
		}
		if c.BufferingHints.IntervalInSeconds != nil {
			h.IntervalInSeconds = c.BufferingHints.IntervalInSeconds
		}
	}
	out.BufferingHints = h
	return out
}

// describeOther renders the destination description member of m.
func describeOther(m *streamMeta, dd *destinationDescription) {
	spec := destSpecs[m.Other.Kind]
	var members map[string]any
	_ = json.Unmarshal(m.Other.Config, &members)
	if members == nil {
		members = map[string]any{}
	}
	for _, h := range spec.hidden {
		deleteJSONPath(members, h)
	}
	if spec.kind != "Redshift" {
		if _, ok := members["BufferingHints"]; !ok || members["BufferingHints"] == nil {
			members["BufferingHints"] = map[string]any{}
		}
		bh := members["BufferingHints"].(map[string]any)
		if _, ok := bh["SizeInMBs"]; !ok {
			bh["SizeInMBs"] = spec.defSize
		}
		if _, ok := bh["IntervalInSeconds"]; !ok {
			bh["IntervalInSeconds"] = spec.defInterval
		}
	}
	if _, ok := members["RetryOptions"]; !ok && spec.defRetry >= 0 {
		members["RetryOptions"] = map[string]any{"DurationInSeconds": spec.defRetry}
	}
	if _, ok := members["S3BackupMode"]; !ok {
		members["S3BackupMode"] = spec.backupModes[0]
	}
	for k, v := range spec.defaults {
		if _, ok := members[k]; !ok {
			members[k] = v
		}
	}
	if _, ok := members["CloudWatchLoggingOptions"]; !ok {
		members["CloudWatchLoggingOptions"] = map[string]any{"Enabled": false}
	}
	if bc, ok := members["S3BackupConfiguration"]; ok {
		members["S3BackupDescription"] = bc
		delete(members, "S3BackupConfiguration")
	}
	if vpc, ok := members["VpcConfiguration"]; ok {
		members["VpcConfigurationDescription"] = vpc
		delete(members, "VpcConfiguration")
	}
	members["S3DestinationDescription"] = plainS3Description(m.Dest)
	b, _ := json.Marshal(members)
	if dd.Others == nil {
		dd.Others = map[string]json.RawMessage{}
	}
	dd.Others[spec.kind+"DestinationDescription"] = b
}

// deleteJSONPath removes a member given as "A.B" from a decoded object.
func deleteJSONPath(m map[string]any, path string) {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		if i == len(parts)-1 {
			delete(m, p)
			return
		}
		next, ok := m[p].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
}

// mergeJSON merges update u into cur member by member: objects merge
// recursively, anything else replaces (UpdateDestination's rule for the
// same destination type).
func mergeJSON(cur, u map[string]any) {
	for k, v := range u {
		if vm, ok := v.(map[string]any); ok {
			if cm, ok := cur[k].(map[string]any); ok {
				mergeJSON(cm, vm)
				continue
			}
		}
		cur[k] = v
	}
}

// updateOther applies an UpdateDestination for a destination beyond S3.
// m is locked by the caller (s.mu held); it returns the new state.
func (s *Service) updateOther(m *streamMeta, spec *destSpec, raw json.RawMessage) (*otherDest, *S3Config, error) {
	path := lowerFirst(spec.kind) + "DestinationUpdate"
	var u map[string]any
	if err := json.Unmarshal(raw, &u); err != nil || u == nil {
		return nil, nil, awserr.InvalidArgument("%s must be an object.", path)
	}
	if m.Other == nil || m.Other.Kind != spec.kind {
		// A different destination type: no merge, the update is a full configuration.
		if isOpenSearch(spec.kind) || m.Other != nil && isOpenSearch(m.Other.Kind) {
			return nil, nil, errOpenSearchSwitch
		}
		if s3u, ok := u["S3Update"]; ok {
			u["S3Configuration"] = s3u
			delete(u, "S3Update")
		}
		if bu, ok := u["S3BackupUpdate"]; ok {
			u["S3BackupConfiguration"] = bu
			delete(u, "S3BackupUpdate")
		}
		b, _ := json.Marshal(u)
		return s.parseOther(spec, b, path)
	}
	var cur map[string]any
	_ = json.Unmarshal(m.Other.Config, &cur)
	if cur == nil {
		cur = map[string]any{}
	}
	oldMode := fmt.Sprint(cur["S3BackupMode"])
	var s3u *S3Config
	s3member := "S3Update"
	if _, ok := u["S3Configuration"]; ok {
		s3member = "S3Configuration" // IcebergDestinationUpdate's name for it
	}
	if r, ok := u[s3member]; ok {
		b, _ := json.Marshal(r)
		if err := json.Unmarshal(b, &s3u); err != nil {
			return nil, nil, awserr.InvalidArgument("%s: %v", s3member, err)
		}
		delete(u, s3member)
	}
	if bu, ok := u["S3BackupUpdate"]; ok {
		u["S3BackupConfiguration"] = bu
		delete(u, "S3BackupUpdate")
	}
	// DomainARN and ClusterEndpoint name the same thing: giving one drops the other.
	for _, pair := range [][2]string{{"DomainARN", "ClusterEndpoint"}, {"ClusterEndpoint", "DomainARN"}} {
		if v, ok := u[pair[0]]; ok && v != nil {
			delete(cur, pair[1])
		}
	}
	mergeJSON(cur, u)
	if newMode, ok := cur["S3BackupMode"].(string); ok && oldMode == spec.backupModes[1] && newMode != oldMode {
		return nil, nil, awserr.InvalidArgument("S3BackupMode cannot be changed from %s to %s.", oldMode, newMode)
	}
	dest := m.Dest.clone()
	if s3u != nil {
		var v awserr.Validation
		validateS3Shape(&v, s3u, path+".s3Update", false)
		if err := v.Err(); err != nil {
			return nil, nil, err
		}
		mergeS3(dest, s3u)
	}
	cur["S3Configuration"] = dest
	b, _ := json.Marshal(cur)
	return s.parseOther(spec, b, path)
}

var errOpenSearchSwitch = awserr.InvalidArgument("An OpenSearch, Elasticsearch or OpenSearch Serverless destination can only be updated to a destination of the same type.")

func isOpenSearch(kind string) bool {
	return kind == "Amazonopensearchservice" || kind == "Elasticsearch" || kind == "AmazonOpenSearchServerless"
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// destCache holds the built destination of each stream, rebuilt when the
// stream's version changes.
type destCache struct {
	mu sync.Mutex
	m  map[*stream]cachedDest
}

type cachedDest struct {
	version string
	d       fhdest.Destination
}

func (s *Service) destination(st *stream, cfg deliveryConfig) (fhdest.Destination, error) {
	s.dests.mu.Lock()
	defer s.dests.mu.Unlock()
	if s.dests.m == nil {
		s.dests.m = map[*stream]cachedDest{}
	}
	for other, c := range s.dests.m { // release deleted streams' connections
		select {
		case <-other.stop:
			_ = c.d.Close()
			delete(s.dests.m, other)
		default:
		}
	}
	version := cfg.version + "\x00" + cfg.osEndpoint // a retag rebuilds too
	if c, ok := s.dests.m[st]; ok && c.version == version {
		return c.d, nil
	}
	if c, ok := s.dests.m[st]; ok {
		_ = c.d.Close()
		delete(s.dests.m, st)
	}
	spec := destSpecs[cfg.other.Kind]
	if spec == nil {
		return nil, fmt.Errorf("unknown destination kind %q", cfg.other.Kind)
	}
	var d fhdest.Destination
	var err error
	if spec.buildFor != nil {
		d, err = spec.buildFor(s, cfg)
	} else {
		d, err = spec.build(s, cfg.other.Config)
	}
	if err != nil {
		return nil, err
	}
	s.dests.m[st] = cachedDest{version: version, d: d}
	return d, nil
}

// requestID is a UUID derived from the stream and the buffer's first
// position: the same for every attempt at the buffer, also after a restart.
func requestID(streamID string, start uint64, n int) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%d", streamID, start, n)))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func (s *Service) destBackoff(attempt int) time.Duration {
	base, maxB := s.opts.DestRetryBase, s.opts.DestRetryMax
	if base <= 0 {
		base = time.Second
	}
	if maxB <= 0 {
		maxB = 2 * time.Minute
	}
	d := min(base<<min(attempt-1, 20), maxB)
	jitter := 1 + (rand.Float64()*0.3 - 0.15)
	return time.Duration(float64(d) * jitter)
}

// sleepCtx waits d unless ctx ends or the stream is deleted (false).
func sleepCtx(ctx context.Context, st *stream, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-st.stop:
		return false
	case <-t.C:
		return true
	}
}

// errConfigChanged ends a retry loop whose stream was updated: the delivery
// loop takes the new configuration and tries again at once.
var errConfigChanged = errors.New("the destination was updated; retrying with the new configuration")

// retryWait is sleepCtx that also wakes on UpdateDestination (kick) and
// then reports whether the stream's version moved past cfg's.
func (s *Service) retryWait(ctx context.Context, st *stream, cfg deliveryConfig, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-st.stop:
			return errors.New("stream deleted")
		case <-t.C:
			return nil
		case <-st.kick:
			s.mu.Lock()
			changed := strconv.Itoa(st.meta.Version) != cfg.version
			s.mu.Unlock()
			if changed {
				st.wake() // the delivery loop's wait takes it and goes on at once
				return errConfigChanged
			}
		}
	}
}

// destFailure is a record that could not be delivered.
type destFailure struct {
	idx int
	f   fhdest.Failure
}

// deliverOther delivers buf to a destination beyond S3 (see the file comment).
func (s *Service) deliverOther(ctx context.Context, st *stream, cfg deliveryConfig, buf *buffer) error {
	spec := destSpecs[cfg.other.Kind]
	d, err := s.destination(st, cfg)
	if err != nil {
		return err
	}
	c := cfg.other.common()
	retry := time.Duration(spec.defRetry) * time.Second
	if c.RetryOptions != nil && c.RetryOptions.DurationInSeconds != nil {
		retry = time.Duration(*c.RetryOptions.DurationInSeconds) * time.Second
	}
	batch := &fhdest.Batch{StreamARN: cfg.arn, StreamName: cfg.name, StreamID: cfg.id,
		RequestID: requestID(cfg.id, buf.start, len(buf.recs))}
	recs, idx := buf.recs, []int(nil)
	if lp, ok := otherLambda(cfg.other); ok { // dest_transform.go
		if !buf.transformDone {
			if err := s.transform(ctx, st, cfg, buf, lp); err != nil {
				return err
			}
		}
		recs, idx = buf.out, buf.outIdx
	}
	all := make([]fhdest.Record, len(recs))
	for j := range recs {
		i := j
		if idx != nil {
			i = idx[j]
		}
		all[j] = fhdest.Record{Data: recs[j], ArrivalMs: buf.arrivals[i], Pos: buf.start + uint64(i)}
	}
	if spec.kind == "Redshift" && len(all) > 0 {
		obj, err := s.writeIntermediate(ctx, st, cfg, buf, recs)
		if err != nil {
			return err
		}
		batch.Objects = []string{obj}
		batch.Fetch = s.fetchObject(cfg.endpoint)
	}
	pending := make([]int, len(all))
	for i := range pending {
		pending[i] = i
	}
	var failed []destFailure
	var firstFail time.Time
	for attempt := 1; len(pending) > 0; attempt++ {
		batch.Attempt = attempt
		batch.NowMs = s.now().UnixMilli()
		batch.Records = batch.Records[:0]
		for _, i := range pending {
			batch.Records = append(batch.Records, all[i])
		}
		fails := d.Deliver(ctx, batch)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		failedIdx := map[int]fhdest.Failure{}
		for _, f := range fails {
			if f.Index >= 0 && f.Index < len(batch.Records) {
				failedIdx[f.Index] = f
			}
		}
		var next []int
		var okBytes, okRecs int64
		for j, i := range pending {
			f, bad := failedIdx[j]
			switch {
			case !bad:
				okRecs++
				okBytes += int64(len(all[i].Data))
			case f.Permanent:
				failed = append(failed, destFailure{i, withAttempts(f, attempt)})
			default:
				next = append(next, i)
				failedIdx[j] = withAttempts(f, attempt)
			}
		}
		st.m.dest.add(okRecs, okBytes, len(fails) == 0)
		if len(next) == 0 {
			break
		}
		if firstFail.IsZero() {
			firstFail = s.now()
		}
		last := failedIdx[indexIn(pending, next[0])]
		msg := destMetricNames[spec.kind] + " delivery failing, will retry: " + last.Code + ": " + last.Message
		st.failure.Store(&msg)
		if s.now().Sub(firstFail) >= retry {
			for j, i := range pending {
				if f, bad := failedIdx[j]; bad && !f.Permanent {
					failed = append(failed, destFailure{i, f})
				}
			}
			break
		}
		pending = next
		if err := s.retryWait(ctx, st, cfg, s.destBackoff(attempt)); err != nil {
			return err
		}
	}
	return s.writeDestFailed(ctx, st, cfg, spec, buf, batch, all, failed)
}

func indexIn(pending []int, i int) int {
	for j, p := range pending {
		if p == i {
			return j
		}
	}
	return 0
}

func withAttempts(f fhdest.Failure, attempt int) fhdest.Failure {
	if f.Fields == nil {
		f.Fields = map[string]any{}
	}
	f.Fields["attemptsMade"] = attempt
	return f
}

// writeDestFailed writes the S3 backup (all records when the mode says so) and
// the failed records, retrying S3 until it succeeds or the service stops.
func (s *Service) writeDestFailed(ctx context.Context, st *stream, cfg deliveryConfig, spec *destSpec, buf *buffer, batch *fhdest.Batch, all []fhdest.Record, failed []destFailure) error {
	mode := deref(cfg.other.common().S3BackupMode)
	if mode == "" {
		mode = spec.backupModes[0]
	}
	type obj struct {
		key  string
		data []byte
	}
	var objs []obj
	backupCfg := cfg.dest
	if spec.kind == "Redshift" {
		backupCfg = redshiftBackup(cfg.other)
	}
	if mode == spec.backupModes[1] && backupCfg != nil {
		key, data, err := encodeObject(backupCfg, cfg.name, cfg.version, buf.arrivals[0], concat(buf.recs, false))
		if err != nil {
			return err
		}
		objs = append(objs, obj{key, data})
	}
	if len(failed) > 0 {
		sort.Slice(failed, func(i, j int) bool { return failed[i].idx < failed[j].idx })
		var key string
		var data []byte
		var err error
		if spec.kind == "Redshift" {
			key, data, err = s.errorManifest(cfg, batch)
			if err != nil {
				return err
			}
			objs = append(objs, obj{key, data})
		} else {
			for _, group := range byErrorPrefix(failed) {
				if key, data, err = s.errorRecords(cfg, spec, all, group); err != nil {
					return err
				}
				objs = append(objs, obj{key, data})
			}
		}
	}
	up := s.uploader(cfg.endpoint)
	for i, o := range objs {
		oc := cfg.dest
		if i == 0 && mode == spec.backupModes[1] && backupCfg != nil {
			oc = backupCfg
		}
		bucket, _ := s3dest.BucketFromARN(deref(oc.BucketARN))
		enc := s3dest.ContentEncoding(deref(oc.CompressionFormat))
		if spec.kind == "Redshift" && oc == cfg.dest {
			enc = "" // the error manifest is plain JSON
		}
		for attempt := 1; ; attempt++ {
			err := up.Put(ctx, bucket, o.key, o.data, enc)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("S3 backup of a destination failed; will retry", "stream", cfg.name, "key", o.key, "err", err)
			if !sleepCtx(ctx, st, min(s.opts.RetryBase<<min(attempt-1, 20), s.opts.RetryMax)) {
				return fmt.Errorf("backup: %w", err)
			}
		}
		if i == 0 && mode == spec.backupModes[1] && backupCfg != nil {
			st.m.backupRecords.Add(int64(len(buf.recs)))
		}
	}
	if len(failed) > 0 {
		st.m.errorOutputRecords.Add(int64(len(failed)))
		s.log.Warn("records written to S3 after the destination's retry duration", "stream", cfg.name, "records", len(failed), "kind", spec.kind)
	}
	buf.primaryDone = true
	return nil
}

// byErrorPrefix splits failed records by their ErrorOutputPrefix (one
// error object each), in order of first appearance.
func byErrorPrefix(failed []destFailure) [][]destFailure {
	var out [][]destFailure
	at := map[string]int{}
	for _, f := range failed {
		i, ok := at[f.f.ErrorOutputPrefix]
		if !ok {
			i = len(out)
			at[f.f.ErrorOutputPrefix] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], f)
	}
	return out
}

// errorRecords encodes the failed records as AWS's error documents, one
// JSON line each, under ErrorOutputPrefix or <Prefix><error-output-type>/.
func (s *Service) errorRecords(cfg deliveryConfig, spec *destSpec, all []fhdest.Record, failed []destFailure) (string, []byte, error) {
	nowMs := s.now().UnixMilli()
	var body bytes.Buffer
	for _, fr := range failed {
		r := all[fr.idx]
		doc := map[string]any{
			"attemptsMade": 1, "arrivalTimestamp": r.ArrivalMs, "errorCode": fr.f.Code, "errorMessage": fr.f.Message,
			"attemptEndingTimestamp": nowMs, "rawData": r.Data,
		}
		for k, v := range fr.f.Fields {
			doc[k] = v
		}
		line, err := json.Marshal(doc)
		if err != nil {
			return "", nil, fmt.Errorf("error record: %w", err)
		}
		body.Write(line)
		body.WriteByte('\n')
	}
	prefix := deref(cfg.dest.ErrorOutputPrefix)
	if p := failed[0].f.ErrorOutputPrefix; p != "" {
		prefix = p // the record's own (Iceberg's per-table S3ErrorOutputPrefix)
	}
	if prefix == "" {
		prefix = deref(cfg.dest.Prefix) + spec.errType + "/"
	}
	return encodeObjectAt(cfg.dest, prefix, spec.errType, cfg.name, cfg.version, all[failed[0].idx].ArrivalMs, body.Bytes())
}

// closeDests releases every built destination (Service.Close).
func (s *Service) closeDests() {
	s.dests.mu.Lock()
	defer s.dests.mu.Unlock()
	for st, c := range s.dests.m {
		_ = c.d.Close()
		delete(s.dests.m, st)
	}
}
