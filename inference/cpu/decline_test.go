package cpu

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/modeltext"
	"github.com/infergeth/infergeth/inference/reference"
)

// A node the cpu backend leaves to the reference code runs two orders of
// magnitude slower per unit of gas than on the kernels, and the gas
// schedule is calibrated on the kernels (docs/spec.md, section 9): on a
// kernel path no node of a valid model may be left to the reference.

// kernelSets is every kernel path this machine supports.
func kernelSets() []*kernelSet {
	var out []*kernelSet
	for _, p := range Supported() {
		if ks := (&Backend{path: p}).kernels(); ks != nil {
			out = append(out, ks)
		}
	}
	return out
}

// declined lists the nodes of m that ks leaves to the reference code.
func declined(ks *kernelSet, m *inference.Model, bd bounds) []string {
	var out []string
	for i, f := range overridesWithin(ks, newScratchPool(), m, bd) {
		if f == nil {
			out = append(out, m.Nodes[i].Op.String())
		}
	}
	return out
}

// checkWithin runs m prepared under bd for each kernel set against the
// reference, bit for bit, and fails if any node is left to the reference
// code.
func checkWithin(t *testing.T, name string, sets []*kernelSet, m *inference.Model, bd bounds, inputs ...[]byte) {
	t.Helper()
	ref, err := reference.NewProgram(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	progs := make([]*reference.Program, len(sets))
	for i, ks := range sets {
		if d := declined(ks, m, bd); len(d) > 0 {
			t.Fatalf("%s: path %s leaves %v to the reference code", name, ks.path, d)
		}
		if progs[i], err = reference.NewProgram(m, overridesWithin(ks, newScratchPool(), m, bd)); err != nil {
			t.Fatal(err)
		}
	}
	for i, in := range inputs {
		want, err := ref.Run(in)
		if err != nil {
			t.Fatalf("%s: reference: %v", name, err)
		}
		for k, prog := range progs {
			got, err := prog.Run(in)
			if err != nil {
				t.Fatalf("%s: path %s: %v", name, sets[k].path, err)
			}
			if !bytes.Equal(got, want) {
				at := 0
				for at < len(got) && got[at] == want[at] {
					at++
				}
				t.Fatalf("%s: path %s input %d: output differs from reference at byte %d of %d\n got %x\nwant %x",
					name, sets[k].path, i, at, len(want), window(got, at), window(want, at))
			}
		}
	}
}

// sparseConv builds a Conv2D (or DepthwiseConv2D) whose weights are mostly
// zero (one in 997 set), so that the overflow proof allows receptive fields
// far beyond what dense weights could have.
func sparseConv(t *testing.T, g *gen, x inference.Spec, wshape []int, a inference.Conv2DAttrs, dm int, out inference.DType) *inference.Model {
	t.Helper()
	var b inference.Builder
	xi := b.Input(x)
	n := 1
	for _, d := range wshape {
		n *= d
	}
	w := make([]int64, n)
	for i := 0; i < n; i += 997 {
		w[i] = int64(i%255) - 127
	}
	depthwise := dm > 0
	oc, kh, kw := wshape[0], wshape[1], wshape[2]
	if depthwise {
		kh, kw, oc = wshape[0], wshape[1], wshape[2]
	}
	consts := g.denseConsts(&b, wshape, w, oc, func(int) int64 { return 127 * int64(n/997+1) }, 128)
	oh := inference.ConvOutput(x.Shape[1], kh, int(a.StrideH), int(a.DilationH), int(a.PadTop), int(a.PadBottom))
	ow := inference.ConvOutput(x.Shape[2], kw, int(a.StrideW), int(a.DilationW), int(a.PadLeft), int(a.PadRight))
	a.QMin, a.QMax = g.qrange(out)
	spec := inference.Spec{DType: out, ZeroPoint: g.zeroPoint(out), Shape: []int{x.Shape[0], oh, ow, oc}}
	var y int
	if depthwise {
		y = b.Node(inference.OpDepthwiseConv2D, &inference.DepthwiseConv2DAttrs{Conv2DAttrs: a, DepthMultiplier: uint32(dm)}, spec, append([]int{xi}, consts...)...)
	} else {
		y = b.Node(inference.OpConv2D, &a, spec, append([]int{xi}, consts...)...)
	}
	b.Output(y)
	m, _, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBeyondScratchBounds: convolutions whose im2col row exceeds
// maxRowBytes or whose padded image exceeds maxImageBytes (the cpu backend
// used to leave them to the reference code) run on every kernel path, with
// the reference's bytes.
func TestBeyondScratchBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("large models")
	}
	if len(kernelSets()) == 0 {
		t.Skip("no kernel path on this CPU: the backend is the reference code")
	}
	g := newGen(12)
	unit := inference.Conv2DAttrs{StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1}
	wide := unit
	wide.StrideH, wide.StrideW, wide.DilationH, wide.DilationW = 64, 64, 64, 64
	wide.PadTop, wide.PadLeft, wide.PadBottom, wide.PadRight = 4032, 4032, 4032, 4032
	mid := unit
	mid.StrideH, mid.StrideW, mid.DilationH, mid.DilationW = 64, 64, 64, 64
	mid.PadTop, mid.PadLeft, mid.PadBottom, mid.PadRight = 960, 950, 900, 960
	tall := unit
	tall.PadTop, tall.PadBottom = 1, 1
	models := []struct {
		name string
		m    *inference.Model
	}{
		// K = 64·64·300 = 1228800: above maxRowBytes on both paths.
		{"K above 1 MiB", sparseConv(t, g, inference.Spec{DType: inference.Int8, ZeroPoint: -7, Shape: []int{1, 64, 64, 300}}, []int{1, 64, 64, 300}, unit, 0, inference.Int32)},
		// K = 3·200000: above it for AVX2's int16 rows only; 20 channels
		// (two AVX2 panels), 9 output rows (a whole tile and a tail).
		{"K 600000, 20 channels, 9 rows", sparseConv(t, g, inference.Spec{DType: inference.Int8, ZeroPoint: 5, Shape: []int{1, 9, 1, 200000}}, []int{20, 3, 1, 200000}, tall, 0, inference.Int8)},
		// A 1×1×2 input padded by 4032 on every side: an 8065² × 2 image.
		{"padded image above 64 MiB", sparseConv(t, g, inference.Spec{DType: inference.Int8, ZeroPoint: 9, Shape: []int{1, 1, 1, 2}}, []int{1, 64, 64, 2}, wide, 0, inference.Int32)},
		{"depthwise padded image above 64 MiB", sparseConv(t, g, inference.Spec{DType: inference.Int8, ZeroPoint: 9, Shape: []int{1, 1, 1, 2}}, []int{64, 64, 2}, wide, 1, inference.Int32)},
		// Depth multiplier 20 over 3 channels: a 1922 × 1913 × 60 image.
		{"depthwise ×20 padded image above 64 MiB", sparseConv(t, g, inference.Spec{DType: inference.Int8, ZeroPoint: -3, Shape: []int{1, 2, 3, 3}}, []int{16, 16, 60}, mid, 20, inference.Int16)},
	}
	for _, tc := range models {
		checkWithin(t, tc.name, kernelSets(), tc.m, defaultBounds, g.activations(tc.m.InputBytes()), g.activations(tc.m.InputBytes()))
	}
}

