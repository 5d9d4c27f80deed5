package inference

import (
	"github.com/infergeth/infergeth/params"
)

// Cost is the static cost of one call of a validated model. It depends only
// on the model's bytes: never on the input values, the backend or a cache.
type Cost struct {
	// MACs counts the multiply-accumulates of the dense ops.
	MACs uint64 `json:"macs"`
	// ElementOps counts elementwise work (docs/spec.md gives each op's count).
	ElementOps uint64 `json:"elementOps"`
	// BytesTouched sums, over nodes, the bytes of every operand and the output.
	BytesTouched uint64 `json:"bytesTouched"`
	// Nodes is the number of nodes.
	Nodes uint64 `json:"nodes"`
	// PeakActivationBytes is the most activation bytes alive at once.
	PeakActivationBytes uint64 `json:"peakActivationBytes"`
}

// Gas is the gas of one call (params/inference.go gives the formula).
func (c Cost) Gas() uint64 {
	return params.InferenceBaseGas +
		ceilDiv(c.MACs, params.InferenceMACsPerGas) +
		ceilDiv(c.ElementOps, params.InferenceElementOpsPerGas) +
		ceilDiv(c.BytesTouched, params.InferenceBytesPerGas) +
		c.Nodes*params.InferenceNodeGas
}

func ceilDiv(a, b uint64) uint64 { return (a + b - 1) / b }

// Cost returns the model's cost. The model must be valid.
func (m *Model) Cost() Cost {
	if m.cost == nil {
		c := m.computeCost()
		m.cost = &c
	}
	return *m.cost
}

// computeCost totals the cost of every node. Every count is bounded by the
// tensor limits (at most 2^24 elements, 2^18 per dimension, 2048 nodes), so
// the sums fit in uint64.
func (m *Model) computeCost() Cost {
	var c Cost
	c.Nodes = uint64(len(m.Nodes))
	for i := range m.Nodes {
		n := &m.Nodes[i]
		out := &m.Tensors[n.Output]
		outElems := uint64(out.Elements())
		in0 := uint64(m.Tensors[n.Inputs[0]].Elements())
		c.MACs += nodeMACs(m, n)
		switch a := n.Attrs.(type) {
		case *Pool2DAttrs:
			c.ElementOps += outElems * uint64(a.KernelH) * uint64(a.KernelW)
		case *MeanAttrs:
			c.ElementOps += in0 + outElems
		case *ArgMaxAttrs:
			c.ElementOps += in0
		case *Conv2DAttrs, *DepthwiseConv2DAttrs:
			// One element op per output element, and one per tap of each
			// output pixel's receptive field: gathering a tap costs about
			// as much as an element op, and with few channels per tap the
			// taps, not the MACs, are the work.
			c.ElementOps += outElems + taps(m, n)
		case *SoftmaxAttrs:
			c.ElementOps += 3*in0 + 8*rows(m, n)
		case *NormAttrs:
			c.ElementOps += 4*in0 + 8*rows(m, n)
		default:
			c.ElementOps += outElems
		}
		for _, t := range n.Inputs {
			c.BytesTouched += uint64(m.Tensors[t].Bytes())
		}
		c.BytesTouched += uint64(out.Bytes())
	}
	c.PeakActivationBytes = m.peakActivationBytes()
	return c
}

// rows is the number of rows of a node that works along the last axis of
// its first operand: each row has a fixed cost (its maximum or moments, a
// square root or a reciprocal) that its elements alone would not pay for.
func rows(m *Model, n *Node) uint64 {
	x := &m.Tensors[n.Inputs[0]]
	return uint64(x.Elements() / x.Shape[len(x.Shape)-1])
}

// taps is output pixels × kernel taps of a convolution: the receptive-field
// taps it gathers.
func taps(m *Model, n *Node) uint64 {
	out := m.Tensors[n.Output].Shape // [N, OH, OW, OC]
	w := m.Tensors[n.Inputs[1]].Shape
	kh, kw := w[1], w[2] // Conv2D: [OC, KH, KW, IC]
	if _, ok := n.Attrs.(*DepthwiseConv2DAttrs); ok {
		kh, kw = w[0], w[1] // [KH, KW, OC]
	}
	return uint64(out[0]) * uint64(out[1]) * uint64(out[2]) * uint64(kh) * uint64(kw)
}

// NodeMACs is the multiply-accumulate count of node i, 0 unless it is dense.
func (m *Model) NodeMACs(i int) uint64 { return nodeMACs(m, &m.Nodes[i]) }

// nodeMACs is the multiply-accumulate count of a dense node, 0 for others.
func nodeMACs(m *Model, n *Node) uint64 {
	out := uint64(m.Tensors[n.Output].Elements())
	switch n.Attrs.(type) {
	case *FullyConnectedAttrs:
		x := m.Tensors[n.Inputs[0]].Shape
		return out * uint64(x[len(x)-1])
	case *Conv2DAttrs:
		w := m.Tensors[n.Inputs[1]].Shape // [OC, KH, KW, IC]
		return out * uint64(w[1]*w[2]*w[3])
	case *DepthwiseConv2DAttrs:
		w := m.Tensors[n.Inputs[1]].Shape // [KH, KW, OC]
		return out * uint64(w[0]*w[1])
	case *MatMulAttrs:
		a0 := m.Tensors[n.Inputs[0]].Shape
		return out * uint64(a0[len(a0)-1])
	}
	return 0
}

// peakActivationBytes walks the nodes in order, keeping each activation
// alive from its definition to its last use (graph outputs to the end).
func (m *Model) peakActivationBytes() uint64 {
	last := make([]int, len(m.Tensors))
	for i := range last {
		last[i] = -1
	}
	for i := range m.Nodes {
		for _, t := range m.Nodes[i].Inputs {
			last[t] = i
		}
	}
	for _, t := range m.Outputs {
		last[t] = len(m.Nodes)
	}
	var live, peak uint64
	for _, t := range m.Inputs {
		live += uint64(m.Tensors[t].Bytes())
	}
	peak = live
	for i := range m.Nodes {
		n := &m.Nodes[i]
		live += uint64(m.Tensors[n.Output].Bytes())
		peak = max(peak, live)
		for _, t := range uniqueOperands(n, m) {
			if last[t] == i {
				live -= uint64(m.Tensors[t].Bytes())
			}
		}
		if last[n.Output] < i { // never used: freed at once
			live -= uint64(m.Tensors[n.Output].Bytes())
		}
	}
	return peak
}

// uniqueOperands lists a node's activation operands once each.
func uniqueOperands(n *Node, m *Model) []int {
	out := make([]int, 0, len(n.Inputs))
	for _, t := range n.Inputs {
		if m.Tensors[t].Kind != Activation {
			continue
		}
		dup := false
		for _, u := range out {
			dup = dup || u == t
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out
}
