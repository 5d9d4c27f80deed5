package vm

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
)

// The inference precompile's custom errors (IInference.sol declares the
// same). Each is returned as revert data with gethvm.ErrExecutionReverted, so
// the caller keeps its remaining gas and can try/catch and decode it.
var (
	errModelNotFound    = selector("ModelNotFound(bytes32)")
	errStaleInput       = selector("StaleInput(uint256,uint64,uint64,uint64)")
	errFutureInput      = selector("FutureInput(uint256,uint64,uint64)")
	errMissingFreshness = selector("MissingFreshness(uint256)")
	errBadInput         = selector("BadInput(string)")
	errFeedUnavailable  = selector("FeedUnavailable(address)")
	errInvalidModel     = selector("InvalidModel(string)")
)

// revert is a typed refusal: ABI-encoded custom error data.
type revert struct{ data []byte }

func (r *revert) Error() string { return fmt.Sprintf("inference: revert %x", r.data) }

func withSelector(sel [4]byte) *encoder { return &encoder{buf: append([]byte(nil), sel[:]...)} }

func modelNotFound(id common.Hash) *revert {
	return &revert{withSelector(errModelNotFound).bytes32(id).buf}
}

func staleInput(index uint64, observedAt, now, maxAge uint64) *revert {
	return &revert{withSelector(errStaleInput).uint(index).uint(observedAt).uint(now).uint(maxAge).buf}
}

func futureInput(index uint64, observedAt, now uint64) *revert {
	return &revert{withSelector(errFutureInput).uint(index).uint(observedAt).uint(now).buf}
}

func missingFreshness(index uint64) *revert {
	return &revert{withSelector(errMissingFreshness).uint(index).buf}
}

func badInput(format string, a ...any) *revert {
	return &revert{encodeString(errBadInput, fmt.Sprintf(format, a...))}
}

func feedUnavailable(feed common.Address) *revert {
	return &revert{withSelector(errFeedUnavailable).address(feed).buf}
}

func invalidModel(reason string) *revert {
	return &revert{encodeString(errInvalidModel, reason)}
}

// result turns a Run outcome into what geth expects from a precompile.
func result(out []byte, err error) ([]byte, error) {
	if r, ok := err.(*revert); ok {
		return r.data, gethvm.ErrExecutionReverted
	}
	return out, err
}
