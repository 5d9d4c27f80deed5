package node

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// txpoolAPI is the txpool_ namespace.
type txpoolAPI struct{ n *Node }

// Content is txpool_content.
func (api *txpoolAPI) Content() map[string]map[string]map[string]*rpcTransaction {
	pending, queued := api.n.pool.Content()
	render := func(m map[common.Address][]*types.Transaction) map[string]map[string]*rpcTransaction {
		out := make(map[string]map[string]*rpcTransaction, len(m))
		for addr, txs := range m {
			byNonce := make(map[string]*rpcTransaction, len(txs))
			for _, tx := range txs {
				byNonce[fmt.Sprint(tx.Nonce())] = marshalTx(tx, nil, 0, api.n.chain.Senders())
			}
			out[addr.Hex()] = byNonce
		}
		return out
	}
	return map[string]map[string]map[string]*rpcTransaction{"pending": render(pending), "queued": render(queued)}
}

// Status is txpool_status.
func (api *txpoolAPI) Status() map[string]hexutil.Uint {
	pending, queued := api.n.pool.Content()
	count := func(m map[common.Address][]*types.Transaction) (c int) {
		for _, txs := range m {
			c += len(txs)
		}
		return
	}
	return map[string]hexutil.Uint{"pending": hexutil.Uint(count(pending)), "queued": hexutil.Uint(count(queued))}
}
