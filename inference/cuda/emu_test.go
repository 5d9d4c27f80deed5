//go:build cudaemu && !cuda

package cuda

import (
	"io"
	"log/slog"
	"testing"
)

// The kernels' CUDA source, run by the emulator, against the reference
// backend: both GEMM kernels on every shape, cp.async copies done at once
// and as late as allowed.

func emuBackend(t *testing.T, cfg Config) *Backend {
	t.Helper()
	cfg.Force = true
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := NewEmulated(cfg, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// emuSizes keeps the emulator (a thread per GPU thread) fast.
var emuSizes = sizes{maxRows: 140, maxK: 160, maxN: 140, maxHW: 10, maxC: 20}

func TestEmulatedKernels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kernel kernelID
		lazy   bool
		sizes  sizes
	}{
		{"auto", kernelAuto, false, emuSizes},
		{"imma-eager", kernelIMMA, false, emuSizes},
		{"imma-lazy", kernelIMMA, true, emuSizes},
		// The dp4a kernel shuffles a lot, which the emulator pays dearly for.
		{"dp4a", kernelDP4A, false, sizes{maxRows: 40, maxK: 160, maxN: 60, maxHW: 6, maxC: 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := emuBackend(t, Config{kernel: tc.kernel, lazyCopies: tc.lazy})
			checkCases(t, b, randomCases(uint64(tc.kernel)*31+7, 6, tc.sizes))
		})
	}
}

// Shapes around the tile sizes (rows and columns below, at and above 128,
// K around the 64-byte stage), on both GEMM kernels.
func TestEmulatedTileEdges(t *testing.T) {
	checkCases(t, emuBackend(t, Config{kernel: kernelIMMA, lazyCopies: true}), edgeCases(2, 260))
	checkCases(t, emuBackend(t, Config{kernel: kernelDP4A}), edgeCases(3, 40))
}

func TestEmulatedVectors(t *testing.T) {
	checkCases(t, emuBackend(t, Config{}), vectorCases(t))
}
