package quantize

import (
	"fmt"
	"math"

	"github.com/infergeth/infergeth/inference/onnx"
	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// The QDQ form, as onnxruntime's quantize_static writes it: each float
// activation is followed by QuantizeLinear → DequantizeLinear with its
// calibrated per-tensor scale and zero point; weights are int8, symmetric,
// per output channel, in [−127, 127]; biases int32 at x_scale·w_scale[c].
// Ops that only move values (MaxPool, Reshape, Flatten, Transpose,
// Squeeze, Unsqueeze, Identity) keep their input's quantization; Softmax
// outputs use 1/256. A weighted op or an Add/Mul whose only reader is a
// Relu or Clip (or a weighted op's bias Add, then a Relu) is quantized
// after that reader, the pattern onnxruntime fuses and the importer turns
// into the op's output bounds.

// actQuant is the per-tensor quantization of a calibrated range, always
// holding real zero exactly.
func actQuant(r Range, typ int32) ob.Quant {
	lo, hi := math.Min(r.Lo, 0), math.Max(r.Hi, 0)
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

// keepsQuant: ops whose output is quantized like their first input.
var keepsQuant = map[string]bool{"MaxPool": true, "GlobalMaxPool": true, "Flatten": true, "Reshape": true, "Transpose": true,
	"Squeeze": true, "Unsqueeze": true, "Identity": true, "Dropout": true}

// quantWeights quantizes float weights per channel along axis: symmetric
// int8 in [−127, 127], scale = max|w| / 127 (float32, as ONNX stores it).
func quantWeights(w []float64, shape []int, axis int) ([]int8, []float32) {
	ch := shape[axis]
	inner := product(shape[axis+1:])
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

// weighted: a Conv, Gemm or MatMul with constant rank-2 (or Conv) weights.
func (ix *index) weighted(n *onnxpb.NodeProto) bool {
	if n.Domain != "" || len(n.Input) < 2 {
		return false
	}
	w := ix.inits[n.Input[1]]
	switch n.OpType {
	case "Conv":
		return w != nil
	case "Gemm":
		return w != nil && len(w.Shape) == 2 && attrInt(n, "transA", 0) == 0
	case "MatMul":
		return w != nil && len(w.Shape) >= 2
	}
	return false
}

// fusedTail returns the last node of the chain quantized as one with n:
// a weighted op's bias Add, then a Relu or Clip; or an Add/Mul's Relu or
// Clip. nil when n is quantized on its own.
func (ix *index) fusedTail(n *onnxpb.NodeProto) *onnxpb.NodeProto {
	var tail *onnxpb.NodeProto
	cur := n
	if ix.weighted(n) {
		if u := ix.only(cur.Output[0]); u != nil && u.OpType == "Add" && u.Domain == "" && otherConst(ix, u, cur.Output[0]) != "" {
			tail, cur = u, u
		}
	} else if n.OpType != "Add" && n.OpType != "Mul" {
		return nil
	}
	if u := ix.only(cur.Output[0]); u != nil && u.Domain == "" && u.Input[0] == cur.Output[0] {
		switch u.OpType {
		case "Relu":
			tail = u
		case "Clip":
			if (len(u.Input) < 2 || u.Input[1] == "" || ix.isConst(u.Input[1])) && (len(u.Input) < 3 || u.Input[2] == "" || ix.isConst(u.Input[2])) {
				tail = u
			}
		}
	}
	return tail
}

// writeQDQ writes the QDQ form of the prepared float model m.
func writeQDQ(m *onnxpb.ModelProto, ranges map[string]Range, typ int32) (_ *onnxpb.ModelProto, err error) {
	defer func() {
		// onnxbuild panics on a name defined twice; a malformed model
		// (two nodes writing one value) must come back as an error.
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: writing the QDQ model: %v", onnx.ErrMalformed, p)
		}
	}()
	ix, err := newIndex(m)
	if err != nil {
		return nil, err
	}
	opset, err := onnx.Opset(m)
	if err != nil {
		return nil, err
	}
	g := ob.New(m.Graph.Name, opset)
	// Generated names (scales, zero points, QDQ nodes) stay off the
	// values the copied nodes write; the float results renamed for their
	// QuantizeLinear get names no value has.
	taken := map[string]bool{}
	for _, n := range m.Graph.Node {
		g.Reserve(n.Output...)
		for _, o := range n.Output {
			taken[o] = true
		}
	}
	for _, vi := range m.Graph.Input {
		taken[vi.Name] = true
	}
	for _, t := range m.Graph.Initializer {
		taken[t.Name] = true
	}
	unique := func(base string) string {
		name := base
		for i := 2; taken[name]; i++ {
			name = fmt.Sprintf("%s%d", base, i)
		}
		taken[name] = true
		g.Reserve(name)
		return name
	}
	for _, vi := range m.Graph.Input {
		g.AddInput(vi)
	}
	params := map[string]ob.Quant{}
	rename := map[string]string{}
	quantizeAs := func(raw, name string, q ob.Quant) {
		g.DequantizeTo(g.Quantize(raw, q), q, name)
		params[name] = q
	}
	for _, vi := range graphInputs(m) {
		if vi.GetType().GetTensorType().GetElemType() != ob.Float {
			continue
		}
		q := actQuant(ranges[vi.Name], typ)
		name := unique(vi.Name + "_dq")
		quantizeAs(vi.Name, name, q)
		params[vi.Name] = q
		rename[vi.Name] = name
	}
	initNames := map[string]string{}
	initName := func(name string) string {
		if n, ok := initNames[name]; ok {
			return n
		}
		for _, t := range m.Graph.Initializer {
			if t.Name == name {
				initNames[name] = g.Init(copyInit(t))
			}
		}
		return initNames[name]
	}
	for _, n := range m.Graph.Node {
		ins := make([]string, len(n.Input))
		weighted := ix.weighted(n)
		for i, in := range n.Input {
			switch {
			case in == "":
			case i > 0 && weighted && i <= 2:
				// Weights and bias are quantized below.
			case rename[in] != "":
				ins[i] = rename[in]
			case ix.isConst(in):
				ins[i] = initName(in)
			default:
				ins[i] = in
			}
		}
		node := n
		if weighted {
			node = writeWeights(g, ix, n, ins, params[n.Input[0]])
		}
		o := n.Output[0]
		outs := append([]string(nil), n.Output...)
		var q ob.Quant
		quant := true
		switch {
		case ix.fusedTail(n) != nil:
			quant = false
		case !isFloatValue(ix, n):
			quant = false
		case keepsQuant[n.OpType]:
			q, quant = params[n.Input[0]]
		case n.OpType == "Softmax":
			q = softmaxQuant[typ]
		default:
			q = actQuant(ranges[o], typ)
		}
		if quant {
			outs[0] = unique(o + "_f")
		}
		// Optional outputs nothing reads are dropped (trailing) or named
		// (the importer refuses a node whose extra outputs are read).
		last := 0
		for i := 1; i < len(outs); i++ {
			if outs[i] != "" && (len(ix.readers[outs[i]]) > 0 || ix.outputs[outs[i]]) {
				last = i
			}
		}
		outs = outs[:last+1]
		for i := 1; i < len(outs); i++ {
			if outs[i] == "" {
				outs[i] = unique(fmt.Sprintf("%s_unused%d", o, i))
			}
		}
		g.AddNode(node, ins, outs)
		if n.Name != "" {
			g.LastNode().Name = n.Name // reports and refusals name the user's node
		}
		if quant {
			quantizeAs(outs[0], o, q)
		}
	}
	for _, vi := range m.Graph.Output {
		g.AddOutput(vi)
	}
	out := g.Model()
	uniqueNodeNames(out.Graph.Node)
	return out, nil
}

// uniqueNodeNames renames the later of two nodes sharing a name (a
// generated name that happens to equal one of the user's).
func uniqueNodeNames(nodes []*onnxpb.NodeProto) {
	seen := map[string]bool{}
	for _, n := range nodes {
		seen[n.Name] = true
	}
	counted := map[string]bool{}
	for _, n := range nodes {
		if !counted[n.Name] {
			counted[n.Name] = true
			continue
		}
		base := n.Name
		for i := 2; seen[n.Name]; i++ {
			n.Name = fmt.Sprintf("%s_%d", base, i)
		}
		seen[n.Name], counted[n.Name] = true, true
	}
}

// isFloatValue: n's first output is a float activation (not indices or a
// shape), as the calibration run saw it.
func isFloatValue(ix *index, n *onnxpb.NodeProto) bool {
	switch n.OpType {
	case "ArgMax", "Shape", "Size", "Cast":
		return n.OpType == "Cast" && attrInt(n, "to", 0) == int64(onnxpb.TensorProto_FLOAT)
	}
	return true
}

// writeWeights adds the quantized weights (and bias) of weighted node n
// to ins, folding Gemm's alpha and beta into them, and returns the node
// to write (n, or a copy without alpha and beta).
func writeWeights(g *ob.Graph, ix *index, n *onnxpb.NodeProto, ins []string, xq ob.Quant) *onnxpb.NodeProto {
	w := ix.inits[n.Input[1]]
	wv := w.Data
	alpha, beta := 1.0, 1.0
	node := n
	if n.OpType == "Gemm" {
		alpha, beta = attrFloat(n, "alpha", 1), attrFloat(n, "beta", 1)
		node = &onnxpb.NodeProto{Name: n.Name, OpType: n.OpType, Attribute: withoutAttrs(n, "alpha", "beta")}
	}
	if alpha != 1 {
		wv = make([]float64, len(w.Data))
		for k, v := range w.Data {
			wv[k] = float64(float32(alpha) * float32(v))
		}
	}
	axis := weightAxis(n)
	var wq []int8
	var ws []float32
	if n.OpType == "MatMul" && len(w.Shape) > 2 {
		// One matrix per batch: the engine's MatMul takes one scale for
		// B, so these weights are quantized per tensor.
		wq, ws = quantWeights(wv, []int{1, len(wv)}, 0)
	} else {
		wq, ws = quantWeights(wv, w.Shape, axis)
	}
	ins[1] = g.DequantizedWeights(n.Input[1]+"_q", dims64(w.Shape), wq, ws, int64(axis))
	if len(n.Input) > 2 && n.Input[2] != "" {
		b := ix.inits[n.Input[2]]
		bv := make([]float64, len(b.Data))
		for c, v := range b.Data {
			bv[c] = v
			if beta != 1 {
				bv[c] = float64(float32(beta) * float32(v))
			}
		}
		if len(bv) == len(ws) {
			bq := make([]int32, len(bv))
			bs := make([]float32, len(ws))
			for c := range bq {
				bs[c] = xq.Scale * ws[c]
				bq[c] = int32(math.Max(math.MinInt32, math.Min(math.MaxInt32, math.RoundToEven(bv[c]/float64(bs[c])))))
			}
			ins[2] = g.DequantizedBias(n.Input[2]+"_q", bq, bs)
		} else {
			// A broadcast C stays float; the importer converts it from its real values.
			t, _ := tensorProto(n.Input[2], &onnx.Tensor{Elem: onnxpb.TensorProto_FLOAT, Shape: b.Shape, Data: bv})
			ins[2] = g.Init(t)
		}
	}
	return node
}

// copyInit copies an initializer for the output graph.
func copyInit(t *onnxpb.TensorProto) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: t.Name, Dims: t.Dims, DataType: t.DataType, RawData: t.RawData,
		FloatData: t.FloatData, Int64Data: t.Int64Data, Int32Data: t.Int32Data, DoubleData: t.DoubleData}
}
