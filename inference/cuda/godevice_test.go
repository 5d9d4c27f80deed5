package cuda

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/infergeth/infergeth/inference"
)

// goDevice is a device in Go for the default build's tests: memory is a Go
// arena and each kernel is a plain loop over its outputs that computes
// what the CUDA kernel is written to compute (int32 dot products of raw
// int8 values, terms added modulo 2^32, the epilogue in int64). It checks
// the host half (plans, packing, folding, chunking, caching, fallbacks)
// against the reference backend; the kernels' CUDA source itself is
// checked by the cudaemu build (emu_test.go) and on a GPU (gpu_test.go).
type goDevice struct {
	mu       sync.Mutex
	mem      []byte
	allocs   []span // sorted by start
	closed   bool
	launches map[kernelID]int
	// fail, when set, can make any operation fail: op is "alloc", "upload",
	// "download" or a kernel's name.
	fail func(op string) error
}

type span struct{ start, end int }

// goDeviceBase keeps device addresses clearly apart from small integers.
const goDeviceBase = 1 << 40

func newGoDevice(capacity int) *goDevice {
	return &goDevice{mem: make([]byte, capacity), launches: map[kernelID]int{}}
}

func (d *goDevice) check(op string) error {
	if d.fail != nil {
		return d.fail(op)
	}
	return nil
}

func (d *goDevice) bind() error { return nil }

func (d *goDevice) alloc(n int) (devPtr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check("alloc"); err != nil {
		return 0, err
	}
	n = roundUp(max(n, 1), 256)
	at := 0
	for i, s := range d.allocs {
		if s.start-at >= n {
			d.allocs = append(d.allocs[:i], append([]span{{at, at + n}}, d.allocs[i:]...)...)
			return devPtr(goDeviceBase + at), nil
		}
		at = s.end
	}
	if len(d.mem)-at < n {
		return 0, fmt.Errorf("%w: %d bytes", errOutOfMemory, n)
	}
	d.allocs = append(d.allocs, span{at, at + n})
	// Fresh device memory is not zeroed: neither is a GPU's.
	for i := at; i < at+n; i++ {
		d.mem[i] = byte(i*37 + 11)
	}
	return devPtr(goDeviceBase + at), nil
}

func (d *goDevice) free(p devPtr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	at := int(p) - goDeviceBase
	i := sort.Search(len(d.allocs), func(i int) bool { return d.allocs[i].start >= at })
	if i == len(d.allocs) || d.allocs[i].start != at {
		return fmt.Errorf("godevice: free of %#x, which is not allocated", uint64(p))
	}
	d.allocs = append(d.allocs[:i], d.allocs[i+1:]...)
	return nil
}

func (d *goDevice) inUse() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, s := range d.allocs {
		n += s.end - s.start
	}
	return n
}

// bytes is device memory [p, p+n), which must lie in one allocation.
func (d *goDevice) bytes(p devPtr, n int) []byte {
	at := int(p) - goDeviceBase
	for _, s := range d.allocs {
		if at >= s.start && at+n <= s.end {
			return d.mem[at : at+n]
		}
	}
	panic(fmt.Sprintf("godevice: access to [%#x, +%d) outside any allocation", uint64(p), n))
}

func (d *goDevice) upload(dst devPtr, src []byte) error {
	if err := d.check("upload"); err != nil {
		return err
	}
	copy(d.bytes(dst, len(src)), src)
	return nil
}

func (d *goDevice) download(dst []byte, src devPtr) error {
	if err := d.check("download"); err != nil {
		return err
	}
	copy(dst, d.bytes(src, len(dst)))
	return nil
}

func (d *goDevice) close() { d.closed = true }

func (d *goDevice) launch(l launchSpec) error {
	if err := d.check(l.kernel.String()); err != nil {
		return err
	}
	if len(l.args) != kernelArgs[l.kernel] {
		return fmt.Errorf("godevice: %s takes %d arguments, got %d", l.kernel, kernelArgs[l.kernel], len(l.args))
	}
	d.launches[l.kernel]++
	a := l.args
	switch l.kernel {
	case kernelIMMA, kernelDP4A:
		d.gemm(a, l.grid)
	case kernelIm2col:
		d.im2col(a)
	case kernelDepthwise:
		d.depthwise(a)
	default:
		return fmt.Errorf("godevice: no kernel %d", l.kernel)
	}
	return nil
}

func (d *goDevice) i32(p devPtr, i int) int32 {
	return int32(binary.LittleEndian.Uint32(d.bytes(p+devPtr(4*i), 4)))
}

func (d *goDevice) store(out devPtr, idx, size int, v int64) {
	inference.Store(d.bytes(out+devPtr(idx*size), size), dtypeOfSize(size), 0, v)
}

