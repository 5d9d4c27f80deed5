package onnx

import (
	"slices"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"github.com/infergeth/infergeth/params"
)

// viewOp applies a data-free op (a reshape or a transpose) to any value
// that has data: activations change view, a pending op is wrapped, a
// dequantized constant is transformed.
func (im *importer) viewOp(n *onnxpb.NodeProto, newShape []int, perm []int) error {
	v, err := im.need(n, 0)
	if err != nil {
		return err
	}
	origin := describe(n)
	apply := func(x *qtensor) *qtensor {
		if perm != nil {
			return im.viewTranspose(origin, x, perm)
		}
		return x.withShape(newShape)
	}
	switch v.kind {
	case kDeq, kQuant, kInt:
		return im.set(n, 0, &value{kind: v.kind, q: apply(v.q)})
	case kPending:
		shape := newShape
		if perm != nil {
			shape = make([]int, len(perm))
			for i, p := range perm {
				shape[i] = v.p.shape[p]
			}
		}
		return im.set(n, 0, &value{kind: kPending, p: im.wrapPending(v.p, shape, func(q *qtensor) (*qtensor, error) { return apply(q), nil })})
	case kDeqConst:
		d := *v.dc
		q := *d.q
		switch {
		case perm != nil:
			q.shape, q.i = transposeValues(d.q.shape, d.q.i, perm)
			d.axis = slices.Index(perm, d.axis)
		case len(d.scales) == 1:
			q.shape = newShape
		default:
			return unsupported(origin, "reshapes per-channel quantized constant %q", d.q.name)
		}
		d.q = &q
		return im.set(n, 0, &value{kind: kDeqConst, dc: &d})
	}
	return unsupported(origin, "reshapes %q before it is quantized; quantize the graph input first", n.Input[0])
}

func opReshape(im *importer, n *onnxpb.NodeProto, a attrs) error {
	v, err := im.need(n, 0)
	if err != nil {
		return err
	}
	spec, err := im.constant(n, 1)
	if err != nil {
		return err
	}
	if spec == nil {
		return malformed("node %s has no shape", describe(n))
	}
	in := v.shape()
	out := make([]int, spec.elements())
	infer := -1
	known := 1
	for i := range out {
		d := int64(spec.at(i))
		switch {
		case d == 0 && a.int("allowzero", 0) == 0:
			if i >= len(in) {
				return malformed("node %s: shape %v copies dimension %d of %v", describe(n), spec.i, i, in)
			}
			out[i] = in[i]
		case d == -1 && infer < 0:
			infer = i
			continue
		case d < 1:
			return unsupported(describe(n), "shape %v", spec.i)
		default:
			out[i] = int(d)
		}
		known *= out[i]
		if known > MaxTensorElements {
			return malformed("node %s: shape %v is too large", describe(n), spec.i)
		}
	}
	total := product(in)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return malformed("node %s: cannot reshape %v to %v", describe(n), in, spec.i)
		}
		out[infer] = total / known
	}
	if product(out) != total {
		return malformed("node %s: cannot reshape %v to %v", describe(n), in, spec.i)
	}
	return im.viewOp(n, out, nil)
}

func normAxis(axis int64, rank int) (int, bool) {
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), axis >= 0 && axis < int64(rank)
}

func opFlatten(im *importer, n *onnxpb.NodeProto, a attrs) error {
	v, err := im.need(n, 0)
	if err != nil {
		return err
	}
	in := v.shape()
	axis, ok := normAxis(a.int("axis", 1), len(in)+1)
	if !ok {
		return malformed("node %s: axis %d for rank %d", describe(n), a.int("axis", 1), len(in))
	}
	return im.viewOp(n, []int{product(in[:axis]), product(in[axis:])}, nil)
}

// axesInput returns input 0's shape and the axes of Squeeze/Unsqueeze
// (an input since opset 13, an attribute before).
func (im *importer) axesInput(n *onnxpb.NodeProto, a attrs) ([]int, []int64, error) {
	v, err := im.need(n, 0)
	if err != nil {
		return nil, nil, err
	}
	c, err := im.constant(n, 1)
	if err != nil {
		return nil, nil, err
	}
	if c == nil {
		return v.shape(), a.ints("axes"), nil
	}
	out := make([]int64, c.elements())
	for k := range out {
		out[k] = int64(c.at(k))
	}
	return v.shape(), out, nil
}

