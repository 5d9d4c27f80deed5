package onnx

import (
	"math"
	"slices"

	"github.com/infergeth/infergeth/inference"
)

// denseKind is the engine op a dense ONNX op becomes.
type denseKind int

const (
	denseFC denseKind = iota
	denseConv
	denseDepthwise
	denseMatMul // activation × activation
)

// denseOp is a dense op whose output quantization is not known yet. Until
// it is, a bias Add or a scale Mul after it (no QuantizeLinear between)
// folds into it: accScale and bias are real numbers per output channel.
type denseOp struct {
	kind   denseKind
	origin string
	x      int // engine input tensor (FC: last dim K; convolutions: NHWC)
	b      int // MatMul's second operand
	xq, bq qparams
	transB bool
	w      []int64 // engine-layout int8 weights
	wshape []int
	conv   inference.Conv2DAttrs
	mult   uint32 // depthwise multiplier

	accScale []float64 // real value of one accumulator unit, per channel
	bias     []float64 // real bias per channel (nil: none)
	// exactBias, when set, is the bias as integers in accumulator units,
	// valid while accScale equals exactScale (a quantized int32 bias).
	exactBias  []int64
	exactScale []float64

	allowBias bool
	chanAxis  int // ONNX axis of the output channels
	channels  int

	outPhys, outPerm, outShape []int
}

// scaleBy folds a positive per-channel (or scalar) factor in.
func (d *denseOp) scaleBy(f []float64) {
	for c := range d.accScale {
		k := c
		if len(f) == 1 {
			k = 0
		}
		d.accScale[c] *= f[k]
		if d.bias != nil {
			d.bias[c] *= f[k]
		}
	}
}

// addBias folds a per-channel (or scalar) real bias in.
func (d *denseOp) addBias(b []float64) {
	if d.bias == nil {
		d.bias = make([]float64, d.channels)
	}
	for c := range d.bias {
		k := c
		if len(b) == 1 {
			k = 0
		}
		d.bias[c] += b[k]
	}
	d.exactBias = nil
}

// emitDense writes d for output quantization y.
func (im *importer) emitDense(d *denseOp, y qparams, qmin, qmax int32) (*qtensor, error) {
	g := im.g
	n := d.channels
	mults := make([]int64, n)
	shifts := make([]int64, n)
	for c := 0; c < n; c++ {
		m, err := QuantizeMultiplier(d.accScale[c] / y.scale)
		if err != nil {
			return nil, unsupported(d.origin, "output channel %d: %v", c, err)
		}
		mults[c], shifts[c] = int64(m.M), int64(m.S)
	}
	out := &qtensor{phys: d.outPhys, perm: d.outPerm, shape: d.outShape, q: y}
	if d.kind == denseMatMul {
		if d.bias != nil {
			return nil, unsupported(d.origin, "a bias after an activation × activation MatMul needs its own quantized Add")
		}
		a := &inference.MatMulAttrs{Multiplier: int32(mults[0]), Shift: uint32(shifts[0]), QMin: qmin, QMax: qmax}
		if d.transB {
			a.TransposeB = 1
		}
		out.t = g.node(inference.OpMatMul, a, y.dtype, y.zp, d.outPhys, d.x, d.b)
		return out, nil
	}
	bias := make([]int64, n)
	useExact := d.exactBias != nil && slices.EqualFunc(d.accScale, d.exactScale, func(a, b float64) bool { return math.Abs(a/b-1) < 1e-6 })
	for c := 0; c < n; c++ {
		switch {
		case useExact:
			bias[c] = d.exactBias[c]
		case d.bias != nil:
			v := math.RoundToEven(d.bias[c] / d.accScale[c])
			if !(math.Abs(v) <= math.MaxInt32) {
				return nil, unsupported(d.origin, "bias %g of channel %d is %g accumulator units, beyond int32", d.bias[c], c, v)
			}
			bias[c] = int64(v)
		}
	}
	wt := g.constant(inference.Int8, d.wshape, d.w)
	bt := g.constant(inference.Int32, []int{n}, bias)
	mt := g.constant(inference.Int32, []int{n}, mults)
	st := g.constant(inference.Int8, []int{n}, shifts)
	switch d.kind {
	case denseFC:
		out.t = g.node(inference.OpFullyConnected, &inference.FullyConnectedAttrs{QMin: qmin, QMax: qmax}, y.dtype, y.zp, d.outPhys, d.x, wt, bt, mt, st)
	case denseConv:
		a := d.conv
		a.QMin, a.QMax = qmin, qmax
		out.t = g.node(inference.OpConv2D, &a, y.dtype, y.zp, d.outPhys, d.x, wt, bt, mt, st)
	case denseDepthwise:
		a := inference.DepthwiseConv2DAttrs{Conv2DAttrs: d.conv, DepthMultiplier: d.mult}
		a.QMin, a.QMax = qmin, qmax
		out.t = g.node(inference.OpDepthwiseConv2D, &a, y.dtype, y.zp, d.outPhys, d.x, wt, bt, mt, st)
	}
	return out, nil
}

// newPendingDense wraps d as a pending value bound to this importer.
func (im *importer) newPendingDense(d *denseOp) *pending {
	p := newPending(d.origin, d.outShape, nil)
	p.dense = d
	p.emit = func(y qparams, qmin, qmax int32) (*qtensor, error) { return im.emitDense(d, y, qmin, qmax) }
	return p
}

