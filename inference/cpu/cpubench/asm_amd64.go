package cpubench

import "golang.org/x/sys/cpu"

//go:noescape
func addChain(n int)

//go:noescape
func vnniPeak(n int)

//go:noescape
func vnniPeakY(n int)

//go:noescape
func streamRead512(p *byte, n int) uint64

//go:noescape
func streamRead256(p *byte, n int) uint64

const haveAddChain = true

func haveVNNI() bool { return cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI }

// streamReadVariant reads buf (len a multiple of 256): with 64-byte loads
// on odd i when the CPU has AVX-512, else with 32-byte loads (AVX2), else in Go.
func streamReadVariant(buf []byte, i int) uint64 {
	if cpu.X86.HasAVX512F && i%2 == 1 {
		return streamRead512(&buf[0], len(buf))
	}
	if cpu.X86.HasAVX2 {
		return streamRead256(&buf[0], len(buf))
	}
	return streamReadGo(buf)
}