func opSqueeze(im *importer, n *onnxpb.NodeProto, a attrs) error {
	in, axes, err := im.axesInput(n, a)
	if err != nil {
		return err
	}
	drop := make([]bool, len(in))
	for _, x := range axes {
		i, ok := normAxis(x, len(in))
		if !ok || in[i] != 1 {
			return malformed("node %s: cannot squeeze axis %d of %v", describe(n), x, in)
		}
		drop[i] = true
	}
	out := []int{}
	for i, d := range in {
		if (len(axes) == 0 && d == 1) || drop[i] {
			continue
		}
		out = append(out, d)
	}
	return im.viewOp(n, out, nil)
}

func opUnsqueeze(im *importer, n *onnxpb.NodeProto, a attrs) error {
	in, axes, err := im.axesInput(n, a)
	if err != nil {
		return err
	}
	r := len(in) + len(axes)
	ins := make([]bool, r)
	for _, x := range axes {
		i, ok := normAxis(x, r)
		if !ok || ins[i] {
			return malformed("node %s: axes %v", describe(n), axes)
		}
		ins[i] = true
	}
	out := make([]int, 0, r)
	k := 0
	for i := 0; i < r; i++ {
		if ins[i] {
			out = append(out, 1)
		} else {
			out = append(out, in[k])
			k++
		}
	}
	if len(out) > MaxRank {
		return unsupported(describe(n), "rank %d", len(out))
	}
	return im.viewOp(n, out, nil)
}

func opTranspose(im *importer, n *onnxpb.NodeProto, a attrs) error {
	v, err := im.need(n, 0)
	if err != nil {
		return err
	}
	r := len(v.shape())
	perm := make([]int, r)
	if p := a.ints("perm"); p != nil {
		if len(p) != r {
			return malformed("node %s: perm %v for rank %d", describe(n), p, r)
		}
		seen := make([]bool, r)
		for i, x := range p {
			if x < 0 || x >= int64(r) || seen[x] {
				return malformed("node %s: perm %v", describe(n), p)
			}
			seen[x] = true
			perm[i] = int(x)
		}
	} else {
		for i := range perm {
			perm[i] = r - 1 - i
		}
	}
	return im.viewOp(n, nil, perm)
}

// concatPart is one Concat operand: an activation, or a constant's integers.
type concatPart struct {
	x     *qtensor
	shape []int
	vals  []int64
}

// concat writes an engine Concat (a chain of them beyond 16 operands).
func (im *importer) concat(origin string, parts []concatPart, axis int, y qparams) *qtensor {
	shape := slices.Clone(parts[0].shapeOf())
	shape[axis] = 0
	for _, p := range parts {
		shape[axis] += p.shapeOf()[axis]
	}
	// Keep a shared engine layout when every activation has it.
	var lead *qtensor
	for _, p := range parts {
		if p.x != nil {
			lead = p.x
			break
		}
	}
	order := identity(len(shape))
	if lead != nil && lead.pure() {
		order = engineOrder(lead)
	}
	ts := make([]int, len(parts))
	for i, p := range parts {
		if p.x != nil {
			ts[i] = im.arrange(origin, p.x, order).t
		} else {
			s, v := transposeValues(p.shape, p.vals, order)
			ts[i] = im.g.constantZP(y.dtype, y.zp, s, v)
		}
	}
	phys := make([]int, len(shape))
	for j, a := range order {
		phys[j] = shape[a]
	}
	eaxis := slices.Index(order, axis)
	for len(ts) > params.MaxConcatInputs {
		group := ts[:params.MaxConcatInputs]
		gshape := slices.Clone(phys)
		gshape[eaxis] = 0
		for _, t := range group {
			gshape[eaxis] += im.g.tensors[t].shape[eaxis]
		}
		t := im.g.node(inference.OpConcat, &inference.ConcatAttrs{Axis: uint32(eaxis)}, y.dtype, y.zp, gshape, group...)
		ts = append([]int{t}, ts[params.MaxConcatInputs:]...)
	}
	out := &qtensor{phys: phys, perm: inverse(order), shape: shape, q: y}
	if len(ts) == 1 {
		out.t = ts[0]
		return out
	}
	out.t = im.g.node(inference.OpConcat, &inference.ConcatAttrs{Axis: uint32(eaxis)}, y.dtype, y.zp, phys, ts...)
	return out
}

