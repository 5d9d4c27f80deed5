package runtime

import "github.com/infergeth/infergeth/inference"

// accelerated lists the faster backends usable on this machine, best first:
// the GPU (in the `cuda` build, when a device answers: first with a size
// threshold per node, which `auto` picks, then forced for every dense node,
// which `--backend cuda` selects), then the CPU kernels (when the CPU has
// the instructions they need).
func accelerated() []inference.Backend {
	out := gpuBackends()
	if b := cpuBackend(); b != nil {
		out = append(out, b)
	}
	return out
}
