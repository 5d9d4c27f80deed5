package inference

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/infergeth/infergeth/params"
)

// Validate checks a parsed model: graph structure, every op's types, shapes
// and constants, the static overflow proof, the freshness table and the
// limits on cost and memory. After it succeeds, running the model on any
// input of the right length cannot overflow an accumulator, and its cost
// (Cost) is within the limits.
func (m *Model) Validate() error {
	if err := m.checkGraph(); err != nil {
		return err
	}
	for i := range m.Nodes {
		if err := m.checkNode(i); err != nil {
			return err
		}
	}
	if err := m.checkFreshness(); err != nil {
		return err
	}
	c := m.computeCost()
	switch {
	case c.MACs > params.MaxModelMACs:
		return refuse("cost.macs", "%d multiply-accumulates exceeds MaxModelMACs (%d)", c.MACs, uint64(params.MaxModelMACs))
	case c.ElementOps > params.MaxModelElementOps:
		return refuse("cost.elementOps", "%d element operations exceeds MaxModelElementOps (%d)", c.ElementOps, uint64(params.MaxModelElementOps))
	case c.PeakActivationBytes > params.MaxPeakActivationBytes:
		return refuse("cost.peakActivationBytes", "%d bytes of live activations exceeds MaxPeakActivationBytes (%d)", c.PeakActivationBytes, params.MaxPeakActivationBytes)
	}
	m.cost = &c
	return nil
}

// checkGraph: inputs and node outputs are activations defined exactly once,
// every operand is defined before its use, outputs are defined and distinct,
// and every constant is used.
func (m *Model) checkGraph() error {
	defined := make([]bool, len(m.Tensors))
	used := make([]bool, len(m.Tensors))
	for i, t := range m.Inputs {
		if m.Tensors[t].Kind != Activation {
			return refuse(fmt.Sprintf("inputs[%d]", i), "tensor %d is a constant; graph inputs are activations", t)
		}
		if defined[t] {
			return refuse(fmt.Sprintf("inputs[%d]", i), "tensor %d is listed twice", t)
		}
		defined[t] = true
	}
	for i := range m.Tensors {
		if m.Tensors[i].Kind == Constant {
			defined[i] = true
		}
	}
	for i := range m.Nodes {
		n := &m.Nodes[i]
		for k, in := range n.Inputs {
			if !defined[in] {
				return refuse(fmt.Sprintf("nodes[%d].inputs[%d]", i, k), "tensor %d is used before it is defined (nodes are in topological order)", in)
			}
			used[in] = true
		}
		if m.Tensors[n.Output].Kind != Activation {
			return refuse(fmt.Sprintf("nodes[%d].output", i), "tensor %d is a constant", n.Output)
		}
		if defined[n.Output] {
			return refuse(fmt.Sprintf("nodes[%d].output", i), "tensor %d is already defined", n.Output)
		}
		defined[n.Output] = true
	}
	seen := make([]bool, len(m.Tensors))
	for i, t := range m.Outputs {
		if m.Tensors[t].Kind != Activation {
			return refuse(fmt.Sprintf("outputs[%d]", i), "tensor %d is a constant", t)
		}
		if seen[t] {
			return refuse(fmt.Sprintf("outputs[%d]", i), "tensor %d is listed twice", t)
		}
		seen[t] = true
	}
	for i := range m.Tensors {
		switch {
		case !defined[i]:
			return refuse(fmt.Sprintf("tensors[%d]", i), "activation is never defined (neither a graph input nor a node output)")
		case m.Tensors[i].Kind == Constant && !used[i]:
			return refuse(fmt.Sprintf("tensors[%d]", i), "constant is never used")
		}
	}
	return nil
}

// InputElements is the number of elements across the graph inputs.
func (m *Model) InputElements() int {
	n := 0
	for _, t := range m.Inputs {
		n += m.Tensors[t].Elements()
	}
	return n
}

// InputBytes is the length of a call's input: the graph inputs' bytes, concatenated.
func (m *Model) InputBytes() int {
	n := 0
	for _, t := range m.Inputs {
		n += m.Tensors[t].Bytes()
	}
	return n
}

// OutputBytes is the length of a call's output.
func (m *Model) OutputBytes() int {
	n := 0
	for _, t := range m.Outputs {
		n += m.Tensors[t].Bytes()
	}
	return n
}

// InputElementDType returns the type and zero point of flat input element e.
func (m *Model) InputElementDType(e int) (DType, int32, bool) {
	for _, t := range m.Inputs {
		n := m.Tensors[t].Elements()
		if e < n {
			return m.Tensors[t].DType, m.Tensors[t].ZeroPoint, true
		}
		e -= n
	}
	return 0, 0, false
}