func (p concatPart) shapeOf() []int {
	if p.x != nil {
		return p.x.shape
	}
	return p.shape
}

func opConcat(im *importer, n *onnxpb.NodeProto, a attrs) error {
	origin := describe(n)
	acts := make([]*qtensor, len(n.Input)) // nil for constants
	kinds := make([]kind, len(n.Input))
	var rank int
	for i := range n.Input {
		v, err := im.need(n, i)
		if err != nil {
			return err
		}
		rank = len(v.shape())
		kinds[i] = v.kind
		switch v.kind {
		case kDeq, kQuant:
			acts[i] = v.q
		case kConst, kDeqConst:
		default:
			x, err := im.act(n, i)
			if err != nil {
				return err
			}
			acts[i], kinds[i] = x, kDeq
		}
	}
	axis, ok := normAxis(a.int("axis", 0), rank)
	if !ok {
		return malformed("node %s: axis for rank %d", origin, rank)
	}
	build := func(y qparams) ([]concatPart, error) {
		parts := make([]concatPart, len(n.Input))
		for i := range n.Input {
			v, _ := im.need(n, i)
			switch v.kind {
			case kConst, kDeqConst:
				c := constValues(v)
				vals := make([]int64, c.elements())
				for k := range vals {
					vals[k] = quantizeValue(c.at(k), y.scale, int64(y.zp), y.dtype.Min(), y.dtype.Max())
				}
				parts[i] = concatPart{shape: c.shape, vals: vals}
			default:
				x := acts[i]
				qmin, qmax := fullRange(y)
				rq, err := im.requantize(origin, x, y, qmin, qmax)
				if err != nil {
					return nil, err
				}
				parts[i] = concatPart{x: rq}
			}
		}
		return parts, nil
	}
	// Operands that share one quantization need nothing but a Concat.
	var first *qtensor
	firstKind := kDeq
	same := true
	for i, x := range acts {
		if x == nil {
			same = false
			continue
		}
		if first == nil {
			first, firstKind = x, kinds[i]
		} else if !sameParams(first.q, x.q) || kinds[i] != firstKind {
			same = false
		}
	}
	if first == nil {
		return unsupported(origin, "concatenates only constants")
	}
	if same {
		parts, err := build(first.q)
		if err != nil {
			return err
		}
		return im.set(n, 0, &value{kind: firstKind, q: im.concat(origin, parts, axis, first.q)})
	}
	shape := slices.Clone(first.shape)
	shape[axis] = 0
	for i := range n.Input {
		v, _ := im.need(n, i)
		shape[axis] += v.shape()[axis]
	}
	p := newPending(origin, shape, func(y qparams, qmin, qmax int32) (*qtensor, error) {
		parts, err := build(y)
		if err != nil {
			return nil, err
		}
		q := im.concat(origin, parts, axis, y)
		if int64(qmin) != y.dtype.Min() || int64(qmax) != y.dtype.Max() {
			return im.requantize(origin, q, y, qmin, qmax)
		}
		return q, nil
	})
	return im.set(n, 0, &value{kind: kPending, p: p})
}

