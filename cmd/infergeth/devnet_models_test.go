package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBannerDescribesModels: the devnet's model list names each gas figure
// for what it is and shows where each output tensor starts, and its "Try it"
// line is a command that runs on a fresh clone after `make devnet` alone.
func TestBannerDescribesModels(t *testing.T) {
	models, err := devnetModels(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	printModels(&w, models, "http://127.0.0.1:8545")
	out := w.String()
	for _, want := range []string{
		"out: int8[1,10]@0 int32[1]@10",
		"in: int8[1,96]@0",
		"infer charges 12060 gas (model gas 7160 + 4900 per call)",
		"tests/tools/node_modules/.bin/cast call 0x0000000000000000000000000000000000000A00",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
}

func TestGasSummary(t *testing.T) {
	if got, want := gasSummary(3465), "infer charges 8365 gas (model gas 3465 + 4900 per call)"; got != want {
		t.Errorf("gasSummary = %q, want %q", got, want)
	}
}
