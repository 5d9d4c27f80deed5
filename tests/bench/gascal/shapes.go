package main

import (
	"github.com/infergeth/infergeth/inference"
)

func i8(zp int32, shape ...int) inference.Spec {
	return inference.Spec{DType: inference.Int8, ZeroPoint: zp, Shape: shape}
}

func fill(n int, v int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func ramp(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i%255) - 127
	}
	return out
}

// dense adds the constants of a dense op with nch channels and k taps each.
func dense(b *inference.Builder, wShape []int, nch, k int) (w, bias, m, s int) {
	n := 1
	for _, d := range wShape {
		n *= d
	}
	w = b.Const(inference.Int8, 0, wShape, ramp(n))
	bias = b.Const(inference.Int32, 0, []int{nch}, fill(nch, 0))
	m = b.Const(inference.Int32, 0, []int{nch}, fill(nch, 1<<30))
	s = b.Const(inference.Int8, 0, []int{nch}, fill(nch, 45))
	_ = k
	return
}

func fc(rows, k, n int) *inference.Builder {
	b := &inference.Builder{}
	x := b.Input(i8(0, rows, k))
	w, bias, m, s := dense(b, []int{n, k}, n, k)
	b.Output(b.Node(inference.OpFullyConnected, &inference.FullyConnectedAttrs{QMin: -128, QMax: 127}, i8(0, rows, n), x, w, bias, m, s))
	return b
}

func conv(h, c, oc, k int) *inference.Builder {
	b := &inference.Builder{}
	x := b.Input(i8(0, 1, h, h, c))
	w, bias, m, s := dense(b, []int{oc, k, k, c}, oc, k*k*c)
	p := uint32(k / 2)
	a := &inference.Conv2DAttrs{StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, PadTop: p, PadLeft: p, PadBottom: p, PadRight: p, QMin: -128, QMax: 127}
	b.Output(b.Node(inference.OpConv2D, a, i8(0, 1, h, h, oc), x, w, bias, m, s))
	return b
}

func depthwise(h, c, k int) *inference.Builder {
	b := &inference.Builder{}
	x := b.Input(i8(0, 1, h, h, c))
	w, bias, m, s := dense(b, []int{k, k, c}, c, k*k)
	p := uint32(k / 2)
	a := &inference.DepthwiseConv2DAttrs{Conv2DAttrs: inference.Conv2DAttrs{StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, PadTop: p, PadLeft: p, PadBottom: p, PadRight: p, QMin: -128, QMax: 127}, DepthMultiplier: 1}
	b.Output(b.Node(inference.OpDepthwiseConv2D, a, i8(0, 1, h, h, c), x, w, bias, m, s))
	return b
}

func matmul(batch, m, k, n int) *inference.Builder {
	b := &inference.Builder{}
	a := b.Input(i8(3, batch, m, k))
	bb := b.Input(i8(-3, batch, n, k))
	b.Output(b.Node(inference.OpMatMul, &inference.MatMulAttrs{TransposeB: 1, Multiplier: 1 << 30, Shift: 45, QMin: -128, QMax: 127}, i8(0, batch, m, n), a, bb))
	return b
}

// unary builds x → op → y over shape with the given output spec.
func unary(shape []int, op inference.Op, attrs inference.Attrs, out inference.Spec, consts ...func(b *inference.Builder) int) *inference.Builder {
	return unary2(i8(0, shape...), op, attrs, out, consts...)
}

func twoInputs(shape []int, dt inference.DType, op inference.Op, attrs inference.Attrs) *inference.Builder {
	b := &inference.Builder{}
	x := b.Input(inference.Spec{DType: dt, ZeroPoint: 1, Shape: shape})
	y := b.Input(inference.Spec{DType: dt, ZeroPoint: -1, Shape: shape})
	b.Output(b.Node(op, attrs, inference.Spec{DType: dt, Shape: shape}, x, y))
	return b
}

// tinyNodes is a chain of n one-element nodes: per-node overhead.
func tinyNodes(n int) *inference.Builder {
	b := &inference.Builder{}
	x := b.Input(i8(0, 1))
	for i := 0; i < n; i++ {
		x = b.Node(inference.OpClamp, &inference.ClampAttrs{Min: -100, Max: 100}, i8(0, 1), x)
	}
	b.Output(x)
	return b
}