// opQLinearConcat: com.microsoft.QLinearConcat(Y_scale, Y_zp, X1, X1_scale, X1_zp, ...).
func opQLinearConcat(im *importer, n *onnxpb.NodeProto, a attrs) error {
	origin := describe(n)
	y, err := im.activationParams(n, 0, 1)
	if err != nil {
		return err
	}
	if (len(n.Input)-2)%3 != 0 || len(n.Input) < 5 {
		return malformed("node %s has %d inputs", origin, len(n.Input))
	}
	qmin, qmax := fullRange(y)
	var parts []concatPart
	for i := 2; i < len(n.Input); i += 3 {
		x, err := im.quantIn(n, i, i+1, i+2)
		if err != nil {
			return err
		}
		if x == nil {
			c, _ := im.constant(n, i)
			cq, err := im.activationParams(n, i+1, i+2)
			if err != nil {
				return err
			}
			_, off, _ := engineType(c.elem)
			vals := make([]int64, c.elements())
			for k := range vals {
				r := cq.scale * float64(int64(c.at(k))-off-int64(cq.zp))
				vals[k] = quantizeValue(r, y.scale, int64(y.zp), y.dtype.Min(), y.dtype.Max())
			}
			parts = append(parts, concatPart{shape: c.shape, vals: vals})
			continue
		}
		rq, err := im.requantize(origin, x, y, qmin, qmax)
		if err != nil {
			return err
		}
		parts = append(parts, concatPart{x: rq})
	}
	axis, ok := normAxis(a.int("axis", 0), len(parts[0].shapeOf()))
	if !ok {
		return malformed("node %s: axis", origin)
	}
	return im.set(n, 0, &value{kind: kQuant, q: im.concat(origin, parts, axis, y)})
}

func opGather(im *importer, n *onnxpb.NodeProto, a attrs) error {
	origin := describe(n)
	dv, err := im.need(n, 0)
	if err != nil {
		return err
	}
	iv, err := im.need(n, 1)
	if err != nil {
		return err
	}
	dshape := dv.shape()
	axis, ok := normAxis(a.int("axis", 0), len(dshape))
	if !ok {
		return malformed("node %s: axis for rank %d", origin, len(dshape))
	}
	for _, d := range dshape[:axis] {
		if d != 1 {
			return unsupported(origin, "Gather along axis %d of %v: op set v1 gathers along the first axis", axis, dshape)
		}
	}
	rows := dshape[axis]
	// Indices: a constant becomes an int32 engine constant; an int input is used as is.
	var it int
	var ishape []int
	switch iv.kind {
	case kConst:
		c := iv.c
		if c.isFloat() {
			return malformed("node %s: float indices", origin)
		}
		vals := make([]int64, c.elements())
		for k := range vals {
			x := c.i[k]
			if x < 0 {
				x += int64(rows)
			}
			if x < 0 || x >= int64(rows) {
				return malformed("node %s: index %d outside [0, %d)", origin, c.i[k], rows)
			}
			vals[k] = x
		}
		ishape = c.shape
		it = im.g.constant(inference.Int32, ishape, vals)
	case kInt:
		x := im.logical(origin, iv.q)
		it, ishape = x.t, x.shape
		im.note("%s: indices come from the input; a negative or out-of-range index makes the call fail (ErrBadInput)", origin)
	default:
		return unsupported(origin, "indices must be integers (a constant or an int32/int64 input)")
	}
	outShape := append(append(slices.Clone(dshape[:axis]), ishape...), dshape[axis+1:]...)
	if len(outShape) > params.MaxTensorRank {
		return unsupported(origin, "output rank %d", len(outShape))
	}
	gather := func(data *qtensor) *qtensor {
		dl := im.logical(origin, data)
		t := im.reshapeTensor(origin, dl.t, dl.phys, dshape[axis:], data.q)
		phys := append(slices.Clone(ishape), dshape[axis+1:]...)
		out := im.g.node(inference.OpGather, &inference.NoAttrs{}, data.q.dtype, data.q.zp, phys, t, it)
		return &qtensor{t: out, phys: phys, perm: identity(len(phys)), shape: outShape, q: data.q}
	}
	switch dv.kind {
	case kDeq, kQuant, kInt:
		return im.set(n, 0, &value{kind: dv.kind, q: gather(dv.q)})
	case kDeqConst:
		// An embedding table: a constant operand with its quantization.
		shape, vals, q := quantizeConst(dv, false)
		if len(dv.dc.scales) != 1 {
			im.note("%s: the per-channel table %q is requantized per tensor", origin, dv.dc.q.name)
		}
		tt := im.g.constantZP(q.dtype, q.zp, shape, vals)
		data := &qtensor{t: tt, phys: shape, perm: identity(len(shape)), shape: shape, q: q}
		return im.set(n, 0, &value{kind: kDeq, q: gather(data)})
	case kConst:
		// A float table read by index: quantized with its consumer's output quantization.
		c := dv.c
		p := newPending(origin, outShape, func(y qparams, qmin, qmax int32) (*qtensor, error) {
			vals := make([]int64, c.elements())
			for k := range vals {
				vals[k] = quantizeValue(c.at(k), y.scale, int64(y.zp), int64(qmin), int64(qmax))
			}
			tt := im.g.constantZP(y.dtype, y.zp, c.shape, vals)
			return gather(&qtensor{t: tt, phys: c.shape, perm: identity(len(c.shape)), shape: c.shape, q: y}), nil
		})
		return im.set(n, 0, &value{kind: kPending, p: p})
	}
	return unsupported(origin, "gathers from %q, which is not quantized", n.Input[0])
}

