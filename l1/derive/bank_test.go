package derive

import (
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/infergeth/infergeth/l1/batch"
)

func channelFrames(t *testing.T, first uint64, maxData int) []batch.Frame {
	t.Helper()
	b := &batch.Batch{ParentHash: common.HexToHash("0x01"), First: first, Blocks: []batch.Block{{Time: 1, Extra: []byte("some extra data to make frames")}, {Time: 2}}}
	data, err := batch.Compress(b)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := batch.Split(data, maxData)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) < 3 {
		t.Fatalf("%d frames", len(frames))
	}
	return frames
}

// TestBankRules: frames out of order complete a channel; duplicates and
// frames past the last are skipped; an incomplete channel times out.
func TestBankRules(t *testing.T) {
	frames := channelFrames(t, 5, 16)
	b := NewBank()
	last := len(frames) - 1
	// Last frame first, then a duplicate of it, then the rest in reverse.
	if out := b.Add(10, []batch.Frame{frames[last], frames[last]}); len(out) != 0 {
		t.Fatal("channel complete too early")
	}
	beyond := frames[0]
	beyond.Number = uint16(last + 1)
	b.Add(10, []batch.Frame{beyond})
	var got []*batch.Batch
	for i := last - 1; i >= 0; i-- {
		got = append(got, b.Add(11, []batch.Frame{frames[i]})...)
	}
	if len(got) != 1 || got[0].First != 5 || len(got[0].Blocks) != 2 {
		t.Fatalf("got %d batches", len(got))
	}
	skips := b.TakeSkips()
	if len(skips) != 2 || !strings.Contains(skips[0].Reason, "duplicate frame") || !strings.Contains(skips[1].Reason, "after the last frame") {
		t.Fatalf("skips %v", skips)
	}
	// An incomplete channel is dropped after the timeout, not before.
	other := channelFrames(t, 9, 16)
	b.Add(20, other[:1])
	b.Expire(20 + ChannelTimeout)
	if len(b.TakeSkips()) != 0 || len(b.channels) != 1 {
		t.Fatal("channel dropped before its timeout")
	}
	b.Expire(21 + ChannelTimeout)
	if s := b.TakeSkips(); len(s) != 1 || !strings.Contains(s[0].Reason, "timed out") || len(b.channels) != 0 || b.size != 0 {
		t.Fatalf("after the timeout: skips %v, %d channels, %d bytes", s, len(b.channels), b.size)
	}
	// Its remaining frames now open a new, incomplete channel: no batch.
	if out := b.Add(400, other[1:]); len(out) != 0 {
		t.Fatal("a channel completed without its first frame")
	}
}
