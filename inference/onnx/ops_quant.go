package onnx

import (
	"math"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// sameParams: two quantizations that give the same integers.
func sameParams(a, b qparams) bool {
	return a.dtype == b.dtype && a.zp == b.zp && (a.scale == b.scale || math.Abs(a.scale/b.scale-1) < 1e-6)
}

// emitPending writes a pending op for output quantization y.
func (im *importer) emitPending(p *pending, y qparams) (*qtensor, error) {
	qmin, qmax := clampRange(y, p.lo, p.hi)
	return im.runPending(p, y, qmin, qmax)
}

// runPending writes p with the report attributing its nodes to p's op.
func (im *importer) runPending(p *pending, y qparams, qmin, qmax int32) (*qtensor, error) {
	saved := im.g.attr
	if p.key != "" {
		im.g.attr = p.key
	}
	defer func() { im.g.attr = saved }()
	return p.emit(y, qmin, qmax)
}

// materialize writes a pending op that may be read without a
// QuantizeLinear (pooling): it keeps its input's quantization.
func (im *importer) materialize(p *pending) (*qtensor, error) {
	return im.emitPending(p, *p.passthrough)
}

// act returns input i of a float op as a quantized activation: the
// DequantizeLinear of a quantized tensor. It returns nil for a constant.
func (im *importer) act(n *onnxpb.NodeProto, i int) (*qtensor, error) {
	v, err := im.need(n, i)
	if err != nil {
		return nil, err
	}
	switch v.kind {
	case kDeq, kQuant, kInt:
		return v.q, nil
	case kPending:
		if v.p.passthrough != nil {
			return im.materialize(v.p)
		}
		return nil, unsupported(describe(n), "reads %q, the unquantized float result of %s; op set v1 requantizes after every op, so put QuantizeLinear and DequantizeLinear between them", n.Input[i], v.p.origin)
	case kFloatInput:
		return nil, unsupported(describe(n), "reads the float graph input %q directly; quantize it first (QuantizeLinear)", n.Input[i])
	}
	return nil, nil
}

// requantize returns x quantized as y: x itself when the integers would
// be the same, else a Requantize node with the same view.
func (im *importer) requantize(origin string, x *qtensor, y qparams, qmin, qmax int32) (*qtensor, error) {
	full := int64(qmin) == y.dtype.Min() && int64(qmax) == y.dtype.Max()
	if x.q.scale == 0 || sameParams(x.q, y) {
		if full {
			return x.withTensor(x.t, y), nil
		}
		if x.q.zp == y.zp && x.q.dtype == y.dtype {
			t := im.g.node(inference.OpClamp, &inference.ClampAttrs{Min: qmin, Max: qmax}, y.dtype, y.zp, x.phys, x.t)
			return x.withTensor(t, y), nil
		}
	}
	m, err := QuantizeMultiplier(x.q.scale / y.scale)
	if err != nil {
		return nil, unsupported(origin, "requantizing: %v", err)
	}
	t := im.g.node(inference.OpRequantize, &inference.RequantizeAttrs{Multiplier: m.M, Shift: m.S, QMin: qmin, QMax: qmax}, y.dtype, y.zp, x.phys, x.t)
	return x.withTensor(t, y), nil
}

func fullRange(y qparams) (int32, int32) { return int32(y.dtype.Min()), int32(y.dtype.Max()) }

// outputParams reads QuantizeLinear's output quantization (inputs 1, 2).
func (im *importer) outputParams(n *onnxpb.NodeProto, a attrs) (qparams, error) {
	if a.int("block_size", 0) != 0 {
		return qparams{}, unsupported(describe(n), "blocked quantization (block_size) is not supported")
	}
	if zp, _ := im.get(n, 2); zp == nil {
		if dt := a.int("output_dtype", 0); dt != 0 && dt != int64(onnxpb.TensorProto_UINT8) && dt != int64(onnxpb.TensorProto_INT8) {
			return qparams{}, unsupported(describe(n), "quantizes to %s: op set v1 activations are int8 (uint8 is shifted to int8)", onnxpb.TensorProto_DataType(dt))
		} else if dt == int64(onnxpb.TensorProto_INT8) {
			scale, _, err := im.scalarParam(n, 1, 0)
			if err != nil {
				return qparams{}, err
			}
			if !(scale > 0) || math.IsInf(scale, 0) {
				return qparams{}, unsupported(describe(n), "scale %g is not a positive finite number", scale)
			}
			return qparams{scale: scale, dtype: inference.Int8}, nil
		}
	}
	return im.activationParams(n, 1, 2)
}

func opQuantizeLinear(im *importer, n *onnxpb.NodeProto, a attrs) error {
	v, err := im.need(n, 0)
	if err != nil {
		return err
	}
	if s, _ := im.constant(n, 1); s != nil && s.elements() != 1 {
		return unsupported(describe(n), "per-channel quantization of an activation (%d scales): activations are quantized per tensor", s.elements())
	}
	y, err := im.outputParams(n, a)
	if err != nil {
		return err
	}
	qmin, qmax := fullRange(y)
	var q *qtensor
	switch v.kind {
	case kFloatInput:
		in := v.in
		if in.q != nil {
			if !sameParams(in.q.q, y) {
				return unsupported(describe(n), "the graph input %q is quantized twice with different parameters", in.name)
			}
			q = in.q
			break
		}
		t := im.g.input(y.dtype, y.zp, in.shape)
		im.inputPos[t] = in.pos
		q = &qtensor{t: t, phys: in.shape, perm: identity(len(in.shape)), shape: in.shape, q: y}
		in.q = q
		im.addIO(&im.report.Inputs, in.name, onnxpb.TensorProto_FLOAT, in.shape, y, in.pos)
		im.how("quantizes graph input %q: the converted model takes its int8 values", in.name)
	case kPending:
		q, err = im.emitPending(v.p, y)
		if err != nil {
			return err
		}
		im.how("output quantization of %s", v.p.origin)
	case kDeq:
		q, err = im.requantize(im.origin(), v.q, y, qmin, qmax)
		if err != nil {
			return err
		}
	default:
		return unsupported(describe(n), "quantizes %q, which is not a float tensor", n.Input[0])
	}
	return im.set(n, 0, &value{kind: kQuant, q: q})
}

// deqConstant builds DequantizeLinear(c, scale, zp) along axis.
func (im *importer) deqConstant(n *onnxpb.NodeProto, c *tensorData, si, zi int, axis int64) (*deqConst, error) {
	if c.isFloat() {
		return nil, unsupported(describe(n), "dequantizes the float constant %q", c.name)
	}
	s, err := im.constant(n, si)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, malformed("node %s has no scale", describe(n))
	}
	z, err := im.constant(n, zi)
	if err != nil {
		return nil, err
	}
	r := int64(len(c.shape))
	if axis < 0 {
		axis += r
	}
	d := &deqConst{q: c, axis: int(axis)}
	ns := s.elements()
	if ns != 1 {
		if axis < 0 || axis >= r || c.shape[axis] != ns || len(s.shape) != 1 {
			return nil, malformed("node %s: %d scales for axis %d of shape %v", describe(n), ns, axis, c.shape)
		}
	}
	if z != nil && z.elements() != ns {
		return nil, malformed("node %s: %d zero points for %d scales", describe(n), z.elements(), ns)
	}
	d.scales = make([]float64, ns)
	d.zps = make([]int64, ns)
	for k := 0; k < ns; k++ {
		d.scales[k] = s.at(k)
		if !(d.scales[k] > 0) || math.IsInf(d.scales[k], 0) {
			return nil, unsupported(describe(n), "scale %g is not a positive finite number", d.scales[k])
		}
		if z != nil {
			d.zps[k] = int64(z.at(k))
		}
	}
	return d, nil
}

