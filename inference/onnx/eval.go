package onnx

import (
	"fmt"
	"slices"

	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// The reference evaluator runs an ONNX graph in float64, following the
// ONNX operator specification literally (QuantizeLinear rounds half to
// even and saturates; QLinear ops dequantize, compute and quantize). It is
// deliberately independent of the importer: it works on ONNX's own NCHW
// layouts and never sees the engine's integers. The importer uses it to
// fold constant subgraphs, and the accuracy report compares the converted
// model with it. In Float mode QuantizeLinear/DequantizeLinear of
// activations pass values through, which evaluates the float model a QDQ
// model approximates (weights stay at their dequantized values).

// Tensor is a tensor of the reference evaluator. Integer ONNX types hold
// exact integers.
type Tensor struct {
	Elem  onnxpb.TensorProto_DataType
	Shape []int
	Data  []float64
}

func newTensor(elem onnxpb.TensorProto_DataType, shape []int) *Tensor {
	return &Tensor{Elem: elem, Shape: slices.Clone(shape), Data: make([]float64, product(shape))}
}

func fromTensorData(c *tensorData) *Tensor {
	t := &Tensor{Elem: c.elem, Shape: slices.Clone(c.shape), Data: make([]float64, c.elements())}
	for k := range t.Data {
		t.Data[k] = c.at(k)
	}
	return t
}

func (t *Tensor) isFloat() bool { return isFloatType(t.Elem) }

// Evaluator runs one ONNX model.
type Evaluator struct {
	nodes  []*onnxpb.NodeProto
	consts map[string]*Tensor
	opset  int64
	// Float passes QuantizeLinear and DequantizeLinear of activations through.
	Float   bool
	inputs  []*onnxpb.ValueInfoProto
	outputs []string
	// folded holds, per mode (exact, float), the values of nodes that read
	// only constants: computed once, on the first run.
	folded [2]map[string]*Tensor
}

// NewEvaluator prepares m for evaluation.
func NewEvaluator(m *onnxpb.ModelProto) (*Evaluator, error) {
	opset, err := opsets(m)
	if err != nil {
		return nil, err
	}
	nodes, err := topoOrder(m.Graph)
	if err != nil {
		return nil, err
	}
	e := &Evaluator{nodes: nodes, consts: map[string]*Tensor{}, opset: opset}
	for _, t := range m.Graph.Initializer {
		d, err := decodeTensor(t)
		if err != nil {
			return nil, err
		}
		e.consts[t.Name] = fromTensorData(d)
	}
	for _, vi := range m.Graph.Input {
		if _, ok := e.consts[vi.Name]; !ok {
			e.inputs = append(e.inputs, vi)
		}
	}
	for _, vi := range m.Graph.Output {
		e.outputs = append(e.outputs, vi.Name)
	}
	return e, nil
}

// InputShape is the declared shape of graph input i (symbolic dims as 1).
func (e *Evaluator) InputShape(i int) []int {
	var out []int
	if tt := e.inputs[i].GetType().GetTensorType(); tt != nil && tt.Shape != nil {
		for _, d := range tt.Shape.Dim {
			out = append(out, max(1, int(d.GetDimValue())))
		}
	}
	return out
}

// Run evaluates the graph on inputs (by name) and returns the outputs in
// graph order.
func (e *Evaluator) Run(inputs map[string]*Tensor) ([]*Tensor, error) {
	vals, err := e.Values(inputs)
	if err != nil {
		return nil, err
	}
	out := make([]*Tensor, len(e.outputs))
	for i, name := range e.outputs {
		t, ok := vals[name]
		if !ok {
			return nil, fmt.Errorf("evaluator: output %q is not computed", name)
		}
		out[i] = t
	}
	return out, nil
}

// Values evaluates the graph and returns every value by name
// (initializers and inputs included): what a calibration needs.
func (e *Evaluator) Values(inputs map[string]*Tensor) (map[string]*Tensor, error) {
	mode := 0
	if e.Float {
		mode = 1
	}
	vals := make(map[string]*Tensor, len(e.consts)+len(e.nodes))
	for k, v := range e.consts {
		vals[k] = v
	}
	folded := e.folded[mode]
	for k, v := range folded {
		vals[k] = v
	}
	for _, vi := range e.inputs {
		t, ok := inputs[vi.Name]
		if !ok {
			return nil, fmt.Errorf("evaluator: no value for input %q", vi.Name)
		}
		vals[vi.Name] = t
	}
	fresh := folded == nil
	if fresh {
		folded = map[string]*Tensor{}
	}
	for _, n := range e.nodes {
		if len(n.Output) > 0 && folded[n.Output[0]] != nil {
			continue
		}
		in := make([]*Tensor, len(n.Input))
		konst := fresh && len(n.Input) > 0
		for i, name := range n.Input {
			if name == "" {
				continue
			}
			t, ok := vals[name]
			if !ok {
				return nil, fmt.Errorf("evaluator: %s reads undefined %q", describe(n), name)
			}
			in[i] = t
			_, c := e.consts[name]
			konst = konst && (c || folded[name] != nil)
		}
		a, err := nodeAttrs(n)
		if err != nil {
			return nil, err
		}
		outs, err := evalNode(n, a, in, e.opset, e.Float)
		if err != nil {
			return nil, err
		}
		for i, o := range outs {
			if i < len(n.Output) && n.Output[i] != "" {
				vals[n.Output[i]] = o
				if konst {
					folded[n.Output[i]] = o
				}
			}
		}
	}
	if fresh {
		e.folded[mode] = folded
	}
	return vals, nil
}

// evalOps are the ops the evaluator runs (besides unaryFuncs).
var evalOps = map[string]bool{
	"QuantizeLinear": true, "DequantizeLinear": true, "QLinearConv": true, "QLinearMatMul": true,
	"MatMulInteger": true, "ConvInteger": true, "com.microsoft.QGemm": true,
	"com.microsoft.QLinearAdd": true, "com.microsoft.QLinearMul": true, "com.microsoft.QLinearSigmoid": true,
	"com.microsoft.QLinearLeakyRelu": true, "com.microsoft.QLinearSoftmax": true,
	"com.microsoft.QLinearGlobalAveragePool": true, "com.microsoft.QLinearAveragePool": true,
	"com.microsoft.QLinearConcat": true,
	"Conv":                        true, "Gemm": true, "MatMul": true, "Add": true, "Sub": true, "Mul": true, "Div": true,
	"Pow": true, "Max": true, "Min": true, "Relu": true, "Clip": true, "Cast": true, "Identity": true,
	"Dropout": true, "MaxPool": true, "GlobalMaxPool": true, "AveragePool": true, "GlobalAveragePool": true,
	"ReduceMean": true, "Reshape": true, "Flatten": true, "Squeeze": true, "Unsqueeze": true,
	"Transpose": true, "Concat": true, "Gather": true, "Shape": true, "Constant": true, "ArgMax": true,
	"Softmax": true, "LayerNormalization": true, "com.microsoft.SimplifiedLayerNormalization": true,
	"ConstantOfShape": true, "Slice": true, "Range": true, "Equal": true, "Where": true, "Expand": true,
}

func evaluable(op string) bool {
	if evalOps[op] {
		return true
	}
	_, ok := unaryFuncs[op]
	return ok
}

func evalErr(n *onnxpb.NodeProto, format string, args ...any) error {
	return fmt.Errorf("evaluator: %s: %s", describe(n), fmt.Sprintf(format, args...))
}

// DecodeTensor reads an initializer as an evaluator tensor.
func DecodeTensor(t *onnxpb.TensorProto) (*Tensor, error) {
	d, err := decodeTensor(t)
	if err != nil {
		return nil, err
	}
	return fromTensorData(d), nil
}
