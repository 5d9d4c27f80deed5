package zoo

import (
	"math"
	"math/rand/v2"

	"github.com/infergeth/infergeth/inference/onnx/detmath"
)

// Training in float64, deterministic on every machine: fixed seeds, a
// fixed order of operations, and every product that feeds a sum rounded
// explicitly (float64(a*b)) so no compiler fuses it into an FMA; exp is
// detmath.Exp. Plain minibatch SGD with momentum and softmax
// cross-entropy.

// dense is a fully connected layer: w is [out][in] row-major.
type dense struct {
	in, out int
	w, b    []float64
	vw, vb  []float64 // momentum
	gw, gb  []float64 // gradient sums over the minibatch
}

func newDense(r *rand.Rand, in, out int) *dense {
	d := &dense{in: in, out: out, w: make([]float64, in*out), b: make([]float64, out),
		vw: make([]float64, in*out), vb: make([]float64, out), gw: make([]float64, in*out), gb: make([]float64, out)}
	std := math.Sqrt(2 / float64(in))
	for i := range d.w {
		d.w[i] = r.NormFloat64() * std
	}
	return d
}

func (d *dense) forward(x, y []float64) {
	for o := 0; o < d.out; o++ {
		s := d.b[o]
		row := d.w[o*d.in : (o+1)*d.in]
		for i, v := range x {
			s += float64(row[i] * v)
		}
		y[o] = s
	}
}

// backward accumulates gradients for output gradient dy and, if dx is not
// nil, writes the input gradient.
func (d *dense) backward(x, dy, dx []float64) {
	for o := 0; o < d.out; o++ {
		g := dy[o]
		d.gb[o] += g
		row := d.gw[o*d.in : (o+1)*d.in]
		for i, v := range x {
			row[i] += float64(g * v)
		}
	}
	if dx != nil {
		for i := range dx {
			dx[i] = 0
		}
		for o := 0; o < d.out; o++ {
			g := dy[o]
			row := d.w[o*d.in : (o+1)*d.in]
			for i := range dx {
				dx[i] += float64(row[i] * g)
			}
		}
	}
}

func step(w, v, g []float64, lr, mom float64, batch int) {
	for i := range w {
		v[i] = float64(mom*v[i]) - float64(lr*g[i])/float64(batch)
		w[i] += v[i]
		g[i] = 0
	}
}

func (d *dense) step(lr, mom float64, batch int) {
	step(d.w, d.vw, d.gw, lr, mom, batch)
	step(d.b, d.vb, d.gb, lr, mom, batch)
}

// softmaxGrad turns logits into softmax(logits) − onehot(label), in place,
// and reports whether the argmax was the label.
func softmaxGrad(z []float64, label int) bool {
	m := z[0]
	best := 0
	for i, v := range z {
		if v > m {
			m, best = v, i
		}
	}
	s := 0.0
	for i, v := range z {
		z[i] = detmath.Exp(v - m)
		s += z[i]
	}
	for i := range z {
		z[i] /= s
	}
	z[label]--
	return best == label
}

func relu(x []float64) {
	for i, v := range x {
		if v < 0 {
			x[i] = 0
		}
	}
}

func reluBack(y, dy []float64) {
	for i, v := range y {
		if v <= 0 {
			dy[i] = 0
		}
	}
}

// MLP is a trained fully connected classifier: ReLU between layers.
type MLP struct{ layers []*dense }

func (m *MLP) logits(x []float64) []float64 {
	for i, l := range m.layers {
		y := make([]float64, l.out)
		l.forward(x, y)
		if i < len(m.layers)-1 {
			relu(y)
		}
		x = y
	}
	return x
}

// trainMLP trains sizes[0]-…-sizes[n] on (xs, ys).
func trainMLP(sizes []int, xs [][]float64, ys []int, epochs int, seed uint64) *MLP {
	r := rand.New(rand.NewPCG(seed, 3))
	m := &MLP{}
	for i := 0; i+1 < len(sizes); i++ {
		m.layers = append(m.layers, newDense(r, sizes[i], sizes[i+1]))
	}
	const batch, mom = 32, 0.9
	lr := 0.02
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	acts := make([][]float64, len(m.layers)+1)
	grads := make([][]float64, len(m.layers)+1)
	for i, s := range sizes {
		acts[i] = make([]float64, s)
		grads[i] = make([]float64, s)
	}
	for e := 0; e < epochs; e++ {
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for start := 0; start < len(order); start += batch {
			end := min(start+batch, len(order))
			for _, k := range order[start:end] {
				copy(acts[0], xs[k])
				for i, l := range m.layers {
					l.forward(acts[i], acts[i+1])
					if i < len(m.layers)-1 {
						relu(acts[i+1])
					}
				}
				last := len(m.layers)
				copy(grads[last], acts[last])
				softmaxGrad(grads[last], ys[k])
				for i := last - 1; i >= 0; i-- {
					var dx []float64
					if i > 0 {
						dx = grads[i]
					}
					m.layers[i].backward(acts[i], grads[i+1], dx)
					if i > 0 {
						reluBack(acts[i], grads[i])
					}
				}
			}
			for _, l := range m.layers {
				l.step(lr, mom, end-start)
			}
		}
		lr *= 0.6
	}
	return m
}

// conv3 is a 3×3, pad 1, stride 1 convolution over [c][h][w] data.
type conv3 struct {
	in, out, h, w int
	k             *dense // weights [out][in*9], bias [out]
}

