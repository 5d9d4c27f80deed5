package node

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/rpc"
)

// slowParse is what the fast path does without parseFastCall.
func slowParse(body []byte) (fastRequest, txArgs, *rpc.BlockNumberOrHash, error) {
	var req fastRequest
	var args txArgs
	var block *rpc.BlockNumberOrHash
	if err := json.Unmarshal(body, &req); err != nil {
		return req, args, nil, err
	}
	if len(req.Params) < 1 || len(req.Params) > 2 {
		return req, args, nil, fmt.Errorf("params %d", len(req.Params))
	}
	if err := json.Unmarshal(req.Params[0], &args); err != nil {
		return req, args, nil, err
	}
	if len(req.Params) == 2 {
		if err := json.Unmarshal(req.Params[1], &block); err != nil {
			return req, args, nil, err
		}
	}
	return req, args, block, nil
}

var fastCallCorpus = []string{
	`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x5FbDB2315678afecb367f032d93F642f64180aa3","data":"0x2e64cec1"},"latest"]}`,
	` { "jsonrpc" : "2.0" , "id" : "abc" , "method" : "eth_call" , "params" : [ { "from" : "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" , "to" : "0x5FbDB2315678afecb367f032d93F642f64180aa3" } ] } `,
	`{"method":"eth_call","params":[{"to":"0x5FbDB2315678afecb367f032d93F642f64180aa3","gas":"0x5208","gasPrice":"0x1","value":"0x0","nonce":"0x7","input":"0x"}, "0x10"],"id":0,"jsonrpc":"2.0"}`,
	`{"jsonrpc":"2.0","id":2,"method":"eth_call","params":[{"to":"0X5FBDB2315678AFECB367F032D93F642F64180AA3","maxFeePerGas":"0xff","maxPriorityFeePerGas":"0X1"},"pending"]}`,
	`{"jsonrpc":"2.0","id":3,"method":"eth_call","params":[{},"0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]}`,
	`{"jsonrpc":"2.0","id":4,"method":"eth_call","params":[{"data":"0x01","data":"0x02"}]}`,
	// Shapes the fast parser must leave to encoding/json (or refuse with it).
	`{"jsonrpc":"2.0","id":5,"method":"eth_call","params":[{"to":"0x5FbDB2315678afecb367f032d93F642f64180aa"}]}`,
	`{"jsonrpc":"2.0","id":6,"method":"eth_call","params":[{"gas":"0x01"}]}`,
	`{"jsonrpc":"2.0","id":7,"method":"eth_call","params":[{"gas":"0x"}]}`,
	`{"jsonrpc":"2.0","id":8,"method":"eth_call","params":[{"data":"0x123"}]}`,
	`{"jsonrpc":"2.0","id":9,"method":"eth_call","params":[{"data":"12"}]}`,
	`{"jsonrpc":"2.0","id":10,"method":"eth_call","params":[{"value":"0x10000000000000000000000000000000000000000000000000000000000000000"}]}`,
	`{"jsonrpc":"2.0","id":11,"method":"eth_call","params":[{"To":"0x5FbDB2315678afecb367f032d93F642f64180aa3"}]}`,
	`{"jsonrpc":"2.0","id":12,"method":"eth_call","params":[{"to":null}]}`,
	`{"jsonrpc":"2.0","id":13,"method":"eth_call","params":[{"to":"0x5FbDB2315678afecb367f032d93F642f64180aa3"},"bogus"]}`,
	`{"jsonrpc":"2.0","id":14,"method":"eth_call","params":[{"data":"0x\u0030"}]}`,
	`{"jsonrpc":"2.0","id":15,"method":"eth_call","params":[{"gas":"0xffffffffffffffffff"}]}`,
	`{"jsonrpc":"2.0","id":-1,"method":"eth_call","params":[{}]}`,
	`{"jsonrpc":"2.0","id":01,"method":"eth_call","params":[{}]}`,
	`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{}]} x`,
	`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{},"latest",{}]}`,
	`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{}],"params":[{"to":"0x5FbDB2315678afecb367f032d93F642f64180aa3"}]}`,
	`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"accessList":[]}]}`,
	`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[]}`,
	`{"jsonrpc":"2.0","id":1,"method":"eth_call"}`,
	`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"gas":5}]}`,
	`{`, `[]`, `{}`, `{"jsonrpc":"2.0"`,
}

// TestParseFastCallAgreesWithEncodingJSON: wherever the fast parser
// accepts a request, encoding/json accepts it too and reads the same.
func TestParseFastCallAgreesWithEncodingJSON(t *testing.T) {
	accepted := 0
	for _, body := range fastCallCorpus {
		checkFastCall(t, []byte(body))
		if _, _, _, ok := parseFastCall([]byte(body)); ok {
			accepted++
		}
	}
	if accepted < 6 {
		t.Fatalf("the fast parser accepted only %d of the common shapes", accepted)
	}
}

func checkFastCall(t *testing.T, body []byte) {
	t.Helper()
	req, args, block, ok := parseFastCall(body)
	if !ok {
		return
	}
	sreq, sargs, sblock, err := slowParse(body)
	if err != nil {
		t.Fatalf("%s: fast parser accepted what encoding/json refuses: %v", body, err)
	}
	if req.Version != sreq.Version || req.Method != sreq.Method || string(req.ID) != string(sreq.ID) {
		t.Fatalf("%s: envelope %+v, encoding/json %+v", body, req, sreq)
	}
	if !reflect.DeepEqual(args, sargs) || !reflect.DeepEqual(block, sblock) {
		t.Fatalf("%s: args %+v block %v, encoding/json %+v %v", body, args, block, sargs, sblock)
	}
}

func FuzzParseFastCall(f *testing.F) {
	for _, body := range fastCallCorpus {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastCall(t, body)
	})
}
