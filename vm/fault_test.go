package vm

import (
	"bytes"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/holiman/uint256"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
)

// failing is a backend whose Prepare or Run fails, or whose Run refuses
// every input as bad.
type failing struct {
	name         string
	prepareFails bool
	refuses      bool
}

func (f failing) Name() string { return f.name }
func (f failing) Prepare(*inference.Model) (inference.Program, error) {
	if f.prepareFails {
		panic("packing bug")
	}
	return f, nil
}
func (f failing) Run([]byte) ([]byte, error) {
	if f.refuses {
		return nil, inference.BadInput("refused")
	}
	return nil, errors.New("device lost")
}

func (c *testChain) evmWithFaults() (*gethvm.EVM, *FaultSlot) {
	ctx := gethvm.BlockContext{
		CanTransfer: core.CanTransfer, Transfer: core.Transfer,
		BlockNumber: big.NewInt(7), Time: c.now, GasLimit: 30_000_000,
		BaseFee: big.NewInt(0), Random: &common.Hash{}, Difficulty: big.NewInt(0),
	}
	return c.factory.NewEVMWithFaults(ctx, c.state, params.DevnetConfig(params.DevnetChainID).Ethereum, gethvm.Config{})
}

// TestNodeFaultStaysInItsEVM: a node fault is recorded in the slot of the
// EVM whose call hit it, with the block, model and backend, and in no
// other EVM's; the call fails without a revert (no verdict on the caller).
func TestNodeFaultStaysInItsEVM(t *testing.T) {
	raw, input, _ := loadVector(t, "mlp")
	for _, tc := range []struct {
		name    string
		chain   runtime.Chain
		backend string
	}{
		{"every backend fails", runtime.Chain{failing{name: "gpu"}, failing{name: "judge"}}, "gpu"},
		{"no backend can prepare", runtime.Chain{failing{name: "gpu", prepareFails: true}, failing{name: "judge", prepareFails: true}}, "gpu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestChain(t, tc.chain)
			id := c.register(raw)
			faulty, faults := c.evmWithFaults()
			other, otherFaults := c.evmWithFaults()
			ret, _, err := faulty.Call(caller, params.InferencePrecompileAddress, inferCall(id, input), gethvm.NewGasBudget(25_000_000, 0), new(uint256.Int))
			if err == nil || errors.Is(err, gethvm.ErrExecutionReverted) {
				t.Fatalf("call: %v %x, want a failure that is not a revert", err, ret)
			}
			f := faults.Fault()
			if f == nil {
				t.Fatal("no fault in the EVM's slot")
			}
			if f.Block != 7 || f.Model != id || f.Backend != tc.backend || !errors.Is(f, ErrNodeFault) {
				t.Fatalf("fault %+v", f)
			}
			if _, _, err := other.Call(caller, params.InferencePrecompileAddress, append(fnQuote[:], append(id.Bytes(), word(uint64(len(input)))...)...), gethvm.NewGasBudget(1_000_000, 0), new(uint256.Int)); err != nil {
				t.Fatalf("quote: %v", err)
			}
			if otherFaults.Fault() != nil {
				t.Fatalf("another EVM's slot holds %v", otherFaults.Fault())
			}
		})
	}
}

// TestRefusalByAcceleratedBackendIsNotAVerdict: a backend other than the
// reference that refuses an input does not make the call revert; the
// reference decides, and here computes the vector's output.
func TestRefusalByAcceleratedBackendIsNotAVerdict(t *testing.T) {
	raw, input, want := loadVector(t, "mlp")
	c := newTestChain(t, runtime.Chain{failing{name: "cpu", refuses: true}, reference.Backend{}})
	id := c.register(raw)
	evm, faults := c.evmWithFaults()
	ret, _, err := evm.Call(caller, params.InferencePrecompileAddress, inferCall(id, input), gethvm.NewGasBudget(25_000_000, 0), new(uint256.Int))
	if err != nil {
		t.Fatalf("call: %v %x", err, ret)
	}
	if got := decodeBytesResult(t, ret); !bytes.Equal(got, want) {
		t.Fatalf("output %x, want %x", got, want)
	}
	if faults.Fault() != nil {
		t.Fatalf("fault %v", faults.Fault())
	}
}
