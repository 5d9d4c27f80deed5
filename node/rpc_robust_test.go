package node

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestNoMethodPanics sends awkward arguments to every method and checks that
// none makes a handler crash (geth's server would answer "method handler
// crashed"; the eth_call fast path has no such net), and that the node
// still answers afterwards.
func TestNoMethodPanics(t *testing.T) {
	tn := newTestNode(t)
	var modules map[string]string
	tn.call(&modules, "rpc_modules")
	methods := []string{
		"eth_call", "eth_estimateGas", "eth_createAccessList", "eth_sendTransaction", "eth_fillTransaction",
		"eth_signTransaction", "eth_sign", "eth_signTypedData_v4", "eth_sendRawTransaction", "eth_sendRawTransactionSync",
		"eth_getBalance", "eth_getTransactionCount", "eth_getCode", "eth_getStorageAt", "eth_getBlockByNumber",
		"eth_getBlockByHash", "eth_getTransactionByHash", "eth_getTransactionReceipt", "eth_getBlockReceipts",
		"eth_feeHistory", "eth_getLogs", "eth_newFilter", "eth_getFilterChanges", "eth_getFilterLogs",
		"eth_uninstallFilter", "eth_getTransactionByBlockNumberAndIndex", "eth_getTransactionByBlockHashAndIndex",
		"eth_getHeaderByNumber", "eth_getRawTransactionByHash", "eth_getProof", "ots_getBlockDetails", "ots_getBlockTransactions", "ots_traceTransaction", "ots_getContractCreator", "ots_searchTransactionsBefore", "ots_searchTransactionsAfter", "ots_getTransactionBySenderAndNonce",
		"debug_traceTransaction", "debug_traceCall", "debug_traceBlockByNumber", "debug_traceBlockByHash",
		"evm_snapshot", "evm_revert", "evm_mine", "evm_increaseTime", "evm_setNextBlockTimestamp", "evm_setTime",
		"evm_setIntervalMining", "evm_setBlockGasLimit", "anvil_setBalance", "anvil_addBalance", "anvil_setCode",
		"anvil_setNonce", "anvil_setStorageAt", "anvil_impersonateAccount", "anvil_mine",
		"anvil_setNextBlockBaseFeePerGas", "anvil_setBlockGasLimit", "personal_sign", "txpool_content",
	}
	to := tn.addr(1).Hex()
	from := tn.addr(0).Hex()
	argSets := []string{
		`[]`, `[null]`, `[{}]`, `["0x"]`, `[1,2,3,4,5]`, `["latest"]`, `[true]`, `[-1]`,
		`["0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"]`,
		fmt.Sprintf(`[{"from":"%s","to":"%s","authorizationList":[]}]`, from, to),
		fmt.Sprintf(`[{"from":"%s","to":"%s","authorizationList":[{"chainId":"0x1","address":"%s","nonce":"0x0","yParity":"0x0","r":"0x1","s":"0x1"}]}]`, from, to, to),
		fmt.Sprintf(`[{"from":"%s","to":"%s","gasPrice":"0x1","authorizationList":[]}]`, from, to),
		fmt.Sprintf(`[{"from":"%s","to":"%s","maxFeePerGas":"0x1"}]`, from, to),
		fmt.Sprintf(`[{"from":"%s","to":"%s","maxPriorityFeePerGas":"0x10","maxFeePerGas":"0x1"}]`, from, to),
		fmt.Sprintf(`[{"from":"%s","to":"%s","value":"0x10000000000000000000000000000000000000000000000000000000000000000"}]`, from, to),
		fmt.Sprintf(`[{"from":"%s","blobVersionedHashes":["0x0100000000000000000000000000000000000000000000000000000000000000"]}]`, from),
		fmt.Sprintf(`[{"from":"%s","to":"%s","gas":"0xffffffffffffffff"}]`, from, to),
		fmt.Sprintf(`[{"from":"%s","to":"%s"},"latest",{"%s":{"balance":"0x-1"}}]`, from, to, to),
		fmt.Sprintf(`[{"from":"%s","to":"%s"},"latest",{"tracer":"nope"}]`, from, to),
		fmt.Sprintf(`[{"from":"%s","to":"%s"},"latest",null,{"number":"0x0","baseFeePerGas":"0x0"}]`, from, to),
		fmt.Sprintf(`["%s","0x0"]`, to), `["0x0", "latest", [1e400]]`, `["0x0", "latest", [50, 50]]`,
		`["0xffffffffffffffff", "0x1"]`, `[{"fromBlock":"0x10","toBlock":"0x1"}]`, `[{"topics":[[],[],[],[],[]]}]`,
		`["0x02f8"]`, `["0x"]`, `[{"timestamp":"0x1","blocks":"0x100000"}]`,
	}
	for _, m := range methods {
		if ns := strings.SplitN(m, "_", 2)[0]; modules[ns] == "" {
			t.Errorf("namespace %s not served", ns)
		}
		for _, args := range argSets {
			_, body := tn.post(fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":%q,"params":%s}`, m, args))
			if strings.Contains(body, "crashed") || !strings.HasPrefix(body, "{") {
				t.Errorf("%s %s: %s", m, args, body)
			}
		}
	}
	var n json.RawMessage
	tn.call(&n, "eth_blockNumber")
}