func (m *Model) checkFreshness() error {
	total := uint64(m.InputElements())
	for i, f := range m.Freshness {
		field := func(name string) string { return fmt.Sprintf("freshness[%d].%s", i, name) }
		if uint64(f.Element) >= total {
			return refuse(field("element"), "%d is not an input element (the inputs have %d)", f.Element, total)
		}
		if i > 0 && f.Element <= m.Freshness[i-1].Element {
			return refuse(field("element"), "%d: entries are sorted by element, strictly increasing", f.Element)
		}
		if f.FeedMultiplier < 0 {
			return refuse(field("feedMultiplier"), "%d is negative (0 means not feedable)", f.FeedMultiplier)
		}
		if f.FeedShift > params.MaxFeedShift {
			return refuse(field("feedShift"), "%d exceeds MaxFeedShift (%d)", f.FeedShift, params.MaxFeedShift)
		}
		if f.FeedMultiplier == 0 && f.FeedShift != 0 {
			return refuse(field("feedShift"), "must be 0 when feedMultiplier is 0, is %d", f.FeedShift)
		}
	}
	return nil
}

// nodeCheck carries what every op check needs.
type nodeCheck struct {
	m *Model
	i int
	n *Node
}

func (c *nodeCheck) field(name string) string {
	return fmt.Sprintf("nodes[%d] (%s).%s", c.i, c.n.Op, name)
}

func (c *nodeCheck) refuse(name, format string, args ...any) error {
	return refuse(c.field(name), format, args...)
}

func (c *nodeCheck) in(k int) *Tensor { return &c.m.Tensors[c.n.Inputs[k]] }
func (c *nodeCheck) out() *Tensor     { return &c.m.Tensors[c.n.Output] }

func (c *nodeCheck) operandName(k int) string {
	if names := ops[c.n.Op].inputNames; k < len(names) {
		return names[k]
	}
	return fmt.Sprintf("inputs[%d]", k)
}

func (c *nodeCheck) dtype(k int, allowed ...DType) error {
	t := c.in(k)
	for _, d := range allowed {
		if t.DType == d {
			return nil
		}
	}
	return c.refuse(c.operandName(k), "is %s; %s takes %v", t.DType, c.n.Op, allowed)
}

func (c *nodeCheck) constant(k int, dt DType, shape ...int) error {
	t := c.in(k)
	name := c.operandName(k)
	if t.Kind != Constant {
		return c.refuse(name, "must be a constant tensor")
	}
	if t.DType != dt {
		return c.refuse(name, "is %s, must be %s", t.DType, dt)
	}
	if shape != nil && !equalShape(t.Shape, shape) {
		return c.refuse(name, "has shape %v, must be %v", t.Shape, shape)
	}
	return nil
}

func (c *nodeCheck) outShape(want []int) error {
	if got := c.out().Shape; !equalShape(got, want) {
		return c.refuse("output", "has shape %v, the op produces %v", got, want)
	}
	return nil
}

func (c *nodeCheck) outDType(allowed ...DType) error {
	o := c.out()
	for _, d := range allowed {
		if o.DType == d {
			return nil
		}
	}
	return c.refuse("output", "is %s; %s produces %v", o.DType, c.n.Op, allowed)
}

// sameAsInput: ops that move values keep their type and zero point.
func (c *nodeCheck) sameAsInput(k int) error {
	in, o := c.in(k), c.out()
	if in.DType != o.DType || in.ZeroPoint != o.ZeroPoint {
		return c.refuse("output", "is %s with zero point %d; %s keeps its input's %s with zero point %d", o.DType, o.ZeroPoint, c.n.Op, in.DType, in.ZeroPoint)
	}
	return nil
}

func (c *nodeCheck) qrange(qmin, qmax int32) error {
	o := c.out()
	if int64(qmin) < o.DType.Min() || int64(qmax) > o.DType.Max() || qmin > qmax {
		return c.refuse("qmin/qmax", "[%d, %d] is not a non-empty range within %s [%d, %d]", qmin, qmax, o.DType, o.DType.Min(), o.DType.Max())
	}
	return nil
}

func (c *nodeCheck) multiplier(name string, v int32) error {
	if v < 1 {
		return c.refuse(name, "%d is outside [1, 2^31-1]", v)
	}
	return nil
}

func (c *nodeCheck) shift(name string, v uint32) error {
	if v > params.MaxShift {
		return c.refuse(name, "%d exceeds MaxShift (%d)", v, params.MaxShift)
	}
	return nil
}

func (c *nodeCheck) boolean(name string, v uint32) error {
	if v > 1 {
		return c.refuse(name, "%d is neither 0 nor 1", v)
	}
	return nil
}

