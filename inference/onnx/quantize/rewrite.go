package quantize

import (
	"fmt"

	"github.com/infergeth/infergeth/inference/onnx"
	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// rewriter edits a float graph in place before calibration, turning
// patterns op set v1 has no direct op for into ones it has.
type rewriter struct {
	m     *onnxpb.ModelProto
	ix    *index
	vals  map[string]*onnx.Tensor // every value of one evaluation (shapes)
	prod  map[string]*onnxpb.NodeProto
	names map[string]bool
	notes []string
}

func newRewriter(m *onnxpb.ModelProto, vals map[string]*onnx.Tensor) (*rewriter, error) {
	ix, err := newIndex(m)
	if err != nil {
		return nil, err
	}
	r := &rewriter{m: m, ix: ix, vals: vals, prod: map[string]*onnxpb.NodeProto{}, names: map[string]bool{}}
	for _, n := range m.Graph.Node {
		r.names[n.Name] = true
		for _, o := range n.Output {
			r.prod[o] = n
			r.names[o] = true
		}
	}
	for _, t := range m.Graph.Initializer {
		r.names[t.Name] = true
	}
	for _, vi := range m.Graph.Input {
		r.names[vi.Name] = true
	}
	return r, nil
}

func (r *rewriter) fresh(base string) string {
	name := base
	for i := 1; r.names[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	r.names[name] = true
	return name
}

// producerOf returns the node writing v when its op is op and v's only
// reader is reader.
func (r *rewriter) producerOf(v, op string, reader *onnxpb.NodeProto) *onnxpb.NodeProto {
	p := r.prod[v]
	if p == nil || p.OpType != op || p.Domain != "" || len(p.Output) != 1 {
		return nil
	}
	for _, u := range r.ix.readers[v] {
		if u != reader {
			return nil
		}
	}
	if r.ix.outputs[v] {
		return nil
	}
	return p
}

// scalarConst returns the single value of constant v.
func (r *rewriter) scalarConst(v string) (float64, bool) {
	t := r.ix.inits[v]
	if t == nil || len(t.Data) != 1 {
		return 0, false
	}
	return t.Data[0], true
}

// lastAxisMean: n is ReduceMean over the last axis only, keeping it.
func (r *rewriter) lastAxisMean(n *onnxpb.NodeProto) bool {
	if n == nil || attrInt(n, "keepdims", 1) != 1 {
		return false
	}
	x := r.vals[n.Input[0]]
	if x == nil || len(x.Shape) == 0 {
		return false
	}
	var axes []int64
	if a := attr(n, "axes"); a != nil {
		axes = a.Ints
	} else if len(n.Input) > 1 && n.Input[1] != "" {
		t := r.ix.inits[n.Input[1]]
		if t == nil {
			return false
		}
		for _, v := range t.Data {
			axes = append(axes, int64(v))
		}
	}
	rank := int64(len(x.Shape))
	return len(axes) == 1 && (axes[0] == -1 || axes[0] == rank-1)
}

// layerNorms replaces each written-out layer normalization over the last
// axis, as exporters write it,
//
//	m = ReduceMean(x); d = Sub(x, m); v = ReduceMean(Pow(d, 2) or Mul(d, d))
//	y = Div(d, Sqrt(Add(v, ε))) [· γ] [+ β]
//
// by one LayerNormalization(x, γ, β, axis = −1, epsilon = ε), which op set
// v1 runs as an integer LayerNorm. Every intermediate value must have no
// other reader.
func (r *rewriter) layerNorms() error {
	var found int
	for i := 0; i < len(r.m.Graph.Node); i++ {
		div := r.m.Graph.Node[i]
		if div.OpType != "Div" || div.Domain != "" || len(div.Input) != 2 {
			continue
		}
		d := div.Input[0]
		sq := r.producerOf(div.Input[1], "Sqrt", div)
		if sq == nil {
			continue
		}
		add := r.producerOf(sq.Input[0], "Add", sq)
		if add == nil || len(add.Input) != 2 {
			continue
		}
		vName, epsName := add.Input[0], add.Input[1]
		if r.ix.isConst(vName) {
			vName, epsName = epsName, vName
		}
		eps, ok := r.scalarConst(epsName)
		if !ok {
			continue
		}
		rm2 := r.producerOf(vName, "ReduceMean", add)
		if !r.lastAxisMean(rm2) {
			continue
		}
		p := r.prod[rm2.Input[0]]
		if p == nil || r.producerOf(rm2.Input[0], p.OpType, rm2) == nil {
			continue
		}
		switch {
		case p.OpType == "Pow" && p.Input[0] == d:
			if e, ok := r.scalarConst(p.Input[1]); !ok || e != 2 {
				continue
			}
		case p.OpType == "Mul" && p.Input[0] == d && p.Input[1] == d:
		default:
			continue
		}
		sub := r.prod[d]
		if sub == nil || sub.OpType != "Sub" || r.ix.outputs[d] {
			continue
		}
		okReaders := true
		for _, u := range r.ix.readers[d] {
			if u != p && u != div {
				okReaders = false
			}
		}
		x := sub.Input[0]
		rm1 := r.producerOf(sub.Input[1], "ReduceMean", sub)
		if !okReaders || !r.lastAxisMean(rm1) || rm1.Input[0] != x {
			continue
		}
		xs := r.vals[x]
		c := xs.Shape[len(xs.Shape)-1]
		// Optional scale and shift by constants of the last axis's length.
		last, gamma, beta := div, "", ""
		if mul := r.ix.only(div.Output[0]); mul != nil && mul.OpType == "Mul" && mul.Domain == "" {
			if g := otherConst(r.ix, mul, div.Output[0]); g != "" && len(r.ix.inits[g].Data) == c {
				last, gamma = mul, g
			}
		}
		if ad := r.ix.only(last.Output[0]); ad != nil && ad.OpType == "Add" && ad.Domain == "" {
			if b := otherConst(r.ix, ad, last.Output[0]); b != "" && len(r.ix.inits[b].Data) == c {
				last, beta = ad, b
			}
		}
		gamma, err := r.vector(gamma, c, 1)
		if err != nil {
			return err
		}
		beta, err = r.vector(beta, c, 0)
		if err != nil {
			return err
		}
		name := div.Name
		if name == "" {
			name = r.fresh("LayerNormalization")
		}
		ln := &onnxpb.NodeProto{Name: name, OpType: "LayerNormalization", Input: []string{x, gamma, beta},
			Output: []string{last.Output[0]}, Attribute: []*onnxpb.AttributeProto{ob.AttrInt("axis", -1), ob.AttrFloat("epsilon", float32(eps))}}
		drop := map[*onnxpb.NodeProto]bool{rm1: true, sub: true, p: true, rm2: true, add: true, sq: true, div: true, last: true}
		for _, n := range []*onnxpb.NodeProto{r.ix.only(div.Output[0])} {
			if n != nil && n != last && (n.Output[0] == last.Input[0] || n.Output[0] == last.Input[1]) {
				drop[n] = true
			}
		}
		var nodes []*onnxpb.NodeProto
		for _, n := range r.m.Graph.Node {
			switch {
			case n == last:
				nodes = append(nodes, ln)
			case !drop[n]:
				nodes = append(nodes, n)
			}
		}
		r.m.Graph.Node = nodes
		found++
		r.notes = append(r.notes, fmt.Sprintf("layer normalization written out as ReduceMean/Sub/Pow/Sqrt/Div (ending at %s) became LayerNormalization (epsilon %g)", onnx.Describe(last), float32(eps)))
		if err := r.reindex(); err != nil {
			return err
		}
		i = -1
	}
	if found > 0 && setOpset(r.m, 17) {
		r.notes = append(r.notes, "the model's opset was raised to 17 for LayerNormalization (no op it uses changed meaning between its opset and 17)")
	}
	return nil
}

// otherConst returns n's input other than v when it is a constant.
func otherConst(ix *index, n *onnxpb.NodeProto, v string) string {
	if len(n.Input) != 2 {
		return ""
	}
	o := n.Input[0]
	if o == v {
		o = n.Input[1]
	}
	if o == v || !ix.isConst(o) {
		return ""
	}
	return o
}

// vector returns the name of a rank-1 constant of length c: name's values
// reshaped, or c copies of fill when name is empty.
func (r *rewriter) vector(name string, c int, fill float64) (string, error) {
	t := &onnx.Tensor{Elem: onnxpb.TensorProto_FLOAT, Shape: []int{c}, Data: make([]float64, c)}
	if name != "" {
		copy(t.Data, r.ix.inits[name].Data)
	} else {
		for i := range t.Data {
			t.Data[i] = fill
		}
		name = "ln_ones"
		if fill == 0 {
			name = "ln_zeros"
		}
	}
	out := r.fresh(name + "_vec")
	p, err := tensorProto(out, t)
	if err != nil {
		return "", err
	}
	r.m.Graph.Initializer = append(r.m.Graph.Initializer, p)
	return out, nil
}

func (r *rewriter) reindex() error {
	ix, err := newIndex(r.m)
	if err != nil {
		return err
	}
	r.ix = ix
	r.prod = map[string]*onnxpb.NodeProto{}
	for _, n := range r.m.Graph.Node {
		for _, o := range n.Output {
			r.prod[o] = n
		}
	}
	return nil
}

// subtractions rewrites Sub(a, b) of two activations as Add(a, Neg(b)):
// op set v1's Add takes positive multipliers only, and Neg is a table.
func (r *rewriter) subtractions() {
	var nodes []*onnxpb.NodeProto
	for _, n := range r.m.Graph.Node {
		if n.OpType == "Sub" && n.Domain == "" && len(n.Input) == 2 && !r.ix.isConst(n.Input[0]) && !r.ix.isConst(n.Input[1]) {
			neg := r.fresh(n.Input[1] + "_neg")
			nodes = append(nodes, &onnxpb.NodeProto{Name: r.fresh(nodeName(n) + "_neg"), OpType: "Neg", Input: []string{n.Input[1]}, Output: []string{neg}})
			r.notes = append(r.notes, fmt.Sprintf("%s of two activations became Add of the first and Neg of the second", onnx.Describe(n)))
			n.OpType = "Add"
			n.Input = []string{n.Input[0], neg}
		}
		nodes = append(nodes, n)
	}
	r.m.Graph.Node = nodes
}
