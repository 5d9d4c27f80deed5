package vm

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"

	"github.com/infergeth/infergeth/inference/runtime"
)

// ErrNodeFault is runtime.ErrNodeFault: this node could not compute a
// result that every node must agree on. Every error the executor and the
// builder return for such a fault matches it (errors.Is); a consensus
// engine that sees it stops instead of committing, rejecting or voting.
var ErrNodeFault = runtime.ErrNodeFault

// NodeFault is a node fault with where it happened: what an operator needs
// to find the broken part (ARCHITECTURE.md decision 4). It matches
// ErrNodeFault.
type NodeFault struct {
	Block   uint64
	Tx      common.Hash // zero outside a block's transaction (eth_call, a system call)
	Model   common.Hash
	Backend string // the backend the model was prepared on; Err says what each fallback did
	Err     error
}

func (f *NodeFault) Error() string {
	cause := "unknown cause"
	if f.Err != nil {
		cause = strings.TrimPrefix(f.Err.Error(), ErrNodeFault.Error()+": ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v at block %d", ErrNodeFault, f.Block)
	if f.Tx != (common.Hash{}) {
		fmt.Fprintf(&b, ", tx %s", f.Tx.Hex())
	}
	fmt.Fprintf(&b, ", model %s, backend %s: %s", f.Model.Hex(), f.Backend, cause)
	return b.String()
}

// Is makes every NodeFault match ErrNodeFault.
func (f *NodeFault) Is(target error) bool { return target == ErrNodeFault }

func (f *NodeFault) Unwrap() error { return f.Err }

// InTx is f attributed to transaction tx of block.
func (f *NodeFault) InTx(block uint64, tx common.Hash) *NodeFault {
	c := *f
	c.Block, c.Tx = block, tx
	return &c
}

// LogAttrs are f's fields for a log line.
func (f *NodeFault) LogAttrs() []any {
	return []any{"block", f.Block, "tx", f.Tx.Hex(), "model", f.Model.Hex(), "backend", f.Backend, "err", f.Err}
}

// FaultSlot holds the first node fault of one EVM's execution. The factory
// makes one per EVM and binds it to that EVM's precompiles; whoever runs
// the EVM (the executor for a block, the RPC for an eth_call) reads it. A
// fault thus belongs to the execution that hit it: a call that faults on
// another goroutine can never be blamed on a block, and nothing node-wide
// decides what a block is. A nil slot records nothing.
type FaultSlot struct {
	first atomic.Pointer[NodeFault]
}

// Record keeps f unless a fault was recorded already.
func (s *FaultSlot) Record(f *NodeFault) {
	if s != nil && f != nil {
		s.first.CompareAndSwap(nil, f)
	}
}

// Fault is the first fault recorded, or nil.
func (s *FaultSlot) Fault() *NodeFault {
	if s == nil {
		return nil
	}
	return s.first.Load()
}
