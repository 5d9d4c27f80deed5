package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// devLock serializes the device calls of every goroutine and runs each on
// an OS thread where the device's CUDA context is current. A context is
// current per OS thread and gorgonia.org/cu's calls act on the calling
// thread's context, so a call must not move between threads halfway: do
// locks the calling goroutine to its thread for the call
// (runtime.LockOSThread), makes the context current there (device.bind:
// cuCtxSetCurrent, about 0.1 µs), runs the call, and unlocks.
//
// Why not one goroutine that owns the context and serves requests over a
// channel: handing a call to a goroutine locked to another thread and back
// costs two thread wake-ups, measured at 20-33 µs per call on a 2-core VM
// (a GPU node's whole budget is 10-30 µs); taking a mutex on the caller's
// own thread costs nothing measurable.
type devLock struct {
	mu     sync.Mutex
	bind   func() error // makes the context current on the calling thread
	closed bool
	stop   func()
}

var errClosed = errors.New("cuda: backend closed")

// startDevLock runs open (which creates the context, current on this
// thread) and returns the lock; bind is what do calls before each call,
// stop what close calls last.
func startDevLock(open func() error, bind func() error, stop func()) (*devLock, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := call(open); err != nil {
		return nil, err
	}
	return &devLock{bind: bind, stop: stop}, nil
}

// do runs fn with the device to itself, on a thread where its context is
// current, and returns fn's error.
func (l *devLock) do(fn func() error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errClosed
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := l.bind(); err != nil {
		return err
	}
	return call(fn)
}

// close runs stop after the call in flight; later calls get errClosed.
func (l *devLock) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_ = l.bind() // stop frees and destroys what it can either way
	if l.stop != nil {
		_ = call(func() error { l.stop(); return nil })
	}
}

// call runs fn, turning a panic into an error: a bug in the GPU path must
// become a fallback to the CPU, not a crash of the node.
func call(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cuda: panic in a device call: %v", r)
		}
	}()
	return fn()
}
