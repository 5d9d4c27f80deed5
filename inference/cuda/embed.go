//go:build cuda

package cuda

import _ "embed"

// The kernels as PTX, made by `make cuda-ptx` (kernels/mkptx.sh) from
// kernels/infergeth.cu; the driver JIT-compiles them when the backend starts.
var (
	//go:embed kernels/infergeth_sm80.ptx
	ptxSM80 string
	//go:embed kernels/infergeth_sm90.ptx
	ptxSM90 string
)

// ptxFor returns the newest PTX a device of compute capability major.minor
// runs, and its file name; "" below 8.0 (mma.sync with s8 operands,
// ldmatrix and cp.async need sm_80).
func ptxFor(major, minor int) (ptx, name string) {
	switch {
	case major >= 9:
		return ptxSM90, ptxFiles[1]
	case major == 8:
		return ptxSM80, ptxFiles[0]
	}
	return "", ""
}
