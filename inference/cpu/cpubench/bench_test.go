package cpubench

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/cpu"
)

// Go benchmarks of the cpu backend's GEMM and batch-1 GEMV shapes on every
// kernel path, reporting GMAC/s and the percentages the design targets are
// stated in. Run: go test -run '^$' -bench . ./inference/cpu/cpubench
// (mean times; `infergeth bench kernels` reports best-of-many instead).

var machine struct {
	once     sync.Once
	clock    Clock
	peak     float64 // measured VPDPBUSD MAC/cycle, 0 without VNNI
	err      error
	streamMu sync.Mutex
	stream   *StreamBuffer
}

func measureMachine(b *testing.B) {
	machine.once.Do(func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var p Peaks
		p, machine.err = MeasurePeaks()
		machine.clock, machine.peak = p.Clock, max(p.ZMM, p.YMM)
	})
	if machine.err != nil {
		b.Fatal(machine.err)
	}
}

func backends(b *testing.B) []*cpu.Backend {
	var out []*cpu.Backend
	for _, p := range cpu.Supported() {
		if p == cpu.PathGeneric {
			continue
		}
		be, err := cpu.NewPath(p)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, be)
	}
	return out
}

func input(s Shape) []byte {
	in := make([]byte, s.M*s.K)
	for i := range in {
		in[i] = byte(i*7 + i>>9)
	}
	return in
}

func BenchmarkGEMM(b *testing.B) {
	measureMachine(b)
	for _, s := range []Shape{{256, 256, 256}, {512, 512, 512}, {256, 1024, 1024}} {
		m, err := FCModel(s)
		if err != nil {
			b.Fatal(err)
		}
		for _, be := range backends(b) {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", be.Path(), s.M, s.K, s.N), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				prog, err := be.Prepare(m)
				if err != nil {
					b.Fatal(err)
				}
				in := input(s)
				for b.Loop() {
					if _, err := prog.Run(in); err != nil {
						b.Fatal(err)
					}
				}
				gmacs := s.MACs() * float64(b.N) / b.Elapsed().Seconds() / 1e9
				b.ReportMetric(gmacs, "GMAC/s")
				b.ReportMetric(100*gmacs/(NominalVNNIMACsPerCycle*machine.clock.Hz/1e9), "%peak128")
				if machine.peak > 0 {
					b.ReportMetric(100*gmacs/(machine.peak*machine.clock.Hz/1e9), "%vpdpbusd")
				}
			})
		}
	}
}

func BenchmarkGEMV(b *testing.B) {
	measureMachine(b)
	for _, s := range []Shape{{1, 1024, 1024}, {1, 2048, 2048}, {1, 4096, 4080}} {
		// %bandwidth compares the mean GEMV rate with the best streaming
		// read sample taken between its runs (see Stream).
		m, err := FCModel(s)
		if err != nil {
			b.Fatal(err)
		}
		wb := s.K * s.N
		for _, be := range backends(b) {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", be.Path(), s.M, s.K, s.N), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				machine.streamMu.Lock()
				defer machine.streamMu.Unlock()
				if machine.stream == nil {
					machine.stream = NewStreamBuffer(256 << 20)
				}
				// One stream sample per run, untimed: the bandwidth over the same span.
				stream := machine.stream.Stream(wb)
				progs := make([]inference.Program, ColdCopies(wb))
				for i := range progs {
					if progs[i], err = be.Prepare(m); err != nil {
						b.Fatal(err)
					}
				}
				in := input(s)
				i := 0
				for b.Loop() {
					b.StopTimer()
					stream.Sample()
					b.StartTimer()
					if _, err := progs[i%len(progs)].Run(in); err != nil {
						b.Fatal(err)
					}
					i++
				}
				bw := stream.BytesPerSecond()
				bps := float64(wb) * float64(b.N) / b.Elapsed().Seconds()
				b.ReportMetric(s.MACs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
				b.ReportMetric(bps/1e9, "GB/s")
				b.ReportMetric(100*bps/bw, "%bandwidth")
			})
		}
	}
}
