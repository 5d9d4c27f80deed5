package vm

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/holiman/uint256"

	"github.com/infergeth/infergeth/inference/reference"
	"github.com/infergeth/infergeth/params"
)

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
