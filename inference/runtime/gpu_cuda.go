//go:build cuda

package runtime

import (
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/cpu"
	"github.com/infergeth/infergeth/inference/cuda"
)

// gpuBackends are the CUDA backend of the `cuda` build, started once per
// process: nil (logged) when the GPU is turned off (INFERGETH_CUDA=off) or
// cannot be used (no device of compute capability 8.0, no context, PTX that
// does not load), and every model then runs on the CPU. The environment
// variables of cuda.ConfigFromEnv tune it; INFERGETH_CUDA_MIN_MACS=0 puts
// every dense node on the GPU (tests/gpu/run.sh). Programs prepared on it
// compute on the CPU whatever the GPU cannot, with the CPU kernels of
// cpuBackend where this machine has them, else the reference.
func gpuBackends() []inference.Backend {
	if b := gpu(); b != nil {
		return []inference.Backend{b, b.Forced("cuda")}
	}
	return nil
}

var gpu = sync.OnceValue(func() *cuda.Backend {
	log := slog.Default()
	cfg, enabled, err := cuda.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("cuda: bad configuration; running without the GPU", "err", err)
		return nil
	}
	if !enabled {
		log.Info("cuda: turned off by " + cuda.EnvDisable + "=off; running without the GPU")
		return nil
	}
	cfg.CPU = cpuBackend() // nil: the reference backend
	// The nodes of a GPU program that stay on the CPU run on the CPU
	// kernels too, not on the reference code (gas is calibrated on them).
	if c, ok := cfg.CPU.(*cpu.Backend); ok {
		cfg.CompileNode = c.CompileNode
	}
	cfg.Log = log
	if cfg.Name == "" {
		cfg.Name = "cuda-auto" // the threshold; "cuda" is the forced view
	}
	b, err := cuda.New(cfg)
	if err != nil {
		log.Warn("cuda: no usable GPU; running on the CPU", "err", err)
		return nil
	}
	d := b.Device()
	minMACs := cfg.MinNodeMACs
	if minMACs == 0 {
		minMACs = cuda.DefaultMinNodeMACs
	}
	threshold := fmt.Sprintf("dense nodes of %d MACs or more", minMACs)
	if cfg.Force {
		threshold = "every dense node"
	}
	log.Info("cuda: GPU backend ready", "device", d.Name, "capability", fmt.Sprintf("%d.%d", d.Major, d.Minor),
		"memoryMiB", d.TotalMemory>>20, "kernels", d.Kernels, "gpu", threshold)
	return b
})
