package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/detmath"
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

// quantParams reads a (scale, zero point) pair, per tensor or along axis.
type qp struct {
	scale []float64
	zp    []float64
	elem  onnxpb.TensorProto_DataType
	axis  int
}

func readQP(scale, zp *Tensor, axis int64, rank int, def onnxpb.TensorProto_DataType) qp {
	p := qp{scale: scale.Data, elem: def}
	if zp != nil {
		p.zp, p.elem = zp.Data, zp.Elem
	} else {
		p.zp = make([]float64, len(scale.Data))
	}
	if axis < 0 {
		axis += int64(rank)
	}
	p.axis = int(axis)
	return p
}

func (p qp) at(shape []int, k int) (float64, float64) {
	if len(p.scale) == 1 {
		return p.scale[0], p.zp[0]
	}
	c := channelOf(shape, p.axis, k)
	return p.scale[c], p.zp[c]
}

func typeRange(e onnxpb.TensorProto_DataType) (float64, float64) {
	switch e {
	case onnxpb.TensorProto_UINT8:
		return 0, 255
	case onnxpb.TensorProto_INT8:
		return -128, 127
	case onnxpb.TensorProto_UINT16:
		return 0, 65535
	case onnxpb.TensorProto_INT16:
		return -32768, 32767
	case onnxpb.TensorProto_INT32:
		return math.MinInt32, math.MaxInt32
	}
	return math.Inf(-1), math.Inf(1)
}

// quantize is QuantizeLinear; in float mode it passes x through.
func quantize(x *Tensor, p qp, float bool) *Tensor {
	if float {
		return x
	}
	lo, hi := typeRange(p.elem)
	out := newTensor(p.elem, x.Shape)
	for k, v := range x.Data {
		s, z := p.at(x.Shape, k)
		out.Data[k] = math.Max(lo, math.Min(hi, math.RoundToEven(v/s)+z))
	}
	return out
}

// dequantize is DequantizeLinear; a float input (float mode) passes through.
func dequantize(x *Tensor, p qp) *Tensor {
	if x.isFloat() {
		return x
	}
	out := newTensor(onnxpb.TensorProto_FLOAT, x.Shape)
	for k, v := range x.Data {
		s, z := p.at(x.Shape, k)
		out.Data[k] = (v - z) * s
	}
	return out
}

func scalarQP(s, z *Tensor) qp {
	def := onnxpb.TensorProto_UINT8
	return readQP(s, z, 1, 1, def)
}

// outQP is a QLinear op's output quantization: its zero point's type, or
// the input's when the zero point is absent.
func outQP(s, z *Tensor, in onnxpb.TensorProto_DataType) qp {
	p := scalarQP(s, z)
	if z == nil {
		p.elem = in
	}
	return p
}

