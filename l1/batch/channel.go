package batch

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/crypto"
)

// MaxChannelBytes bounds a channel's compressed data (all its frames).
const MaxChannelBytes = MaxFrames * MaxFrameData

// ErrInvalidChannel wraps every reason a complete channel is refused.
var ErrInvalidChannel = errors.New("invalid channel")

// Compress is a batch's channel data: its RLP, zlib-compressed at the best
// level. zlib was measured against brotli on the benchmark's transaction
// mix (docs/l1.md); the format's version byte leaves room for another.
func Compress(b *Batch) ([]byte, error) {
	enc, err := b.Encode()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(enc); err != nil {
		return nil, fmt.Errorf("compress batch: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compress batch: %w", err)
	}
	if buf.Len() > MaxChannelBytes {
		return nil, fmt.Errorf("%w: %d compressed bytes, over %d", ErrInvalidChannel, buf.Len(), MaxChannelBytes)
	}
	return buf.Bytes(), nil
}

// Decompress reads a channel's data back into a batch: one zlib stream, no
// trailing bytes, at most MaxBatchBytes once inflated (a small channel
// cannot make a verifier allocate without bound).
func Decompress(data []byte) (*Batch, error) {
	in := bytes.NewReader(data)
	r, err := zlib.NewReader(in)
	if err != nil {
		return nil, fmt.Errorf("%w: zlib: %w", ErrInvalidChannel, err)
	}
	enc, err := io.ReadAll(io.LimitReader(r, MaxBatchBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: zlib: %w", ErrInvalidChannel, err)
	}
	if len(enc) > MaxBatchBytes {
		return nil, fmt.Errorf("%w: inflates past %d bytes", ErrInvalidChannel, MaxBatchBytes)
	}
	if err := r.Close(); err != nil {
		return nil, fmt.Errorf("%w: zlib: %w", ErrInvalidChannel, err)
	}
	if in.Len() != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the zlib stream", ErrInvalidChannel, in.Len())
	}
	b, err := DecodeBatch(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidChannel, err)
	}
	return b, nil
}

// Split cuts a channel's data into frames of at most maxData bytes each
// (0 or over MaxFrameData means MaxFrameData).
func Split(data []byte, maxData int) ([]Frame, error) {
	if maxData <= 0 || maxData > MaxFrameData {
		maxData = MaxFrameData
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty channel", ErrInvalidChannel)
	}
	n := (len(data) + maxData - 1) / maxData
	if n > MaxFrames {
		return nil, fmt.Errorf("%w: %d frames, over %d", ErrInvalidChannel, n, MaxFrames)
	}
	var id ChannelID
	copy(id[:], crypto.Keccak256(data))
	frames := make([]Frame, n)
	for i := range frames {
		end := min((i+1)*maxData, len(data))
		frames[i] = Frame{Channel: id, Number: uint16(i), Data: data[i*maxData : end], IsLast: i == n-1}
	}
	return frames, nil
}
