package runtime

import "github.com/infergeth/infergeth/inference"

// accelerated lists the faster backends usable on this machine, best first:
// the GPU (in the `cuda` build, when a device answers), then the CPU kernels
// (when the CPU has the instructions they need).
func accelerated() []inference.Backend {
	var out []inference.Backend
	for _, make := range []func() inference.Backend{gpuBackend, cpuBackend} {
		if b := make(); b != nil {
			out = append(out, b)
		}
	}
	return out
}
