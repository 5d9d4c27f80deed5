package runtime

import (
	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/cpu"
)

// cpuBackend returns the CPU kernel backend with the fastest kernel path
// CPUID allows (AVX-512 VNNI, then AVX2). Without either it still returns
// the backend, running the reference code (cpu.PathGeneric), so that
// `--backend cpu` works on every machine.
func cpuBackend() inference.Backend { return cpu.New() }

// cpuFallback is the CPU kernel backend as a fallback after a failed GPU:
// nil on a CPU without kernels, where it would run the reference code,
// which ends every chain anyway.
func cpuFallback() inference.Backend {
	if b := cpu.New(); b.Path() != cpu.PathGeneric {
		return b
	}
	return nil
}
