package main

import (
	"fmt"
	"io"
	"sort"
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
	cmds := benchCommands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "Usage: infergeth bench COMMAND [arguments]\n\nCommands:")
		names := make([]string, 0, len(cmds))
		for n := range cmds {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stderr, "  %-8s %s\n", n, cmds[n].summary)
		}
		return errUsage
	}
	c, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q (try: infergeth bench -h)", args[0])
	}
	return c.run(args[1:], stdout, stderr)
}
