package onnx

import (
	"slices"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"github.com/infergeth/infergeth/params"
)

// wrapPending applies f after p is written: ops that commute with
// requantization (views, MaxPool) may sit between an op and its
// QuantizeLinear.
func (im *importer) wrapPending(p *pending, shape []int, f func(q *qtensor) (*qtensor, error)) *pending {
	np := newPending(p.origin, shape, func(y qparams, qmin, qmax int32) (*qtensor, error) {
		lo, hi := clampRange(y, p.lo, p.hi)
		q, err := im.runPending(p, y, max(lo, qmin), min(hi, qmax))
		if err != nil {
			return nil, err
		}
		return f(q)
	})
	np.passthrough = p.passthrough
	np.rawAcc = p.rawAcc
	return np
}

// poolWindow reads a pool's attributes for the ONNX input shape (NCHW or
// NCL, or NHWC with channels_last) and returns the engine attributes.
func poolWindow(origin string, a attrs, shape []int, channelsLast bool) (inference.Pool2DAttrs, []int, error) {
	var pa inference.Pool2DAttrs
	oneD := len(shape) == 3
	if len(shape) != 4 && !oneD {
		return pa, nil, unsupported(origin, "pooling over a rank-%d input: op set v1 pools 2-D windows", len(shape))
	}
	h, w := 1, shape[2]
	if !oneD {
		h, w = shape[2], shape[3]
		if channelsLast {
			h, w = shape[1], shape[2]
		}
	}
	kh, kw, ok := poolKernel(a.ints("kernel_shape"), oneD)
	if !ok {
		return pa, nil, unsupported(origin, "kernel_shape %v", a.ints("kernel_shape"))
	}
	if kh < 1 || kw < 1 || kh > params.MaxKernelDim || kw > params.MaxKernelDim {
		return pa, nil, unsupported(origin, "kernel %dx%d is outside [1, %d]", kh, kw, params.MaxKernelDim)
	}
	for _, d := range a.ints("dilations") {
		if d != 1 {
			return pa, nil, unsupported(origin, "dilated pooling")
		}
	}
	if a.int("storage_order", 0) != 0 {
		return pa, nil, unsupported(origin, "storage_order 1")
	}
	geo, oh, ow, err := convGeometry(origin, a, h, w, kh, kw, oneD)
	if err != nil {
		return pa, nil, err
	}
	if a.int("ceil_mode", 0) != 0 {
		// Ceil mode only matters when a last partial window exists.
		ch := ceilOut(h, kh, int(geo.StrideH), int(geo.PadTop+geo.PadBottom))
		cw := ceilOut(w, kw, int(geo.StrideW), int(geo.PadLeft+geo.PadRight))
		if ch != oh || cw != ow {
			return pa, nil, unsupported(origin, "ceil_mode 1 with a partial last window")
		}
	}
	pa = inference.Pool2DAttrs{KernelH: uint32(kh), KernelW: uint32(kw), StrideH: geo.StrideH, StrideW: geo.StrideW,
		PadTop: geo.PadTop, PadLeft: geo.PadLeft, PadBottom: geo.PadBottom, PadRight: geo.PadRight}
	if pa.PadTop >= pa.KernelH || pa.PadBottom >= pa.KernelH || pa.PadLeft >= pa.KernelW || pa.PadRight >= pa.KernelW {
		return pa, nil, unsupported(origin, "padding as large as the kernel (a window of padding only)")
	}
	var out []int
	n, c := shape[0], shape[1]
	switch {
	case oneD:
		out = []int{n, c, ow}
	case channelsLast:
		out = []int{n, oh, ow, shape[3]}
	default:
		out = []int{n, c, oh, ow}
	}
	return pa, out, nil
}

// poolKernel reads kernel_shape for a 2-D window (1-D: H = 1).
func poolKernel(ks []int64, oneD bool) (int, int, bool) {
	switch {
	case oneD && len(ks) == 1:
		return 1, int(ks[0]), true
	case !oneD && len(ks) == 2:
		return int(ks[0]), int(ks[1]), true
	}
	return 0, 0, false
}

func ceilOut(in, k, s, pads int) int { return (in+pads-k+s-1)/s + 1 }

// poolInput arranges x for a 2-D pool: NHWC, with a 1-D input as H = 1.
func (im *importer) poolInput(origin string, x *qtensor, channelsLast bool) (*qtensor, []int) {
	if len(x.shape) == 3 {
		x = x.withShape([]int{x.shape[0], x.shape[1], 1, x.shape[2]})
	}
	order := []int{0, 2, 3, 1}
	outPerm := []int{0, 3, 1, 2}
	if channelsLast {
		order, outPerm = identity(4), identity(4)
	}
	return im.arrange(origin, x, order), outPerm
}

