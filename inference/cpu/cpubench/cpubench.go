// Package cpubench measures the cpu backend's kernels against what the
// core can do: the core clock (a dependent-add chain), the VPDPBUSD
// instruction's throughput ceiling, single-core streaming read bandwidth,
// and GEMM/GEMV shapes run as FullyConnected models through a backend.
// `infergeth bench gemm` and the Go benchmarks in this package use it.
//
// The machines this project runs on are shared, so every timing is the
// best of many short runs (the run least disturbed by other processes),
// with the median reported beside it; read ratios from one run, never
// absolute numbers across runs.
package cpubench

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/infergeth/infergeth/inference"
)

// NominalVNNIMACsPerCycle is the per-core peak the design targets are
// stated against: two 512-bit VPDPBUSD per cycle, 64 int8 MACs each.
const NominalVNNIMACsPerCycle = 128

// Clock is a measured core clock.
type Clock struct {
	Hz     float64
	Method string
}

// MeasureClock measures the core clock: the best of many short runs of a
// chain of dependent register adds (one cycle each on every x86 core since
// the Pentium 4), timed by the OS monotonic clock. It measures the clock
// the core actually runs at (boost included), which /proc/cpuinfo on a VM
// does not show. Caveats: frequency can change between this measurement
// and the kernels' (callers measure again afterwards and keep the higher);
// a core that fused or eliminated dependent adds would read high (none
// known does so for register-register ADD). Without the assembly chain
// (non-amd64) it falls back to /proc/cpuinfo's "cpu MHz".
func MeasureClock() (Clock, error) {
	p, err := MeasurePeaks()
	return p.Clock, err
}

// Peaks are the clock and the VPDPBUSD throughput, measured together.
type Peaks struct {
	Clock Clock
	// ZMM and YMM are the int8 MACs per cycle that register-only VPDPBUSD
	// zmm and ymm instructions (24 independent accumulators, no loads)
	// retire; 0 without AVX-512 VNNI.
	ZMM, YMM float64
}

// MeasurePeaks measures the clock and the VPDPBUSD peaks in interleaved
// rounds (add chain, zmm loop, ymm loop), 300 rounds of about 0.1 ms each,
// keeping the best of each: on a shared machine some rounds of each run
// undisturbed, and all three see the same conditions.
func MeasurePeaks() (Peaks, error) {
	if !haveAddChain {
		mhz, err := cpuinfoMHz()
		if err != nil {
			return Peaks{}, err
		}
		return Peaks{Clock: Clock{Hz: mhz * 1e6, Method: "/proc/cpuinfo cpu MHz"}}, nil
	}
	const (
		rounds     = 300
		chainIters = 5000 // 64 adds each: 320k cycles
		peakIters  = 5000 // 24 instructions each
	)
	vnni := haveVNNI()
	best := [3]time.Duration{1 << 62, 1 << 62, 1 << 62}
	for r := 0; r < rounds; r++ {
		for i, f := range []func(int){addChain, vnniPeak, vnniPeakY} {
			if i > 0 && !vnni {
				break
			}
			t0 := time.Now()
			f([]int{chainIters, peakIters, peakIters}[i])
			best[i] = min(best[i], time.Since(t0))
		}
	}
	p := Peaks{Clock: Clock{Hz: float64(chainIters*64) / best[0].Seconds(),
		Method: fmt.Sprintf("dependent ADD chain, best of %d × %dk cycles", rounds, chainIters*64/1000)}}
	if vnni {
		p.ZMM = float64(peakIters*24*64) / (best[1].Seconds() * p.Clock.Hz)
		p.YMM = float64(peakIters*24*32) / (best[2].Seconds() * p.Clock.Hz)
	}
	return p, nil
}

// CPUInfoMHz is /proc/cpuinfo's "cpu MHz" of the first CPU (for a VM,
// usually the nominal TSC rate, not the running clock).
func CPUInfoMHz() (float64, error) { return cpuinfoMHz() }

