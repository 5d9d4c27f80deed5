package node

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/ethereum/go-ethereum/rpc"
)

// fastPathMaxBody bounds the requests the fast path reads itself.
const fastPathMaxBody = 64 << 10

// fastPath answers the one request shape that dominates a dApp test suite's
// load, a single eth_call over HTTP, on the connection's own goroutine
// (long-lived with keep-alive, so its stack is already grown), and
// hands everything else to geth's RPC server untouched. geth's server runs
// each request on a fresh goroutine whose stack then grows inside the EVM
// and decodes arguments by reflection; for eth_call that overhead is as
// large as the call itself. The answer is the same Call method's, rendered
// as geth renders it; a request the fast path is unsure of (a batch, an
// unknown shape, bad arguments) goes to geth's server, which produces the
// canonical reply or error.
func (n *Node) fastPath(next http.Handler) http.Handler {
	api := &ethAPI{n}
	// Larger bodies, and bodies over the server's limit, go to geth's
	// server, which refuses the latter.
	limit := int64(min(fastPathMaxBody, n.cfg.BodyLimit))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.ContentLength <= 0 || r.ContentLength > limit || !isJSON(r) {
			next.ServeHTTP(w, r)
			return
		}
		// Buffers are recycled: nothing keeps a body once its request is
		// answered (json.Unmarshal copies what it keeps).
		buf, _ := n.bodyBuffers.Get().(*bytes.Buffer)
		if buf == nil {
			buf = new(bytes.Buffer)
		}
		defer n.bodyBuffers.Put(buf)
		buf.Reset()
		if _, err := buf.ReadFrom(io.LimitReader(r.Body, r.ContentLength)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body := buf.Bytes()
		if !n.serveFast(api, w, r, body) {
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
		}
	})
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

type fastRequest struct {
	Version string            `json:"jsonrpc"`
	ID      json.RawMessage   `json:"id"`
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"params"`
}

type fastError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

type fastResponse struct {
	Version string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   *fastError      `json:"error"`
}

// serveFast answers body if it is a plain eth_call; false leaves the
// request to geth's server.
func (n *Node) serveFast(api *ethAPI, w http.ResponseWriter, r *http.Request, body []byte) bool {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !bytes.Contains(body, []byte(`"eth_call"`)) {
		return false
	}
	var (
		args      txArgs
		block     *rpc.BlockNumberOrHash
		overrides *stateOverride
		blockOv   *blockOverrides
	)
	// The common shape without reflection; anything else through
	// encoding/json.
	req, args, block, parsed := parseFastCall(body)
	if !parsed {
		req, args, block = fastRequest{}, txArgs{}, nil
		if err := json.Unmarshal(body, &req); err != nil {
			return false
		}
		if len(req.Params) < 1 || len(req.Params) > 4 {
			return false
		}
		targets := []any{&args, &block, &overrides, &blockOv}
		for i, p := range req.Params {
			if err := json.Unmarshal(p, targets[i]); err != nil {
				return false
			}
		}
	}
	if req.Version != "2.0" || req.Method != "eth_call" || !validID(req.ID) {
		return false
	}
	result, err := n.callRecovered(api, r, args, block, overrides, blockOv)
	var out []byte
	if err != nil {
		if out, err = json.Marshal(fastResponse{Version: "2.0", ID: req.ID, Error: toFastError(err)}); err != nil {
			return false
		}
	} else {
		// The common answer, written directly: {"jsonrpc":"2.0","id":ID,"result":"0x..."}.
		out = make([]byte, 0, 48+len(req.ID)+2*len(result))
		out = append(out, `{"jsonrpc":"2.0","id":`...)
		out = append(out, req.ID...)
		out = append(out, `,"result":"0x`...)
		out = hex.AppendEncode(out, result)
		out = append(out, `"}`...)
		out = append(out, '\n')
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
	return true
}

// validID accepts what geth accepts as a request id: a number or a string.
func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return false
	}
	switch id[0] {
	case '"':
		return true
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return !strings.ContainsAny(string(id), "{[")
	}
	return false
}

// toFastError renders err as geth's server does: its code when it has one
// (-32000 otherwise), its data when it carries some.
func toFastError(err error) *fastError {
	fe := &fastError{Code: -32000, Message: err.Error()}
	var coded rpc.Error
	if errors.As(err, &coded) {
		fe.Code = coded.ErrorCode()
	}
	var withData rpc.DataError
	if errors.As(err, &withData) {
		fe.Data = withData.ErrorData()
	}
	return fe
}

// callRecovered is api.Call with geth's server's safety net: a panic
// becomes the error geth's server would give, not a dropped connection.
func (n *Node) callRecovered(api *ethAPI, r *http.Request, args txArgs, block *rpc.BlockNumberOrHash, so *stateOverride, bo *blockOverrides) (result hexutil.Bytes, err error) {
	defer func() {
		if p := recover(); p != nil {
			n.log.Error("eth_call crashed", "panic", p, "stack", string(debug.Stack()))
			result, err = nil, errHandlerCrashed
		}
	}()
	// No request context: a client that hangs up does not stop the call,
	// which ends within callTimeout anyway.
	return api.Call(context.Background(), args, block, so, bo)
}

// errHandlerCrashed is geth's answer to a handler that panicked.
var errHandlerCrashed = &internalError{"method handler crashed"}

type internalError struct{ msg string }

func (e *internalError) Error() string  { return e.msg }
func (e *internalError) ErrorCode() int { return -32603 }