func (c *nodeCheck) rank(k int, ranks ...int) error {
	r := len(c.in(k).Shape)
	for _, want := range ranks {
		if r == want {
			return nil
		}
	}
	return c.refuse(c.operandName(k), "has rank %d; %s takes rank %v", r, c.n.Op, ranks)
}

func (m *Model) checkNode(i int) error {
	c := &nodeCheck{m: m, i: i, n: &m.Nodes[i]}
	switch a := c.n.Attrs.(type) {
	case *FullyConnectedAttrs:
		return c.fullyConnected(a)
	case *Conv2DAttrs:
		return c.conv2D(a)
	case *DepthwiseConv2DAttrs:
		return c.depthwiseConv2D(a)
	case *MatMulAttrs:
		return c.matMul(a)
	case *AddAttrs:
		return c.add(a)
	case *MulAttrs:
		return c.mul(a)
	case *RequantizeAttrs:
		return c.requantize(a)
	case *ClampAttrs:
		return c.clamp(a)
	case *Pool2DAttrs:
		return c.pool2D(a)
	case *MeanAttrs:
		return c.mean(a)
	case *TransposeAttrs:
		return c.transpose(a)
	case *ConcatAttrs:
		return c.concat(a)
	case *ArgMaxAttrs:
		return c.argMax(a)
	case *SoftmaxAttrs:
		return c.softmax(a)
	case *NormAttrs:
		return c.norm(a)
	case *NoAttrs:
		switch c.n.Op {
		case OpLookup:
			return c.lookup()
		case OpReshape:
			return c.reshape()
		case OpGather:
			return c.gather()
		}
	}
	return c.refuse("op", "has no validation rule (internal error)")
}

// absMaxOffset is the largest |x - zp| over every value an operand can hold:
// its actual values for a constant, its type's range for an activation.
func absMaxOffset(t *Tensor) int64 {
	if t.Kind == Constant && t.DType == Int8 {
		lo, hi := int8(127), int8(-128)
		for _, b := range t.Data {
			lo, hi = min(lo, int8(b)), max(hi, int8(b))
		}
		zp := int64(t.ZeroPoint)
		return max(abs64(int64(lo)-zp), abs64(int64(hi)-zp))
	}
	if t.Kind == Constant {
		var mx int64
		for i := 0; i < t.Elements(); i++ {
			v := abs64(t.At(i) - int64(t.ZeroPoint))
			mx = max(mx, v)
		}
		return mx
	}
	zp := int64(t.ZeroPoint)
	return max(t.DType.Max()-zp, zp-t.DType.Min())
}

// dense checks the constants of FullyConnected, Conv2D and DepthwiseConv2D
// and proves, per output channel c, that
//
//	Σ_k |w[c,k]| · max|x - zx| + |bias[c]| ≤ 2^31 - 1
//
// so the int32 accumulator cannot overflow for any input. The weights of
// channel c are contiguous (channel-major, FullyConnected and Conv2D's
// [N, ...]) or every channels-th element (channel-minor, DepthwiseConv2D's
// [KH, KW, C]).
func (c *nodeCheck) dense(channels int, weightShape []int, channelMajor bool) error {
	if err := c.constant(1, Int8, weightShape...); err != nil {
		return err
	}
	if err := c.constant(2, Int32, channels); err != nil {
		return err
	}
	if err := c.constant(3, Int32, channels); err != nil {
		return err
	}
	if err := c.constant(4, Int8, channels); err != nil {
		return err
	}
	w, bias, mult, shift := c.in(1), c.in(2), c.in(3), c.in(4)
	if w.ZeroPoint != 0 {
		return c.refuse("weights", "zero point %d: weights are symmetric (zero point 0)", w.ZeroPoint)
	}
	for ch := 0; ch < channels; ch++ {
		if v := mult.At(ch); v < 1 {
			return c.refuse("multiplier", "element %d is %d, outside [1, 2^31-1]", ch, v)
		}
		if v := shift.At(ch); v < 0 || v > params.MaxShift {
			return c.refuse("shift", "element %d is %d, outside [0, MaxShift (%d)]", ch, v, params.MaxShift)
		}
	}
	// Σ|w| per channel in one pass over the weights, refusing -128.
	sums := make([]int64, channels)
	per := len(w.Data) / channels
	rows := per
	if channelMajor {
		rows = channels
	}
	for row := 0; row < rows; row++ {
		// channel-major: row is a channel, its per weights contiguous;
		// channel-minor: row is a tap, holding one weight of every channel.
		var seg []byte
		if channelMajor {
			seg = w.Data[row*per : (row+1)*per]
		} else {
			seg = w.Data[row*channels : (row+1)*channels]
		}
		var rowSum int64
		for i, b := range seg {
			v := int64(int8(b))
			if v == -128 {
				return c.refuse("weights", "element %d is -128: weights lie in [-127, 127]", row*len(seg)+i)
			}
			if v < 0 {
				v = -v
			}
			if channelMajor {
				rowSum += v
			} else {
				sums[i] += v
			}
		}
		if channelMajor {
			sums[row] = rowSum
		}
	}
	xmax := absMaxOffset(c.in(0))
	for ch, sumAbs := range sums {
		// sumAbs ≤ 127 * MaxTensorElements < 2^31 and xmax ≤ 255: no int64 overflow.
		bound := sumAbs*xmax + abs64(bias.At(ch))
		if bound > math.MaxInt32 {
			return c.refuse("weights", "overflow proof fails for output channel %d: Σ|w|·max|x-zx| + |bias| = %d·%d + %d = %d exceeds 2^31-1", ch, sumAbs, xmax, abs64(bias.At(ch)), bound)
		}
	}
	return nil
}

