package dev

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

const faultInput = 0xFA

// brokenInference stands for the inference precompile on a node whose
// backends all fail: a call with input faultInput (every call, with
// faultAll) is a node fault on backend "fake-gpu" for model fakeModel.
type brokenInference struct {
	faultAll bool
}

var fakeModel = common.HexToHash("0x5eed")

func (p *brokenInference) Address() common.Address { return common.HexToAddress("0x0bad") }
func (p *brokenInference) Active(uint64) bool      { return true }
func (p *brokenInference) Bind(evm *gethvm.EVM, faults *vm.FaultSlot) gethvm.PrecompiledContract {
	return brokenContract{p, evm, faults}
}

type brokenContract struct {
	p      *brokenInference
	evm    *gethvm.EVM
	faults *vm.FaultSlot
}

func (c brokenContract) RequiredGas([]byte) uint64 { return 100 }
func (c brokenContract) Name() string              { return "BROKEN" }
func (c brokenContract) Run(input []byte) ([]byte, error) {
	if c.p.faultAll || (len(input) > 0 && input[0] == faultInput) {
		f := &vm.NodeFault{Block: c.evm.Context.BlockNumber.Uint64(), Model: fakeModel, Backend: "fake-gpu", Err: errors.New("device lost")}
		c.faults.Record(f)
		return nil, f
	}
	return []byte{1}, nil
}

func (f *fixture) callBroken(nonce uint64, input ...byte) *types.Transaction {
	to := (&brokenInference{}).Address()
	return f.key.sign(types.NewTx(&types.DynamicFeeTx{
		ChainID: big.NewInt(int64(params.DevnetChainID)), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9),
		Gas: 100_000, To: &to, Data: input,
	}))
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// checkFaultLog: the log names the block, the transaction, the model and
// the backend of the fault.
func checkFaultLog(t *testing.T, log string, block uint64, tx common.Hash) {
	t.Helper()
	for _, want := range []string{"block=" + big.NewInt(int64(block)).String(), "tx=" + tx.Hex(), "model=" + fakeModel.Hex(), "backend=fake-gpu"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// TestNodeFaultHaltsSequencer: a block whose execution hits a node fault
// is not committed, the sequencer logs where it happened and produces
// nothing more, and every later attempt says why.
func TestNodeFaultHaltsSequencer(t *testing.T) {
	ctx := context.Background()
	logs := &syncBuffer{}
	f := newFixtureWith(t, 0, vm.NewFactory(&brokenInference{}), slog.New(slog.NewTextHandler(logs, nil)))
	if err := f.seq.Submit(ctx, f.callBroken(0, 0x01)); err != nil {
		t.Fatalf("healthy call: %v", err)
	}
	faulty := f.callBroken(1, faultInput)
	err := f.seq.Submit(ctx, faulty)
	if !errors.Is(err, vm.ErrNodeFault) {
		t.Fatalf("Submit: %v, want a node fault", err)
	}
	if head, _ := f.chain.Head(); head.NumberU64() != 1 {
		t.Fatalf("head %d after the fault, want 1", head.NumberU64())
	}
	checkFaultLog(t, logs.String(), 2, faulty.Hash())

	// Halted: nothing more is produced, even a plain transfer.
	if err := f.seq.Submit(ctx, f.transfer(1)); !errors.Is(err, vm.ErrNodeFault) {
		t.Fatalf("Submit after the fault: %v, want the halt", err)
	}
	if _, err := f.seq.Mine(ctx, nil); !errors.Is(err, vm.ErrNodeFault) {
		t.Fatalf("Mine after the fault: %v, want the halt", err)
	}
	if head, _ := f.chain.Head(); head.NumberU64() != 1 {
		t.Fatalf("head %d after the halt, want 1", head.NumberU64())
	}
}

// TestImportNodeFaultHalts: a valid block that this node cannot execute
// because of a local fault is neither committed nor judged invalid; the
// node stops importing.
func TestImportNodeFaultHalts(t *testing.T) {
	ctx := context.Background()
	producer := newFixtureWith(t, 0, vm.NewFactory(&brokenInference{}), nil)
	tx := producer.callBroken(0, 0x01)
	if err := producer.seq.Submit(ctx, tx); err != nil {
		t.Fatal(err)
	}
	block, _ := producer.chain.Head()

	logs := &syncBuffer{}
	importer := newFixtureWith(t, 0, vm.NewFactory(&brokenInference{faultAll: true}), slog.New(slog.NewTextHandler(logs, nil)))
	genesis, _ := importer.chain.Head()
	err := importer.seq.Import(ctx, block)
	if !errors.Is(err, vm.ErrNodeFault) || errors.Is(err, core.ErrInvalidBlock) {
		t.Fatalf("Import: %v, want a node fault and no verdict on the block", err)
	}
	if head, _ := importer.chain.Head(); head.Hash() != genesis.Hash() {
		t.Fatal("the block was committed")
	}
	checkFaultLog(t, logs.String(), 1, tx.Hash())
	if _, err := importer.seq.Mine(ctx, nil); !errors.Is(err, vm.ErrNodeFault) {
		t.Fatalf("Mine after the fault: %v, want the halt", err)
	}
}
