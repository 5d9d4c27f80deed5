//go:build !amd64

package cpu

// Other architectures have no kernels: the backend runs the reference code
// (PathGeneric), and none of the functions below is ever called.

func hasVNNI() bool { return false }
func hasAVX2() bool { return false }

func (ks *kernelSet) runKernel(a *kernelArgs, rows, blocks int) {
	panic("cpu: no kernels on this architecture")
}
func (ks *kernelSet) runDepthwise(a *dwArgs)                      { panic("cpu: no kernels on this architecture") }
func (ks *kernelSet) requantVector(a *requantArgs, size int) bool { return false }
func (ks *kernelSet) prepare(dst, src []byte)                     { panic("cpu: no kernels on this architecture") }
