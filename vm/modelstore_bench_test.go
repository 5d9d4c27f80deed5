package vm

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/holiman/uint256"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
)

// largeModel is a FullyConnected 1×4096→4000 model: 16 MB of weights, the
// largest the format allows, as gascal's "first call" shape.
func largeModel(b *testing.B) []byte {
	b.Helper()
	bl := &inference.Builder{}
	const k, n = 4096, 4000
	x := bl.Input(inference.Spec{DType: inference.Int8, Shape: []int{1, k}})
	fill := func(c int, v int64) []int64 {
		out := make([]int64, c)
		for i := range out {
			out[i] = v
		}
		return out
	}
	w := make([]int64, k*n)
	for i := range w {
		w[i] = int64(i%255) - 127
	}
	wt := bl.Const(inference.Int8, 0, []int{n, k}, w)
	bias := bl.Const(inference.Int32, 0, []int{n}, fill(n, 0))
	mult := bl.Const(inference.Int32, 0, []int{n}, fill(n, 1<<30))
	shift := bl.Const(inference.Int8, 0, []int{n}, fill(n, 45))
	bl.Output(bl.Node(inference.OpFullyConnected, &inference.FullyConnectedAttrs{QMin: -128, QMax: 127},
		inference.Spec{DType: inference.Int8, Shape: []int{1, n}}, x, wt, bias, mult, shift))
	_, raw, err := bl.Build()
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// benchInfer calls the 16 MB model through the precompile, with a new cache
// before every call when cold (a first call: read the chunks from state,
// decode, validate, prepare, run) or one cache throughout (a hit: find the
// chunks and their code hashes, run). ns/gas is what gascal compares with
// ecrecover's (about 25 ns/gas on the machines of docs/benchmarks.md).
func benchInfer(b *testing.B, cold bool) {
	raw := largeModel(b)
	backend, err := runtime.Select("auto")
	if err != nil {
		b.Fatal(err)
	}
	c := newTestChain(b, backend)
	id := c.register(raw)
	data := inferCall(id, make([]byte, 4096))
	fresh := func() {
		pre, err := NewInference(params.DevnetConfig(params.DevnetChainID), InferenceOptions{Cache: runtime.NewCache(backend, 1<<30, nil)})
		if err != nil {
			b.Fatal(err)
		}
		c.pre, c.factory = pre, NewFactory(pre)
	}
	fresh()
	_, gas, err := c.call(data, false)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for range b.N {
		if cold {
			b.StopTimer()
			fresh()
			b.StartTimer()
		}
		if _, _, err := c.call(data, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(gas), "ns/gas")
}

func BenchmarkInfer16MBCold(b *testing.B) { benchInfer(b, true) }
func BenchmarkInfer16MBWarm(b *testing.B) { benchInfer(b, false) }

// BenchmarkKeccak16MB is what verifying a model's ID on every cold load
// would add to BenchmarkInfer16MBCold: the reason the cache keys entries by
// the chunks' code hashes, which the state already holds, instead.
func BenchmarkKeccak16MB(b *testing.B) {
	raw := largeModel(b)
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for range b.N {
		inference.ID(raw)
	}
}

// BenchmarkManyChunks calls a tiny model listed in the most chunks a model
// may have (MaxModelChunks, all but one empty: validate() accepts that) from
// a state committed to a database and reopened for every call, as a node
// does per block and per eth_call, so that finding the chunks' code hashes
// reads every chunk account from the database. ecrecover is called the same
// way beside it: compare their ns/gas.
func BenchmarkManyChunks(b *testing.B) {
	rawA, _ := twinModels(b)
	c := newTestChain(b, reference.Backend{})
	id := c.register(rawA)
	c.relist(id, MaxModelChunks-1)
	c.state.SetNonce(params.ModelRegistryAddress, 1, tracing.NonceChangeUnspecified) // not empty: kept by the commit
	cfg := params.DevnetConfig(params.DevnetChainID).Ethereum
	root, err := c.state.Commit(cfg.Rules(big.NewInt(0), true, 0), 0)
	if err != nil {
		b.Fatal(err)
	}
	db := c.state.Database()
	input := []byte{100, 156, 7, 0}
	for _, tc := range []struct {
		name string
		to   common.Address
		data []byte
	}{
		{"infer", params.InferencePrecompileAddress, inferCall(id, input)},
		{"ecrecover", common.BytesToAddress([]byte{1}), make([]byte, 128)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var gas uint64
			for range b.N {
				st, err := state.New(root, db)
				if err != nil {
					b.Fatal(err)
				}
				c.state = st
				const budget = 25_000_000
				ret, left, err := c.evm().Call(caller, tc.to, tc.data, gethvm.NewGasBudget(budget, 0), new(uint256.Int))
				if err != nil {
					b.Fatalf("%v %q", err, ret)
				}
				gas = budget - left.ExecutionGas
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(gas), "ns/gas")
		})
	}
}
