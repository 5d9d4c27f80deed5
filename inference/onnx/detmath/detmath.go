// Package detmath computes the float64 functions the importer needs to
// build lookup tables (exp, log, tanh, erf, pow) with the same bits on
// every machine. The standard library's math.Exp uses an FMA instruction
// on amd64 CPUs that have one, and the Go compiler may fuse x*y+z into an
// FMA on arm64 and other architectures, so its results can differ in the
// last bit between machines; a table entry on a rounding boundary would
// then differ, and so would the converted model's bytes. Here every
// product that feeds an addition is rounded explicitly (float64(x*y)),
// which the Go specification says prevents fusion, and only +, −, ×, ÷,
// math.Sqrt, math.Ldexp and math.Frexp are used: IEEE-exact everywhere.
//
// Exp and Log follow the FreeBSD msun algorithms of the Go standard
// library's pure-Go fallbacks (same constants).
//
// Float16 decodes IEEE binary16 bits (ONNX FLOAT16, NumPy '<f2') exactly.
package detmath

import "math"

// Exp returns e**x.
func Exp(x float64) float64 {
	const (
		ln2Hi     = 6.93147180369123816490e-01
		ln2Lo     = 1.90821492927058770002e-10
		log2e     = 1.44269504088896338700e+00
		overflow  = 7.09782712893383973096e+02
		underflow = -7.45133219101941108420e+02
		nearZero  = 1.0 / (1 << 28)
		p1        = 1.66666666666666657415e-01
		p2        = -2.77777777770155933842e-03
		p3        = 6.61375632143793436117e-05
		p4        = -1.65339022054652515390e-06
		p5        = 4.13813679705723846039e-08
	)
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1):
		return x
	case math.IsInf(x, -1):
		return 0
	case x > overflow:
		return math.Inf(1)
	case x < underflow:
		return 0
	case -nearZero < x && x < nearZero:
		return 1 + x
	}
	var k int
	switch {
	case x < 0:
		k = int(float64(log2e*x) - 0.5)
	case x > 0:
		k = int(float64(log2e*x) + 0.5)
	}
	hi := x - float64(float64(k)*ln2Hi)
	lo := float64(k) * ln2Lo
	r := hi - lo
	t := r * r
	poly := p4 + float64(t*p5)
	poly = p3 + float64(t*poly)
	poly = p2 + float64(t*poly)
	poly = p1 + float64(t*poly)
	c := r - float64(t*poly)
	y := 1 - ((lo - float64(r*c)/(2-c)) - hi)
	return math.Ldexp(y, k)
}

// Log returns the natural logarithm of x.
func Log(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		l1    = 6.666666666666735130e-01
		l2    = 3.999999999940941908e-01
		l3    = 2.857142874366239149e-01
		l4    = 2.222219843214978396e-01
		l5    = 1.818357216161805012e-01
		l6    = 1.531383769920937332e-01
		l7    = 1.479819860511658591e-01
	)
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1):
		return x
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}
	f1, ki := math.Frexp(x)
	if f1 < math.Sqrt2/2 {
		f1 *= 2
		ki--
	}
	f := f1 - 1
	k := float64(ki)
	s := f / (2 + f)
	s2 := s * s
	s4 := s2 * s2
	t1 := l5 + float64(s4*l7)
	t1 = l3 + float64(s4*t1)
	t1 = l1 + float64(s4*t1)
	t1 = s2 * t1
	t2 := l4 + float64(s4*l6)
	t2 = l2 + float64(s4*t2)
	t2 = s4 * t2
	r := t1 + t2
	hfsq := float64(0.5*f) * f
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+r)) + float64(k*ln2Lo))) - f)
}

// Tanh returns the hyperbolic tangent of x.
func Tanh(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return x
	case x > 20:
		return 1
	case x < -20:
		return -1
	case math.Abs(x) < 1e-9:
		return x
	}
	e := Exp(2 * x)
	return (e - 1) / (e + 1)
}

// Erf returns the error function of x, to about 1e-14.
func Erf(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return x
	case x < 0:
		return -Erf(-x)
	case x >= 6:
		return 1
	case x < 2.5:
		// Maclaurin series: 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1)).
		sum, term, x2 := 0.0, x, x*x
		for n := 0; n < 200; n++ {
			add := term / float64(2*n+1)
			sum += add
			if math.Abs(add) < 1e-17*math.Abs(sum) {
				break
			}
			term = -float64(term*x2) / float64(n+1)
		}
		return float64(sum*2) / math.Sqrt(math.Pi)
	}
	// erfc by its continued fraction (modified Lentz), for x ≥ 2.5.
	const tiny = 1e-300
	f, c, d := x, x, 0.0
	for n := 1; n < 500; n++ {
		a := float64(n) / 2
		d = x + a*d
		if d == 0 {
			d = tiny
		}
		c = x + a/c
		if c == 0 {
			c = tiny
		}
		d = 1 / d
		delta := c * d
		f *= delta
		if math.Abs(delta-1) < 1e-16 {
			break
		}
	}
	return 1 - Exp(-float64(x*x))/(f*math.Sqrt(math.Pi))
}

// Pow returns x**y.
func Pow(x, y float64) float64 {
	switch {
	case y == 0:
		return 1
	case math.IsNaN(x) || math.IsNaN(y):
		return math.NaN()
	case y == math.Trunc(y) && math.Abs(y) <= 64:
		r := 1.0
		for i := 0; i < int(math.Abs(y)); i++ {
			r *= x
		}
		if y < 0 {
			return 1 / r
		}
		return r
	case x > 0:
		return Exp(float64(y * Log(x)))
	case x == 0:
		if y > 0 {
			return 0
		}
		return math.Inf(1)
	}
	return math.NaN()
}
