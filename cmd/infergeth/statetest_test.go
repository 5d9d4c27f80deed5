package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// lastLine is the last line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestStatetestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"statetest"}, &stdout, &stderr); code != 2 {
		t.Errorf("no PATH: exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "Usage: infergeth statetest") {
		t.Errorf("no usage on stderr:\n%s", stderr.String())
	}
}

func TestStatetestCountsAFailure(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"x": {"env": {}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"statetest", bad}, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if got := lastLine(stdout.String()); got != "0 passed, 1 failed, 0 skipped" {
		t.Errorf("last line %q\n%s", got, stdout.String())
	}
	if !strings.HasPrefix(stdout.String(), "FAIL bad.json: ") {
		t.Errorf("no failure detail:\n%s", stdout.String())
	}
}

func TestStatetestSharedFixtures(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "fixtures", "ethereum-tests", "GeneralStateTests", "stExample")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no shared fixtures: %v", err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"statetest", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if got := lastLine(stdout.String()); !regexp.MustCompile(`^[1-9][0-9]* passed, 0 failed, 0 skipped$`).MatchString(got) {
		t.Errorf("last line %q", got)
	}
}