func cpuinfoMHz() (float64, error) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0, fmt.Errorf("cpubench: clock: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "cpu MHz" {
			mhz, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("cpubench: /proc/cpuinfo cpu MHz: %w", err)
			}
			return mhz, nil
		}
	}
	return 0, fmt.Errorf("cpubench: no cpu MHz in /proc/cpuinfo")
}

// StreamBuffer measures single-core streaming read bandwidth: reads of
// chunks at successive offsets of one buffer much larger than the
// last-level cache, with one cursor for every measurement in a run, so that
// every read finds its data cold (last touched a buffer's length ago).
// Reads alternate between 64-byte and 32-byte loads (on this Zen 5 the
// 32-byte loads stream faster).
type StreamBuffer struct {
	buf  []byte
	off  int
	n    int
	sink uint64
}

// NewStreamBuffer allocates n bytes (rounded up to 256) and touches every page.
func NewStreamBuffer(n int) *StreamBuffer {
	b := make([]byte, (n+255)&^255)
	for i := 0; i < len(b); i += 4096 {
		b[i] = byte(i >> 12)
	}
	return &StreamBuffer{buf: b}
}

// read reads the next chunk bytes (a multiple of 256) and times it.
func (b *StreamBuffer) read(chunk int) time.Duration {
	if b.off+chunk > len(b.buf) {
		b.off = 0
	}
	p := b.buf[b.off : b.off+chunk]
	t0 := time.Now()
	b.sink ^= streamReadVariant(p, b.n)
	d := time.Since(t0)
	b.off += chunk
	b.n++
	return d
}

// Stream is a series of reads of one chunk size; a GEMV benchmark takes
// one sample before each run, so both see the same share of a shared
// machine's memory bus.
type Stream struct {
	b     *StreamBuffer
	chunk int
	best  time.Duration
}

// Stream returns a series of reads of chunk bytes (rounded down to 256).
func (b *StreamBuffer) Stream(chunk int) *Stream {
	return &Stream{b: b, chunk: max(256, min(chunk, len(b.buf))&^255), best: time.Duration(1 << 62)}
}

// Sample reads the next chunk and keeps the time if it is the best so far.
func (s *Stream) Sample() { s.best = min(s.best, s.b.read(s.chunk)) }

// BytesPerSecond is the best sample's rate.
func (s *Stream) BytesPerSecond() float64 { return float64(s.chunk) / s.best.Seconds() }

// Best is the best rate (bytes/s) over samples reads of each chunk size,
// interleaved.
func (b *StreamBuffer) Best(chunks []int, samples int) float64 {
	streams := make([]*Stream, len(chunks))
	for i, c := range chunks {
		streams[i] = b.Stream(c)
	}
	var best float64
	for r := 0; r < samples; r++ {
		for _, s := range streams {
			s.Sample()
		}
	}
	for _, s := range streams {
		best = max(best, s.BytesPerSecond())
	}
	return best
}

func streamReadGo(buf []byte) uint64 {
	var s uint64
	for i := 0; i+8 <= len(buf); i += 8 {
		s ^= uint64(buf[i]) | uint64(buf[i+1])<<8 | uint64(buf[i+2])<<16 | uint64(buf[i+3])<<24 |
			uint64(buf[i+4])<<32 | uint64(buf[i+5])<<40 | uint64(buf[i+6])<<48 | uint64(buf[i+7])<<56
	}
	return s
}

// Shape is a FullyConnected of M rows, K inputs and N outputs: M·K·N MACs,
// K·N weight bytes. M = 1 is a batch-1 GEMV.
type Shape struct{ M, K, N int }

func (s Shape) String() string { return fmt.Sprintf("%d×%d×%d", s.M, s.K, s.N) }

// MACs is M·K·N.
func (s Shape) MACs() float64 { return float64(s.M) * float64(s.K) * float64(s.N) }

