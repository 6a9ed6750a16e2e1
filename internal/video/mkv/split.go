package mkv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Track is one TrackEntry as the repackagers need it.
type Track struct {
	Number          uint64
	Type            uint64 // 1 video, 2 audio
	CodecID         string
	CodecPrivate    []byte
	DefaultDuration uint64 // ns
	Width, Height   uint64
	SampleRate      float64
	Channels        uint64
}

// Header is what precedes the clusters: the raw EBML header, Info and
// Tracks elements (written back unchanged by GetMedia) and what they say.
type Header struct {
	EBML, Info, Tracks []byte
	TimecodeScale      uint64 // ns per timecode unit (default 1,000,000)
	TrackList          []Track
}

// Track returns the entry for number n, or nil.
func (h *Header) Track(n uint64) *Track {
	for i := range h.TrackList {
		if h.TrackList[i].Number == n {
			return &h.TrackList[i]
		}
	}
	return nil
}

func (h *Header) firstVideo() *Track {
	for i := range h.TrackList {
		if h.TrackList[i].Type == 1 {
			return &h.TrackList[i]
		}
	}
	return nil
}

// Cluster is one Cluster read from the stream.
type Cluster struct {
	Header   *Header
	Timecode int64  // Cluster Timecode, in TimecodeScale units
	Raw      []byte // the whole Cluster re-encoded with an 8-byte size
	Blocks   int
	Keyframe bool  // the first video block is a keyframe
	MinRel   int64 // smallest block timecode relative to Timecode
	MaxRel   int64 // largest block timecode relative to Timecode
	Tracks   map[uint64]int
	// the first video track's block timecodes (relative), when it has any
	VideoMin, VideoMax int64
	VideoBlocks        int
	// MetaTags counts the SimpleTags of the Tags elements between the
	// previous cluster and this one (the fragment metadata a producer
	// prepends) and of a run after it ending with EndOfFragmentTag
	// (PutMedia allows 10)
	MetaTags int
	// Tags are those SimpleTags' name/value pairs in stream order (the
	// producer SDK's AWS_KINESISVIDEO_END_OF_FRAGMENT marker left out; at
	// most maxKeptTags kept: a fragment with more is refused anyway)
	Tags []Tag
}

// EndOfFragmentTag is the producer SDK's end-of-fragment marker, a
// SimpleTag that is not fragment metadata.
const EndOfFragmentTag = "AWS_KINESISVIDEO_END_OF_FRAGMENT"

// maxKeptTags bounds Cluster.Tags.
const maxKeptTags = 64

// ParseError is a malformed stream; Code is the PutMedia ErrorId.
type ParseError struct {
	Code int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("mkv: %s (ErrorId %d)", e.Msg, e.Code) }

// ErrorIds of PutMedia acknowledgements produced by the splitter.
const (
	CodeStreamRead   = 4000
	CodeTooLarge     = 4001
	CodeInvalidMKV   = 4006
	CodeTrackUnknown = 4010
)

func invalid(format string, a ...any) error {
	return &ParseError{Code: CodeInvalidMKV, Msg: fmt.Sprintf(format, a...)}
}

// Splitter reads a Matroska stream and returns one Cluster at a time. It
// holds at most one cluster (bounded by MaxCluster) and one header.
type Splitter struct {
	r          *bufio.Reader
	MaxCluster int
	// OnClusterStart runs when a cluster's Timecode has been read.
	OnClusterStart func(timecode int64)

	hdr      *Header
	pending  *Header // being assembled after an EBML header
	metaTags int     // SimpleTags seen since the last cluster
	tags     []Tag   // their name/value pairs (≤ maxKeptTags)
	tagBytes int     // bytes of those Tags elements (≤ maxMeta)
	deferred error   // met after a complete cluster: returned next
	peekID   uint32
	peekSize int64
	peeked   bool
	buf      []byte
}

// maxMeta bounds header elements and skipped top-level elements.
const maxMeta = 4 << 20

// NewSplitter reads from r; maxCluster bounds a cluster's bytes.
func NewSplitter(r io.Reader, maxCluster int) *Splitter {
	return &Splitter{r: bufio.NewReaderSize(r, 64<<10), MaxCluster: maxCluster}
}

// Header returns the current header (nil before Tracks).
func (s *Splitter) Header() *Header { return s.hdr }

