package node

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestOtterscan: the ots_ methods Otterscan calls, on a factory that
// creates a child with value, and on a reverting transaction.
func TestOtterscan(t *testing.T) {
	tn := newTestNode(t)
	var level uint64
	tn.call(&level, "ots_getApiLevel")
	if level != 8 {
		t.Fatalf("api level %d", level)
	}
	// factory: CREATE(value 1, empty init code); every call makes a child.
	factory := tn.deploy(initCode(common.FromHex("0x600060006001f000")))
	tx := tn.signed(0, 1, &factory, big.NewInt(5), 200_000, nil)
	tn.mustSend(tx)
	child := crypto.CreateAddress(factory, 1)

	var ops []struct {
		Type  int            `json:"type"`
		From  common.Address `json:"from"`
		To    common.Address `json:"to"`
		Value hexutil.Big    `json:"value"`
	}
	tn.call(&ops, "ots_getInternalOperations", tx.Hash())
	if len(ops) != 1 || ops[0].Type != 2 || ops[0].From != factory || ops[0].To != child || ops[0].Value.ToInt().Int64() != 1 {
		t.Fatalf("internal operations %+v", ops)
	}
	var trace []struct {
		Type  string       `json:"type"`
		Depth int          `json:"depth"`
		Value *hexutil.Big `json:"value"`
	}
	tn.call(&trace, "ots_traceTransaction", tx.Hash())
	if len(trace) != 2 || trace[0].Type != "CALL" || trace[0].Depth != 0 || trace[1].Type != "CREATE" || trace[1].Depth != 1 {
		t.Fatalf("trace %+v", trace)
	}
	var creator struct {
		Hash    common.Hash    `json:"hash"`
		Creator common.Address `json:"creator"`
	}
	tn.call(&creator, "ots_getContractCreator", factory)
	if creator.Creator != tn.addr(0) {
		t.Fatalf("factory creator %+v", creator)
	}
	var hash *common.Hash
	tn.call(&hash, "ots_getTransactionBySenderAndNonce", tn.addr(0), 1)
	if hash == nil || *hash != tx.Hash() {
		t.Fatalf("sender and nonce: %v", hash)
	}
	tn.call(&hash, "ots_getTransactionBySenderAndNonce", tn.addr(0), 9)
	if hash != nil {
		t.Fatalf("future nonce: %v", hash)
	}

	reverter := tn.deploy(initCode(reverterCode))
	bad := tn.signed(0, 3, &reverter, nil, 100_000, nil)
	tn.mustSend(bad)
	var revert hexutil.Bytes
	tn.call(&revert, "ots_getTransactionError", bad.Hash())
	if len(revert) != 100 || hexutil.Encode(revert[:4]) != "0x08c379a0" {
		t.Fatalf("transaction error %x", revert)
	}
	tn.call(&revert, "ots_getTransactionError", tx.Hash())
	if len(revert) != 0 {
		t.Fatalf("successful transaction error %x", revert)
	}

	var details struct {
		Block struct {
			TransactionCount hexutil.Uint64 `json:"transactionCount"`
			Transactions     []any          `json:"transactions"`
		} `json:"block"`
		TotalFees *hexutil.Big `json:"totalFees"`
	}
	tn.call(&details, "ots_getBlockDetails", 2)
	if details.Block.TransactionCount != 1 || len(details.Block.Transactions) != 0 || details.TotalFees.ToInt().Sign() <= 0 {
		t.Fatalf("block details %+v", details)
	}
	var page struct {
		FullBlock struct {
			Transactions []struct {
				Hash common.Hash `json:"hash"`
			} `json:"transactions"`
		} `json:"fullblock"`
		Receipts []struct {
			Timestamp hexutil.Uint64 `json:"timestamp"`
		} `json:"receipts"`
	}
	tn.call(&page, "ots_getBlockTransactions", 2, 0, 25)
	if len(page.FullBlock.Transactions) != 1 || page.FullBlock.Transactions[0].Hash != tx.Hash() || page.Receipts[0].Timestamp == 0 {
		t.Fatalf("block transactions %+v", page)
	}
	var search struct {
		Txs []struct {
			Hash common.Hash `json:"hash"`
		} `json:"txs"`
		FirstPage bool `json:"firstPage"`
		LastPage  bool `json:"lastPage"`
	}
	tn.call(&search, "ots_searchTransactionsBefore", factory, 0, 25)
	if len(search.Txs) != 2 || search.Txs[0].Hash != tx.Hash() || !search.FirstPage || !search.LastPage {
		t.Fatalf("search before %+v", search)
	}
	tn.call(&search, "ots_searchTransactionsAfter", tn.addr(0), 0, 2)
	if len(search.Txs) != 2 || search.Txs[1].Hash == bad.Hash() {
		t.Fatalf("search after %+v", search)
	}
	var hasCode bool
	tn.call(&hasCode, "ots_hasCode", factory, "latest")
	if !hasCode {
		t.Fatal("ots_hasCode")
	}
	var header map[string]any
	tn.call(&header, "erigon_getHeaderByNumber", "latest")
	if header["hash"] == nil {
		t.Fatalf("erigon header %v", header)
	}
}
