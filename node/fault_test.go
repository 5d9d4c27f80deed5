package node

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethvm "github.com/ethereum/go-ethereum/core/vm"

	"github.com/infergeth/infergeth/vm"
)

const faultInput = 0xFA

// gatedFault stands for the inference precompile on a node whose backends
// fail for some calls: input faultInput is a node fault; input 0x01 (the
// block's transaction) tells entered and waits for release.
type gatedFault struct {
	entered, release chan struct{}
}

func (p *gatedFault) Address() common.Address { return common.HexToAddress("0x0bad") }
func (p *gatedFault) Active(uint64) bool      { return true }
func (p *gatedFault) Bind(evm *gethvm.EVM, faults *vm.FaultSlot) gethvm.PrecompiledContract {
	return gatedContract{p, evm, faults}
}

type gatedContract struct {
	p      *gatedFault
	evm    *gethvm.EVM
	faults *vm.FaultSlot
}

func (c gatedContract) RequiredGas([]byte) uint64 { return 100 }
func (c gatedContract) Name() string              { return "GATED" }
func (c gatedContract) Run(input []byte) ([]byte, error) {
	switch {
	case len(input) > 0 && input[0] == faultInput:
		// Recorded, and then succeeding as far as the EVM can tell, as a
		// contract that caught the failed call would: the RPC must still
		// answer with the fault, not with what the contract made of it.
		c.faults.Record(&vm.NodeFault{Block: c.evm.Context.BlockNumber.Uint64(), Backend: "fake-gpu", Err: errors.New("device lost")})
		return []byte{1}, nil
	case len(input) > 0 && input[0] == 0x01:
		c.p.entered <- struct{}{}
		select {
		case <-c.p.release:
		case <-time.After(30 * time.Second):
		}
	}
	return []byte{1}, nil
}

// TestCallFaultDuringBlockThroughRPC: an eth_call that hits a node fault
// while the node is mining a transaction gets an error naming the fault,
// and the transaction is mined as if the call never happened.
func TestCallFaultDuringBlockThroughRPC(t *testing.T) {
	p := &gatedFault{entered: make(chan struct{}, 1), release: make(chan struct{})}
	tn := newTestNode(t, func(c *Config) { c.Factory = vm.NewFactory(p) })
	to := p.Address()
	tx := tn.signed(0, 0, &to, nil, 100_000, []byte{0x01})
	sent := make(chan error, 1)
	go func() { sent <- tn.sendRaw(tx) }()
	select {
	case <-p.entered:
	case err := <-sent:
		t.Fatalf("the transaction never reached the precompile: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the transaction never reached the precompile")
	}
	// The block's transaction is inside the precompile now.
	var out hexutil.Bytes
	err := tn.rpc.Call(&out, "eth_call", map[string]any{"to": to, "data": hexutil.Bytes{faultInput}}, "latest")
	close(p.release)
	if err == nil || !strings.Contains(err.Error(), "node fault") {
		t.Errorf("eth_call: %v, want an error naming the node fault", err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("send: %v; the call's fault was blamed on the block", err)
	}
	if r := tn.receipt(tx.Hash()); r == nil || r.Status != 1 {
		t.Fatalf("receipt %+v", r)
	}
}

// TestBlockFaultHaltsNodeThroughRPC: a transaction whose execution hits a
// node fault is not mined, the node stops making blocks and says so to
// later senders, and reads keep working.
func TestBlockFaultHaltsNodeThroughRPC(t *testing.T) {
	p := &gatedFault{entered: make(chan struct{}, 1), release: make(chan struct{})}
	tn := newTestNode(t, func(c *Config) { c.Factory = vm.NewFactory(p) })
	to := p.Address()
	err := tn.sendRaw(tn.signed(0, 0, &to, nil, 100_000, []byte{faultInput}))
	if err == nil || !strings.Contains(err.Error(), "node fault") {
		t.Fatalf("send: %v, want the node fault", err)
	}
	other := tn.addr(2)
	err = tn.sendRaw(tn.signed(1, 0, &other, big.NewInt(1), 21000, nil))
	if err == nil || !strings.Contains(err.Error(), "halted") {
		t.Fatalf("send after the fault: %v, want the halt", err)
	}
	var number hexutil.Uint64
	tn.call(&number, "eth_blockNumber")
	if number != 0 {
		t.Fatalf("block number %d after the fault, want 0", number)
	}
	var balance hexutil.Big
	tn.call(&balance, "eth_getBalance", tn.addr(1), "latest")
}