func evalNode(n *onnxpb.NodeProto, a attrs, in []*Tensor, opset int64, float bool) ([]*Tensor, error) {
	op := opName(n)
	arg := func(i int) *Tensor {
		if i < len(in) {
			return in[i]
		}
		return nil
	}
	one := func(t *Tensor, err error) ([]*Tensor, error) {
		if err != nil {
			return nil, err
		}
		return []*Tensor{t}, nil
	}
	if f, ok := unaryFuncs[op]; ok && n.Domain == "" {
		fn := f(a)
		x := in[0]
		out := newTensor(x.Elem, x.Shape)
		for k, v := range x.Data {
			out.Data[k] = fn(v)
		}
		return []*Tensor{out}, nil
	}
	switch op {
	case "QuantizeLinear":
		x := in[0]
		elem := onnxpb.TensorProto_UINT8
		if dt := a.int("output_dtype", 0); dt != 0 {
			elem = onnxpb.TensorProto_DataType(dt)
		}
		p := readQP(in[1], arg(2), a.int("axis", 1), len(x.Shape), elem)
		if !x.isFloat() {
			return nil, evalErr(n, "quantizes a non-float tensor")
		}
		if float {
			return []*Tensor{x}, nil
		}
		return []*Tensor{quantize(x, p, false)}, nil
	case "DequantizeLinear":
		x := in[0]
		p := readQP(in[1], arg(2), a.int("axis", 1), len(x.Shape), x.Elem)
		return []*Tensor{dequantize(x, p)}, nil
	case "QLinearConv":
		x := dequantize(in[0], scalarQP(in[1], arg(2)))
		w := dequantize(in[3], readQP(in[4], in[5], 0, len(in[3].Shape), in[3].Elem))
		var b *Tensor
		if bt := arg(8); bt != nil {
			b = newTensor(onnxpb.TensorProto_FLOAT, bt.Shape)
			for c := range b.Data {
				ws := in[4].Data[0]
				if len(in[4].Data) > 1 {
					ws = in[4].Data[c]
				}
				b.Data[c] = bt.Data[c] * in[1].Data[0] * ws
			}
		}
		y, err := conv(n, a, x, w, b)
		if err != nil {
			return nil, err
		}
		return []*Tensor{quantize(y, outQP(in[6], in[7], in[0].Elem), float)}, nil
	case "QLinearMatMul":
		x := dequantize(in[0], scalarQP(in[1], arg(2)))
		w := dequantize(in[3], readQP(in[4], in[5], -1, len(in[3].Shape), in[3].Elem))
		y, err := matmul(n, x, w)
		if err != nil {
			return nil, err
		}
		return []*Tensor{quantize(y, outQP(in[6], in[7], in[0].Elem), float)}, nil
	case "MatMulInteger", "ConvInteger":
		if float {
			return nil, evalErr(n, "the float reference of %s graphs needs the float model (--float)", op)
		}
		zp := func(t, z *Tensor, axis int64) *Tensor {
			out := newTensor(onnxpb.TensorProto_FLOAT, t.Shape)
			p := qp{scale: []float64{1}, zp: []float64{0}}
			if z != nil {
				p.zp = z.Data
				p.scale = make([]float64, len(z.Data))
				for i := range p.scale {
					p.scale[i] = 1
				}
			}
			if axis < 0 {
				axis += int64(len(t.Shape))
			}
			p.axis = int(axis)
			for k, v := range t.Data {
				_, zz := p.at(t.Shape, k)
				out.Data[k] = v - zz
			}
			return out
		}
		var y *Tensor
		var err error
		if op == "MatMulInteger" {
			y, err = matmul(n, zp(in[0], arg(2), 0), zp(in[1], arg(3), -1))
		} else {
			y, err = conv(n, a, zp(in[0], arg(2), 0), zp(in[1], arg(3), 0), nil)
		}
		if err != nil {
			return nil, err
		}
		y.Elem = onnxpb.TensorProto_INT32
		return []*Tensor{y}, nil
	case "com.microsoft.QGemm":
		x := dequantize(in[0], scalarQP(in[1], arg(2)))
		axis := int64(1)
		if a.int("transB", 0) != 0 {
			axis = 0
		}
		w := dequantize(in[3], readQP(in[4], in[5], axis, len(in[3].Shape), in[3].Elem))
		var c *Tensor
		alpha := a.float("alpha", 1)
		if ct := arg(6); ct != nil {
			c = newTensor(onnxpb.TensorProto_FLOAT, ct.Shape)
			for k := range c.Data {
				ws := in[4].Data[0]
				if len(in[4].Data) > 1 {
					ws = in[4].Data[k%len(in[4].Data)]
				}
				c.Data[k] = ct.Data[k] * alpha * in[1].Data[0] * ws
			}
		}
		aa := attrs{}
		for k, v := range a {
			if k != "beta" {
				aa[k] = v
			}
		}
		y, err := gemm(n, aa, x, w, c)
		if err != nil {
			return nil, err
		}
		if arg(7) == nil {
			return []*Tensor{y}, nil
		}
		return []*Tensor{quantize(y, outQP(in[7], arg(8), in[0].Elem), float)}, nil
	case "com.microsoft.QLinearAdd", "com.microsoft.QLinearMul":
		x := dequantize(in[0], scalarQP(in[1], arg(2)))
		y := dequantize(in[3], scalarQP(in[4], arg(5)))
		f := func(p, q float64) float64 { return p + q }
		if op == "com.microsoft.QLinearMul" {
			f = func(p, q float64) float64 { return p * q }
		}
		r, err := broadcast(n, x, y, f)
		if err != nil {
			return nil, err
		}
		return []*Tensor{quantize(r, outQP(in[6], arg(7), in[0].Elem), float)}, nil
	case "com.microsoft.QLinearSigmoid", "com.microsoft.QLinearLeakyRelu":
		x := dequantize(in[0], scalarQP(in[1], arg(2)))
		f := sigmoid
		if op == "com.microsoft.QLinearLeakyRelu" {
			alpha := a.float("alpha", 0.01)
			f = func(v float64) float64 { return leaky(v, alpha) }
		}
		y := newTensor(onnxpb.TensorProto_FLOAT, x.Shape)
		for k, v := range x.Data {
			y.Data[k] = f(v)
		}
		return []*Tensor{quantize(y, outQP(in[3], arg(4), in[0].Elem), float)}, nil
	case "com.microsoft.QLinearSoftmax":
		x := dequantize(in[0], scalarQP(in[1], arg(2)))
		y, err := softmax(n, x, a.int("axis", -1))
		if err != nil {
			return nil, err
		}
		return []*Tensor{quantize(y, outQP(in[3], arg(4), in[0].Elem), float)}, nil
	case "com.microsoft.QLinearGlobalAveragePool", "com.microsoft.QLinearAveragePool":
		x := dequantize(in[0], scalarQP(in[1], arg(2)))
		cl := a.int("channels_last", 0) != 0
		if cl {
			x = transpose(x, []int{0, 3, 1, 2})
		}
		var y *Tensor
		var err error
		if op == "com.microsoft.QLinearGlobalAveragePool" {
			y = globalPool(x, false)
		} else {
			y, err = pool(n, a, x, false)
		}
		if err != nil {
			return nil, err
		}
		if cl {
			y = transpose(y, []int{0, 2, 3, 1})
		}
		return []*Tensor{quantize(y, outQP(in[3], arg(4), in[0].Elem), float)}, nil
	case "com.microsoft.QLinearConcat":
		var parts []*Tensor
		for i := 2; i+2 < len(in); i += 3 {
			parts = append(parts, dequantize(in[i], scalarQP(in[i+1], arg(i+2))))
		}
		y, err := concat(n, parts, a.int("axis", 0))
		if err != nil {
			return nil, err
		}
		p := scalarQP(in[0], arg(1))
		return []*Tensor{quantize(y, p, float)}, nil
	case "Conv":
		return one(conv(n, a, in[0], in[1], arg(2)))
	case "Gemm":
		return one(gemm(n, a, in[0], in[1], arg(2)))
	case "MatMul":
		return one(matmul(n, in[0], in[1]))
	case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min":
		f := map[string]func(p, q float64) float64{
			"Add": func(p, q float64) float64 { return p + q },
			"Sub": func(p, q float64) float64 { return p - q },
			"Mul": func(p, q float64) float64 { return p * q },
			"Div": func(p, q float64) float64 { return p / q },
			"Pow": detmath.Pow, "Max": math.Max, "Min": math.Min,
		}[op]
		if len(in) != 2 {
			return nil, evalErr(n, "%d operands", len(in))
		}
		r, err := broadcast(n, in[0], in[1], f)
		if err != nil {
			return nil, err
		}
		if !in[0].isFloat() && op == "Div" {
			for k, v := range r.Data {
				r.Data[k] = math.Trunc(v)
			}
		}
		return []*Tensor{r}, nil
	case "Relu":
		x := in[0]
		y := newTensor(x.Elem, x.Shape)
		for k, v := range x.Data {
			y.Data[k] = math.Max(v, 0)
		}
		return []*Tensor{y}, nil
	case "Clip":
		x := in[0]
		lo, hi := math.Inf(-1), math.Inf(1)
		if t := arg(1); t != nil {
			lo = t.Data[0]
		}
		if t := arg(2); t != nil {
			hi = t.Data[0]
		}
		if opset < 11 { // bounds were attributes
			lo, hi = a.float("min", lo), a.float("max", hi)
		}
		y := newTensor(x.Elem, x.Shape)
		for k, v := range x.Data {
			y.Data[k] = math.Max(lo, math.Min(hi, v))
		}
		return []*Tensor{y}, nil
	case "Cast":
		x := in[0]
		to := onnxpb.TensorProto_DataType(a.int("to", 1))
		y := newTensor(to, x.Shape)
		lo, hi := typeRange(to)
		for k, v := range x.Data {
			if !isFloatType(to) {
				v = math.Trunc(v)
				if v < lo || v > hi {
					v = math.Max(lo, math.Min(hi, v))
				}
			}
			y.Data[k] = v
		}
		return []*Tensor{y}, nil
	case "Identity", "Dropout":
		return []*Tensor{in[0]}, nil
	case "MaxPool", "AveragePool":
		return one(pool(n, a, in[0], op == "MaxPool"))
	case "GlobalMaxPool", "GlobalAveragePool":
		return []*Tensor{globalPool(in[0], op == "GlobalMaxPool")}, nil
	case "ReduceMean":
		return one(reduceMean(n, a, in, opset))
	case "Reshape":
		return one(reshape(n, a, in[0], in[1]))
	case "Flatten":
		x := in[0]
		axis := int(a.int("axis", 1))
		if axis < 0 {
			axis += len(x.Shape)
		}
		return []*Tensor{{Elem: x.Elem, Shape: []int{product(x.Shape[:axis]), product(x.Shape[axis:])}, Data: x.Data}}, nil
	case "Squeeze", "Unsqueeze":
		return one(squeeze(n, a, in, op == "Unsqueeze"))
	case "Transpose":
		x := in[0]
		p := make([]int, len(x.Shape))
		if ps := a.ints("perm"); ps != nil {
			for i, v := range ps {
				p[i] = int(v)
			}
		} else {
			for i := range p {
				p[i] = len(p) - 1 - i
			}
		}
		return []*Tensor{transpose(x, p)}, nil
	case "Concat":
		return one(concat(n, in, a.int("axis", 0)))
	case "Gather":
		return one(gather(n, in[0], in[1], a.int("axis", 0)))
	case "Shape":
		x := in[0]
		y := newTensor(onnxpb.TensorProto_INT64, []int{len(x.Shape)})
		for i, d := range x.Shape {
			y.Data[i] = float64(d)
		}
		r := int64(len(x.Shape))
		s, e := a.int("start", 0), a.int("end", r)
		if s < 0 {
			s += r
		}
		if e < 0 {
			e += r
		}
		s, e = max(0, min(s, r)), max(0, min(e, r))
		e = max(s, e)
		return []*Tensor{{Elem: y.Elem, Shape: []int{int(e - s)}, Data: y.Data[s:e]}}, nil
	case "Constant":
		im := &importer{vals: map[string]*value{}, uses: map[string]int{}, notes: map[string]bool{}, report: &Report{}}
		if err := opConstant(im, n, a); err != nil {
			return nil, err
		}
		return []*Tensor{fromTensorData(im.vals[n.Output[0]].c)}, nil
	case "ConstantOfShape":
		shape, _, err := checkedShape("ConstantOfShape", toInt64(in[0].Data))
		if err != nil {
			return nil, err
		}
		elem, v := onnxpb.TensorProto_FLOAT, 0.0
		if at, ok := a["value"]; ok && at.T != nil {
			c, err := decodeTensor(at.T)
			if err != nil {
				return nil, err
			}
			elem, v = c.elem, c.at(0)
		}
		y := newTensor(elem, shape)
		for k := range y.Data {
			y.Data[k] = v
		}
		return []*Tensor{y}, nil
	case "ArgMax":
		return one(argmax(n, a, in[0]))
	case "Softmax":
		if opset < 13 {
			return one(softmaxFlattened(n, in[0], a.int("axis", 1)))
		}
		return one(softmax(n, in[0], a.int("axis", -1)))
	case "LayerNormalization", "com.microsoft.SimplifiedLayerNormalization":
		return one(layerNorm(n, a, in[0], in[1], arg(2), op != "LayerNormalization"))
	case "Slice":
		return one(slice(n, in))
	case "Range":
		start, limit, delta := in[0].Data[0], in[1].Data[0], in[2].Data[0]
		if delta == 0 {
			return nil, evalErr(n, "delta 0")
		}
		cnt := int(math.Max(math.Ceil((limit-start)/delta), 0))
		if cnt > MaxTensorElements {
			return nil, evalErr(n, "too many elements")
		}
		y := newTensor(in[0].Elem, []int{cnt})
		for i := range y.Data {
			y.Data[i] = start + float64(float64(i)*delta)
		}
		return []*Tensor{y}, nil
	case "Equal":
		r, err := broadcast(n, in[0], in[1], func(p, q float64) float64 {
			if p == q {
				return 1
			}
			return 0
		})
		if err != nil {
			return nil, err
		}
		r.Elem = onnxpb.TensorProto_BOOL
		return []*Tensor{r}, nil
	case "Where":
		s, err := broadcast(n, in[1], in[2], func(p, q float64) float64 { return 0 })
		if err != nil {
			return nil, err
		}
		out := newTensor(in[1].Elem, s.Shape)
		c, _ := expand(in[0], s.Shape)
		x, _ := expand(in[1], s.Shape)
		y, _ := expand(in[2], s.Shape)
		for k := range out.Data {
			if c.Data[k] != 0 {
				out.Data[k] = x.Data[k]
			} else {
				out.Data[k] = y.Data[k]
			}
		}
		return []*Tensor{out}, nil
	case "Expand":
		shape := make([]int, len(in[1].Data))
		for i, v := range in[1].Data {
			shape[i] = int(v)
		}
		out := inference.BroadcastShape(in[0].Shape, shape)
		if out == nil || product(out) > MaxTensorElements {
			return nil, evalErr(n, "cannot expand %v to %v", in[0].Shape, shape)
		}
		return one(expand(in[0], out))
	}
	return nil, evalErr(n, "the reference evaluator does not implement %s", op)
}

