package cuda

import "errors"

// devPtr is an address in device memory.
type devPtr uint64

// device is what the executor needs from a GPU: memory, copies and kernel
// launches on one stream, in order. The cuda build's implementation goes
// through gorgonia.org/cu (cu.go); the cudaemu build's runs the kernels'
// source on the CPU (emu.go); tests use a model in Go. Every method is
// called under the device lock (devlock.go), after bind.
type device interface {
	// bind makes the device's context current on the calling OS thread.
	bind() error
	// alloc returns n bytes of device memory, 256-byte aligned, or an error
	// matching errOutOfMemory when the device has no room.
	alloc(n int) (devPtr, error)
	free(p devPtr) error
	// upload copies src to dst; it may return before the copy is done, but
	// src may be reused at once.
	upload(dst devPtr, src []byte) error
	// download waits for every earlier launch and copies src to dst.
	download(dst []byte, src devPtr) error
	launch(l launchSpec) error
	close()
}

// DeviceInfo describes the GPU a Backend runs on.
type DeviceInfo struct {
	Name         string
	Major, Minor int // compute capability
	TotalMemory  int64
	FreeMemory   int64  // when the backend started
	Kernels      string // which PTX was loaded, and the nvcc that made it
}

var (
	// errOutOfMemory: the device had no room for an allocation, even after
	// the weight cache gave back what it could. The node runs on the CPU;
	// the device stays in use.
	errOutOfMemory = errors.New("cuda: out of device memory")
	// errOverBudget: a node's weights do not fit the weight budget.
	errOverBudget = errors.New("cuda: weights exceed the weight budget")
	// errDisabled: an earlier device fault took the GPU out of use.
	errDisabled = errors.New("cuda: device disabled after a fault")
)

// transient reports whether a failed GPU call leaves the device usable:
// running out of memory is; any other driver error (a launch failure, an
// illegal address, a lost device) may have broken the context, so the
// backend stops using the device.
func transient(err error) bool {
	return errors.Is(err, errOutOfMemory) || errors.Is(err, errOverBudget)
}