func opMaxPool(im *importer, n *onnxpb.NodeProto, a attrs) error {
	if err := im.onlyFirstOutput(n); err != nil {
		return err
	}
	v, err := im.need(n, 0)
	if err != nil {
		return err
	}
	origin := describe(n)
	global := n.OpType == "GlobalMaxPool"
	if global {
		a = globalWindow(v.shape())
	}
	pa, outShape, err := poolWindow(origin, a, v.shape(), false)
	if err != nil {
		return err
	}
	pool := func(x *qtensor) (*qtensor, error) {
		xin, outPerm := im.poolInput(origin, x, false)
		outPhys := []int{xin.phys[0], inference.ConvOutput(xin.phys[1], int(pa.KernelH), int(pa.StrideH), 1, int(pa.PadTop), int(pa.PadBottom)),
			inference.ConvOutput(xin.phys[2], int(pa.KernelW), int(pa.StrideW), 1, int(pa.PadLeft), int(pa.PadRight)), xin.phys[3]}
		a := pa
		t := im.g.node(inference.OpMaxPool2D, &a, x.q.dtype, x.q.zp, outPhys, xin.t)
		return &qtensor{t: t, phys: outPhys, perm: outPerm, shape: outShape, q: x.q}, nil
	}
	switch v.kind {
	case kPending:
		// MaxPool commutes with a monotone requantization.
		return im.set(n, 0, &value{kind: kPending, p: im.wrapPending(v.p, outShape, pool)})
	case kDeq, kQuant:
		q, err := pool(v.q)
		if err != nil {
			return err
		}
		return im.set(n, 0, &value{kind: v.kind, q: q})
	}
	return unsupported(origin, "pools %q, which is not a quantized activation", n.Input[0])
}

// globalWindow is the attribute set of a pool over the whole H×W.
func globalWindow(shape []int) attrs {
	ks := []int64{}
	for _, d := range shape[2:] {
		ks = append(ks, int64(d))
	}
	return attrs{"kernel_shape": &onnxpb.AttributeProto{Name: "kernel_shape", Type: onnxpb.AttributeProto_INTS, Ints: ks}}
}

// averagePool builds a pending average pool of x. Requantizing to a new
// scale is one rounding: a DepthwiseConv2D with all-one weights and the
// multiplier x_scale / (y_scale · window) (exact for count_include_pad=1
// and for unpadded windows, whose counts are all the window's size).
// Keeping the scale is AvgPool2D, exact (round half up).
func (im *importer) averagePool(origin string, x *qtensor, pa inference.Pool2DAttrs, outShape []int, countPad, channelsLast bool) *pending {
	padded := pa.PadTop+pa.PadBottom+pa.PadLeft+pa.PadRight > 0
	p := newPending(origin, outShape, func(y qparams, qmin, qmax int32) (*qtensor, error) {
		xin, outPerm := im.poolInput(origin, x, channelsLast)
		b, h, w, c := xin.phys[0], xin.phys[1], xin.phys[2], xin.phys[3]
		oh := inference.ConvOutput(h, int(pa.KernelH), int(pa.StrideH), 1, int(pa.PadTop), int(pa.PadBottom))
		ow := inference.ConvOutput(w, int(pa.KernelW), int(pa.StrideW), 1, int(pa.PadLeft), int(pa.PadRight))
		outPhys := []int{b, oh, ow, c}
		out := &qtensor{phys: outPhys, perm: outPerm, shape: outShape, q: y}
		window := int(pa.KernelH * pa.KernelW)
		full := int64(qmin) == y.dtype.Min() && int64(qmax) == y.dtype.Max()
		same := sameParams(x.q, y)
		switch {
		case same && (!padded || !countPad):
			// AvgPool2D's divisor (the inside taps) is ONNX's here.
		case !padded || countPad:
			// Every window divides by its full size: one multiplier.
			m, err := QuantizeMultiplier(x.q.scale / (y.scale * float64(window)))
			if err != nil {
				return nil, unsupported(origin, "%v", err)
			}
			ones := make([]int64, window*c)
			for i := range ones {
				ones[i] = 1
			}
			mults, shifts := make([]int64, c), make([]int64, c)
			for i := range mults {
				mults[i], shifts[i] = int64(m.M), int64(m.S)
			}
			a := inference.DepthwiseConv2DAttrs{Conv2DAttrs: inference.Conv2DAttrs{StrideH: pa.StrideH, StrideW: pa.StrideW,
				DilationH: 1, DilationW: 1, PadTop: pa.PadTop, PadLeft: pa.PadLeft, PadBottom: pa.PadBottom, PadRight: pa.PadRight,
				QMin: qmin, QMax: qmax}, DepthMultiplier: 1}
			out.t = im.g.node(inference.OpDepthwiseConv2D, &a, y.dtype, y.zp, outPhys, xin.t,
				im.g.constant(inference.Int8, []int{int(pa.KernelH), int(pa.KernelW), c}, ones),
				im.g.constant(inference.Int32, []int{c}, make([]int64, c)),
				im.g.constant(inference.Int32, []int{c}, mults),
				im.g.constant(inference.Int8, []int{c}, shifts))
			return out, nil
		}
		a := pa
		t := im.g.node(inference.OpAvgPool2D, &a, x.q.dtype, x.q.zp, outPhys, xin.t)
		pooled := &qtensor{t: t, phys: outPhys, perm: outPerm, shape: outShape, q: x.q}
		if same && full {
			return pooled, nil
		}
		return im.requantize(origin, pooled, y, qmin, qmax)
	})
	xq := x.q
	p.passthrough = &xq
	return p
}

