package core

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// faultInput is the call input on which a faultSwitch suffers a node fault.
const faultInput = 0xFA

// faultSwitch is a precompile that stands for the inference precompile on
// a node with broken hardware: a call whose input starts with faultInput
// (or every call, with faultAll) is a node fault; others succeed. It
// records the inputs it ran, and calls during(input) while it runs one.
type faultSwitch struct {
	faultAll bool
	during   func(input []byte)

	mu  sync.Mutex
	ran [][]byte
}

// switchModel is the model a faultSwitch's faults name.
var switchModel = common.HexToHash("0x5eed")

func (p *faultSwitch) Address() common.Address { return common.HexToAddress("0x0bad") }
func (p *faultSwitch) Active(uint64) bool      { return true }
func (p *faultSwitch) Bind(evm *gethvm.EVM, faults *vm.FaultSlot) gethvm.PrecompiledContract {
	return faultSwitchContract{p, evm, faults}
}

func (p *faultSwitch) inputs() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.ran...)
}

type faultSwitchContract struct {
	p      *faultSwitch
	evm    *gethvm.EVM
	faults *vm.FaultSlot
}

func (c faultSwitchContract) RequiredGas([]byte) uint64 { return 100 }
func (c faultSwitchContract) Name() string              { return "FAULTSWITCH" }
func (c faultSwitchContract) Run(input []byte) ([]byte, error) {
	c.p.mu.Lock()
	c.p.ran = append(c.p.ran, append([]byte(nil), input...))
	c.p.mu.Unlock()
	if c.p.during != nil {
		c.p.during(input)
	}
	if c.p.faultAll || (len(input) > 0 && input[0] == faultInput) {
		f := &vm.NodeFault{Block: c.evm.Context.BlockNumber.Uint64(), Model: switchModel, Backend: "fake-gpu", Err: errors.New("device lost")}
		c.faults.Record(f)
		return nil, f
	}
	return []byte{1}, nil
}

// callSwitch is a transaction from testKey calling the faultSwitch with input.
func callSwitch(t *testing.T, c *Chain, nonce uint64, input ...byte) *types.Transaction {
	t.Helper()
	return callSwitchFrom(t, c, testKey, 1, nonce, input...)
}

