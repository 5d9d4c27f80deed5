package runtime

import (
	"errors"
	"fmt"

	"github.com/infergeth/infergeth/inference/cpu"
)

// MinimumValidatorCPU is the least CPU a validator may run on: the gas
// schedule is calibrated on the cpu backend's kernel paths (docs/spec.md,
// section 9), and below AVX2 the backend is the reference code, which is
// two orders of magnitude slower per unit of gas on dense ops.
const MinimumValidatorCPU = "x86-64 with AVX2 (the cpu backend's avx2 kernels; AVX-512 VNNI is faster)"

// ErrBelowValidatorCPU is what CheckValidatorCPU returns, wrapped, on a
// machine below MinimumValidatorCPU.
var ErrBelowValidatorCPU = errors.New("CPU below the validator minimum")

// CheckValidatorCPU reports whether this machine may run a validator: nil
// when the cpu backend has a kernel path here, else an error wrapping
// ErrBelowValidatorCPU that names the minimum. A validator refuses to
// start on the error; a devnet logs it as a warning and runs.
func CheckValidatorCPU() error { return checkValidatorPath(cpu.New().Path()) }

func checkValidatorPath(p cpu.Path) error {
	if p == cpu.PathGeneric {
		return fmt.Errorf("%w: inference would run on %s; a validator needs %s, so that inference gas holds", ErrBelowValidatorCPU, describePath(p), MinimumValidatorCPU)
	}
	return nil
}

// CPUPath describes the cpu backend's kernel path on this machine, for
// logs and banners: e.g. "vnni (AVX-512 VNNI kernels)".
func CPUPath() string { return describePath(cpu.New().Path()) }

func describePath(p cpu.Path) string {
	switch p {
	case cpu.PathVNNI:
		return "vnni (AVX-512 VNNI kernels)"
	case cpu.PathAVX2:
		return "avx2 (AVX2 kernels)"
	case cpu.PathGeneric:
		return "generic (the reference code: no AVX2 on this CPU)"
	}
	return p.String()
}
