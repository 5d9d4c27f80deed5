package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchLatency(t *testing.T) {
	model := filepath.Join(vectorDir, "mlp/model.bin")
	out, errOut, code := runCLI(t, "bench", "latency", model, "--runs", "50", "--warmup", "5", "--backend", "reference")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "latency_us median=") || !strings.Contains(last, "runs=50") {
		t.Errorf("last line %q", last)
	}
	out, errOut, code = runCLI(t, "bench", "latency", model, "--runs", "20", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res latencyResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Runs != 20 || !(res.MedianUS > 0) || res.MinUS > res.MedianUS {
		t.Errorf("%+v (%v)", res, err)
	}
	if _, _, code := runCLI(t, "bench", "latency", model, "--input", "00"); code == 0 {
		t.Error("a short input was accepted")
	}
}
