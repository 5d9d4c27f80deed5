//go:build cuda

package cuda

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// gemmShapes are the GEMMs BenchmarkGEMM times (M rows, N columns, K);
// tests/gpu/int_mm.py times torch._int_mm on the same shapes. The first
// are as large as one node of a model may be (params.MaxModelMACs = 2^28);
// the last are compute-bound shapes that compare the kernel with cuBLASLt.
var gemmShapes = [][3]int{
	{1, 4096, 4096}, {16, 4096, 4096}, {256, 1024, 1024}, {512, 512, 1024},
	{2048, 2048, 2048}, {4096, 4096, 4096}, {8192, 8192, 8192},
}

// BenchmarkGEMM times the GEMM kernel alone (epilogue to int8 included) on
// operands already on the device: GMAC/s.
func BenchmarkGEMM(b *testing.B) {
	be := gpuBackend(b, Config{Force: true})
	for _, s := range gemmShapes {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("m=%d_n=%d_k=%d", m, n, k), func(b *testing.B) {
			var bufs []devPtr
			var l launchSpec
			err := be.lock.do(func() error {
				d := be.ex.dev
				r := rand.New(rand.NewPCG(uint64(m), uint64(n)))
				put := func(size int, fill func([]byte)) (devPtr, error) {
					p, err := d.alloc(size)
					if err != nil {
						return 0, err
					}
					bufs = append(bufs, p)
					host := make([]byte, size)
					fill(host)
					return p, d.upload(p, host)
				}
				random := func(h []byte) {
					for i := range h {
						h[i] = byte(r.Uint32())
					}
				}
				words := func(v int32) func([]byte) {
					return func(h []byte) { putInt32s(h, repeat(v, len(h)/4)) }
				}
				var g gemmArgs
				var err error
				if g.a, err = put(m*k, random); err != nil {
					return err
				}
				if g.b, err = put(n*k, random); err != nil {
					return err
				}
				if g.colTerm, err = put(4*n, words(12345)); err != nil {
					return err
				}
				if g.mult, err = put(4*n, words(1<<30)); err != nil {
					return err
				}
				if g.shift, err = put(4*n, words(40)); err != nil {
					return err
				}
				if g.out, err = put(m*n, func([]byte) {}); err != nil {
					return err
				}
				g.m, g.n, g.kp, g.batch, g.qmin, g.qmax, g.outSize = m, n, k, 1, -128, 127, 1
				l = gemmLaunch(g, kernelAuto)
				return nil
			})
			defer be.lock.do(func() error {
				for _, p := range bufs {
					_ = be.ex.dev.free(p)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			run := func(times int) error {
				return be.lock.do(func() error {
					for i := 0; i < times; i++ {
						if err := be.ex.dev.launch(l); err != nil {
							return err
						}
					}
					var one [1]byte
					return be.ex.dev.download(one[:], bufs[len(bufs)-1]) // waits for the launches
				})
			}
			if err := run(2); err != nil { // warm up
				b.Fatal(err)
			}
			b.ResetTimer()
			if err := run(b.N); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

func repeat(v int32, n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// mlpModel is FullyConnected layers of the given widths over batch rows,
// ReLU by the clamp range.
func mlpModel(batch int, widths ...int) *inference.Model {
	r := rand.New(rand.NewPCG(uint64(batch), uint64(len(widths))))
	var b inference.Builder
	x := b.Input(inference.Spec{DType: inference.Int8, Shape: []int{batch, widths[0]}})
	for i := 1; i < len(widths); i++ {
		k, n := widths[i-1], widths[i]
		w := make([]int64, n*k)
		for j := range w {
			w[j] = int64(r.IntN(255) - 127)
		}
		bias, mult, shift := make([]int64, n), make([]int64, n), make([]int64, n)
		for c := 0; c < n; c++ {
			bias[c], mult[c], shift[c] = int64(r.IntN(2001)-1000), 1<<30+int64(r.IntN(1<<29)), 40
		}
		x = b.Node(inference.OpFullyConnected, &inference.FullyConnectedAttrs{QMin: 0, QMax: 127},
			inference.Spec{DType: inference.Int8, Shape: []int{batch, n}},
			x, b.Const(inference.Int8, 0, []int{n, k}, w), b.Const(inference.Int32, 0, []int{n}, bias),
			b.Const(inference.Int32, 0, []int{n}, mult), b.Const(inference.Int8, 0, []int{n}, shift))
	}
	b.Output(x)
	m, _, err := b.Build()
	if err != nil {
		panic(err)
	}
	return m
}

// BenchmarkModelCall times whole calls, copies and launches included:
// small models (the per-call overhead target is 30 µs) and a larger one,
// each with every dense node on the GPU (cuda-forced), with the default
// threshold (cuda-auto: small nodes on the CPU) and on the reference.
func BenchmarkModelCall(b *testing.B) {
	forced := gpuBackend(b, Config{Force: true})
	auto := gpuBackend(b, Config{Name: "cuda-auto"})
	for _, mc := range []struct {
		name  string
		model *inference.Model
	}{
		{"fc1_64x64", mlpModel(1, 64, 64)},
		{"mlp_64-64-64-10", mlpModel(1, 64, 64, 64, 10)},
		{"mlp_b64_1024-1024-1024", mlpModel(64, 1024, 1024, 1024)},
	} {
		in := make([]byte, mc.model.InputBytes())
		for i := range in {
			in[i] = byte(i * 7)
		}
		ref, _ := reference.Backend{}.Prepare(mc.model)
		want, _ := ref.Run(in)
		for _, be := range []struct {
			name string
			b    inference.Backend
		}{{"cuda-forced", forced}, {"cuda-auto", auto}, {"reference", reference.Backend{}}} {
			b.Run(mc.name+"/"+be.name, func(b *testing.B) {
				prog, err := be.b.Prepare(mc.model)
				if err != nil {
					b.Fatal(err)
				}
				got, err := prog.Run(in) // warm up: weights to the device
				if err != nil || string(got) != string(want) {
					b.Fatalf("output differs from the reference (%v)", err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := prog.Run(in); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(mc.model.Cost().MACs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
	if forced.Faults()+auto.Faults() != 0 {
		b.Errorf("GPU faults during the benchmark: %d", forced.Faults()+auto.Faults())
	}
}
