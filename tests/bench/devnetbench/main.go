// Command devnetbench measures a development chain the way a dApp's test
// suite loads it, with the same client for every node: transaction-to-receipt
// latency (send a signed transaction, poll for its receipt) and eth_call
// throughput (concurrent clients for a fixed time).
//
// Side by side (what `make bench` runs; prints a markdown section):
//
//	devnetbench -anvil tests/tools/node_modules/.bin/anvil -infergeth build/bin/infergeth
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
	samples  int           // latency samples
	warmup   int           // transactions sent before the latency samples
	clients  int           // concurrent eth_call clients
	duration time.Duration // how long eth_call runs
	rounds   int           // side-by-side rounds, alternating which node goes first
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
	fs.IntVar(&s.samples, "samples", 300, "transaction-to-receipt samples per node")
	fs.IntVar(&s.warmup, "warmup", 30, "transactions sent before sampling")
	fs.IntVar(&s.clients, "clients", 8, "concurrent eth_call clients")
	fs.DurationVar(&s.duration, "duration", 10*time.Second, "how long eth_call runs per node and round")
	fs.IntVar(&s.rounds, "rounds", 2, "side-by-side rounds; the first node alternates (anvil first, then infergeth first, ...)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if s.samples < 10 || s.clients < 1 || s.duration < time.Second || s.warmup < 0 || s.rounds < 1 {
		return fmt.Errorf("need -samples >= 10, -clients >= 1, -duration >= 1s, -rounds >= 1")
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	if *url != "" {
		r, err := measure(context.Background(), *url, s, progress)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if *anvil == "" || *infergeth == "" {
		fs.Usage()
		return fmt.Errorf("give -anvil and -infergeth, or -url")
	}
	// Rounds alternate which node goes first, so that neither always runs on
	// a colder or warmer machine; each node's samples and calls are pooled.
	// Each with its defaults (instant mining, in memory), as developers run them.
	nodes := []devnode.Spec{devnode.Anvil(*anvil), devnode.Infergeth(*infergeth)}
	pooled := make([][]result, len(nodes))
	for round := range s.rounds {
		for k := range nodes {
			i := (k + round) % len(nodes)
			progress("round %d/%d: %s", round+1, s.rounds, nodes[i].Name)
			r, err := measureStarted(nodes[i], s, progress)
			if err != nil {
				return fmt.Errorf("%s: %w", nodes[i].Name, err)
			}
			pooled[i] = append(pooled[i], r)
		}
	}
	results := []result{pool(pooled[0]), pool(pooled[1])}
	command := "go run ./tests/bench/devnetbench " + strings.Join(args, " ")
	return writeMarkdown(stdout, command, s, results[0], results[1])
}

// measureStarted starts a node, measures it and stops it.
func measureStarted(spec devnode.Spec, s settings, progress func(string, ...any)) (result, error) {
	n, err := devnode.Start(spec)
	if err != nil {
		return result{}, err
	}
	defer n.Stop()
	progress("%s: serving at %s (%s)", spec.Name, n.URL, n.Version)
	r, err := measure(context.Background(), n.URL, s, progress)
	if err != nil {
		return result{}, fmt.Errorf("%w\nnode log (tail):\n%s", err, n.Log(4<<10))
	}
	r.Node, r.Version = spec.Name, n.Version
	return r, nil
}
