package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/ethdb/pebble"

	"github.com/infergeth/infergeth/core"
	inferenceruntime "github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/l1"
	"github.com/infergeth/infergeth/l1/verifier"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

const verifyUsage = `Usage: infergeth verify --l1 URL --inbox ADDR --batcher ADDR --oracle ADDR --genesis FILE [--datadir DIR] [flags]

Rebuilds the L2 from the L1 alone: reads the batcher's transactions to the
inbox (nobody else's), re-executes every block (inference included, on
--backend), and checks every output root the proposer posted. Prints one
line per output and a verdict:

  verify: agree: L2 blocks 1-N rebuilt, K outputs checked
  verify: DIVERGENCE at L2 block B: ... transaction 0x…

and exits 0 on agreement, 1 on a divergence. With --datadir the rebuilt
chain is kept (pebble), and a later run continues from it.

Flags:
`

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, verifyUsage); fs.PrintDefaults() }
	url := fs.String("l1", "", "L1 JSON-RPC URL")
	inbox := fs.String("inbox", "", "the batch inbox address")
	batcherAddr := fs.String("batcher", "", "the authorised batcher (only its transactions are read)")
	oracleAddr := fs.String("oracle", "", "the L2OutputOracle")
	genesis := fs.String("genesis", "", "the L2 genesis file (written by devnet --l1)")
	datadir := fs.String("datadir", "", "keep the rebuilt chain here (pebble); default in memory")
	backend := fs.String("backend", "auto", "inference backend: auto, reference, cpu, cuda (where built)")
	verbosity := fs.String("verbosity", "warn", "log level: debug, info, warn (each skipped batcher transaction), error")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if *url == "" || *genesis == "" {
		fs.Usage()
		return errUsage
	}
	var cfg verifier.Config
	var err error
	for _, a := range []struct {
		name string
		v    string
		dst  *common.Address
	}{{"--inbox", *inbox, &cfg.Inbox}, {"--batcher", *batcherAddr, &cfg.Batcher}, {"--oracle", *oracleAddr, &cfg.Oracle}} {
		if a.v == "" {
			return fmt.Errorf("%s is required", a.name)
		}
		if *a.dst, err = addrFlag(a.name, a.v, common.Address{}); err != nil {
			return err
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*verbosity)); err != nil {
		return fmt.Errorf("--verbosity: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Log = log
	chainCfg, g, err := l1.ReadGenesisFile(*genesis)
	if err != nil {
		return err
	}
	be, err := inferenceruntime.Select(*backend)
	if err != nil {
		return fmt.Errorf("--backend: %w", err)
	}
	var kv ethdb.Database = rawdb.NewMemoryDatabase()
	if *datadir != "" {
		db, err := pebble.New(*datadir, 128, 256, "infergeth/chaindata/", false)
		if err != nil {
			return fmt.Errorf("open %s: %w", *datadir, err)
		}
		kv = rawdb.NewDatabase(db)
	}
	defer kv.Close()
	chain, err := core.OpenChain(kv, chainCfg, g, *datadir != "")
	if err != nil {
		return err
	}
	defer chain.Close()
	pre, err := vm.NewInference(chain.Config(), vm.InferenceOptions{Cache: inferenceruntime.NewCache(be, params.InferenceCacheBytes, log), Log: log})
	if err != nil {
		return err
	}
	exec := core.NewExecutor(chain.Config(), vm.NewFactory(pre), chain, chain.Senders())

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	client, err := ethclient.DialContext(ctx, *url)
	if err != nil {
		return fmt.Errorf("--l1 %s: %w", *url, err)
	}
	defer client.Close()
	start := time.Now()
	rep, err := verifier.Verify(ctx, client, chain, exec, cfg)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	for _, s := range rep.Skips {
		fmt.Fprintf(stdout, "verify: skipped (L1 block %d): %s\n", s.L1Block, s.Reason)
	}
	for _, o := range rep.Outputs {
		switch {
		case o.Computed == (common.Hash{}):
			fmt.Fprintf(stdout, "verify: output L2 block %d: not yet rebuilt (posted state root %s)\n", o.L2Block, o.StateRoot)
		case o.Agrees:
			fmt.Fprintf(stdout, "verify: output L2 block %d: agrees (state root %s)\n", o.L2Block, o.StateRoot)
		default:
			fmt.Fprintf(stdout, "verify: output L2 block %d: DIFFERS: posted state root %s, re-executed %s\n", o.L2Block, o.StateRoot, o.Computed)
		}
	}
	rate := float64(rep.Executed) / elapsed.Seconds()
	if rep.Agrees() {
		fmt.Fprintf(stdout, "verify: agree: L2 blocks 1-%d rebuilt (%d executed in %.2fs, %.1f blocks/s), %d outputs checked\n", rep.Head, rep.Executed, elapsed.Seconds(), rate, len(rep.Outputs))
		return nil
	}
	if d := rep.Divergence; d != nil {
		fmt.Fprintf(stdout, "verify: DIVERGENCE at %s\n", d)
	}
	if o := rep.FirstBadOutput; o != nil {
		fmt.Fprintf(stdout, "verify: first differing output: L2 block %d\n", o.L2Block)
	}
	return errDiverged
}

// errDiverged exits 1 after the report was printed.
var errDiverged = errors.New("the L1's outputs differ from the re-execution")
