package zoo

import (
	"fmt"
	"math"

	"github.com/infergeth/infergeth/inference/onnx"
	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// Post-training static quantization in the manner of onnxruntime's
// quantize_static, written here because no Python tooling is available:
// activations per tensor (min/max calibration, uint8 or int8,
// asymmetric), weights int8 symmetric per output channel in [−127, 127],
// biases int32 at scale x_scale·w_scale. Ops that only move values
// (MaxPool, Reshape, Flatten, Transpose) keep their input's quantization;
// Softmax outputs use 1/256. A weighted op whose only reader is a Relu or
// a constant bias Add is quantized after that reader (the pattern
// onnxruntime fuses).

type minmax struct{ lo, hi float64 }

// calibrate runs the float model on inputs and records each value's range.
func calibrate(m *onnxpb.ModelProto, inputs []map[string]*onnx.Tensor) (map[string]minmax, error) {
	ev, err := onnx.NewEvaluator(m)
	if err != nil {
		return nil, err
	}
	cal := map[string]minmax{}
	for _, in := range inputs {
		vals, err := ev.Values(in)
		if err != nil {
			return nil, err
		}
		for name, t := range vals {
			if t.Elem != onnxpb.TensorProto_FLOAT {
				continue
			}
			r, ok := cal[name]
			if !ok {
				r = minmax{math.Inf(1), math.Inf(-1)}
			}
			for _, v := range t.Data {
				r.lo, r.hi = math.Min(r.lo, v), math.Max(r.hi, v)
			}
			cal[name] = r
		}
	}
	return cal, nil
}

// actQuant is the per-tensor quantization of a calibrated range.
func actQuant(r minmax, typ int32) ob.Quant {
	lo, hi := math.Min(r.lo, 0), math.Max(r.hi, 0)
	if hi-lo < 1e-8 {
		hi = lo + 1e-8
	}
	scale := float32((hi - lo) / 255)
	qmin := -128.0
	if typ == ob.Uint8 {
		qmin = 0
	}
	zp := math.RoundToEven(qmin - lo/float64(scale))
	zp = math.Max(qmin, math.Min(qmin+255, zp))
	return ob.Quant{Scale: scale, Zero: int32(zp), Type: typ}
}

var softmaxQuant = map[int32]ob.Quant{
	ob.Uint8: {Scale: 1.0 / 256, Zero: 0, Type: ob.Uint8},
	ob.Int8:  {Scale: 1.0 / 256, Zero: -128, Type: ob.Int8},
}

// keepsQuant: ops whose output is quantized like their input.
var keepsQuant = map[string]bool{"MaxPool": true, "Flatten": true, "Reshape": true, "Transpose": true, "Squeeze": true, "Unsqueeze": true}

// quantWeights quantizes float weights per channel along axis.
func quantWeights(w []float64, shape []int, axis int) ([]int8, []float32) {
	ch := shape[axis]
	inner := 1
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	peak := make([]float64, ch)
	for k, v := range w {
		c := (k / inner) % ch
		peak[c] = math.Max(peak[c], math.Abs(v))
	}
	scales := make([]float32, ch)
	for c := range scales {
		scales[c] = float32(math.Max(peak[c], 1e-8) / 127)
	}
	q := make([]int8, len(w))
	for k, v := range w {
		c := (k / inner) % ch
		q[k] = int8(math.Max(-127, math.Min(127, math.RoundToEven(v/float64(scales[c])))))
	}
	return q, scales
}

// graphView indexes a float model for the converters.
type graphView struct {
	m     *onnxpb.ModelProto
	inits map[string]*onnx.Tensor
	uses  map[string][]*onnxpb.NodeProto
}

func newView(m *onnxpb.ModelProto) (*graphView, error) {
	v := &graphView{m: m, inits: map[string]*onnx.Tensor{}, uses: map[string][]*onnxpb.NodeProto{}}
	for _, t := range m.Graph.Initializer {
		d, err := onnx.DecodeTensor(t)
		if err != nil {
			return nil, err
		}
		v.inits[t.Name] = d
	}
	for _, n := range m.Graph.Node {
		for _, in := range n.Input {
			v.uses[in] = append(v.uses[in], n)
		}
	}
	return v, nil
}

func attrInt(n *onnxpb.NodeProto, name string, def int64) int64 {
	for _, a := range n.Attribute {
		if a.Name == name {
			return a.I
		}
	}
	return def
}

// weightAxis is the output-channel axis of a weighted op's weights.
func weightAxis(n *onnxpb.NodeProto) int {
	switch n.OpType {
	case "Conv":
		return 0
	case "Gemm":
		if attrInt(n, "transB", 0) != 0 {
			return 0
		}
	}
	return 1
}

func (v *graphView) weighted(n *onnxpb.NodeProto) bool {
	switch n.OpType {
	case "Conv", "Gemm", "MatMul":
		_, ok := v.inits[n.Input[1]]
		return ok
	}
	return false
}

// fusedReader returns the Relu or constant-bias Add that is a weighted
// op's only reader, or nil.
func (v *graphView) fusedReader(n *onnxpb.NodeProto) *onnxpb.NodeProto {
	if !v.weighted(n) {
		return nil
	}
	r := v.uses[n.Output[0]]
	if len(r) != 1 {
		return nil
	}
	switch u := r[0]; u.OpType {
	case "Relu":
		return u
	case "Add":
		for _, in := range u.Input {
			if _, ok := v.inits[in]; ok {
				return u
			}
		}
	}
	return nil
}

// toQDQ writes the QDQ form of float model m with activations of type typ.
func toQDQ(m *onnxpb.ModelProto, cal map[string]minmax, typ int32) (*onnxpb.ModelProto, error) {
	v, err := newView(m)
	if err != nil {
		return nil, err
	}
	g := ob.New(m.Graph.Name, opsetOf(m))
	for _, vi := range m.Graph.Input {
		g.AddInput(vi)
	}
	params := map[string]ob.Quant{}
	rename := map[string]string{}
	deferred := map[string]bool{} // outputs quantized after their fused reader
	quantizeAs := func(raw, name string, q ob.Quant) {
		g.DequantizeTo(g.Quantize(raw, q), q, name)
		params[name] = q
	}
	for _, vi := range m.Graph.Input {
		q := actQuant(cal[vi.Name], typ)
		name := vi.Name + "_dq"
		quantizeAs(vi.Name, name, q)
		params[vi.Name] = q
		rename[vi.Name] = name
	}
	used := map[string]string{}
	initName := func(name string) string {
		if n, ok := used[name]; ok {
			return n
		}
		for _, t := range m.Graph.Initializer {
			if t.Name == name {
				used[name] = g.Init(cloneTensor(t))
			}
		}
		return used[name]
	}
	for _, n := range m.Graph.Node {
		ins := make([]string, len(n.Input))
		for i, in := range n.Input {
			switch {
			case i > 0 && v.weighted(n):
				// Weights and bias are quantized below.
			case rename[in] != "":
				ins[i] = rename[in]
			case v.inits[in] != nil:
				ins[i] = initName(in)
			default:
				ins[i] = in
			}
		}
		if v.weighted(n) {
			xq := params[n.Input[0]]
			w := v.inits[n.Input[1]]
			axis := weightAxis(n)
			wq, ws := quantWeights(w.Data, w.Shape, axis)
			ins[1] = g.DequantizedWeights(n.Input[1]+"_q", dims64(w.Shape), wq, ws, int64(axis))
			if len(n.Input) > 2 && n.Input[2] != "" {
				b := v.inits[n.Input[2]]
				bq := make([]int32, len(b.Data))
				bs := make([]float32, len(ws))
				for c := range bq {
					bs[c] = xq.Scale * ws[c]
					bq[c] = int32(math.RoundToEven(b.Data[c] / float64(bs[c])))
				}
				ins[2] = g.DequantizedBias(n.Input[2]+"_q", bq, bs)
			}
		}
		o := n.Output[0]
		raw := o
		var q ob.Quant
		switch {
		case v.fusedReader(n) != nil:
			deferred[o] = true
		case keepsQuant[n.OpType]:
			q, raw = params[n.Input[0]], o+"_f"
		case n.OpType == "Softmax":
			q, raw = softmaxQuant[typ], o+"_f"
		default:
			q, raw = actQuant(cal[o], typ), o+"_f"
		}
		g.AddNode(n, ins, []string{raw})
		if raw != o {
			quantizeAs(raw, o, q)
		}
	}
	for _, vi := range m.Graph.Output {
		g.AddOutput(vi)
	}
	return g.Model(), nil
}

// toQOperator writes the QOperator form (QLinearConv, QGemm,
// QLinearMatMul; MaxPool, Flatten and Reshape on integers) of a
// sequential float model. A Relu after a weighted op disappears: its
// output's quantization starts at real zero, so the integers saturate there.
func toQOperator(m *onnxpb.ModelProto, cal map[string]minmax, typ int32) (*onnxpb.ModelProto, error) {
	v, err := newView(m)
	if err != nil {
		return nil, err
	}
	g := ob.New(m.Graph.Name, opsetOf(m))
	g.UseDomain(ob.MicrosoftDomain, 1)
	for _, vi := range m.Graph.Input {
		g.AddInput(vi)
	}
	params := map[string]ob.Quant{}
	qname := map[string]string{}
	for _, vi := range m.Graph.Input {
		q := actQuant(cal[vi.Name], typ)
		qname[vi.Name] = g.Quantize(vi.Name, q)
		params[vi.Name] = q
	}
	skip := map[*onnxpb.NodeProto]bool{}
	for _, n := range m.Graph.Node {
		if skip[n] {
			continue
		}
		x, ok := qname[n.Input[0]]
		if !ok {
			return nil, fmt.Errorf("QOperator: %s reads %q, which is not quantized", n.OpType, n.Input[0])
		}
		xq := params[n.Input[0]]
		o := n.Output[0]
		if keepsQuant[n.OpType] {
			ins := append([]string{x}, n.Input[1:]...)
			for i := 1; i < len(ins); i++ {
				if t := findInit(m, ins[i]); t != nil {
					ins[i] = g.Init(cloneTensor(t))
				}
			}
			qname[o] = g.AddNode(n, ins, []string{o + "_q"})[0]
			params[o] = xq
			continue
		}
		if !v.weighted(n) {
			return nil, fmt.Errorf("QOperator: %s is not supported by this converter", n.OpType)
		}
		out := o
		if r := v.fusedReader(n); r != nil && r.OpType == "Relu" {
			skip[r] = true
			out = r.Output[0]
		}
		yq := actQuant(cal[out], typ)
		w := v.inits[n.Input[1]]
		axis := weightAxis(n)
		wq, ws := quantWeights(w.Data, w.Shape, axis)
		wn := g.Init(ob.Int8Tensor(n.Input[1]+"_q", dims64(w.Shape), wq))
		sdims := []int64{int64(len(ws))}
		wsn := g.Init(ob.FloatTensor(n.Input[1]+"_scale", sdims, ws))
		wzn := g.Init(ob.Int8Tensor(n.Input[1]+"_zero", sdims, make([]int8, len(ws))))
		xs, xz := g.Params(xq)
		ys, yz := g.Params(yq)
		var bias string
		if len(n.Input) > 2 && n.Input[2] != "" {
			b := v.inits[n.Input[2]]
			bq := make([]int32, len(b.Data))
			for c := range bq {
				bq[c] = int32(math.RoundToEven(b.Data[c] / float64(xq.Scale*ws[c])))
			}
			bias = g.Init(ob.Int32Tensor(n.Input[2]+"_q", []int64{int64(len(bq))}, bq))
		}
		var y string
		switch n.OpType {
		case "Conv":
			y = g.AddNodeAs(n, "", "QLinearConv", []string{x, xs, xz, wn, wsn, wzn, ys, yz, bias})
		case "Gemm":
			y = g.AddNodeAs(n, ob.MicrosoftDomain, "QGemm", []string{x, xs, xz, wn, wsn, wzn, bias, ys, yz})
		case "MatMul":
			y = g.AddNodeAs(n, "", "QLinearMatMul", []string{x, xs, xz, wn, wsn, wzn, ys, yz})
		}
		qname[out], params[out] = y, yq
	}
	for _, vi := range m.Graph.Output {
		q, ok := qname[vi.Name]
		if !ok {
			return nil, fmt.Errorf("QOperator: output %q is not quantized", vi.Name)
		}
		g.DequantizeTo(q, params[vi.Name], vi.Name)
		g.AddOutput(vi)
	}
	return g.Model(), nil
}

func opsetOf(m *onnxpb.ModelProto) int64 {
	for _, o := range m.OpsetImport {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			return o.Version
		}
	}
	return 0
}

func findInit(m *onnxpb.ModelProto, name string) *onnxpb.TensorProto {
	for _, t := range m.Graph.Initializer {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func cloneTensor(t *onnxpb.TensorProto) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: t.Name, Dims: t.Dims, DataType: t.DataType, RawData: t.RawData,
		FloatData: t.FloatData, Int64Data: t.Int64Data, Int32Data: t.Int32Data}
}

func dims64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}