func (s *Splitter) readHeader() (uint32, int64, error) {
	if s.peeked {
		s.peeked = false
		return s.peekID, s.peekSize, nil
	}
	b0, err := s.r.ReadByte()
	if err != nil {
		return 0, 0, err
	}
	if b0 == 0 {
		return 0, 0, invalid("invalid element ID")
	}
	n := 1
	for m := byte(0x80); b0&m == 0; m >>= 1 {
		n++
	}
	if n > 4 {
		return 0, 0, invalid("invalid element ID")
	}
	id := uint32(b0)
	for i := 1; i < n; i++ {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, 0, truncated(err)
		}
		id = id<<8 | uint32(c)
	}
	c0, err := s.r.ReadByte()
	if err != nil {
		return 0, 0, truncated(err)
	}
	if c0 == 0 {
		return 0, 0, invalid("invalid element size")
	}
	m := 1
	for k := byte(0x80); c0&k == 0; k >>= 1 {
		m++
	}
	v := uint64(c0 & (0xFF >> m))
	all := v == uint64(0xFF>>m)
	for i := 1; i < m; i++ {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, 0, truncated(err)
		}
		v = v<<8 | uint64(c)
		all = all && c == 0xFF
	}
	if all {
		return id, UnknownSize, nil
	}
	if v > 1<<56 {
		return 0, 0, invalid("element size too large")
	}
	return id, int64(v), nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid("truncated stream")
	}
	return &ParseError{Code: CodeStreamRead, Msg: err.Error()}
}

func (s *Splitter) readPayload(size int64, limit int) ([]byte, error) {
	if size == UnknownSize || size > int64(limit) {
		return nil, invalid("element too large or of unknown size")
	}
	p := make([]byte, size)
	if _, err := io.ReadFull(s.r, p); err != nil {
		return nil, truncated(err)
	}
	return p, nil
}

func rawElement(id uint32, p []byte) []byte {
	return AppendElement(nil, id, p)
}

// Next returns the next cluster. io.EOF means the stream ended cleanly
// between clusters; a *ParseError describes malformed input.
func (s *Splitter) Next() (*Cluster, error) {
	if err := s.deferred; err != nil {
		s.deferred = nil
		return nil, err
	}
	for {
		id, size, err := s.readHeader()
		if err != nil {
			return nil, err
		}
		switch id {
		case IDEBML:
			p, err := s.readPayload(size, maxMeta)
			if err != nil {
				return nil, err
			}
			s.pending = &Header{EBML: rawElement(id, p), TimecodeScale: 1000000}
		case IDSegment:
			// enter: its children follow at top level
			if s.pending == nil && s.hdr == nil {
				return nil, invalid("Segment before EBML header")
			}
		case IDInfo:
			p, err := s.readPayload(size, maxMeta)
			if err != nil {
				return nil, err
			}
			h := s.building()
			if h == nil {
				return nil, invalid("Info before EBML header")
			}
			h.Info = rawElement(id, p)
			Children(p, func(cid uint32, cp []byte) bool {
				if cid == IDTimecodeScale {
					if v := Uint(cp); v > 0 {
						h.TimecodeScale = v
					}
				}
				return true
			})
		case IDTracks:
			p, err := s.readPayload(size, maxMeta)
			if err != nil {
				return nil, err
			}
			h := s.building()
			if h == nil || h.Info == nil {
				return nil, invalid("Tracks before Info")
			}
			h.Tracks = rawElement(id, p)
			tl, err := parseTracks(p)
			if err != nil {
				return nil, err
			}
			h.TrackList = tl
			s.hdr, s.pending = h, nil
		case IDCluster:
			if s.hdr == nil || s.pending != nil {
				return nil, invalid("Cluster before Tracks")
			}
			c, err := s.cluster(size)
			if c != nil {
				c.MetaTags = s.metaTags
				c.Tags = s.tags
			}
			s.metaTags = 0
			s.tags = nil
			s.tagBytes = 0
			if err == nil && size == UnknownSize {
				// an error here is the next element's: c is complete
				s.deferred = s.trailingTags(c)
			}
			return c, err
		case IDTags:
			p, err := s.readPayload(size, maxMeta)
			if err != nil {
				return nil, err
			}
			// the metadata before one cluster is bounded as one header
			// element is (a fragment's record stays under the store's
			// frame limit with a 50 MB cluster)
			s.tagBytes += len(p)
			if s.tagBytes > maxMeta {
				return nil, invalid("fragment metadata over %d bytes", maxMeta)
			}
			s.metaTags += countSimpleTags(p)
			for _, t := range SimpleTags(p) {
				if t.Name != EndOfFragmentTag && len(s.tags) < maxKeptTags {
					s.tags = append(s.tags, t)
				}
			}
		default:
			// SeekHead, Void, Cues, Tags, Chapters, …: skipped
			if size == UnknownSize || size > maxMeta {
				return nil, invalid("element 0x%X too large or of unknown size", id)
			}
			if _, err := s.r.Discard(int(size)); err != nil {
				return nil, truncated(err)
			}
		}
	}
}

