package node

import (
	"context"
	"errors"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/infergeth/infergeth/core"
)

// ethAPI is the eth_ namespace's chain and state reads.
type ethAPI struct{ n *Node }

// ChainId is eth_chainId.
func (api *ethAPI) ChainId() *hexutil.Big { return (*hexutil.Big)(api.n.chainID()) }

// BlockNumber is eth_blockNumber.
func (api *ethAPI) BlockNumber() hexutil.Uint64 {
	head, _ := api.n.chain.Head()
	return hexutil.Uint64(head.NumberU64())
}

// Syncing is eth_syncing: a devnet never syncs.
func (api *ethAPI) Syncing() bool { return false }

// Mining is eth_mining.
func (api *ethAPI) Mining() bool { return true }

// Hashrate is eth_hashrate.
func (api *ethAPI) Hashrate() hexutil.Uint64 { return 0 }

// Coinbase is eth_coinbase: the fee recipient.
func (api *ethAPI) Coinbase() common.Address { return common.Address{} }

// Accounts is eth_accounts: the development accounts.
func (api *ethAPI) Accounts() []common.Address { return api.n.accounts() }

// GetBalance is eth_getBalance.
func (api *ethAPI) GetBalance(address common.Address, block *rpc.BlockNumberOrHash) (*hexutil.Big, error) {
	st, _, err := api.n.stateAt(orLatest(block))
	if err != nil {
		return nil, err
	}
	return (*hexutil.Big)(st.GetBalance(address).ToBig()), st.Error()
}

// GetTransactionCount is eth_getTransactionCount; "pending" counts pooled
// transactions.
func (api *ethAPI) GetTransactionCount(address common.Address, block *rpc.BlockNumberOrHash) (*hexutil.Uint64, error) {
	bnh := orLatest(block)
	if number, ok := bnh.Number(); ok && number == rpc.PendingBlockNumber {
		nonce := api.n.pendingNonce(address)
		return (*hexutil.Uint64)(&nonce), nil
	}
	st, _, err := api.n.stateAt(bnh)
	if err != nil {
		return nil, err
	}
	nonce := st.GetNonce(address)
	return (*hexutil.Uint64)(&nonce), st.Error()
}

// GetCode is eth_getCode.
func (api *ethAPI) GetCode(address common.Address, block *rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	st, _, err := api.n.stateAt(orLatest(block))
	if err != nil {
		return nil, err
	}
	code := st.GetCode(address)
	if code == nil {
		code = []byte{}
	}
	return code, st.Error()
}

// GetStorageAt is eth_getStorageAt; the slot is a hex quantity or 32 bytes.
func (api *ethAPI) GetStorageAt(address common.Address, slot string, block *rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	key, err := decodeSlot(slot)
	if err != nil {
		return nil, &invalidParamsError{"unable to decode storage key: " + err.Error()}
	}
	st, _, err := api.n.stateAt(orLatest(block))
	if err != nil {
		return nil, err
	}
	v := st.GetState(address, key)
	return v[:], st.Error()
}

// decodeSlot accepts geth's storage key forms: hex of at most 32 bytes,
// odd length allowed, left-padded.
func decodeSlot(s string) (common.Hash, error) {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	if len(s) > 64 {
		return common.Hash{}, errors.New("hex string too long, want at most 32 bytes")
	}
	if len(s)%2 == 1 {
		s = "0" + s
	}
	b, err := hexutil.Decode("0x" + s)
	if err != nil && s != "" {
		return common.Hash{}, err
	}
	return common.BytesToHash(b), nil
}

// GetBlockByNumber is eth_getBlockByNumber; null for an unknown block.
func (api *ethAPI) GetBlockByNumber(number rpc.BlockNumber, fullTx *bool) (*rpcBlock, error) {
	b := api.n.blockByNumber(number)
	if b == nil {
		return nil, nil
	}
	return marshalBlock(b, fullTx != nil && *fullTx, api.n.chain.Senders()), nil
}

// GetBlockByHash is eth_getBlockByHash.
func (api *ethAPI) GetBlockByHash(hash common.Hash, fullTx *bool) (*rpcBlock, error) {
	b := api.n.chain.BlockByHash(hash)
	if b == nil {
		return nil, nil
	}
	return marshalBlock(b, fullTx != nil && *fullTx, api.n.chain.Senders()), nil
}

// GetHeaderByNumber is eth_getHeaderByNumber.
func (api *ethAPI) GetHeaderByNumber(number rpc.BlockNumber) (*rpcHeader, error) {
	b := api.n.blockByNumber(number)
	if b == nil {
		return nil, nil
	}
	return marshalHeader(b.Header()), nil
}

// GetHeaderByHash is eth_getHeaderByHash.
func (api *ethAPI) GetHeaderByHash(hash common.Hash) *rpcHeader {
	h := api.n.chain.HeaderByHash(hash)
	if h == nil {
		return nil
	}
	return marshalHeader(h)
}