func (c *nodeCheck) fullyConnected(a *FullyConnectedAttrs) error {
	x := c.in(0)
	if err := c.dtype(0, Int8); err != nil {
		return err
	}
	if len(x.Shape) < 1 {
		return c.refuse("x", "is a scalar; FullyConnected needs rank 1 or more")
	}
	k := x.Shape[len(x.Shape)-1]
	w := c.in(1)
	if len(w.Shape) != 2 || w.Shape[1] != k {
		return c.refuse("weights", "has shape %v, must be [N, %d]", w.Shape, k)
	}
	channels := w.Shape[0]
	err := c.dense(channels, []int{channels, k}, true)
	if err != nil {
		return err
	}
	out := append(append([]int(nil), x.Shape[:len(x.Shape)-1]...), channels)
	if err := c.outShape(out); err != nil {
		return err
	}
	if err := c.outDType(Int8, Int16, Int32); err != nil {
		return err
	}
	return c.qrange(a.QMin, a.QMax)
}

// ConvOutput is the output extent of a convolution or pooling window along
// one axis, or 0 when the window does not fit.
func ConvOutput(in, kernel, stride, dilation, padBefore, padAfter int) int {
	span := dilation*(kernel-1) + 1
	padded := in + padBefore + padAfter
	if padded < span || stride < 1 {
		return 0
	}
	return (padded-span)/stride + 1
}

func (c *nodeCheck) windowAttrs(a *Conv2DAttrs, kh, kw int) error {
	for _, f := range []struct {
		name string
		v    uint32
	}{{"strideH", a.StrideH}, {"strideW", a.StrideW}, {"dilationH", a.DilationH}, {"dilationW", a.DilationW}} {
		if f.v < 1 || f.v > params.MaxStride {
			return c.refuse(f.name, "%d is outside [1, MaxStride (%d)]", f.v, params.MaxStride)
		}
	}
	if kh < 1 || kh > params.MaxKernelDim || kw < 1 || kw > params.MaxKernelDim {
		return c.refuse("weights", "kernel %dx%d is outside [1, MaxKernelDim (%d)]", kh, kw, params.MaxKernelDim)
	}
	spanH, spanW := int(a.DilationH)*(kh-1), int(a.DilationW)*(kw-1)
	for _, p := range []struct {
		name string
		v    uint32
		max  int
	}{{"padTop", a.PadTop, spanH}, {"padBottom", a.PadBottom, spanH}, {"padLeft", a.PadLeft, spanW}, {"padRight", a.PadRight, spanW}} {
		if int64(p.v) > int64(p.max) {
			return c.refuse(p.name, "%d exceeds the dilated kernel extent minus one (%d)", p.v, p.max)
		}
	}
	return nil
}

func (c *nodeCheck) convOut(a *Conv2DAttrs, kh, kw, channels int) error {
	x := c.in(0)
	oh := ConvOutput(x.Shape[1], kh, int(a.StrideH), int(a.DilationH), int(a.PadTop), int(a.PadBottom))
	ow := ConvOutput(x.Shape[2], kw, int(a.StrideW), int(a.DilationW), int(a.PadLeft), int(a.PadRight))
	if oh == 0 || ow == 0 {
		return c.refuse("x", "input %v is smaller than the dilated %dx%d kernel", x.Shape, kh, kw)
	}
	if err := c.outShape([]int{x.Shape[0], oh, ow, channels}); err != nil {
		return err
	}
	if err := c.outDType(Int8, Int16, Int32); err != nil {
		return err
	}
	return c.qrange(a.QMin, a.QMax)
}

