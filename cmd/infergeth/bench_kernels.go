package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"runtime"
	"time"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/cpu"
	"github.com/infergeth/infergeth/inference/cpu/cpubench"
)

// Shapes of the kernel table. Single models are bounded by MaxModelMACs
// (2^28) and MaxModelBytes (16 MiB): 256×1024×1024 is a 1024×1024 layer at
// batch 256, and 4096×4080 the largest ~4096² weight matrix a model holds.
var (
	gemmShapes = []cpubench.Shape{{M: 256, K: 256, N: 256}, {M: 512, K: 512, N: 512}, {M: 256, K: 1024, N: 1024}}
	gemvShapes = []cpubench.Shape{{M: 1, K: 1024, N: 1024}, {M: 1, K: 2048, N: 2048}, {M: 1, K: 4096, N: 4080}}
	// genericShape is timed on the generic path (the reference code) for the ratio.
	genericShape = cpubench.Shape{M: 64, K: 256, N: 256}
)

// runBenchKernels prints the GEMM/GEMV section of docs/benchmarks.md.
func runBenchKernels(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench kernels", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seconds := fs.Float64("seconds", 1.5, "time budget per measurement")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: infergeth bench kernels [--seconds N]\n\nTimes GEMM and batch-1 GEMV shapes as FullyConnected models on every cpu\nkernel path this CPU has, on one locked OS thread, and prints a markdown\nsection (progress on stderr).\n\nFlags:")
		fs.PrintDefaults()
	}
	if _, err := parseInterspersed(fs, args); err != nil {
		return errUsage
	}
	if *seconds <= 0 || math.IsNaN(*seconds) {
		fs.Usage()
		return errUsage
	}
	budget := time.Duration(*seconds * float64(time.Second))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	peaks, err := cpubench.MeasurePeaks()
	if err != nil {
		return err
	}
	clock := peaks.Clock
	measuredPeak, hasVNNI := max(peaks.ZMM, peaks.YMM), peaks.ZMM > 0
	fmt.Fprintln(stderr, "bench kernels: stream bandwidth")
	buf := cpubench.NewStreamBuffer(256 << 20)

	w := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }
	w("## CPU kernels: GEMM and batch-1 GEMV")
	w("")
	w("`infergeth bench kernels --seconds %g`: int8 FullyConnected models (M×K×N: M rows, K inputs, N outputs, int8 out) through the cpu backend, one core (locked OS thread), each path forced with `cpu.NewPath`. Times are the best of many runs (the machine is shared; the best run is the least disturbed), medians beside them. Go benchmarks: `go test -bench . ./inference/cpu/cpubench`.", *seconds)
	w("")
	nominal := cpubench.NominalVNNIMACsPerCycle * clock.Hz / 1e9
	w("- Clock: %.3f GHz, measured by a chain of dependent register ADDs (one cycle each; %s, interleaved with the VPDPBUSD loops below), taken before the runs.", clock.Hz/1e9, clock.Method)
	if mhz, err := cpubench.CPUInfoMHz(); err == nil {
		w("  /proc/cpuinfo says %.0f MHz, the VM's nominal TSC rate, not the running clock. Caveat: the clock can change between measurements (boost); a higher clock only lowers the percentages below.", mhz)
	}
	w("- Nominal per-core VNNI peak: %d int8 MAC/cycle × clock = %.1f GMAC/s (the design's target is ≥ 70%% of it).", cpubench.NominalVNNIMACsPerCycle, nominal)
	measured := 0.0
	if hasVNNI {
		measured = measuredPeak * clock.Hz / 1e9
		w("- Measured VPDPBUSD peak: register-only VPDPBUSD, 24 independent accumulators: zmm %.1f MAC/cycle (%.2f instructions per cycle); ymm %.1f MAC/cycle (%.2f per cycle); the better, %.1f GMAC/s, is the \"measured peak\" below. Where both stay near 64 MAC/cycle, the core executes 512-bit VPDPBUSD as two 256-bit halves and the nominal 128 MAC/cycle is out of reach: the best any int8 kernel can do here is %.0f%% of the nominal peak.",
			peaks.ZMM, peaks.ZMM/64, peaks.YMM, peaks.YMM/32, measured, 100*measuredPeak/cpubench.NominalVNNIMACsPerCycle)
	}
	w("")

	var paths []*cpu.Backend
	for _, p := range cpu.Supported() {
		if p == cpu.PathGeneric {
			continue
		}
		b, err := cpu.NewPath(p)
		if err != nil {
			return err
		}
		paths = append(paths, b)
	}

	w("### GEMM (compute-bound, weights and activations in L2)")
	w("")
	w("| shape M×K×N | path | best GMAC/s | median GMAC/s | %% of nominal peak | %% of measured VPDPBUSD peak | runs |")
	w("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
	row := func(s cpubench.Shape, path string, t cpubench.Timing) {
		pm := "–"
		if measured > 0 {
			pm = fmt.Sprintf("%.1f", 100*t.GMACs()/measured)
		}
		w("| %v | %s | %.1f | %.1f | %.1f | %s | %d |", s, path, t.GMACs(), t.MedianGMACs(), 100*t.GMACs()/nominal, pm, t.Runs)
	}
	g, err := cpu.NewPath(cpu.PathGeneric)
	if err != nil {
		return err
	}
	jobs := make([]gemmJob, 0, len(gemmShapes)+1)
	for _, s := range gemmShapes {
		jobs = append(jobs, gemmJob{s, paths})
	}
	jobs = append(jobs, gemmJob{genericShape, append([]*cpu.Backend{g}, paths...)})
	for _, j := range jobs {
		m, err := cpubench.FCModel(j.s)
		if err != nil {
			return err
		}
		for _, b := range j.paths {
			fmt.Fprintf(stderr, "bench kernels: GEMM %v %s\n", j.s, b.Path())
			prog, err := b.Prepare(m)
			if err != nil {
				return fmt.Errorf("prepare %v: %w", j.s, err)
			}
			t, err := cpubench.Time([]inference.Program{prog}, j.s, budget, 3, 1<<30, nil)
			if err != nil {
				return err
			}
			name := b.Path().String()
			if b.Path() == cpu.PathGeneric {
				name += " (reference code)"
			}
			row(j.s, name, t)
		}
	}
	w("")
	w("### Batch-1 GEMV (memory-bound, weights from DRAM)")
	w("")
	w("Each run uses the next of several prepared copies of the model (at least %d MiB of packed weights in all, 4× the L3), so its weights come from DRAM. Streaming reads: chunks at successive offsets of a 256 MiB buffer (one cursor for the whole run, so no read finds its data in a cache), alternately with 64-byte and 32-byte loads (the 32-byte ones stream faster on this core); one read of a chunk the size of the weights before each GEMV run, so that both share the machine's memory bus alike. GEMV GB/s counts the K×N weight bytes only; both are best-of.", cpubench.ColdBytes>>20)
	w("")
	fmt.Fprintln(stderr, "bench kernels: streaming read bandwidth")
	calibrated := buf.Best([]int{1 << 20, 4 << 20, 16 << 20}, 100)
	type gemvRow struct {
		s      cpubench.Shape
		path   string
		t      cpubench.Timing
		stream float64
	}
	var rows []gemvRow
	for _, s := range gemvShapes {
		wb := s.K * s.N
		m, err := cpubench.FCModel(s)
		if err != nil {
			return err
		}
		for _, b := range paths {
			fmt.Fprintf(stderr, "bench kernels: GEMV %v %s\n", s, b.Path())
			progs := make([]inference.Program, cpubench.ColdCopies(wb))
			for i := range progs {
				if progs[i], err = b.Prepare(m); err != nil {
					return fmt.Errorf("prepare %v: %w", s, err)
				}
			}
			stream := buf.Stream(wb)
			t, err := cpubench.Time(progs, s, budget, 2*len(progs), 1<<30, stream.Sample)
			if err != nil {
				return err
			}
			rows = append(rows, gemvRow{s, b.Path().String(), t, stream.BytesPerSecond()})
			progs = nil
			runtime.GC()
		}
	}
	// The bandwidth: the best streaming read of the whole run (the
	// calibration and every between-runs sample), so that one disturbed
	// sample cannot inflate a percentage.
	bw := calibrated
	for _, r := range rows {
		bw = max(bw, r.stream)
	}
	w("Two bandwidths: the streaming read of a chunk the size of the weights, sampled beside the GEMV runs (\"stream beside\"), and the best streaming read of the whole run, %.1f GB/s (a calibration of 100 reads each of 1, 4 and 16 MiB plus every sample beside the GEMV runs). On a shared machine short reads catch quiet moments that long ones do not, so the second is the stricter yardstick.", bw/1e9)
	w("")
	w("| shape 1×K×N | path | weights | best µs | median µs | GB/s | stream beside GB/s | %% of stream beside | %% of the run's best stream | GMAC/s |")
	w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		wb := r.s.K * r.s.N
		g := r.t.WeightBytesPerSecond()
		w("| %v | %s | %.1f MiB | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f | %.1f |", r.s, r.path, float64(wb)/(1<<20),
			float64(r.t.Best.Nanoseconds())/1e3, float64(r.t.Median.Nanoseconds())/1e3,
			g/1e9, r.stream/1e9, 100*g/r.stream, 100*g/bw, r.t.GMACs())
	}
	return nil
}

// gemmJob is one GEMM shape and the paths it is timed on.
type gemmJob struct {
	s     cpubench.Shape
	paths []*cpu.Backend
}