func opShape(im *importer, n *onnxpb.NodeProto, a attrs) error {
	v, err := im.need(n, 0)
	if err != nil {
		return err
	}
	s := v.shape()
	r := int64(len(s))
	start, end := a.int("start", 0), a.int("end", r)
	if start < 0 {
		start += r
	}
	if end < 0 {
		end += r
	}
	start, end = max(0, min(start, r)), max(0, min(end, r))
	vals := []int64{}
	for _, d := range s[start:max(start, end)] {
		vals = append(vals, int64(d))
	}
	return im.set(n, 0, &value{kind: kConst, c: &tensorData{name: n.Output[0], elem: onnxpb.TensorProto_INT64, shape: []int{len(vals)}, i: vals}})
}

func opConstant(im *importer, n *onnxpb.NodeProto, a attrs) error {
	var c *tensorData
	var err error
	switch {
	case a.has("value"):
		c, err = decodeTensor(a["value"].T)
		if a["value"].T == nil {
			return malformed("node %s: value is not a tensor", describe(n))
		}
	case a.has("value_float"):
		c = &tensorData{elem: onnxpb.TensorProto_FLOAT, shape: []int{}, f: []float64{a.float("value_float", 0)}}
	case a.has("value_floats"):
		fs := a["value_floats"].Floats
		c = &tensorData{elem: onnxpb.TensorProto_FLOAT, shape: []int{len(fs)}, f: make([]float64, len(fs))}
		for i, f := range fs {
			c.f[i] = float64(f)
		}
	case a.has("value_int"):
		c = &tensorData{elem: onnxpb.TensorProto_INT64, shape: []int{}, i: []int64{a.int("value_int", 0)}}
	case a.has("value_ints"):
		is := a.ints("value_ints")
		c = &tensorData{elem: onnxpb.TensorProto_INT64, shape: []int{len(is)}, i: slices.Clone(is)}
	default:
		return unsupported(describe(n), "Constant without value, value_float(s) or value_int(s)")
	}
	if err != nil {
		return err
	}
	c.name = n.Output[0]
	return im.set(n, 0, &value{kind: kConst, c: c})
}

func opArgMax(im *importer, n *onnxpb.NodeProto, a attrs) error {
	x, err := im.activation(n, 0)
	if err != nil {
		return err
	}
	origin := describe(n)
	if a.int("select_last_index", 0) != 0 {
		return unsupported(origin, "select_last_index 1: op set v1's ArgMax takes the first of equal values")
	}
	axis, ok := normAxis(a.int("axis", 0), len(x.shape))
	if !ok {
		return malformed("node %s: axis for rank %d", origin, len(x.shape))
	}
	if !x.pure() {
		x = im.logical(origin, x)
	}
	keep := a.int("keepdims", 1) != 0
	_, phys, perm, shape := reduceView(x, []int{axis}, keep)
	t := im.g.node(inference.OpArgMax, &inference.ArgMaxAttrs{Axis: uint32(x.perm[axis]), KeepDims: b2u(keep)}, inference.Int32, 0, phys, x.t)
	return im.set(n, 0, &value{kind: kInt, q: &qtensor{t: t, phys: phys, perm: perm, shape: shape, q: qparams{dtype: inference.Int32}}})
}
