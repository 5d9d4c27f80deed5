package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// registryABI is the part of IModelRegistry the CLI calls.
const registryABI = `[
 {"type":"function","name":"upload","stateMutability":"nonpayable","inputs":[{"name":"payload","type":"bytes"}],"outputs":[{"name":"chunk","type":"address"}]},
 {"type":"function","name":"register","stateMutability":"nonpayable","inputs":[{"name":"chunks","type":"address[]"},{"name":"metadata","type":"string"}],"outputs":[{"name":"modelId","type":"bytes32"}]},
 {"type":"function","name":"isRegistered","stateMutability":"view","inputs":[{"name":"modelId","type":"bytes32"}],"outputs":[{"name":"","type":"bool"}]}
]`

func runModelRegister(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("model register", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rpcURL := fs.String("rpc", "http://127.0.0.1:8545", "JSON-RPC endpoint of an infergeth node")
	keyHex := fs.String("key", "", "private key (hex) of the account that pays and owns the model")
	metadata := fs.String("metadata", "", "free-form metadata stored with the model (e.g. a name or a URL)")
	chunkSize := fs.Int("chunk-size", vm.MaxDataPayload, "bytes per chunk (at most 24575, the code size limit less one; every chunk beyond the fewest that hold the model costs 2600 gas per call)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	quiet := fs.Bool("quiet", false, "no progress bar")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: infergeth model register --rpc URL --key HEX [--metadata TEXT] FILE

Uploads a model to the model registry (0x...0A01) in chunks, each the code of
a data contract, then registers it: the registry asks the inference
precompile to validate the assembled bytes. Chunks already on chain are
reused. Prints the model ID (keccak256 of the file) on the last line.

Flags:`)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	switch {
	case len(pos) != 1:
		fmt.Fprintf(stderr, "model register: want one model FILE, got %d arguments\n\n", len(pos))
		fs.Usage()
		return errUsage
	case *keyHex == "":
		fmt.Fprint(stderr, "model register: --key is required (the private key of the account that pays for the upload and owns the model)\n\n")
		fs.Usage()
		return errUsage
	}
	if *chunkSize < 1 || *chunkSize > vm.MaxDataPayload {
		return fmt.Errorf("--chunk-size must be in [1, %d]", vm.MaxDataPayload)
	}
	key, err := crypto.HexToECDSA(strings.TrimPrefix(*keyHex, "0x"))
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	m, raw, err := loadModel(pos[0])
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	client, err := ethclient.DialContext(ctx, *rpcURL)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", *rpcURL, err)
	}
	defer client.Close()
	r := &registrar{client: client, key: key, from: crypto.PubkeyToAddress(key.PublicKey), stderr: stderr, quiet: *quiet}
	if r.abi, err = abi.JSON(strings.NewReader(registryABI)); err != nil {
		return err
	}
	id, already, err := r.register(ctx, raw, *chunkSize, *metadata)
	if err != nil {
		return err
	}
	what := "registered model"
	if already {
		what = "already registered (nothing sent)"
	}
	fmt.Fprintf(stdout, "%s: %d bytes, input %d bytes, output %d bytes; %s\n", what, len(raw), m.InputBytes(), m.OutputBytes(), gasSummary(m.Cost().Gas()))
	fmt.Fprintf(stdout, "0x%x\n", id[:])
	return nil
}

// registrar sends the upload and register transactions.
type registrar struct {
	client *ethclient.Client
	abi    abi.ABI
	key    *ecdsa.PrivateKey
	from   common.Address
	chain  *big.Int
	nonce  uint64
	stderr io.Writer
	quiet  bool
}

// register uploads and registers raw; already is true when the chain had
// the model before (then nothing is sent).
func (r *registrar) register(ctx context.Context, raw []byte, chunkSize int, metadata string) (id inference.ModelID, already bool, err error) {
	id, err = r.registerNew(ctx, raw, chunkSize, metadata)
	if errors.Is(err, errAlreadyRegistered) {
		return id, true, nil
	}
	return id, false, err
}

var errAlreadyRegistered = errors.New("already registered")

func (r *registrar) registerNew(ctx context.Context, raw []byte, chunkSize int, metadata string) (inference.ModelID, error) {
	id := inference.ID(raw)
	var err error
	if r.chain, err = r.client.ChainID(ctx); err != nil {
		return id, fmt.Errorf("eth_chainId: %w", err)
	}
	code, err := r.client.CodeAt(ctx, params.ModelRegistryAddress, nil)
	if err != nil {
		return id, fmt.Errorf("reading the model registry's code at %s: %w", params.ModelRegistryAddress, err)
	}
	if len(code) == 0 {
		return id, fmt.Errorf("no model registry at %s on this chain: is it an infergeth node?", params.ModelRegistryAddress)
	}
	if done, err := r.isRegistered(ctx, id); err != nil {
		return id, err
	} else if done {
		return id, errAlreadyRegistered
	}
	if r.nonce, err = r.client.PendingNonceAt(ctx, r.from); err != nil {
		return id, fmt.Errorf("nonce of %s: %w", r.from, err)
	}

	// Upload the chunks that are not on chain yet, all transactions first,
	// then wait for their receipts.
	var chunks []common.Address
	var pending []*types.Transaction
	uploaded := 0
	bar := r.progress(len(raw))
	for off := 0; off < len(raw); off += chunkSize {
		payload := raw[off:min(off+chunkSize, len(raw))]
		addr := vm.DataContractAddress(crypto.Keccak256Hash(payload), payload)
		chunks = append(chunks, addr)
		if code, err := r.client.CodeAt(ctx, addr, nil); err == nil && len(code) == len(payload)+1 {
			uploaded += len(payload)
			bar(uploaded, "reused")
			continue
		}
		tx, err := r.send(ctx, "upload", payload)
		if err != nil {
			return id, fmt.Errorf("uploading chunk %d: %w", len(chunks)-1, err)
		}
		pending = append(pending, tx)
		uploaded += len(payload)
		bar(uploaded, "sent")
	}
	for i, tx := range pending {
		if _, err := r.wait(ctx, tx); err != nil {
			return id, fmt.Errorf("chunk transaction %d of %d: %w", i+1, len(pending), err)
		}
	}
	bar(len(raw), "done")
	if !r.quiet {
		fmt.Fprintln(r.stderr)
	}
	tx, err := r.send(ctx, "register", chunks, metadata)
	if err != nil {
		return id, fmt.Errorf("register: %w", err)
	}
	if _, err := r.wait(ctx, tx); err != nil {
		return id, fmt.Errorf("register: %w", err)
	}
	if ok, err := r.isRegistered(ctx, id); err != nil || !ok {
		return id, fmt.Errorf("register transaction succeeded but the registry does not list 0x%x (%v)", id[:], err)
	}
	return id, nil
}

func (r *registrar) isRegistered(ctx context.Context, id inference.ModelID) (bool, error) {
	data, err := r.abi.Pack("isRegistered", [32]byte(id))
	if err != nil {
		return false, err
	}
	out, err := r.client.CallContract(ctx, ethereum.CallMsg{To: &params.ModelRegistryAddress, Data: data}, nil)
	if err != nil {
		return false, fmt.Errorf("isRegistered: %w", err)
	}
	vals, err := r.abi.Unpack("isRegistered", out)
	if err != nil || len(vals) != 1 {
		return false, fmt.Errorf("isRegistered returned %x: %v", out, err)
	}
	return vals[0].(bool), nil
}

// send estimates, signs and sends a registry call with the next nonce. The
// estimate runs the call through the node, so a refusal (an invalid model,
// an allow-list) comes back here with the registry's revert reason.
func (r *registrar) send(ctx context.Context, method string, args ...any) (*types.Transaction, error) {
	data, err := r.abi.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	gas, err := r.client.EstimateGas(ctx, ethereum.CallMsg{From: r.from, To: &params.ModelRegistryAddress, Data: data})
	if err != nil {
		return nil, fmt.Errorf("estimating gas: %w", err)
	}
	tip, err := r.client.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, fmt.Errorf("eth_maxPriorityFeePerGas: %w", err)
	}
	head, err := r.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("latest header: %w", err)
	}
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{
		ChainID: r.chain, Nonce: r.nonce, GasTipCap: tip, GasFeeCap: feeCap,
		Gas: gas + gas/10, To: &params.ModelRegistryAddress, Data: data,
	}), types.LatestSignerForChainID(r.chain), r.key)
	if err != nil {
		return nil, err
	}
	if err := r.client.SendTransaction(ctx, tx); err != nil {
		return nil, err
	}
	r.nonce++
	return tx, nil
}

func (r *registrar) wait(ctx context.Context, tx *types.Transaction) (*types.Receipt, error) {
	for {
		rc, err := r.client.TransactionReceipt(ctx, tx.Hash())
		if err == nil {
			if rc.Status != types.ReceiptStatusSuccessful {
				return rc, fmt.Errorf("transaction %s reverted", tx.Hash())
			}
			return rc, nil
		}
		if !errors.Is(err, ethereum.NotFound) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", tx.Hash(), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// progress returns a function that draws a progress bar on stderr.
func (r *registrar) progress(total int) func(done int, what string) {
	if r.quiet {
		return func(int, string) {}
	}
	return func(done int, what string) {
		const width = 30
		filled := width * done / max(total, 1)
		fmt.Fprintf(r.stderr, "\ruploading [%s%s] %d/%d bytes (%s)   ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, what)
	}
}