func opDequantizeLinear(im *importer, n *onnxpb.NodeProto, a attrs) error {
	v, err := im.need(n, 0)
	if err != nil {
		return err
	}
	if a.int("block_size", 0) != 0 {
		return unsupported(describe(n), "blocked quantization (block_size) is not supported")
	}
	switch v.kind {
	case kConst:
		d, err := im.deqConstant(n, v.c, 1, 2, a.int("axis", 1))
		if err != nil {
			return err
		}
		im.how("dequantizes the constant %q (weights or bias, folded into its consumer)", v.c.name)
		return im.set(n, 0, &value{kind: kDeqConst, dc: d})
	case kQuant:
		p, err := im.activationParams(n, 1, 2)
		if err != nil {
			return err
		}
		x := v.q
		if x.q.scale != 0 && (p.zp != x.q.zp || p.dtype != x.q.dtype) {
			return unsupported(describe(n), "reads %q with zero point %d, but it holds values quantized with zero point %d", n.Input[0], p.zp, x.q.zp)
		}
		if x.q.scale == 0 && p.zp != x.q.zp {
			return unsupported(describe(n), "reads the graph input %q with zero point %d; an earlier reader used %d", n.Input[0], p.zp, x.q.zp)
		}
		p.uint8 = x.q.uint8
		return im.set(n, 0, &value{kind: kDeq, q: x.withTensor(x.t, p)})
	}
	return unsupported(describe(n), "dequantizes %q, which is not a quantized tensor", n.Input[0])
}

