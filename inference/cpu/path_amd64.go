package cpu

import "golang.org/x/sys/cpu"

// hasVNNI: every AVX-512 instruction the VNNI path and its epilogue use is
// in F, BW and VNNI; x/sys/cpu reports them only when the OS saves the
// ZMM state.
func hasVNNI() bool {
	return cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI && hasAVX2()
}

func hasAVX2() bool { return cpu.X86.HasAVX2 }

// runKernel runs ks's micro-kernel for a rows × blocks tile; the VNNI
// kernels requantize into size-byte outputs.
func (ks *kernelSet) runKernel(a *kernelArgs, rows, blocks, size int) {
	if ks.path == PathVNNI {
		vnniKernel(a, rows, blocks, size)
	} else {
		avx2Kernel(a, rows, blocks)
	}
}

// runDepthwise runs ks's depthwise kernel over 1..dwPixels pixels.
func (ks *kernelSet) runDepthwise(a *dwArgs, pixels int) {
	dwKernel(a, pixels, ks.path == PathVNNI)
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

// sumInt8 is Σ int8(b[i]).
func sumInt8(b []byte) int64 {
	v := len(b) &^ 31
	var s int64
	if v > 0 {
		s = sumInt8x32(&b[0], v)
	}
	for _, x := range b[v:] {
		s += int64(int8(x))
	}
	return s
}

// colSums adds Σ_k int8(src[k·n + c]) over k < rows to out[c] for c < n.
func colSums(src []byte, n, rows int, out []int64) {
	if rows == 0 {
		return
	}
	_ = src[(rows-1)*n+n-1]
	var part [16]int32
	c := 0
	for ; c+16 <= n; c += 16 {
		colSum16(&src[c], n, rows, &part[0])
		for i, v := range part {
			out[c+i] += int64(v)
		}
	}
	for ; c < n; c++ {
		var s int64
		for k := 0; k < rows; k++ {
			s += int64(int8(src[k*n+c]))
		}
		out[c] += s
	}
}

// packKNBlocks packs groups whole k-groups of one whole block of columns
// (src at the block's first column of the group's first row, rows n bytes
// apart) into dst, one block vector per group, dstStride bytes apart.
func (ks *kernelSet) packKNBlocks(dst, src []byte, n, groups, dstStride int) {
	if groups == 0 {
		return
	}
	_ = src[(groups*ks.kAlign-1)*n+ks.lanes-1]
	_ = dst[(groups-1)*dstStride+ks.lanes*ks.kAlign-1]
	if ks.path == PathVNNI {
		packKN4x16(&dst[0], &src[0], n, groups, dstStride)
	} else {
		packKN2x8(&dst[0], &src[0], n, groups, dstStride)
	}
}

// packNKBlocks packs the first quads·4 groups of 16 whole columns (src at
// the first column's row, rows k bytes apart) into VNNI blocks dstStride
// apart, and reports whether ks has such a kernel (else the caller packs in Go).
func (ks *kernelSet) packNKBlocks(dst, src []byte, k, quads, dstStride int) bool {
	if ks.path != PathVNNI {
		return false
	}
	if quads == 0 {
		return true
	}
	_ = src[15*k+16*quads-1]
	_ = dst[(4*quads-1)*dstStride+63]
	packNK16x16(&dst[0], &src[0], k, quads, dstStride)
	return true
}
