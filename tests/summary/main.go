// Command summary counts what `make test` ran and ends it with one line:
//
//	make test: 1874 passed, 0 failed (go 1520, e2e 38, ...) in 11m40s
//
// Each suite's output goes through it on the way to the terminal, and it
// records the suite's counts in a results folder; the last call adds them
// up. A skipped test is reported as skipped, never counted as passed.
//
//	go test -json ./... | summary go -dir DIR -name go     // prints as plain `go test` does
//	forge test 2>&1 | summary count -dir DIR -name forge   // echoes; reads "N passed, M failed"
//	summary table -dir DIR -name onnx FILE                // a markdown table's rows, each a check
//	summary total -dir DIR -since UNIX                    // the last line
//
// A suite whose counts cannot be found, or with a failure, makes its call
// exit 1, so a pipe into it fails the make target as the suite would.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// counts is one suite's result, stored as DIR/NAME.json.
type counts struct {
	Name    string `json:"name"`
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	Skipped int    `json:"skipped"`
	Note    string `json:"note,omitempty"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: summary go|count|table|total -dir DIR [-name NAME] [-since UNIX] [FILE]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", "build/test-results", "results folder")
	name := fs.String("name", "", "the suite's name")
	since := fs.Int64("since", 0, "when make test started (unix seconds)")
	fs.Parse(os.Args[2:])
	var c counts
	var err error
	switch os.Args[1] {
	case "go":
		c, err = goTest(os.Stdin, os.Stdout)
	case "count":
		c, err = countLine(os.Stdin, os.Stdout)
	case "table":
		c, err = tableRows(fs.Arg(0))
	case "total":
		line, failed, err := total(*dir, *since)
		if err != nil {
			fmt.Fprintln(os.Stderr, "summary:", err)
			os.Exit(1)
		}
		fmt.Println(line)
		if failed {
			os.Exit(1)
		}
		return
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	c.Name = *name
	if werr := save(*dir, c); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "summary: %s: %v\n", *name, err)
		os.Exit(1)
	}
	if c.Failed > 0 {
		os.Exit(1)
	}
}

// goEvent is one line of `go test -json`.
type goEvent struct {
	Action  string `json:"Action"`
	Package string `json:"Package"`
	Test    string `json:"Test"`
	Output  string `json:"Output"`
	Elapsed float64
}

// goTest reads `go test -json` and prints what `go test` prints without -v:
// one line per package, and the whole output of a failed test or package.
// Tests count by their own results (subtests included); a package that fails
// outside its tests (a build error, a panic in TestMain) counts as one failure.
func goTest(r io.Reader, w io.Writer) (counts, error) {
	var c counts
	logs := map[string][]string{} // package/test -> output lines
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	packages := 0
	testFailed := map[string]bool{} // packages with a failed test
	for sc.Scan() {
		line := sc.Bytes()
		var e goEvent
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintln(w, string(line)) // go's own messages (build errors on stderr)
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "output", "build-output":
			logs[key] = append(logs[key], e.Output)
		case "pass", "fail", "skip":
			if e.Test != "" {
				switch e.Action {
				case "pass":
					c.Passed++
				case "fail":
					c.Failed++
					testFailed[e.Package] = true
					fmt.Fprint(w, strings.Join(logs[key], ""))
				case "skip":
					c.Skipped++
				}
				delete(logs, key)
				continue
			}
			packages++
			out := logs[key]
			delete(logs, key)
			switch e.Action {
			case "fail":
				fmt.Fprint(w, strings.Join(out, ""))
				if !testFailed[e.Package] {
					c.Failed++ // failed outside its tests: a build error, a panic, a timeout
				}
			default:
				// The package's last line ("ok  pkg 1.2s", "?  pkg [no test files]").
				if n := len(out); n > 0 {
					fmt.Fprint(w, out[n-1])
				}
			}
		case "build-fail":
			c.Failed++
			fmt.Fprint(w, strings.Join(logs[e.Package+"\x00"], ""))
		}
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	if packages == 0 {
		return c, errors.New("no package results from go test -json")
	}
	return c, nil
}

// countRE finds "N passed, M failed[, K skipped]" (forge's "N tests
// passed, ...", the vectors' and statetests' "N passed, M failed").
var countRE = regexp.MustCompile(`(\d+) (?:tests )?passed, (\d+) failed(?:, (\d+) skipped)?`)

// countLine echoes r and takes the counts of its last summary line.
func countLine(r io.Reader, w io.Writer) (counts, error) {
	var c counts
	found := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(w, line)
		if strings.Contains(line, "SKIPPED") {
			c.Note = strings.TrimSpace(line)
		}
		if m := countRE.FindStringSubmatch(line); m != nil {
			found = true
			c.Passed, _ = strconv.Atoi(m[1])
			c.Failed, _ = strconv.Atoi(m[2])
			c.Skipped, _ = strconv.Atoi(m[3])
		}
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	if !found && c.Note == "" {
		return c, errors.New("no \"N passed, M failed\" line in the output")
	}
	return c, nil
}

// tableRows counts the data rows of a markdown table written by a check that
// already succeeded (its exit status failed the target otherwise).
func tableRows(file string) (counts, error) {
	var c counts
	b, err := os.ReadFile(file)
	if err != nil {
		return c, err
	}
	rows := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "|") && !strings.HasPrefix(l, "| ---") {
			rows++
		}
	}
	if rows < 2 {
		return c, fmt.Errorf("%s: no table rows", file)
	}
	c.Passed = rows - 1 // less the header
	c.Note = "table in " + file
	return c, nil
}

func save(dir string, c counts) error {
	if c.Name == "" {
		return errors.New("-name is required")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, _ := json.Marshal(c)
	return os.WriteFile(filepath.Join(dir, c.Name+".json"), b, 0o644)
}

// total adds up every suite in dir into the last line of make test.
func total(dir string, since int64) (string, bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return "", false, err
	}
	if len(files) == 0 {
		return "", false, fmt.Errorf("no results in %s", dir)
	}
	sort.Strings(files)
	var all counts
	var parts, notes []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", false, err
		}
		var c counts
		if err := json.Unmarshal(b, &c); err != nil {
			return "", false, fmt.Errorf("%s: %w", f, err)
		}
		all.Passed += c.Passed
		all.Failed += c.Failed
		all.Skipped += c.Skipped
		part := fmt.Sprintf("%s %d", c.Name, c.Passed)
		if c.Failed > 0 {
			part += fmt.Sprintf(" (%d failed)", c.Failed)
		}
		parts = append(parts, part)
		if c.Note != "" {
			notes = append(notes, c.Name+": "+c.Note)
		}
	}
	line := fmt.Sprintf("make test: %d passed, %d failed", all.Passed, all.Failed)
	if all.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", all.Skipped)
	}
	line += " (" + strings.Join(parts, ", ") + ")"
	if since > 0 {
		line += " in " + time.Since(time.Unix(since, 0)).Round(time.Second).String()
	}
	if len(notes) > 0 {
		line = strings.Join(notes, "\n") + "\n" + line
	}
	return line, all.Failed > 0, nil
}
