package vm

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/triedb"
	"github.com/holiman/uint256"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/modeltext"
	"github.com/infergeth/infergeth/inference/reference"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
)

var caller = common.HexToAddress("0x00000000000000000000000000000000000c0ffe")

// testChain is an EVM over an in-memory state with models registered the
// way genesis registers them.
type testChain struct {
	t       testing.TB
	state   *state.StateDB
	now     uint64
	factory *Factory
	pre     *Inference
}

func newTestChain(t testing.TB, backend inference.Backend) *testChain {
	t.Helper()
	db := state.NewDatabase(triedb.NewDatabase(rawdb.NewMemoryDatabase(), nil), nil)
	st, err := state.New(common.Hash{}, db)
	if err != nil {
		t.Fatal(err)
	}
	st.AddBalance(caller, uint256.NewInt(1e18), tracing.BalanceChangeUnspecified)
	cfg := params.DevnetConfig(params.DevnetChainID)
	pre, err := NewInference(cfg, InferenceOptions{Cache: runtime.NewCache(backend, 1<<30, nil), Calls: NewCallLog(16)})
	if err != nil {
		t.Fatal(err)
	}
	return &testChain{t: t, state: st, now: 1_700_000_000, factory: NewFactory(pre), pre: pre}
}

// register writes a model into state as GenesisModel does.
func (c *testChain) register(raw []byte) common.Hash {
	c.t.Helper()
	alloc, storage, err := GenesisModel(raw)
	if err != nil {
		c.t.Fatal(err)
	}
	for addr, acct := range alloc {
		c.state.SetCode(addr, acct.Code, tracing.CodeChangeUnspecified)
		c.state.SetNonce(addr, acct.Nonce, tracing.NonceChangeUnspecified)
	}
	for k, v := range storage {
		c.state.SetState(params.ModelRegistryAddress, k, v)
	}
	return common.Hash(inference.ID(raw))
}

func (c *testChain) evm() *gethvm.EVM {
	ctx := gethvm.BlockContext{
		CanTransfer: core.CanTransfer, Transfer: core.Transfer,
		BlockNumber: big.NewInt(7), Time: c.now, GasLimit: 30_000_000,
		BaseFee: big.NewInt(0), Random: &common.Hash{}, Difficulty: big.NewInt(0),
	}
	return c.factory.NewEVM(ctx, c.state, params.DevnetConfig(params.DevnetChainID).Ethereum, gethvm.Config{})
}

// call sends calldata to the precompile and returns the output, the gas
// used and the error.
func (c *testChain) call(data []byte, static bool) ([]byte, uint64, error) {
	const gas = 25_000_000
	evm := c.evm()
	var (
		ret  []byte
		left gethvm.GasBudget
		err  error
	)
	if static {
		ret, left, err = evm.StaticCall(caller, params.InferencePrecompileAddress, data, gethvm.NewGasBudget(gas, 0))
	} else {
		ret, left, err = evm.Call(caller, params.InferencePrecompileAddress, data, gethvm.NewGasBudget(gas, 0), new(uint256.Int))
	}
	return ret, gas - left.ExecutionGas, err
}