func (c *nodeCheck) conv2D(a *Conv2DAttrs) error {
	if err := c.dtype(0, Int8); err != nil {
		return err
	}
	if err := c.rank(0, 4); err != nil {
		return err
	}
	x, w := c.in(0), c.in(1)
	if len(w.Shape) != 4 || w.Shape[3] != x.Shape[3] {
		return c.refuse("weights", "has shape %v, must be [OC, KH, KW, %d] (OHWI)", w.Shape, x.Shape[3])
	}
	oc, kh, kw, ic := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	if err := c.windowAttrs(a, kh, kw); err != nil {
		return err
	}
	err := c.dense(oc, []int{oc, kh, kw, ic}, true)
	if err != nil {
		return err
	}
	return c.convOut(a, kh, kw, oc)
}

func (c *nodeCheck) depthwiseConv2D(a *DepthwiseConv2DAttrs) error {
	if err := c.dtype(0, Int8); err != nil {
		return err
	}
	if err := c.rank(0, 4); err != nil {
		return err
	}
	x, w := c.in(0), c.in(1)
	if a.DepthMultiplier < 1 || a.DepthMultiplier > params.MaxTensorDim {
		return c.refuse("depthMultiplier", "%d is outside [1, MaxTensorDim (%d)]", a.DepthMultiplier, params.MaxTensorDim)
	}
	oc := x.Shape[3] * int(a.DepthMultiplier)
	if len(w.Shape) != 3 || w.Shape[2] != oc {
		return c.refuse("weights", "has shape %v, must be [KH, KW, %d] (channels × depth multiplier)", w.Shape, oc)
	}
	kh, kw := w.Shape[0], w.Shape[1]
	if err := c.windowAttrs(&a.Conv2DAttrs, kh, kw); err != nil {
		return err
	}
	err := c.dense(oc, []int{kh, kw, oc}, false)
	if err != nil {
		return err
	}
	return c.convOut(&a.Conv2DAttrs, kh, kw, oc)
}

// MatMulDims returns batch, M, K, N of a MatMul over shapes a and b.
func MatMulDims(a, b []int, transposeB bool) (batch, m, k, n int) {
	r := len(a)
	batch = 1
	if r == 3 {
		batch = a[0]
	}
	m, k = a[r-2], a[r-1]
	if transposeB {
		n = b[r-2]
	} else {
		n = b[r-1]
	}
	return batch, m, k, n
}

func (c *nodeCheck) matMul(a *MatMulAttrs) error {
	if err := c.dtype(0, Int8); err != nil {
		return err
	}
	if err := c.dtype(1, Int8); err != nil {
		return err
	}
	if err := c.rank(0, 2, 3); err != nil {
		return err
	}
	A, B := c.in(0), c.in(1)
	if len(B.Shape) != len(A.Shape) {
		return c.refuse("b", "has rank %d, a has rank %d", len(B.Shape), len(A.Shape))
	}
	if len(A.Shape) == 3 && A.Shape[0] != B.Shape[0] {
		return c.refuse("b", "batch %d differs from a's %d", B.Shape[0], A.Shape[0])
	}
	if err := c.boolean("transposeB", a.TransposeB); err != nil {
		return err
	}
	batch, m, k, n := MatMulDims(A.Shape, B.Shape, a.TransposeB == 1)
	r := len(B.Shape)
	kb := B.Shape[r-2]
	if a.TransposeB == 1 {
		kb = B.Shape[r-1]
	}
	if kb != k {
		return c.refuse("b", "has shape %v; its inner dimension must be a's %d", B.Shape, k)
	}
	if err := c.multiplier("multiplier", a.Multiplier); err != nil {
		return err
	}
	if err := c.shift("shift", a.Shift); err != nil {
		return err
	}
	amax, bmax := absMaxOffset(A), absMaxOffset(B)
	if bound := int64(k) * amax * bmax; bound > math.MaxInt32 {
		return c.refuse("a", "overflow proof fails: K·max|a-za|·max|b-zb| = %d·%d·%d = %d exceeds 2^31-1", k, amax, bmax, bound)
	}
	out := []int{m, n}
	if r == 3 {
		out = []int{batch, m, n}
	}
	if err := c.outShape(out); err != nil {
		return err
	}
	if err := c.outDType(Int8, Int16, Int32); err != nil {
		return err
	}
	return c.qrange(a.QMin, a.QMax)
}

// BroadcastShape is the numpy-style broadcast of a and b, or nil if they
// do not broadcast.
func BroadcastShape(a, b []int) []int {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if j := len(a) - r + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - r + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil
		}
	}
	return out
}

