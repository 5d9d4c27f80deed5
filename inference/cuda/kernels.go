package cuda

// The kernels of kernels/infergeth.cu, their names in the PTX, and the tile
// shapes they are written for (TestKernelConstants compares these with the
// #defines of the .cu file).
type kernelID int

const (
	kernelAuto      kernelID = iota // no kernel: pick by shape (Config.kernel's zero value)
	kernelIMMA                      // ig_gemm_imma: tensor-core GEMM
	kernelDP4A                      // ig_gemm_dp4a: GEMM for few rows
	kernelIm2col                    // ig_im2col: Conv2D's A matrix
	kernelDepthwise                 // ig_depthwise: DepthwiseConv2D
	numKernels
)

var kernelNames = [numKernels]string{
	kernelIMMA:      "ig_gemm_imma",
	kernelDP4A:      "ig_gemm_dp4a",
	kernelIm2col:    "ig_im2col",
	kernelDepthwise: "ig_depthwise",
}

// kernelArgs is the number of (8-byte) parameters of each kernel.
var kernelArgs = [numKernels]int{
	kernelIMMA:      20,
	kernelDP4A:      20,
	kernelIm2col:    19,
	kernelDepthwise: 27,
}

func (k kernelID) String() string {
	if k > kernelAuto && k < numKernels {
		return kernelNames[k]
	}
	return "auto"
}

const (
	immaBM      = 128 // IMMA_BM
	immaBN      = 128 // IMMA_BN
	immaBK      = 64  // IMMA_BK
	immaThreads = 256 // IMMA_THREADS
	dp4aRows    = 8   // DP4A_ROWS
	dp4aCols    = 8   // DP4A_COLS
	dp4aThreads = 256 // DP4A_THREADS
	elemThreads = 256 // ELEM_THREADS

	// kAlign is the K padding of every GEMM operand: the kernels load 16
	// bytes at a time.
	kAlign = 16
	// dp4aMaxRows: GEMMs with at most this many rows per batch use the
	// dp4a kernel (a tensor-core tile of 128 rows would be mostly empty).
	dp4aMaxRows = 16
	// maxElemBlocks caps the grid of the grid-stride kernels.
	maxElemBlocks = 8192
)

// launchSpec is one kernel launch.
type launchSpec struct {
	kernel kernelID
	grid   [3]uint32
	block  [3]uint32
	args   []uint64
}

// gemmArgs are the parameters of ig_gemm_imma and ig_gemm_dp4a, in order.
type gemmArgs struct {
	a, b, rowTerm, colTerm, mult, shift, out devPtr
	m, n, kp                                 int
	batch                                    int
	strideA, strideB, strideRow, strideCol   int
	strideOut                                int
	zy, qmin, qmax                           int32
	outSize                                  int
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// gemmLaunch chooses the GEMM kernel (kernelAuto: by the number of rows)
// and its grid.
func gemmLaunch(g gemmArgs, force kernelID) launchSpec {
	k := force
	if k != kernelIMMA && k != kernelDP4A {
		k = kernelIMMA
		if g.m <= dp4aMaxRows {
			k = kernelDP4A
		}
	}
	var mTiles, nTiles int
	threads := immaThreads
	if k == kernelIMMA {
		mTiles, nTiles = ceilDiv(g.m, immaBM), ceilDiv(g.n, immaBN)
	} else {
		mTiles, nTiles, threads = ceilDiv(g.m, dp4aRows), ceilDiv(g.n, dp4aCols), dp4aThreads
	}
	return launchSpec{
		kernel: k,
		grid:   [3]uint32{uint32(g.batch * mTiles), uint32(nTiles), 1},
		block:  [3]uint32{uint32(threads), 1, 1},
		args: []uint64{
			uint64(g.a), uint64(g.b), uint64(g.rowTerm), uint64(g.colTerm), uint64(g.mult), uint64(g.shift), uint64(g.out),
			i64(g.m), i64(g.n), i64(g.kp), i64(mTiles),
			i64(g.strideA), i64(g.strideB), i64(g.strideRow), i64(g.strideCol), i64(g.strideOut),
			i64(int(g.zy)), i64(int(g.qmin)), i64(int(g.qmax)), i64(g.outSize),
		},
	}
}

// elemGrid is the grid of a grid-stride kernel over n elements.
func elemGrid(n int) [3]uint32 {
	return [3]uint32{uint32(max(1, min(ceilDiv(n, elemThreads), maxElemBlocks))), 1, 1}
}

// i64 passes a signed value as a kernel's long long parameter.
func i64(v int) uint64 { return uint64(int64(v)) }