func loadVector(t testing.TB, name string) ([]byte, []byte, []byte) {
	t.Helper()
	dir := filepath.Join("../tests/vectors", name)
	raw, err := os.ReadFile(filepath.Join(dir, "model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	read := func(f string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return raw, read("input.hex"), read("output.hex")
}

// calldata builders, the ABI written out by hand.
func word(v uint64) []byte {
	var w [32]byte
	binary.BigEndian.PutUint64(w[24:], v)
	return w[:]
}

func padded(b []byte) []byte {
	return append(append(word(uint64(len(b))), b...), make([]byte, (32-len(b)%32)%32)...)
}

func inferCall(id common.Hash, input []byte) []byte {
	out := append(fnInfer[:], id[:]...)
	out = append(out, word(64)...)
	return append(out, padded(input)...)
}

// tupleCall encodes f(bytes32, bytes, T[]) with 3-word static tuples.
func tupleCall(sel [4]byte, id common.Hash, input []byte, tuples [][3][]byte) []byte {
	out := append(sel[:], id[:]...)
	in := padded(input)
	out = append(out, word(96)...)
	out = append(out, word(uint64(96+len(in)))...)
	out = append(out, in...)
	out = append(out, word(uint64(len(tuples)))...)
	for _, tu := range tuples {
		out = append(append(append(out, tu[0]...), tu[1]...), tu[2]...)
	}
	return out
}

func stampsCall(id common.Hash, input []byte, stamps ...stamp) []byte {
	var tuples [][3][]byte
	for _, s := range stamps {
		tuples = append(tuples, [3][]byte{word(s.index), word(s.observedAt), word(s.maxAge)})
	}
	return tupleCall(fnInferFresh, id, input, tuples)
}

func feedsCall(id common.Hash, input []byte, feeds ...feed) []byte {
	var tuples [][3][]byte
	for _, f := range feeds {
		tuples = append(tuples, [3][]byte{common.LeftPadBytes(f.aggregator[:], 32), word(f.index), word(f.maxAge)})
	}
	return tupleCall(fnInferWithFeeds, id, input, tuples)
}

func decodeBytesResult(t *testing.T, ret []byte) []byte {
	t.Helper()
	out, err := args(ret).dynBytes(0)
	if err != nil {
		t.Fatalf("return data %x: %v", ret, err)
	}
	return out
}

// wantRevert checks err is a revert whose data starts with sel.
func wantRevert(t *testing.T, ret []byte, err error, sel [4]byte) {
	t.Helper()
	if !errors.Is(err, gethvm.ErrExecutionReverted) {
		t.Fatalf("err = %v, want a revert", err)
	}
	if len(ret) < 4 || [4]byte(ret[:4]) != sel {
		t.Fatalf("revert data %x, want selector %x", ret, sel)
	}
}

func TestInferMatchesReferenceOnEveryBackend(t *testing.T) {
	for _, name := range []string{"mlp", "cnn", "transformer", "odd_shapes"} {
		raw, input, want := loadVector(t, name)
		m, err := inference.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		var gasSeen []uint64
		for _, b := range runtime.Backends() {
			c := newTestChain(t, b)
			id := c.register(raw)
			for _, static := range []bool{false, true} {
				ret, used, err := c.call(inferCall(id, input), static)
				if err != nil {
					t.Fatalf("%s on %s (static %v): %v %x", name, b.Name(), static, err, ret)
				}
				if got := decodeBytesResult(t, ret); !bytes.Equal(got, want) {
					t.Fatalf("%s on %s: output %x, want %x", name, b.Name(), got, want)
				}
				if wantGas := params.InferenceCallGas + m.Cost().Gas(); used != wantGas {
					t.Fatalf("%s on %s: gas %d, want %d", name, b.Name(), used, wantGas)
				}
				gasSeen = append(gasSeen, used)
			}
		}
		for _, g := range gasSeen[1:] {
			if g != gasSeen[0] {
				t.Fatalf("%s: gas differs across backends or call kinds: %v", name, gasSeen)
			}
		}
	}
}

func TestInferRefusals(t *testing.T) {
	raw, input, _ := loadVector(t, "mlp")
	c := newTestChain(t, reference.Backend{})
	id := c.register(raw)

	ret, used, err := c.call(inferCall(common.HexToHash("0x1234"), input), false)
	wantRevert(t, ret, err, errModelNotFound)
	if used != params.InferenceCallGas {
		t.Errorf("unknown model charged %d gas, want %d", used, params.InferenceCallGas)
	}
	if !bytes.Equal(ret[4:], common.HexToHash("0x1234").Bytes()) {
		t.Errorf("ModelNotFound carries %x", ret[4:])
	}

	for _, n := range []int{0, len(input) - 1, len(input) + 1} {
		ret, _, err := c.call(inferCall(id, make([]byte, n)), false)
		wantRevert(t, ret, err, errBadInput)
	}

	// Garbage: short calldata, unknown selector, a lying length, a lying offset.
	lying := inferCall(id, input)
	binary.BigEndian.PutUint64(lying[4+64+24:], 1<<40)
	badOffset := inferCall(id, input)
	binary.BigEndian.PutUint64(badOffset[4+32+24:], 1<<40)
	for _, data := range [][]byte{nil, {1, 2}, {0xde, 0xad, 0xbe, 0xef}, fnInfer[:], lying, badOffset} {
		ret, _, err := c.call(data, false)
		wantRevert(t, ret, err, errBadInput)
	}
}

// freshModel declares element 1 fed by a price feed and element 3 stamped.
const freshModel = `
input x: int8[4]
w: int8[4] = Clamp(x) min=-128 max=127
output w
fresh element=1 maxAge=60 feedMultiplier=1 feedShift=8
fresh element=3 maxAge=600
`

// stampedModel declares elements 1 and 3 stamped (no feed scale).
const stampedModel = `
input x: int8[4]
w: int8[4] = Clamp(x) min=-128 max=127
output w
fresh element=1 maxAge=60
fresh element=3 maxAge=600
`

func TestFreshnessGuard(t *testing.T) {
	p, err := modeltext.Parse(stampedModel)
	if err != nil {
		t.Fatal(err)
	}
	c := newTestChain(t, reference.Backend{})
	id := c.register(p.Bytes)
	in := []byte{1, 2, 3, 4}
	now := c.now

	// infer on a model that declares freshness: refused, the contract
	// author who forgot the check is still protected.
	ret, _, err := c.call(inferCall(id, in), false)
	wantRevert(t, ret, err, errMissingFreshness)

	fresh := []stamp{{1, now - 10, 1000}, {3, now - 500, 1000}}
	ret, _, err = c.call(stampsCall(id, in, fresh...), false)
	if err != nil {
		t.Fatalf("fresh stamps: %v %x", err, ret)
	}
	if got := decodeBytesResult(t, ret); !bytes.Equal(got, in) {
		t.Fatalf("output %x", got)
	}

	// An age equal to the maximum is still fresh; one second more is not.
	if ret, _, err := c.call(stampsCall(id, in, stamp{1, now - 60, 60}, stamp{3, now - 600, 600}), false); err != nil {
		t.Fatalf("ages at the limit: %v %x", err, ret)
	}
	// The model's 60 s beats the caller's 1000 s on element 1.
	ret, _, err = c.call(stampsCall(id, in, stamp{1, now - 61, 1000}, stamp{3, now, 0}), false)
	wantRevert(t, ret, err, errStaleInput)
	if want := staleInput(1, now-61, now, 60).data; !bytes.Equal(ret, want) {
		t.Fatalf("StaleInput data %x, want %x", ret, want)
	}
	// The caller's tighter 5 s beats the model's 600 s on element 3.
	ret, _, err = c.call(stampsCall(id, in, stamp{1, now, 60}, stamp{3, now - 6, 5}), false)
	if want := staleInput(3, now-6, now, 5).data; !errors.Is(err, gethvm.ErrExecutionReverted) || !bytes.Equal(ret, want) {
		t.Fatalf("got %v %x, want StaleInput %x", err, ret, want)
	}
	ret, _, err = c.call(stampsCall(id, in, stamp{1, now + 1, 60}, stamp{3, now, 5}), false)
	if want := futureInput(1, now+1, now).data; !errors.Is(err, gethvm.ErrExecutionReverted) || !bytes.Equal(ret, want) {
		t.Fatalf("got %v %x, want FutureInput %x", err, ret, want)
	}
	ret, _, err = c.call(stampsCall(id, in, stamp{1, now, 60}), false)
	if want := missingFreshness(3).data; !bytes.Equal(ret, want) {
		t.Fatalf("got %v %x, want MissingFreshness(3)", err, ret)
	}
	ret, _, err = c.call(stampsCall(id, in, stamp{9, now, 60}), false)
	wantRevert(t, ret, err, errBadInput)

	// Time moves: the same stamps go stale when the block's clock advances.
	c.now += 100
	ret, _, err = c.call(stampsCall(id, in, fresh...), false)
	wantRevert(t, ret, err, errStaleInput)
}

// feedCode returns runtime code that answers any call with the 160 bytes of
// latestRoundData(roundId, answer, startedAt, updatedAt, answeredInRound).
func feedCode(round uint64, answer *big.Int, updatedAt uint64, answeredIn uint64) []byte {
	code := []byte{0x60, 0xa0, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0xa0, 0x60, 0x00, 0xf3}
	ans := make([]byte, 32)
	if answer.Sign() < 0 {
		new(big.Int).Add(answer, new(big.Int).Lsh(big.NewInt(1), 256)).FillBytes(ans)
	} else {
		answer.FillBytes(ans)
	}
	code = append(code, word(round)...)
	code = append(code, ans...)
	code = append(code, word(updatedAt)...)
	code = append(code, word(updatedAt)...)
	return append(code, word(answeredIn)...)
}

func TestPriceFeeds(t *testing.T) {
	p, err := modeltext.Parse(freshModel)
	if err != nil {
		t.Fatal(err)
	}
	c := newTestChain(t, reference.Backend{})
	id := c.register(p.Bytes)
	now := c.now
	feedAddr := common.HexToAddress("0xfeed")
	set := func(code []byte) { c.state.SetCode(feedAddr, code, tracing.CodeChangeUnspecified) }
	in := []byte{1, 2, 3, 4}

	// Element 3 declares no feed scale: feeding it is refused.
	set(feedCode(5, big.NewInt(1000), now-1, 5))
	ret, _, err := c.call(feedsCall(id, in, feed{feedAddr, 1, 100}, feed{feedAddr, 3, 100}), false)
	wantRevert(t, ret, err, errBadInput)

	// A model with one feedable element.
	p2, err := modeltext.Parse(`
input x: int8[2] zp=-3
y: int8[2] zp=-3 = Clamp(x) min=-128 max=127
output y
fresh element=0 maxAge=60 feedMultiplier=3 feedShift=8
`)
	if err != nil {
		t.Fatal(err)
	}
	id2 := c.register(p2.Bytes)
	for _, tc := range []struct {
		answer int64
		want   int8 // clamp(-3 + RoundShift(answer*3, 8))
	}{{1000, -3 + 12}, {-1000, -3 - 12}, {128, -3 + 2}, {1 << 40, 127}, {-(1 << 40), -128}} {
		set(feedCode(7, big.NewInt(tc.answer), now-5, 7))
		ret, gas, err := c.call(feedsCall(id2, []byte{0, 9}, feed{feedAddr, 0, 30}), false)
		if err != nil {
			t.Fatalf("answer %d: %v %x", tc.answer, err, ret)
		}
		if got := decodeBytesResult(t, ret); got[0] != byte(tc.want) || got[1] != 9 {
			t.Errorf("answer %d: input became %v, want [%d 9]", tc.answer, []int8{int8(got[0]), int8(got[1])}, tc.want)
		}
		m2, _ := inference.Decode(p2.Bytes)
		if want := params.InferenceCallGas + m2.Cost().Gas() + params.InferenceFeedGas; gas != want {
			t.Errorf("feed call gas %d, want %d", gas, want)
		}
	}
	// A real Chainlink round id packs the phase into bits 64-79.
	phased := new(big.Int).Lsh(big.NewInt(3), 64)
	code := feedCode(0, big.NewInt(1000), now-5, 0)
	copy(code[12:44], common.LeftPadBytes(phased.Bytes(), 32))
	copy(code[12+128:12+160], common.LeftPadBytes(phased.Bytes(), 32))
	set(code)
	if ret, _, err := c.call(feedsCall(id2, []byte{0, 9}, feed{feedAddr, 0, 30}), false); err != nil {
		t.Fatalf("phased round id: %v %x", err, ret)
	}

	// Stale and future answers, and unavailable feeds.
	set(feedCode(7, big.NewInt(1000), now-31, 7))
	ret, _, err = c.call(feedsCall(id2, []byte{0, 9}, feed{feedAddr, 0, 30}), false)
	if want := staleInput(0, now-31, now, 30).data; !bytes.Equal(ret, want) {
		t.Fatalf("got %v %x, want StaleInput", err, ret)
	}
	set(feedCode(7, big.NewInt(1000), now+1, 7))
	ret, _, err = c.call(feedsCall(id2, []byte{0, 9}, feed{feedAddr, 0, 30}), false)
	wantRevert(t, ret, err, errFutureInput)
	for name, code := range map[string][]byte{
		"reverts":                    {0x60, 0x00, 0x60, 0x00, 0xfd},
		"burns its gas":              {0x5b, 0x60, 0x00, 0x56},
		"returns 32 bytes":           {0x60, 0x20, 0x60, 0x00, 0xf3},
		"no code":                    nil,
		"incomplete round":           feedCode(7, big.NewInt(1000), 0, 7),
		"answer from an older round": feedCode(7, big.NewInt(1000), now-1, 6),
	} {
		set(code)
		ret, gas, err := c.call(feedsCall(id2, []byte{0, 9}, feed{feedAddr, 0, 30}), false)
		if want := feedUnavailable(feedAddr).data; !errors.Is(err, gethvm.ErrExecutionReverted) || !bytes.Equal(ret, want) {
			t.Fatalf("feed that %s: got %v %x, want FeedUnavailable", name, err, ret)
		}
		m2, _ := inference.Decode(p2.Bytes)
		if want := params.InferenceCallGas + m2.Cost().Gas() + params.InferenceFeedGas; gas != want {
			t.Errorf("feed that %s: gas %d, want %d (charged before work, whatever the feed does)", name, gas, want)
		}
	}
	// A feed that re-enters the precompile (a STATICCALL back to 0x0A00)
	// is bounded by its gas and ends as FeedUnavailable or a value; never a fault.
	reenter := []byte{
		0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, // out size, out off, in size, in off
		0x61, 0x0a, 0x00, // PUSH2 0x0A00
		0x5a, 0xfa, // GAS STATICCALL
		0x60, 0x00, 0x60, 0x00, 0xfd, // revert
	}
	set(reenter)
	ret, _, err = c.call(feedsCall(id2, []byte{0, 9}, feed{feedAddr, 0, 30}), false)
	wantRevert(t, ret, err, errFeedUnavailable)
}

func TestQuoteModelInfoValidate(t *testing.T) {
	raw, _, _ := loadVector(t, "cnn")
	m, _ := inference.Decode(raw)
	c := newTestChain(t, reference.Backend{})
	id := c.register(raw)

	ret, _, err := c.call(append(append(fnQuote[:], id[:]...), word(uint64(m.InputBytes()))...), true)
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.BigEndian.Uint64(ret[24:32]); got != params.InferenceCallGas+m.Cost().Gas() {
		t.Fatalf("quote %d, want %d", got, params.InferenceCallGas+m.Cost().Gas())
	}
	ret, _, err = c.call(append(append(fnQuote[:], id[:]...), word(3)...), true)
	wantRevert(t, ret, err, errBadInput)

	ret, _, err = c.call(append(fnModelInfo[:], id[:]...), true)
	if err != nil {
		t.Fatal(err)
	}
	a := args(ret)
	for i, want := range []uint64{32, uint64(m.InputBytes()), uint64(m.OutputBytes()), uint64(m.InputElements()), m.Cost().Gas(), uint64(len(raw)), 192, 0} {
		if got, _ := a.uint(uint64(32*i), 64); got != want {
			t.Errorf("modelInfo word %d = %d, want %d", i, got, want)
		}
	}

	// validate reads chunks from state: the registry's data contracts.
	alloc, _, _ := GenesisModel(raw)
	var chunks []common.Address
	for addr, acct := range alloc {
		if len(acct.Code) == len(raw)+1 {
			chunks = append(chunks, addr)
		}
	}
	if len(chunks) != 1 {
		t.Fatalf("want the one chunk of a small model, got %d", len(chunks))
	}
	call := append(fnValidate[:], word(32)...)
	call = append(call, word(1)...)
	call = append(call, common.LeftPadBytes(chunks[0][:], 32)...)
	ret, _, err = c.call(call, true)
	if err != nil {
		t.Fatalf("validate: %v %x", err, ret)
	}
	if common.BytesToHash(ret[:32]) != id || common.BytesToHash(ret[32:64]) != InfoOf(m, len(raw)).Word() {
		t.Fatalf("validate returned %x", ret)
	}
	// A chunk that is not a data contract, and a corrupt model.
	c.state.SetCode(common.HexToAddress("0xbad"), []byte{0x60, 0x00}, tracing.CodeChangeUnspecified)
	bad := append(fnValidate[:], word(32)...)
	bad = append(bad, word(1)...)
	bad = append(bad, common.LeftPadBytes(common.HexToAddress("0xbad").Bytes(), 32)...)
	ret, _, err = c.call(bad, true)
	wantRevert(t, ret, err, errInvalidModel)
	corrupt := append([]byte{0xFE}, raw...)
	corrupt[10] ^= 0xff
	c.state.SetCode(common.HexToAddress("0xbad"), corrupt, tracing.CodeChangeUnspecified)
	ret, _, err = c.call(bad, true)
	wantRevert(t, ret, err, errInvalidModel)
}

func TestCallLogRecordsCalls(t *testing.T) {
	raw, input, _ := loadVector(t, "mlp")
	c := newTestChain(t, reference.Backend{})
	id := c.register(raw)
	c.call(inferCall(id, input), false)
	c.call(inferCall(common.Hash{1}, input), false)
	calls := c.pre.Calls().Recent(10)
	if len(calls) != 2 || calls[0].Outcome != "ModelNotFound" || calls[1].Outcome != "ok" || calls[1].Backend != "reference" {
		t.Fatalf("call log %+v", calls)
	}
}

// FuzzInferenceCalldata: any calldata ends in a result or a typed revert,
// never a panic and never another error.
func FuzzInferenceCalldata(f *testing.F) {
	p, err := modeltext.Parse(freshModel)
	if err != nil {
		f.Fatal(err)
	}
	id := common.Hash(inference.ID(p.Bytes))
	f.Add(inferCall(id, []byte{1, 2, 3, 4}))
	f.Add(stampsCall(id, []byte{1, 2, 3, 4}, stamp{1, 5, 6}, stamp{3, 5, 6}))
	f.Add(feedsCall(id, []byte{1, 2, 3, 4}, feed{common.HexToAddress("0xfeed"), 1, 6}))
	f.Add(stampsAndFeedsCall(id, []byte{1, 2, 3, 4}, []stamp{{3, 5, 6}}, []feed{{common.HexToAddress("0xfeed"), 1, 6}}))
	f.Add(append(fnQuote[:], append(id[:], word(4)...)...))
	f.Add(append(fnModelInfo[:], id[:]...))
	f.Add(append(fnOutputLayout[:], id[:]...))
	f.Add(append(fnValidate[:], append(word(32), word(1)...)...))
	c := newTestChain(f, reference.Backend{})
	c.register(p.Bytes)
	f.Fuzz(func(t *testing.T, data []byte) {
		ret, _, err := c.call(data, false)
		if err != nil && !errors.Is(err, gethvm.ErrExecutionReverted) {
			t.Fatalf("calldata %x: error %v is not a revert", data, err)
		}
		if err != nil && len(ret) < 4 {
			t.Fatalf("calldata %x: revert without a typed error: %x", data, ret)
		}
	})
}
