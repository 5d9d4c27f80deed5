package node

import (
	"bytes"
	"encoding/hex"
	"errors"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// parseFastCall reads the common shape of an eth_call request without
// reflection: an object with "jsonrpc", "id", "method" and "params", whose
// params are a call object with string fields among from, to, gas,
// gasPrice, maxFeePerGas, maxPriorityFeePerGas, value, nonce, data and
// input, optionally followed by a block given as a string. Anything else
// (escapes, other keys, nulls, overrides, odd whitespace or values)
// returns ok=false and the caller decodes with encoding/json, so this
// parser never accepts what encoding/json would refuse, nor reads
// anything differently: fastjson_test.go checks it against json.Unmarshal.
func parseFastCall(body []byte) (req fastRequest, args txArgs, block *rpc.BlockNumberOrHash, ok bool) {
	p := &jsonScanner{buf: body}
	if !p.consume('{') {
		return req, args, nil, false
	}
	var params []byte
	for first := true; ; first = false {
		if p.consume('}') {
			if first {
				return req, args, nil, false
			}
			break
		}
		if !first && !p.consume(',') {
			return req, args, nil, false
		}
		key, ok := p.str()
		if !ok || !p.consume(':') {
			return req, args, nil, false
		}
		switch string(key) {
		case "jsonrpc":
			v, ok := p.str()
			if !ok {
				return req, args, nil, false
			}
			req.Version = string(v)
		case "method":
			v, ok := p.str()
			if !ok {
				return req, args, nil, false
			}
			req.Method = string(v)
		case "id":
			v, ok := p.scalar()
			if !ok {
				return req, args, nil, false
			}
			req.ID = append(req.ID[:0], v...)
		case "params":
			if params != nil {
				return req, args, nil, false // a repeated key: encoding/json keeps the last
			}
			start := p.pos
			if !p.consume('[') {
				return req, args, nil, false
			}
			if !p.callObject(&args) {
				return req, args, nil, false
			}
			if p.consume(',') {
				v, ok := p.str()
				if !ok {
					return req, args, nil, false
				}
				var bnh rpc.BlockNumberOrHash
				quoted := append(append([]byte{'"'}, v...), '"')
				if err := bnh.UnmarshalJSON(quoted); err != nil {
					return req, args, nil, false
				}
				block = &bnh
			}
			if !p.consume(']') {
				return req, args, nil, false
			}
			params = body[start:p.pos]
		default:
			return req, args, nil, false
		}
	}
	p.skipSpace()
	if p.pos != len(body) || params == nil {
		return req, args, nil, false
	}
	return req, args, block, true
}

// jsonScanner walks a JSON text; every method skips leading whitespace
// and reports false on anything it does not handle.
type jsonScanner struct {
	buf []byte
	pos int
}

func (p *jsonScanner) skipSpace() {
	for p.pos < len(p.buf) {
		switch p.buf[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonScanner) consume(c byte) bool {
	p.skipSpace()
	if p.pos < len(p.buf) && p.buf[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// str reads a string without escapes or control characters.
func (p *jsonScanner) str() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	end := bytes.IndexByte(p.buf[p.pos:], '"')
	if end < 0 {
		return nil, false
	}
	s := p.buf[p.pos : p.pos+end]
	for _, c := range s {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, false
		}
	}
	p.pos += end + 1
	return s, true
}

// scalar reads a string (with its quotes) or a plain decimal integer, as
// a request id.
func (p *jsonScanner) scalar() ([]byte, bool) {
	p.skipSpace()
	start := p.pos
	if p.pos < len(p.buf) && p.buf[p.pos] == '"' {
		if _, ok := p.str(); !ok {
			return nil, false
		}
		return p.buf[start:p.pos], true
	}
	for p.pos < len(p.buf) && p.buf[p.pos] >= '0' && p.buf[p.pos] <= '9' {
		p.pos++
	}
	n := p.pos - start
	if n == 0 || n > 18 || (n > 1 && p.buf[start] == '0') {
		return nil, false
	}
	return p.buf[start:p.pos], true
}

var errFastField = errors.New("field not handled by the fast parser")

// callObject reads the call object into args.
func (p *jsonScanner) callObject(args *txArgs) bool {
	if !p.consume('{') {
		return false
	}
	for first := true; ; first = false {
		if p.consume('}') {
			return true
		}
		if !first && !p.consume(',') {
			return false
		}
		key, ok := p.str()
		if !ok || !p.consume(':') {
			return false
		}
		v, ok := p.str()
		if !ok || setCallField(args, string(key), string(v)) != nil {
			return false
		}
	}
}

// setCallField decodes one field as encoding/json would into txArgs.
func setCallField(args *txArgs, key, v string) error {
	switch key {
	case "from", "to":
		addr, err := decodeAddress(v)
		if err != nil {
			return err
		}
		if key == "from" {
			args.From = &addr
		} else {
			args.To = &addr
		}
	case "gas", "nonce":
		n, err := hexutil.DecodeUint64(v)
		if err != nil {
			return err
		}
		u := hexutil.Uint64(n)
		if key == "gas" {
			args.Gas = &u
		} else {
			args.Nonce = &u
		}
	case "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value":
		b, err := hexutil.DecodeBig(v)
		if err != nil {
			return err
		}
		h := (*hexutil.Big)(b)
		switch key {
		case "gasPrice":
			args.GasPrice = h
		case "maxFeePerGas":
			args.MaxFeePerGas = h
		case "maxPriorityFeePerGas":
			args.MaxPriorityFeePerGas = h
		default:
			args.Value = h
		}
	case "data", "input":
		b, err := hexutil.Decode(v)
		if err != nil {
			return err
		}
		hb := hexutil.Bytes(b)
		if key == "data" {
			args.Data = &hb
		} else {
			args.Input = &hb
		}
	default:
		return errFastField
	}
	return nil
}

// decodeAddress is common.Address's JSON rule: 0x and exactly 40 hex digits.
func decodeAddress(s string) (common.Address, error) {
	var a common.Address
	if len(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return a, errFastField
	}
	if _, err := hex.Decode(a[:], []byte(s[2:])); err != nil {
		return a, err
	}
	return a, nil
}