// TestSlicedAndDirectConvolutions holds the code behind those shapes to the
// reference on many small random convolutions, by preparing them under tiny
// bounds: no padded image at all (receptive fields read from the input,
// depthwise taps gathered, 16 channels at a time), and K cut into slices of
// one to a few k-groups (gemmSliced).
func TestSlicedAndDirectConvolutions(t *testing.T) {
	if len(kernelSets()) == 0 {
		t.Skip("no kernel path on this CPU: the backend is the reference code")
	}
	g := newGen(13)
	for i := 0; i < 150; i++ {
		m, inBytes, desc := g.convModel(t, i%2 == 1)
		bd := bounds{imageBytes: 0, rowBytes: []int{4, 8, 12, 64, 1 << 20}[g.intn(5)], gatherBytes: 0}
		if g.intn(3) == 0 {
			bd.imageBytes = maxImageBytes // the padded image, with slices
		}
		checkWithin(t, desc, kernelSets(), m, bd, g.activations(inBytes), allBytes(inBytes, 0x80), allBytes(inBytes, 0x7f))
	}
}

func allBytes(n int, v byte) []byte { return bytes.Repeat([]byte{v}, n) }

// TestEveryOpOnEveryPath: every model of the conformance vectors (every op,
// its dtypes and attribute edges) and of the differential tests runs every
// node on the backend's own code on every kernel path.
func TestEveryOpOnEveryPath(t *testing.T) {
	sets := kernelSets()
	if len(sets) == 0 {
		t.Skip("no kernel path on this CPU: the backend is the reference code")
	}
	seen := map[inference.Op]bool{}
	checkModel := func(name string, m *inference.Model) {
		for _, n := range m.Nodes {
			seen[n.Op] = true
		}
		for _, ks := range sets {
			if d := declined(ks, m, defaultBounds); len(d) > 0 {
				t.Errorf("%s: path %s leaves %v to the reference code", name, ks.path, d)
			}
		}
	}
	files, err := filepath.Glob("../../tests/vectors/ops/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no op vectors found: %v", err)
	}
	for _, f := range files {
		datadriven.RunTest(t, f, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd == "model" {
				if p, err := modeltext.Parse(d.Input); err == nil {
					checkModel(f+":"+d.Pos, p.Model)
				}
			}
			return d.Expected // only reading the models
		})
	}
	dirs, _ := filepath.Glob("../../tests/vectors/*/model.bin")
	for _, f := range dirs {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := inference.Decode(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		checkModel(f, m)
	}
	g := newGen(14)
	for i := 0; i < 40; i++ {
		m, _, desc := g.convModel(t, i%2 == 1)
		checkModel(desc, m)
	}
	checkModel("element chain", elementChain(t))
	var missing []string
	for op := inference.OpFullyConnected; op <= inference.OpRMSNorm; op++ {
		if !seen[op] {
			missing = append(missing, op.String())
		}
	}
	if len(missing) > 0 {
		t.Errorf("no model exercised %s", strings.Join(missing, ", "))
	}
}

