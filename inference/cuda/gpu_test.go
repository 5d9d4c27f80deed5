//go:build cuda

package cuda

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
)

// The GPU tests: they need an NVIDIA GPU of compute capability 8.0 or newer
// and its driver (gorgonia.org/cu exits the test binary at start without
// one). tests/gpu/build.sh builds this binary on any machine,
// tests/gpu/run.sh runs it on the GPU machine (docs/cuda.md).

func gpuBackend(t testing.TB, cfg Config) *Backend {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatalf("no GPU backend: %v", err)
	}
	t.Cleanup(b.Close)
	if t, ok := t.(*testing.T); ok {
		d := b.Device()
		t.Logf("device %s, capability %d.%d, %d MiB (%d free), kernels %s", d.Name, d.Major, d.Minor, d.TotalMemory>>20, d.FreeMemory>>20, d.Kernels)
	}
	return b
}

// Random and adversarial cases of every dense op, both GEMM kernels.
func TestGPUDifferential(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kernel kernelID
		n      int
	}{{"auto", kernelAuto, 60}, {"imma", kernelIMMA, 25}, {"dp4a", kernelDP4A, 25}} {
		t.Run(tc.name, func(t *testing.T) {
			b := gpuBackend(t, Config{Force: true, kernel: tc.kernel})
			checkCases(t, b, randomCases(uint64(tc.kernel)*1009+3, tc.n, gpuSizes))
		})
	}
}

// Tile edges and the longest K the overflow proof allows.
func TestGPUEdges(t *testing.T) {
	for _, kernel := range []kernelID{kernelIMMA, kernelDP4A} {
		b := gpuBackend(t, Config{Force: true, kernel: kernel})
		checkCases(t, b, append(edgeCases(uint64(kernel), 1<<30), maxKCase(1), maxKCase(17), maxKCase(300)))
	}
}

// Conv2D in several im2col chunks.
func TestGPUConvChunks(t *testing.T) {
	b := gpuBackend(t, Config{Force: true})
	var cases []diffCase
	for _, c := range randomCases(71, 30, gpuSizes) {
		if c.model.Nodes[0].Op.String() == "Conv2D" {
			cases = append(cases, c)
		}
	}
	if err := b.lock.do(func() error { b.ex.chunkBytes = 4096; return nil }); err != nil {
		t.Fatal(err)
	}
	checkCases(t, b, cases)
}

// The composed conformance vectors (tests/vectors/NAME/) with every dense
// node on the GPU. (The op-level vectors run in tests/vectors' own test,
// compiled with -tags cuda; see tests/gpu/run.sh.)
func TestGPUVectors(t *testing.T) {
	checkCases(t, gpuBackend(t, Config{Force: true}), vectorCases(t))
}

// Runs from many goroutines at once share the device.
func TestGPUConcurrent(t *testing.T) {
	b := gpuBackend(t, Config{Force: true})
	runConcurrently(t, b, randomCases(5, 8, smallSizes), 16)
	if b.Faults() != 0 {
		t.Errorf("%d faults", b.Faults())
	}
}

// A real out-of-memory from the driver: every node falls back to the CPU
// with the reference's bytes, the device stays in use, and once memory is
// free again the GPU computes again.
func TestGPUOutOfMemory(t *testing.T) {
	b := gpuBackend(t, Config{Force: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	cases := randomCases(23, 3, smallSizes)
	var hog []devPtr
	err := b.lock.do(func() error {
		b.ex.close() // drop cached weights and the scratch buffer
		for chunk := 1 << 30; chunk >= 1<<16; {
			p, err := b.ex.dev.alloc(chunk)
			if errors.Is(err, errOutOfMemory) {
				chunk /= 2
				continue
			}
			if err != nil {
				return err
			}
			hog = append(hog, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("took %d blocks of device memory", len(hog))
	checkCasesAllowingFaults(t, b, cases)
	if b.Faults() == 0 {
		t.Errorf("no node ran out of memory")
	}
	if b.disabled.Load() {
		t.Fatalf("running out of memory took the GPU out of use")
	}
	if err := b.lock.do(func() error {
		for _, p := range hog {
			if err := b.ex.dev.free(p); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := b.Faults()
	checkCasesAllowingFaults(t, b, cases)
	if b.Faults() != before {
		t.Errorf("faults after memory came back: %d -> %d", before, b.Faults())
	}
}
