package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/infergeth/infergeth/consensus/bft"
	inferenceruntime "github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/node"
)

// nodeReadyPrefix starts the line `infergeth node` prints once it serves
// JSON-RPC and takes part in the network; cluster run and tests parse it.
const nodeReadyPrefix = "infergeth node ready:"

const nodeUsage = `Usage: infergeth node --home DIR [flags]

Runs a validator or a full node of an infergeth network on CometBFT. DIR
holds the keys, CometBFT's genesis and infergeth.json (addresses, peers);
'infergeth cluster init' writes such folders. A node whose key is in the
genesis validator set validates; any other node is a full node.

Join an existing network as a full node with a new folder:
  infergeth node --home DIR --genesis PATH/genesis.json --peers ID@HOST:PORT

When it serves JSON-RPC it prints one line:
  ` + nodeReadyPrefix + ` http=URL ws=URL chain-id=ID node-id=ID p2p=HOST:PORT

Flags:
`

type nodeFlags struct {
	home, genesis, peers, p2pAddr, httpAddr, verbosity, backend string
	emptyInterval                                               time.Duration
	l1                                                          l1Flags
}

func parseNodeFlags(args []string, stderr io.Writer) (*nodeFlags, error) {
	f := &nodeFlags{}
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, nodeUsage); fs.PrintDefaults() }
	fs.StringVar(&f.home, "home", "", "the node's folder (required)")
	fs.StringVar(&f.genesis, "genesis", "", "CometBFT genesis to copy into a new --home (joining a network)")
	fs.StringVar(&f.peers, "peers", "", "comma-separated persistent peers, ID@HOST:PORT (overrides infergeth.json)")
	fs.StringVar(&f.p2pAddr, "p2p.addr", "", "HOST:PORT to listen for peers on (overrides infergeth.json; default 127.0.0.1:26656)")
	fs.StringVar(&f.httpAddr, "http.addr", "", "HOST:PORT for JSON-RPC over HTTP and WebSocket (overrides infergeth.json; default 127.0.0.1:8545)")
	fs.StringVar(&f.verbosity, "verbosity", "info", "log level: debug, info (a line per committed block), warn or error")
	fs.StringVar(&f.backend, "backend", "auto", "inference backend: auto, reference, cpu, cuda (where built and present)")
	f.l1.register(fs)
	fs.DurationVar(&f.emptyInterval, "empty-block-interval", 0, "how long an idle proposer waits before an empty block (default from infergeth.json, else 1s)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, flag.ErrHelp
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "node: unexpected argument %q\n", fs.Arg(0))
		return nil, errUsage
	}
	if f.home == "" {
		fmt.Fprintln(stderr, "node: --home is required")
		fs.Usage()
		return nil, errUsage
	}
	return f, nil
}

