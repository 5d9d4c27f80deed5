package vm

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	gethvm "github.com/ethereum/go-ethereum/core/vm"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/params"
)

// The freshness guard (PRECOMPILE.md): a stale price or timestamp is refused
// before the model runs, so nothing derived from it reaches state. "Now" is
// the block's timestamp from the EVM's block context, never the caller's.

// stamp is a caller's claim that input element index was observed at
// observedAt, with the caller's own maximum age.
type stamp struct {
	index      uint64
	observedAt uint64
	maxAge     uint64
}

// feed binds input element index to a Chainlink AggregatorV3 price feed.
type feed struct {
	aggregator common.Address
	index      uint64
	maxAge     uint64
}

// readStamps decodes a (uint32,uint64,uint64)[] argument whose offset is in
// the head word at head (inferFresh's and inferFreshWithFeeds's stamps).
func readStamps(a args, head uint64) ([]stamp, error) {
	start, n, err := a.array(head, 3)
	if err != nil {
		return nil, badInput("stamps: %v", err)
	}
	out := make([]stamp, n)
	for i := range out {
		off := start + uint64(i)*96
		var errs [3]error
		out[i].index, errs[0] = a.uint(off, 32)
		out[i].observedAt, errs[1] = a.uint(off+32, 64)
		out[i].maxAge, errs[2] = a.uint(off+64, 64)
		if err := first(errs[:]...); err != nil {
			return nil, badInput("stamps[%d]: %v", i, err)
		}
	}
	return out, nil
}

// readFeeds decodes an (address,uint32,uint64)[] argument whose offset is in
// the head word at head (inferWithFeeds's and inferFreshWithFeeds's feeds).
func readFeeds(a args, head uint64) ([]feed, error) {
	start, n, err := a.array(head, 3)
	if err != nil {
		return nil, badInput("feeds: %v", err)
	}
	out := make([]feed, n)
	for i := range out {
		off := start + uint64(i)*96
		var errs [3]error
		out[i].aggregator, errs[0] = a.address(off)
		out[i].index, errs[1] = a.uint(off+32, 32)
		out[i].maxAge, errs[2] = a.uint(off+64, 64)
		if err := first(errs[:]...); err != nil {
			return nil, badInput("feeds[%d]: %v", i, err)
		}
	}
	return out, nil
}

func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// guard checks observation times against now and the model's declared ages.
type guard struct {
	now   uint64
	model *inference.Model
}

// check refuses an observation of element index at observedAt from the
// future, or older than maxAge (the tighter of the caller's and the model's).
func (g guard) check(index, observedAt, maxAge uint64) (uint64, error) {
	if d, ok := declared(g.model, index); ok {
		maxAge = min(maxAge, d.MaxAge)
	}
	if observedAt > g.now {
		return maxAge, futureInput(index, observedAt, g.now)
	}
	if g.now-observedAt > maxAge {
		return maxAge, staleInput(index, observedAt, g.now, maxAge)
	}
	return maxAge, nil
}

func (g guard) element(index uint64, what string, i int) error {
	if index >= uint64(g.model.InputElements()) {
		return badInput("%s[%d]: input index %d is not an element (the model has %d)", what, i, index, g.model.InputElements())
	}
	return nil
}

// covered refuses a model-declared element that no stamp or feed covered.
func (g guard) covered(indices []uint64) error {
	for _, d := range g.model.Freshness {
		found := false
		for _, i := range indices {
			found = found || i == uint64(d.Element)
		}
		if !found {
			return missingFreshness(uint64(d.Element))
		}
	}
	return nil
}

// fresh is the freshness guard of one call: the stamps in order, then the
// feeds in order (read into a copy of input, which it returns), then every
// element the model declares must have been covered. An element the model
// declares with a feed scale is covered only by a feed the precompile reads
// itself: a stamp for it is refused, so a caller cannot forge the price by
// stamping its own value "observed now". The other declared elements take a
// stamp (a feed needs a feed scale), so each declared element has exactly one
// kind of proof, and a model that declares both kinds is called with both
// (inferFreshWithFeeds).
func (b *boundInference) fresh(g guard, input []byte, stamps []stamp, feeds []feed) ([]byte, error) {
	indices := make([]uint64, 0, len(stamps)+len(feeds))
	for i, s := range stamps {
		if err := g.stamp(i, s); err != nil {
			return nil, err
		}
		indices = append(indices, s.index)
	}
	if len(feeds) > 0 {
		var err error
		if input, err = b.feedInputs(g, input, feeds); err != nil {
			return nil, err
		}
		for _, f := range feeds {
			indices = append(indices, f.index)
		}
	}
	return input, g.covered(indices)
}

