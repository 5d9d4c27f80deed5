package cpu

import "golang.org/x/sys/cpu"

// hasVNNI: every AVX-512 instruction the VNNI path and its epilogue use is
// in F, BW and VNNI; x/sys/cpu reports them only when the OS saves the
// ZMM state.
func hasVNNI() bool {
	return cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI && hasAVX2()
}

func hasAVX2() bool { return cpu.X86.HasAVX2 }

// runKernel runs ks's micro-kernel for a rows × blocks tile.
func (ks *kernelSet) runKernel(a *kernelArgs, rows, blocks int) {
	if ks.path == PathVNNI {
		vnniKernel(a, rows, blocks)
	} else {
		avx2Kernel(a, rows, blocks)
	}
}

// runDepthwise runs ks's depthwise kernel.
func (ks *kernelSet) runDepthwise(a *dwArgs) {
	if ks.path == PathVNNI {
		dw512(a)
	} else {
		dwAVX2(a)
	}
}

// requantVector runs the AVX-512 epilogue for size-byte outputs and reports
// whether ks has one (else the caller uses the Go epilogue).
func (ks *kernelSet) requantVector(a *requantArgs, size int) bool {
	if ks.path != PathVNNI {
		return false
	}
	switch size {
	case 1:
		requant512x1(a)
	case 2:
		requant512x2(a)
	default:
		requant512x4(a)
	}
	return true
}

// prepare converts activations for ks's kernels: dst = src XOR 0x80 (VNNI:
// u = x + 128 as an unsigned byte) or dst = int16(src) (AVX2). len(dst) =
// len(src)·elem.
func (ks *kernelSet) prepare(dst, src []byte) {
	n := len(src)
	if n == 0 {
		return
	}
	if ks.path == PathVNNI {
		_ = dst[n-1]
		v := n &^ 63
		if v > 0 {
			xor80x64(&dst[0], &src[0], v)
		}
		for i := v; i < n; i++ {
			dst[i] = src[i] ^ 0x80
		}
		return
	}
	_ = dst[2*n-1]
	v := n &^ 15
	if v > 0 {
		sext16x16(&dst[0], &src[0], v)
	}
	for i := v; i < n; i++ {
		x := uint16(int16(int8(src[i])))
		dst[2*i], dst[2*i+1] = byte(x), byte(x>>8)
	}
}
