package onnx

import (
	"math"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/detmath"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// evalNode: one ONNX node, dispatched by op.

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
