package reference

import (
	"fmt"

	"github.com/infergeth/infergeth/inference"
)

// Backend is the reference backend.
type Backend struct{}

// Name implements inference.Backend.
func (Backend) Name() string { return "reference" }

// Prepare implements inference.Backend.
func (Backend) Prepare(m *inference.Model) (inference.Program, error) {
	return NewProgram(m, nil)
}

// NodeFunc computes one node: in holds the operands' bytes, out is the
// output's buffer, zeroed, of exactly the output's size.
type NodeFunc func(in [][]byte, out []byte) error

// Program runs a graph node by node. Other backends reuse it and replace
// the nodes they accelerate.
type Program struct {
	m     *inference.Model
	funcs []NodeFunc
	last  []int // last[t]: index of the last node that reads tensor t
}

// NewProgram prepares m. overrides, if not nil, has one entry per node: a
// non-nil entry replaces the reference implementation of that node.
func NewProgram(m *inference.Model, overrides []NodeFunc) (*Program, error) {
	if overrides != nil && len(overrides) != len(m.Nodes) {
		return nil, fmt.Errorf("reference: %d overrides for %d nodes", len(overrides), len(m.Nodes))
	}
	p := &Program{m: m, funcs: make([]NodeFunc, len(m.Nodes)), last: make([]int, len(m.Tensors))}
	for i := range m.Nodes {
		if overrides != nil && overrides[i] != nil {
			p.funcs[i] = overrides[i]
			continue
		}
		f, err := Compile(m, i)
		if err != nil {
			return nil, err
		}
		p.funcs[i] = f
	}
	for i := range p.last {
		p.last[i] = -1
	}
	for i := range m.Nodes {
		for _, t := range m.Nodes[i].Inputs {
			p.last[t] = i
		}
	}
	for _, t := range m.Outputs {
		p.last[t] = len(m.Nodes)
	}
	return p, nil
}

// nodeHeldBytes bounds what one compiled node keeps besides the program's
// tables (its closure, a few strides), and softmaxTableBytes is Softmax's
// 256-entry exponent table, the one larger compile-time table.
const (
	nodeHeldBytes     = 256
	softmaxTableBytes = 256 * 8
)

// HeldBytes implements inference.Holder: the program's own tables and a
// bound on each node's closure and compile-time tables. What an override
// keeps beyond that (packed weights) is counted by whoever made it: the
// backend whose program embeds this one.
func (p *Program) HeldBytes() int {
	n := 8*(len(p.funcs)+len(p.last)) + nodeHeldBytes*len(p.funcs)
	for i := range p.m.Nodes {
		if p.m.Nodes[i].Op == inference.OpSoftmax {
			n += softmaxTableBytes
		}
	}
	return n
}

// Model is the model the program runs.
func (p *Program) Model() *inference.Model { return p.m }

// Run implements inference.Program.
func (p *Program) Run(input []byte) ([]byte, error) {
	m := p.m
	if want := m.InputBytes(); len(input) != want {
		return nil, inference.BadInput("input is %d bytes; the model takes %d", len(input), want)
	}
	vals := make([][]byte, len(m.Tensors))
	for i := range m.Tensors {
		if m.Tensors[i].Kind == inference.Constant {
			vals[i] = m.Tensors[i].Data
		}
	}
	off := 0
	for _, t := range m.Inputs {
		n := m.Tensors[t].Bytes()
		vals[t] = input[off : off+n : off+n]
		off += n
	}
	in := make([][]byte, 0, 16)
	for i := range m.Nodes {
		n := &m.Nodes[i]
		in = in[:0]
		for _, t := range n.Inputs {
			in = append(in, vals[t])
		}
		out := make([]byte, m.Tensors[n.Output].Bytes())
		if err := p.funcs[i](in, out); err != nil {
			return nil, fmt.Errorf("node %d (%s): %w", i, n.Op, err)
		}
		vals[n.Output] = out
		// Drop activations after their last use: memory stays within the
		// peak that validation bounded.
		for _, t := range n.Inputs {
			if p.last[t] == i && m.Tensors[t].Kind == inference.Activation {
				vals[t] = nil
			}
		}
	}
	result := make([]byte, 0, m.OutputBytes())
	for _, t := range m.Outputs {
		result = append(result, vals[t]...)
	}
	return result, nil
}

// Compile returns the reference implementation of node i of a valid model.
func Compile(m *inference.Model, i int) (NodeFunc, error) {
	n := &m.Nodes[i]
	ts := make([]*inference.Tensor, len(n.Inputs))
	for k, t := range n.Inputs {
		ts[k] = &m.Tensors[t]
	}
	out := &m.Tensors[n.Output]
	switch a := n.Attrs.(type) {
	case *inference.FullyConnectedAttrs:
		return fullyConnected(ts, out, a), nil
	case *inference.Conv2DAttrs:
		return conv2D(ts, out, a), nil
	case *inference.DepthwiseConv2DAttrs:
		return depthwiseConv2D(ts, out, a), nil
	case *inference.MatMulAttrs:
		return matMul(ts, out, a), nil
	case *inference.AddAttrs:
		return add(ts, out, a), nil
	case *inference.MulAttrs:
		return mul(ts, out, a), nil
	case *inference.RequantizeAttrs:
		return requantize(ts, out, a), nil
	case *inference.ClampAttrs:
		return clamp(ts, out, a), nil
	case *inference.Pool2DAttrs:
		if n.Op == inference.OpMaxPool2D {
			return maxPool2D(ts, out, a), nil
		}
		return avgPool2D(ts, out, a), nil
	case *inference.MeanAttrs:
		return mean(ts, out, a), nil
	case *inference.TransposeAttrs:
		return transpose(ts, out, a), nil
	case *inference.ConcatAttrs:
		return concat(ts, out, a), nil
	case *inference.ArgMaxAttrs:
		return argMax(ts, out, a), nil
	case *inference.SoftmaxAttrs:
		return softmax(ts, out, a), nil
	case *inference.NormAttrs:
		return norm(ts, out, a, n.Op == inference.OpRMSNorm), nil
	case *inference.NoAttrs:
		switch n.Op {
		case inference.OpLookup:
			return lookup(ts, out), nil
		case inference.OpReshape:
			return reshape(), nil
		case inference.OpGather:
			return gather(ts, out), nil
		}
	}
	return nil, fmt.Errorf("reference: node %d: no implementation of %s", i, n.Op)
}