func (c *nodeCheck) broadcastOut() error {
	shape := BroadcastShape(c.in(0).Shape, c.in(1).Shape)
	if shape == nil {
		return c.refuse("b", "shape %v does not broadcast with a's %v", c.in(1).Shape, c.in(0).Shape)
	}
	return c.outShape(shape)
}

// first returns the first non-nil error. The checks passed to it are
// independent of each other, so evaluating them all is safe.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// add: |a-za|, |b-zb| ≤ 65535 and multipliers < 2^31, so the int64 sum is
// below 2^49 for every input: no proof beyond the type rules is needed.
func (c *nodeCheck) add(a *AddAttrs) error {
	if err := first(c.dtype(0, Int8, Int16), c.dtype(1, Int8, Int16),
		c.multiplier("multiplierA", a.MultiplierA), c.multiplier("multiplierB", a.MultiplierB),
		c.shift("shift", a.Shift)); err != nil {
		return err
	}
	return first(c.broadcastOut(), c.outDType(Int8, Int16, Int32), c.qrange(a.QMin, a.QMax))
}

// mul: |(a-za)(b-zb)| ≤ 255² and the multiplier < 2^31, so the product is
// below 2^47.
func (c *nodeCheck) mul(a *MulAttrs) error {
	if err := first(c.dtype(0, Int8), c.dtype(1, Int8),
		c.multiplier("multiplier", a.Multiplier), c.shift("shift", a.Shift)); err != nil {
		return err
	}
	return first(c.broadcastOut(), c.outDType(Int8, Int16, Int32), c.qrange(a.QMin, a.QMax))
}

// requantize: |x-zx| ≤ 2^31 (int32 zero points are 0) and the multiplier
// < 2^31, so the product is below 2^62.
func (c *nodeCheck) requantize(a *RequantizeAttrs) error {
	return first(c.multiplier("multiplier", a.Multiplier), c.shift("shift", a.Shift),
		c.outShape(c.in(0).Shape), c.qrange(a.QMin, a.QMax))
}

func (c *nodeCheck) lookup() error {
	if err := c.dtype(0, Int8); err != nil {
		return err
	}
	if err := c.constant(1, Int8, 256); err != nil {
		return err
	}
	if err := c.outShape(c.in(0).Shape); err != nil {
		return err
	}
	return c.outDType(Int8)
}

func (c *nodeCheck) clamp(a *ClampAttrs) error {
	if err := c.sameAsInput(0); err != nil {
		return err
	}
	if err := c.outShape(c.in(0).Shape); err != nil {
		return err
	}
	x := c.in(0)
	if int64(a.Min) < x.DType.Min() || int64(a.Max) > x.DType.Max() || a.Min > a.Max {
		return c.refuse("min/max", "[%d, %d] is not a non-empty range within %s", a.Min, a.Max, x.DType)
	}
	return nil
}

func (c *nodeCheck) pool2D(a *Pool2DAttrs) error {
	if err := c.dtype(0, Int8, Int16); err != nil {
		return err
	}
	if err := c.rank(0, 4); err != nil {
		return err
	}
	if err := c.sameAsInput(0); err != nil {
		return err
	}
	kh, kw := int(a.KernelH), int(a.KernelW)
	if a.KernelH < 1 || a.KernelH > params.MaxKernelDim || a.KernelW < 1 || a.KernelW > params.MaxKernelDim {
		return c.refuse("kernel", "%dx%d is outside [1, MaxKernelDim (%d)]", a.KernelH, a.KernelW, params.MaxKernelDim)
	}
	if a.StrideH < 1 || a.StrideH > params.MaxStride || a.StrideW < 1 || a.StrideW > params.MaxStride {
		return c.refuse("stride", "%dx%d is outside [1, MaxStride (%d)]", a.StrideH, a.StrideW, params.MaxStride)
	}
	// Padding smaller than the window keeps at least one real element in
	// every window, so max and mean are always defined.
	if a.PadTop >= a.KernelH || a.PadBottom >= a.KernelH || a.PadLeft >= a.KernelW || a.PadRight >= a.KernelW {
		return c.refuse("padding", "each side must be smaller than the kernel (%dx%d)", kh, kw)
	}
	x := c.in(0)
	oh := ConvOutput(x.Shape[1], kh, int(a.StrideH), 1, int(a.PadTop), int(a.PadBottom))
	ow := ConvOutput(x.Shape[2], kw, int(a.StrideW), 1, int(a.PadLeft), int(a.PadRight))
	if oh == 0 || ow == 0 {
		return c.refuse("x", "input %v is smaller than the %dx%d window", x.Shape, kh, kw)
	}
	return c.outShape([]int{x.Shape[0], oh, ow, x.Shape[3]})
}

