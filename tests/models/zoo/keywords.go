package zoo

import (
	"math"
	"math/rand/v2"

	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// Synthetic keywords: a deterministic 8-class data set shaped like a
// keyword spotter's input, 8 frequency bands × 32 frames of log energy.
// Each class is a word of three syllables, each syllable a band profile
// drawn once from a fixed seed; a sample says the word at a random onset,
// speed and loudness, per-band gain (a microphone's colour), over noise.
// The model normalizes each band over time (written out as
// ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div, as exporters write it), which
// removes loudness and colour, then a 1-D convolution, max pooling and two
// fully connected layers classify.

const (
	KWSBands   = 8
	KWSFrames  = 32
	KWSClasses = 8
	kwsConv    = 16 // convolution channels
	kwsKernel  = 5
	kwsPool    = 4
	kwsHidden  = 32
	kwsEps     = 1e-3
)

func kwsSyllables() [KWSClasses][3][KWSBands]float64 {
	r := rand.New(rand.NewPCG(2031, 5))
	var s [KWSClasses][3][KWSBands]float64
	for c := range s {
		for k := range s[c] {
			for b := range s[c][k] {
				s[c][k][b] = r.Float64() * 2
			}
		}
	}
	return s
}

// Keywords returns n samples ([bands][frames], row-major) and labels.
func Keywords(n int, seed uint64) ([][]float64, []int) {
	syl := kwsSyllables()
	r := rand.New(rand.NewPCG(seed, 31))
	xs := make([][]float64, n)
	ys := make([]int, n)
	for i := range xs {
		c := r.IntN(KWSClasses)
		x := make([]float64, KWSBands*KWSFrames)
		onset := 2 + r.IntN(8)
		length := 5 + r.IntN(4) // frames per syllable
		loud := r.Float64()*3 - 1.5
		for b := 0; b < KWSBands; b++ {
			gain := 0.5 + r.Float64()
			for t := 0; t < KWSFrames; t++ {
				v := r.NormFloat64() * 0.7
				if k := (t - onset) / length; t >= onset && k < 3 {
					v += gain * syl[c][k][b]
				}
				x[b*KWSFrames+t] = v + loud
			}
		}
		xs[i], ys[i] = x, c
	}
	return xs, ys
}

// kwsNet is the keyword classifier: fixed random convolution filters
// (seeded) and a trained fully connected head.
type kwsNet struct {
	w, b []float64 // [kwsConv][KWSBands][kwsKernel], [kwsConv]
	head *MLP
}

func newKWSConv(seed uint64) ([]float64, []float64) {
	r := rand.New(rand.NewPCG(seed, 19))
	w := make([]float64, kwsConv*KWSBands*kwsKernel)
	std := math.Sqrt(2 / float64(KWSBands*kwsKernel))
	for i := range w {
		w[i] = r.NormFloat64() * std
	}
	b := make([]float64, kwsConv)
	for i := range b {
		b[i] = r.NormFloat64() * 0.1
	}
	return w, b
}

// kwsFeatures is the network up to the head: normalization, convolution,
// ReLU, max pooling, flattened. Every product feeding a sum is rounded
// explicitly (no FMA contraction), so it is the same on every machine.
func kwsFeatures(w, bias, x []float64) []float64 {
	norm := make([]float64, len(x))
	for b := 0; b < KWSBands; b++ {
		row := x[b*KWSFrames : (b+1)*KWSFrames]
		mean := 0.0
		for _, v := range row {
			mean += v
		}
		mean /= KWSFrames
		vr := 0.0
		for _, v := range row {
			vr += float64((v - mean) * (v - mean))
		}
		vr /= KWSFrames
		den := math.Sqrt(vr + kwsEps)
		for t, v := range row {
			norm[b*KWSFrames+t] = (v - mean) / den
		}
	}
	pooled := make([]float64, kwsConv*KWSFrames/kwsPool)
	for o := 0; o < kwsConv; o++ {
		for p := 0; p < KWSFrames/kwsPool; p++ {
			best := math.Inf(-1)
			for t := p * kwsPool; t < (p+1)*kwsPool; t++ {
				s := bias[o]
				for i := 0; i < KWSBands; i++ {
					for k := 0; k < kwsKernel; k++ {
						if tt := t + k - kwsKernel/2; tt >= 0 && tt < KWSFrames {
							s += float64(w[(o*KWSBands+i)*kwsKernel+k] * norm[i*KWSFrames+tt])
						}
					}
				}
				best = math.Max(best, math.Max(0, s))
			}
			pooled[o*KWSFrames/kwsPool+p] = best
		}
	}
	return pooled
}

func trainKWS(xs [][]float64, ys []int, epochs int, seed uint64) *kwsNet {
	w, b := newKWSConv(seed)
	feats := make([][]float64, len(xs))
	for i, x := range xs {
		feats[i] = kwsFeatures(w, b, x)
	}
	return &kwsNet{w: w, b: b, head: trainMLP([]int{len(feats[0]), kwsHidden, KWSClasses}, feats, ys, epochs, seed)}
}

// kwsGraph: x [1, 8, 32] → written-out normalization over time → Conv
// (1-D, 8→16, kernel 5, pad 2) → Relu → MaxPool 4 → Flatten → Gemm → Relu
// → Gemm → logits [1, 8].
func kwsGraph(k *kwsNet) *onnxpb.ModelProto {
	g := ob.New("kws", 13)
	x := g.Input("x", ob.Float, 1, KWSBands, KWSFrames)
	mean := func(v string) string { return g.Node("ReduceMean", []string{v}, ob.AttrInts("axes", -1)) }
	d := g.Node("Sub", []string{x, mean(x)})
	v := mean(g.Node("Pow", []string{d, g.Init(ob.FloatTensor("two", nil, []float32{2}))}))
	s := g.Node("Sqrt", []string{g.Node("Add", []string{v, g.Init(ob.FloatTensor("eps", nil, []float32{kwsEps}))})})
	h := g.Node("Div", []string{d, s})
	w := g.Init(ob.FloatTensor("conv_w", []int64{kwsConv, KWSBands, kwsKernel}, f32(k.w)))
	b := g.Init(ob.FloatTensor("conv_b", []int64{kwsConv}, f32(k.b)))
	h = g.Node("Conv", []string{h, w, b}, ob.AttrInts("kernel_shape", kwsKernel), ob.AttrInts("pads", kwsKernel/2, kwsKernel/2))
	h = g.Node("Relu", []string{h})
	h = g.Node("MaxPool", []string{h}, ob.AttrInts("kernel_shape", kwsPool), ob.AttrInts("strides", kwsPool))
	h = g.Node("Flatten", []string{h})
	for i, l := range k.head.layers {
		lw := g.Init(ob.FloatTensor("fc_w", []int64{int64(l.out), int64(l.in)}, f32(l.w)))
		lb := g.Init(ob.FloatTensor("fc_b", []int64{int64(l.out)}, f32(l.b)))
		if i == len(k.head.layers)-1 {
			h = g.NodeTo("logits", "Gemm", []string{h, lw, lb}, ob.AttrInt("transB", 1))
			break
		}
		h = g.Node("Relu", []string{g.Node("Gemm", []string{h, lw, lb}, ob.AttrInt("transB", 1))})
	}
	g.Output(h, ob.Float, 1, KWSClasses)
	return g.Model()
}
