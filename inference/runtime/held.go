package runtime

import (
	"unsafe"

	"github.com/infergeth/infergeth/inference"
)

// HeldBytes is the memory the prepared model keeps while it lives: the
// decoded model (its constants and tables) and what each of its programs
// keeps (inference.Holder: packed weights, folded constants, tables). A
// program that cannot say is counted as keeping a copy of every constant.
// Transient buffers of a Run are not counted: they are bounded per call
// (params.MaxPeakActivationBytes) and returned after it.
func (p *Prepared) HeldBytes() int {
	return modelBytes(p.Model) + p.run.heldBytes()
}

// heldBytes is what the chain's programs keep. A fallback is prepared only
// when a call first needs it (guard.go), so an entry's memory would grow
// after it was counted; each stage not yet prepared is counted as if it
// were, as keeping a copy of every constant, so the figure the cache
// charges is a bound from the start.
func (c *chainProgram) heldBytes() int {
	n := 0
	for _, s := range c.stages {
		if prog := s.prepared(); prog != nil {
			n += programBytes(prog, c.model)
		} else {
			n += constantBytes(c.model)
		}
	}
	return n
}

// modelBytes is what a decoded model keeps: its constants' data and its
// tensor and node tables.
func modelBytes(m *inference.Model) int {
	n := int(unsafe.Sizeof(*m)) + constantBytes(m)
	for i := range m.Tensors {
		n += int(unsafe.Sizeof(m.Tensors[i])) + 8*len(m.Tensors[i].Shape)
	}
	for i := range m.Nodes {
		// The node, its operand list and its attributes (a few words).
		n += int(unsafe.Sizeof(m.Nodes[i])) + 8*len(m.Nodes[i].Inputs) + 64
	}
	return n + 16*len(m.Freshness)
}

func constantBytes(m *inference.Model) int {
	n := 0
	for i := range m.Tensors {
		if m.Tensors[i].Kind == inference.Constant {
			n += len(m.Tensors[i].Data)
		}
	}
	return n
}

func programBytes(prog inference.Program, m *inference.Model) int {
	if h, ok := prog.(inference.Holder); ok {
		return h.HeldBytes()
	}
	return constantBytes(m)
}
