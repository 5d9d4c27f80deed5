//go:build !amd64

package cpu

// Other architectures have no kernels: the backend runs the reference code
// (PathGeneric), and none of the functions below is ever called.

func hasVNNI() bool { return false }
func hasAVX2() bool { return false }

func (ks *kernelSet) runKernel(a *kernelArgs, rows, blocks, size int) {
	panic("cpu: no kernels on this architecture")
}
func (ks *kernelSet) runDepthwise(a *dwArgs, pixels int) {
	panic("cpu: no kernels on this architecture")
}
func (ks *kernelSet) requantVector(a *requantArgs, size int) bool { return false }
func (ks *kernelSet) prepare(dst, src []byte)                     { panic("cpu: no kernels on this architecture") }

func sumInt8(b []byte) int64                       { panic("cpu: no kernels on this architecture") }
func colSums(src []byte, n, rows int, out []int64) { panic("cpu: no kernels on this architecture") }
func (ks *kernelSet) packKNBlocks(dst, src []byte, n, groups, dstStride int) {
	panic("cpu: no kernels on this architecture")
}

func (ks *kernelSet) packNKBlocks(dst, src []byte, k, quads, dstStride int) bool {
	panic("cpu: no kernels on this architecture")
}
