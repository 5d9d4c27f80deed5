package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	goruntime "runtime"
	"slices"
	"strings"
	"time"

	"github.com/infergeth/infergeth/inference/runtime"
)

// latencyResult is `bench latency`'s JSON output.
type latencyResult struct {
	Model    string  `json:"model"`
	Backend  string  `json:"backend"`
	Runs     int     `json:"runs"`
	MedianUS float64 `json:"medianUs"`
	P10US    float64 `json:"p10Us"`
	P90US    float64 `json:"p90Us"`
	MinUS    float64 `json:"minUs"`
	MACs     uint64  `json:"macs"`
}

// runBenchLatency times batch-1 calls of one model: the latency a
// contract's call sees, input to output bytes, on one locked OS thread.
func runBenchLatency(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench latency", flag.ContinueOnError)
	fs.SetOutput(stderr)
	backend := fs.String("backend", "auto", "backend: auto, "+strings.Join(backendNames(), ", "))
	runs := fs.Int("runs", 2000, "timed calls")
	warmup := fs.Int("warmup", 200, "untimed calls first")
	input := fs.String("input", "", "the input as hex (default: random bytes, seed 1)")
	jsonOut := fs.Bool("json", false, "print one JSON object")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: infergeth bench latency MODEL.bin [--backend NAME] [--runs N] [--warmup W] [--input HEX] [--json]\n\nPrepares the model once, makes W untimed calls, then times N calls one by one\n(prog.Run: input bytes to output bytes) on one locked OS thread and prints\nthe median, p10, p90 and minimum in microseconds. Last line:\nlatency_us median=… p10=… p90=… min=… runs=….\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 || *runs < 1 || *runs > 10_000_000 || *warmup < 0 {
		fs.Usage()
		return errUsage
	}
	m, _, err := loadModel(pos[0])
	if err != nil {
		return err
	}
	b, err := runtime.Select(*backend)
	if err != nil {
		return err
	}
	prog, err := b.Prepare(m)
	if err != nil {
		return fmt.Errorf("%s backend: %w", b.Name(), err)
	}
	in := make([]byte, m.InputBytes())
	if *input != "" {
		if in, err = readHexArg(*input, m.InputBytes()); err != nil {
			return err
		}
	} else {
		r := rand.New(rand.NewPCG(1, 1))
		for i := range in {
			in[i] = byte(r.IntN(256))
		}
	}
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	for i := 0; i < *warmup; i++ {
		if _, err := prog.Run(in); err != nil {
			return err
		}
	}
	times := make([]time.Duration, *runs)
	for i := range times {
		start := time.Now()
		_, err := prog.Run(in)
		times[i] = time.Since(start)
		if err != nil {
			return err
		}
	}
	slices.Sort(times)
	us := func(q float64) float64 {
		return float64(times[min(len(times)-1, int(q*float64(len(times))))].Nanoseconds()) / 1e3
	}
	res := latencyResult{Model: pos[0], Backend: b.Name(), Runs: *runs, MedianUS: us(0.5), P10US: us(0.1), P90US: us(0.9),
		MinUS: float64(times[0].Nanoseconds()) / 1e3, MACs: m.Cost().MACs}
	if *jsonOut {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "bench latency: %s, %s backend, %d MACs, batch 1, %d calls after %d warm-up\n", pos[0], b.Name(), res.MACs, *runs, *warmup)
	fmt.Fprintf(stdout, "latency_us median=%.2f p10=%.2f p90=%.2f min=%.2f runs=%d\n", res.MedianUS, res.P10US, res.P90US, res.MinUS, res.Runs)
	return nil
}
