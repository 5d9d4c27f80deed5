"""tests/gpu/int_mm.py: the anchor for BenchmarkGEMM (inference/cuda).

Times torch._int_mm (int8 x int8 -> int32 through cuBLASLt) on the GEMM
shapes of inference/cuda/bench_test.go's gemmShapes whose M exceeds 16
(torch._int_mm's own minimum), with CUDA events, and prints one line per
shape for tests/gpu/report.sh:

    int_mm m=M n=N k=K GMACS GMAC/s US us

Run by tests/gpu/run.sh on the GPU machine, with the python3 that has torch.
"""
import torch

SHAPES = [(256, 1024, 1024), (512, 512, 1024), (2048, 2048, 2048), (4096, 4096, 4096), (8192, 8192, 8192)]


def main():
    dev = torch.device("cuda")
    print(f"# torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(dev)}")
    for m, n, k in SHAPES:
        a = torch.randint(-128, 128, (m, k), dtype=torch.int8, device=dev)
        # b as [k, n] viewed column-major (K contiguous, like inference/cuda's
        # B operand): the layout cuBLASLt's int8 kernels want.
        b = torch.randint(-128, 128, (n, k), dtype=torch.int8, device=dev).t()
        try:
            torch._int_mm(a, b)
        except RuntimeError:
            b = b.contiguous()
            torch._int_mm(a, b)
        for _ in range(3):
            torch._int_mm(a, b)
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch._int_mm(a, b)
        end.record()
        end.synchronize()
        once = max(start.elapsed_time(end), 1e-3)  # ms
        iters = max(10, min(2000, int(1000 / once)))
        start.record()
        for _ in range(iters):
            torch._int_mm(a, b)
        end.record()
        end.synchronize()
        ms = start.elapsed_time(end) / iters
        print(f"int_mm m={m} n={n} k={k} {m * n * k / ms / 1e6:.1f} GMAC/s {ms * 1e3:.1f} us", flush=True)


if __name__ == "__main__":
    main()