// stamp checks stamps[i]: an input element, not one the model binds to a
// feed, observed neither in the future nor too long ago.
func (g guard) stamp(i int, s stamp) error {
	if err := g.element(s.index, "stamps", i); err != nil {
		return err
	}
	if d, ok := declared(g.model, s.index); ok && d.FeedMultiplier != 0 {
		return badInput("stamps[%d]: input element %d is a price feed in the model; only a feed the precompile reads can supply it (inferWithFeeds or inferFreshWithFeeds), never a stamp", i, s.index)
	}
	_, err := g.check(s.index, s.observedAt, s.maxAge)
	return err
}

// latestRoundData() of Chainlink's AggregatorV3Interface.
var latestRoundData = selector("latestRoundData()")

// feedInputs reads every feed by static call with bounded gas, checks its
// round and its age, and writes its quantized answer into a copy of input.
// The price cannot be forged by the caller: it comes from the feed. fresh
// checks that every declared element was covered.
func (b *boundInference) feedInputs(g guard, input []byte, feeds []feed) ([]byte, error) {
	input = append([]byte(nil), input...)
	indices := make([]uint64, len(feeds))
	for i, f := range feeds {
		if err := g.element(f.index, "feeds", i); err != nil {
			return nil, err
		}
		for _, prev := range indices[:i] {
			if prev == f.index {
				return nil, badInput("feeds[%d]: input index %d is fed twice", i, f.index)
			}
		}
		indices[i] = f.index
		d, ok := declared(g.model, f.index)
		if !ok || d.FeedMultiplier == 0 {
			return nil, badInput("feeds[%d]: input element %d has no feed scale in the model", i, f.index)
		}
		answer, updatedAt, err := b.readFeed(f.aggregator)
		if err != nil {
			return nil, err
		}
		if _, err := g.check(f.index, updatedAt, f.maxAge); err != nil {
			return nil, err
		}
		off, dt, zp := elementOffset(g.model, f.index)
		q := quantizeFeed(answer, d.FeedMultiplier, d.FeedShift, zp, dt)
		inference.Store(input[off:], dt, 0, q)
	}
	return input, nil
}

// readFeed static-calls latestRoundData() and returns the answer and its
// update time. A call that fails, returns too little, returns an out-of-range
// round or an incomplete round makes the feed unavailable.
func (b *boundInference) readFeed(aggregator common.Address) (*big.Int, uint64, error) {
	ret, _, err := b.evm.StaticCall(params.InferencePrecompileAddress, aggregator, latestRoundData[:],
		gethvm.NewGasBudget(params.InferenceFeedCallGas, 0))
	if err != nil || len(ret) < 5*32 {
		return nil, 0, feedUnavailable(aggregator)
	}
	r := args(ret)
	roundID, ok1 := uint80(r, 0)
	answeredIn, ok2 := uint80(r, 128)
	updated, _ := r.word(96)
	if !ok1 || !ok2 || new(big.Int).SetBytes(updated).Sign() == 0 || answeredIn.Cmp(roundID) < 0 {
		return nil, 0, feedUnavailable(aggregator)
	}
	updatedAt := ^uint64(0) // a time beyond uint64 is in the future
	if w := new(big.Int).SetBytes(updated); w.IsUint64() {
		updatedAt = w.Uint64()
	}
	word, _ := r.word(32)
	answer := new(big.Int).SetBytes(word)
	if word[0]&0x80 != 0 { // int256, two's complement
		answer.Sub(answer, new(big.Int).Lsh(big.NewInt(1), 256))
	}
	return answer, updatedAt, nil
}

// uint80 reads the word at off as a Solidity uint80 (Chainlink round ids
// pack a phase in bits 64-79), refusing dirty high bits.
func uint80(r args, off uint64) (*big.Int, bool) {
	w, err := r.word(off)
	if err != nil {
		return nil, false
	}
	for _, b := range w[:22] {
		if b != 0 {
			return nil, false
		}
	}
	return new(big.Int).SetBytes(w), true
}

// quantizeFeed maps a feed's answer into an input element exactly, in
// arbitrary precision: clamp(zp + RoundShift(answer·multiplier, shift)).
func quantizeFeed(answer *big.Int, multiplier int32, shift uint32, zp int32, dt inference.DType) int64 {
	v := new(big.Int).Mul(answer, big.NewInt(int64(multiplier)))
	if shift > 0 {
		v.Add(v, new(big.Int).Lsh(big.NewInt(1), uint(shift-1)))
		v.Rsh(v, uint(shift)) // arithmetic: rounds toward -inf, as >> in the spec
	}
	v.Add(v, big.NewInt(int64(zp)))
	lo, hi := big.NewInt(dt.Min()), big.NewInt(dt.Max())
	if v.Cmp(lo) < 0 {
		return dt.Min()
	}
	if v.Cmp(hi) > 0 {
		return dt.Max()
	}
	return v.Int64()
}
