// Command l1bench measures L1 settlement (make bench, section 50): the
// compressed bytes a realistic L2 transaction mix costs on the L1, as a
// ratio to the transactions' raw encoding (OP mainnet's figure is 0.36),
// and how fast a verifier replays the chain from the L1 against how fast
// the sequencer built it. It prints markdown.
package main

import (
	"bytes"
	"compress/zlib"
	"context"
	"flag"
	"fmt"
	"math/big"
	"math/rand"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"

	"github.com/infergeth/infergeth/l1"
	"github.com/infergeth/infergeth/l1/batch"
	"github.com/infergeth/infergeth/l1/batcher"
	"github.com/infergeth/infergeth/l1/l1test"
	"github.com/infergeth/infergeth/l1/oracle"
	"github.com/infergeth/infergeth/l1/submit"
	"github.com/infergeth/infergeth/l1/verifier"
)

func main() {
	blocks := flag.Int("blocks", 200, "L2 blocks")
	perBlock := flag.Int("txs", 10, "transactions per block")
	dump := flag.String("dump", "", "write the batch RLP of all blocks here (to try other compressors)")
	input := flag.String("input", "random", "inference inputs: random (uniform bytes, the worst case) or signal (a quantized random walk, like a price series)")
	flag.Parse()
	if *input != "random" && *input != "signal" {
		fmt.Fprintln(os.Stderr, "l1bench: -input must be random or signal")
		os.Exit(2)
	}
	if err := run(*blocks, *perBlock, *dump, *input); err != nil {
		fmt.Fprintln(os.Stderr, "l1bench:", err)
		os.Exit(1)
	}
}