// countSimpleTags counts the SimpleTags directly in each Tag of a Tags
// payload (one per metadata item, as the producer SDKs write them).
func countSimpleTags(p []byte) int {
	n := 0
	Children(p, func(id uint32, tp []byte) bool {
		if id == IDTag {
			Children(tp, func(cid uint32, _ []byte) bool {
				if cid == IDSimpleTag {
					n++
				}
				return true
			})
		}
		return true
	})
	return n
}

// trailingTags handles the Tags elements that ended the unknown-size
// cluster c. The producer SDK ends a fragment explicitly with a Tags
// element holding AWS_KINESISVIDEO_END_OF_FRAGMENT, preceded by the
// metadata added after the fragment started: a run of Tags elements right
// after c that ends with that marker belongs to c. Any other run is the
// metadata the SDK puts before the next cluster (it sends it with that
// cluster's start, so looking at the element after it does not wait for
// the next fragment).
func (s *Splitter) trailingTags(c *Cluster) error {
	var tags []Tag
	n, size := 0, 0
	for s.peeked && s.peekID == IDTags {
		s.peeked = false
		p, err := s.readPayload(s.peekSize, maxMeta)
		if err != nil {
			return err
		}
		if size += len(p); size > maxMeta {
			return invalid("fragment metadata over %d bytes", maxMeta)
		}
		n += countSimpleTags(p)
		eofr := false
		for _, t := range SimpleTags(p) {
			if t.Name == EndOfFragmentTag {
				eofr = true
			} else if len(tags) < maxKeptTags {
				tags = append(tags, t)
			}
		}
		if eofr {
			c.MetaTags += n
			for _, t := range tags {
				if len(c.Tags) < maxKeptTags {
					c.Tags = append(c.Tags, t)
				}
			}
			return nil
		}
		id, esize, err := s.readHeader()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF // the stream ended after metadata of no cluster
			}
			return err
		}
		s.peekID, s.peekSize, s.peeked = id, esize, true
	}
	s.metaTags += n
	s.tags = append(s.tags, tags...)
	s.tagBytes += size
	return nil
}

// SimpleTags returns the name/value pairs of the SimpleTags directly in
// each Tag of a Tags payload (TagName, TagString; a SimpleTag without a
// TagName is left out, nested SimpleTags are not read).
func SimpleTags(p []byte) []Tag {
	var out []Tag
	Children(p, func(id uint32, tp []byte) bool {
		if id == IDTag {
			Children(tp, func(cid uint32, sp []byte) bool {
				if cid != IDSimpleTag {
					return true
				}
				var t Tag
				named := false
				Children(sp, func(eid uint32, ep []byte) bool {
					switch eid {
					case IDTagName:
						t.Name, named = strings.TrimRight(string(ep), "\x00"), true
					case IDTagString:
						t.Value = strings.TrimRight(string(ep), "\x00")
					}
					return true
				})
				if named {
					out = append(out, t)
				}
				return true
			})
		}
		return true
	})
	return out
}

func (s *Splitter) building() *Header {
	return s.pending
}

