// Command infergeth is the one binary: the devnet, validator nodes, model
// tooling and benchmarks.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand: `infergeth NAME args...`.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// commands is the subcommand table. Each entry lives in its own file.
func commands() map[string]command {
	return map[string]command{
		"bench":     {"benchmark the engine's kernels (bench gemm, bench kernels)", runBench},
		"cluster":   {"write and run a loopback validator network (cluster init, cluster run)", runCluster},
		"devnet":    {summary: "run a local development chain (JSON-RPC on 127.0.0.1:8545)", run: runDevnet},
		"model":     {"inspect and run models", runModel},
		"node":      {"run a validator or full node of a CometBFT network (--home DIR)", runNode},
		"statetest": {summary: "run Ethereum GeneralStateTests through infergeth's EVM", run: runStatetest},
		"l1":        {"settlement on an L1 (l1 deploy)", runL1},
		"verify":    {"rebuild the L2 from an L1 and check its output roots", runVerify},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "infergeth", version)
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "infergeth: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	if err := c.run(args[1:], stdout, stderr); err != nil {
		if err == errUsage {
			return 2
		}
		fmt.Fprintf(stderr, "infergeth %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// errUsage means the command already printed its usage; exit 2 quietly.
var errUsage = fmt.Errorf("usage")

const version = "0.1.0-dev"

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "infergeth: an EVM L2 client whose contracts call neural networks inline")
	fmt.Fprintln(w, "\nUsage: infergeth COMMAND [arguments]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'infergeth COMMAND -h' for a command's flags.")
}

// dispatch runs the subcommand of `infergeth group` that args name, or
// prints the group's commands.
func dispatch(group string, cmds map[string]command, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(stderr, "Usage: infergeth %s COMMAND [arguments]\n\nCommands:\n", group)
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
		return fmt.Errorf("unknown command %q (try: infergeth %s -h)", args[0], group)
	}
	return c.run(args[1:], stdout, stderr)
}
