//go:build cudaemu && !cuda

package cuda

/*
#cgo CXXFLAGS: -std=c++20 -O2 -pthread
#cgo LDFLAGS: -pthread
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int ig_emu_launch(int kernel, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                  unsigned bz, const uint64_t* args, int lazy);

static uint64_t emu_alloc(size_t n) {
	void* p = aligned_alloc(256, (n + 255) / 256 * 256);
	if (p) memset(p, 0xA5, (n + 255) / 256 * 256); // device memory starts as junk
	return (uint64_t)(uintptr_t)p;
}
static void emu_free(uint64_t p) { free((void*)(uintptr_t)p); }
static void emu_in(uint64_t dst, const void* src, size_t n) { memcpy((void*)(uintptr_t)dst, src, n); }
static void emu_out(void* dst, uint64_t src, size_t n) { memcpy(dst, (const void*)(uintptr_t)src, n); }
*/
import "C"

import (
	"embed"
	"fmt"
	"unsafe"
)

// The go command does not track files that emu.cc #includes from another
// folder; embedding them makes every edit of the kernels rebuild emu.cc.
//
//go:embed kernels/infergeth.cu kernels/prims.cuh kernels/emu.h
var _ embed.FS

// NewEmulated starts a Backend whose device runs the kernels' CUDA source
// on the CPU (kernels/emu.h): slow, for tests on machines without a GPU.
// capacity is the emulated device memory.
func NewEmulated(cfg Config, capacity int64) (*Backend, error) {
	return newBackend(cfg, func() (device, DeviceInfo, error) {
		d := &emuDevice{lazy: cfg.lazyCopies, capacity: capacity, sizes: map[devPtr]int64{}}
		return d, DeviceInfo{Name: "emulator", Major: 9, TotalMemory: capacity, FreeMemory: capacity, Kernels: "kernels/infergeth.cu on the CPU"}, nil
	})
}

type emuDevice struct {
	lazy     bool
	capacity int64
	used     int64
	sizes    map[devPtr]int64
}

func (d *emuDevice) bind() error { return nil }

func (d *emuDevice) alloc(n int) (devPtr, error) {
	size := int64(roundUp(max(n, 1), 256))
	if d.used+size > d.capacity {
		return 0, fmt.Errorf("%w: %d bytes", errOutOfMemory, n)
	}
	p := devPtr(C.emu_alloc(C.size_t(size)))
	if p == 0 {
		return 0, fmt.Errorf("%w: host allocation of %d bytes", errOutOfMemory, n)
	}
	d.used += size
	d.sizes[p] = size
	return p, nil
}

func (d *emuDevice) free(p devPtr) error {
	size, ok := d.sizes[p]
	if !ok {
		return fmt.Errorf("emu: free of %#x, which is not allocated", uint64(p))
	}
	C.emu_free(C.uint64_t(p))
	delete(d.sizes, p)
	d.used -= size
	return nil
}

func (d *emuDevice) upload(dst devPtr, src []byte) error {
	if len(src) > 0 {
		C.emu_in(C.uint64_t(dst), unsafe.Pointer(&src[0]), C.size_t(len(src)))
	}
	return nil
}

func (d *emuDevice) download(dst []byte, src devPtr) error {
	if len(dst) > 0 {
		C.emu_out(unsafe.Pointer(&dst[0]), C.uint64_t(src), C.size_t(len(dst)))
	}
	return nil
}

func (d *emuDevice) launch(l launchSpec) error {
	if len(l.args) != kernelArgs[l.kernel] {
		return fmt.Errorf("emu: %s takes %d arguments, got %d", l.kernel, kernelArgs[l.kernel], len(l.args))
	}
	lazy := 0
	if d.lazy {
		lazy = 1
	}
	args := make([]C.uint64_t, len(l.args))
	for i, a := range l.args {
		args[i] = C.uint64_t(a)
	}
	// The emulator's kernel numbers are kernelID - 1 (see emu.cc's call).
	rc := C.ig_emu_launch(C.int(l.kernel-kernelIMMA), C.unsigned(l.grid[0]), C.unsigned(l.grid[1]), C.unsigned(l.grid[2]),
		C.unsigned(l.block[0]), C.unsigned(l.block[1]), C.unsigned(l.block[2]), &args[0], C.int(lazy))
	if rc != 0 {
		return fmt.Errorf("emu: %s: launch refused (%d)", l.kernel, rc)
	}
	return nil
}

func (d *emuDevice) close() {
	for p := range d.sizes {
		_ = d.free(p)
	}
}