func (s *Splitter) cluster(size int64) (*Cluster, error) {
	c := &Cluster{Header: s.hdr, Tracks: map[uint64]int{}, MinRel: 1 << 62, MaxRel: -1 << 62}
	body := s.buf[:0]
	var consumed int64
	haveTC := false
	firstVideo := true
	for size == UnknownSize || consumed < size {
		id, esize, err := s.readHeader()
		if err != nil {
			if size == UnknownSize && errors.Is(err, io.EOF) {
				break
			}
			if errors.Is(err, io.EOF) {
				return nil, invalid("truncated cluster")
			}
			return nil, err
		}
		if size == UnknownSize && isTopLevel(id) {
			s.peekID, s.peekSize, s.peeked = id, esize, true
			break
		}
		if esize == UnknownSize {
			return nil, invalid("cluster child of unknown size")
		}
		if len(body)+int(esize) > s.MaxCluster || esize > int64(s.MaxCluster) {
			return nil, &ParseError{Code: CodeTooLarge, Msg: "fragment too large"}
		}
		start := len(body)
		body = AppendID(body, id)
		body = AppendSize(body, uint64(esize))
		hl := len(body) - start
		body = append(body, make([]byte, esize)...)
		if _, err := io.ReadFull(s.r, body[start+hl:]); err != nil {
			return nil, truncated(err)
		}
		consumed += int64(hl) + esize
		if size != UnknownSize && consumed > size {
			return nil, invalid("cluster child overruns the cluster")
		}
		p := body[start+hl:]
		switch id {
		case IDTimecode:
			c.Timecode = int64(Uint(p))
			haveTC = true
			if s.OnClusterStart != nil {
				s.OnClusterStart(c.Timecode)
			}
		case IDSimpleBlock, IDBlockGroup:
			bp := p
			key := id == IDSimpleBlock
			if id == IDBlockGroup {
				bp = nil
				key = true
				Children(p, func(cid uint32, cp []byte) bool {
					switch cid {
					case IDBlock:
						bp = cp
					case IDRefBlock:
						key = false
					}
					return true
				})
			}
			tn, rel, flags, ok := BlockHeader(bp)
			if !ok {
				return nil, invalid("malformed block")
			}
			if id == IDSimpleBlock {
				key = flags&0x80 != 0
			}
			t := s.hdr.Track(tn)
			if t == nil {
				return nil, &ParseError{Code: CodeTrackUnknown, Msg: fmt.Sprintf("block for track %d not in Tracks", tn)}
			}
			if !haveTC {
				return nil, invalid("block before cluster Timecode")
			}
			if t.Type == 1 && firstVideo {
				c.Keyframe = key
				firstVideo = false
			}
			c.Blocks++
			c.Tracks[tn]++
			if t == s.hdr.firstVideo() {
				if c.VideoBlocks == 0 || rel < c.VideoMin {
					c.VideoMin = rel
				}
				if c.VideoBlocks == 0 || rel > c.VideoMax {
					c.VideoMax = rel
				}
				c.VideoBlocks++
			}
			c.MinRel = min(c.MinRel, rel)
			c.MaxRel = max(c.MaxRel, rel)
		}
	}
	if !haveTC {
		return nil, invalid("cluster without Timecode")
	}
	if firstVideo {
		// no video track: audio-only streams start anywhere
		c.Keyframe = true
	}
	raw := make([]byte, 0, len(body)+12)
	raw = AppendID(raw, IDCluster)
	raw = AppendSize8(raw, uint64(len(body)))
	raw = append(raw, body...)
	c.Raw = raw
	if cap(body) <= 8<<20 {
		s.buf = body[:0]
	} else {
		s.buf = nil
	}
	return c, nil
}

// BlockHeader decodes a (Simple)Block's track number, relative timecode
// and flags.
func BlockHeader(p []byte) (track uint64, rel int64, flags byte, ok bool) {
	tn, n, _, ok := readVint(p)
	if !ok || len(p) < n+3 {
		return 0, 0, 0, false
	}
	rel = int64(int16(uint16(p[n])<<8 | uint16(p[n+1])))
	return tn, rel, p[n+2], true
}

func parseTracks(p []byte) ([]Track, error) {
	var out []Track
	ok := Children(p, func(id uint32, tp []byte) bool {
		if id != IDTrackEntry {
			return true
		}
		var t Track
		Children(tp, func(cid uint32, cp []byte) bool {
			switch cid {
			case IDTrackNumber:
				t.Number = Uint(cp)
			case IDTrackType:
				t.Type = Uint(cp)
			case IDCodecID:
				t.CodecID = strings.TrimRight(string(cp), "\x00")
			case IDCodecPrivate:
				t.CodecPrivate = append([]byte(nil), cp...)
			case IDDefaultDur:
				t.DefaultDuration = Uint(cp)
			case IDVideo:
				Children(cp, func(vid uint32, vp []byte) bool {
					switch vid {
					case IDPixelWidth:
						t.Width = Uint(vp)
					case IDPixelHeight:
						t.Height = Uint(vp)
					}
					return true
				})
			case IDAudio:
				Children(cp, func(aid uint32, ap []byte) bool {
					switch aid {
					case IDSamplingFreq:
						t.SampleRate = Float(ap)
					case IDChannels:
						t.Channels = Uint(ap)
					}
					return true
				})
			}
			return true
		})
		out = append(out, t)
		return true
	})
	if !ok {
		return nil, invalid("malformed Tracks")
	}
	if len(out) == 0 {
		return nil, invalid("no tracks")
	}
	if len(out) > 3 {
		return nil, &ParseError{Code: 4012, Msg: "more than 3 tracks"}
	}
	return out, nil
}

// ParseHeader rebuilds a Header from its three raw elements (as stored).
func ParseHeader(ebml, info, tracks []byte) (*Header, error) {
	s := NewSplitter(bytesReader(append(append(append([]byte(nil), ebml...), info...), tracks...)), 0)
	_, err := s.Next()
	if s.hdr == nil {
		if err == nil || errors.Is(err, io.EOF) {
			err = invalid("incomplete header")
		}
		return nil, err
	}
	return s.hdr, nil
}