func shapes() []shape {
	const big = 1 << 22 // 4M elements: past every cache, inside every limit
	flat := []int{2048, 2048}
	lut := func(b *inference.Builder) int { return b.Const(inference.Int8, 0, []int{256}, ramp(256)) }
	exp := func(b *inference.Builder) int {
		v := make([]int64, 256)
		for i := range v {
			v[i] = int64(65536 >> (i / 16))
		}
		return b.Const(inference.Int32, 0, []int{256}, v)
	}
	gamma := func(n int) func(b *inference.Builder) int {
		return func(b *inference.Builder) int { return b.Const(inference.Int32, 0, []int{n}, fill(n, 24)) }
	}
	beta := func(n int) func(b *inference.Builder) int {
		return func(b *inference.Builder) int { return b.Const(inference.Int32, 0, []int{n}, fill(n, 0)) }
	}
	norm := &inference.NormAttrs{FractionBits: 8, Epsilon: 1, Shift: 8, QMin: -128, QMax: 127}
	gather := func(rows, width int, count ...int) *inference.Builder {
		b := &inference.Builder{}
		data := b.Const(inference.Int8, 0, []int{rows, width}, ramp(rows*width))
		idx := b.Input(inference.Spec{DType: inference.Int32, Shape: count})
		b.Output(b.Node(inference.OpGather, &inference.NoAttrs{}, i8(0, append(count, width)...), data, idx))
		return b
	}
	pool := &inference.Pool2DAttrs{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	var perm [6]uint32
	copy(perm[:], []uint32{5, 4, 3, 2, 1, 0})
	return []shape{
		{"fc 16×4096×4000", "compute-bound GEMM", warm, fc(16, 4096, 4000)},
		{"fc 1×4096×4000", "batch-1 GEMV from memory", warm, fc(1, 4096, 4000)},
		{"fc 1×64×64", "a small dense layer", warm, fc(1, 64, 64)},
		{"conv 56×56×64→64 3×3", "Conv2D", warm, conv(56, 64, 64, 3)},
		{"conv 224×224×3→16 3×3", "Conv2D, few input channels", warm, conv(224, 3, 16, 3)},
		{"depthwise 112×112×64 3×3", "DepthwiseConv2D", warm, depthwise(112, 64, 3)},
		{"matmul 8×128×64×128", "MatMul of two activations", warm, matmul(8, 128, 64, 128)},
		{"add int16 4M", "Add", warm, twoInputs(flat, inference.Int16, inference.OpAdd, &inference.AddAttrs{MultiplierA: 3, MultiplierB: 5, Shift: 2, QMin: -32768, QMax: 32767})},
		{"mul int8 4M", "Mul", warm, twoInputs(flat, inference.Int8, inference.OpMul, &inference.MulAttrs{Multiplier: 1 << 30, Shift: 35, QMin: -128, QMax: 127})},
		{"requantize 4M", "Requantize", warm, unary(flat, inference.OpRequantize, &inference.RequantizeAttrs{Multiplier: 1 << 30, Shift: 31, QMin: -128, QMax: 127}, i8(0, flat...))},
		{"lookup 4M", "Lookup", warm, unary(flat, inference.OpLookup, &inference.NoAttrs{}, i8(0, flat...), lut)},
		{"clamp 4M", "Clamp", warm, unary(flat, inference.OpClamp, &inference.ClampAttrs{Min: -10, Max: 10}, i8(0, flat...))},
		{"transpose rank 6", "Transpose", warm, unary([]int{4, 8, 16, 8, 16, 32}, inference.OpTranspose, &inference.TransposeAttrs{Perm: perm}, i8(0, 32, 16, 8, 16, 8, 4))},
		{"reshape 4M", "Reshape", warm, unary(flat, inference.OpReshape, &inference.NoAttrs{}, i8(0, 4096, 1024))},
		{"gather 4M", "Gather", warm, gather(8, 1024, 4096)},
		{"maxpool 3×3 4M", "MaxPool2D", warm, unary([]int{1, 256, 256, 64}, inference.OpMaxPool2D, pool, i8(0, 1, 256, 256, 64))},
		{"avgpool 3×3 4M", "AvgPool2D", warm, unary([]int{1, 256, 256, 64}, inference.OpAvgPool2D, pool, i8(0, 1, 256, 256, 64))},
		{"mean 4M", "Mean", warm, unary([]int{1, 256, 256, 64}, inference.OpMean, &inference.MeanAttrs{Axes: 6}, i8(0, 1, 64))},
		{"argmax 4M", "ArgMax", warm, unary([]int{4096, 1024}, inference.OpArgMax, &inference.ArgMaxAttrs{Axis: 1}, inference.Spec{DType: inference.Int32, Shape: []int{4096}})},
		{"softmax 4M", "Softmax", warm, unary([]int{1024, 4096}, inference.OpSoftmax, &inference.SoftmaxAttrs{OutputScale: 256, QMin: -128, QMax: 127}, i8(-128, 1024, 4096), exp)},
		{"softmax rows of 2", "Softmax, short rows", warm, unary([]int{1 << 17, 16, 2}, inference.OpSoftmax, &inference.SoftmaxAttrs{OutputScale: 256, QMin: -128, QMax: 127}, i8(-128, 1<<17, 16, 2), exp)},
		{"layernorm 4M", "LayerNorm", warm, unary([]int{1024, 4096}, inference.OpLayerNorm, norm, i8(0, 1024, 4096), gamma(4096), beta(4096))},
		{"rmsnorm rows of 2", "RMSNorm, short rows", warm, unary([]int{1 << 17, 16, 2}, inference.OpRMSNorm, norm, i8(0, 1<<17, 16, 2), gamma(2), beta(2))},
		{"2048 tiny nodes", "per-node overhead", warm, tinyNodes(2047)},
		// The worst cases found for the cpu backend's typed element ops
		// (inference/cpu): per-row work in short rows, runs too short to
		// amortize a loop, power-of-two transposes, scattered broadcasts.
		{"transpose 16^6", "Transpose, rank 6, power-of-two strides", warm, unary([]int{16, 16, 16, 16, 16, 16}, inference.OpTranspose, &inference.TransposeAttrs{Perm: perm}, i8(0, 16, 16, 16, 16, 16, 16))},
		{"add broadcast rank 6", "Add, operands broadcast along alternate short axes", warm, alternate(inference.OpAdd, &inference.AddAttrs{MultiplierA: 3, MultiplierB: 5, Shift: 2, QMin: -128, QMax: 127})},
		{"mul broadcast rank 6", "Mul, operands broadcast along alternate short axes", warm, alternate(inference.OpMul, &inference.MulAttrs{Multiplier: 1 << 30, Shift: 35, QMin: -128, QMax: 127})},
		{"softmax rows of 3", "Softmax, per-row work", warm, unary([]int{1024, 1024, 3}, inference.OpSoftmax, &inference.SoftmaxAttrs{OutputScale: 256, QMin: -128, QMax: 127}, i8(-128, 1024, 1024, 3), exp)},
		{"rmsnorm rows of 2, zero point −128", "RMSNorm, per-row work, every row a different variance", warm, unary2(i8(-128, 1<<17, 16, 2), inference.OpRMSNorm, norm, i8(0, 1<<17, 16, 2), gamma(2), beta(2))},
		{"rmsnorm rows of 3", "RMSNorm, per-row work", warm, unary([]int{1024, 1024, 3}, inference.OpRMSNorm, norm, i8(0, 1024, 1024, 3), gamma(3), beta(3))},
		{"layernorm rows of 3", "LayerNorm, per-row work", warm, unary([]int{1024, 1024, 3}, inference.OpLayerNorm, norm, i8(0, 1024, 1024, 3), gamma(3), beta(3))},
		{"concat 16 columns", "Concat of 16 one-column operands", warm, columns(16, 1<<18)},
		{"gather rows of 1", "Gather, one int8 element per index", warm, gather(8, 1, 2048, 2048)},
		{"avgpool 2×2/2, 1 channel", "AvgPool2D, a division per output", warm, unary([]int{1, 2048, 2048, 1}, inference.OpAvgPool2D, &inference.Pool2DAttrs{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}, i8(0, 1, 1024, 1024, 1))},
		{"avgpool int16 3×3, 1 channel", "AvgPool2D, int16", warm, pool16()},
		{"mean pairs", "Mean over an axis of 2, a kept axis of 2 inside", warm, unary([]int{1024, 1024, 2, 2}, inference.OpMean, &inference.MeanAttrs{Axes: 4}, i8(0, 1024, 1024, 2))},
		{"argmax pairs", "ArgMax over rows of 2", warm, unary([]int{2048, 1024, 2}, inference.OpArgMax, &inference.ArgMaxAttrs{Axis: 2}, inference.Spec{DType: inference.Int32, Shape: []int{2048, 1024}})},
		// Convolutions whose im2col rows are mostly separate taps (one
		// channel, dilation): copying the receptive fields, not the MACs,
		// is the work.
		{"conv 1024×1024×1→1 3×3", "Conv2D, one channel in and out", warm, convWith(1024, 1, 1, 3, 1, 1)},
		{"conv 512×512×1→1 8×8 dilated 2", "Conv2D, one channel, every tap its own copy", warm, convWith(512, 1, 1, 8, 2, 1)},
		{"conv 256×256×4→8 5×5 dilated 3", "Conv2D, few channels, dilated", warm, convWith(256, 4, 8, 5, 3, 1)},
		{"depthwise 1024×1024×1 3×3", "DepthwiseConv2D, one channel", warm, depthwiseWith(1024, 1, 3, 1)},
		{"depthwise 256×256×16 5×5 dilated 4", "DepthwiseConv2D, dilated", warm, depthwiseWith(256, 16, 5, 4)},
		// Shapes beyond the kernels' scratch bounds (an im2col row above
		// 1 MiB, a padded image above 64 MiB): the cpu backend once left
		// them to the reference code.
		{"conv K 64×64×300 (row above 1 MiB)", "Conv2D, K split into slices", warm, convBigK()},
		{"conv padded image above 64 MiB", "Conv2D, receptive fields read from the unpadded input", warm, convBigImage(false)},
		{"depthwise padded image above 64 MiB", "DepthwiseConv2D, taps gathered per pixel", warm, convBigImage(true)},
		{"first call, 16 MB model", "loading a model from state", cold, fc(1, 4096, 4000)},
		{"validate, 16 MB model", "registration", validate, fc(1, 4096, 4000)},
	}
}

// alternate is an int8 op over [64,4,64,4,64,4] whose operands are
// [64,1,64,1,64,1] and [1,4,1,4,1,4]: no two axes merge and the last is short.
func alternate(op inference.Op, attrs inference.Attrs) *inference.Builder {
	b := &inference.Builder{}
	x := b.Input(i8(1, 64, 1, 64, 1, 64, 1))
	y := b.Input(i8(-1, 1, 4, 1, 4, 1, 4))
	b.Output(b.Node(op, attrs, i8(0, 64, 4, 64, 4, 64, 4), x, y))
	return b
}

// columns joins k one-column int8 operands of n rows along axis 1.
func columns(k, n int) *inference.Builder {
	b := &inference.Builder{}
	var ins []int
	for i := 0; i < k; i++ {
		ins = append(ins, b.Input(i8(0, n, 1)))
	}
	b.Output(b.Node(inference.OpConcat, &inference.ConcatAttrs{Axis: 1}, i8(0, n, k), ins...))
	return b
}

// pool16 is a 3×3 AvgPool2D over one int16 channel.
func pool16() *inference.Builder {
	b := &inference.Builder{}
	s := inference.Spec{DType: inference.Int16, Shape: []int{1, 2048, 2048, 1}}
	x := b.Input(s)
	b.Output(b.Node(inference.OpAvgPool2D, &inference.Pool2DAttrs{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}, s, x))
	return b
}

// unary2 is unary with the input's spec given (its zero point too).
func unary2(x inference.Spec, op inference.Op, attrs inference.Attrs, out inference.Spec, consts ...func(b *inference.Builder) int) *inference.Builder {
	b := &inference.Builder{}
	operands := []int{b.Input(x)}
	for _, c := range consts {
		operands = append(operands, c(b))
	}
	b.Output(b.Node(op, attrs, out, operands...))
	return b
}

// convWith is a Conv2D over an h×h×c image to oc channels with a k×k
// kernel of dilation d and stride st, padded to keep the size (stride 1).
func convWith(h, c, oc, k, d, st int) *inference.Builder {
	b := &inference.Builder{}
	x := b.Input(i8(0, 1, h, h, c))
	w, bias, m, s := dense(b, []int{oc, k, k, c}, oc, k*k*c)
	p := uint32(d * (k - 1) / 2)
	a := &inference.Conv2DAttrs{StrideH: uint32(st), StrideW: uint32(st), DilationH: uint32(d), DilationW: uint32(d), PadTop: p, PadLeft: p, PadBottom: p, PadRight: p, QMin: -128, QMax: 127}
	o := inference.ConvOutput(h, k, st, d, int(p), int(p))
	b.Output(b.Node(inference.OpConv2D, a, i8(0, 1, o, o, oc), x, w, bias, m, s))
	return b
}

// depthwiseWith is depthwise(h, c, k) with dilation d.
func depthwiseWith(h, c, k, d int) *inference.Builder {
	b := &inference.Builder{}
	x := b.Input(i8(0, 1, h, h, c))
	w, bias, m, s := dense(b, []int{k, k, c}, c, k*k)
	p := uint32(d * (k - 1) / 2)
	a := &inference.DepthwiseConv2DAttrs{Conv2DAttrs: inference.Conv2DAttrs{StrideH: 1, StrideW: 1, DilationH: uint32(d), DilationW: uint32(d), PadTop: p, PadLeft: p, PadBottom: p, PadRight: p, QMin: -128, QMax: 127}, DepthMultiplier: 1}
	o := inference.ConvOutput(h, k, 1, d, int(p), int(p))
	b.Output(b.Node(inference.OpDepthwiseConv2D, a, i8(0, 1, o, o, c), x, w, bias, m, s))
	return b
}

// sparse is n weights, one in every 997 non-zero: the overflow proof
// then allows dot products far longer than dense weights would.
func sparse(n int) []int64 {
	w := make([]int64, n)
	for i := 0; i < n; i += 997 {
		w[i] = int64(i%255) - 127
	}
	return w
}

// sparseDense is dense with sparse weights.
func sparseDense(b *inference.Builder, wShape []int, nch int) (w, bias, m, s int) {
	n := 1
	for _, d := range wShape {
		n *= d
	}
	w = b.Const(inference.Int8, 0, wShape, sparse(n))
	bias = b.Const(inference.Int32, 0, []int{nch}, fill(nch, 0))
	m = b.Const(inference.Int32, 0, []int{nch}, fill(nch, 1<<30))
	s = b.Const(inference.Int8, 0, []int{nch}, fill(nch, 45))
	return
}

// convBigK: a 64×64 kernel over 300 channels, K = 1228800 (an im2col row
// of 1.2 MB int8, 2.4 MB as AVX2's int16), over an image padded by 3.
func convBigK() *inference.Builder {
	b := &inference.Builder{}
	x := b.Input(i8(0, 1, 64, 64, 300))
	w, bias, m, s := sparseDense(b, []int{2, 64, 64, 300}, 2)
	a := &inference.Conv2DAttrs{StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, PadTop: 3, PadLeft: 3, PadBottom: 3, PadRight: 3, QMin: -128, QMax: 127}
	b.Output(b.Node(inference.OpConv2D, a, i8(0, 1, 7, 7, 2), x, w, bias, m, s))
	return b
}

// convBigImage: a 64×64 kernel of dilation 16 over a 256×256×48 image
// padded by 504 on every side (a 1264² × 48 padded image: 77 MB), stride 8.
func convBigImage(depthwise bool) *inference.Builder {
	const h, c, k, d, st, p = 256, 48, 64, 16, 8, 504
	b := &inference.Builder{}
	x := b.Input(i8(3, 1, h, h, c))
	o := inference.ConvOutput(h, k, st, d, p, p)
	a := inference.Conv2DAttrs{StrideH: st, StrideW: st, DilationH: d, DilationW: d, PadTop: p, PadLeft: p, PadBottom: p, PadRight: p, QMin: -128, QMax: 127}
	if depthwise {
		w, bias, m, s := sparseDense(b, []int{k, k, c}, c)
		b.Output(b.Node(inference.OpDepthwiseConv2D, &inference.DepthwiseConv2DAttrs{Conv2DAttrs: a, DepthMultiplier: 1}, i8(0, 1, o, o, c), x, w, bias, m, s))
		return b
	}
	w, bias, m, s := sparseDense(b, []int{1, k, k, c}, 1)
	b.Output(b.Node(inference.OpConv2D, &a, i8(0, 1, o, o, 1), x, w, bias, m, s))
	return b
}
