package onnx

import (
	"slices"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// convGeometry reads Conv/ConvInteger/QLinearConv/pool attributes for a
// 2-D window (1-D windows come in as H = 1) and returns the engine's
// padding, strides and dilations plus the output size.
func convGeometry(origin string, a attrs, h, w, kh, kw int, oneD bool) (inference.Conv2DAttrs, int, int, error) {
	var c inference.Conv2DAttrs
	get := func(name string, n int, def int64) ([]int64, error) {
		v := a.ints(name)
		if oneD && v != nil {
			// 1-D windows are 2-D with H = 1.
			switch {
			case name == "pads" && len(v) == 2:
				v = []int64{0, v[0], 0, v[1]}
			case name != "pads" && len(v) == 1:
				v = []int64{1, v[0]}
			default:
				return nil, unsupported(origin, "attribute %s has %d entries for a 1-D window", name, len(v))
			}
		}
		if v == nil {
			v = make([]int64, n)
			for i := range v {
				v[i] = def
			}
		}
		if len(v) != n {
			return nil, unsupported(origin, "attribute %s has %d entries; a 2-D window takes %d", name, len(v), n)
		}
		for _, x := range v {
			if x < 0 || x > 1<<20 {
				return nil, unsupported(origin, "attribute %s = %v", name, v)
			}
		}
		return v, nil
	}
	const nd = 2
	strides, err := get("strides", nd, 1)
	if err != nil {
		return c, 0, 0, err
	}
	dil, err := get("dilations", nd, 1)
	if err != nil {
		return c, 0, 0, err
	}
	if ks := a.ints("kernel_shape"); ks != nil {
		want := []int64{int64(kh), int64(kw)}
		if oneD {
			want = want[1:]
		}
		if !slices.Equal(ks, want) {
			return c, 0, 0, unsupported(origin, "kernel_shape %v differs from the weights' %v", ks, want)
		}
	}
	var pads []int64
	switch ap := a.str("auto_pad", "NOTSET"); ap {
	case "NOTSET":
		if pads, err = get("pads", 2*nd, 0); err != nil {
			return c, 0, 0, err
		}
	case "VALID":
		pads = make([]int64, 4)
	case "SAME_UPPER", "SAME_LOWER":
		pads = make([]int64, 4)
		for i, in := range []int{h, w} {
			k := []int{kh, kw}[i]
			s, d := int(strides[i]), int(dil[i])
			out := (in + s - 1) / s
			total := max((out-1)*s+(k-1)*d+1-in, 0)
			small, big := total/2, total-total/2
			if ap == "SAME_UPPER" {
				pads[i], pads[i+2] = int64(small), int64(big)
			} else {
				pads[i], pads[i+2] = int64(big), int64(small)
			}
		}
	default:
		return c, 0, 0, unsupported(origin, "auto_pad %q", ap)
	}
	c = inference.Conv2DAttrs{StrideH: uint32(strides[0]), StrideW: uint32(strides[1]),
		DilationH: uint32(dil[0]), DilationW: uint32(dil[1]),
		PadTop: uint32(pads[0]), PadLeft: uint32(pads[1]), PadBottom: uint32(pads[2]), PadRight: uint32(pads[3])}
	oh := inference.ConvOutput(h, kh, int(strides[0]), int(dil[0]), int(pads[0]), int(pads[2]))
	ow := inference.ConvOutput(w, kw, int(strides[1]), int(dil[1]), int(pads[1]), int(pads[3]))
	if oh < 1 || ow < 1 {
		return c, 0, 0, unsupported(origin, "the window does not fit the input (%dx%d, kernel %dx%d)", h, w, kh, kw)
	}
	return c, oh, ow, nil
}

// conv builds a pending convolution of x (ONNX NCHW, or NCL for 1-D) with
// weights ws in ONNX layout [OC, C/group, KH, KW] (or [OC, C/group, K]).
func (im *importer) conv(origin string, x *qtensor, ws *weightSet, group int64, a attrs, bias *value, biasFactor float64) (*pending, error) {
	oneD := len(x.shape) == 3
	if len(x.shape) != 4 && !oneD {
		return nil, unsupported(origin, "convolution over a rank-%d input: op set v1 has 2-D convolutions (1-D ones are mapped to 2-D)", len(x.shape))
	}
	wshape := ws.shape
	if oneD {
		x = x.withShape([]int{x.shape[0], x.shape[1], 1, x.shape[2]})
		if len(wshape) != 3 {
			return nil, unsupported(origin, "weights of shape %v for a 1-D convolution", wshape)
		}
		wshape = []int{wshape[0], wshape[1], 1, wshape[2]}
	}
	if len(wshape) != 4 {
		return nil, unsupported(origin, "weights of shape %v", wshape)
	}
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oc, icg, kh, kw := wshape[0], wshape[1], wshape[2], wshape[3]
	geo, oh, ow, err := convGeometry(origin, a, h, w, kh, kw, oneD)
	if err != nil {
		return nil, err
	}
	d := &denseOp{origin: origin, conv: geo, allowBias: true, chanAxis: 1, channels: oc,
		outPhys: []int{n, oh, ow, oc}, outPerm: []int{0, 3, 1, 2}, outShape: []int{n, oc, oh, ow}}
	if oneD {
		d.outShape = []int{n, oc, ow}
	}
	switch {
	case group == 1:
		if icg != c {
			return nil, unsupported(origin, "weights for %d input channels, the input has %d", icg, c)
		}
		d.kind = denseConv
		d.wshape, d.w = transposeValues(wshape, ws.w, []int{0, 2, 3, 1})
	case group == int64(c) && icg == 1 && oc%c == 0:
		d.kind = denseDepthwise
		d.mult = uint32(oc / c)
		d.wshape, d.w = transposeValues([]int{oc, kh, kw}, ws.w, []int{1, 2, 0})
	default:
		return nil, unsupported(origin, "grouped convolution (group %d over %d channels): op set v1 has Conv2D (group 1) and DepthwiseConv2D (group = channels)", group, c)
	}
	for _, p := range []struct {
		v    uint32
		k, d int
	}{{geo.PadTop, kh, int(geo.DilationH)}, {geo.PadBottom, kh, int(geo.DilationH)}, {geo.PadLeft, kw, int(geo.DilationW)}, {geo.PadRight, kw, int(geo.DilationW)}} {
		if int(p.v) > p.d*(p.k-1) {
			return nil, unsupported(origin, "padding %d exceeds the dilated kernel extent minus one (%d), which op set v1 allows", p.v, p.d*(p.k-1))
		}
	}
	xin := im.nhwc(origin, x)
	d.x, d.xq = xin.t, x.q
	d.accScale = make([]float64, oc)
	for ch := range d.accScale {
		d.accScale[ch] = x.q.scale * ws.scales[ch]
	}
	if err := im.setBias(d, bias, biasFactor); err != nil {
		return nil, err
	}
	return im.newPendingDense(d), nil
}

func opConv(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.activation(n, 0)
	if err != nil {
		return err
	}
	wv, err := im.need(n, 1)
	if err != nil {
		return err
	}
	ws, err := im.weights(describe(n), wv, 0)
	if err == nil {
		ws, err = im.narrow(describe(n), ws)
	}
	if err != nil {
		return err
	}
	b, err := im.get(n, 2)
	if err != nil {
		return err
	}
	p, err := im.conv(describe(n), x, ws, a.int("group", 1), a, b, 1)
	if err != nil {
		return err
	}
	return im.set(n, 0, &value{kind: kPending, p: p})
}

// viewTranspose is ONNX Transpose as a view: no data moves.
func (im *importer) viewTranspose(origin string, x *qtensor, p []int) *qtensor {
	if !x.pure() {
		x = im.logical(origin, x)
	}
	perm := make([]int, len(p))
	shape := make([]int, len(p))
	for i, a := range p {
		perm[i] = x.perm[a]
		shape[i] = x.shape[a]
	}
	return &qtensor{t: x.t, phys: x.phys, perm: perm, shape: shape, q: x.q}
}

// needsTranspose: bringing x to ONNX layout needs a Transpose node.
func needsTranspose(x *qtensor) bool {
	return !isIdentity(x.perm) && !onlyUnitAxesMove(x.phys, x.perm)
}

// matmulAct builds an activation × activation MatMul (attention's QKᵀ and
// its product with V).
func (im *importer) matmulAct(origin string, a, b *qtensor) (*pending, error) {
	ra, rb := len(a.shape), len(b.shape)
	if ra < 2 || rb < 2 {
		return nil, unsupported(origin, "MatMul of rank %d by rank %d: op set v1 multiplies matrices (rank ≥ 2)", ra, rb)
	}
	m, k := a.shape[ra-2], a.shape[ra-1]
	kb, nn := b.shape[rb-2], b.shape[rb-1]
	if k != kb {
		return nil, malformed("%s: inner dimensions %d and %d differ", origin, k, kb)
	}
	outShape := append(append([]int{}, a.shape[:ra-2]...), m, nn)
	batch := product(a.shape[:ra-2])
	var aphys, bphys []int
	if rb == 2 {
		// B is shared by every batch: fold the batch into A's rows.
		aphys = []int{batch * m, k}
		bphys = []int{k, nn}
		outShape = append(append([]int{}, a.shape[:ra-2]...), m, nn)
	} else {
		if !slices.Equal(a.shape[:ra-2], b.shape[:rb-2]) {
			return nil, unsupported(origin, "batched MatMul of %v by %v: op set v1 needs equal batch dimensions (no broadcasting)", a.shape, b.shape)
		}
		aphys = []int{batch, m, k}
		bphys = []int{batch, k, nn}
	}
	al := im.logical(origin, a)
	at := im.reshapeTensor(origin, al.t, al.phys, aphys, a.q)
	// Prefer the form of B that needs no data movement: Bᵀ read with transposeB.
	swap := identity(rb)
	swap[rb-2], swap[rb-1] = rb-1, rb-2
	bt := im.viewTranspose(origin, b, swap)
	transB := false
	src := b
	if needsTranspose(b) && !needsTranspose(bt) {
		transB, src = true, bt
		bphys = slices.Clone(bphys)
		bphys[len(bphys)-2], bphys[len(bphys)-1] = nn, k
	}
	bl := im.logical(origin, src)
	btt := im.reshapeTensor(origin, bl.t, bl.phys, bphys, b.q)
	outPhys := append(append([]int{}, aphys[:len(aphys)-1]...), nn)
	if rb == 2 {
		outPhys = []int{batch * m, nn}
	}
	d := &denseOp{kind: denseMatMul, origin: origin, x: at, b: btt, xq: a.q, bq: b.q, transB: transB,
		accScale: []float64{a.q.scale * b.q.scale}, chanAxis: len(outShape) - 1, channels: 1,
		outPhys: outPhys, outPerm: identity(len(outPhys)), outShape: outShape}
	return im.newPendingDense(d), nil
}

// matmul is MatMul/QLinearMatMul's core: weights when B is constant.
func (im *importer) matmul(origin string, a *qtensor, bv *value, bq *qtensor) (*pending, error) {
	if bq != nil {
		return im.matmulAct(origin, a, bq)
	}
	if sh := bv.shape(); len(sh) >= 3 {
		if product(sh[:len(sh)-2]) != 1 {
			// One matrix per batch: the engine's MatMul with B a constant.
			bt, err := im.batchedConstant(origin, bv)
			if err != nil {
				return nil, err
			}
			return im.matmulAct(origin, a, bt)
		}
		bv = lastTwoAxes(bv)
	}
	ws, err := im.weights(origin, bv, 1)
	if err != nil {
		return nil, err
	}
	if len(ws.shape) != 2 {
		return nil, unsupported(origin, "constant B of rank %d: op set v1's FullyConnected takes a [K, N] matrix", len(ws.shape))
	}
	oneD := len(a.shape) == 1
	if oneD {
		a = a.withShape([]int{1, a.shape[0]})
	}
	p, err := im.fullyConnected(origin, a, ws, true, nil)
	if err != nil {
		return nil, err
	}
	if oneD {
		p.dense.outShape = []int{ws.shape[1]}
		p.dense.chanAxis = 0
		p.shape = p.dense.outShape
	}
	return p, nil
}

func opMatMul(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.activation(n, 0)
	if err != nil {
		return err
	}
	bv, bq, err := im.operandB(n)
	if err != nil {
		return err
	}
	p, err := im.matmul(describe(n), x, bv, bq)
	if err != nil {
		return err
	}
	return im.set(n, 0, &value{kind: kPending, p: p})
}

// gemm is Gemm/QGemm's core.
func (im *importer) gemm(origin string, a attrs, x *qtensor, bv *value, bq *qtensor, c *value, cScaleFromB func(ws *weightSet) *value) (*pending, error) {
	alpha, beta := a.float("alpha", 1), a.float("beta", 1)
	if !(alpha > 0) {
		return nil, unsupported(origin, "alpha %g (positive expected)", alpha)
	}
	if len(x.shape) != 2 {
		return nil, malformed("%s: A has rank %d", origin, len(x.shape))
	}
	if a.int("transA", 0) != 0 {
		x = im.viewTranspose(origin, x, []int{1, 0})
	}
	transB := a.int("transB", 0) != 0
	if bq != nil {
		if c != nil {
			return nil, unsupported(origin, "Gemm of two activations with C: quantize the product before adding C")
		}
		if transB {
			bq = im.viewTranspose(origin, bq, []int{1, 0})
		}
		p, err := im.matmulAct(origin, x, bq)
		if err != nil {
			return nil, err
		}
		p.dense.scaleBy([]float64{alpha})
		return p, nil
	}
	chanAxis := 1
	if transB {
		chanAxis = 0
	}
	ws, err := im.weights(origin, bv, chanAxis)
	if err != nil {
		return nil, err
	}
	if len(ws.shape) != 2 {
		return nil, malformed("%s: B has rank %d", origin, len(ws.shape))
	}
	p, err := im.fullyConnected(origin, x, ws, !transB, nil)
	if err != nil {
		return nil, err
	}
	p.dense.scaleBy([]float64{alpha})
	if cScaleFromB != nil && c != nil {
		c = cScaleFromB(ws)
	}
	if err := im.setBias(p.dense, c, beta); err != nil {
		return nil, err
	}
	return p, nil
}

func opGemm(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.activation(n, 0)
	if err != nil {
		return err
	}
	bv, bq, err := im.operandB(n)
	if err != nil {
		return err
	}
	c, err := im.get(n, 2)
	if err != nil {
		return err
	}
	p, err := im.gemm(describe(n), a, x, bv, bq, c, nil)
	if err != nil {
		return err
	}
	return im.set(n, 0, &value{kind: kPending, p: p})
}

// qweights reads a QOperator op's constant weights with their scale and
// zero point inputs.
func (im *importer) qweights(n *onnxpb.NodeProto, wi, si, zi int, axis int64) (*value, error) {
	w, err := im.constant(n, wi)
	if err != nil {
		return nil, err
	}
	if w == nil {
		return nil, malformed("node %s lacks its weights", describe(n))
	}
	d, err := im.deqConstant(n, w, si, zi, axis)
	if err != nil {
		return nil, err
	}
	return &value{kind: kDeqConst, dc: d}, nil
}

// qbias reads an int32 bias whose scale is the accumulator's: x·w per channel.
func qbias(c *tensorData, xscale float64, ws *weightSet, factor float64) *value {
	if c == nil {
		return nil
	}
	scales := make([]float64, ws.channels())
	for i := range scales {
		scales[i] = xscale * ws.scales[i] * factor
	}
	d := &deqConst{q: c, axis: 0, scales: scales, zps: make([]int64, len(scales))}
	if c.elements() == 1 || len(c.shape) != 1 {
		d.q = &tensorData{name: c.name, elem: c.elem, shape: []int{c.elements()}, i: c.i}
		if c.elements() == 1 {
			d.scales, d.zps = scales[:1], d.zps[:1]
		}
	}
	return &value{kind: kDeqConst, dc: d}
}

func opQLinearConv(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.quantActivation(n, 0, 1, 2)
	if err != nil {
		return err
	}
	wv, err := im.qweights(n, 3, 4, 5, 0)
	if err != nil {
		return err
	}
	ws, err := im.weights(describe(n), wv, 0)
	if err == nil {
		ws, err = im.narrow(describe(n), ws)
	}
	if err != nil {
		return err
	}
	y, err := im.activationParams(n, 6, 7)
	if err != nil {
		return err
	}
	bc, err := im.constant(n, 8)
	if err != nil {
		return err
	}
	// The bias is int32 in units of x_scale·w_scale of the ONNX weights.
	bias := qbias(bc, x.q.scale, origScales(wv.dc, ws.channels()), 1)
	p, err := im.conv(describe(n), x, ws, a.int("group", 1), a, bias, 1)
	if err != nil {
		return err
	}
	return im.emitTo(n, p, y)
}

// origScales is a weightSet carrying the ONNX weights' own scales.
func origScales(d *deqConst, channels int) *weightSet {
	ws := &weightSet{scales: make([]float64, channels), shape: []int{channels}}
	for c := range ws.scales {
		if len(d.scales) == 1 {
			ws.scales[c] = d.scales[0]
		} else {
			ws.scales[c] = d.scales[c]
		}
	}
	return ws
}

func opQLinearMatMul(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.quantActivation(n, 0, 1, 2)
	if err != nil {
		return err
	}
	bq, err := im.quantIn(n, 3, 4, 5)
	if err != nil {
		return err
	}
	var bv *value
	if bq == nil {
		if bv, err = im.qweights(n, 3, 4, 5, 1); err != nil {
			return err
		}
	}
	y, err := im.activationParams(n, 6, 7)
	if err != nil {
		return err
	}
	p, err := im.matmul(describe(n), x, bv, bq)
	if err != nil {
		return err
	}
	return im.emitTo(n, p, y)
}

// opMatMulInteger: the int32 accumulator of a quantized MatMul; a Cast, a
// Mul by the scale and an Add of the bias after it fold in, and the
// QuantizeLinear that ends the chain sets the output quantization.
func opMatMulInteger(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.quantActivation(n, 0, -1, 2)
	if err != nil {
		return err
	}
	bq, err := im.quantIn(n, 1, -1, 3)
	if err != nil {
		return err
	}
	var bv *value
	if bq == nil {
		w, err := im.constant(n, 1)
		if err != nil {
			return err
		}
		d := &deqConst{q: w, scales: []float64{1}, zps: []int64{0}, axis: 1}
		if z, _ := im.constant(n, 3); z != nil {
			if z.elements() == 1 {
				d.zps[0] = int64(z.at(0))
			} else if len(w.shape) == 2 && z.elements() == w.shape[1] {
				d.scales = make([]float64, z.elements())
				d.zps = make([]int64, z.elements())
				for i := range d.scales {
					d.scales[i], d.zps[i] = 1, int64(z.at(i))
				}
			} else {
				return unsupported(describe(n), "b_zero_point of shape %v", z.shape)
			}
		}
		bv = &value{kind: kDeqConst, dc: d}
	}
	p, err := im.matmul(describe(n), x, bv, bq)
	if err != nil {
		return err
	}
	p.rawAcc = true
	return im.set(n, 0, &value{kind: kPending, p: p})
}

func opConvInteger(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.quantActivation(n, 0, -1, 2)
	if err != nil {
		return err
	}
	w, err := im.constant(n, 1)
	if err != nil {
		return err
	}
	if w == nil {
		return malformed("node %s lacks its weights", describe(n))
	}
	d := &deqConst{q: w, scales: []float64{1}, zps: []int64{0}, axis: 0}
	if z, _ := im.constant(n, 3); z != nil {
		if z.elements() == 1 {
			d.zps[0] = int64(z.at(0))
		} else if len(w.shape) > 0 && z.elements() == w.shape[0] {
			d.scales = make([]float64, z.elements())
			d.zps = make([]int64, z.elements())
			for i := range d.scales {
				d.scales[i], d.zps[i] = 1, int64(z.at(i))
			}
		}
	}
	ws, err := im.weights(describe(n), &value{kind: kDeqConst, dc: d}, 0)
	if err == nil {
		ws, err = im.narrow(describe(n), ws)
	}
	if err != nil {
		return err
	}
	p, err := im.conv(describe(n), x, ws, a.int("group", 1), a, nil, 1)
	if err != nil {
		return err
	}
	p.rawAcc = true
	return im.set(n, 0, &value{kind: kPending, p: p})
}

// opQGemm: com.microsoft.QGemm(A, a_scale, a_zp, B, b_scale, b_zp, C, y_scale, y_zp).
func opQGemm(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.quantActivation(n, 0, 1, 2)
	if err != nil {
		return err
	}
	bq, err := im.quantIn(n, 3, 4, 5)
	if err != nil {
		return err
	}
	var bv *value
	chanAxis := int64(1)
	if a.int("transB", 0) != 0 {
		chanAxis = 0
	}
	if bq == nil {
		if bv, err = im.qweights(n, 3, 4, 5, chanAxis); err != nil {
			return err
		}
	}
	cc, err := im.constant(n, 6)
	if err != nil {
		return err
	}
	var c *value
	if cc != nil {
		c = &value{kind: kConst, c: cc}
	}
	alpha := a.float("alpha", 1)
	bscaleFn := func(ws *weightSet) *value {
		// C is int32 with scale alpha·a_scale·b_scale: in accumulator units.
		return qbias(cc, x.q.scale, origScales(bv.dc, ws.channels()), alpha)
	}
	// QGemm has no beta: C enters with factor 1.
	aa := attrs{}
	for k, v := range a {
		if k != "beta" {
			aa[k] = v
		}
	}
	p, err := im.gemm(describe(n), aa, x, bv, bq, c, bscaleFn)
	if err != nil {
		return err
	}
	if ys, _ := im.get(n, 7); ys == nil {
		return im.set(n, 0, &value{kind: kPending, p: p})
	}
	y, err := im.activationParams(n, 7, 8)
	if err != nil {
		return err
	}
	return im.emitTo(n, p, y)
}

// operandB returns a MatMul/Gemm's second operand: the value, and the
// activation when it is one (nil for constant weights).
func (im *importer) operandB(n *onnxpb.NodeProto) (*value, *qtensor, error) {
	bv, err := im.need(n, 1)
	if err != nil {
		return nil, nil, err
	}
	bq, err := im.act(n, 1)
	return bv, bq, err
}

// lastTwoAxes views a constant B of shape [1, …, 1, K, N] as [K, N].
func lastTwoAxes(v *value) *value {
	sh := v.shape()
	drop := len(sh) - 2
	switch v.kind {
	case kConst:
		c := *v.c
		c.shape = sh[drop:]
		return &value{kind: kConst, c: &c}
	case kDeqConst:
		d := *v.dc
		q := *d.q
		q.shape = sh[drop:]
		d.q = &q
		if len(d.scales) > 1 {
			d.axis -= drop
		} else {
			d.axis = 1
		}
		return &value{kind: kDeqConst, dc: &d}
	}
	return v
}

// batchedConstant turns a constant B of several matrices, quantized per
// tensor as int8 or uint8, into an engine constant holding exactly its
// integers and zero point (uint8 shifted to int8, as for activations).
func (im *importer) batchedConstant(origin string, v *value) (*qtensor, error) {
	if v.kind != kDeqConst || v.dc.q.i == nil || len(v.dc.scales) != 1 {
		return nil, unsupported(origin, "a constant B of shape %v (several matrices) must be int8 or uint8 quantized per tensor: op set v1's MatMul takes one scale and zero point for B", v.shape())
	}
	d := v.dc
	var off int64
	switch d.q.elem {
	case onnxpb.TensorProto_INT8:
	case onnxpb.TensorProto_UINT8:
		off = 128
	default:
		return nil, unsupported(origin, "a constant B of type %s: op set v1 holds int8", d.q.elem)
	}
	vals := make([]int64, len(d.q.i))
	for k, x := range d.q.i {
		vals[k] = x - off
	}
	zp := d.zps[0] - off
	if zp < -128 || zp > 127 {
		return nil, unsupported(origin, "B's zero point %d", d.zps[0])
	}
	shape := slices.Clone(d.q.shape)
	t := im.g.constantZP(inference.Int8, int32(zp), shape, vals)
	return &qtensor{t: t, phys: shape, perm: identity(len(shape)), shape: shape,
		q: qparams{scale: d.scales[0], zp: int32(zp), dtype: inference.Int8, uint8: off != 0}}, nil
}
