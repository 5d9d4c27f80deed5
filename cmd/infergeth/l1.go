package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/l1"
	"github.com/infergeth/infergeth/l1/batcher"
	"github.com/infergeth/infergeth/l1/oracle"
	"github.com/infergeth/infergeth/l1/submit"
	"github.com/infergeth/infergeth/params"
)

// l1Prefix starts the line a node prints once its L1 poster runs; tests
// parse it:
//
//	infergeth l1: oracle=0x… inbox=0x… batcher=0x… proposer=0x… interval=N start-block=N
const l1Prefix = "infergeth l1:"

// l1Flags are the settings of a node's L1 poster (devnet and node).
type l1Flags struct {
	url         string
	key         string
	proposerKey string
	oracle      string
	interval    uint64
	genesisOut  string
	maxFrame    int
	poll        float64
	resubmit    float64
}

func (f *l1Flags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "l1", "", "post this chain's blocks and outputs to the L1 node at this JSON-RPC URL (docs/l1.md)")
	fs.StringVar(&f.key, "l1.key", "", "hex private key of the batcher (and proposer, and deployer without --l1.oracle) on the L1")
	fs.StringVar(&f.proposerKey, "l1.proposer-key", "", "hex private key of the proposer, when not the batcher's")
	fs.StringVar(&f.oracle, "l1.oracle", "", "the L2OutputOracle on the L1; empty deploys one for this chain")
	fs.Uint64Var(&f.interval, "l1.interval", 10, "output every N L2 blocks (when deploying the oracle)")
	fs.StringVar(&f.genesisOut, "l1.genesis-out", "", "write the L2 genesis a verifier needs here (default DATADIR/l2-genesis.json)")
	fs.IntVar(&f.maxFrame, "l1.max-frame", 0, "largest frame data per L1 transaction, in bytes (default 120000)")
	fs.Float64Var(&f.poll, "l1.poll", 0.25, "seconds between looks at the L2 head")
	fs.Float64Var(&f.resubmit, "l1.resubmit", 5, "seconds an L1 transaction may wait before it is resent with higher fees")
}

