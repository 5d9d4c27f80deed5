// Package cpu is the `cpu` backend: the reference program
// (inference/reference) with the dense ops — FullyConnected, Conv2D,
// DepthwiseConv2D, MatMul — replaced by amd64 assembly kernels, bit for bit
// identical to the reference on every valid model and input. The design,
// and why each trick is exact, is in docs/cpu-backend.md.
//
// Where to start:
//
//   - backend.go: New picks the fastest Path CPUID allows (PathVNNI: AVX-512
//     VNNI VPDPBUSD; PathAVX2: VPMADDWD on int16; PathGeneric: the reference
//     code, on other architectures and older CPUs). NewPath forces one, which
//     is how the tests run every path on one machine. Prepare packs weights
//     once per model and returns a reference.Program with overrides.
//   - path.go: the kernel sets (panel and micro-kernel shapes) and the
//     argument structs the assembly reads.
//   - pack.go: the packed weight layout; dense.go: folding zero points and
//     the XOR-0x80 bias into per-column constants, FullyConnected, Conv2D
//     (im2col over a padded image) and MatMul (B packed per call unless
//     constant, per-row constants for A's sums); depthwise.go.
//   - every other op but Reshape (a single copy in the reference already)
//     has a typed Go implementation computing the reference's integers:
//     elementwise.go (Requantize, Clamp, Lookup: 256-entry tables for int8
//     inputs), broadcast.go (Add, Mul: every broadcast pattern as strided
//     runs or tabulated blocks), pool.go (MaxPool2D, AvgPool2D: separable
//     row and column passes), reduce.go (Mean, ArgMax), layout.go (Concat,
//     Gather), transpose.go (blocked through an L1 buffer), normalize.go
//     (Softmax, LayerNorm, RMSNorm: per-row results memoized, reciprocal
//     multiplication for the divisions); typed.go has their shared helpers:
//     element views, exact division by a prepared divisor, strided
//     iteration. They matter for time per gas: in the reference each
//     element goes through a dtype switch and int64 closures, which made
//     them the slowest ops per unit of gas (tests/bench/gascal).
//   - gemm.go: the driver (row chunks × panels × micro-kernel tiles; the
//     VNNI kernels requantize in registers and store the outputs), and
//     gemmSliced for a K beyond one prepared row;
//     epilogue.go: the requantization's per-column constants, the AVX-512
//     epilogue over a tile (depthwise) and the Go one (AVX2).
//   - gen_kernels.go writes kernels_amd64.s and kernels_amd64.go
//     (`go generate ./inference/cpu`).
//   - cpubench/: clock, peak and bandwidth measurement and the GEMM/GEMV
//     benchmarks behind `infergeth bench gemm` and `infergeth bench kernels`.
//
// Tests compare the backend with the reference, bit for bit, errors
// included. elementwise_test.go covers the typed ops on random and
// adversarial models: ranks 0 to 6, every broadcast pattern, zero points and
// values at both extremes, ties, short and long rows, every special path
// (tables, blocks, tiles), concurrent runs. cpu_test.go runs every
// supported kernel path on random and adversarial models: every K mod 64
// and N mod 16, M = 1..17, the largest K the overflow proof allows, zero
// points at both extremes, inputs all -128 and all 127, every shift 0..62,
// int8/int16/int32 outputs, convolution strides, dilations, paddings and
// depth multipliers. decline_test.go checks that no kernel path leaves a
// node of a valid model to the reference code (every op of the conformance
// vectors; convolutions beyond the scratch bounds, at full size and, under
// tiny bounds, at random).
package cpu
