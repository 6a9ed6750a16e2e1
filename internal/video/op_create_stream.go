package video

// CreateStream: a new stream in the caller's account and region. The ARN
// is arn:aws:kinesisvideo:<region>:<account>:stream/<name>/<creation ms>;
// a fresh 20-character Version; DataRetentionInHours defaults to 0 (no
// archive: fragments are kept 5 minutes for GetMedia and PERSISTED is not
// sent); KmsKeyId defaults to the aws/kinesisvideo alias. A name in use is
// ResourceInUseException; more than 50 tags
// TagsPerResourceExceededLimitException. AWS answers CREATING for a few
// seconds; Eddy's streams are ACTIVE at once (docs/compat/video.md).

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/video/fragstore"
)

var (
	streamNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	mediaTypeRE  = regexp.MustCompile(`^[\w\-\.\+]+/[\w\-\.\+]+$`)
)

type createStreamInput struct {
	DeviceName           string
	StreamName           *string
	MediaType            string
	KmsKeyId             string
	DataRetentionInHours *int64
	Tags                 map[string]string
}

func opCreateStream(s *Service, c *call) (any, error) {
	var in createStreamInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.StreamName == nil {
		return nil, errInvalidArg("StreamName is required.")
	}
	if n := *in.StreamName; n == "" || len(n) > 256 || !streamNameRE.MatchString(n) {
		return nil, errInvalidArg("1 validation error detected: Value '%s' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", n)
	}
	if in.MediaType != "" && (len(in.MediaType) > 128 || !mediaTypeRE.MatchString(in.MediaType)) {
		return nil, errInvalidArg("1 validation error detected: Value '%s' at 'mediaType' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\-\\.\\+]+/[\\w\\-\\.\\+]+", in.MediaType)
	}
	if len(in.DeviceName) > 128 {
		return nil, errInvalidArg("1 validation error detected: Value '%s' at 'deviceName' failed to satisfy constraint: Member must have length less than or equal to 128", in.DeviceName)
	}
	var ret int64
	if in.DataRetentionInHours != nil {
		ret = *in.DataRetentionInHours
		if ret < 0 {
			return nil, errInvalidArg("1 validation error detected: Value '%d' at 'dataRetentionInHours' failed to satisfy constraint: Member must have value greater than or equal to 0", ret)
		}
	}
	if len(in.Tags) > 50 {
		return nil, awserr.New(tTagsLimit, http.StatusBadRequest, "The stream cannot have more than 50 tags.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(c.req.Account, c.req.Region, *in.StreamName)
	if s.streams[k] != nil {
		return nil, awserr.New(tResourceInUse, http.StatusBadRequest, "The stream %s already exists.", *in.StreamName)
	}
	kms := in.KmsKeyId
	if kms == "" {
		kms = fmt.Sprintf("arn:aws:kms:%s:%s:alias/aws/kinesisvideo", c.req.Region, c.req.Account)
	}
	ms := now.UnixMilli()
	st := &stream{
		Account: c.req.Account, Region: c.req.Region, Name: *in.StreamName,
		ARN:        fmt.Sprintf("arn:aws:kinesisvideo:%s:%s:stream/%s/%d", c.req.Region, c.req.Account, *in.StreamName, ms),
		ID:         c.req.Account + "-" + c.req.Region + "-" + *in.StreamName + "-" + strconv.FormatInt(ms, 10),
		DeviceName: in.DeviceName, MediaType: in.MediaType, KmsKeyID: kms, Version: newVersion(),
		Created: now, RetentionHrs: ret, Tags: in.Tags,
	}
	fs, err := fragstore.Open(filepath.Join(s.o.Dir, "streams", st.ID))
	if err != nil {
		return nil, err
	}
	s.streams[k] = st
	s.stores[k] = fs
	if err := s.saveLocked(); err != nil {
		delete(s.streams, k)
		delete(s.stores, k)
		fs.Remove()
		return nil, err
	}
	return map[string]string{"StreamARN": st.ARN}, nil
}