func parseKey(name, hexKey string) (*ecdsa.PrivateKey, error) {
	if hexKey == "" {
		return nil, nil
	}
	k, err := crypto.HexToECDSA(strings.TrimPrefix(hexKey, "0x"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}

// startL1 starts the batcher and proposer of a node whose chain is chain
// and whose genesis (for a new chain) is genesis. It deploys the oracle
// when none is given, writes the L2 genesis file, prints the l1Prefix line
// and runs the poster until ctx ends; done is closed when it has stopped.
func startL1(ctx context.Context, f *l1Flags, chain *core.Chain, genesis *gethcore.Genesis, datadir string, stdout io.Writer, log *slog.Logger) (done chan struct{}, err error) {
	key, err := parseKey("--l1.key", f.key)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errors.New("--l1 needs --l1.key (the batcher's L1 key)")
	}
	proposerKey, err := parseKey("--l1.proposer-key", f.proposerKey)
	if err != nil {
		return nil, err
	}
	if proposerKey == nil {
		proposerKey = key
	}
	client, err := ethclient.DialContext(ctx, f.url)
	if err != nil {
		return nil, fmt.Errorf("--l1 %s: %w", f.url, err)
	}
	path := f.genesisOut
	if path == "" && datadir != "" {
		path = datadir + "/l2-genesis.json"
	}
	if path == "" {
		log.Warn("no --datadir or --l1.genesis-out: the L2 genesis is not written, and verifiers need it to rebuild this chain")
	}
	if path != "" && genesis != nil && genesis.ToBlock().Hash() == chain.Genesis().Hash() {
		if err := l1.WriteGenesisFile(path, chain.Config(), genesis); err != nil {
			return nil, err
		}
	}
	oracleAddr := common.HexToAddress(f.oracle)
	if f.oracle == "" {
		sender, err := submit.New(ctx, client, submit.Config{Key: key, Log: log})
		if err != nil {
			return nil, err
		}
		oracleAddr, err = oracle.Deploy(ctx, sender, oracle.Settings{
			L2GenesisHash: chain.Genesis().Hash(),
			Batcher:       sender.From(),
			Inbox:         l1.InboxFor(chain.Config().ChainID().Uint64()),
			Proposer:      crypto.PubkeyToAddress(proposerKey.PublicKey),
			Interval:      f.interval,
		})
		if err != nil {
			return nil, err
		}
	} else if !common.IsHexAddress(f.oracle) {
		return nil, fmt.Errorf("--l1.oracle %q is not an address", f.oracle)
	}
	b, err := batcher.New(ctx, client, chain, core.NewBuilder(chain, nil), batcher.Config{
		Oracle:       oracleAddr,
		BatcherKey:   key,
		ProposerKey:  proposerKey,
		MaxFrameData: f.maxFrame,
		PollInterval: time.Duration(f.poll * float64(time.Second)),
		Submit:       submit.Config{ResubmitAfter: time.Duration(f.resubmit * float64(time.Second))},
		Log:          log,
	})
	if err != nil {
		return nil, err
	}
	s := b.Settings()
	fmt.Fprintf(stdout, "%s oracle=%s inbox=%s batcher=%s proposer=%s interval=%d start-block=%d genesis=%s\n",
		l1Prefix, oracleAddr.Hex(), s.Inbox.Hex(), s.Batcher.Hex(), s.Proposer.Hex(), s.Interval, s.StartBlock, path)
	done = make(chan struct{})
	go func() {
		defer close(done)
		defer client.Close()
		b.Run(ctx)
	}()
	return done, nil
}

const l1Usage = `Usage: infergeth l1 deploy --l1 URL --key HEX (--genesis FILE | --genesis-hash HASH) [flags]

Deploys the L2OutputOracle on the L1 for an L2 chain and prints its
address, the inbox, the batcher, the proposer and the L1 start block.
The batcher and proposer default to the key's account.

Flags:
`

func runL1(args []string, stdout, stderr io.Writer) error {
	return dispatch("l1", map[string]command{
		"deploy": {"deploy the output oracle for an L2 chain on an L1", runL1Deploy},
	}, args, stdout, stderr)
}

func runL1Deploy(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("l1 deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, l1Usage); fs.PrintDefaults() }
	url := fs.String("l1", "", "L1 JSON-RPC URL")
	keyHex := fs.String("key", "", "hex private key that pays for the deployment")
	genesisFile := fs.String("genesis", "", "the L2 genesis file (devnet --l1.genesis-out)")
	genesisHash := fs.String("genesis-hash", "", "the L2 genesis block hash, instead of --genesis")
	chainID := fs.Uint64("l2-chain-id", params.DevnetChainID, "the L2 chain id, for the default inbox (with --genesis-hash)")
	batcherAddr := fs.String("batcher", "", "batcher account (default: the key's)")
	proposerAddr := fs.String("proposer", "", "proposer account (default: the key's)")
	inbox := fs.String("inbox", "", "inbox address (default 0xff00…00 ++ L2 chain id, OP's convention)")
	interval := fs.Uint64("interval", 10, "an output every N L2 blocks")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	key, err := parseKey("--key", *keyHex)
	switch {
	case err != nil:
		return err
	case *url == "" || key == nil:
		fs.Usage()
		return errUsage
	case (*genesisFile == "") == (*genesisHash == ""):
		return errors.New("give one of --genesis and --genesis-hash")
	case *interval == 0:
		return errors.New("--interval must be positive")
	}
	s := oracle.Settings{Interval: *interval}
	l2ID := *chainID
	if *genesisFile != "" {
		cfg, g, err := l1.ReadGenesisFile(*genesisFile)
		if err != nil {
			return err
		}
		s.L2GenesisHash, l2ID = g.ToBlock().Hash(), cfg.ChainID().Uint64()
	} else {
		h, err := hashFlag("--genesis-hash", *genesisHash)
		if err != nil {
			return err
		}
		s.L2GenesisHash = h
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	if s.Batcher, err = addrFlag("--batcher", *batcherAddr, from); err != nil {
		return err
	}
	if s.Proposer, err = addrFlag("--proposer", *proposerAddr, from); err != nil {
		return err
	}
	if s.Inbox, err = addrFlag("--inbox", *inbox, l1.InboxFor(l2ID)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client, err := ethclient.DialContext(ctx, *url)
	if err != nil {
		return fmt.Errorf("--l1 %s: %w", *url, err)
	}
	defer client.Close()
	sender, err := submit.New(ctx, client, submit.Config{Key: key})
	if err != nil {
		return err
	}
	addr, err := oracle.Deploy(ctx, sender, s)
	if err != nil {
		return err
	}
	o, err := oracle.New(client, addr)
	if err != nil {
		return err
	}
	got, err := o.Settings(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "oracle=%s\ninbox=%s\nbatcher=%s\nproposer=%s\ninterval=%d\nstart-block=%d\nl2-genesis=%s\n",
		addr.Hex(), got.Inbox.Hex(), got.Batcher.Hex(), got.Proposer.Hex(), got.Interval, got.StartBlock, got.L2GenesisHash.Hex())
	return nil
}

func addrFlag(name, v string, def common.Address) (common.Address, error) {
	if v == "" {
		return def, nil
	}
	if !common.IsHexAddress(v) {
		return common.Address{}, fmt.Errorf("%s %q is not an address", name, v)
	}
	return common.HexToAddress(v), nil
}

func hashFlag(name, v string) (common.Hash, error) {
	b := common.FromHex(v)
	if len(b) != common.HashLength {
		return common.Hash{}, fmt.Errorf("%s %q is not a 32-byte hash", name, v)
	}
	return common.BytesToHash(b), nil
}