func (c *conv3) forward(x, y []float64) {
	hw := c.h * c.w
	for o := 0; o < c.out; o++ {
		for p := 0; p < hw; p++ {
			py, px := p/c.w, p%c.w
			s := c.k.b[o]
			for i := 0; i < c.in; i++ {
				for t := 0; t < 9; t++ {
					iy, ix := py+t/3-1, px+t%3-1
					if iy < 0 || iy >= c.h || ix < 0 || ix >= c.w {
						continue
					}
					s += float64(c.k.w[(o*c.in+i)*9+t] * x[i*hw+iy*c.w+ix])
				}
			}
			y[o*hw+p] = s
		}
	}
}

func (c *conv3) backward(x, dy, dx []float64) {
	hw := c.h * c.w
	if dx != nil {
		for i := range dx {
			dx[i] = 0
		}
	}
	for o := 0; o < c.out; o++ {
		for p := 0; p < hw; p++ {
			g := dy[o*hw+p]
			if g == 0 {
				continue
			}
			c.k.gb[o] += g
			py, px := p/c.w, p%c.w
			for i := 0; i < c.in; i++ {
				for t := 0; t < 9; t++ {
					iy, ix := py+t/3-1, px+t%3-1
					if iy < 0 || iy >= c.h || ix < 0 || ix >= c.w {
						continue
					}
					c.k.gw[(o*c.in+i)*9+t] += float64(g * x[i*hw+iy*c.w+ix])
					if dx != nil {
						dx[i*hw+iy*c.w+ix] += float64(g * c.k.w[(o*c.in+i)*9+t])
					}
				}
			}
		}
	}
}

// maxPool2 halves h and w, remembering where each maximum came from.
func maxPool2(x []float64, c, h, w int, y []float64, from []int) {
	oh, ow := h/2, w/2
	for ch := 0; ch < c; ch++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				best := -1
				for t := 0; t < 4; t++ {
					k := ch*h*w + (2*oy+t/2)*w + 2*ox + t%2
					if best < 0 || x[k] > x[best] {
						best = k
					}
				}
				o := ch*oh*ow + oy*ow + ox
				y[o], from[o] = x[best], best
			}
		}
	}
}

// CNN: conv 1→6, ReLU, maxpool, conv 6→12, ReLU, maxpool, FC 588→10.
const cnnC1, cnnC2 = 6, 12

type CNN struct {
	c1, c2 *conv3
	fc     *dense
}

func newCNN(r *rand.Rand) *CNN {
	return &CNN{
		c1: &conv3{in: 1, out: cnnC1, h: 28, w: 28, k: newDense(r, 9, cnnC1)},
		c2: &conv3{in: cnnC1, out: cnnC2, h: 14, w: 14, k: newDense(r, 9*cnnC1, cnnC2)},
		fc: newDense(r, cnnC2*7*7, 10),
	}
}

type cnnActs struct {
	a1, p1, a2, p2, z []float64
	f1, f2            []int
}

func newCNNActs() *cnnActs {
	return &cnnActs{a1: make([]float64, cnnC1*28*28), p1: make([]float64, cnnC1*14*14), a2: make([]float64, cnnC2*14*14),
		p2: make([]float64, cnnC2*7*7), z: make([]float64, 10), f1: make([]int, cnnC1*14*14), f2: make([]int, cnnC2*7*7)}
}

func (m *CNN) forward(x []float64, a *cnnActs) {
	m.c1.forward(x, a.a1)
	relu(a.a1)
	maxPool2(a.a1, cnnC1, 28, 28, a.p1, a.f1)
	m.c2.forward(a.p1, a.a2)
	relu(a.a2)
	maxPool2(a.a2, cnnC2, 14, 14, a.p2, a.f2)
	m.fc.forward(a.p2, a.z)
}

func (m *CNN) logits(x []float64) []float64 {
	a := newCNNActs()
	m.forward(x, a)
	return a.z
}

func trainCNN(xs [][]float64, ys []int, epochs int, seed uint64) *CNN {
	r := rand.New(rand.NewPCG(seed, 5))
	m := newCNN(r)
	a := newCNNActs()
	dp2, da2 := make([]float64, cnnC2*7*7), make([]float64, cnnC2*14*14)
	dp1, da1 := make([]float64, cnnC1*14*14), make([]float64, cnnC1*28*28)
	const batch, mom = 32, 0.9
	lr := 0.02
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	for e := 0; e < epochs; e++ {
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for start := 0; start < len(order); start += batch {
			end := min(start+batch, len(order))
			for _, k := range order[start:end] {
				m.forward(xs[k], a)
				softmaxGrad(a.z, ys[k])
				m.fc.backward(a.p2, a.z, dp2)
				for i := range da2 {
					da2[i] = 0
				}
				for o, f := range a.f2 {
					da2[f] += dp2[o]
				}
				reluBack(a.a2, da2)
				m.c2.backward(a.p1, da2, dp1)
				for i := range da1 {
					da1[i] = 0
				}
				for o, f := range a.f1 {
					da1[f] += dp1[o]
				}
				reluBack(a.a1, da1)
				m.c1.backward(xs[k], da1, nil)
			}
			for _, l := range []*dense{m.c1.k, m.c2.k, m.fc} {
				l.step(lr, mom, end-start)
			}
		}
		lr *= 0.6
	}
	return m
}

// accuracy is the fraction of (xs, ys) that f classifies right.
func accuracy(f func([]float64) []float64, xs [][]float64, ys []int) float64 {
	right := 0
	for i, x := range xs {
		z := f(x)
		best := 0
		for j, v := range z {
			if v > z[best] {
				best = j
			}
		}
		if best == ys[i] {
			right++
		}
	}
	return float64(right) / float64(len(xs))
}
