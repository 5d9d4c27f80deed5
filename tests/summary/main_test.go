package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGoTestCountsAndFailures(t *testing.T) {
	in := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"run","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:3: boom\n"}
{"Action":"fail","Package":"p","Test":"TestB"}
{"Action":"skip","Package":"p","Test":"TestC"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}
{"Action":"fail","Package":"p"}
{"Action":"output","Package":"q","Output":"ok  \tq\t0.2s\n"}
{"Action":"pass","Package":"q"}
`
	var out bytes.Buffer
	c, err := goTest(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if c.Passed != 1 || c.Failed != 1 || c.Skipped != 1 {
		t.Errorf("counts %+v, want 1 passed, 1 failed, 1 skipped", c)
	}
	if !strings.Contains(out.String(), "boom") || !strings.Contains(out.String(), "ok  \tq") {
		t.Errorf("output:\n%s", out.String())
	}
	// A package that fails with no failed test (a build error) is a failure.
	c, _ = goTest(strings.NewReader(`{"Action":"output","Package":"r","Output":"FAIL\tr [build failed]\n"}`+"\n"+`{"Action":"fail","Package":"r"}`+"\n"), &out)
	if c.Failed != 1 {
		t.Errorf("build failure counted %+v", c)
	}
	if _, err := goTest(strings.NewReader("no json at all\n"), &out); err == nil {
		t.Error("no package results accepted")
	}
}

func TestCountLine(t *testing.T) {
	var out bytes.Buffer
	c, err := countLine(strings.NewReader("x\nRan 9 test suites in 2s (1s CPU time): 120 tests passed, 0 failed, 1 skipped (121 total tests)\n"), &out)
	if err != nil || c.Passed != 120 || c.Failed != 0 || c.Skipped != 1 {
		t.Errorf("forge: %+v %v", c, err)
	}
	c, err = countLine(strings.NewReader("vectors via CLI: 40 passed, 2 failed (backends: auto cpu)\n"), &out)
	if err != nil || c.Passed != 40 || c.Failed != 2 {
		t.Errorf("vectors: %+v %v", c, err)
	}
	if _, err := countLine(strings.NewReader("Compiler run failed\n"), &out); err == nil {
		t.Error("output without counts accepted")
	}
}

func TestTotalLine(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []counts{{Name: "go", Passed: 10}, {Name: "forge", Passed: 5, Skipped: 1}} {
		if err := save(dir, c); err != nil {
			t.Fatal(err)
		}
	}
	line, failed, err := total(dir, 0)
	if err != nil || failed || line != "make test: 15 passed, 0 failed, 1 skipped (forge 5, go 10)" {
		t.Errorf("%q %v %v", line, failed, err)
	}
	save(dir, counts{Name: "e2e", Passed: 3, Failed: 1})
	if _, failed, _ := total(dir, 0); !failed {
		t.Error("a failed suite did not fail the total")
	}
	if _, err := os.Stat(filepath.Join(dir, "e2e.json")); err != nil {
		t.Fatal(err)
	}
}
