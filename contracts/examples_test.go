package contracts_test

import (
	"bytes"
	"flag"
	"fmt"
	"math/big"
	"os"
	"regexp"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/contracts"
	"github.com/infergeth/infergeth/inference/modeltext"
	"github.com/infergeth/infergeth/inference/reference"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
)

var update = flag.Bool("update", false, "rewrite the example models' canonical bytes from their text")

// The example dApps' models: text in examples/*/NAME.model.txt, canonical
// bytes in examples/*/NAME.model, ids in examples/ExampleModels.sol. The
// forge tests run the dApps on MockInference with Solidity models written
// from the formulas in the text files (test/models/); the tests here check
// those formulas against the real models on the reference engine, and the
// models against the real precompile.
var exampleModels = []struct {
	file     string // without .txt
	constant string // in examples/ExampleModels.sol
}{
	{"examples/trading/signal.model", "SIGNAL_MODEL_ID"},
	{"examples/classifier/fraud.model", "FRAUD_MODEL_ID"},
}

func exampleModel(t *testing.T, file string) []byte {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test ./contracts -run TestExampleModels -update writes it)", err)
	}
	return raw
}

func TestExampleModels(t *testing.T) {
	ids, err := os.ReadFile("examples/ExampleModels.sol")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range exampleModels {
		text, err := os.ReadFile(m.file + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		p, err := modeltext.Parse(string(text))
		if err != nil {
			t.Fatalf("%s.txt: %v", m.file, err)
		}
		if *update {
			if err := os.WriteFile(m.file, p.Bytes, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if raw := exampleModel(t, m.file); !bytes.Equal(raw, p.Bytes) {
			t.Errorf("%s is stale relative to %s.txt: go test ./contracts -run TestExampleModels -update", m.file, m.file)
		}
		id := crypto.Keccak256Hash(p.Bytes)
		re := regexp.MustCompile(`bytes32 constant ` + m.constant + ` =\s*(0x[0-9a-fA-F]{64});`)
		got := re.FindSubmatch(ids)
		if got == nil || common.HexToHash(string(got[1])) != id {
			t.Errorf("examples/ExampleModels.sol: want `bytes32 constant %s = %s;`", m.constant, id)
		}
		t.Logf("%s: id %s, %d bytes", m.file, id, len(p.Bytes))
	}
}

func run(t *testing.T, raw []byte) func(input []byte) []byte {
	t.Helper()
	prep, err := runtime.Prepare(reference.Backend{}, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	return func(input []byte) []byte {
		out, err := prep.Run(input)
		if err != nil {
			t.Fatalf("run %x: %v", input, err)
		}
		return out
	}
}

func clamp8(v int) int8 { return int8(max(-128, min(127, v))) }

// The signal model's formula (test/models/SignalModel.sol): on every input.
func TestSignalModelFormula(t *testing.T) {
	infer := run(t, exampleModel(t, "examples/trading/signal.model"))
	for o := -128; o < 128; o++ {
		for a := -128; a < 128; a++ {
			d := o - a
			want := []byte{byte(clamp8(2)), byte(clamp8(d)), byte(clamp8(-d))}
			if got := infer([]byte{byte(int8(o)), byte(int8(a))}); !bytes.Equal(got, want) {
				t.Fatalf("oracle %d amm %d: logits %v, formula %v", o, a, got, want)
			}
		}
	}
}

// The fraud model's formula (test/models/FraudModel.sol) on a grid of the
// features' range 0..127, edges included.
func TestFraudModelFormula(t *testing.T) {
	infer := run(t, exampleModel(t, "examples/classifier/fraud.model"))
	grid := []int{0, 1, 2, 37, 63, 64, 65, 100, 126, 127}
	for _, x0 := range grid {
		for _, x1 := range grid {
			for _, x2 := range grid {
				for _, x3 := range grid {
					want := []byte{0, byte(clamp8(x0 + x1 + x2 + 2*x3 - 200))}
					if got := infer([]byte{byte(x0), byte(x1), byte(x2), byte(x3)}); !bytes.Equal(got, want) {
						t.Fatalf("features %d %d %d %d: logits %v, formula %v", x0, x1, x2, x3, got, want)
					}
				}
			}
		}
	}
}

// The ABI types of inferWithFeeds' and inferFresh's tuple arrays.
var (
	feedsType  = mustTupleArray("aggregator", "address", "inputIndex", "uint32", "maxAge", "uint64")
	stampsType = mustTupleArray("inputIndex", "uint32", "observedAt", "uint64", "maxAge", "uint64")
)

type feedArg struct {
	Aggregator common.Address
	InputIndex uint32
	MaxAge     uint64
}

type stampArg struct {
	InputIndex uint32
	ObservedAt uint64
	MaxAge     uint64
}

func mustTupleArray(nameType ...string) abi.Type {
	var fields []abi.ArgumentMarshaling
	for i := 0; i < len(nameType); i += 2 {
		fields = append(fields, abi.ArgumentMarshaling{Name: nameType[i], Type: nameType[i+1]})
	}
	t, err := abi.NewType("tuple[]", "", fields)
	if err != nil {
		panic(err)
	}
	return t
}

// callTuples calls sig(bytes32 id, bytes input, T[] tuples) on the
// precompile and returns the output bytes, or the revert data and error.
func (c *chain) callTuples(sig string, typ abi.Type, id common.Hash, input []byte, tuples any) ([]byte, error) {
	c.t.Helper()
	args := abi.Arguments{{Type: mustType("bytes32")}, {Type: mustType("bytes")}, {Type: typ}}
	packed, err := args.Pack(id, input, tuples)
	if err != nil {
		c.t.Fatal(err)
	}
	ret, err := c.call(stranger, params.InferencePrecompileAddress, append(crypto.Keccak256([]byte(sig))[:4], packed...))
	if err != nil {
		return ret, err
	}
	out, err := abi.Arguments{{Type: mustType("bytes")}}.Unpack(ret)
	if err != nil {
		c.t.Fatal(err)
	}
	return out[0].([]byte), nil
}

const (
	inferWithFeedsSig = "inferWithFeeds(bytes32,bytes,(address,uint32,uint64)[])"
	inferFreshSig     = "inferFresh(bytes32,bytes,(uint32,uint64,uint64)[])"
)

// feedCode is runtime code answering any call with latestRoundData's 160
// bytes (round 1, answer, updatedAt, updatedAt, round 1).
func feedCode(answer int64, updatedAt uint64) []byte {
	code := []byte{0x60, 0xa0, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0xa0, 0x60, 0x00, 0xf3}
	w := func(v *big.Int) []byte { return common.BigToHash(v).Bytes() }
	code = append(code, w(big.NewInt(1))...)
	code = append(code, w(big.NewInt(answer))...)
	code = append(code, w(new(big.Int).SetUint64(updatedAt))...)
	code = append(code, w(new(big.Int).SetUint64(updatedAt))...)
	return append(code, w(big.NewInt(1))...)
}

// The example models on the real precompile, through the registry: the
// feed's price lands in element 0 quantized as SignalTrader quantizes the
// AMM's, and the declared freshness is enforced.
func TestExampleModelsOnThePrecompile(t *testing.T) {
	c := newChain(t, contracts.RegistryGenesis{})
	var ids []common.Hash
	for _, m := range exampleModels {
		raw := exampleModel(t, m.file)
		chunk := c.registry(stranger, "upload", raw)[0].(common.Address)
		ids = append(ids, common.Hash(c.registry(stranger, "register", []common.Address{chunk}, m.file)[0].([32]byte)))
	}
	signal, fraud := ids[0], ids[1]
	const now = 1_700_000_000 // the chain's block time

	feed := common.HexToAddress("0x00000000000000000000000000000000000feed0")
	inferWithFeeds := func(answer int64, updatedAt uint64, amm int8, maxAge uint64) ([]byte, error) {
		c.state.SetCode(feed, feedCode(answer, updatedAt), tracing.CodeChangeUnspecified)
		return c.callTuples(inferWithFeedsSig, feedsType, signal, []byte{0, byte(amm)}, []feedArg{{feed, 0, maxAge}})
	}

	// $100.00000000 is q = -128 + RoundShift(1e10 * 10995, 40) = -28.
	for _, tc := range []struct {
		answer int64
		amm    int8
		want   []int8
	}{
		{100_00000000, -28, []int8{2, 0, 0}},  // same price: hold
		{100_00000000, -31, []int8{2, 3, -3}}, // AMM $3 cheaper: buy
		{100_00000000, -25, []int8{2, -3, 3}}, // AMM $3 dearer: sell
		{102_49000000, -28, []int8{2, 2, -2}}, // $2.49 rounds to 2 steps: hold (tie)
		{0, -128, []int8{2, 0, 0}},
		{1_000_00000000, 127, []int8{2, 0, 0}}, // $1000 clamps to 127
	} {
		out, err := inferWithFeeds(tc.answer, now-10, tc.amm, 300)
		if err != nil {
			t.Fatalf("answer %d: %v %x", tc.answer, err, out)
		}
		if got := []int8{int8(out[0]), int8(out[1]), int8(out[2])}; fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("answer %d amm %d: logits %v, want %v", tc.answer, tc.amm, got, tc.want)
		}
	}
	// The caller's 300 s and the model's 3600 s.
	ret, err := inferWithFeeds(100_00000000, now-301, -28, 300)
	c.wantError(ret, err, "StaleInput(uint256,uint64,uint64,uint64)")
	ret, err = inferWithFeeds(100_00000000, now-3601, -28, 1<<40)
	c.wantError(ret, err, "StaleInput(uint256,uint64,uint64,uint64)")
	ret, err = inferWithFeeds(100_00000000, now+1, -28, 300)
	c.wantError(ret, err, "FutureInput(uint256,uint64,uint64)")
	ret, err = c.call(stranger, params.InferencePrecompileAddress, inferCall(signal, []byte{0, 0}))
	c.wantError(ret, err, "MissingFreshness(uint256)")

	// The fraud model: the risk score (element 3) must be stamped.
	ret, err = c.call(stranger, params.InferencePrecompileAddress, inferCall(fraud, []byte{10, 0, 0, 5}))
	c.wantError(ret, err, "MissingFreshness(uint256)")
	stamp := func(features []byte, observedAt uint64) ([]byte, error) {
		return c.callTuples(inferFreshSig, stampsType, fraud, features, []stampArg{{3, observedAt, 86400}})
	}
	if out, err := stamp([]byte{10, 0, 0, 5}, now-60); err != nil || !bytes.Equal(out, []byte{0, byte(clamp8(10 + 10 - 200))}) {
		t.Errorf("ok transfer: %x %v", out, err)
	}
	if out, err := stamp([]byte{127, 127, 0, 0}, now-60); err != nil || int8(out[1]) <= 0 {
		t.Errorf("fraud transfer: %x %v", out, err)
	}
	ret, err = stamp([]byte{10, 0, 0, 5}, now-86401)
	c.wantError(ret, err, "StaleInput(uint256,uint64,uint64,uint64)")
}

// The extremes MockInference's test_QuantizeFeedAtTheExtremes asserts, on
// the real precompile: int256's ends times int32's largest multiplier,
// shifted by 255, into an int32 element.
func TestFeedQuantizationExtremes(t *testing.T) {
	p, err := modeltext.Parse(`
input x: int32[1]
y: int32[1] = Clamp(x) min=-2147483648 max=2147483647
output y
fresh element=0 maxAge=60 feedMultiplier=2147483647 feedShift=255
`)
	if err != nil {
		t.Fatal(err)
	}
	c := newChain(t, contracts.RegistryGenesis{})
	chunk := c.registry(stranger, "upload", p.Bytes)[0].(common.Address)
	id := common.Hash(c.registry(stranger, "register", []common.Address{chunk}, "")[0].([32]byte))
	feed := common.HexToAddress("0x00000000000000000000000000000000000feed1")
	maxInt := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(1))
	minInt := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 255))
	for _, tc := range []struct {
		answer *big.Int
		want   int32
	}{{maxInt, 2147483647}, {minInt, -2147483647}} {
		code := feedCode(0, 1_700_000_000)
		copy(code[12+32:12+64], math256(tc.answer))
		c.state.SetCode(feed, code, tracing.CodeChangeUnspecified)
		b, err := c.callTuples(inferWithFeedsSig, feedsType, id, make([]byte, 4), []feedArg{{feed, 0, 60}})
		if err != nil {
			t.Fatalf("answer %s: %v %x", tc.answer, err, b)
		}
		if got := int32(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24); got != tc.want {
			t.Errorf("answer %s: element %d, want %d", tc.answer, got, tc.want)
		}
	}
}

// math256 is v as a 32-byte two's complement word.
func math256(v *big.Int) []byte {
	if v.Sign() >= 0 {
		return common.BigToHash(v).Bytes()
	}
	return common.BigToHash(new(big.Int).Add(v, new(big.Int).Lsh(big.NewInt(1), 256))).Bytes()
}
