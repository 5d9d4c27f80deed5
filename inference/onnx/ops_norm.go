package onnx

import (
	"math"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/detmath"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"github.com/infergeth/infergeth/params"
)

// lastAxis returns x laid out so that ONNX axis is the engine's last axis
// (Softmax, LayerNorm and RMSNorm work along it); no data moves when it
// already is.
func (im *importer) lastAxis(origin string, x *qtensor, axis int) *qtensor {
	if x.pure() && x.perm[axis] == len(x.phys)-1 {
		return x
	}
	order := make([]int, 0, len(x.shape))
	for i := range x.shape {
		if i != axis {
			order = append(order, i)
		}
	}
	return im.arrange(origin, x, append(order, axis))
}

// softmaxPending: the engine's integer Softmax with
// expTable[d] = round(2^16 · exp(−d · x_scale)) and outputScale = 1/y_scale.
func (im *importer) softmaxPending(origin string, x *qtensor, axis int) (*pending, error) {
	if n := x.shape[axis]; n > params.MaxNormAxis {
		return nil, unsupported(origin, "softmax over %d elements exceeds MaxNormAxis (%d)", n, params.MaxNormAxis)
	}
	return newPending(origin, x.shape, func(y qparams, qmin, qmax int32) (*qtensor, error) {
		if x.q.dtype != inference.Int8 {
			return nil, unsupported(origin, "softmax of %s", x.q.dtype)
		}
		xin := im.lastAxis(origin, x, axis)
		table := make([]int64, 256)
		for d := range table {
			table[d] = int64(math.RoundToEven(65536 * detmath.Exp(-float64(d)*x.q.scale)))
		}
		inv := 1 / y.scale
		os := math.RoundToEven(inv)
		if os < 1 || os > math.MaxInt32 {
			return nil, unsupported(origin, "output scale %g: the integer Softmax needs 1/scale in [1, 2^31−1]", y.scale)
		}
		if math.Abs(os-inv) > 1e-3*inv {
			im.note("%s: output scale %g is not 1/integer; the integer Softmax uses 1/%g (relative error %.2g)", origin, y.scale, os, math.Abs(os-inv)/inv)
		}
		tt := im.g.constant(inference.Int32, []int{256}, table)
		t := im.g.node(inference.OpSoftmax, &inference.SoftmaxAttrs{OutputScale: uint32(os), QMin: qmin, QMax: qmax}, y.dtype, y.zp, xin.phys, xin.t, tt)
		return xin.withTensor(t, y), nil
	}), nil
}

func opSoftmax(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.activation(n, 0)
	if err != nil {
		return err
	}
	axisAttr := a.int("axis", -1)
	if im.opset < 13 {
		axisAttr = a.int("axis", 1)
	}
	axis, ok := normAxis(axisAttr, len(x.shape))
	if !ok {
		return malformed("node %s: axis for rank %d", describe(n), len(x.shape))
	}
	if im.opset < 13 {
		// Before opset 13 Softmax normalizes over every axis from axis on
		// as one: the engine's Softmax when only the last is longer than 1.
		for _, d := range x.shape[axis : len(x.shape)-1] {
			if d != 1 {
				return unsupported(describe(n), "opset %d Softmax over the flattened axes from %d of shape %v: op set v1 normalizes over one axis", im.opset, axis, x.shape)
			}
		}
		axis = len(x.shape) - 1
	}
	p, err := im.softmaxPending(describe(n), x, axis)
	if err != nil {
		return err
	}
	return im.set(n, 0, &value{kind: kPending, p: p})
}

// opQLinearSoftmax: com.microsoft.QLinearSoftmax(X, X_scale, x_zp, y_scale, y_zp).
func opQLinearSoftmax(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, y, err := im.qlinearUnary(n)
	if err != nil {
		return err
	}
	axis, ok := normAxis(a.int("axis", -1), len(x.shape))
	if !ok {
		return malformed("node %s: axis for rank %d", describe(n), len(x.shape))
	}
	if a.int("opset", 13) < 13 && axis != len(x.shape)-1 {
		return unsupported(describe(n), "opset<13 softmax over the flattened axes from %d", axis)
	}
	p, err := im.softmaxPending(describe(n), x, axis)
	if err != nil {
		return err
	}
	return im.emitTo(n, p, y)
}

// normFractionBits is F in the engine's LayerNorm: the normalised value
// carries 16 fraction bits.
const normFractionBits = 16