func callSwitchFrom(t *testing.T, c *Chain, key *ecdsa.PrivateKey, tip int64, nonce uint64, input ...byte) *types.Transaction {
	t.Helper()
	to := (&faultSwitch{}).Address()
	tx, err := types.SignNewTx(key, types.LatestSigner(c.Config().Ethereum), &types.DynamicFeeTx{
		ChainID: c.Config().ChainID(), Nonce: nonce, GasTipCap: big.NewInt(tip), GasFeeCap: big.NewInt(2e9), Gas: 100_000, To: &to, Data: input,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// TestCallFaultDoesNotFailUnrelatedBlock: a node fault hit by an eth_call
// running on another goroutine while a block transaction executes belongs
// to that call alone; the block is built as if the call never happened.
func TestCallFaultDoesNotFailUnrelatedBlock(t *testing.T) {
	c := openTestChain(t, rawdb.NewMemoryDatabase())
	p := &faultSwitch{}
	exec := NewExecutor(c.Config(), vm.NewFactory(p), c, c.Senders())
	head, root := c.Head()
	// While the block's transaction runs the precompile, an eth_call on
	// the head state hits a node fault in its own EVM.
	var (
		callErr    error
		callFaults *vm.FaultSlot
	)
	p.during = func(input []byte) {
		if input[0] != 0x01 {
			return
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			st, err := c.StateAt(root)
			if err != nil {
				callErr = err
				return
			}
			var evm *gethvm.EVM
			evm, callFaults = exec.NewEVMWithFaults(exec.BlockContext(head.Header()), st, gethvm.Config{NoBaseFee: true})
			_, _, callErr = evm.Call(common.Address{}, p.Address(), []byte{faultInput}, gethvm.NewGasBudget(1_000_000, 0), new(uint256.Int))
		}()
		<-done
	}
	tx := callSwitch(t, c, 0, 0x01)
	built, err := NewBuilder(c, exec).Build(context.Background(), BuildAttrs{Timestamp: head.Time() + 1}, []*types.Transaction{tx}, nil)
	if err != nil {
		t.Fatalf("Build: %v; the eth_call's fault was blamed on the block", err)
	}
	if callErr == nil {
		t.Fatal("the eth_call did not fail on its fault")
	}
	// The call's own EVM holds its fault.
	if f := callFaults.Fault(); f == nil || f.Model != switchModel || f.Backend != "fake-gpu" {
		t.Fatalf("the call's fault slot holds %v", f)
	}
	if len(built.Receipts) != 1 || built.Receipts[0].Status != types.ReceiptStatusSuccessful {
		t.Fatalf("receipts %+v, refused %v", built.Receipts, built.Refused)
	}
}

// TestProcessNodeFaultIsNotInvalidBlock: a node that cannot compute a
// block's inference refuses to finish it with a node fault, never with a
// verdict that the block is invalid.
func TestProcessNodeFaultIsNotInvalidBlock(t *testing.T) {
	producer := openTestChain(t, rawdb.NewMemoryDatabase())
	exec := NewExecutor(producer.Config(), vm.NewFactory(&faultSwitch{}), producer, producer.Senders())
	head, _ := producer.Head()
	tx := callSwitch(t, producer, 0, 0x01)
	built, err := NewBuilder(producer, exec).Build(context.Background(), BuildAttrs{Timestamp: head.Time() + 1}, []*types.Transaction{tx}, nil)
	if err != nil || len(built.Block.Transactions()) != 1 {
		t.Fatalf("Build: %v, %d txs", err, len(built.Block.Transactions()))
	}

	broken := openTestChain(t, rawdb.NewMemoryDatabase())
	exec = NewExecutor(broken.Config(), vm.NewFactory(&faultSwitch{faultAll: true}), broken, broken.Senders())
	_, root := broken.Head()
	st, _ := broken.StateAt(root)
	_, _, err = exec.Process(context.Background(), built.Block, st)
	if !errors.Is(err, vm.ErrNodeFault) {
		t.Fatalf("Process: %v, want a node fault", err)
	}
	if errors.Is(err, ErrInvalidBlock) {
		t.Fatalf("Process: %v: a local fault judged the block invalid", err)
	}
	var f *vm.NodeFault
	if !errors.As(err, &f) || f.Block != 1 || f.Tx != tx.Hash() || f.Model != switchModel || f.Backend != "fake-gpu" {
		t.Fatalf("Process: %v does not name the block, tx, model and backend", err)
	}
}

// TestBuilderStopsAfterFault: once a transaction hits a node fault the
// builder executes nothing more, forced or from the pool, and returns the
// fault instead of a block.
func TestBuilderStopsAfterFault(t *testing.T) {
	otherKey, _ := crypto.GenerateKey()
	for _, forced := range []bool{false, true} {
		config := params.DevnetConfig(31337)
		spec := testGenesisSpec(config)
		spec.Funded = append(spec.Funded, crypto.PubkeyToAddress(otherKey.PublicKey))
		g, err := spec.Genesis()
		if err != nil {
			t.Fatal(err)
		}
		c, err := OpenChain(rawdb.NewMemoryDatabase(), config, g, false)
		if err != nil {
			t.Fatal(err)
		}
		p := &faultSwitch{}
		exec := NewExecutor(c.Config(), vm.NewFactory(p), c, c.Senders())
		pool, err := NewPool(c)
		if err != nil {
			t.Fatal(err)
		}
		// By price and nonce: testKey's two, then the other sender's.
		txs := []*types.Transaction{
			callSwitchFrom(t, c, testKey, 3, 0, 0x10), callSwitchFrom(t, c, testKey, 3, 1, faultInput),
			callSwitchFrom(t, c, otherKey, 1, 0, 0x30),
		}
		var force []*types.Transaction
		if forced {
			force = txs
		} else {
			for _, tx := range txs {
				if err := pool.Add(tx); err != nil {
					t.Fatal(err)
				}
			}
		}
		head, _ := c.Head()
		_, err = NewBuilder(c, exec).Build(context.Background(), BuildAttrs{Timestamp: head.Time() + 1}, force, pool)
		pool.Close()
		var f *vm.NodeFault
		if !errors.As(err, &f) || !errors.Is(err, vm.ErrNodeFault) || f.Tx != txs[1].Hash() || f.Block != 1 {
			t.Fatalf("forced=%v: Build: %v, want the node fault of tx %x", forced, err, txs[1].Hash())
		}
		if ran := p.inputs(); len(ran) != 2 || ran[1][0] != faultInput {
			t.Fatalf("forced=%v: the precompile ran %x; the builder went on after the fault", forced, ran)
		}
		if after, _ := c.Head(); after.Hash() != head.Hash() {
			t.Fatalf("forced=%v: the head moved", forced)
		}
	}
}
