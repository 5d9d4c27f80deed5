package cpu

import (
	"testing"
	"time"

	"github.com/infergeth/infergeth/inference"
)

// BenchmarkElementOps runs single-op models shaped like the gas
// calibration's (tests/bench/gascal), and candidates for its worst cases,
// through the backend and reports ns per unit of gas:
//
//	go test -run - -bench ElementOps ./inference/cpu
func BenchmarkElementOps(b *testing.B) {
	for _, c := range benchShapes() {
		m, _, err := c.b.Build()
		if err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		prog, err := New().Prepare(m)
		if err != nil {
			b.Fatal(err)
		}
		in := make([]byte, m.InputBytes())
		s := uint64(0x9E3779B97F4A7C15)
		for i := range in {
			s ^= s << 13
			s ^= s >> 7
			s ^= s << 17
			in[i] = byte(s)
		}
		if c.fix != nil {
			c.fix(in)
		}
		gas := float64(m.Cost().Gas())
		b.Run(c.name, func(b *testing.B) {
			start := time.Now()
			for b.Loop() {
				if _, err := prog.Run(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/gas, "ns/gas")
		})
	}
}

type benchShape struct {
	name string
	b    *inference.Builder
	fix  func(in []byte) // makes a random input valid (Gather indices)
}

func benchShapes() []benchShape {
	i8 := func(zp int32, shape ...int) inference.Spec {
		return inference.Spec{DType: inference.Int8, ZeroPoint: zp, Shape: shape}
	}
	i16 := func(shape ...int) inference.Spec { return inference.Spec{DType: inference.Int16, Shape: shape} }
	unary := func(x inference.Spec, op inference.Op, attrs inference.Attrs, out inference.Spec, consts ...func(*inference.Builder) int) *inference.Builder {
		var bl inference.Builder
		ops := []int{bl.Input(x)}
		for _, c := range consts {
			ops = append(ops, c(&bl))
		}
		bl.Output(bl.Node(op, attrs, out, ops...))
		return &bl
	}
	exp := func(bl *inference.Builder) int {
		v := make([]int64, 256)
		for i := range v {
			v[i] = int64(65536 >> (i / 16))
		}
		return bl.Const(inference.Int32, 0, []int{256}, v)
	}
	vec := func(n int, v int64) func(*inference.Builder) int {
		return func(bl *inference.Builder) int {
			vals := make([]int64, n)
			for i := range vals {
				vals[i] = v
			}
			return bl.Const(inference.Int32, 0, []int{n}, vals)
		}
	}
	norm := &inference.NormAttrs{FractionBits: 8, Epsilon: 1, Shift: 8, QMin: -128, QMax: 127}
	pool := func(k, s, p uint32) *inference.Pool2DAttrs {
		return &inference.Pool2DAttrs{KernelH: k, KernelW: k, StrideH: s, StrideW: s, PadTop: p, PadLeft: p, PadBottom: p, PadRight: p}
	}
	var rev [6]uint32
	copy(rev[:], []uint32{5, 4, 3, 2, 1, 0})
	binary := func(a, b inference.Spec, op inference.Op, attrs inference.Attrs, out inference.Spec) *inference.Builder {
		var bl inference.Builder
		x, y := bl.Input(a), bl.Input(b)
		bl.Output(bl.Node(op, attrs, out, x, y))
		return &bl
	}
	add8 := &inference.AddAttrs{MultiplierA: 3, MultiplierB: 5, Shift: 2, QMin: -128, QMax: 127}
	concat := func(k, n int) *inference.Builder {
		var bl inference.Builder
		var ins []int
		for i := 0; i < k; i++ {
			ins = append(ins, bl.Input(i8(0, n, 1)))
		}
		bl.Output(bl.Node(inference.OpConcat, &inference.ConcatAttrs{Axis: 1}, i8(0, n, k), ins...))
		return &bl
	}
	gather := func(dt inference.DType, rows, width int, count ...int) *inference.Builder {
		var bl inference.Builder
		vals := make([]int64, rows*width)
		data := bl.Const(inference.Int8, 0, []int{rows, width}, vals)
		idx := bl.Input(inference.Spec{DType: dt, Shape: count})
		bl.Output(bl.Node(inference.OpGather, &inference.NoAttrs{}, i8(0, append(count, width)...), data, idx))
		return &bl
	}
	idxFix := func(size int) func([]byte) {
		return func(in []byte) {
			for i := range in {
				if i%size == 0 {
					in[i] &= 7
				} else {
					in[i] = 0
				}
			}
		}
	}
	sm := &inference.SoftmaxAttrs{OutputScale: 256, QMin: -128, QMax: 127}
	return []benchShape{
		{name: "transpose rank 6", b: unary(i8(0, 4, 8, 16, 8, 16, 32), inference.OpTranspose, &inference.TransposeAttrs{Perm: rev}, i8(0, 32, 16, 8, 16, 8, 4))},
		{name: "transpose 16^6", b: unary(i8(0, 16, 16, 16, 16, 16, 16), inference.OpTranspose, &inference.TransposeAttrs{Perm: rev}, i8(0, 16, 16, 16, 16, 16, 16))},
		{name: "transpose 2048²", b: unary(i8(0, 2048, 2048), inference.OpTranspose, &inference.TransposeAttrs{Perm: [6]uint32{1, 0}}, i8(0, 2048, 2048))},
		{name: "maxpool 3×3 C64", b: unary(i8(0, 1, 256, 256, 64), inference.OpMaxPool2D, pool(3, 1, 1), i8(0, 1, 256, 256, 64))},
		{name: "avgpool 3×3 C64", b: unary(i8(0, 1, 256, 256, 64), inference.OpAvgPool2D, pool(3, 1, 1), i8(0, 1, 256, 256, 64))},
		{name: "maxpool 1×1 C1", b: unary(i8(0, 1, 2048, 2048, 1), inference.OpMaxPool2D, pool(1, 1, 0), i8(0, 1, 2048, 2048, 1))},
		{name: "avgpool 1×1 C1", b: unary(i8(0, 1, 2048, 2048, 1), inference.OpAvgPool2D, pool(1, 1, 0), i8(0, 1, 2048, 2048, 1))},
		{name: "avgpool 2×2/2 C1", b: unary(i8(0, 1, 2048, 2048, 1), inference.OpAvgPool2D, pool(2, 2, 0), i8(0, 1, 1024, 1024, 1))},
		{name: "avgpool 1×1 C3 int16", b: unary(i16(1, 1024, 1024, 3), inference.OpAvgPool2D, pool(1, 1, 0), i16(1, 1024, 1024, 3))},
		{name: "avgpool 3×3 C1 int16", b: unary(i16(1, 2048, 2048, 1), inference.OpAvgPool2D, pool(3, 1, 1), i16(1, 2048, 2048, 1))},
		{name: "softmax rows of 2", b: unary(i8(0, 1<<17, 16, 2), inference.OpSoftmax, sm, i8(-128, 1<<17, 16, 2), exp)},
		{name: "softmax rows of 3", b: unary(i8(0, 1024, 1024, 3), inference.OpSoftmax, sm, i8(-128, 1024, 1024, 3), exp)},
		{name: "softmax rows of 1", b: unary(i8(0, 2048, 2048, 1), inference.OpSoftmax, sm, i8(-128, 2048, 2048, 1), exp)},
		{name: "softmax 4096", b: unary(i8(0, 1024, 4096), inference.OpSoftmax, sm, i8(-128, 1024, 4096), exp)},
		{name: "rmsnorm rows of 2", b: unary(i8(0, 1<<17, 16, 2), inference.OpRMSNorm, norm, i8(0, 1<<17, 16, 2), vec(2, 24), vec(2, 0))},
		{name: "rmsnorm rows of 2, zx −128", b: unary(i8(-128, 1<<17, 16, 2), inference.OpRMSNorm, norm, i8(0, 1<<17, 16, 2), vec(2, 24), vec(2, 0))},
		{name: "rmsnorm rows of 3", b: unary(i8(0, 1024, 1024, 3), inference.OpRMSNorm, norm, i8(0, 1024, 1024, 3), vec(3, 24), vec(3, 0))},
		{name: "layernorm rows of 2", b: unary(i8(0, 2048, 1024, 2), inference.OpLayerNorm, norm, i8(0, 2048, 1024, 2), vec(2, 24), vec(2, 0))},
		{name: "layernorm rows of 3", b: unary(i8(0, 1024, 1024, 3), inference.OpLayerNorm, norm, i8(0, 1024, 1024, 3), vec(3, 24), vec(3, 0))},
		{name: "layernorm 4096", b: unary(i8(0, 1024, 4096), inference.OpLayerNorm, norm, i8(0, 1024, 4096), vec(4096, 24), vec(4096, 0))},
		{name: "add int16 4M", b: binary(i16(2048, 2048), i16(2048, 2048), inference.OpAdd, add8, i16(2048, 2048))},
		{name: "add int8 outer", b: binary(i8(1, 2048, 1), i8(-1, 1, 2048), inference.OpAdd, add8, i8(0, 2048, 2048))},
		{name: "add int8 rank 6", b: binary(i8(1, 64, 1, 64, 1, 64, 1), i8(-1, 1, 4, 1, 4, 1, 4), inference.OpAdd, add8, i8(0, 64, 4, 64, 4, 64, 4))},
		{name: "mul int8 rank 6", b: binary(i8(1, 64, 1, 64, 1, 64, 1), i8(-1, 1, 4, 1, 4, 1, 4), inference.OpMul, &inference.MulAttrs{Multiplier: 1 << 30, Shift: 35, QMin: -128, QMax: 127}, i8(0, 64, 4, 64, 4, 64, 4))},
		{name: "mean 4M", b: unary(i8(0, 1, 256, 256, 64), inference.OpMean, &inference.MeanAttrs{Axes: 6}, i8(0, 1, 64))},
		{name: "mean pairs", b: unary(i8(0, 1024, 1024, 2, 2), inference.OpMean, &inference.MeanAttrs{Axes: 4}, i8(0, 1024, 1024, 2))},
		{name: "mean axis 1", b: unary(i8(0, 2048, 2048, 1), inference.OpMean, &inference.MeanAttrs{Axes: 4}, i8(0, 2048, 2048))},
		{name: "argmax 4M", b: unary(i8(0, 4096, 1024), inference.OpArgMax, &inference.ArgMaxAttrs{Axis: 1}, inference.Spec{DType: inference.Int32, Shape: []int{4096}})},
		{name: "argmax pairs", b: unary(i8(0, 2048, 1024, 2), inference.OpArgMax, &inference.ArgMaxAttrs{Axis: 2}, inference.Spec{DType: inference.Int32, Shape: []int{2048, 1024}})},
		{name: "argmax axis 0 of 2", b: unary(i8(0, 2, 2048, 1024), inference.OpArgMax, &inference.ArgMaxAttrs{Axis: 0}, inference.Spec{DType: inference.Int32, Shape: []int{2048, 1024}})},
		{name: "concat 16×1", b: concat(16, 1<<18)},
		{name: "gather int32 rows of 1", b: gather(inference.Int32, 8, 1, 2048, 2048), fix: idxFix(4)},
		{name: "gather int8 rows of 1", b: gather(inference.Int8, 8, 1, 2048, 2048), fix: idxFix(1)},
		{name: "gather int8 rows of 3", b: gather(inference.Int8, 8, 3, 2048, 1024), fix: idxFix(1)},
		{name: "requantize 4M", b: unary(i8(0, 2048, 2048), inference.OpRequantize, &inference.RequantizeAttrs{Multiplier: 1 << 30, Shift: 31, QMin: -128, QMax: 127}, i8(0, 2048, 2048))},
		{name: "requantize int16 4M", b: unary(i16(2048, 2048), inference.OpRequantize, &inference.RequantizeAttrs{Multiplier: 1 << 30, Shift: 31, QMin: -128, QMax: 127}, i8(0, 2048, 2048))},
		{name: "clamp 4M", b: unary(i8(0, 2048, 2048), inference.OpClamp, &inference.ClampAttrs{Min: -10, Max: 10}, i8(0, 2048, 2048))},
		{name: "lookup 4M", b: unary(i8(0, 2048, 2048), inference.OpLookup, &inference.NoAttrs{}, i8(0, 2048, 2048), func(bl *inference.Builder) int {
			return bl.Const(inference.Int8, 0, []int{256}, make([]int64, 256))
		})},
		{name: "reshape 4M", b: unary(i8(0, 2048, 2048), inference.OpReshape, &inference.NoAttrs{}, i8(0, 4096, 1024))},
	}
}