func toInt64(v []float64) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// expand broadcasts x to shape.
func expand(x *Tensor, shape []int) (*Tensor, error) {
	out := newTensor(x.Elem, shape)
	r := len(shape)
	xs := strides(x.Shape)
	idx := make([]int, r)
	for o := range out.Data {
		src := 0
		for d := 0; d < r; d++ {
			j := d - (r - len(x.Shape))
			if j >= 0 && x.Shape[j] != 1 {
				src += idx[d] * xs[j]
			}
		}
		out.Data[o] = x.Data[src]
		nextIndex(idx, shape)
	}
	return out, nil
}

func broadcast(n *onnxpb.NodeProto, a, b *Tensor, f func(p, q float64) float64) (*Tensor, error) {
	shape := inference.BroadcastShape(a.Shape, b.Shape)
	if shape == nil {
		return nil, evalErr(n, "shapes %v and %v do not broadcast", a.Shape, b.Shape)
	}
	ae, _ := expand(a, shape)
	be, _ := expand(b, shape)
	out := newTensor(a.Elem, shape)
	for k := range out.Data {
		out.Data[k] = f(ae.Data[k], be.Data[k])
	}
	return out, nil
}

func transpose(x *Tensor, p []int) *Tensor {
	shape := make([]int, len(p))
	for i, a := range p {
		shape[i] = x.Shape[a]
	}
	out := newTensor(x.Elem, shape)
	xs := strides(x.Shape)
	idx := make([]int, len(p))
	for o := range out.Data {
		src := 0
		for i, a := range p {
			src += idx[i] * xs[a]
		}
		out.Data[o] = x.Data[src]
		nextIndex(idx, shape)
	}
	return out
}

