package node

import "runtime"

// evmStackBytes is about the goroutine stack an EVM call needs.
const evmStackBytes = 64 << 10

// growStack grows the calling goroutine's stack to hold an EVM call in one
// step. geth's RPC server runs every request on a fresh goroutine, whose
// small stack would otherwise double three or four times inside the
// interpreter, each time copying and re-adjusting every frame above it:
// measurable at thousands of eth_calls a second. Growing here, near the
// top of the stack, copies only the few frames of the RPC dispatch.
//
//go:noinline
func growStack() {
	var pad [evmStackBytes]byte
	runtime.KeepAlive(&pad)
}
