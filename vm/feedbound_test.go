package vm

import (
	"bytes"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/tracing"
	gethvm "github.com/ethereum/go-ethereum/core/vm"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/modeltext"
	"github.com/infergeth/infergeth/inference/reference"
	"github.com/infergeth/infergeth/params"
)

// Feed-bound elements (issue 11, item 5): an element the model declares with
// a feed scale is satisfied only by a feed the precompile reads itself. A
// caller's stamp for it is refused, whatever it claims, and a model that
// declares both stamped and fed elements is called with both at once.

// mixedModel declares element 1 fed (feedMultiplier 1, shift 8) and element
// 3 stamped; its output is its (fed) input.
const mixedModel = freshModel // inference_test.go

// stampsAndFeedsCall encodes inferFreshWithFeeds(bytes32, bytes, Stamp[], Feed[]).
func stampsAndFeedsCall(id common.Hash, input []byte, stamps []stamp, feeds []feed) []byte {
	in := padded(input)
	stampsAt := uint64(128 + len(in))
	feedsAt := stampsAt + 32 + 96*uint64(len(stamps))
	out := append(fnInferFreshWithFeeds[:], id[:]...)
	out = append(out, word(128)...)
	out = append(out, word(stampsAt)...)
	out = append(out, word(feedsAt)...)
	out = append(out, in...)
	out = append(out, word(uint64(len(stamps)))...)
	for _, s := range stamps {
		out = append(append(append(out, word(s.index)...), word(s.observedAt)...), word(s.maxAge)...)
	}
	out = append(out, word(uint64(len(feeds)))...)
	for _, f := range feeds {
		out = append(append(append(out, common.LeftPadBytes(f.aggregator[:], 32)...), word(f.index)...), word(f.maxAge)...)
	}
	return out
}

// wantBadInput checks err is BadInput(reason) and the reason names every
// part of want.
func wantBadInput(t *testing.T, ret []byte, err error, want ...string) {
	t.Helper()
	wantRevert(t, ret, err, errBadInput)
	reason, derr := args(ret[4:]).dynBytes(0)
	if derr != nil {
		t.Fatalf("BadInput data %x: %v", ret, derr)
	}
	for _, w := range want {
		if !strings.Contains(string(reason), w) {
			t.Fatalf("BadInput(%q) does not say %q", reason, w)
		}
	}
}

func TestStampCannotClaimAFeedElement(t *testing.T) {
	c := newTestChain(t, reference.Backend{})
	p, err := modeltext.Parse(mixedModel)
	if err != nil {
		t.Fatal(err)
	}
	id := c.register(p.Bytes)
	p2, err := modeltext.Parse(`
input x: int8[2] zp=-3
y: int8[2] zp=-3 = Clamp(x) min=-128 max=127
output y
fresh element=0 maxAge=60 feedMultiplier=3 feedShift=8
`)
	if err != nil {
		t.Fatal(err)
	}
	feedOnly := c.register(p2.Bytes)
	now := c.now

	// A stamp saying "observed this block" for the fed element: a forged
	// price. Refused, at the stamp, before any work.
	ret, _, err := c.call(stampsCall(feedOnly, []byte{100, 9}, stamp{0, now, 60}), false)
	wantBadInput(t, ret, err, "stamps[0]", "element 0", "feed")
	ret, _, err = c.call(stampsCall(id, []byte{1, 2, 3, 4}, stamp{3, now, 600}, stamp{1, now, 60}), false)
	wantBadInput(t, ret, err, "stamps[1]", "element 1", "feed")
	// Likewise through the combined entry point, even beside a real feed.
	feedAddr := common.HexToAddress("0xfeed")
	c.state.SetCode(feedAddr, feedCode(7, big.NewInt(1000), now-5, 7), tracing.CodeChangeUnspecified)
	ret, _, err = c.call(stampsAndFeedsCall(id, []byte{1, 2, 3, 4}, []stamp{{3, now, 600}, {1, now, 60}}, []feed{{feedAddr, 1, 60}}), false)
	wantBadInput(t, ret, err, "stamps[1]", "element 1", "feed")
	// Without the stamp, inferFresh has no way to cover element 1.
	ret, _, err = c.call(stampsCall(id, []byte{1, 2, 3, 4}, stamp{3, now, 600}), false)
	if want := missingFreshness(1).data; !bytes.Equal(ret, want) || !errors.Is(err, gethvm.ErrExecutionReverted) {
		t.Fatalf("inferFresh without the feed: got %v %x, want MissingFreshness(1)", err, ret)
	}
	// A stamp on an element the model does not declare still applies the
	// caller's own maximum age.
	ret, _, err = c.call(stampsCall(feedOnly, []byte{100, 9}, stamp{1, now - 61, 60}), false)
	if want := staleInput(1, now-61, now, 60).data; !bytes.Equal(ret, want) {
		t.Fatalf("undeclared stale stamp: got %v %x, want StaleInput", err, ret)
	}
}

