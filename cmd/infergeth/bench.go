package main

import (
	"io"
)

// benchCommands are the `infergeth bench` subcommands. Each lives in its
// own bench_NAME.go file.
func benchCommands() map[string]command {
	return map[string]command{
		"gemm":    {"time one compute-bound GEMM on one core; last line: gemm_gmacs=… peak_pct=…", runBenchGEMM},
		"kernels": {"the GEMM/GEMV table of docs/benchmarks.md (markdown on stdout)", runBenchKernels},
		"latency": {"batch-1 latency of one model (median of many calls); last line: latency_us median=…", runBenchLatency},
	}
}

func runBench(args []string, stdout, stderr io.Writer) error {
	return dispatch("bench", benchCommands(), args, stdout, stderr)
}
