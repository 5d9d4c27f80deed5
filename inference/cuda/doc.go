// Package cuda is infergeth's GPU backend: the dense ops of op set v1
// (FullyConnected, Conv2D, DepthwiseConv2D, MatMul) as CUDA kernels that
// give the bytes of the reference backend, on any NVIDIA GPU of compute
// capability 8.0 or newer (docs/cuda.md).
//
// The GPU half needs the `cuda` build tag: it imports gorgonia.org/cu,
// whose init exits the process on a machine without a driver or a GPU, so
// the default build must never import it (ARCHITECTURE.md decision 7;
// importguard_test.go enforces it). The untagged files are the host half
// that every build compiles and tests: which node goes to the GPU, how its
// operands are packed and its bias and zero points folded, the weight
// cache, the lock that serializes the device's calls.
//
// Start here:
//
//   - kernels/infergeth.cu: the kernels (tensor-core GEMM, dp4a GEMM,
//     im2col, depthwise) and the integer epilogue; kernels/*.ptx is what
//     nvcc made of it (`make cuda-ptx`).
//   - backend.go: Backend and Prepare: per node, the GPU above a size
//     threshold (config.go), the CPU below it and whenever the GPU fails.
//   - plan.go: a dense node as a GEMM with folded terms; exec.go: one
//     node's run on a device (device.go), weights kept by lru.go.
//   - devlock.go: every device call, from any goroutine, one at a time, on
//     an OS thread locked for the call with the CUDA context current.
//   - cu.go, embed.go (tag cuda): the device through gorgonia.org/cu.
//   - emu.go, emu.cc, kernels/emu.h (tag cudaemu): the same kernel source
//     run on the CPU, so that it is tested on machines without a GPU.
//   - tests/gpu: the GPU runs (build.sh here, run.sh there), and a stand-in
//     driver (fakedriver, fake-run.sh) that runs the cuda build on the
//     emulator.
package cuda
