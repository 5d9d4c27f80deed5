package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/core/devkeys"
	inferenceruntime "github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/node"
	"github.com/infergeth/infergeth/params"
)

// readyPrefix starts the line that announces the RPC endpoints, once they
// are bound; scripts and tests parse it (with --http.port 0 it is the only
// way to learn the port):
//
//	infergeth devnet ready: http=http://127.0.0.1:8545 ws=ws://127.0.0.1:8545 chain-id=31337
const readyPrefix = "infergeth devnet ready:"

const devnetUsage = `Usage: infergeth devnet [flags]

Runs a local chain for dApp development in one process: JSON-RPC over HTTP
and WebSocket (both on --http.port unless --ws.port is set), the ten
accounts of the standard test mnemonic funded, a block per transaction
(or every --block-time seconds), Prague rules, anvil-style cheat codes
(evm_*, anvil_*, hardhat_*). State is in memory unless --datadir is given.

When the server is listening it prints one line of the form
  ` + readyPrefix + ` http=http://HOST:PORT ws=ws://HOST:PORT chain-id=ID
(--http.port 0 picks a free port; read it from that line).

Flags:
`

// devnetFlags are the devnet command's options.
type devnetFlags struct {
	httpAddr  string
	httpPort  int
	wsPort    int
	chainID   uint64
	blockTime float64
	accounts  int
	balance   string
	mnemonic  string
	datadir   string
	gasLimit  uint64
	baseFee   uint64
	maxDrift  uint64
	verbosity string
	silent    bool
	backend   string
	models    stringList
	noDemos   bool
	l1        l1Flags
	rpcLimits rpcLimits
}

func parseDevnetFlags(args []string, stderr io.Writer) (*devnetFlags, error) {
	f := &devnetFlags{}
	fs := flag.NewFlagSet("devnet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, devnetUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.httpAddr, "http.addr", "127.0.0.1", "interface to listen on")
	fs.IntVar(&f.httpPort, "http.port", 8545, "port for JSON-RPC over HTTP and WebSocket (0 picks a free port)")
	fs.IntVar(&f.wsPort, "ws.port", -1, "serve WebSocket on this port as well; -1 (the default) serves it on --http.port only")
	fs.Uint64Var(&f.chainID, "chain-id", params.DevnetChainID, "chain id (31337, as anvil and Hardhat)")
	fs.Float64Var(&f.blockTime, "block-time", 0, "seconds between blocks; 0 mines a block per transaction")
	fs.IntVar(&f.accounts, "accounts", params.DevnetAccounts, "number of development accounts to derive and fund")
	fs.StringVar(&f.balance, "balance", strconv.Itoa(params.DevnetBalanceEther), "balance of each development account, in ether")
	fs.StringVar(&f.mnemonic, "mnemonic", params.DevnetMnemonic, "BIP-39 mnemonic the accounts derive from (m/44'/60'/0'/0/i)")
	fs.StringVar(&f.datadir, "datadir", "", "keep the chain in this directory (pebble); default in memory")
	fs.Uint64Var(&f.gasLimit, "gas-limit", params.DevnetGasLimit, "block gas limit")
	fs.Uint64Var(&f.baseFee, "base-fee", params.DevnetBaseFee, "base fee of the genesis block, in wei")
	fs.Uint64Var(&f.maxDrift, "max-timestamp-drift", params.DevnetMaxTimestampDrift, "seconds a block timestamp may run ahead of the clock")
	fs.StringVar(&f.verbosity, "verbosity", "warn", "log level: debug, info (a line per mined block), warn or error")
	fs.BoolVar(&f.silent, "silent", false, "print nothing but the ready line and errors")
	fs.StringVar(&f.backend, "backend", "auto", "inference backend: auto (the fastest here), reference, cpu, cuda (where built and present)")
	fs.Var(&f.models, "model", "register this model file at genesis (repeatable)")
	fs.BoolVar(&f.noDemos, "no-demo-models", false, "do not register the demo models at genesis")
	f.l1.register(fs)
	f.rpcLimits.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, flag.ErrHelp
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "devnet: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return nil, errUsage
	}
	switch {
	case f.httpPort < 0 || f.httpPort > 65535:
		return nil, fmt.Errorf("--http.port %d out of range", f.httpPort)
	case f.wsPort > 65535:
		return nil, fmt.Errorf("--ws.port %d out of range", f.wsPort)
	case f.chainID == 0:
		return nil, errors.New("--chain-id must be positive")
	case f.blockTime < 0 || f.blockTime > 86400:
		return nil, errors.New("--block-time must be in [0, 86400] seconds")
	case f.accounts < 0 || f.accounts > devkeys.MaxAccounts:
		return nil, fmt.Errorf("--accounts must be in [0, %d]", devkeys.MaxAccounts)
	case f.gasLimit < 21000:
		return nil, errors.New("--gas-limit must be at least 21000")
	}
	return f, nil
}

// balanceWei parses an ether amount with up to 18 decimals.
func balanceWei(ether string) (*big.Int, error) {
	whole, frac, _ := strings.Cut(ether, ".")
	if len(frac) > 18 || whole == "" && frac == "" {
		return nil, fmt.Errorf("invalid --balance %q", ether)
	}
	frac += strings.Repeat("0", 18-len(frac))
	v, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok || v.Sign() < 0 || v.BitLen() > 256 {
		return nil, fmt.Errorf("invalid --balance %q", ether)
	}
	return v, nil
}