// quantIn returns input i of a QOperator op (a quantized integer tensor)
// with the scale and zero point the op reads it with.
func (im *importer) quantIn(n *onnxpb.NodeProto, i, si, zi int) (*qtensor, error) {
	v, err := im.need(n, i)
	if err != nil {
		return nil, err
	}
	if v.kind == kConst {
		return nil, nil
	}
	var p qparams
	if si >= 0 {
		p, err = im.activationParams(n, si, zi)
	} else {
		// MatMulInteger/ConvInteger: zero point only; one accumulator unit is 1.
		var zp float64
		var elem onnxpb.TensorProto_DataType
		zp, elem, err = im.scalarParam(n, zi, 0)
		if err == nil && v.kind == kQuant {
			if zv, _ := im.get(n, zi); zv == nil {
				elem = onnxpb.TensorProto_INT8
				if v.q.q.uint8 {
					elem = onnxpb.TensorProto_UINT8
				}
			}
			dt, off, ok := engineType(elem)
			if !ok {
				return nil, unsupported(describe(n), "zero point of type %s", elem)
			}
			p = qparams{scale: 1, zp: int32(int64(zp) - off), dtype: dt, uint8: off != 0}
		}
	}
	if err != nil {
		return nil, err
	}
	switch v.kind {
	case kQuant:
		x := v.q
		if x.q.scale != 0 && x.q.zp != p.zp {
			return nil, unsupported(describe(n), "reads %q with zero point %d, but it was quantized with zero point %d", n.Input[i], p.zp, x.q.zp)
		}
		if x.q.scale == 0 && x.q.zp != p.zp {
			return nil, unsupported(describe(n), "reads the graph input %q with zero point %d; an earlier reader used %d", n.Input[i], p.zp, x.q.zp)
		}
		p.uint8 = x.q.uint8
		return x.withTensor(x.t, p), nil
	case kConst:
		return nil, nil
	case kPending:
		if v.p.rawAcc {
			return nil, unsupported(describe(n), "reads an int32 accumulator")
		}
	}
	return nil, unsupported(describe(n), "input %d (%q) must be a quantized tensor", i, n.Input[i])
}

// activation is act for an operand that must not be a constant.
func (im *importer) activation(n *onnxpb.NodeProto, i int) (*qtensor, error) {
	x, err := im.act(n, i)
	if err == nil && x == nil {
		err = unsupported(describe(n), "input %d (%q) is a constant; op set v1 computes on activations", i, n.Input[i])
	}
	return x, err
}

// quantActivation is quantIn for an operand that must not be a constant.
func (im *importer) quantActivation(n *onnxpb.NodeProto, i, si, zi int) (*qtensor, error) {
	x, err := im.quantIn(n, i, si, zi)
	if err == nil && x == nil {
		err = unsupported(describe(n), "input %d (%q) is a constant; op set v1 computes on activations", i, n.Input[i])
	}
	return x, err
}

// qlinearUnary reads a one-input contrib op's (X, X_scale, X_zp, Y_scale, Y_zp).
func (im *importer) qlinearUnary(n *onnxpb.NodeProto) (*qtensor, qparams, error) {
	x, err := im.quantActivation(n, 0, 1, 2)
	if err != nil {
		return nil, qparams{}, err
	}
	y, err := im.activationParams(n, 3, 4)
	return x, y, err
}

// emitTo writes pending p for output quantization y as node n's output.
func (im *importer) emitTo(n *onnxpb.NodeProto, p *pending, y qparams) error {
	q, err := im.emitPending(p, y)
	if err != nil {
		return err
	}
	return im.set(n, 0, &value{kind: kQuant, q: q})
}