// matmul is numpy matmul: batch dimensions broadcast, rank 1 promoted.
func matmul(n *onnxpb.NodeProto, a, b *Tensor) (*Tensor, error) {
	as, bs := slices.Clone(a.Shape), slices.Clone(b.Shape)
	aVec, bVec := len(as) == 1, len(bs) == 1
	if aVec {
		as = []int{1, as[0]}
	}
	if bVec {
		bs = []int{bs[0], 1}
	}
	m, k := as[len(as)-2], as[len(as)-1]
	k2, nn := bs[len(bs)-2], bs[len(bs)-1]
	if k != k2 {
		return nil, evalErr(n, "inner dimensions %d and %d", k, k2)
	}
	batch := inference.BroadcastShape(as[:len(as)-2], bs[:len(bs)-2])
	if batch == nil {
		return nil, evalErr(n, "batch dimensions do not broadcast")
	}
	ae, be := &Tensor{Shape: as, Data: a.Data}, &Tensor{Shape: bs, Data: b.Data}
	if full := append(slices.Clone(batch), m, k); !slices.Equal(as, full) {
		ae, _ = expand(ae, full)
	}
	if full := append(slices.Clone(batch), k, nn); !slices.Equal(bs, full) {
		be, _ = expand(be, full)
	}
	out := newTensor(onnxpb.TensorProto_FLOAT, append(slices.Clone(batch), m, nn))
	nb := product(batch)
	for bi := 0; bi < nb; bi++ {
		for i := 0; i < m; i++ {
			// Row by row; each output still sums its products in k order.
			row := out.Data[(bi*m+i)*nn : (bi*m+i+1)*nn]
			for q := 0; q < k; q++ {
				av := ae.Data[(bi*m+i)*k+q]
				brow := be.Data[(bi*k+q)*nn : (bi*k+q+1)*nn]
				for j, bv := range brow {
					row[j] += float64(av * bv)
				}
			}
		}
	}
	shape := out.Shape
	if aVec {
		shape = append(slices.Clone(shape[:len(shape)-2]), shape[len(shape)-1])
	}
	if bVec {
		shape = shape[:len(shape)-1]
	}
	out.Shape = shape
	return out, nil
}

