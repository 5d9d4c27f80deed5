package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"

	"github.com/infergeth/infergeth/tests/statetest"
	"github.com/infergeth/infergeth/vm"
)

const statetestUsage = `Usage: infergeth statetest [flags] PATH...

Runs Ethereum GeneralStateTests (the JSON files of ethereum/tests) through
infergeth's EVM factory, for every fork each file names; each subtest (fork,
data, gas and value index) is one test. PATH is a test file, a folder of them,
or a checkout of ethereum/tests (its GeneralStateTests and
EIPTests/StateTests are run). Tests that geth's own suite skips are skipped
with geth's reasons; forks geth has no configuration for are skipped too.

Prints a line per failure and per skip, then, as its last line:
  N passed, M failed, K skipped
and exits with status 1 if any test failed.

Example:
  infergeth statetest ../shared/fixtures/ethereum-tests
  infergeth statetest -fork Cancun -run 'stExample/' -trace ../shared/fixtures/ethereum-tests

Flags:
`

// errTestsFailed: the summary line is printed; the exit status says it.
type errTestsFailed struct{ failed int }

func (e errTestsFailed) Error() string { return fmt.Sprintf("%d tests failed", e.failed) }

func runStatetest(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("statetest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), statetestUsage)
		fs.PrintDefaults()
	}
	fork := fs.String("fork", "", "run only this fork's subtests (e.g. Cancun)")
	match := fs.String("run", "", "run only tests whose name (FILE.json/TEST) matches this regular expression")
	trace := fs.Bool("trace", false, "print an EVM trace for each failing subtest (gas limit at most 400000)")
	workers := fs.Int("workers", 0, "files run at once (0: GOMAXPROCS)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return errUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	suite := statetest.Suite{
		// The node's factory: the precompiles it installs are the chain's.
		Factory: vm.NewFactory(),
		Fork:    *fork,
		Trace:   *trace,
		Workers: *workers,
		Out:     stdout,
	}
	if *match != "" {
		re, err := regexp.Compile(*match)
		if err != nil {
			return fmt.Errorf("-run: %w", err)
		}
		suite.Match = re
	}
	counts, err := suite.Run(fs.Args())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, counts)
	if counts.Failed > 0 {
		return errTestsFailed{counts.Failed}
	}
	return nil
}