// TestCompileNode: node by node (as the cuda backend compiles the nodes it
// leaves on the CPU), every path gives the reference's bytes, and a kernel
// path never hands back the reference's own implementation.
func TestCompileNode(t *testing.T) {
	g := newGen(15)
	models := []*inference.Model{elementChain(t)}
	for i := 0; i < 6; i++ {
		m, _, _ := g.convModel(t, i%2 == 1)
		models = append(models, m)
	}
	for _, b := range paths(t) {
		for mi, m := range models {
			fs := make([]reference.NodeFunc, len(m.Nodes))
			for i := range m.Nodes {
				f, err := b.CompileNode(m, i)
				if err != nil {
					t.Fatal(err)
				}
				fs[i] = f
			}
			if ks := b.kernels(); ks != nil {
				if d := declined(ks, m, defaultBounds); len(d) > 0 {
					t.Errorf("model %d: path %s leaves %v to the reference code", mi, b.Path(), d)
				}
			}
			prog, err := reference.NewProgram(m, fs)
			if err != nil {
				t.Fatal(err)
			}
			ref, _ := reference.NewProgram(m, nil)
			for k := 0; k < 3; k++ {
				in := g.activations(m.InputBytes())
				want, err1 := ref.Run(in)
				got, err2 := prog.Run(in)
				if (err1 == nil) != (err2 == nil) || !bytes.Equal(got, want) {
					t.Fatalf("model %d path %s: got %x (%v), want %x (%v)", mi, b.Path(), window(got, 0), err2, window(want, 0), err1)
				}
			}
		}
	}
}