func opAveragePool(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.activation(n, 0)
	if err != nil {
		return err
	}
	origin := describe(n)
	countPad := a.int("count_include_pad", 0) != 0
	if n.OpType == "GlobalAveragePool" {
		a, countPad = globalWindow(x.shape), false
	}
	pa, outShape, err := poolWindow(origin, a, x.shape, false)
	if err != nil {
		return err
	}
	return im.set(n, 0, &value{kind: kPending, p: im.averagePool(origin, x, pa, outShape, countPad, false)})
}

// opQLinearPool: com.microsoft.QLinearAveragePool / QLinearGlobalAveragePool(X, x_scale, x_zp, y_scale, y_zp).
func opQLinearPool(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, y, err := im.qlinearUnary(n)
	if err != nil {
		return err
	}
	origin := describe(n)
	channelsLast := a.int("channels_last", 0) != 0
	countPad := a.int("count_include_pad", 0) != 0
	if n.OpType == "QLinearGlobalAveragePool" {
		if len(x.shape) != 4 {
			return unsupported(origin, "global pooling over rank %d", len(x.shape))
		}
		ks := []int64{int64(x.shape[2]), int64(x.shape[3])}
		if channelsLast {
			ks = []int64{int64(x.shape[1]), int64(x.shape[2])}
		}
		a = attrs{"kernel_shape": &onnxpb.AttributeProto{Name: "kernel_shape", Type: onnxpb.AttributeProto_INTS, Ints: ks}}
		countPad = false
	}
	pa, outShape, err := poolWindow(origin, a, x.shape, channelsLast)
	if err != nil {
		return err
	}
	return im.emitTo(n, im.averagePool(origin, x, pa, outShape, countPad, channelsLast), y)
}

// reduceAxes reads ReduceMean's axes (attribute before opset 18, input after).
func (im *importer) reduceAxes(n *onnxpb.NodeProto, a attrs, rank int) ([]int, error) {
	var raw []int64
	if im.opset >= 18 {
		c, err := im.constant(n, 1)
		if err != nil {
			return nil, err
		}
		if c != nil {
			for k := 0; k < c.elements(); k++ {
				raw = append(raw, int64(c.at(k)))
			}
		}
	} else {
		raw = a.ints("axes")
	}
	if len(raw) == 0 {
		if a.int("noop_with_empty_axes", 0) != 0 {
			return nil, nil
		}
		return identity(rank), nil
	}
	var axes []int
	for _, x := range raw {
		if x < 0 {
			x += int64(rank)
		}
		if x < 0 || x >= int64(rank) || slices.Contains(axes, int(x)) {
			return nil, malformed("%s: axes %v for rank %d", describe(n), raw, rank)
		}
		axes = append(axes, int(x))
	}
	slices.Sort(axes)
	return axes, nil
}

func opReduceMean(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.activation(n, 0)
	if err != nil {
		return err
	}
	origin := describe(n)
	axes, err := im.reduceAxes(n, a, len(x.shape))
	if err != nil {
		return err
	}
	v, _ := im.need(n, 0)
	if axes == nil {
		return im.set(n, 0, v)
	}
	keep := a.int("keepdims", 1) != 0
	if len(x.shape) == 4 && slices.Equal(axes, []int{2, 3}) && keep && x.shape[2] <= params.MaxKernelDim && x.shape[3] <= params.MaxKernelDim {
		// The spatial mean is a global average pool.
		pa, outShape, err := poolWindow(origin, globalWindow(x.shape), x.shape, false)
		if err != nil {
			return err
		}
		return im.set(n, 0, &value{kind: kPending, p: im.averagePool(origin, x, pa, outShape, false, false)})
	}
	if x.q.dtype != inference.Int8 && x.q.dtype != inference.Int16 {
		return unsupported(origin, "mean of %s", x.q.dtype)
	}
	if !x.pure() {
		x = im.logical(origin, x)
	}
	mask, phys, perm, shape := reduceView(x, axes, keep)
	p := newPending(origin, shape, func(y qparams, qmin, qmax int32) (*qtensor, error) {
		t := im.g.node(inference.OpMean, &inference.MeanAttrs{Axes: mask, KeepDims: b2u(keep)}, x.q.dtype, x.q.zp, phys, x.t)
		mean := &qtensor{t: t, phys: phys, perm: perm, shape: shape, q: x.q}
		return im.requantize(origin, mean, y, qmin, qmax)
	})
	xq := x.q
	p.passthrough = &xq
	return im.set(n, 0, &value{kind: kPending, p: p})
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
