package node

import (
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/infergeth/infergeth/contracts"
)

// describeCustomError names revert data that is one of the custom errors of
// the inference precompile, the model registry or the SDK's codec, with its
// arguments as Solidity would write them: `StaleInput(1, 1700000000,
// 1700000100, 60)`. The errors come from their ABI (contracts.ErrorsABI,
// generated from the Solidity sources), so a new error is named without a
// change here. ok is false for data that is none of them or does not decode.
func describeCustomError(data []byte) (desc string, ok bool) {
	// Revert data is anyone's bytes: a decoder surprise leaves the message
	// plain instead of taking the node down.
	defer func() {
		if recover() != nil {
			desc, ok = "", false
		}
	}()
	if len(data) < 4 {
		return "", false
	}
	errs, err := contracts.ErrorsABI()
	if err != nil {
		return "", false
	}
	e, err := errs.ErrorByID([4]byte(data[:4]))
	if err != nil {
		return "", false
	}
	values, err := e.Inputs.Unpack(data[4:])
	if err != nil || len(values) != len(e.Inputs) {
		return "", false
	}
	args := make([]string, len(values))
	for i, v := range values {
		args[i] = formatABIValue(e.Inputs[i].Type, v)
	}
	return e.Name + "(" + strings.Join(args, ", ") + ")", true
}

// formatABIValue writes one decoded argument: integers in decimal,
// addresses checksummed, fixed and dynamic bytes in 0x hex, strings quoted.
func formatABIValue(t abi.Type, v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case common.Address:
		return x.Hex()
	case []byte:
		return hexutil.Encode(x)
	case *big.Int:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	if t.T == abi.FixedBytesTy {
		if b, ok := fixedBytes(v); ok {
			return hexutil.Encode(b)
		}
	}
	return fmt.Sprint(v)
}

// fixedBytes reads a bytesN value, which geth's decoder returns as [N]byte.
func fixedBytes(v any) ([]byte, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Array || rv.Type().Elem().Kind() != reflect.Uint8 {
		return nil, false
	}
	b := make([]byte, rv.Len())
	reflect.Copy(reflect.ValueOf(b), rv)
	return b, true
}
