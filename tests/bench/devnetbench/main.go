// Command devnetbench measures a development chain the way a dApp's test
// suite loads it, with the same client for every node: transaction-to-receipt
// latency (send a signed transaction, poll for its receipt) and eth_call
// throughput (concurrent clients for a fixed time).
//
// Side by side (what `make bench` runs; prints a markdown section):
//
//	devnetbench -anvil tests/tools/node_modules/.bin/anvil -infergeth build/bin/infergeth
//
// Both nodes run at once and the measurement alternates between them in
// short bursts, so that other load on the machine falls on both alike.
//
// One node already running (prints JSON):
//
//	devnetbench -url http://127.0.0.1:8545
//
// Every node it starts listens on 127.0.0.1 only and is killed at the end.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/infergeth/infergeth/tests/devnode"
)

// settings are the knobs of one run.
type settings struct {
	samples  int           // latency samples per node
	warmup   int           // transactions sent before the latency samples
	chunk    int           // latency samples per turn
	clients  int           // concurrent eth_call clients
	duration time.Duration // eth_call time per node
	burst    time.Duration // eth_call time per turn
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "devnetbench: %v\n", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devnetbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: devnetbench (-anvil PATH -infergeth PATH | -url URL) [flags]")
		fs.PrintDefaults()
	}
	anvil := fs.String("anvil", "", "anvil binary: start it and measure it")
	infergeth := fs.String("infergeth", "", "infergeth binary: start `infergeth devnet` and measure it")
	url := fs.String("url", "", "measure the node already serving JSON-RPC at this URL (prints JSON)")
	var s settings
	fs.IntVar(&s.samples, "samples", 600, "transaction-to-receipt samples per node")
	fs.IntVar(&s.warmup, "warmup", 30, "transactions sent before sampling")
	fs.IntVar(&s.chunk, "chunk", 20, "latency samples per turn before switching node")
	fs.IntVar(&s.clients, "clients", 8, "concurrent eth_call clients")
	fs.DurationVar(&s.duration, "duration", 20*time.Second, "eth_call time per node")
	fs.DurationVar(&s.burst, "burst", time.Second, "eth_call time per turn before switching node")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if s.samples < 10 || s.chunk < 1 || s.clients < 1 || s.burst < 100*time.Millisecond || s.duration < s.burst || s.warmup < 0 {
		return fmt.Errorf("need -samples >= 10, -chunk >= 1, -clients >= 1, -burst >= 100ms, -duration >= -burst")
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	ctx := context.Background()

	if *url != "" {
		t := &target{name: "node", url: *url, cpu: noCPU}
		results, err := measure(ctx, []*target{t}, s, progress)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(results[0])
	}
	if *anvil == "" || *infergeth == "" {
		fs.Usage()
		return fmt.Errorf("give -anvil and -infergeth, or -url")
	}
	// Each with its defaults (instant mining, in memory), as developers run them.
	var targets []*target
	for _, spec := range []devnode.Spec{devnode.Anvil(*anvil), devnode.Infergeth(*infergeth)} {
		n, err := devnode.Start(spec)
		if err != nil {
			return err
		}
		defer n.Stop()
		progress("%s: serving at %s (%s)", spec.Name, n.URL, n.Version)
		targets = append(targets, &target{name: spec.Name, version: n.Version, url: n.URL, cpu: n.CPUTime, log: n.Log})
	}
	results, err := measure(ctx, targets, s, progress)
	if err != nil {
		return err
	}
	command := "go run ./tests/bench/devnetbench " + strings.Join(args, " ")
	return writeMarkdown(stdout, command, s, results[0], results[1])
}
