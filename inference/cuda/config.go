package cuda

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// DefaultMinNodeMACs is the size, in multiply-accumulates, from which a
// dense node runs on the GPU; smaller nodes run on the CPU.
//
// Why 2^21 (about two million): a node on the GPU pays a fixed cost of
// 10-30 µs (taking the device, copying the input to
// the device, the kernel launch, copying the output back and waiting for
// it), whatever its size. The CPU kernels (inference/cpu, AVX-512 VNNI) run
// about 100 GMAC/s on one core for shapes like these (INFERENCE.md), so in
// 20 µs the CPU finishes about 2·10^6 MACs. Below that the CPU is done
// before the GPU has even started; above it the GPU (hundreds of TMAC/s)
// wins by more the larger the node. Measure it on the GPU machine with
// tests/gpu/run.sh and move the constant if the crossover lies elsewhere;
// it changes speed, never results.
const DefaultMinNodeMACs = 1 << 21

// Config configures a Backend. The zero value is usable.
type Config struct {
	// Name is what --backend selects; "cuda" when empty.
	Name string
	// Device is the CUDA device ordinal.
	Device int
	// MinNodeMACs is the GPU threshold per node; 0 means DefaultMinNodeMACs.
	MinNodeMACs uint64
	// Force runs every dense node on the GPU whatever its size (tests,
	// benchmarks).
	Force bool
	// WeightBudget bounds the bytes of model weights kept on the device
	// (least recently used model out first); 0 means half of the device
	// memory that is free when the backend starts.
	WeightBudget int64
	// CPU computes whole models that have no node worth the GPU; nil means
	// the reference backend. Give it the CPU kernel backend where the
	// machine has one.
	CPU inference.Backend
	// CompileNode computes, on the CPU, one node of a model that has GPU
	// nodes: the nodes below the threshold, and a GPU node whenever the
	// GPU fails. nil means reference.Compile. A CPU kernel backend that
	// can compile single nodes plugs in here.
	CompileNode func(m *inference.Model, node int) (reference.NodeFunc, error)
	// Log receives fallbacks and device faults; nil means slog.Default().
	Log *slog.Logger

	// kernel forces one GEMM kernel for every shape (tests).
	kernel kernelID
	// lazyCopies makes the emulator delay cp.async copies to the latest
	// moment the kernel allows (tests; see kernels/emu.h).
	lazyCopies bool
}

// Environment variables ConfigFromEnv reads.
const (
	// EnvDisable, set to "off", keeps the GPU unused (the process still
	// needs the driver: see docs/cuda.md).
	EnvDisable = "INFERGETH_CUDA"
	// EnvMinNodeMACs overrides DefaultMinNodeMACs; 0 forces every dense
	// node onto the GPU.
	EnvMinNodeMACs = "INFERGETH_CUDA_MIN_MACS"
	// EnvWeightBudget sets Config.WeightBudget in bytes.
	EnvWeightBudget = "INFERGETH_CUDA_WEIGHT_BUDGET"
	// EnvDevice sets Config.Device.
	EnvDevice = "INFERGETH_CUDA_DEVICE"
)

// ConfigFromEnv returns the configuration the environment asks for, and
// whether the GPU is wanted at all.
func ConfigFromEnv(getenv func(string) string) (cfg Config, enabled bool, err error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	switch v := getenv(EnvDisable); v {
	case "", "on":
	case "off":
		return cfg, false, nil
	default:
		return cfg, false, fmt.Errorf("%s=%q: want on or off", EnvDisable, v)
	}
	if v := getenv(EnvMinNodeMACs); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return cfg, false, fmt.Errorf("%s=%q: %w", EnvMinNodeMACs, v, err)
		}
		cfg.MinNodeMACs, cfg.Force = n, n == 0
	}
	if v := getenv(EnvWeightBudget); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return cfg, false, fmt.Errorf("%s=%q: want a positive number of bytes", EnvWeightBudget, v)
		}
		cfg.WeightBudget = n
	}
	if v := getenv(EnvDevice); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return cfg, false, fmt.Errorf("%s=%q: want a device ordinal", EnvDevice, v)
		}
		cfg.Device = n
	}
	return cfg, true, nil
}