func (c *nodeCheck) mean(a *MeanAttrs) error {
	if err := c.dtype(0, Int8, Int16); err != nil {
		return err
	}
	if err := c.sameAsInput(0); err != nil {
		return err
	}
	if err := c.boolean("keepDims", a.KeepDims); err != nil {
		return err
	}
	x := c.in(0)
	r := len(x.Shape)
	if a.Axes == 0 || a.Axes>>uint(r) != 0 {
		return c.refuse("axes", "bitmask %#x must name at least one of the %d axes and no others", a.Axes, r)
	}
	return c.outShape(ReduceShape(x.Shape, a.Axes, a.KeepDims == 1))
}

// ReduceShape removes (or keeps as 1) the axes whose bits are set in mask.
func ReduceShape(shape []int, mask uint32, keep bool) []int {
	out := []int{}
	for i, d := range shape {
		switch {
		case mask&(1<<uint(i)) == 0:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

func (c *nodeCheck) reshape() error {
	if err := c.sameAsInput(0); err != nil {
		return err
	}
	if c.in(0).Elements() != c.out().Elements() {
		return c.refuse("output", "shape %v has %d elements, the input %v has %d", c.out().Shape, c.out().Elements(), c.in(0).Shape, c.in(0).Elements())
	}
	return nil
}

func (c *nodeCheck) transpose(a *TransposeAttrs) error {
	if err := c.sameAsInput(0); err != nil {
		return err
	}
	x := c.in(0)
	r := len(x.Shape)
	seen := [params.MaxTensorRank]bool{}
	out := make([]int, r)
	for i, p := range a.Perm {
		if i >= r {
			if p != 0 {
				return c.refuse(fmt.Sprintf("perm[%d]", i), "is %d beyond rank %d, must be 0", p, r)
			}
			continue
		}
		if p >= uint32(r) || seen[p] {
			return c.refuse("perm", "%v is not a permutation of the %d axes", a.Perm[:r], r)
		}
		seen[p] = true
		out[i] = x.Shape[p]
	}
	return c.outShape(out)
}

func (c *nodeCheck) concat(a *ConcatAttrs) error {
	first := c.in(0)
	r := len(first.Shape)
	if a.Axis >= uint32(r) {
		return c.refuse("axis", "%d is not an axis of rank %d", a.Axis, r)
	}
	out := append([]int(nil), first.Shape...)
	for k := 1; k < len(c.n.Inputs); k++ {
		t := c.in(k)
		if t.DType != first.DType || t.ZeroPoint != first.ZeroPoint {
			return c.refuse(fmt.Sprintf("inputs[%d]", k), "is %s with zero point %d; operands share inputs[0]'s %s with zero point %d", t.DType, t.ZeroPoint, first.DType, first.ZeroPoint)
		}
		if len(t.Shape) != r {
			return c.refuse(fmt.Sprintf("inputs[%d]", k), "has rank %d, inputs[0] has %d", len(t.Shape), r)
		}
		for d := range t.Shape {
			if d != int(a.Axis) && t.Shape[d] != first.Shape[d] {
				return c.refuse(fmt.Sprintf("inputs[%d]", k), "shape %v differs from %v off the axis", t.Shape, first.Shape)
			}
		}
		out[a.Axis] += t.Shape[a.Axis]
	}
	if out[a.Axis] > params.MaxTensorDim {
		return c.refuse("output", "axis %d would be %d, exceeding MaxTensorDim (%d)", a.Axis, out[a.Axis], params.MaxTensorDim)
	}
	if err := c.sameAsInput(0); err != nil {
		return err
	}
	return c.outShape(out)
}

func (c *nodeCheck) gather() error {
	data, idx := c.in(0), c.in(1)
	if len(data.Shape) < 1 {
		return c.refuse("data", "is a scalar; Gather selects along axis 0")
	}
	if err := c.dtype(1, Int8, Int16, Int32); err != nil {
		return err
	}
	if idx.ZeroPoint != 0 {
		return c.refuse("indices", "zero point %d: indices have zero point 0", idx.ZeroPoint)
	}
	out := append(append([]int(nil), idx.Shape...), data.Shape[1:]...)
	if len(out) > params.MaxTensorRank {
		return c.refuse("output", "rank %d exceeds MaxTensorRank (%d)", len(out), params.MaxTensorRank)
	}
	if err := c.sameAsInput(0); err != nil {
		return err
	}
	return c.outShape(out)
}

func (c *nodeCheck) argMax(a *ArgMaxAttrs) error {
	x := c.in(0)
	if a.Axis >= uint32(len(x.Shape)) {
		return c.refuse("axis", "%d is not an axis of rank %d", a.Axis, len(x.Shape))
	}
	if err := c.boolean("keepDims", a.KeepDims); err != nil {
		return err
	}
	if o := c.out(); o.DType != Int32 {
		return c.refuse("output", "is %s; ArgMax produces int32 indices", o.DType)
	}
	return c.outShape(ReduceShape(x.Shape, 1<<a.Axis, a.KeepDims == 1))
}

func (c *nodeCheck) lastAxis() (int, error) {
	x := c.in(0)
	if len(x.Shape) < 1 {
		return 0, c.refuse("x", "is a scalar; %s works along the last axis", c.n.Op)
	}
	n := x.Shape[len(x.Shape)-1]
	if n > params.MaxNormAxis {
		return 0, c.refuse("x", "last axis %d exceeds MaxNormAxis (%d)", n, params.MaxNormAxis)
	}
	return n, nil
}

// Softmax bounds: table entries < 2^31 and OutputScale < 2^31, so e·scale <
// 2^62; Σe ≤ MaxNormAxis·2^31 < 2^43; the rounding 2·e·scale + Σe < 2^64.
func (c *nodeCheck) softmax(a *SoftmaxAttrs) error {
	if err := c.dtype(0, Int8); err != nil {
		return err
	}
	if _, err := c.lastAxis(); err != nil {
		return err
	}
	if err := c.constant(1, Int32, 256); err != nil {
		return err
	}
	table := c.in(1)
	for i := 0; i < 256; i++ {
		if table.At(i) < 0 {
			return c.refuse("expTable", "element %d is %d; entries are non-negative", i, table.At(i))
		}
	}
	if table.At(0) < 1 {
		return c.refuse("expTable", "element 0 (exp(0)) is 0; it must be at least 1 so the sum is never 0")
	}
	if a.OutputScale < 1 || a.OutputScale > math.MaxInt32 {
		return c.refuse("outputScale", "%d is outside [1, 2^31-1]", a.OutputScale)
	}
	if err := c.outShape(c.in(0).Shape); err != nil {
		return err
	}
	if err := c.outDType(Int8, Int16); err != nil {
		return err
	}
	return c.qrange(a.QMin, a.QMax)
}

// norm proves the LayerNorm/RMSNorm bound of docs/spec.md: with n ≤
// MaxNormAxis and epsilon ≥ 1, |t| < 2·√n·2^F + 1, and
// |t|·max|γ| + max|β| + 2^(s-1) < 2^63.
func (c *nodeCheck) norm(a *NormAttrs) error {
	if err := c.dtype(0, Int8); err != nil {
		return err
	}
	n, err := c.lastAxis()
	if err != nil {
		return err
	}
	if err := c.constant(1, Int32, n); err != nil {
		return err
	}
	if err := c.constant(2, Int32, n); err != nil {
		return err
	}
	if a.FractionBits > params.MaxNormFractionBits {
		return c.refuse("fractionBits", "%d exceeds MaxNormFractionBits (%d)", a.FractionBits, params.MaxNormFractionBits)
	}
	if a.Epsilon < 1 || a.Epsilon > params.MaxNormEpsilon {
		return c.refuse("epsilon", "%d is outside [1, MaxNormEpsilon (2^60)]", a.Epsilon)
	}
	if err := c.shift("shift", a.Shift); err != nil {
		return err
	}
	tmax := 2*ceilSqrt(uint64(n))<<a.FractionBits + 1
	gmax, bmax := uint64(absMaxOffset(c.in(1))), uint64(absMaxOffset(c.in(2)))
	hi, lo := bits.Mul64(tmax, gmax)
	round := uint64(0)
	if a.Shift > 0 {
		round = 1 << (a.Shift - 1)
	}
	if hi != 0 || lo > math.MaxInt64-bmax-round {
		return c.refuse("gamma", "overflow proof fails: |t|·max|γ| + max|β| + 2^(s-1) with |t| ≤ %d, max|γ| = %d, max|β| = %d exceeds 2^63-1", tmax, gmax, bmax)
	}
	if err := c.outShape(c.in(0).Shape); err != nil {
		return err
	}
	if err := c.outDType(Int8, Int16); err != nil {
		return err
	}
	return c.qrange(a.QMin, a.QMax)
}

func ceilSqrt(v uint64) uint64 {
	r := ISqrt(v)
	if r*r < v {
		r++
	}
	return r
}

// ISqrt is floor(√v), exactly, in integers.
func ISqrt(v uint64) uint64 {
	if v < 2 {
		return v
	}
	// Newton's method from an over-estimate converges monotonically down.
	x := uint64(1) << ((bits.Len64(v) + 1) / 2)
	for {
		y := (x + v/x) / 2
		if y >= x {
			return x
		}
		x = y
	}
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