// normPending: LayerNorm (or RMSNorm) along ONNX axis of x with real gamma,
// beta (nil: 0) and epsilon. The real γ, β, ε and both scales fold into the
// engine's integer gamma, beta, epsilon and shift (docs/onnx-import.md).
func (im *importer) normPending(origin string, x *qtensor, axis int, gamma, beta []float64, eps float64, rms bool) (*pending, error) {
	n := x.shape[axis]
	if n > params.MaxNormAxis {
		return nil, unsupported(origin, "normalising %d elements exceeds MaxNormAxis (%d)", n, params.MaxNormAxis)
	}
	if len(gamma) != n || (beta != nil && len(beta) != n) {
		return nil, unsupported(origin, "scale/bias of %d and %d elements for an axis of %d", len(gamma), len(beta), n)
	}
	return newPending(origin, x.shape, func(y qparams, qmin, qmax int32) (*qtensor, error) {
		if x.q.dtype != inference.Int8 {
			return nil, unsupported(origin, "normalising %s", x.q.dtype)
		}
		xin := im.lastAxis(origin, x, axis)
		const F = normFractionBits
		gmax, bmax := 0.0, 0.0
		for j := 0; j < n; j++ {
			gmax = math.Max(gmax, math.Abs(gamma[j])/(y.scale*(1<<F)))
			if beta != nil {
				bmax = math.Max(bmax, math.Abs(beta[j])/y.scale)
			}
		}
		big := math.Max(gmax, bmax)
		s := params.MaxShift
		if big > 0 {
			_, e := math.Frexp(float64(math.MaxInt32) / big) // 2^(e−1) ≤ ratio < 2^e
			s = min(params.MaxShift, e-1)
		}
		tmax := float64(2*int(math.Ceil(math.Sqrt(float64(n))))<<F + 1)
		for s > 0 && float64(tmax*math.Ldexp(gmax, s))+math.Ldexp(bmax, s)+math.Ldexp(1, s-1) > math.MaxInt64/2 {
			s--
		}
		if s < 0 {
			return nil, unsupported(origin, "scale or bias too large for the output scale %g", y.scale)
		}
		gi, bi := make([]int64, n), make([]int64, n)
		for j := 0; j < n; j++ {
			gi[j] = int64(math.RoundToEven(math.Ldexp(gamma[j]/(y.scale*(1<<F)), s)))
			if beta != nil {
				bi[j] = int64(math.RoundToEven(math.Ldexp(beta[j]/y.scale, s)))
			}
		}
		e := eps / (x.q.scale * x.q.scale)
		if !rms {
			e *= float64(n) * float64(n)
		}
		ei := math.RoundToEven(e)
		if ei < 1 {
			ei = 1
			im.note("%s: epsilon %g is below one integer unit of the variance; the engine uses 1 (%g in real terms)", origin, eps, eps/e)
		}
		if ei > params.MaxNormEpsilon {
			return nil, unsupported(origin, "epsilon %g is %g integer units, above MaxNormEpsilon", eps, ei)
		}
		op := inference.OpLayerNorm
		if rms {
			op = inference.OpRMSNorm
		}
		a := &inference.NormAttrs{FractionBits: F, Epsilon: uint64(ei), Shift: uint32(s), QMin: qmin, QMax: qmax}
		t := im.g.node(op, a, y.dtype, y.zp, xin.phys, xin.t,
			im.g.constant(inference.Int32, []int{n}, gi), im.g.constant(inference.Int32, []int{n}, bi))
		return xin.withTensor(t, y), nil
	}), nil
}

func realVector(v *value) []float64 {
	if v == nil {
		return nil
	}
	c := constValues(v)
	if c == nil {
		return nil
	}
	out := make([]float64, c.elements())
	for k := range out {
		out[k] = c.at(k)
	}
	return out
}

func opLayerNorm(im *importer, n *onnxpb.NodeProto, a attrs) error {
	if err := im.onlyFirstOutput(n); err != nil {
		return err
	}
	x, err := im.activation(n, 0)
	if err != nil {
		return err
	}
	origin := describe(n)
	axis, ok := normAxis(a.int("axis", -1), len(x.shape))
	if !ok {
		return malformed("node %s: axis for rank %d", origin, len(x.shape))
	}
	if axis != len(x.shape)-1 {
		return unsupported(origin, "normalising over axes %d.. of rank %d: op set v1 normalises the last axis", axis, len(x.shape))
	}
	gv, err := im.need(n, 1)
	if err != nil {
		return err
	}
	bv, err := im.get(n, 2)
	if err != nil {
		return err
	}
	gamma, beta := realVector(gv), realVector(bv)
	if gamma == nil || (bv != nil && beta == nil) {
		return unsupported(origin, "scale and bias must be constants")
	}
	rms := n.OpType == "SimplifiedLayerNormalization"
	p, err := im.normPending(origin, x, axis, gamma, beta, a.float("epsilon", 1e-5), rms)
	if err != nil {
		return err
	}
	return im.set(n, 0, &value{kind: kPending, p: p})
}