// GetBlockTransactionCountByNumber is eth_getBlockTransactionCountByNumber.
func (api *ethAPI) GetBlockTransactionCountByNumber(number rpc.BlockNumber) *hexutil.Uint {
	b := api.n.blockByNumber(number)
	if b == nil {
		return nil
	}
	c := hexutil.Uint(len(b.Transactions()))
	return &c
}

// GetBlockTransactionCountByHash is eth_getBlockTransactionCountByHash.
func (api *ethAPI) GetBlockTransactionCountByHash(hash common.Hash) *hexutil.Uint {
	b := api.n.chain.BlockByHash(hash)
	if b == nil {
		return nil
	}
	c := hexutil.Uint(len(b.Transactions()))
	return &c
}

// GetUncleCountByBlockNumber is eth_getUncleCountByBlockNumber: always 0.
func (api *ethAPI) GetUncleCountByBlockNumber(number rpc.BlockNumber) *hexutil.Uint {
	if api.n.blockByNumber(number) == nil {
		return nil
	}
	zero := hexutil.Uint(0)
	return &zero
}

// GetUncleCountByBlockHash is eth_getUncleCountByBlockHash: always 0.
func (api *ethAPI) GetUncleCountByBlockHash(hash common.Hash) *hexutil.Uint {
	if api.n.chain.BlockByHash(hash) == nil {
		return nil
	}
	zero := hexutil.Uint(0)
	return &zero
}

// GetUncleByBlockNumberAndIndex is eth_getUncleByBlockNumberAndIndex: null.
func (api *ethAPI) GetUncleByBlockNumberAndIndex(rpc.BlockNumber, hexutil.Uint) map[string]any {
	return nil
}

// GetTransactionByHash is eth_getTransactionByHash; pooled transactions
// are shown without a block.
func (api *ethAPI) GetTransactionByHash(hash common.Hash) *rpcTransaction {
	tx, block, index, err := api.n.chain.Transaction(hash)
	if err == nil {
		return marshalTx(tx, block, uint64(index), api.n.chain.Senders())
	}
	if tx := api.n.pool.Get(hash); tx != nil {
		return marshalTx(tx, nil, 0, api.n.chain.Senders())
	}
	return nil
}

// GetRawTransactionByHash is eth_getRawTransactionByHash.
func (api *ethAPI) GetRawTransactionByHash(hash common.Hash) (hexutil.Bytes, error) {
	tx, _, _, err := api.n.chain.Transaction(hash)
	if err != nil {
		if tx = api.n.pool.Get(hash); tx == nil {
			return nil, nil
		}
	}
	return tx.MarshalBinary()
}

// GetTransactionByBlockNumberAndIndex is eth_getTransactionByBlockNumberAndIndex.
func (api *ethAPI) GetTransactionByBlockNumberAndIndex(number rpc.BlockNumber, index hexutil.Uint) *rpcTransaction {
	return api.txAt(api.n.blockByNumber(number), index)
}

// GetTransactionByBlockHashAndIndex is eth_getTransactionByBlockHashAndIndex.
func (api *ethAPI) GetTransactionByBlockHashAndIndex(hash common.Hash, index hexutil.Uint) *rpcTransaction {
	return api.txAt(api.n.chain.BlockByHash(hash), index)
}

func (api *ethAPI) txAt(b *types.Block, index hexutil.Uint) *rpcTransaction {
	if b == nil || int(index) >= len(b.Transactions()) {
		return nil
	}
	return marshalTx(b.Transactions()[index], b, uint64(index), api.n.chain.Senders())
}

// GetTransactionReceipt is eth_getTransactionReceipt; null until mined.
func (api *ethAPI) GetTransactionReceipt(hash common.Hash) (*rpcReceipt, error) {
	r, block, err := api.n.chain.Receipt(hash)
	if errors.Is(err, core.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return marshalReceipt(r, block.Transactions()[r.TransactionIndex], api.n.chain.Senders()), nil
}

// GetBlockReceipts is eth_getBlockReceipts.
func (api *ethAPI) GetBlockReceipts(block rpc.BlockNumberOrHash) ([]*rpcReceipt, error) {
	b, err := api.n.blockByNumberOrHash(block)
	if b == nil || err != nil {
		return nil, err
	}
	receipts, err := api.n.chain.Receipts(b.Hash())
	if err != nil {
		return nil, err
	}
	out := make([]*rpcReceipt, len(receipts))
	for i, r := range receipts {
		out[i] = marshalReceipt(r, b.Transactions()[i], api.n.chain.Senders())
	}
	return out, nil
}

// GetProof is not served: the devnet keeps no proofs API.

// pendingNonce is the next nonce of addr counting pooled transactions and
// impersonated ones waiting for the next block.
func (n *Node) pendingNonce(addr common.Address) uint64 {
	nonce := n.pool.Nonce(addr)
	if n.seq == nil {
		return nonce
	}
	if forced, ok := n.seq.ForcedNonce(addr); ok && forced > nonce {
		nonce = forced
	}
	return nonce
}

// invalidParamsError is JSON-RPC's -32602.
type invalidParamsError struct{ msg string }

func (e *invalidParamsError) Error() string  { return e.msg }
func (e *invalidParamsError) ErrorCode() int { return -32602 }

var _ = context.Background