// matmulBT is x·wᵀ for matrices, summing each output in k order as matmul does.
func matmulBT(n *onnxpb.NodeProto, x, w *Tensor) (*Tensor, error) {
	m, k := x.Shape[0], x.Shape[1]
	nn := w.Shape[0]
	if w.Shape[1] != k {
		return nil, evalErr(n, "inner dimensions %d and %d", k, w.Shape[1])
	}
	out := newTensor(onnxpb.TensorProto_FLOAT, []int{m, nn})
	for i := 0; i < m; i++ {
		xr := x.Data[i*k : (i+1)*k]
		for j := 0; j < nn; j++ {
			wr := w.Data[j*k : (j+1)*k]
			s := 0.0
			for q, xv := range xr {
				s += float64(xv * wr[q])
			}
			out.Data[i*nn+j] = s
		}
	}
	return out, nil
}

func gemm(n *onnxpb.NodeProto, a attrs, x, w, c *Tensor) (*Tensor, error) {
	if a.int("transA", 0) != 0 {
		x = transpose(x, []int{1, 0})
	}
	var y *Tensor
	var err error
	if a.int("transB", 0) != 0 && len(x.Shape) == 2 && len(w.Shape) == 2 {
		y, err = matmulBT(n, x, w)
	} else {
		if a.int("transB", 0) != 0 {
			w = transpose(w, []int{1, 0})
		}
		y, err = matmul(n, x, w)
	}
	if err != nil {
		return nil, err
	}
	alpha, beta := a.float("alpha", 1), a.float("beta", 1)
	for k := range y.Data {
		y.Data[k] *= alpha
	}
	if c != nil {
		ce, err := expand(c, y.Shape)
		if err != nil {
			return nil, err
		}
		for k := range y.Data {
			y.Data[k] += float64(beta * ce.Data[k])
		}
	}
	return y, nil
}

// window2D reads a 2-D (or 1-D) window's geometry for input x (NCHW/NCL).
func window2D(n *onnxpb.NodeProto, a attrs, x *Tensor, kh, kw int) (inference.Conv2DAttrs, int, int, error) {
	oneD := len(x.Shape) == 3
	h, w := 1, x.Shape[len(x.Shape)-1]
	if !oneD {
		h = x.Shape[2]
	}
	return convGeometry(describe(n), a, h, w, kh, kw, oneD)
}

func conv(n *onnxpb.NodeProto, a attrs, x, w, b *Tensor) (*Tensor, error) {
	oneD := len(x.Shape) == 3
	if len(x.Shape) != 4 && !oneD {
		return nil, evalErr(n, "rank %d convolution", len(x.Shape))
	}
	nb, c := x.Shape[0], x.Shape[1]
	h, wd := 1, x.Shape[len(x.Shape)-1]
	if !oneD {
		h = x.Shape[2]
	}
	oc, icg := w.Shape[0], w.Shape[1]
	kh, kw := 1, w.Shape[len(w.Shape)-1]
	if !oneD {
		kh = w.Shape[2]
	}
	g, oh, ow, err := window2D(n, a, x, kh, kw)
	if err != nil {
		return nil, err
	}
	group := int(a.int("group", 1))
	if group < 1 || c%group != 0 || oc%group != 0 || icg != c/group {
		return nil, evalErr(n, "group %d with %d input and %d output channels", group, c, oc)
	}
	ocg := oc / group
	shape := []int{nb, oc, oh, ow}
	if oneD {
		shape = []int{nb, oc, ow}
	}
	out := newTensor(onnxpb.TensorProto_FLOAT, shape)
	i := 0
	for bi := 0; bi < nb; bi++ {
		for o := 0; o < oc; o++ {
			grp := o / ocg
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					s := 0.0
					if b != nil {
						s = b.Data[o]
					}
					for ic := 0; ic < icg; ic++ {
						cin := grp*icg + ic
						for ky := 0; ky < kh; ky++ {
							iy := oy*int(g.StrideH) - int(g.PadTop) + ky*int(g.DilationH)
							if iy < 0 || iy >= h {
								continue
							}
							for kx := 0; kx < kw; kx++ {
								ix := ox*int(g.StrideW) - int(g.PadLeft) + kx*int(g.DilationW)
								if ix < 0 || ix >= wd {
									continue
								}
								s += float64(x.Data[((bi*c+cin)*h+iy)*wd+ix] * w.Data[((o*icg+ic)*kh+ky)*kw+kx])
							}
						}
					}
					out.Data[i] = s
					i++
				}
			}
		}
	}
	return out, nil
}

