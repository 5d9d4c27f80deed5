package onnx

import (
	"math"
	"slices"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/detmath"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// unaryFuncs are the elementwise functions that become Lookup tables: on
// int8 data every function is a 256-entry table, computed here in float64
// exactly as DequantizeLinear → f → QuantizeLinear would compute it.
var unaryFuncs = map[string]func(a attrs) func(float64) float64{
	"Sigmoid": func(attrs) func(float64) float64 { return sigmoid },
	"Tanh":    func(attrs) func(float64) float64 { return detmath.Tanh },
	"LeakyRelu": func(a attrs) func(float64) float64 {
		alpha := a.float("alpha", 0.01)
		return func(x float64) float64 { return leaky(x, alpha) }
	},
	"Elu": func(a attrs) func(float64) float64 {
		alpha := a.float("alpha", 1)
		return func(x float64) float64 {
			if x < 0 {
				return alpha * (detmath.Exp(x) - 1)
			}
			return x
		}
	},
	"Celu": func(a attrs) func(float64) float64 {
		alpha := a.float("alpha", 1)
		return func(x float64) float64 { return math.Max(0, x) + math.Min(0, alpha*(detmath.Exp(x/alpha)-1)) }
	},
	"Selu": func(a attrs) func(float64) float64 {
		alpha := a.float("alpha", 1.67326319217681884765625)
		gamma := a.float("gamma", 1.05070102214813232421875)
		return func(x float64) float64 {
			if x <= 0 {
				return gamma * (float64(alpha*detmath.Exp(x)) - alpha)
			}
			return gamma * x
		}
	},
	"Gelu": func(a attrs) func(float64) float64 {
		if a.str("approximate", "none") == "tanh" {
			return func(x float64) float64 {
				return 0.5 * x * (1 + detmath.Tanh(math.Sqrt(2/math.Pi)*(x+float64(0.044715*x*x*x))))
			}
		}
		return func(x float64) float64 { return 0.5 * x * (1 + detmath.Erf(x/math.Sqrt2)) }
	},
	"HardSigmoid": func(a attrs) func(float64) float64 {
		alpha, beta := a.float("alpha", 0.2), a.float("beta", 0.5)
		return func(x float64) float64 { return math.Max(0, math.Min(1, float64(alpha*x)+beta)) }
	},
	"HardSwish": func(attrs) func(float64) float64 {
		return func(x float64) float64 { return x * math.Max(0, math.Min(1, x/6+0.5)) }
	},
	"Softplus": func(attrs) func(float64) float64 {
		return func(x float64) float64 { return detmath.Log(1 + detmath.Exp(x)) }
	},
	"Softsign": func(attrs) func(float64) float64 {
		return func(x float64) float64 { return x / (1 + math.Abs(x)) }
	},
	"Mish": func(attrs) func(float64) float64 {
		return func(x float64) float64 { return x * detmath.Tanh(detmath.Log(1+detmath.Exp(x))) }
	},
	"ThresholdedRelu": func(a attrs) func(float64) float64 {
		alpha := a.float("alpha", 1)
		return func(x float64) float64 {
			if x > alpha {
				return x
			}
			return 0
		}
	},
	"Exp":  func(attrs) func(float64) float64 { return detmath.Exp },
	"Erf":  func(attrs) func(float64) float64 { return detmath.Erf },
	"Neg":  func(attrs) func(float64) float64 { return func(x float64) float64 { return -x } },
	"Abs":  func(attrs) func(float64) float64 { return math.Abs },
	"Sqrt": func(attrs) func(float64) float64 { return math.Sqrt },
	"Log":  func(attrs) func(float64) float64 { return detmath.Log },
	"Reciprocal": func(attrs) func(float64) float64 {
		return func(x float64) float64 { return 1 / x }
	},
	"Floor": func(attrs) func(float64) float64 { return math.Floor },
	"Ceil":  func(attrs) func(float64) float64 { return math.Ceil },
	"Round": func(attrs) func(float64) float64 { return math.RoundToEven },
	"Sign": func(attrs) func(float64) float64 {
		return func(x float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		}
	},
}

func sigmoid(x float64) float64 { return 1 / (1 + detmath.Exp(-x)) }

func leaky(x, alpha float64) float64 {
	if x < 0 {
		return alpha * x
	}
	return x
}

// lookupPending maps x through f as a Lookup table once the output
// quantization is known.
func (im *importer) lookupPending(origin string, x *qtensor, f func(float64) float64) *pending {
	return newPending(origin, x.shape, func(y qparams, qmin, qmax int32) (*qtensor, error) {
		if x.q.dtype != inference.Int8 || y.dtype != inference.Int8 {
			return nil, unsupported(origin, "lookup tables map int8 to int8")
		}
		table := make([]int64, 256)
		same := true
		for i := range table {
			r := x.q.scale * float64(i-128-int(x.q.zp))
			table[i] = quantizeValue(f(r), y.scale, int64(y.zp), int64(qmin), int64(qmax))
			same = same && table[i] == int64(i-128) && y.zp == x.q.zp
		}
		if same {
			return x.withTensor(x.t, y), nil
		}
		tt := im.g.constant(inference.Int8, []int{256}, table)
		t := im.g.node(inference.OpLookup, &inference.NoAttrs{}, inference.Int8, y.zp, x.phys, x.t, tt)
		return x.withTensor(t, y), nil
	})
}

func opUnary(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.activation(n, 0)
	if err != nil {
		return err
	}
	f := unaryFuncs[n.OpType](a)
	im.how("a 256-entry Lookup table")
	return im.set(n, 0, &value{kind: kPending, p: im.lookupPending(describe(n), x, f)})
}

// opQLinearUnary: com.microsoft.QLinearSigmoid / QLinearLeakyRelu(X, X_scale, X_zp, Y_scale, Y_zp).
func opQLinearUnary(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, y, err := im.qlinearUnary(n)
	if err != nil {
		return err
	}
	f := sigmoid
	if n.OpType == "QLinearLeakyRelu" {
		alpha := a.float("alpha", 0.01)
		f = func(x float64) float64 { return leaky(x, alpha) }
	}
	return im.emitTo(n, im.lookupPending(describe(n), x, f), y)
}

// withBounds returns a copy of p with its real bounds narrowed.
func withBounds(p *pending, lo, hi float64) *pending {
	np := *p
	np.lo, np.hi = math.Max(p.lo, lo), math.Min(p.hi, hi)
	np.dense = nil // a bias after a Relu cannot fold into the op before it
	if p.passthrough != nil {
		np.passthrough = p.passthrough
	}
	return &np
}

// clampValue applies a real interval to a quantized activation: a Clamp
// node with the interval's integer bounds (exact when the next
// QuantizeLinear keeps the quantization, the usual case).
func (im *importer) clampValue(n *onnxpb.NodeProto, v *value, lo, hi float64) error {
	x := v.q
	p := qparams{scale: x.q.scale, zp: x.q.zp, dtype: x.q.dtype}
	qmin, qmax := clampRange(p, lo, hi)
	if int64(qmin) == x.q.dtype.Min() && int64(qmax) == x.q.dtype.Max() {
		return im.set(n, 0, v)
	}
	t := im.g.node(inference.OpClamp, &inference.ClampAttrs{Min: qmin, Max: qmax}, x.q.dtype, x.q.zp, x.phys, x.t)
	return im.set(n, 0, &value{kind: v.kind, q: x.withTensor(t, x.q)})
}

func opRelu(im *importer, n *onnxpb.NodeProto, a attrs) error {
	return im.clip(n, 0, math.Inf(1))
}

func opClip(im *importer, n *onnxpb.NodeProto, a attrs) error {
	lo, hi := math.Inf(-1), math.Inf(1)
	for i, b := range []*float64{&lo, &hi} {
		c, err := im.constant(n, i+1)
		if err != nil {
			return err
		}
		if c != nil {
			if c.elements() != 1 {
				return malformed("node %s: Clip bound of %d elements", describe(n), c.elements())
			}
			*b = c.at(0)
		}
	}
	if im.opset < 11 { // bounds were attributes
		lo, hi = a.float("min", lo), a.float("max", hi)
	}
	return im.clip(n, lo, hi)
}

func (im *importer) clip(n *onnxpb.NodeProto, lo, hi float64) error {
	v, err := im.need(n, 0)
	if err != nil {
		return err
	}
	switch v.kind {
	case kPending:
		im.how("fused into %s as output bounds", v.p.origin)
		return im.set(n, 0, &value{kind: kPending, p: withBounds(v.p, lo, hi)})
	case kDeq:
		return im.clampValue(n, v, lo, hi)
	}
	return unsupported(describe(n), "clips %q, which is not a quantized activation", n.Input[0])
}

// constValues returns a constant operand's real values.
func constValues(v *value) *tensorData {
	switch v.kind {
	case kConst:
		return v.c
	case kDeqConst:
		return &tensorData{name: v.dc.q.name, elem: onnxpb.TensorProto_FLOAT, shape: v.dc.q.shape, f: v.dc.reals()}
	}
	return nil
}

// channelValues checks that a constant broadcasts only along axis of an
// output of shape out and returns its value per channel (or one value).
func channelValues(c *tensorData, out []int, axis int) ([]float64, bool) {
	r := len(out)
	if len(c.shape) > r {
		return nil, false
	}
	for i, d := range c.shape {
		oi := r - len(c.shape) + i
		if d != 1 && (oi != axis || d != out[axis]) {
			return nil, false
		}
	}
	vals := make([]float64, c.elements())
	for k := range vals {
		vals[k] = c.at(k)
	}
	return vals, true
}

// fuseDense folds `pending op const` into a pending dense op: a bias (Add,
// Sub) or a positive scale (Mul, Div). It reports false when it cannot.
func (im *importer) fuseDense(p *pending, op string, c *tensorData, constFirst bool) (*pending, bool) {
	d := p.dense
	if d == nil || !math.IsInf(p.lo, -1) || !math.IsInf(p.hi, 1) {
		return nil, false
	}
	vals, ok := channelValues(c, d.outShape, d.chanAxis)
	if !ok {
		return nil, false
	}
	nd := *d
	nd.accScale = slices.Clone(d.accScale)
	nd.bias = slices.Clone(d.bias)
	switch op {
	case "Add", "Sub":
		if !d.allowBias || (op == "Sub" && constFirst) {
			return nil, false
		}
		if op == "Sub" {
			for i := range vals {
				vals[i] = -vals[i]
			}
		}
		nd.addBias(vals)
	case "Mul", "Div":
		if op == "Div" && constFirst {
			return nil, false
		}
		for i, v := range vals {
			if !(v > 0) || math.IsInf(v, 0) {
				return nil, false
			}
			if op == "Div" {
				vals[i] = 1 / v
			}
		}
		if len(vals) > 1 && d.kind == denseMatMul {
			return nil, false
		}
		nd.scaleBy(vals)
	default:
		return nil, false
	}
	np := *p
	np.dense = &nd
	np.emit = func(y qparams, qmin, qmax int32) (*qtensor, error) { return im.emitDense(&nd, y, qmin, qmax) }
	np.rawAcc = false
	return &np, true
}

// binaryOperands aligns two activations for an engine elementwise op and
// returns their tensors and the output view.
func (im *importer) binaryOperands(origin string, a, b *qtensor) (int, int, *qtensor, error) {
	if sameView(a, b) {
		return a.t, b.t, a, nil
	}
	if slices.Equal(a.shape, b.shape) && a.pure() {
		b2 := im.arrange(origin, b, engineOrder(a))
		return a.t, b2.t, a, nil
	}
	al, bl := im.logical(origin, a), im.logical(origin, b)
	out := inference.BroadcastShape(al.shape, bl.shape)
	if out == nil {
		return 0, 0, nil, malformed("%s: shapes %v and %v do not broadcast", origin, a.shape, b.shape)
	}
	return al.t, bl.t, &qtensor{phys: out, perm: identity(len(out)), shape: out}, nil
}

// constOperand lays a quantized constant out for an elementwise op with
// the activation a and returns both tensors and the output view.
func (im *importer) constOperand(origin string, a *qtensor, cshape []int, cvals []int64, cq qparams) (int, int, *qtensor, error) {
	if len(cshape) > len(a.shape) {
		a = im.logical(origin, a)
		out := inference.BroadcastShape(a.shape, cshape)
		if out == nil {
			return 0, 0, nil, malformed("%s: shapes %v and %v do not broadcast", origin, a.shape, cshape)
		}
		tc := im.g.constantZP(cq.dtype, cq.zp, cshape, cvals)
		return a.t, tc, &qtensor{phys: out, perm: identity(len(out)), shape: out}, nil
	}
	if !a.pure() {
		a = im.logical(origin, a)
	}
	cphys, vals := permuteConst(cshape, cvals, len(a.shape), engineOrder(a))
	out := inference.BroadcastShape(a.phys, cphys)
	if out == nil {
		return 0, 0, nil, malformed("%s: shapes %v and %v do not broadcast", origin, a.shape, cshape)
	}
	tc := im.g.constantZP(cq.dtype, cq.zp, cphys, vals)
	shape := make([]int, len(a.perm))
	for i, p := range a.perm {
		shape[i] = out[p]
	}
	return a.t, tc, &qtensor{phys: out, perm: a.perm, shape: shape}, nil
}

// quantizeConst quantizes a constant operand to int8 per tensor: a
// dequantized int8/uint8 constant keeps its integers; float values get a
// symmetric scale.
func quantizeConst(v *value, negate bool) ([]int, []int64, qparams) {
	if v.kind == kDeqConst && len(v.dc.scales) == 1 && !negate {
		d := v.dc
		if dt, off, ok := engineType(d.q.elem); ok {
			vals := make([]int64, len(d.q.i))
			for k, q := range d.q.i {
				vals[k] = q - off
			}
			return d.q.shape, vals, qparams{scale: d.scales[0], zp: int32(d.zps[0] - off), dtype: dt}
		}
	}
	c := constValues(v)
	peak := 0.0
	for k := 0; k < c.elements(); k++ {
		peak = math.Max(peak, math.Abs(c.at(k)))
	}
	scale := peak / 127
	if scale == 0 {
		scale = 1
	}
	vals := make([]int64, c.elements())
	for k := range vals {
		r := c.at(k)
		if negate {
			r = -r
		}
		vals[k] = int64(math.Max(-127, math.Min(127, roundEven(r/scale))))
	}
	return c.shape, vals, qparams{scale: scale, dtype: inference.Int8}
}

// elementwise writes an engine Add or Mul of two int8 operands.
func (im *importer) elementwise(origin, op string, ta, tb int, qa, qb qparams, view *qtensor, y qparams, qmin, qmax int32) (*qtensor, error) {
	out := &qtensor{phys: view.phys, perm: view.perm, shape: view.shape, q: y}
	if op == "Add" {
		ma, mb, s, err := twoMultipliers(qa.scale/y.scale, qb.scale/y.scale)
		if err != nil {
			return nil, unsupported(origin, "%v", err)
		}
		out.t = im.g.node(inference.OpAdd, &inference.AddAttrs{MultiplierA: ma, MultiplierB: mb, Shift: s, QMin: qmin, QMax: qmax}, y.dtype, y.zp, view.phys, ta, tb)
		return out, nil
	}
	m, err := QuantizeMultiplier(qa.scale * qb.scale / y.scale)
	if err != nil {
		return nil, unsupported(origin, "%v", err)
	}
	out.t = im.g.node(inference.OpMul, &inference.MulAttrs{Multiplier: m.M, Shift: m.S, QMin: qmin, QMax: qmax}, y.dtype, y.zp, view.phys, ta, tb)
	return out, nil
}

func isConstKind(v *value) bool { return v.kind == kConst || v.kind == kDeqConst }

func opBinary(im *importer, n *onnxpb.NodeProto, a attrs) error {
	av, err := im.need(n, 0)
	if err != nil {
		return err
	}
	bv, err := im.need(n, 1)
	if err != nil {
		return err
	}
	op, origin := n.OpType, describe(n)
	// A bias or scale right after a dense op, before its QuantizeLinear.
	if av.kind == kPending && isConstKind(bv) {
		if p, ok := im.fuseDense(av.p, op, constValues(bv), false); ok {
			im.how("folded into %s", av.p.origin)
			return im.set(n, 0, &value{kind: kPending, p: p})
		}
	}
	if bv.kind == kPending && isConstKind(av) {
		if p, ok := im.fuseDense(bv.p, op, constValues(av), true); ok {
			im.how("folded into %s", bv.p.origin)
			return im.set(n, 0, &value{kind: kPending, p: p})
		}
	}
	constFirst := isConstKind(av)
	xv, cv := av, bv
	xi := 0
	if constFirst {
		xv, cv, xi = bv, av, 1
	}
	if isConstKind(cv) {
		x, err := im.act(n, xi)
		if err != nil {
			return err
		}
		c := constValues(cv)
		if c.elements() == 1 {
			// x op scalar is a function of x alone: a Lookup table.
			k := c.at(0)
			f := scalarFunc(op, k, constFirst)
			if f == nil {
				return unsupported(origin, "%s with a constant", op)
			}
			im.how("a 256-entry Lookup table (%s by a scalar)", op)
			return im.set(n, 0, &value{kind: kPending, p: im.lookupPending(origin, x, f)})
		}
		return im.constBinary(n, x, cv, constFirst)
	}
	x, err := im.act(n, 0)
	if err != nil {
		return err
	}
	y, err := im.act(n, 1)
	if err != nil {
		return err
	}
	_ = xv
	switch op {
	case "Add", "Mul":
	case "Sub":
		return unsupported(origin, "Sub of two activations: op set v1's Add takes positive multipliers (subtract a constant, or add a negated input)")
	default:
		return unsupported(origin, "%s of two activations is not in op set v1 (with a scalar constant it is a lookup table)", op)
	}
	ta, tb, view, err := im.binaryOperands(origin, x, y)
	if err != nil {
		return err
	}
	qa, qb := x.q, y.q
	p := newPending(origin, view.shape, func(yq qparams, qmin, qmax int32) (*qtensor, error) {
		return im.elementwise(origin, op, ta, tb, qa, qb, view, yq, qmin, qmax)
	})
	return im.set(n, 0, &value{kind: kPending, p: p})
}

func scalarFunc(op string, k float64, constFirst bool) func(float64) float64 {
	switch op {
	case "Add":
		return func(x float64) float64 { return x + k }
	case "Mul":
		return func(x float64) float64 { return x * k }
	case "Sub":
		if constFirst {
			return func(x float64) float64 { return k - x }
		}
		return func(x float64) float64 { return x - k }
	case "Div":
		if constFirst {
			return func(x float64) float64 { return k / x }
		}
		return func(x float64) float64 { return x / k }
	case "Pow":
		if constFirst {
			return func(x float64) float64 { return detmath.Pow(k, x) }
		}
		return func(x float64) float64 { return detmath.Pow(x, k) }
	case "Max":
		return func(x float64) float64 { return math.Max(x, k) }
	case "Min":
		return func(x float64) float64 { return math.Min(x, k) }
	}
	return nil
}

// constBinary: an activation and a constant tensor.
func (im *importer) constBinary(n *onnxpb.NodeProto, x *qtensor, cv *value, constFirst bool) error {
	op, origin := n.OpType, describe(n)
	engineOp := op
	negate := false
	switch op {
	case "Add", "Mul":
	case "Sub":
		if constFirst {
			return unsupported(origin, "constant minus activation: op set v1's Add takes positive multipliers")
		}
		engineOp, negate = "Add", true
	case "Div":
		if constFirst {
			return unsupported(origin, "constant divided by an activation is not in op set v1")
		}
		c := constValues(cv)
		inv := &tensorData{name: c.name, elem: onnxpb.TensorProto_FLOAT, shape: c.shape, f: make([]float64, c.elements())}
		for k := range inv.f {
			inv.f[k] = 1 / c.at(k)
		}
		cv = &value{kind: kConst, c: inv}
		engineOp = "Mul"
		im.note("%s: division by a constant tensor becomes multiplication by its reciprocal, quantized to int8", origin)
	default:
		return unsupported(origin, "%s with a constant tensor", op)
	}
	cshape, cvals, cq := quantizeConst(cv, negate)
	if cv.kind == kConst {
		im.note("%s: the float constant operand is quantized to int8 per tensor (scale %.4g)", origin, cq.scale)
	}
	ta, tc, view, err := im.constOperand(origin, x, cshape, cvals, cq)
	if err != nil {
		return err
	}
	xq := x.q
	p := newPending(origin, view.shape, func(y qparams, qmin, qmax int32) (*qtensor, error) {
		return im.elementwise(origin, engineOp, ta, tc, xq, cq, view, y, qmin, qmax)
	})
	return im.set(n, 0, &value{kind: kPending, p: p})
}

// opQLinearBinary: com.microsoft.QLinearAdd / QLinearMul(A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp).
func opQLinearBinary(im *importer, n *onnxpb.NodeProto, a attrs) error {
	origin := describe(n)
	op := "Add"
	if n.OpType == "QLinearMul" {
		op = "Mul"
	}
	x, err := im.quantIn(n, 0, 1, 2)
	if err != nil {
		return err
	}
	b, err := im.quantIn(n, 3, 4, 5)
	if err != nil {
		return err
	}
	y, err := im.activationParams(n, 6, 7)
	if err != nil {
		return err
	}
	qmin, qmax := fullRange(y)
	if x == nil && b == nil {
		return unsupported(origin, "both operands are constants")
	}
	if x == nil {
		// A constant: swap (both ops commute).
		x, b = b, nil
		n = &onnxpb.NodeProto{Name: n.Name, OpType: n.OpType, Domain: n.Domain,
			Input: []string{n.Input[3], n.Input[4], n.Input[5], n.Input[0], n.Input[1], n.Input[2], n.Input[6], inputName(n.Input, 7)}}
	}
	var q *qtensor
	if b != nil {
		ta, tb, view, err := im.binaryOperands(origin, x, b)
		if err != nil {
			return err
		}
		q, err = im.elementwise(origin, op, ta, tb, x.q, b.q, view, y, qmin, qmax)
		if err != nil {
			return err
		}
	} else {
		c, err := im.constant(n, 3)
		if err != nil {
			return err
		}
		cq, err := im.activationParams(n, 4, 5)
		if err != nil {
			return err
		}
		_, off, _ := engineType(c.elem)
		vals := make([]int64, c.elements())
		for k := range vals {
			vals[k] = int64(c.at(k)) - off
		}
		ta, tc, view, err := im.constOperand(origin, x, c.shape, vals, cq)
		if err != nil {
			return err
		}
		q, err = im.elementwise(origin, op, ta, tc, x.q, cq, view, y, qmin, qmax)
		if err != nil {
			return err
		}
	}
	return im.set(n, 0, &value{kind: kQuant, q: q})
}

func inputName(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

func opCast(im *importer, n *onnxpb.NodeProto, a attrs) error {
	to := onnxpb.TensorProto_DataType(a.int("to", 0))
	v, err := im.need(n, 0)
	if err != nil {
		return err
	}
	switch v.kind {
	case kPending:
		if isFloatType(to) {
			np := *v.p
			np.rawAcc = false
			return im.set(n, 0, &value{kind: kPending, p: &np})
		}
	case kInt:
		if to == onnxpb.TensorProto_INT32 || to == onnxpb.TensorProto_INT64 {
			return im.set(n, 0, v)
		}
	case kDeq, kFloatInput:
		if isFloatType(to) {
			return im.set(n, 0, v)
		}
	}
	return unsupported(describe(n), "Cast to %s of this value: only casts that keep the numbers (int32 accumulator to float, float to float, indices) are supported", to)
}

func opIdentity(im *importer, n *onnxpb.NodeProto, a attrs) error {
	if err := im.onlyFirstOutput(n); err != nil {
		return err
	}
	if n.OpType == "Dropout" && len(n.Input) > 2 && n.Input[2] != "" {
		if c, err := im.constant(n, 2); err != nil || c == nil || c.at(0) != 0 {
			return unsupported(describe(n), "Dropout in training mode (or with a training_mode that is not a constant false) drops values at random; export the model in eval mode")
		}
	}
	v, err := im.need(n, 0)
	if err != nil {
		return err
	}
	return im.set(n, 0, v)
}