func runDevnet(args []string, stdout, stderr io.Writer) error {
	f, err := parseDevnetFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h: usage printed, not an error
	}
	if err != nil {
		return err
	}
	// A devnet's heap is small and its requests allocate briskly: trade
	// memory for fewer collections, unless the user set GOGC.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	balance, err := balanceWei(f.balance)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.verbosity)); err != nil {
		return fmt.Errorf("--verbosity: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	accounts, err := devkeys.Derive(f.mnemonic, f.accounts)
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	funded := make([]common.Address, len(accounts))
	for i, a := range accounts {
		funded[i] = a.Address
	}
	chainCfg := params.DevnetConfig(f.chainID)
	chainCfg.Infergeth.MaxTimestampDrift = f.maxDrift
	models, err := devnetModels(f.models, !f.noDemos)
	if err != nil {
		return err
	}
	inf, err := node.NewInference(chainCfg, f.backend, logger)
	if err != nil {
		return fmt.Errorf("--backend: %w", err)
	}
	// A devnet runs on any CPU; a validator would refuse this one.
	if err := inferenceruntime.CheckValidatorCPU(); err != nil {
		logger.Warn("inference runs slower per unit of gas than the schedule assumes", "err", err)
	}
	logger.Info("inference", "backend", inf.Precompile.Cache().Backend().Name(), "cpu", inferenceruntime.CPUPath())
	cfg := node.Config{
		Chain: chainCfg,
		Genesis: core.GenesisSpec{
			Funded:     funded,
			Balance:    balance,
			GasLimit:   f.gasLimit,
			BaseFee:    new(big.Int).SetUint64(f.baseFee),
			Timestamp:  uint64(time.Now().Unix()),
			Predeploys: append(core.StandardPredeploys(), inferenceGenesis(models).Predeploy()),
		},
		Accounts:  accounts,
		DataDir:   f.datadir,
		BlockTime: time.Duration(f.blockTime * float64(time.Second)),
		Factory:   inf.Factory,
		Inference: inf.Precompile,
		HTTPAddr:  net.JoinHostPort(f.httpAddr, strconv.Itoa(f.httpPort)),
		Log:       logger,
	}
	f.rpcLimits.apply(&cfg)
	if f.wsPort >= 0 {
		cfg.WSAddr = net.JoinHostPort(f.httpAddr, strconv.Itoa(f.wsPort))
	}
	n, err := node.New(cfg)
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		n.Close()
		return err
	}
	if !f.silent {
		printBanner(stdout, f, accounts, n)
		printModels(stdout, models, n.HTTPURL())
	}
	stopL1 := func() {}
	if f.l1.url != "" {
		spec := cfg.Genesis
		spec.Config = chainCfg
		genesis, err := spec.Genesis()
		if err != nil {
			n.Close()
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		done, err := startL1(ctx, &f.l1, n.Chain(), genesis, f.datadir, stdout, logger)
		if err != nil {
			cancel()
			n.Close()
			return fmt.Errorf("--l1: %w", err)
		}
		stopL1 = func() { cancel(); <-done }
	}
	fmt.Fprintf(stdout, "%s http=%s ws=%s chain-id=%d\n", readyPrefix, n.HTTPURL(), n.WSURL(), f.chainID)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	s := <-sig
	logger.Info("shutting down", "signal", s.String())
	stopL1()
	if err := n.Close(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func printBanner(w io.Writer, f *devnetFlags, accounts []devkeys.Account, n *node.Node) {
	head, _ := n.Chain().Head()
	fmt.Fprintf(w, "\ninfergeth devnet %s\n\n", version)
	fmt.Fprintln(w, "Available Accounts\n==================")
	for i, a := range accounts {
		fmt.Fprintf(w, "(%d) %s (%s ETH)\n", i, a.Address.Hex(), f.balance)
	}
	fmt.Fprintln(w, "\nPrivate Keys\n==================")
	for i, a := range accounts {
		fmt.Fprintf(w, "(%d) %s\n", i, a.PrivateKeyHex())
	}
	fmt.Fprintln(w, "\nWallet\n==================")
	fmt.Fprintf(w, "Mnemonic:          %s\nDerivation path:   m/44'/60'/0'/0/\n\n", f.mnemonic)
	mode := "a block per transaction"
	if f.blockTime > 0 {
		mode = fmt.Sprintf("a block every %gs", f.blockTime)
	}
	store := "memory"
	if f.datadir != "" {
		store = f.datadir
	}
	fmt.Fprintf(w, "Chain ID:          %d\nHardfork:          prague\nMining:            %s\nBlock gas limit:   %d\nGenesis base fee:  %d wei\nHead block:        %d\nState:             %s\n",
		f.chainID, mode, f.gasLimit, f.baseFee, head.NumberU64(), store)
	fmt.Fprintf(w, "CREATE2 deployer:  %s\nMulticall3:        %s\n\n", core.Create2DeployerAddress.Hex(), core.Multicall3Address.Hex())
	fmt.Fprintf(w, "JSON-RPC (HTTP):   %s\nJSON-RPC (WS):     %s\n\n", n.HTTPURL(), n.WSURL())
	if f.datadir != "" && head.NumberU64() > 0 {
		fmt.Fprintln(w, "(reopened an existing chain: genesis flags such as --accounts and --balance are ignored)")
	}
}