func pool(n *onnxpb.NodeProto, a attrs, x *Tensor, isMax bool) (*Tensor, error) {
	oneD := len(x.Shape) == 3
	kh, kw, ok := poolKernel(a.ints("kernel_shape"), oneD)
	if !ok {
		return nil, evalErr(n, "kernel_shape %v", a.ints("kernel_shape"))
	}
	g, oh, ow, err := window2D(n, a, x, kh, kw)
	if err != nil {
		return nil, err
	}
	nb, c := x.Shape[0], x.Shape[1]
	h, wd := 1, x.Shape[len(x.Shape)-1]
	if !oneD {
		h = x.Shape[2]
	}
	countPad := a.int("count_include_pad", 0) != 0
	shape := []int{nb, c, oh, ow}
	if oneD {
		shape = []int{nb, c, ow}
	}
	out := newTensor(x.Elem, shape)
	i := 0
	for bi := 0; bi < nb; bi++ {
		for ch := 0; ch < c; ch++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					s, cnt, m := 0.0, 0, math.Inf(-1)
					for ky := 0; ky < kh; ky++ {
						for kx := 0; kx < kw; kx++ {
							iy := oy*int(g.StrideH) - int(g.PadTop) + ky
							ix := ox*int(g.StrideW) - int(g.PadLeft) + kx
							if iy < 0 || iy >= h || ix < 0 || ix >= wd {
								if countPad {
									cnt++
								}
								continue
							}
							v := x.Data[((bi*c+ch)*h+iy)*wd+ix]
							s += v
							m = math.Max(m, v)
							cnt++
						}
					}
					if isMax {
						out.Data[i] = m
					} else {
						out.Data[i] = s / float64(cnt)
					}
					i++
				}
			}
		}
	}
	return out, nil
}

func globalPool(x *Tensor, isMax bool) *Tensor {
	nb, c := x.Shape[0], x.Shape[1]
	sp := product(x.Shape[2:])
	shape := []int{nb, c}
	for range x.Shape[2:] {
		shape = append(shape, 1)
	}
	out := newTensor(x.Elem, shape)
	for i := 0; i < nb*c; i++ {
		s, m := 0.0, math.Inf(-1)
		for k := 0; k < sp; k++ {
			v := x.Data[i*sp+k]
			s += v
			m = math.Max(m, v)
		}
		if isMax {
			out.Data[i] = m
		} else {
			out.Data[i] = s / float64(sp)
		}
	}
	return out
}

func reduceMean(n *onnxpb.NodeProto, a attrs, in []*Tensor, opset int64) (*Tensor, error) {
	x := in[0]
	r := len(x.Shape)
	var axes []int64
	if opset >= 18 {
		if len(in) > 1 && in[1] != nil {
			axes = toInt64(in[1].Data)
		}
	} else {
		axes = a.ints("axes")
	}
	red := make([]bool, r)
	if len(axes) == 0 {
		if a.int("noop_with_empty_axes", 0) != 0 {
			return x, nil
		}
		for i := range red {
			red[i] = true
		}
	}
	for _, ax := range axes {
		i, ok := normAxis(ax, r)
		if !ok {
			return nil, evalErr(n, "axis %d", ax)
		}
		red[i] = true
	}
	keep := a.int("keepdims", 1) != 0
	var shape, kshape []int
	for i, d := range x.Shape {
		if red[i] {
			kshape = append(kshape, 1)
			if keep {
				shape = append(shape, 1)
			}
		} else {
			kshape = append(kshape, d)
			shape = append(shape, d)
		}
	}
	sum := newTensor(x.Elem, kshape)
	cnt := float64(product(x.Shape) / product(kshape))
	xs, ks := strides(x.Shape), strides(kshape)
	for k, v := range x.Data {
		o := 0
		for d := 0; d < r; d++ {
			if !red[d] {
				o += (k / xs[d] % x.Shape[d]) * ks[d]
			}
		}
		sum.Data[o] += v
	}
	for k := range sum.Data {
		sum.Data[k] /= cnt
	}
	sum.Shape = shape
	if shape == nil {
		sum.Shape = []int{}
	}
	return sum, nil
}

