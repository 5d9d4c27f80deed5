package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// worker is the one goroutine that talks to the device. A CUDA context is
// current on one OS thread at a time, and gorgonia.org/cu's calls act on
// the calling thread's context, so the worker locks itself to its thread
// for its whole life, creates the context there, and runs every device
// call that any goroutine asks for, one at a time, in arrival order. Many
// goroutines may call do at once.
type worker struct {
	reqs      chan workItem
	quit      chan struct{}
	closeOnce sync.Once
	done      chan struct{} // closed when the worker has stopped
}

type workItem struct {
	fn   func() error
	errc chan error
}

var errWorkerClosed = errors.New("cuda: worker closed")

// startWorker starts the worker and runs open on it first; open's error
// stops the worker and is returned. cleanup runs on the worker when it
// closes.
func startWorker(open func() error, cleanup func()) (*worker, error) {
	w := &worker{reqs: make(chan workItem), quit: make(chan struct{}), done: make(chan struct{})}
	opened := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		defer close(w.done)
		if err := call(open); err != nil {
			opened <- err
			return
		}
		opened <- nil
		for {
			select {
			case it := <-w.reqs:
				it.errc <- call(it.fn)
			case <-w.quit:
				if cleanup != nil {
					_ = call(func() error { cleanup(); return nil })
				}
				return
			}
		}
	}()
	if err := <-opened; err != nil {
		return nil, err
	}
	return w, nil
}

// do runs fn on the worker's thread and returns its error.
func (w *worker) do(fn func() error) error {
	it := workItem{fn: fn, errc: make(chan error, 1)}
	select {
	case w.reqs <- it:
	case <-w.done:
		return errWorkerClosed
	}
	return <-it.errc
}

// close stops the worker after the calls in flight.
func (w *worker) close() {
	w.closeOnce.Do(func() { close(w.quit) })
	<-w.done
}

// call runs fn, turning a panic into an error: a bug in the GPU path must
// become a fallback to the CPU, not a crash of the node.
func call(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cuda: panic on the device worker: %v", r)
		}
	}()
	return fn()
}