// FCModel builds a FullyConnected model of shape s with int8 output,
// pseudo-random weights in [-127, 127], and a requantization that keeps
// outputs in range: what a real layer looks like to the kernels.
func FCModel(s Shape) (*inference.Model, error) {
	r := rand.New(rand.NewPCG(uint64(s.M), uint64(s.K)<<32|uint64(s.N)))
	var b inference.Builder
	x := b.Input(inference.Spec{DType: inference.Int8, ZeroPoint: -3, Shape: []int{s.M, s.K}})
	w := make([]int64, s.K*s.N)
	for i := range w {
		w[i] = int64(r.IntN(255)) - 127
	}
	bias, mult, shift := make([]int64, s.N), make([]int64, s.N), make([]int64, s.N)
	for c := range bias {
		bias[c] = int64(r.IntN(2001)) - 1000
		mult[c] = 1<<30 + int64(r.IntN(1<<30))
		shift[c] = 38
	}
	y := b.Node(inference.OpFullyConnected, &inference.FullyConnectedAttrs{QMin: -128, QMax: 127},
		inference.Spec{DType: inference.Int8, ZeroPoint: 1, Shape: []int{s.M, s.N}}, x,
		b.Const(inference.Int8, 0, []int{s.N, s.K}, w), b.Const(inference.Int32, 0, []int{s.N}, bias),
		b.Const(inference.Int32, 0, []int{s.N}, mult), b.Const(inference.Int8, 0, []int{s.N}, shift))
	b.Output(y)
	m, _, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("cpubench: FullyConnected %v: %w", s, err)
	}
	return m, nil
}

// Timing is a shape's measured run times on one backend.
type Timing struct {
	Shape        Shape
	Runs         int
	Best, Median time.Duration
}

// GMACs is the best run's rate in 10^9 MACs per second.
func (t Timing) GMACs() float64 { return t.Shape.MACs() / t.Best.Seconds() / 1e9 }

// MedianGMACs is the median run's rate.
func (t Timing) MedianGMACs() float64 { return t.Shape.MACs() / t.Median.Seconds() / 1e9 }

// WeightBytesPerSecond is the best run's weight traffic: K·N bytes per run.
func (t Timing) WeightBytesPerSecond() float64 {
	return float64(t.Shape.K) * float64(t.Shape.N) / t.Best.Seconds()
}

// Time runs progs (several prepared copies of one model, used in turn so
// that each run finds its weights cold, or just one) on a pseudo-random
// input for about budget: at least minRuns runs, at most maxRuns, calling
// between (when not nil, untimed) before each. It returns the best and
// median run times.
func Time(progs []inference.Program, s Shape, budget time.Duration, minRuns, maxRuns int, between func()) (Timing, error) {
	in := make([]byte, s.M*s.K)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range in {
		in[i] = byte(r.Uint32())
	}
	for _, p := range progs { // warm: scratch buffers, page faults
		if _, err := p.Run(in); err != nil {
			return Timing{}, fmt.Errorf("cpubench: %v: %w", s, err)
		}
	}
	var times []time.Duration
	start := time.Now()
	for len(times) < minRuns || (len(times) < maxRuns && time.Since(start) < budget) {
		p := progs[len(times)%len(progs)]
		if between != nil {
			between()
		}
		t0 := time.Now()
		if _, err := p.Run(in); err != nil {
			return Timing{}, fmt.Errorf("cpubench: %v: %w", s, err)
		}
		times = append(times, time.Since(t0))
	}
	slices.Sort(times)
	return Timing{Shape: s, Runs: len(times), Best: times[0], Median: times[len(times)/2]}, nil
}

// ColdCopies is how many prepared copies of a model with weightBytes of
// weights make each run read its weights from DRAM: enough to stream
// ColdBytes between two uses of one copy.
func ColdCopies(weightBytes int) int { return max(4, (ColdBytes+weightBytes-1)/weightBytes) }

// ColdBytes is 4× this machine class's last-level cache (32 MiB).
const ColdBytes = 128 << 20