func reshape(n *onnxpb.NodeProto, a attrs, x, spec *Tensor) (*Tensor, error) {
	out := make([]int, len(spec.Data))
	infer, known := -1, 1
	for i, v := range spec.Data {
		d := int(v)
		switch {
		case d == 0 && a.int("allowzero", 0) == 0:
			if i >= len(x.Shape) {
				return nil, evalErr(n, "shape %v", spec.Data)
			}
			d = x.Shape[i]
		case d == -1:
			infer = i
			continue
		case d < 0:
			return nil, evalErr(n, "shape %v", spec.Data)
		}
		out[i] = d
		known *= d
	}
	if infer >= 0 {
		if known == 0 {
			return nil, evalErr(n, "shape %v", spec.Data)
		}
		out[infer] = len(x.Data) / known
	}
	if product(out) != len(x.Data) {
		return nil, evalErr(n, "cannot reshape %v to %v", x.Shape, out)
	}
	return &Tensor{Elem: x.Elem, Shape: out, Data: x.Data}, nil
}

func squeeze(n *onnxpb.NodeProto, a attrs, in []*Tensor, unsqueeze bool) (*Tensor, error) {
	x := in[0]
	var axes []int64
	if len(in) > 1 && in[1] != nil {
		axes = toInt64(in[1].Data)
	} else {
		axes = a.ints("axes")
	}
	if unsqueeze {
		r := len(x.Shape) + len(axes)
		ins := make([]bool, r)
		for _, ax := range axes {
			i, ok := normAxis(ax, r)
			if !ok {
				return nil, evalErr(n, "axis %d", ax)
			}
			ins[i] = true
		}
		shape := make([]int, 0, r)
		k := 0
		for i := 0; i < r; i++ {
			if ins[i] {
				shape = append(shape, 1)
			} else {
				shape = append(shape, x.Shape[k])
				k++
			}
		}
		return &Tensor{Elem: x.Elem, Shape: shape, Data: x.Data}, nil
	}
	drop := make([]bool, len(x.Shape))
	for _, ax := range axes {
		i, ok := normAxis(ax, len(x.Shape))
		if !ok {
			return nil, evalErr(n, "axis %d", ax)
		}
		drop[i] = true
	}
	shape := []int{}
	for i, d := range x.Shape {
		if drop[i] || (len(axes) == 0 && d == 1) {
			continue
		}
		shape = append(shape, d)
	}
	return &Tensor{Elem: x.Elem, Shape: shape, Data: x.Data}, nil
}

func concat(n *onnxpb.NodeProto, parts []*Tensor, axis64 int64) (*Tensor, error) {
	r := len(parts[0].Shape)
	axis, ok := normAxis(axis64, r)
	if !ok {
		return nil, evalErr(n, "axis %d", axis64)
	}
	shape := slices.Clone(parts[0].Shape)
	shape[axis] = 0
	for _, p := range parts {
		if len(p.Shape) != r {
			return nil, evalErr(n, "ranks differ")
		}
		shape[axis] += p.Shape[axis]
	}
	out := newTensor(parts[0].Elem, shape)
	outer := product(shape[:axis])
	o := 0
	for i := 0; i < outer; i++ {
		for _, p := range parts {
			chunk := product(p.Shape[axis:])
			o += copy(out.Data[o:], p.Data[i*chunk:(i+1)*chunk])
		}
	}
	return out, nil
}

func gather(n *onnxpb.NodeProto, data, idx *Tensor, axis64 int64) (*Tensor, error) {
	axis, ok := normAxis(axis64, len(data.Shape))
	if !ok {
		return nil, evalErr(n, "axis %d", axis64)
	}
	shape := append(append(slices.Clone(data.Shape[:axis]), idx.Shape...), data.Shape[axis+1:]...)
	out := newTensor(data.Elem, shape)
	outer := product(data.Shape[:axis])
	inner := product(data.Shape[axis+1:])
	rows := data.Shape[axis]
	o := 0
	for i := 0; i < outer; i++ {
		for _, v := range idx.Data {
			j := int(v)
			if j < 0 {
				j += rows
			}
			if j < 0 || j >= rows {
				return nil, evalErr(n, "index %v out of range", v)
			}
			o += copy(out.Data[o:], data.Data[(i*rows+j)*inner:(i*rows+j+1)*inner])
		}
	}
	return out, nil
}

func argmax(n *onnxpb.NodeProto, a attrs, x *Tensor) (*Tensor, error) {
	axis, ok := normAxis(a.int("axis", 0), len(x.Shape))
	if !ok {
		return nil, evalErr(n, "axis")
	}
	outer, inner, cnt := product(x.Shape[:axis]), product(x.Shape[axis+1:]), x.Shape[axis]
	var shape []int
	for i, d := range x.Shape {
		if i == axis {
			if a.int("keepdims", 1) != 0 {
				shape = append(shape, 1)
			}
			continue
		}
		shape = append(shape, d)
	}
	if shape == nil {
		shape = []int{}
	}
	out := newTensor(onnxpb.TensorProto_INT64, shape)
	last := a.int("select_last_index", 0) != 0
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			best, at := math.Inf(-1), 0
			for j := 0; j < cnt; j++ {
				v := x.Data[(o*cnt+j)*inner+i]
				if v > best || (last && v == best) || j == 0 {
					best, at = v, j
				}
			}
			out.Data[o*inner+i] = float64(at)
		}
	}
	return out, nil
}

