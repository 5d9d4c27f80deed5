package onnx

import (
	"fmt"

	"github.com/infergeth/infergeth/inference"
)

// engineGraph is the converted graph under construction. It is a thin
// layer over inference.Builder that can drop what nothing uses (a lazily
// materialised layout nobody read, say) before building, so the model
// holds only nodes that contribute to an output.
type engineGraph struct {
	tensors []irTensor
	nodes   []irNode
	inputs  []int
	outputs []int
	memo    map[string]int // materialisations already emitted, by key
	// reshapedFrom maps a Reshape node's output to its input.
	reshapedFrom map[int]int
	// attr is the ONNX node the nodes being written are reported under.
	attr string
}

type irTensor struct {
	konst  bool
	dtype  inference.DType
	zp     int32
	shape  []int
	values []int64 // constants only
}

type irNode struct {
	op     inference.Op
	attrs  inference.Attrs
	inputs []int
	out    int
	origin string // the ONNX node it came from, for the report
}

func (g *engineGraph) input(dt inference.DType, zp int32, shape []int) int {
	g.tensors = append(g.tensors, irTensor{dtype: dt, zp: zp, shape: append([]int{}, shape...)})
	t := len(g.tensors) - 1
	g.inputs = append(g.inputs, t)
	return t
}

func (g *engineGraph) constant(dt inference.DType, shape []int, values []int64) int {
	return g.constantZP(dt, 0, shape, values)
}

// constantZP adds a constant with a zero point (a quantized operand).
func (g *engineGraph) constantZP(dt inference.DType, zp int32, shape []int, values []int64) int {
	g.tensors = append(g.tensors, irTensor{konst: true, dtype: dt, zp: zp, shape: append([]int{}, shape...), values: values})
	return len(g.tensors) - 1
}

// node adds a node writing a new activation of type dt, zero point zp and
// the given shape, and returns the activation. The report attributes it
// to the ONNX node in g.attr.
func (g *engineGraph) node(op inference.Op, attrs inference.Attrs, dt inference.DType, zp int32, shape []int, inputs ...int) int {
	g.tensors = append(g.tensors, irTensor{dtype: dt, zp: zp, shape: append([]int{}, shape...)})
	out := len(g.tensors) - 1
	g.nodes = append(g.nodes, irNode{op: op, attrs: attrs, inputs: append([]int{}, inputs...), out: out, origin: g.attr})
	return out
}

// build drops nodes and constants that no output depends on, then builds
// the model with inference.Builder (which encodes, decodes and validates
// it). It returns the model, its bytes and, for each kept node, the ONNX
// node it came from.
func (g *engineGraph) build() (*inference.Model, []byte, []string, error) {
	live := make([]bool, len(g.tensors))
	for _, t := range g.outputs {
		live[t] = true
	}
	keep := make([]bool, len(g.nodes))
	for i := len(g.nodes) - 1; i >= 0; i-- {
		n := &g.nodes[i]
		if !live[n.out] {
			continue
		}
		keep[i] = true
		for _, t := range n.inputs {
			live[t] = true
		}
	}
	for _, t := range g.inputs {
		live[t] = true // graph inputs stay even if unused: the call's layout is the ONNX model's
	}
	var b inference.Builder
	remap := make([]int, len(g.tensors))
	for i := range remap {
		remap[i] = -1
	}
	for _, t := range g.inputs {
		ts := &g.tensors[t]
		remap[t] = b.Input(inference.Spec{DType: ts.dtype, ZeroPoint: ts.zp, Shape: ts.shape})
	}
	for i := range g.tensors {
		ts := &g.tensors[i]
		if ts.konst && live[i] {
			remap[i] = b.Const(ts.dtype, ts.zp, ts.shape, ts.values)
		}
	}
	var origins []string
	for i := range g.nodes {
		if !keep[i] {
			continue
		}
		n := &g.nodes[i]
		ins := make([]int, len(n.inputs))
		for k, t := range n.inputs {
			if remap[t] < 0 {
				return nil, nil, nil, fmt.Errorf("internal error: node %d (%s) reads tensor %d before it is defined", i, n.op, t)
			}
			ins[k] = remap[t]
		}
		ts := &g.tensors[n.out]
		remap[n.out] = b.Node(n.op, n.attrs, inference.Spec{DType: ts.dtype, ZeroPoint: ts.zp, Shape: ts.shape}, ins...)
		origins = append(origins, n.origin)
	}
	outs := make([]int, len(g.outputs))
	for k, t := range g.outputs {
		outs[k] = remap[t]
	}
	b.Output(outs...)
	m, raw, err := b.Build()
	if err != nil {
		return nil, nil, nil, err
	}
	return m, raw, origins, nil
}
