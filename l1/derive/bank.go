// Package derive reads the L2's batches from the L1: the authorised
// batcher's transactions to the inbox, their frames reassembled into
// channels, the channels decoded into batches, the batches taken in L2
// block order. The batcher (to learn what is already posted) and every
// verifier (to rebuild the chain) read through it, so one rule decides
// what counts as posted. Every refusal is a Skip with its reason; the
// rules depend on the L1's contents alone, so every reader skips the same.
package derive

import (
	"fmt"
	"sort"

	"github.com/infergeth/infergeth/l1/batch"
)

// Channel bank limits, part of the derivation rule.
const (
	// ChannelTimeout is how many L1 blocks a channel may stay incomplete
	// after its first frame; then its frames are dropped.
	ChannelTimeout = 300
	// MaxPendingBytes bounds the frame data of all incomplete channels;
	// past it the oldest channels are dropped.
	MaxPendingBytes = 64 << 20
)

// Skip is something from the batcher that derivation refused.
type Skip struct {
	L1Block uint64
	Reason  string
}

type channel struct {
	id     batch.ChannelID
	opened uint64 // L1 block of the first frame
	frames map[uint16][]byte
	last   int // frame number of the is-last frame, -1 until seen
	size   int
}

// Bank reassembles channels from frames in L1 order.
type Bank struct {
	channels map[batch.ChannelID]*channel
	order    []batch.ChannelID // by first frame, oldest first
	size     int
	skips    []Skip
}

// NewBank returns an empty bank.
func NewBank() *Bank {
	return &Bank{channels: make(map[batch.ChannelID]*channel)}
}

func (b *Bank) skip(l1Block uint64, format string, args ...any) {
	b.skips = append(b.skips, Skip{L1Block: l1Block, Reason: fmt.Sprintf(format, args...)})
}

// TakeSkips returns the skips since the last call.
func (b *Bank) TakeSkips() []Skip {
	s := b.skips
	b.skips = nil
	return s
}

// Expire drops the channels opened more than ChannelTimeout L1 blocks
// before l1Block.
func (b *Bank) Expire(l1Block uint64) {
	kept := b.order[:0]
	for _, id := range b.order {
		ch := b.channels[id]
		if l1Block > ch.opened+ChannelTimeout {
			b.drop(ch)
			b.skip(l1Block, "channel %x timed out incomplete (opened in L1 block %d)", id, ch.opened)
			continue
		}
		kept = append(kept, id)
	}
	b.order = kept
}

func (b *Bank) drop(ch *channel) {
	b.size -= ch.size
	delete(b.channels, ch.id)
}

// Add takes the frames of one batcher transaction in L1 block l1Block and
// returns the batches of the channels it completed, in order.
func (b *Bank) Add(l1Block uint64, frames []batch.Frame) []*batch.Batch {
	var out []*batch.Batch
	for _, f := range frames {
		ch := b.channels[f.Channel]
		if ch == nil {
			ch = &channel{id: f.Channel, opened: l1Block, frames: make(map[uint16][]byte), last: -1}
			b.channels[f.Channel] = ch
			b.order = append(b.order, f.Channel)
		}
		if _, dup := ch.frames[f.Number]; dup {
			b.skip(l1Block, "channel %x: duplicate frame %d", f.Channel, f.Number)
			continue
		}
		if ch.last >= 0 && int(f.Number) > ch.last {
			b.skip(l1Block, "channel %x: frame %d after the last frame %d", f.Channel, f.Number, ch.last)
			continue
		}
		if f.IsLast {
			if ch.last >= 0 {
				b.skip(l1Block, "channel %x: second last frame %d", f.Channel, f.Number)
				continue
			}
			ch.last = int(f.Number)
			var void []int // frames past the end, in order (not map order)
			for n := range ch.frames {
				if int(n) > ch.last {
					void = append(void, int(n))
				}
			}
			sort.Ints(void)
			for _, n := range void {
				data := ch.frames[uint16(n)]
				ch.size -= len(data)
				b.size -= len(data)
				delete(ch.frames, uint16(n))
				b.skip(l1Block, "channel %x: frame %d after the last frame %d", f.Channel, n, ch.last)
			}
		}
		if ch.size+len(f.Data) > batch.MaxChannelBytes {
			b.removeOrdered(ch)
			b.skip(l1Block, "channel %x: over %d bytes, dropped", f.Channel, batch.MaxChannelBytes)
			continue
		}
		ch.frames[f.Number] = f.Data
		ch.size += len(f.Data)
		b.size += len(f.Data)
		for b.size > MaxPendingBytes && len(b.order) > 0 {
			oldest := b.channels[b.order[0]]
			b.removeOrdered(oldest)
			b.skip(l1Block, "channel %x dropped: incomplete channels over %d bytes", oldest.id, MaxPendingBytes)
		}
		if c := b.channels[f.Channel]; c != nil && c.last >= 0 && len(c.frames) == c.last+1 {
			b.removeOrdered(c)
			if bt := b.decode(l1Block, c); bt != nil {
				out = append(out, bt)
			}
		}
	}
	return out
}

func (b *Bank) removeOrdered(ch *channel) {
	b.drop(ch)
	for i, id := range b.order {
		if id == ch.id {
			b.order = append(b.order[:i], b.order[i+1:]...)
			break
		}
	}
}

func (b *Bank) decode(l1Block uint64, ch *channel) *batch.Batch {
	data := make([]byte, 0, ch.size)
	for n := 0; n <= ch.last; n++ {
		data = append(data, ch.frames[uint16(n)]...)
	}
	bt, err := batch.Decompress(data)
	if err != nil {
		b.skip(l1Block, "channel %x: %v", ch.id, err)
		return nil
	}
	return bt
}
