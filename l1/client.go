package l1

import (
	"context"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Client is what the L1 components need of an L1 node: geth's
// ethclient.Client over JSON-RPC, or its ethclient/simulated backend in
// unit tests.
type Client interface {
	ChainID(ctx context.Context) (*big.Int, error)
	BlockNumber(ctx context.Context) (uint64, error)
	BlockByNumber(ctx context.Context, number *big.Int) (*types.Block, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	TransactionReceipt(ctx context.Context, hash common.Hash) (*types.Receipt, error)
	NonceAt(ctx context.Context, account common.Address, block *big.Int) (uint64, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	EstimateGas(ctx context.Context, msg ethereum.CallMsg) (uint64, error)
	CallContract(ctx context.Context, msg ethereum.CallMsg, block *big.Int) ([]byte, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
}

// InboxFor is the default batch inbox of an L2 chain: OP's convention of
// 0xff00..00 followed by the chain id, an address nobody holds a key for.
func InboxFor(l2ChainID uint64) common.Address {
	var a common.Address
	a[0] = 0xff
	for i := 0; i < 8; i++ {
		a[19-i] = byte(l2ChainID >> (8 * i))
	}
	return a
}
