package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Version0 is the first byte of every batcher transaction's calldata in
// this format.
const Version0 = 0

// Frame layout: channel id (16) | frame number (uint16 big-endian) |
// data length (uint32 big-endian) | data | is-last (0 or 1).
const (
	ChannelIDLength = 16
	frameHeader     = ChannelIDLength + 2 + 4
	// FrameOverhead is what a frame adds to its data.
	FrameOverhead = frameHeader + 1
	// MaxFrameData bounds one frame's data: a frame must fit one L1
	// transaction, and geth's pool takes transactions up to 128 KiB.
	MaxFrameData = 120_000
	// MaxFrames bounds the frames of a channel.
	MaxFrames = 1024
)

// ChannelID names a channel: the first 16 bytes of the keccak256 of its
// compressed data, so the same blocks posted again form the same frames.
type ChannelID [ChannelIDLength]byte

// Frame is one piece of a channel.
type Frame struct {
	Channel ChannelID
	Number  uint16
	Data    []byte
	IsLast  bool
}

// ErrInvalidFrame wraps every reason a batcher transaction's frames are
// refused.
var ErrInvalidFrame = errors.New("invalid frame")

// MarshalFrames is the calldata of an L1 transaction carrying frames.
func MarshalFrames(frames ...Frame) []byte {
	size := 1
	for _, f := range frames {
		size += FrameOverhead + len(f.Data)
	}
	out := make([]byte, 0, size)
	out = append(out, Version0)
	for _, f := range frames {
		out = append(out, f.Channel[:]...)
		out = binary.BigEndian.AppendUint16(out, f.Number)
		out = binary.BigEndian.AppendUint32(out, uint32(len(f.Data)))
		out = append(out, f.Data...)
		if f.IsLast {
			out = append(out, 1)
		} else {
			out = append(out, 0)
		}
	}
	return out
}

// ParseFrames reads the frames of a batcher transaction's calldata. Any
// fault refuses the whole transaction, so a verifier never acts on part of
// a malformed one: empty calldata, an unknown version, a truncated or
// oversized frame, an is-last byte other than 0 or 1, trailing bytes.
func ParseFrames(calldata []byte) ([]Frame, error) {
	if len(calldata) == 0 {
		return nil, fmt.Errorf("%w: empty calldata", ErrInvalidFrame)
	}
	if calldata[0] != Version0 {
		return nil, fmt.Errorf("%w: unknown version %d", ErrInvalidFrame, calldata[0])
	}
	rest := calldata[1:]
	if len(rest) == 0 {
		return nil, fmt.Errorf("%w: no frames", ErrInvalidFrame)
	}
	var frames []Frame
	for len(rest) > 0 {
		if len(rest) < FrameOverhead {
			return nil, fmt.Errorf("%w: frame %d truncated: %d bytes left, a header is %d", ErrInvalidFrame, len(frames), len(rest), FrameOverhead)
		}
		var f Frame
		copy(f.Channel[:], rest)
		f.Number = binary.BigEndian.Uint16(rest[ChannelIDLength:])
		length := binary.BigEndian.Uint32(rest[ChannelIDLength+2:])
		if length > MaxFrameData {
			return nil, fmt.Errorf("%w: frame %d declares %d bytes, over %d", ErrInvalidFrame, len(frames), length, MaxFrameData)
		}
		if int(f.Number) >= MaxFrames {
			return nil, fmt.Errorf("%w: frame number %d, over %d", ErrInvalidFrame, f.Number, MaxFrames-1)
		}
		rest = rest[frameHeader:]
		if uint64(len(rest)) < uint64(length)+1 {
			return nil, fmt.Errorf("%w: frame %d truncated: declares %d bytes, %d left", ErrInvalidFrame, len(frames), length, len(rest))
		}
		f.Data = rest[:length:length]
		switch rest[length] {
		case 0:
		case 1:
			f.IsLast = true
		default:
			return nil, fmt.Errorf("%w: frame %d: is-last byte %d", ErrInvalidFrame, len(frames), rest[length])
		}
		rest = rest[length+1:]
		frames = append(frames, f)
	}
	return frames, nil
}