func run(blocks, perBlock int, dump, inputKind string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	l2, err := l1test.NewL2Users(50)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewSource(1))
	recipients := make([]common.Address, 200)
	for i := range recipients {
		recipients[i] = common.BytesToAddress(crypto.Keccak256([]byte{byte(i), byte(i >> 8)})[12:])
	}
	tokens := []common.Address{common.HexToAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"), common.HexToAddress("0xdAC17F958D2ee523a2206206994597C13D831ec7"), common.HexToAddress("0x6B175474E89094C44Da98b954EedeAC495271d0F")}
	transferSel := crypto.Keccak256([]byte("transfer(address,uint256)"))[:4]
	recorder := l1test.RecorderAddress
	var raw, kinds [3]int
	start := time.Now()
	for b := 0; b < blocks; b++ {
		var txs []*types.Transaction
		for i := 0; i < perBlock; i++ {
			user := rng.Intn(len(l2.Users))
			var tx *types.Transaction
			kind := 0
			switch r := rng.Intn(10); {
			case r < 5: // ETH transfer
				to := recipients[rng.Intn(len(recipients))]
				tx = l2.SignFrom(user, &to, big.NewInt(rng.Int63n(1e18)), nil, 21000)
			case r < 8: // ERC-20 transfer(address,uint256)
				kind = 1
				to := tokens[rng.Intn(len(tokens))]
				data := append(append([]byte{}, transferSel...), common.LeftPadBytes(recipients[rng.Intn(len(recipients))].Bytes(), 32)...)
				data = append(data, common.LeftPadBytes(big.NewInt(rng.Int63n(1e12)).Bytes(), 32)...)
				tx = l2.SignFrom(user, &to, nil, data, 60000)
			default: // inference call with a fresh input
				kind = 2
				input := make([]byte, len(l2.Input))
				if inputKind == "random" {
					rng.Read(input)
				} else {
					v := rng.Intn(200) - 100
					for j := range input {
						v = max(-128, min(127, v+rng.Intn(7)-3))
						input[j] = byte(int8(v))
					}
				}
				tx = l2.SignFrom(user, &recorder, nil, l2.InferenceCalldata(input), 2_000_000)
			}
			enc, _ := tx.MarshalBinary()
			raw[kind] += len(enc)
			kinds[kind]++
			txs = append(txs, tx)
		}
		if _, err := l2.Mine(txs...); err != nil {
			return fmt.Errorf("block %d: %w", b+1, err)
		}
	}
	built := time.Since(start)
	n := blocks * perBlock
	rawTotal := raw[0] + raw[1] + raw[2]

	// Compression, by channel size: what the batcher posts.
	fmt.Printf("### Inference inputs: %s\n", inputKind)
	fmt.Println()
	fmt.Println("```")
	fmt.Printf("go run ./tests/bench/l1bench -blocks %d -txs %d -input %s\n", blocks, perBlock, inputKind)
	fmt.Println("```")
	fmt.Println()
	fmt.Printf("%d L2 blocks of %d transactions from 50 senders: %d ETH transfers (mean %d bytes), %d ERC-20 `transfer` calls (%d bytes; to token addresses, no code), %d inference calls through a contract with a fresh 144-byte %s input each (%d bytes). Raw: the transactions' canonical encoding (%d bytes, %.0f per transaction).\n\n",
		blocks, perBlock, kinds[0], raw[0]/max(kinds[0], 1), kinds[1], raw[1]/max(kinds[1], 1), kinds[2], inputKind, raw[2]/max(kinds[2], 1), rawTotal, float64(rawTotal)/float64(n))
	fmt.Println("| blocks per channel | batch RLP bytes | zlib bytes (with frame headers) | bytes per tx | ratio to raw |")
	fmt.Println("| ---: | ---: | ---: | ---: | ---: |")
	var all []byte
	for _, size := range []int{1, 10, blocks} {
		rlpBytes, zBytes := 0, 0
		for first := 1; first <= blocks; first += size {
			last := min(first+size-1, blocks)
			bt := &batch.Batch{ParentHash: l2.Chain.BlockByNumber(uint64(first - 1)).Hash(), First: uint64(first)}
			for b := first; b <= last; b++ {
				blk, err := batch.FromBlock(l2.Builder, l2.Chain.BlockByNumber(uint64(b-1)).Header(), l2.Chain.BlockByNumber(uint64(b)))
				if err != nil {
					return err
				}
				bt.Blocks = append(bt.Blocks, blk)
			}
			enc, err := bt.Encode()
			if err != nil {
				return err
			}
			if size == blocks {
				all = enc
			}
			data, err := batch.Compress(bt)
			if err != nil {
				return err
			}
			frames, err := batch.Split(data, 0)
			if err != nil {
				return err
			}
			rlpBytes += len(enc)
			zBytes += len(data) + len(frames)*(batch.FrameOverhead+1)
		}
		fmt.Printf("| %d | %d | %d | %.1f | %.3f |\n", size, rlpBytes, zBytes, float64(zBytes)/float64(n), float64(zBytes)/float64(rawTotal))
	}
	fmt.Println()
	var zl bytes.Buffer
	w, _ := zlib.NewWriterLevel(&zl, zlib.BestCompression)
	w.Write(all)
	w.Close()
	if dump != "" {
		if err := os.WriteFile(dump, all, 0o644); err != nil {
			return err
		}
	}

	// Replay: post to a simulated L1, then time a verifier rebuilding.
	key, _ := crypto.GenerateKey()
	backend := simulated.NewBackend(types.GenesisAlloc{crypto.PubkeyToAddress(key.PublicKey): {Balance: new(big.Int).Mul(big.NewInt(1e18), big.NewInt(1000))}})
	defer backend.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				backend.Commit()
			}
		}
	}()
	client := backend.Client()
	sender, err := submit.New(ctx, client, submit.Config{Key: key, PollInterval: 2 * time.Millisecond})
	if err != nil {
		return err
	}
	set := oracle.Settings{L2GenesisHash: l2.Chain.Genesis().Hash(), Batcher: sender.From(), Proposer: sender.From(), Inbox: l1.InboxFor(l2.Config.ChainID().Uint64()), Interval: 10}
	addr, err := oracle.Deploy(ctx, sender, set)
	if err != nil {
		return err
	}
	bt, err := batcher.New(ctx, client, l2.Chain, l2.Builder, batcher.Config{Oracle: addr, BatcherKey: key, Submit: submit.Config{PollInterval: 2 * time.Millisecond}})
	if err != nil {
		return err
	}
	if err := bt.Resume(ctx); err != nil {
		return err
	}
	if err := bt.Step(ctx); err != nil {
		return err
	}
	chain, exec, err := l1test.OpenVerifierChain(l2.Config, l2.Genesis, nil)
	if err != nil {
		return err
	}
	vstart := time.Now()
	rep, err := verifier.Verify(ctx, client, chain, exec, verifier.Config{Oracle: addr, Inbox: set.Inbox, Batcher: set.Batcher})
	if err != nil {
		return err
	}
	replay := time.Since(vstart)
	if !rep.Agrees() || rep.Executed != blocks {
		return fmt.Errorf("verifier: agrees %v, executed %d of %d", rep.Agrees(), rep.Executed, blocks)
	}
	prod := float64(blocks) / built.Seconds()
	rate := float64(blocks) / replay.Seconds()
	fmt.Println("| | L2 blocks per second | transactions per second |")
	fmt.Println("| --- | ---: | ---: |")
	fmt.Printf("| sequencer building and committing (reference backend, in memory; senders known from signing) | %.1f | %.0f |\n", prod, prod*float64(perBlock))
	fmt.Printf("| verifier: read the L1, decode, re-execute, commit (same backend) | %.1f | %.0f |\n", rate, rate*float64(perBlock))
	fmt.Println()
	fmt.Printf("Replay runs at %.2fx the sequencer's building rate, and %.0fx a chain producing one such block per second; %d outputs checked, all agree.\n", rate/prod, rate, len(rep.Outputs))
	return nil
}
