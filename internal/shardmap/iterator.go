package shardmap

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
)

// Iterator is what a shard iterator carries. It is sealed with AES-256-GCM
// under a key kept in the server's metadata, so iterators survive a restart,
// cannot be forged, and bind the caller's account and region.
type Iterator struct {
	Account       string
	Region        string
	StreamName    string
	StreamCreated int64 // stream creation, epoch ms: a re-created stream rejects old iterators
	ShardIndex    uint32
	Pos           uint64 // next position to read
	IssuedMs      int64
}

// iterator wire form: base64(std) of
//
//	off size field
//	0   8    header 00 00 00 00 00 00 00 01 (as AWS's iterators start)
//	8   1    format version (1)
//	9   12   GCM nonce
//	21  …    GCM ciphertext+tag of the plaintext below
//
// plaintext: version u8 (1) | issuedMs i64 | streamCreated i64 | shardIndex u32 |
// pos u64 | len u8 + account | len u8 + region | len u8 + streamName | zero padding
// up to a multiple of 16 bytes and at least 96 bytes (so iterators look and
// size like AWS's: >= 152 characters).

var iterHeader = [8]byte{0, 0, 0, 0, 0, 0, 0, 1}

// ErrBadIterator is returned for a string that does not decrypt to an iterator.
var ErrBadIterator = errors.New("invalid shard iterator")

// IteratorCodec seals and opens iterators.
type IteratorCodec struct {
	aead   cipher.AEAD
	prefix [4]byte
	ctr    atomic.Uint64
}

// NewIteratorCodec takes a 32-byte key.
func NewIteratorCodec(key []byte) (*IteratorCodec, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("iterator key: need 32 bytes, have %d", len(key))
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("iterator key: %w", err)
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, fmt.Errorf("iterator key: %w", err)
	}
	c := &IteratorCodec{aead: aead}
	if _, err := rand.Read(c.prefix[:]); err != nil {
		return nil, fmt.Errorf("iterator nonce prefix: %w", err)
	}
	return c, nil
}

// Encode seals it.
func (c *IteratorCodec) Encode(it Iterator) string {
	pt := make([]byte, 0, 128)
	pt = append(pt, 1)
	pt = binary.BigEndian.AppendUint64(pt, uint64(it.IssuedMs))
	pt = binary.BigEndian.AppendUint64(pt, uint64(it.StreamCreated))
	pt = binary.BigEndian.AppendUint32(pt, it.ShardIndex)
	pt = binary.BigEndian.AppendUint64(pt, it.Pos)
	for _, s := range []string{it.Account, it.Region, it.StreamName} {
		if len(s) > 255 {
			s = s[:255]
		}
		pt = append(pt, byte(len(s)))
		pt = append(pt, s...)
	}
	n := max(96, (len(pt)+15)/16*16)
	for len(pt) < n {
		pt = append(pt, 0)
	}
	out := make([]byte, 0, 9+12+len(pt)+c.aead.Overhead())
	out = append(out, iterHeader[:]...)
	out = append(out, 1)
	var nonce [12]byte
	copy(nonce[:4], c.prefix[:])
	binary.BigEndian.PutUint64(nonce[4:], c.ctr.Add(1))
	out = append(out, nonce[:]...)
	out = c.aead.Seal(out, nonce[:], pt, iterHeader[:])
	return base64.StdEncoding.EncodeToString(out)
}

// Decode opens s. Any tampering or foreign key gives ErrBadIterator.
func (c *IteratorCodec) Decode(s string) (Iterator, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) < 9+12+c.aead.Overhead()+16 || [8]byte(raw[:8]) != iterHeader || raw[8] != 1 {
		return Iterator{}, ErrBadIterator
	}
	pt, err := c.aead.Open(nil, raw[9:21], raw[21:], iterHeader[:])
	if err != nil || len(pt) < 29 || pt[0] != 1 {
		return Iterator{}, ErrBadIterator
	}
	it := Iterator{
		IssuedMs:      int64(binary.BigEndian.Uint64(pt[1:])),
		StreamCreated: int64(binary.BigEndian.Uint64(pt[9:])),
		ShardIndex:    binary.BigEndian.Uint32(pt[17:]),
		Pos:           binary.BigEndian.Uint64(pt[21:]),
	}
	rest := pt[29:]
	var strs [3]string
	for i := range strs {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return Iterator{}, ErrBadIterator
		}
		strs[i] = string(rest[1 : 1+rest[0]])
		rest = rest[1+rest[0]:]
	}
	it.Account, it.Region, it.StreamName = strs[0], strs[1], strs[2]
	return it, nil
}
