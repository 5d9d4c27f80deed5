//go:build !amd64

package cpubench

const haveAddChain = false

func addChain(n int)                             { panic("cpubench: no add chain on this architecture") }
func vnniPeak(n int)                             { panic("cpubench: no VNNI on this architecture") }
func vnniPeakY(n int)                            { panic("cpubench: no VNNI on this architecture") }
func haveVNNI() bool                             { return false }
func streamReadVariant(buf []byte, i int) uint64 { return streamReadGo(buf) }