func softmax(n *onnxpb.NodeProto, x *Tensor, axis64 int64) (*Tensor, error) {
	axis, ok := normAxis(axis64, len(x.Shape))
	if !ok {
		return nil, evalErr(n, "axis")
	}
	outer, inner, cnt := product(x.Shape[:axis]), product(x.Shape[axis+1:]), x.Shape[axis]
	out := newTensor(onnxpb.TensorProto_FLOAT, x.Shape)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			m := math.Inf(-1)
			for j := 0; j < cnt; j++ {
				m = math.Max(m, x.Data[(o*cnt+j)*inner+i])
			}
			s := 0.0
			for j := 0; j < cnt; j++ {
				s += detmath.Exp(x.Data[(o*cnt+j)*inner+i] - m)
			}
			for j := 0; j < cnt; j++ {
				out.Data[(o*cnt+j)*inner+i] = detmath.Exp(x.Data[(o*cnt+j)*inner+i]-m) / s
			}
		}
	}
	return out, nil
}

// softmaxFlattened is Softmax before opset 13: over all the axes from
// axis on, as one (the input coerced to 2-D).
func softmaxFlattened(n *onnxpb.NodeProto, x *Tensor, axis64 int64) (*Tensor, error) {
	axis, ok := normAxis(axis64, len(x.Shape))
	if !ok {
		return nil, evalErr(n, "axis")
	}
	flat := &Tensor{Elem: x.Elem, Shape: []int{product(x.Shape[:axis]), product(x.Shape[axis:])}, Data: x.Data}
	y, err := softmax(n, flat, 1)
	if err != nil {
		return nil, err
	}
	y.Shape = slices.Clone(x.Shape)
	return y, nil
}

func layerNorm(n *onnxpb.NodeProto, a attrs, x, gamma, beta *Tensor, rms bool) (*Tensor, error) {
	axis, ok := normAxis(a.int("axis", -1), len(x.Shape))
	if !ok {
		return nil, evalErr(n, "axis")
	}
	eps := a.float("epsilon", 1e-5)
	cnt := product(x.Shape[axis:])
	rows := product(x.Shape[:axis])
	out := newTensor(onnxpb.TensorProto_FLOAT, x.Shape)
	ge, _ := expand(gamma, x.Shape[axis:])
	var be *Tensor
	if beta != nil {
		be, _ = expand(beta, x.Shape[axis:])
	}
	for r := 0; r < rows; r++ {
		row := x.Data[r*cnt : (r+1)*cnt]
		mean := 0.0
		if !rms {
			for _, v := range row {
				mean += v
			}
			mean /= float64(cnt)
		}
		vr := 0.0
		for _, v := range row {
			vr += float64((v - mean) * (v - mean))
		}
		vr /= float64(cnt)
		for j, v := range row {
			y := float64((v - mean) / math.Sqrt(vr+eps) * ge.Data[j])
			if be != nil {
				y += be.Data[j]
			}
			out.Data[r*cnt+j] = y
		}
	}
	return out, nil
}

func slice(n *onnxpb.NodeProto, in []*Tensor) (*Tensor, error) {
	x := in[0]
	r := len(x.Shape)
	starts, ends := toInt64(in[1].Data), toInt64(in[2].Data)
	axes := make([]int64, len(starts))
	for i := range axes {
		axes[i] = int64(i)
	}
	if len(in) > 3 && in[3] != nil {
		axes = toInt64(in[3].Data)
	}
	steps := make([]int64, len(starts))
	for i := range steps {
		steps[i] = 1
	}
	if len(in) > 4 && in[4] != nil {
		steps = toInt64(in[4].Data)
	}
	lo, hi, st := make([]int, r), slices.Clone(x.Shape), make([]int, r)
	for i := range st {
		st[i] = 1
	}
	for i, ax := range axes {
		d, ok := normAxis(ax, r)
		if !ok || steps[i] != 1 {
			return nil, evalErr(n, "only unit-step slices are folded")
		}
		dim := int64(x.Shape[d])
		s, e := starts[i], ends[i]
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		s, e = max(0, min(s, dim)), max(0, min(e, dim))
		lo[d], hi[d] = int(s), int(max(s, e))
	}
	shape := make([]int, r)
	for d := range shape {
		shape[d] = hi[d] - lo[d]
	}
	out := newTensor(x.Elem, shape)
	xs := strides(x.Shape)
	idx := make([]int, r)
	for o := range out.Data {
		src := 0
		for d := 0; d < r; d++ {
			src += (idx[d] + lo[d]) * xs[d]
		}
		out.Data[o] = x.Data[src]
		nextIndex(idx, shape)
	}
	return out, nil
}

// DecodeTensor reads an initializer as an evaluator tensor.
func DecodeTensor(t *onnxpb.TensorProto) (*Tensor, error) {
	d, err := decodeTensor(t)
	if err != nil {
		return nil, err
	}
	return fromTensorData(d), nil
}
