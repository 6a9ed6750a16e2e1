package video

// GetImages: one image every SamplingInterval ms from StartTimestamp to
// EndTimestamp (ImageSelectorType PRODUCER_TIMESTAMP or SERVER_TIMESTAMP;
// range ≤ 300 s), at most MaxResults (1-100, default 25) per page with a
// NextToken. Each is the frame at that time of the fragment containing it,
// decoded by ffmpeg (the fragment is repackaged as MP4 and piped in),
// scaled to WidthPixels/HeightPixels when given, as JPEG (FormatConfig
// JPEGQuality 1-100) or PNG, base64 in ImageContent. A time with no
// fragment gets Error NO_MEDIA, a fragment ffmpeg cannot decode
// MEDIA_ERROR. Without ffmpeg on the server's PATH the call is refused with
// a message saying so. Retention 0 is NoDataRetentionException.

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os/exec"
	"sort"
	"strconv"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/video/fmp4"
	"github.com/eddy-streams/eddy/internal/video/fragstore"
)

type getImagesInput struct {
	StreamName        string
	StreamARN         string
	ImageSelectorType string
	StartTimestamp    *float64
	EndTimestamp      *float64
	SamplingInterval  *int64
	Format            string
	FormatConfig      map[string]string
	WidthPixels       *int
	HeightPixels      *int
	MaxResults        *int
	NextToken         string
}

type imageOut struct {
	TimeStamp    float64
	Error        string `json:",omitempty"`
	ImageContent string `json:",omitempty"`
}

func opGetImages(s *Service, c *call) (any, error) {
	var in getImagesInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.ImageSelectorType != "PRODUCER_TIMESTAMP" && in.ImageSelectorType != "SERVER_TIMESTAMP" {
		v.Add(in.ImageSelectorType, "imageSelectorType", "Member must satisfy enum value set: [PRODUCER_TIMESTAMP, SERVER_TIMESTAMP]")
	}
	if in.StartTimestamp == nil {
		v.Add(nil, "startTimestamp", "Member must not be null")
	}
	if in.EndTimestamp == nil {
		v.Add(nil, "endTimestamp", "Member must not be null")
	}
	if in.Format != "JPEG" && in.Format != "PNG" {
		v.Add(in.Format, "format", "Member must satisfy enum value set: [JPEG, PNG]")
	}
	if in.SamplingInterval == nil {
		v.Add(nil, "samplingInterval", "Member must not be null")
	} else if *in.SamplingInterval < 200 {
		v.Add(*in.SamplingInterval, "samplingInterval", "Member must have value greater than or equal to 200")
	}
	if err := v.Err(); err != nil {
		ae, _ := awserr.As(err)
		return nil, errInvalidArg("%s", ae.Message)
	}
	lo, hi := int64(*in.StartTimestamp*1000+0.5), int64(*in.EndTimestamp*1000+0.5)
	if hi < lo || hi-lo > 300_000 {
		return nil, errInvalidArg("EndTimestamp must be after StartTimestamp and at most 300 seconds later.")
	}
	max := 25
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, errInvalidArg("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100", *in.MaxResults)
		}
		max = *in.MaxResults
	}
	quality := 80
	if q, ok := in.FormatConfig["JPEGQuality"]; ok {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 100 {
			return nil, errInvalidArg("JPEGQuality must be between 1 and 100.")
		}
		quality = n
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, awserr.New(tUnsupported, http.StatusBadRequest, "GetImages needs ffmpeg on the Eddy server's PATH to decode video; it is not installed (see docs/compat/video.md)")
	}
	st, fs, err := s.lookup(c.req, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if st.RetentionHrs == 0 {
		return nil, awserr.New(tNoDataRetention, http.StatusBadRequest, "The stream %s has no data retention.", st.Name)
	}
	t := lo
	if in.NextToken != "" {
		n, err := strconv.ParseInt(in.NextToken, 10, 64)
		if err != nil || n < lo || n > hi {
			return nil, errInvalidArg("The NextToken is not valid.")
		}
		t = n
	}
	frags := fs.Fragments()
	ts := func(m fragstore.Meta) int64 {
		if in.ImageSelectorType == "SERVER_TIMESTAMP" {
			return m.Server
		}
		return m.Producer
	}
	images := []imageOut{}
	for ; t <= hi && len(images) < max; t += *in.SamplingInterval {
		img := imageOut{TimeStamp: epoch(t)}
		i := sort.Search(len(frags), func(i int) bool { return ts(frags[i]) > t }) - 1
		if i < 0 || t >= ts(frags[i])+frags[i].Duration {
			img.Error = "NO_MEDIA"
		} else if b, err := s.decodeFrame(c.r.Context(), ffmpeg, fs, frags[i], t-ts(frags[i]), in, quality); err != nil {
			s.log.Warn("GetImages: decode", "stream", st.Name, "err", err)
			img.Error = "MEDIA_ERROR"
		} else {
			img.ImageContent = base64.StdEncoding.EncodeToString(b)
		}
		images = append(images, img)
	}
	out := map[string]any{"Images": images}
	if t <= hi {
		out["NextToken"] = strconv.FormatInt(t, 10)
	}
	return out, nil
}

// decodeFrame pipes the fragment as MP4 into ffmpeg and returns the image
// of the frame offset ms into it.
func (s *Service) decodeFrame(ctx context.Context, ffmpeg string, fs *fragstore.Store, m fragstore.Meta, offset int64, in getImagesInput, quality int) ([]byte, error) {
	h, cl, err := fs.Read(m)
	if err != nil {
		return nil, err
	}
	tracks, err := fmp4.Tracks(h)
	if err != nil {
		return nil, err
	}
	seg, err := fmp4.Segment(tracks, h.TimecodeScale, cl, 1)
	if err != nil {
		return nil, err
	}
	mp4 := append(fmp4.Init(tracks), seg...)
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	args := []string{"-v", "error", "-f", "mp4", "-i", "pipe:0", "-ss", fmt.Sprintf("%.3f", float64(offset)/1000), "-an", "-frames:v", "1"}
	if in.WidthPixels != nil || in.HeightPixels != nil {
		w, hh := -2, -2
		if in.WidthPixels != nil {
			w = *in.WidthPixels
		}
		if in.HeightPixels != nil {
			hh = *in.HeightPixels
		}
		args = append(args, "-vf", fmt.Sprintf("scale=%d:%d", w, hh))
	}
	if in.Format == "PNG" {
		args = append(args, "-c:v", "png")
	} else {
		// JPEGQuality 1-100 → mjpeg qscale 31-2
		args = append(args, "-c:v", "mjpeg", "-q:v", strconv.Itoa(31-(quality-1)*29/99))
	}
	args = append(args, "-f", "image2pipe", "pipe:1")
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	cmd.Stdin = bytes.NewReader(mp4)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ffmpeg: %w: %s", err, stderr.String())
	}
	if out.Len() == 0 {
		return nil, fmt.Errorf("ffmpeg produced no image: %s", stderr.String())
	}
	return out.Bytes(), nil
}
