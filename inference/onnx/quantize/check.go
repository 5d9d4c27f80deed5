package quantize

import (
	"fmt"
	"strings"

	"github.com/infergeth/infergeth/inference/onnx"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// Refusal is one node the quantizer cannot map to op set v1.
type Refusal struct {
	Node   string `json:"node"` // the node's name, or its first output's
	Op     string `json:"op"`
	Reason string `json:"reason"`
}

// UnsupportedError lists every refused node of a model at once. It wraps
// onnx.ErrUnsupported.
type UnsupportedError struct{ Refusals []Refusal }

func (e *UnsupportedError) Error() string {
	lines := make([]string, len(e.Refusals))
	for i, r := range e.Refusals {
		lines[i] = fmt.Sprintf("  %s %q: %s", r.Op, r.Node, r.Reason)
	}
	return fmt.Sprintf("%v: %d node(s) cannot be quantized to op set v1:\n%s", onnx.ErrUnsupported, len(e.Refusals), strings.Join(lines, "\n"))
}

func (e *UnsupportedError) Unwrap() error { return onnx.ErrUnsupported }

func nodeName(n *onnxpb.NodeProto) string {
	if n.Name != "" {
		return n.Name
	}
	if len(n.Output) > 0 {
		return n.Output[0]
	}
	return ""
}

// alreadyQuantized are ops that mark a model as quantized already.
var alreadyQuantized = map[string]bool{
	"QuantizeLinear": true, "DequantizeLinear": true, "QLinearConv": true, "QLinearMatMul": true,
	"MatMulInteger": true, "ConvInteger": true, "DynamicQuantizeLinear": true,
}

// staticOps compute from shapes or constants only; folded at prepare.
var staticOps = map[string]bool{"Shape": true, "Size": true, "Constant": true}

// checkOps refuses, before anything runs, every node whose op the
// quantizer cannot map, except nodes that read only constants and shapes
// (folded later) when the evaluator can compute them.
func checkOps(m *onnxpb.ModelProto, static map[*onnxpb.NodeProto]bool) error {
	var refused []Refusal
	for _, n := range m.Graph.Node {
		op := onnx.OpName(n)
		switch {
		case alreadyQuantized[op] || strings.HasPrefix(op, "com.microsoft.Q"):
			refused = append(refused, Refusal{nodeName(n), op, "the model is already quantized: convert it with `infergeth model import`"})
		case static[n]:
		case !onnx.Maps(op):
			refused = append(refused, Refusal{nodeName(n), op, onnx.RefusalReason(op)})
		}
	}
	if len(refused) > 0 {
		return &UnsupportedError{refused}
	}
	return nil
}

// checkNodes refuses, after folding and rewriting, the nodes whose op is
// mapped but whose operands or attributes op set v1 cannot express.
func checkNodes(ix *index) error {
	var refused []Refusal
	refuse := func(n *onnxpb.NodeProto, format string, args ...any) {
		refused = append(refused, Refusal{nodeName(n), onnx.OpName(n), fmt.Sprintf(format, args...)})
	}
	for _, n := range ix.m.Graph.Node {
		switch n.OpType {
		case "Conv":
			w := ix.inits[n.Input[1]]
			if w == nil {
				refuse(n, "its weights are not a constant")
				continue
			}
			if g := attrInt(n, "group", 1); g != 1 && (len(w.Shape) < 2 || w.Shape[1] != 1) {
				refuse(n, "grouped convolution (group %d) is not in op set v1: group 1 and depthwise (group = channels) are", g)
			}
			if len(w.Shape) != 3 && len(w.Shape) != 4 {
				refuse(n, "%d-D convolution: op set v1 has 1-D and 2-D", len(w.Shape)-2)
			}
		case "Div", "Max", "Min", "Pow":
			if len(n.Input) == 2 && !ix.isConst(n.Input[0]) && !ix.isConst(n.Input[1]) {
				refuse(n, "%s of two activations is not in op set v1 (with a constant it becomes a table lookup or a Mul)", n.OpType)
			}
		}
	}
	if len(refused) > 0 {
		return &UnsupportedError{refused}
	}
	return nil
}
