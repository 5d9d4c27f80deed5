package onnx

import (
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// foldOps are the ops folded when all their inputs are constants: shape
// arithmetic and elementwise work, whose cost is their output's size.
// DequantizeLinear of a constant stays symbolic (its integers and scales
// become the engine's weights); dense ops of constants are refused.
var foldOps = map[string]bool{
	"QuantizeLinear": true, "Add": true, "Sub": true, "Mul": true, "Div": true, "Pow": true, "Max": true, "Min": true,
	"Relu": true, "Clip": true, "Cast": true, "Identity": true, "Reshape": true, "Flatten": true, "Squeeze": true,
	"Unsqueeze": true, "Transpose": true, "Concat": true, "Gather": true, "Shape": true, "ConstantOfShape": true,
	"Slice": true, "Range": true, "Equal": true, "Where": true, "Expand": true,
}

func foldable(op string) bool {
	if _, ok := unaryFuncs[op]; ok {
		return true
	}
	return foldOps[op]
}

// fold evaluates a node whose inputs are all constants (shape arithmetic,
// constant QuantizeLinear, ...). It reports whether it did.
func (im *importer) fold(n *onnxpb.NodeProto) (bool, error) {
	op := opName(n)
	if !foldable(op) || len(n.Input) == 0 {
		return false, nil
	}
	in := make([]*Tensor, len(n.Input))
	for i, name := range n.Input {
		if name == "" {
			continue
		}
		v, ok := im.vals[name]
		if !ok {
			return false, malformed("node %s reads %q, which is not defined", describe(n), name)
		}
		if v.kind != kConst {
			return false, nil
		}
		in[i] = fromTensorData(v.c)
	}
	a, err := nodeAttrs(n)
	if err != nil {
		return false, err
	}
	outs, err := evalNode(n, a, in, im.opset, false)
	if err != nil {
		return false, unsupported(describe(n), "folding its constant inputs: %v", err)
	}
	for i, t := range outs {
		if i >= len(n.Output) || n.Output[i] == "" {
			continue
		}
		if len(t.Data) > maxFoldElements {
			return false, unsupported(describe(n), "folding its constant inputs gives %d elements (at most %d)", len(t.Data), maxFoldElements)
		}
		c := &tensorData{name: n.Output[i], elem: t.Elem, shape: t.Shape}
		if isFloatType(t.Elem) {
			c.f = t.Data
		} else {
			c.i = make([]int64, len(t.Data))
			for k, v := range t.Data {
				c.i[k] = int64(v)
			}
		}
		im.vals[n.Output[i]] = &value{kind: kConst, c: c}
	}
	im.how("constant: evaluated at import")
	return true, nil
}

// constantNodes marks the nodes whose outputs are constants: they are
// folded, so they need no mapping to op set v1.
func constantNodes(g *onnxpb.GraphProto, nodes []*onnxpb.NodeProto) map[*onnxpb.NodeProto]bool {
	konst := map[string]bool{"": true}
	for _, t := range g.Initializer {
		konst[t.Name] = true
	}
	out := map[*onnxpb.NodeProto]bool{}
	for _, n := range nodes {
		op := opName(n)
		all := op == "Constant" || op == "Shape"
		if !all && foldable(op) && len(n.Input) > 0 {
			all = true
			for _, in := range n.Input {
				if !konst[in] {
					all = false
					break
				}
			}
		}
		if all {
			out[n] = true
			for _, o := range n.Output {
				konst[o] = true
			}
		}
	}
	return out
}