func TestStampsAndFeedsTogether(t *testing.T) {
	c := newTestChain(t, reference.Backend{})
	p, err := modeltext.Parse(mixedModel)
	if err != nil {
		t.Fatal(err)
	}
	id := c.register(p.Bytes)
	m, err := inference.Decode(p.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	now := c.now
	feedAddr := common.HexToAddress("0xfeed")
	set := func(code []byte) { c.state.SetCode(feedAddr, code, tracing.CodeChangeUnspecified) }
	set(feedCode(7, big.NewInt(1000), now-5, 7))
	in := []byte{1, 2, 3, 4}
	stamps := []stamp{{3, now - 500, 1000}}
	feeds := []feed{{feedAddr, 1, 100}}

	// Neither single entry point can call a model that declares both kinds.
	ret, _, err := c.call(stampsCall(id, in, stamps...), false)
	if want := missingFreshness(1).data; !bytes.Equal(ret, want) {
		t.Fatalf("inferFresh: got %v %x, want MissingFreshness(1)", err, ret)
	}
	ret, _, err = c.call(feedsCall(id, in, feeds...), false)
	if want := missingFreshness(3).data; !bytes.Equal(ret, want) {
		t.Fatalf("inferWithFeeds: got %v %x, want MissingFreshness(3)", err, ret)
	}

	// The combined entry point: the feed's answer replaces element 1
	// (RoundShift(1000·1, 8) = 4), the stamped element passes through.
	for _, static := range []bool{false, true} {
		ret, gas, err := c.call(stampsAndFeedsCall(id, in, stamps, feeds), static)
		if err != nil {
			t.Fatalf("inferFreshWithFeeds (static %v): %v %x", static, err, ret)
		}
		if got, want := decodeBytesResult(t, ret), []byte{1, 4, 3, 4}; !bytes.Equal(got, want) {
			t.Fatalf("output %v, want %v", got, want)
		}
		if want := params.InferenceCallGas + m.Cost().Gas() + params.InferenceStampGas + params.InferenceFeedGas; gas != want {
			t.Fatalf("gas %d, want %d (call + model + one stamp + one feed)", gas, want)
		}
	}

	// Each refusal names what failed, as the single entry points do.
	for _, tc := range []struct {
		name   string
		stamps []stamp
		feeds  []feed
		code   []byte
		want   []byte
	}{
		{"no stamp", nil, feeds, nil, missingFreshness(3).data},
		{"no feed", stamps, nil, nil, missingFreshness(1).data},
		{"nothing", nil, nil, nil, missingFreshness(1).data},
		{"stale stamp", []stamp{{3, now - 601, 1000}}, feeds, nil, staleInput(3, now-601, now, 600).data},
		{"future stamp", []stamp{{3, now + 1, 1000}}, feeds, nil, futureInput(3, now+1, now).data},
		{"stale feed", stamps, []feed{{feedAddr, 1, 100}}, feedCode(7, big.NewInt(1000), now-61, 7), staleInput(1, now-61, now, 60).data},
		{"caller's tighter feed age", stamps, []feed{{feedAddr, 1, 4}}, nil, staleInput(1, now-5, now, 4).data},
		{"unavailable feed", stamps, feeds, []byte{0x60, 0x00, 0x60, 0x00, 0xfd}, feedUnavailable(feedAddr).data},
		{"stamp checked before feeds", []stamp{{3, now - 601, 1000}}, feeds, []byte{0x60, 0x00, 0x60, 0x00, 0xfd}, staleInput(3, now-601, now, 600).data},
	} {
		code := tc.code
		if code == nil {
			code = feedCode(7, big.NewInt(1000), now-5, 7)
		}
		set(code)
		ret, gas, err := c.call(stampsAndFeedsCall(id, in, tc.stamps, tc.feeds), false)
		if !errors.Is(err, gethvm.ErrExecutionReverted) || !bytes.Equal(ret, tc.want) {
			t.Fatalf("%s: got %v %x, want %x", tc.name, err, ret, tc.want)
		}
		want := params.InferenceCallGas + m.Cost().Gas() + uint64(len(tc.stamps))*params.InferenceStampGas + uint64(len(tc.feeds))*params.InferenceFeedGas
		if gas != want {
			t.Errorf("%s: gas %d, want %d (charged before work)", tc.name, gas, want)
		}
	}
	set(feedCode(7, big.NewInt(1000), now-5, 7))
	// A feed on the stamped element: it has no feed scale.
	ret, _, err = c.call(stampsAndFeedsCall(id, in, stamps, []feed{{feedAddr, 1, 100}, {feedAddr, 3, 100}}), false)
	wantBadInput(t, ret, err, "feeds[1]", "element 3")
	ret, _, err = c.call(stampsAndFeedsCall(id, in, stamps, []feed{{feedAddr, 1, 100}, {feedAddr, 1, 100}}), false)
	wantBadInput(t, ret, err, "feeds[1]", "twice")
	ret, _, err = c.call(stampsAndFeedsCall(id, in, []stamp{{9, now, 1}}, feeds), false)
	wantBadInput(t, ret, err, "stamps[0]", "9")

	// Garbage: lying lengths and offsets in either array are BadInput,
	// never a panic or an allocation of the declared size.
	good := stampsAndFeedsCall(id, in, stamps, feeds)
	for name, at := range map[string]int{"stamps offset": 4 + 64, "feeds offset": 4 + 96,
		"stamps length": 4 + 128 + 64, "feeds length": 4 + 128 + 64 + 32 + 96} {
		bad := append([]byte(nil), good...)
		copy(bad[at:at+32], word(1<<40))
		ret, _, err := c.call(bad, false)
		wantRevert(t, ret, err, errBadInput)
		if !strings.Contains(string(ret), name[:5]) {
			t.Fatalf("lying %s: BadInput %q does not name the %s", name, ret, name[:5])
		}
	}
	ret, _, err = c.call(good[:len(good)-1], false)
	wantBadInput(t, ret, err, "feeds")
}
