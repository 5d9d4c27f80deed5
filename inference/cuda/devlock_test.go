package cuda

import "testing"

// BenchmarkDeviceCall is the fixed cost of one device call with nothing to
// do (paid once per GPU node, on top of copies and launches).
func BenchmarkDeviceCall(b *testing.B) {
	l, err := startDevLock(func() error { return nil }, func() error { return nil }, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.close()
	nop := func() error { return nil }
	for i := 0; i < b.N; i++ {
		if err := l.do(nop); err != nil {
			b.Fatal(err)
		}
	}
}