// fcInput prepares x (ONNX shape [..., K]) as a fully connected layer's
// input. It returns the engine tensor, the output view for N channels, and
// colPerm: engine column f of the input holds ONNX column colPerm[f] (nil:
// the same), so the weights' columns can follow the data instead of the
// data being transposed.
func (im *importer) fcInput(origin string, x *qtensor, n int) (t int, colPerm []int, outPhys, outPerm, outShape []int) {
	k := x.shape[len(x.shape)-1]
	outShape = append(append([]int{}, x.shape[:len(x.shape)-1]...), n)
	if isIdentity(x.perm) && len(x.phys) > 0 && x.phys[len(x.phys)-1] == k {
		// Row-major data already has K innermost: read it as it is.
		outPhys = append(append([]int{}, x.phys[:len(x.phys)-1]...), n)
		return x.t, nil, outPhys, identity(len(outPhys)), outShape
	}
	ts := x.tshape()
	if len(x.shape) == 2 && len(ts) >= 2 && x.perm[0] == 0 && ts[0] == x.shape[0] {
		// A flattened [B, ...] view of permuted data: permute the weight
		// columns instead of the data.
		inner := x.phys[1:]
		colPerm = make([]int, k)
		e := make([]int, len(inner))
		for f := 0; f < k; f++ {
			// ONNX column: T's trailing index, row-major over ts[1:].
			col := 0
			for i := 1; i < len(ts); i++ {
				// T axis i is engine axis x.perm[i].
				col = col*ts[i] + e[x.perm[i]-1]
			}
			colPerm[f] = col
			for j := len(e) - 1; j >= 0; j-- {
				e[j]++
				if e[j] < inner[j] {
					break
				}
				e[j] = 0
			}
		}
		t = im.reshapeTensor(origin, x.t, x.phys, []int{x.shape[0], k}, x.q)
		outPhys = []int{x.shape[0], n}
		return t, colPerm, outPhys, identity(2), outShape
	}
	x = im.logical(origin, x)
	outPhys = append([]int{}, outShape...)
	return x.t, nil, outPhys, identity(len(outPhys)), outShape
}

// fullyConnected builds a pending FullyConnected of x (ONNX [..., K]) with
// weights ws laid out [K, N] (kn) or [N, K].
func (im *importer) fullyConnected(origin string, x *qtensor, ws *weightSet, kn bool, bias *value) (*pending, error) {
	var K, N int
	if kn {
		K, N = ws.shape[0], ws.shape[1]
	} else {
		N, K = ws.shape[0], ws.shape[1]
	}
	if x.shape[len(x.shape)-1] != K {
		return nil, unsupported(origin, "input has shape %v, the weights %v", x.shape, ws.shape)
	}
	t, colPerm, outPhys, outPerm, outShape := im.fcInput(origin, x, N)
	w := make([]int64, N*K)
	for nn := 0; nn < N; nn++ {
		for f := 0; f < K; f++ {
			kk := f
			if colPerm != nil {
				kk = colPerm[f]
			}
			if kn {
				w[nn*K+f] = ws.w[kk*N+nn]
			} else {
				w[nn*K+f] = ws.w[nn*K+kk]
			}
		}
	}
	wshape := []int{N, K}
	if ws.wide {
		t, w, wshape = im.widen(origin, t, w, N, K)
	}
	d := &denseOp{kind: denseFC, origin: origin, x: t, xq: x.q, w: w, wshape: wshape,
		allowBias: true, chanAxis: len(outShape) - 1, channels: N,
		outPhys: outPhys, outPerm: outPerm, outShape: outShape}
	d.accScale = make([]float64, N)
	for c := range d.accScale {
		d.accScale[c] = x.q.scale * ws.scales[c]
	}
	if err := im.setBias(d, bias, 1); err != nil {
		return nil, err
	}
	return im.newPendingDense(d), nil
}

// setBias sets d's bias to factor × the operand (nil: none).
func (im *importer) setBias(d *denseOp, bias *value, factor float64) error {
	real, exact, bscale, err := im.biasValues(d.origin, bias, d.channels)
	if err != nil {
		return err
	}
	for c := range real {
		real[c] *= factor
	}
	for c := range bscale {
		bscale[c] *= factor
	}
	d.bias = real
	d.exactBias, d.exactScale = exact, bscale
	return nil
}

// widen makes weights beyond [−127, 127] exact for a fully connected
// layer: each weight v becomes P parts in [−127, 127] that add up to v,
// and the input is read P times (one Concat along K), so
// Σ_k x_k·v_k = Σ_k Σ_p x_k·part_p,k with no rounding anywhere.
func (im *importer) widen(origin string, t int, w []int64, n, k int) (int, []int64, []int) {
	peak := int64(0)
	for _, v := range w {
		peak = max(peak, v, -v)
	}
	parts := int((peak + 126) / 127)
	wide := make([]int64, n*parts*k)
	for r := 0; r < n; r++ {
		for f := 0; f < k; f++ {
			v := w[r*k+f]
			for p := 0; p < parts; p++ {
				part := min(max(v, -127), 127)
				wide[r*parts*k+p*k+f] = part
				v -= part
			}
		}
	}
	src := im.g.tensors[t]
	shape := slices.Clone(src.shape)
	shape[len(shape)-1] *= parts
	ins := make([]int, parts)
	for i := range ins {
		ins[i] = t
	}
	x2 := im.g.node(inference.OpConcat, &inference.ConcatAttrs{Axis: uint32(len(shape) - 1)}, src.dtype, src.zp, shape, ins...)
	im.note("%s: weights beyond [−127, 127] (q − zero point, exact) are split over %d copies of the input", origin, parts)
	return x2, wide, []int{n, parts * k}
}
