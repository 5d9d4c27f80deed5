//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"gorgonia.org/cu"
)

// New starts a Backend on CUDA device cfg.Device: it creates the device's
// context and JIT-compiles the embedded PTX into it. It fails, and the caller runs without the GPU,
// when there is no such device, the device is older than compute
// capability 8.0, or the context or the module cannot be made.
func New(cfg Config) (*Backend, error) {
	return newBackend(cfg, func() (device, DeviceInfo, error) { return openCU(cfg.Device) })
}

// cuDevice is a device through gorgonia.org/cu. cu's functions act on the
// calling thread's current context: the device lock binds it (bind) to the
// thread of each call, which stays locked to that thread for the call.
type cuDevice struct {
	ctx cu.CUContext
	mod cu.Module
	fns [numKernels]cu.Function
}

func openCU(ordinal int) (device, DeviceInfo, error) {
	var info DeviceInfo
	n, err := cu.NumDevices()
	if err != nil {
		return nil, info, fmt.Errorf("cuda: counting devices: %w", err)
	}
	if ordinal < 0 || ordinal >= n {
		return nil, info, fmt.Errorf("cuda: no device %d (%d found)", ordinal, n)
	}
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return nil, info, fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	info.Name, _ = dev.Name()
	if info.Major, err = dev.Attribute(cu.ComputeCapabilityMajor); err != nil {
		return nil, info, fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	if info.Minor, err = dev.Attribute(cu.ComputeCapabilityMinor); err != nil {
		return nil, info, fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	ptx, file := ptxFor(info.Major, info.Minor)
	if ptx == "" {
		return nil, info, fmt.Errorf("cuda: %s has compute capability %d.%d; the kernels need 8.0 or newer", info.Name, info.Major, info.Minor)
	}
	info.Kernels = file + " by " + ptxHeader(ptx, "nvcc")
	// SchedAuto spins while waiting for the GPU when the machine has more
	// cores than contexts (lowest latency) and yields otherwise.
	ctx, err := dev.MakeContext(cu.SchedAuto)
	if err != nil {
		return nil, info, fmt.Errorf("cuda: creating a context on %s: %w", info.Name, err)
	}
	d := &cuDevice{ctx: ctx}
	fail := func(err error) (device, DeviceInfo, error) {
		d.close()
		return nil, info, err
	}
	if err := cu.SetCurrentContext(ctx); err != nil {
		return fail(fmt.Errorf("cuda: making the context current: %w", err))
	}
	logBuf := &cu.JITErrorLogBuffer{Buffer: make([]byte, 8192)}
	if d.mod, err = cu.LoadDataEx(ptx, logBuf); err != nil {
		msg := strings.TrimRight(string(logBuf.Buffer), "\x00")
		return fail(fmt.Errorf("cuda: JIT-compiling %s: %w: %s", file, err, msg))
	}
	for k := kernelIMMA; k < numKernels; k++ {
		if d.fns[k], err = d.mod.Function(kernelNames[k]); err != nil {
			return fail(fmt.Errorf("cuda: kernel %s: %w", kernelNames[k], err))
		}
	}
	if info.FreeMemory, info.TotalMemory, err = cu.MemInfo(); err != nil {
		return fail(fmt.Errorf("cuda: memory info: %w", err))
	}
	return d, info, nil
}

// wrap names the failed operation; CUDA_ERROR_OUT_OF_MEMORY, from any
// call, matches errOutOfMemory (the device stays usable).
func wrap(op string, err error) error {
	if errors.Is(err, cu.OutOfMemory) {
		return fmt.Errorf("%w: %s: %v", errOutOfMemory, op, err)
	}
	return fmt.Errorf("cuda: %s: %w", op, err)
}

func (d *cuDevice) bind() error {
	if err := cu.SetCurrentContext(d.ctx); err != nil {
		return wrap("making the context current", err)
	}
	return nil
}

func (d *cuDevice) alloc(n int) (devPtr, error) {
	p, err := cu.MemAlloc(int64(n))
	if err != nil {
		return 0, wrap(fmt.Sprintf("allocating %d bytes", n), err)
	}
	return devPtr(p), nil
}

func (d *cuDevice) free(p devPtr) error { return cu.MemFree(cu.DevicePtr(p)) }

func (d *cuDevice) upload(dst devPtr, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	if err := cu.MemcpyHtoD(cu.DevicePtr(dst), unsafe.Pointer(&src[0]), int64(len(src))); err != nil {
		return wrap("copy to device", err)
	}
	return nil
}

func (d *cuDevice) download(dst []byte, src devPtr) error {
	if len(dst) == 0 {
		return nil
	}
	if err := cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), cu.DevicePtr(src), int64(len(dst))); err != nil {
		return wrap("copy from device", err)
	}
	return nil
}

func (d *cuDevice) launch(l launchSpec) error {
	params := make([]unsafe.Pointer, len(l.args))
	for i := range l.args {
		params[i] = unsafe.Pointer(&l.args[i])
	}
	err := d.fns[l.kernel].Launch(int(l.grid[0]), int(l.grid[1]), int(l.grid[2]),
		int(l.block[0]), int(l.block[1]), int(l.block[2]), 0, cu.NoStream, params)
	if err != nil {
		return wrap("launching "+l.kernel.String(), err)
	}
	return nil
}

func (d *cuDevice) close() {
	if d.mod != (cu.Module{}) {
		_ = d.mod.Unload()
	}
	_ = d.ctx.Destroy()
}