func dtypeOfSize(size int) inference.DType {
	switch size {
	case 1:
		return inference.Int8
	case 2:
		return inference.Int16
	}
	return inference.Int32
}

func requantGo(acc int32, mult, shift int32, zy, qmin, qmax int64) int64 {
	v := int64(acc) * int64(mult)
	if shift > 0 {
		v = (v + 1<<(shift-1)) >> shift
	}
	return min(max(v+zy, qmin), qmax)
}

func (d *goDevice) gemm(a []uint64, grid [3]uint32) {
	A, B, row, col, mult, shift, out := devPtr(a[0]), devPtr(a[1]), devPtr(a[2]), devPtr(a[3]), devPtr(a[4]), devPtr(a[5]), devPtr(a[6])
	M, N, Kp, mTiles := int(a[7]), int(a[8]), int(a[9]), int(a[10])
	sA, sB, sRow, sCol, sOut := int(a[11]), int(a[12]), int(a[13]), int(a[14]), int(a[15])
	zy, qmin, qmax, osize := int64(a[16]), int64(a[17]), int64(a[18]), int(a[19])
	batch := int(grid[0]) / mTiles
	for bz := 0; bz < batch; bz++ {
		for m := 0; m < M; m++ {
			ar := d.bytes(A+devPtr(bz*sA+m*Kp), Kp)
			for n := 0; n < N; n++ {
				br := d.bytes(B+devPtr(bz*sB+n*Kp), Kp)
				var dot int32
				for k := 0; k < Kp; k++ {
					dot += int32(int8(ar[k])) * int32(int8(br[k]))
				}
				v := uint32(dot) + uint32(d.i32(col, bz*sCol+n))
				if row != 0 {
					v += uint32(d.i32(row, bz*sRow+m))
				}
				d.store(out, bz*sOut+m*N+n, osize, requantGo(int32(v), d.i32(mult, n), d.i32(shift, n), zy, qmin, qmax))
			}
		}
	}
}

func (d *goDevice) im2col(a []uint64) {
	x, A := devPtr(a[0]), devPtr(a[1])
	v := make([]int, 0, 17)
	for _, u := range a[2:] {
		v = append(v, int(int64(u)))
	}
	rows, row0, Kp, K, H, W, C, OH, OW, KW := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]
	sh, sw, dh, dw, padT, padL, zx := v[10], v[11], v[12], v[13], v[14], v[15], v[16]
	dst := d.bytes(A, rows*Kp)
	for r := 0; r < rows; r++ {
		R := row0 + r
		ox, oy, b := R%OW, (R/OW)%OH, R/OW/OH
		for k := 0; k < Kp; k++ {
			var val byte
			if k < K {
				ic, kx, ky := k%C, (k/C)%KW, k/C/KW
				iy, ix := oy*sh-padT+ky*dh, ox*sw-padL+kx*dw
				if iy >= 0 && iy < H && ix >= 0 && ix < W {
					val = d.bytes(x+devPtr(((b*H+iy)*W+ix)*C+ic), 1)[0]
				} else {
					val = byte(int8(zx))
				}
			}
			dst[r*Kp+k] = val
		}
	}
}

func (d *goDevice) depthwise(a []uint64) {
	x, w, bias, mult, shift, out := devPtr(a[0]), devPtr(a[1]), devPtr(a[2]), devPtr(a[3]), devPtr(a[4]), devPtr(a[5])
	v := make([]int, 0, 21)
	for _, u := range a[6:] {
		v = append(v, int(int64(u)))
	}
	total, H, W, C, OH, OW, OC, KH, KW, dm := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]
	sh, sw, dh, dw, padT, padL, zx, zy, qmin, qmax, osize := v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17], v[18], v[19], v[20]
	for idx := 0; idx < total; idx++ {
		c, ox, oy, b := idx%OC, (idx/OC)%OW, (idx/OC/OW)%OH, idx/OC/OW/OH
		acc := d.i32(bias, c)
		for ky := 0; ky < KH; ky++ {
			iy := oy*sh - padT + ky*dh
			if iy < 0 || iy >= H {
				continue
			}
			for kx := 0; kx < KW; kx++ {
				ix := ox*sw - padL + kx*dw
				if ix < 0 || ix >= W {
					continue
				}
				xv := int32(int8(d.bytes(x+devPtr(((b*H+iy)*W+ix)*C+c/dm), 1)[0]))
				wv := int32(int8(d.bytes(w+devPtr((ky*KW+kx)*OC+c), 1)[0]))
				acc += (xv - int32(zx)) * wv
			}
		}
		d.store(out, idx, osize, requantGo(acc, d.i32(mult, c), d.i32(shift, c), int64(zy), int64(qmin), int64(qmax)))
	}
}
