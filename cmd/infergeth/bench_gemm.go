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

// runBenchGEMM times one compute-bound FullyConnected on one core and
// prints, as its last line, gemm_gmacs=<best GMAC/s> peak_pct=<percent of
// the nominal per-core VNNI peak, 128 int8 MACs per cycle at the measured
// clock>.
func runBenchGEMM(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench gemm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seconds := fs.Float64("seconds", 3, "how long to time the GEMM")
	pathName := fs.String("path", "", "cpu kernel path: vnni, avx2 or generic (default: the fastest this CPU has)")
	m := fs.Int("m", 256, "rows (batch)")
	k := fs.Int("k", 1024, "inputs per row")
	n := fs.Int("n", 1024, "outputs per row")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: infergeth bench gemm [--seconds N] [--path P] [--m M --k K --n N]\n\nTimes an int8 FullyConnected of M×K×N (default 256×1024×1024: a 1024×1024\nlayer at batch 256, MaxModelMACs) through the cpu backend on one locked OS\nthread, for about N seconds, and reports the best run (the machine is shared:\nthe best run is the least disturbed). The clock is measured with a chain of\ndependent adds. Last line: gemm_gmacs=<GMAC/s> peak_pct=<% of 128 MAC/cycle>.\n\nFlags:")
		fs.PrintDefaults()
	}
	if _, err := parseInterspersed(fs, args); err != nil {
		return errUsage
	}
	if *seconds <= 0 || math.IsNaN(*seconds) || *m < 1 || *k < 1 || *n < 1 {
		fs.Usage()
		return errUsage
	}
	be, err := benchBackend(*pathName)
	if err != nil {
		return err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	s := cpubench.Shape{M: *m, K: *k, N: *n}
	fmt.Fprintf(stdout, "bench gemm: FullyConnected %v (M×K×N) int8, cpu backend path %s, one core\n", s, be.Path())
	peaks, err := cpubench.MeasurePeaks()
	if err != nil {
		return err
	}
	clock := peaks.Clock
	fmt.Fprintf(stdout, "clock: %.3f GHz (%s)\n", clock.Hz/1e9, clock.Method)
	if mhz, err := cpubench.CPUInfoMHz(); err == nil {
		fmt.Fprintf(stdout, "clock: /proc/cpuinfo says %.0f MHz (nominal; not used)\n", mhz)
	}
	measuredPeak, hasVNNI := max(peaks.ZMM, peaks.YMM), peaks.ZMM > 0
	if hasVNNI {
		fmt.Fprintf(stdout, "peak: nominal %d MAC/cycle = %.1f GMAC/s; VPDPBUSD measured zmm %.1f, ymm %.1f MAC/cycle = %.1f GMAC/s\n",
			cpubench.NominalVNNIMACsPerCycle, cpubench.NominalVNNIMACsPerCycle*clock.Hz/1e9, peaks.ZMM, peaks.YMM, measuredPeak*clock.Hz/1e9)
	}
	model, err := cpubench.FCModel(s)
	if err != nil {
		return err
	}
	prog, err := be.Prepare(model)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	fmt.Fprintf(stdout, "timing for %.1f s ...\n", *seconds)
	t, err := cpubench.Time([]inference.Program{prog}, s, time.Duration(*seconds*float64(time.Second)), 3, 1<<30, nil)
	if err != nil {
		return err
	}
	// The clock again, after the GEMM: the higher of the two is used, which
	// can only lower the reported percentage.
	if c2, err := cpubench.MeasureClock(); err == nil && c2.Hz > clock.Hz*1.001 {
		fmt.Fprintf(stdout, "clock: %.3f GHz after the GEMM (used)\n", c2.Hz/1e9)
		clock = c2
	}
	nominal := cpubench.NominalVNNIMACsPerCycle * clock.Hz / 1e9
	fmt.Fprintf(stdout, "runs: %d, best %v (%.1f GMAC/s), median %v (%.1f GMAC/s)\n", t.Runs, t.Best, t.GMACs(), t.Median, t.MedianGMACs())
	if hasVNNI {
		fmt.Fprintf(stdout, "of the measured VPDPBUSD peak: %.1f%%\n", 100*t.GMACs()/(measuredPeak*clock.Hz/1e9))
	}
	fmt.Fprintf(stdout, "gemm_gmacs=%.1f peak_pct=%.1f\n", t.GMACs(), 100*t.GMACs()/nominal)
	return nil
}

// benchBackend is the cpu backend with the named path, or the fastest.
func benchBackend(name string) (*cpu.Backend, error) {
	if name == "" {
		return cpu.New(), nil
	}
	p, err := cpu.ParsePath(name)
	if err != nil {
		return nil, err
	}
	return cpu.NewPath(p)
}
