package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/infergeth/infergeth/core"
)

// SendRawTransaction is eth_sendRawTransaction. In automine mode the
// transaction is mined before the hash is returned, so its receipt is
// there at once.
func (api *ethAPI) SendRawTransaction(ctx context.Context, input hexutil.Bytes) (common.Hash, error) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(input); err != nil {
		return common.Hash{}, err
	}
	if err := api.n.producer.Submit(ctx, tx); err != nil {
		return common.Hash{}, err
	}
	return tx.Hash(), nil
}

// syncSendTimeout is eth_sendRawTransactionSync's default wait (EIP-7966).
const syncSendTimeout = 2 * time.Second

// SendRawTransactionSync is eth_sendRawTransactionSync (EIP-7966): send and
// wait for the receipt.
func (api *ethAPI) SendRawTransactionSync(ctx context.Context, input hexutil.Bytes, timeoutMs *hexutil.Uint64) (*rpcReceipt, error) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(input); err != nil {
		return nil, err
	}
	events := make(chan core.ChainEvent, 16)
	sub := api.n.chain.SubscribeChainEvent(events)
	defer sub.Unsubscribe()
	if err := api.n.producer.Submit(ctx, tx); err != nil {
		return nil, err
	}
	timeout := syncSendTimeout
	if timeoutMs != nil && *timeoutMs > 0 {
		timeout = min(time.Duration(*timeoutMs)*time.Millisecond, time.Minute)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		if r, _ := api.GetTransactionReceipt(tx.Hash()); r != nil {
			return r, nil
		}
		select {
		case <-events:
		case <-timer.C:
			return nil, &timeoutError{fmt.Sprintf("the transaction was added to the transaction pool but wasn't processed in %v", timeout), tx.Hash()}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

type timeoutError struct {
	msg  string
	hash common.Hash
}

func (e *timeoutError) Error() string  { return e.msg }
func (e *timeoutError) ErrorCode() int { return 4 }
func (e *timeoutError) ErrorData() any { return e.hash.Hex() }

// SendTransaction is eth_sendTransaction: from a development account (signed
// with its key) or an impersonated one (anvil_impersonateAccount).
func (api *ethAPI) SendTransaction(ctx context.Context, args txArgs) (common.Hash, error) {
	n := api.n
	if args.From == nil {
		return common.Hash{}, errors.New("missing from address")
	}
	from := *args.From
	key, unlocked := n.unlocked(from)
	impersonated := n.isImpersonated(from)
	if !unlocked && !impersonated {
		return common.Hash{}, fmt.Errorf("unknown account %s", from.Hex())
	}
	if err := n.fillDefaults(ctx, &args); err != nil {
		return common.Hash{}, err
	}
	unsigned, err := args.toTransaction()
	if err != nil {
		return common.Hash{}, err
	}
	signer := types.LatestSigner(n.chain.Config().Ethereum)
	if unlocked {
		tx, err := types.SignTx(unsigned, signer, key)
		if err != nil {
			return common.Hash{}, err
		}
		if err := n.producer.Submit(ctx, tx); err != nil {
			return common.Hash{}, err
		}
		return tx.Hash(), nil
	}
	tx, err := placeholderSigned(unsigned, signer, from)
	if err != nil {
		return common.Hash{}, err
	}
	if err := n.devOnly(); err != nil {
		return common.Hash{}, err
	}
	if err := n.seq.SubmitImpersonated(ctx, tx, from); err != nil {
		return common.Hash{}, err
	}
	return tx.Hash(), nil
}

// placeholderSigned gives an impersonated transaction a signature that
// recovers no key: r is the sender's address (so two senders' otherwise
// equal transactions differ in hash), s is 1. The sender is recorded apart.
func placeholderSigned(tx *types.Transaction, signer types.Signer, from common.Address) (*types.Transaction, error) {
	sig := make([]byte, 65)
	copy(sig[12:32], from.Bytes())
	sig[63] = 1
	return tx.WithSignature(signer, sig)
}

// fillResult is eth_fillTransaction's and eth_signTransaction's answer.
type fillResult struct {
	Raw hexutil.Bytes   `json:"raw"`
	Tx  *rpcTransaction `json:"tx"`
}

// FillTransaction is eth_fillTransaction: the defaults eth_sendTransaction
// would use, unsigned.
func (api *ethAPI) FillTransaction(ctx context.Context, args txArgs) (*fillResult, error) {
	if err := api.n.fillDefaults(ctx, &args); err != nil {
		return nil, err
	}
	tx, err := args.toTransaction()
	if err != nil {
		return nil, err
	}
	return api.n.newFillResult(tx)
}

func (n *Node) newFillResult(tx *types.Transaction) (*fillResult, error) {
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return &fillResult{Raw: raw, Tx: marshalTx(tx, nil, 0, n.chain.Senders())}, nil
}

// SignTransaction is eth_signTransaction for development accounts.
func (api *ethAPI) SignTransaction(ctx context.Context, args txArgs) (*fillResult, error) {
	if args.From == nil {
		return nil, errors.New("missing from address")
	}
	key, ok := api.n.unlocked(*args.From)
	if !ok {
		return nil, fmt.Errorf("unknown account %s", args.From.Hex())
	}
	if err := api.n.fillDefaults(ctx, &args); err != nil {
		return nil, err
	}
	unsigned, err := args.toTransaction()
	if err != nil {
		return nil, err
	}
	tx, err := types.SignTx(unsigned, types.LatestSigner(api.n.chain.Config().Ethereum), key)
	if err != nil {
		return nil, err
	}
	return api.n.newFillResult(tx)
}

// Sign is eth_sign: an EIP-191 personal message signature.
func (api *ethAPI) Sign(addr common.Address, data hexutil.Bytes) (hexutil.Bytes, error) {
	return api.n.signText(addr, data)
}

func (n *Node) signText(addr common.Address, data []byte) (hexutil.Bytes, error) {
	key, ok := n.unlocked(addr)
	if !ok {
		return nil, fmt.Errorf("unknown account %s", addr.Hex())
	}
	sig, err := crypto.Sign(accounts.TextHash(data), key)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return sig, nil
}

// SignTypedData_v4 is eth_signTypedData_v4 (EIP-712), which wallets and
// ethers' signTypedData call; the data may be an object or its JSON text.
func (api *ethAPI) SignTypedData_v4(addr common.Address, data json.RawMessage) (hexutil.Bytes, error) {
	key, ok := api.n.unlocked(addr)
	if !ok {
		return nil, fmt.Errorf("unknown account %s", addr.Hex())
	}
	var text string
	if err := json.Unmarshal(data, &text); err == nil {
		data = json.RawMessage(text)
	}
	var typed apitypes.TypedData
	if err := json.Unmarshal(data, &typed); err != nil {
		return nil, &invalidParamsError{"invalid typed data: " + err.Error()}
	}
	hash, _, err := apitypes.TypedDataAndHash(typed)
	if err != nil {
		return nil, err
	}
	sig, err := crypto.Sign(hash, key)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return sig, nil
}

// personalAPI is the personal_ namespace's signing.
type personalAPI struct{ n *Node }

// Sign is personal_sign (data first, then address).
func (api *personalAPI) Sign(data hexutil.Bytes, addr common.Address, _ *string) (hexutil.Bytes, error) {
	return api.n.signText(addr, data)
}

// ListAccounts is personal_listAccounts.
func (api *personalAPI) ListAccounts() []common.Address { return api.n.accounts() }

// fillDefaults completes transaction arguments as geth's
// eth_sendTransaction does: chain id, pending nonce, EIP-1559 fees from the
// next block's base fee, and estimated gas.
func (n *Node) fillDefaults(ctx context.Context, args *txArgs) error {
	if err := args.checkData(); err != nil {
		return err
	}
	if err := args.checkFeeStyle(); err != nil {
		return err
	}
	chainID := n.chainID()
	if args.ChainID == nil {
		args.ChainID = (*hexutil.Big)(chainID)
	} else if args.ChainID.ToInt().Cmp(chainID) != 0 {
		return fmt.Errorf("chainId does not match node's (have=%v, want=%v)", args.ChainID.ToInt(), chainID)
	}
	if args.Value == nil {
		args.Value = new(hexutil.Big)
	}
	if args.Nonce == nil {
		nonce := hexutil.Uint64(n.pendingNonce(args.from()))
		args.Nonce = &nonce
	}
	if args.GasPrice == nil {
		tip := n.suggestTip()
		if args.MaxPriorityFeePerGas == nil {
			args.MaxPriorityFeePerGas = (*hexutil.Big)(tip)
		}
		if args.MaxFeePerGas == nil {
			fee := new(big.Int).Mul(n.producer.NextBaseFee(), big.NewInt(2))
			args.MaxFeePerGas = (*hexutil.Big)(fee.Add(fee, args.MaxPriorityFeePerGas.ToInt()))
		}
		if args.MaxFeePerGas.ToInt().Cmp(args.MaxPriorityFeePerGas.ToInt()) < 0 {
			return fmt.Errorf("maxFeePerGas (%v) < maxPriorityFeePerGas (%v)", args.MaxFeePerGas, args.MaxPriorityFeePerGas)
		}
	}
	if args.Gas == nil {
		estimateArgs := *args
		gas, err := (&ethAPI{n}).EstimateGas(ctx, estimateArgs, nil, nil, nil)
		if err != nil {
			return err
		}
		args.Gas = &gas
	}
	return nil
}

var _ = rpc.LatestBlockNumber