func runNode(args []string, stdout, stderr io.Writer) error {
	f, err := parseNodeFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.verbosity)); err != nil {
		return fmt.Errorf("--verbosity: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	settings, err := prepareHome(f)
	if err != nil {
		return err
	}
	p, err := readNetworkParams(f.home)
	if err != nil {
		return err
	}
	spec, err := p.genesis()
	if err != nil {
		return err
	}
	interval := f.emptyInterval
	if interval == 0 && settings.EmptyBlockInterval != "" {
		if interval, err = time.ParseDuration(settings.EmptyBlockInterval); err != nil {
			return fmt.Errorf("%s: emptyBlockInterval: %w", settingsFile, err)
		}
	}
	// The gas schedule holds only on the validator CPU floor (docs/spec.md
	// §9): a validator refuses to start below it; a full node may run, and
	// says so.
	if err := inferenceruntime.CheckValidatorCPU(); err != nil {
		validator, verr := bft.IsGenesisValidator(f.home)
		if verr != nil {
			return verr
		}
		if validator {
			return fmt.Errorf("this node is a validator: %w", err)
		}
		logger.Warn("inference runs slower per unit of gas than the schedule assumes", "err", err)
	}
	logger.Info("inference", "cpu", inferenceruntime.CPUPath())
	chainCfg := spec.Config
	inf, err := node.NewInference(chainCfg, f.backend, logger)
	if err != nil {
		return fmt.Errorf("--backend: %w", err)
	}
	cfg := node.Config{
		Chain:     chainCfg,
		Genesis:   spec,
		DataDir:   filepath.Join(f.home, "data", "chaindata"),
		Factory:   inf.Factory,
		Inference: inf.Precompile,
		HTTPAddr:  settings.HTTPAddr,
		Log:       logger,
		BFT: &bft.Config{
			Home:               f.home,
			Moniker:            settings.Moniker,
			P2PAddr:            settings.P2PAddr,
			Peers:              settings.Peers,
			EmptyBlockInterval: interval,
			Log:                logger,
		},
	}
	n, err := node.New(cfg)
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		n.Close()
		return err
	}
	// --l1: this node posts the network's committed blocks (final when
	// committed) and output roots to the L1 (docs/l1.md); one node of a
	// network is its batcher.
	stopL1 := func() {}
	if f.l1.url != "" {
		genesis, err := spec.Genesis()
		if err != nil {
			n.Close()
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		done, err := startL1(ctx, &f.l1, n.Chain(), genesis, filepath.Join(f.home, "data"), stdout, logger)
		if err != nil {
			cancel()
			n.Close()
			return fmt.Errorf("--l1: %w", err)
		}
		stopL1 = func() { cancel(); <-done }
	}
	fmt.Fprintf(stdout, "%s http=%s ws=%s chain-id=%d node-id=%s p2p=%s\n", nodeReadyPrefix, n.HTTPURL(), n.WSURL(), p.ChainID, n.BFT().NodeID(), settings.P2PAddr)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case s := <-sig:
		logger.Info("shutting down", "signal", s.String())
		stopL1()
		if err := n.Close(); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		return nil
	case <-n.BFT().Halted():
		halt := n.BFT().HaltErr()
		stopL1()
		n.Close()
		return fmt.Errorf("halted: %w", halt)
	}
}

// prepareHome makes a new home from --genesis when DIR has no keys yet,
// and returns its settings with the flags applied.
func prepareHome(f *nodeFlags) (nodeSettings, error) {
	_, statErr := os.Stat(bft.GenesisFile(f.home))
	if errors.Is(statErr, os.ErrNotExist) {
		if f.genesis == "" {
			return nodeSettings{}, fmt.Errorf("%s has no genesis: run 'infergeth cluster init' or pass --genesis to join a network", f.home)
		}
		if _, err := bft.InitHome(f.home, filepath.Base(f.home)); err != nil {
			return nodeSettings{}, err
		}
		b, err := os.ReadFile(f.genesis)
		if err != nil {
			return nodeSettings{}, err
		}
		if err := os.WriteFile(bft.GenesisFile(f.home), b, 0o644); err != nil {
			return nodeSettings{}, err
		}
		// A new home keeps the flags it was started with.
		s := applyNodeFlags(nodeSettings{Moniker: filepath.Base(f.home), P2PAddr: "127.0.0.1:26656", HTTPAddr: "127.0.0.1:8545"}, f)
		if err := writeSettings(f.home, s); err != nil {
			return nodeSettings{}, err
		}
	} else if f.genesis != "" {
		return nodeSettings{}, fmt.Errorf("--genesis: %s already has a genesis", f.home)
	}
	s, err := readSettings(f.home)
	if err != nil {
		return s, err
	}
	s = applyNodeFlags(s, f)
	for _, a := range []string{s.P2PAddr, s.HTTPAddr} {
		if _, port, err := net.SplitHostPort(a); err != nil {
			return s, fmt.Errorf("address %q: %w", a, err)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return s, fmt.Errorf("address %q: bad port", a)
		}
	}
	return s, nil
}

// applyNodeFlags overrides settings with the flags given.
func applyNodeFlags(s nodeSettings, f *nodeFlags) nodeSettings {
	if f.peers != "" {
		s.Peers = strings.Split(f.peers, ",")
	}
	if f.p2pAddr != "" {
		s.P2PAddr = f.p2pAddr
	}
	if f.httpAddr != "" {
		s.HTTPAddr = f.httpAddr
	}
	return s
}
