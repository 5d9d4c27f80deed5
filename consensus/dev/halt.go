package dev

import (
	"errors"
	"fmt"

	"github.com/infergeth/infergeth/vm"
)

// ErrHalted is what every later attempt to produce or import a block gets
// once the sequencer has stopped on a node fault.
var ErrHalted = errors.New("sequencer halted after a node fault; restart the node on working hardware")

// Halted is the error that stopped the sequencer, or nil while it runs.
func (s *Sequencer) Halted() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.halted
}

// haltLocked stops block production and import for good: this node could
// not compute a block (a node fault: a backend failed and every fallback
// failed too), so it neither commits nor rejects it, whatever the block
// holds (ARCHITECTURE.md decision 4). The log names the block, the
// transaction, the model and the backend. The chain stays readable over
// RPC, and eth_call keeps working where the hardware does.
func (s *Sequencer) haltLocked(doing string, fault error) error {
	s.halted = fmt.Errorf("%w: %w", ErrHalted, fault)
	attrs := []any{"err", fault}
	var f *vm.NodeFault
	if errors.As(fault, &f) {
		attrs = f.LogAttrs()
	}
	s.log.Error("node fault: stopped "+doing+" blocks; no block was committed or rejected because of it", attrs...)
	return s.halted
}
