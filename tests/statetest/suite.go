package statetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"

	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/eth/tracers/logger"
	gethversion "github.com/ethereum/go-ethereum/version"

	"github.com/infergeth/infergeth/vm"
)

// traceGasLimit: failing subtests with a larger gas limit get no EVM trace
// (geth's runner uses the same bound).
const traceGasLimit = 400_000

// Suite runs state test files and counts subtests.
type Suite struct {
	// Factory makes every EVM; pass the node's factory so that infergeth's
	// precompiles are installed.
	Factory *vm.Factory
	// Fork, if set, runs only that fork's subtests; others are not counted.
	Fork string
	// Match, if set, runs only tests whose name ("file.json/test") matches;
	// others are not counted.
	Match *regexp.Regexp
	// Trace prints an EVM trace (JSON lines) for each failing subtest whose
	// gas limit is at most 400000.
	Trace bool
	// Workers is how many files run at once (0: GOMAXPROCS).
	Workers int
	// Out receives a line per failure and per skip, in file order.
	Out io.Writer
}

// Counts are the subtests that passed, failed and were skipped.
type Counts struct {
	Passed, Failed, Skipped int
}

func (c Counts) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", c.Passed, c.Failed, c.Skipped)
}

func (c *Counts) add(o Counts) {
	c.Passed += o.Passed
	c.Failed += o.Failed
	c.Skipped += o.Skipped
}

// file is one JSON file to run; name is its path relative to the folder of
// the suite (GeneralStateTests), slash-separated, which the skip patterns
// match.
type file struct {
	path, name string
}

// Run runs every state test file under paths (files or folders). A folder
// holding GeneralStateTests (an ethereum/tests checkout) runs that folder and
// EIPTests/StateTests. It returns an error only for paths it cannot read;
// failing subtests are counted and reported to Out.
func (s *Suite) Run(paths []string) (Counts, error) {
	var files []file
	for _, p := range paths {
		found, err := collect(p)
		if err != nil {
			return Counts{}, err
		}
		files = append(files, found...)
	}
	if len(files) == 0 {
		return Counts{}, fmt.Errorf("no .json files under %s", strings.Join(paths, ", "))
	}
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := s.Out
	if out == nil {
		out = io.Discard
	}

	type result struct {
		counts Counts
		report bytes.Buffer
		done   chan struct{}
	}
	results := make([]*result, len(files))
	for i := range results {
		results[i] = &result{done: make(chan struct{})}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				r := results[i]
				r.counts = s.runFile(files[i], &r.report)
				close(r.done)
			}
		})
	}
	go func() {
		for i := range files {
			next <- i
		}
		close(next)
	}()
	var total Counts
	for _, r := range results {
		<-r.done
		total.add(r.counts)
		if _, err := out.Write(r.report.Bytes()); err != nil {
			return total, fmt.Errorf("writing report: %w", err)
		}
	}
	wg.Wait()
	return total, nil
}

// collect lists the JSON files under path with their suite names.
func collect(path string) ([]file, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("state tests: %w", err)
	}
	if !info.IsDir() {
		return []file{{path: path, name: suiteName(path, filepath.Base(path))}}, nil
	}
	roots := []string{path}
	if gst := filepath.Join(path, "GeneralStateTests"); isDir(gst) {
		roots = []string{gst}
		if eip := filepath.Join(path, "EIPTests", "StateTests"); isDir(eip) {
			roots = append(roots, eip)
		}
	}
	var files []file
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || filepath.Ext(p) != ".json" {
				return nil
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			name := filepath.ToSlash(rel)
			if filepath.Base(root) != "StateTests" {
				name = suiteName(p, name)
			}
			files = append(files, file{path: p, name: name})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("state tests: walking %s: %w", root, err)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return files, nil
}

// suiteName is path relative to its nearest GeneralStateTests ancestor, the
// name geth's skip patterns match, or fallback when it has none.
func suiteName(path, fallback string) string {
	slash := filepath.ToSlash(path)
	if i := strings.LastIndex(slash, "GeneralStateTests/"); i >= 0 {
		return slash[i+len("GeneralStateTests/"):]
	}
	return fallback
}

func isDir(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}

// runFile runs the tests of one file, writing failures and skips to report.
func (s *Suite) runFile(f file, report *bytes.Buffer) Counts {
	var c Counts
	data, err := os.ReadFile(f.path)
	if err != nil {
		fmt.Fprintf(report, "FAIL %s: %v\n", f.name, err)
		c.Failed++
		return c
	}
	var tests map[string]*Test
	if err := json.Unmarshal(data, &tests); err != nil {
		fmt.Fprintf(report, "FAIL %s: not a state test file: %v\n", f.name, err)
		c.Failed++
		return c
	}
	fileSkip := gethSkipReason(f.name)
	for _, key := range sortedKeys(tests) {
		t := tests[key]
		name := f.name + "/" + key
		if s.Match != nil && !s.Match.MatchString(name) {
			continue
		}
		subs := s.selected(t)
		if len(subs) == 0 {
			continue
		}
		reason := fileSkip
		if reason == "" && len(tests) > 1 {
			reason = gethSkipReason(name)
		}
		if reason != "" {
			fmt.Fprintf(report, "SKIP %s (%d subtests): %s\n", name, len(subs), reason)
			c.Skipped += len(subs)
			continue
		}
		unsupported := map[string]int{}
		for _, sub := range subs {
			err := t.Run(s.Factory, sub, gethvm.Config{})
			switch {
			case err == nil:
				c.Passed++
			case errors.Is(err, ErrUnsupportedFork):
				unsupported[sub.Fork]++
				c.Skipped++
			default:
				c.Failed++
				s.reportFailure(report, name, t, sub, err)
			}
		}
		for _, fork := range sortedKeys(unsupported) {
			fmt.Fprintf(report, "SKIP %s %s (%d subtests): fork %q is not supported by go-ethereum %d.%d.%d\n",
				name, fork, unsupported[fork], fork, gethversion.Major, gethversion.Minor, gethversion.Patch)
		}
	}
	return c
}

// selected lists the subtests of t that this run covers.
func (s *Suite) selected(t *Test) []Subtest {
	var subs []Subtest
	for _, sub := range t.Subtests() {
		if s.Fork == "" || sub.Fork == s.Fork {
			subs = append(subs, sub)
		}
	}
	return subs
}

func (s *Suite) reportFailure(report *bytes.Buffer, name string, t *Test, sub Subtest, err error) {
	ix := t.Post[sub.Fork][sub.Index].Indexes
	fmt.Fprintf(report, "FAIL %s %s (data %d, gas %d, value %d): %v\n", name, sub, ix.Data, ix.Gas, ix.Value, err)
	if !s.Trace {
		return
	}
	if t.GasLimit(sub) > traceGasLimit {
		fmt.Fprintf(report, "  (no trace: gas limit %d is above %d)\n", t.GasLimit(sub), traceGasLimit)
		return
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	err2 := t.Run(s.Factory, sub, gethvm.Config{Tracer: logger.NewJSONLogger(&logger.Config{}, w)})
	if err := w.Flush(); err != nil {
		fmt.Fprintf(report, "  (trace: %v)\n", err)
	}
	if fmt.Sprint(err2) != fmt.Sprint(err) {
		fmt.Fprintf(report, "  different error when traced: %v\n", err2)
	}
	for line := range strings.Lines(buf.String()) {
		report.WriteString("  " + line)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
