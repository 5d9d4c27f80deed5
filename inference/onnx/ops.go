package onnx

import (
	"fmt"
	"sort"
	"strings"

	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

type handler func(im *importer, n *onnxpb.NodeProto, a attrs) error

// handlers maps ONNX ops (domain-qualified for contrib ops) to their
// conversion. docs/onnx-import.md lists them with their mapping.
var handlers = map[string]handler{}

func init() {
	for name, h := range map[string]handler{
		"QuantizeLinear":   opQuantizeLinear,
		"DequantizeLinear": opDequantizeLinear,

		"Conv":                           opConv,
		"ConvInteger":                    opConvInteger,
		"QLinearConv":                    opQLinearConv,
		"Gemm":                           opGemm,
		"MatMul":                         opMatMul,
		"MatMulInteger":                  opMatMulInteger,
		"QLinearMatMul":                  opQLinearMatMul,
		"com.microsoft.QGemm":            opQGemm,
		"Add":                            opBinary,
		"Sub":                            opBinary,
		"Mul":                            opBinary,
		"Div":                            opBinary,
		"Pow":                            opBinary,
		"Max":                            opBinary,
		"Min":                            opBinary,
		"com.microsoft.QLinearAdd":       opQLinearBinary,
		"com.microsoft.QLinearMul":       opQLinearBinary,
		"Relu":                           opRelu,
		"Clip":                           opClip,
		"com.microsoft.QLinearSigmoid":   opQLinearUnary,
		"com.microsoft.QLinearLeakyRelu": opQLinearUnary,
		"Cast":                           opCast,
		"Identity":                       opIdentity,
		"Dropout":                        opIdentity,

		"MaxPool":                                opMaxPool,
		"GlobalMaxPool":                          opMaxPool,
		"AveragePool":                            opAveragePool,
		"GlobalAveragePool":                      opAveragePool,
		"ReduceMean":                             opReduceMean,
		"com.microsoft.QLinearAveragePool":       opQLinearPool,
		"com.microsoft.QLinearGlobalAveragePool": opQLinearPool,

		"Reshape":                     opReshape,
		"Flatten":                     opFlatten,
		"Squeeze":                     opSqueeze,
		"Unsqueeze":                   opUnsqueeze,
		"Transpose":                   opTranspose,
		"Concat":                      opConcat,
		"com.microsoft.QLinearConcat": opQLinearConcat,
		"Gather":                      opGather,
		"Shape":                       opShape,
		"Constant":                    opConstant,
		"ArgMax":                      opArgMax,

		"Softmax":                      opSoftmax,
		"com.microsoft.QLinearSoftmax": opQLinearSoftmax,
		"LayerNormalization":           opLayerNorm,
		"com.microsoft.SimplifiedLayerNormalization": opLayerNorm,
	} {
		handlers[name] = h
	}
	for name := range unaryFuncs {
		handlers[name] = opUnary
	}
}

// SupportedOps lists the ONNX ops the importer maps, sorted.
func SupportedOps() []string {
	out := make([]string, 0, len(handlers))
	for name := range handlers {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// refusals explain why well-known ops are not mapped.
var refusals = map[string]string{
	"DynamicQuantizeLinear": "it computes scales from the data at run time; infergeth needs static scales (quantize statically, e.g. onnxruntime.quantization.quantize_static)",
	"LSTM":                  "recurrent layers are not in op set v1",
	"GRU":                   "recurrent layers are not in op set v1",
	"RNN":                   "recurrent layers are not in op set v1",
	"Loop":                  "control flow is not in op set v1 (the engine runs a fixed graph)",
	"If":                    "control flow is not in op set v1 (the engine runs a fixed graph)",
	"Scan":                  "control flow is not in op set v1 (the engine runs a fixed graph)",
	"Resize":                "resizing is not in op set v1",
	"Upsample":              "resizing is not in op set v1",
	"Pad":                   "explicit Pad is not in op set v1 (padding inside Conv and pools is)",
	"BatchNormalization":    "fold BatchNormalization into the preceding Conv before quantizing",
	"InstanceNormalization": "not in op set v1",
	"ConvTranspose":         "transposed convolution is not in op set v1",
	"Split":                 "not in op set v1",
	"Slice":                 "slicing activations is not in op set v1 (constant shape arithmetic is folded)",
	"TopK":                  "not in op set v1 (ArgMax is)",
	"ReduceMax":             "not in op set v1 (MaxPool and ArgMax are)",
	"ReduceSum":             "not in op set v1 (ReduceMean is)",
	"Where":                 "not in op set v1",
	"Equal":                 "comparisons are not in op set v1",
	"Greater":               "comparisons are not in op set v1",
	"Less":                  "comparisons are not in op set v1",
	"NonMaxSuppression":     "not in op set v1",
	"Einsum":                "not in op set v1 (MatMul is)",
}

func refusalReason(op string) string {
	if r, ok := refusals[op]; ok {
		return "not supported: " + r
	}
	if strings.Contains(op, ".") {
		return "not supported: an op of a custom domain outside op set v1"
	}
	return "not supported: not in op set v1 and no mapping to it"
}

// quantizedOps are the ops whose presence makes a model quantized.
var quantizedOps = map[string]bool{
	"QuantizeLinear": true, "DequantizeLinear": true, "QLinearConv": true, "QLinearMatMul": true,
	"MatMulInteger": true, "ConvInteger": true, "DynamicQuantizeLinear": true,
	"com.microsoft.QGemm": true, "com.microsoft.QLinearAdd": true, "com.microsoft.QLinearMul": true,
	"com.microsoft.QLinearSigmoid": true, "com.microsoft.QLinearLeakyRelu": true, "com.microsoft.QLinearSoftmax": true,
	"com.microsoft.QLinearAveragePool": true, "com.microsoft.QLinearGlobalAveragePool": true,
	"com.microsoft.QLinearConcat": true,
}

// checkOps refuses, before converting anything, models that are float-only
// or that use ops the importer does not map, naming every such node.
func checkOps(g *onnxpb.GraphProto, nodes []*onnxpb.NodeProto) error {
	konst := constantNodes(g, nodes)
	quantized := false
	for _, vi := range g.Input {
		if tt := vi.GetType().GetTensorType(); tt != nil {
			e := onnxpb.TensorProto_DataType(tt.ElemType)
			if e == onnxpb.TensorProto_INT8 || e == onnxpb.TensorProto_UINT8 {
				quantized = true
			}
		}
	}
	var bad []string
	seen := map[string]int{}
	for _, n := range nodes {
		op := opName(n)
		if quantizedOps[op] {
			quantized = true
		}
		if _, ok := handlers[op]; ok || konst[n] {
			continue
		}
		if seen[op] < 3 {
			bad = append(bad, fmt.Sprintf("  %s: %s", describe(n), refusalReason(op)))
		} else if seen[op] == 3 {
			bad = append(bad, fmt.Sprintf("  (more %s nodes)", op))
		}
		seen[op]++
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %d node(s) use ops outside what the importer maps to op set v1:\n%s", ErrUnsupported, countBad(seen), strings.Join(bad, "\n"))
	}
	if !quantized {
		return fmt.Errorf("%w: the model has no QuantizeLinear/DequantizeLinear or QLinear* ops; infergeth runs int8 models only: quantize it first (QDQ or QOperator, static scales)", ErrFloatOnly)
	}
	return nil
}

func countBad(seen map[string]int) int {
	n := 0
	for _, c := range seen {
		n += c
	}
	return n
}

// Maps reports whether the importer maps the ONNX op (domain-qualified
// for contrib ops, as in SupportedOps).
func Maps(op string) bool { _, ok := handlers[op]; return ok }

// RefusalReason says why the importer does not map op.
func RefusalReason(op string) string { return refusalReason(op) }

// OpName is a node's op as the importer names it (domain-qualified for
// contrib ops).
func OpName(n *onnxpb.NodeProto) string { return opName(n) }

// Describe names a node in messages: its op and name (or first output).
func Describe(n *onnxpb.NodeProto) string { return describe(n) }
