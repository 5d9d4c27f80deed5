package onnx

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// Options tune an import.
type Options struct {
	// Dims fixes symbolic input dimensions by name (e.g. "batch": 1). A
	// symbolic dimension not listed here becomes 1.
	Dims map[string]int
}

// Result is a converted model and what the conversion did.
type Result struct {
	Model  *inference.Model
	Bytes  []byte
	Report *Report
}

// Report says how each ONNX node was converted and how the converted
// model's inputs and outputs relate to the ONNX model's.
type Report struct {
	Opset   int64
	Nodes   []NodeReport
	Inputs  []IOReport
	Outputs []IOReport
	// Notes lists every adjustment the import made that changes numbers
	// (requantized weights, approximated constants) and every choice a user
	// should know about (fixed dimensions, layouts).
	Notes []string
}

// NodeReport is one ONNX node and the engine ops it became.
type NodeReport struct {
	Index  int
	Name   string
	OpType string
	// Engine lists the engine ops written for this node, in order. Empty
	// means the node was absorbed: a view (Reshape, Transpose), a
	// quantization boundary, or folded into a neighbour (see How).
	Engine []string
	How    string
}

// IOReport describes one input or output of the converted model.
type IOReport struct {
	Name      string          // the ONNX name
	ONNXType  string          // the ONNX element type
	Shape     []int           // the ONNX shape (the engine uses the same, row-major)
	DType     inference.DType `json:"-"`
	Type      string          // DType's name
	Scale     float64         // real = Scale·(q − ZeroPoint); 0 for indices
	ZeroPoint int32
	// Offset is what the engine's value adds to the ONNX integer value:
	// −128 for uint8 tensors (the engine holds them as int8), else 0.
	Offset int32
	// Bytes is the tensor's size in the call's input or output.
	Bytes int

	position int
}

// importer holds the state of one conversion.
type importer struct {
	opset    int64
	opts     Options
	g        *engineGraph
	vals     map[string]*value
	uses     map[string]int // how many node inputs read each value
	report   *Report
	cur      *NodeReport
	inputPos map[int]int // engine input tensor → ONNX input position
	notes    map[string]bool
}

func (im *importer) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if !im.notes[s] {
		im.notes[s] = true
		im.report.Notes = append(im.report.Notes, s)
	}
}

// Import converts an ONNX model (the file's bytes) to the engine's
// canonical format. It refuses malformed files (ErrMalformed), models
// without quantization (ErrFloatOnly), and anything op set v1 cannot
// express (ErrUnsupported), naming every offending node and the reason.
func Import(data []byte, opts Options) (*Result, error) {
	m, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return ImportModel(m, opts)
}

// ImportModel is Import for a parsed model.
func ImportModel(m *onnxpb.ModelProto, opts Options) (*Result, error) {
	if m == nil || m.Graph == nil || len(m.Graph.Node) == 0 {
		return nil, malformed("no graph, or a graph without nodes")
	}
	opset, err := opsets(m)
	if err != nil {
		return nil, err
	}
	g := m.Graph
	nodes, err := topoOrder(g)
	if err != nil {
		return nil, err
	}
	if err := checkOps(g, nodes); err != nil {
		return nil, err
	}
	im := &importer{
		opset: opset, opts: opts,
		g:        &engineGraph{memo: map[string]int{}, reshapedFrom: map[int]int{}},
		vals:     map[string]*value{},
		uses:     map[string]int{},
		report:   &Report{Opset: opset},
		inputPos: map[int]int{},
		notes:    map[string]bool{},
	}
	for _, n := range nodes {
		for _, in := range n.Input {
			if in != "" {
				im.uses[in]++
			}
		}
	}
	if err := im.initializers(g); err != nil {
		return nil, err
	}
	if err := im.graphInputs(g, nodes); err != nil {
		return nil, err
	}
	// A node the importer refuses does not stop the conversion: the ones
	// after it that do not depend on it are still checked, so the error
	// names every refused node at once.
	var refused []error
	skipped := map[string]bool{}
	for i, n := range nodes {
		im.report.Nodes = append(im.report.Nodes, NodeReport{Index: i, Name: n.Name, OpType: opName(n)})
		im.cur = &im.report.Nodes[len(im.report.Nodes)-1]
		im.g.attr = im.origin()
		if readsAny(n, skipped) {
			markOutputs(n, skipped)
			continue
		}
		if err := im.convert(n); err != nil {
			if !errors.Is(err, ErrUnsupported) {
				return nil, err
			}
			refused = append(refused, err)
			markOutputs(n, skipped)
		}
	}
	if err := joinRefusals(refused); err != nil {
		return nil, err
	}
	if err := im.graphOutputs(g); err != nil {
		return nil, err
	}
	for _, vi := range g.Input {
		if v := im.vals[vi.Name]; v != nil && v.kind == kFloatInput && v.in.q == nil {
			im.note("input %q is never quantized (unused): the converted model takes no bytes for it", vi.Name)
		}
	}
	// The call's input is the ONNX inputs in their ONNX order.
	sort.SliceStable(im.g.inputs, func(a, b int) bool { return im.inputPos[im.g.inputs[a]] < im.inputPos[im.g.inputs[b]] })
	sort.SliceStable(im.report.Inputs, func(a, b int) bool { return im.ioPos(a) < im.ioPos(b) })
	model, raw, origins, err := im.g.build()
	if err != nil {
		return nil, fmt.Errorf("%w: the converted model is invalid: %v", ErrUnsupported, err)
	}
	byOrigin := map[string][]string{}
	for i, o := range origins {
		byOrigin[o] = append(byOrigin[o], model.Nodes[i].Op.String())
	}
	for i := range im.report.Nodes {
		nr := &im.report.Nodes[i]
		nr.Engine = byOrigin[originKey(nr.Index)]
	}
	for k, vi := range g.Output {
		if ops := byOrigin[originKey(-1-k)]; len(ops) > 0 {
			im.report.Nodes = append(im.report.Nodes, NodeReport{Index: -1, Name: vi.Name, OpType: "(graph output)", Engine: ops,
				How: "back to the ONNX layout"})
		}
	}
	return &Result{Model: model, Bytes: raw, Report: im.report}, nil
}

func (im *importer) ioPos(i int) int { return im.report.Inputs[i].position }

func opName(n *onnxpb.NodeProto) string {
	if n.Domain != "" && n.Domain != "ai.onnx" {
		return n.Domain + "." + n.OpType
	}
	return n.OpType
}

func originKey(index int) string { return fmt.Sprintf("#%d", index) }

// origin is the current node's key for the engine nodes it writes.
func (im *importer) origin() string { return originKey(im.cur.Index) }

// how records how the current node was converted.
func (im *importer) how(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if im.cur.How == "" {
		im.cur.How = s
	} else {
		im.cur.How += "; " + s
	}
}

// topoOrder returns the nodes in a topological order, the file's order
// where it already is one (ONNX requires it; a few exporters do not comply).
func topoOrder(g *onnxpb.GraphProto) ([]*onnxpb.NodeProto, error) {
	defined := map[string]bool{"": true}
	for _, t := range g.Initializer {
		defined[t.Name] = true
	}
	for _, in := range g.Input {
		defined[in.Name] = true
	}
	producers := map[string]bool{}
	for _, n := range g.Node {
		for _, o := range n.Output {
			if o == "" {
				continue
			}
			if producers[o] || (defined[o] && o != "") {
				return nil, malformed("value %q is defined more than once", o)
			}
			producers[o] = true
		}
	}
	out := make([]*onnxpb.NodeProto, 0, len(g.Node))
	done := make([]bool, len(g.Node))
	for len(out) < len(g.Node) {
		progress := false
		for i, n := range g.Node {
			if done[i] {
				continue
			}
			ready := true
			for _, in := range n.Input {
				if !defined[in] {
					ready = false
					break
				}
			}
			if !ready {
				continue
			}
			done[i] = true
			progress = true
			out = append(out, n)
			for _, o := range n.Output {
				defined[o] = true
			}
		}
		if !progress {
			for i, n := range g.Node {
				if done[i] {
					continue
				}
				for _, in := range n.Input {
					if !defined[in] {
						if !producers[in] {
							return nil, malformed("node %s reads %q, which nothing defines", describe(n), in)
						}
					}
				}
			}
			return nil, malformed("the graph has a cycle")
		}
	}
	return out, nil
}

func (im *importer) initializers(g *onnxpb.GraphProto) error {
	if len(g.SparseInitializer) > 0 {
		return fmt.Errorf("%w: sparse initializers", ErrUnsupported)
	}
	for _, t := range g.Initializer {
		if t.Name == "" {
			return malformed("an initializer has no name")
		}
		d, err := decodeTensor(t)
		if err != nil {
			return err
		}
		im.vals[t.Name] = &value{kind: kConst, c: d}
	}
	return nil
}

// inputShape reads a graph input's declared shape, fixing symbolic dims.
func (im *importer) inputShape(vi *onnxpb.ValueInfoProto) (onnxpb.TensorProto_DataType, []int, error) {
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return 0, nil, fmt.Errorf("%w: input %q is not a tensor", ErrUnsupported, vi.Name)
	}
	if tt.Shape == nil {
		return 0, nil, fmt.Errorf("%w: input %q has no declared shape", ErrUnsupported, vi.Name)
	}
	if len(tt.Shape.Dim) > MaxRank {
		return 0, nil, malformed("input %q has rank %d", vi.Name, len(tt.Shape.Dim))
	}
	shape := make([]int, len(tt.Shape.Dim))
	for i, d := range tt.Shape.Dim {
		switch v := d.Value.(type) {
		case *onnxpb.TensorShapeProto_Dimension_DimValue:
			if v.DimValue < 1 || v.DimValue > 1<<24 {
				return 0, nil, fmt.Errorf("%w: input %q dimension %d is %d", ErrUnsupported, vi.Name, i, v.DimValue)
			}
			shape[i] = int(v.DimValue)
		default:
			name := d.GetDimParam()
			fixed, ok := im.opts.Dims[name]
			if !ok {
				fixed = 1
			}
			if fixed < 1 || fixed > 1<<24 {
				return 0, nil, fmt.Errorf("%w: dimension %q fixed to %d", ErrUnsupported, name, fixed)
			}
			shape[i] = fixed
			if name == "" {
				name = "?"
			}
			im.note("input %q: symbolic dimension %d (%s) fixed to %d (the converted model has static shapes; batch 1)", vi.Name, i, name, fixed)
		}
	}
	return onnxpb.TensorProto_DataType(tt.ElemType), shape, nil
}

func (im *importer) graphInputs(g *onnxpb.GraphProto, nodes []*onnxpb.NodeProto) error {
	pos := 0
	for _, vi := range g.Input {
		if _, isInit := im.vals[vi.Name]; isInit {
			continue // IR < 4 lists initializers as inputs too
		}
		elem, shape, err := im.inputShape(vi)
		if err != nil {
			return err
		}
		switch {
		case isFloatType(elem):
			im.vals[vi.Name] = &value{kind: kFloatInput, in: &floatInput{name: vi.Name, pos: pos, shape: shape}}
		case elem == onnxpb.TensorProto_INT8 || elem == onnxpb.TensorProto_UINT8:
			scale, zp := im.integerInputParams(vi.Name, nodes)
			dt, off, _ := engineType(elem)
			q := qparams{scale: scale, zp: int32(zp - off), dtype: dt, uint8: off != 0}
			t := im.g.input(dt, q.zp, shape)
			im.inputPos[t] = pos
			im.vals[vi.Name] = &value{kind: kQuant, q: &qtensor{t: t, phys: shape, perm: identity(len(shape)), shape: shape, q: q}}
			im.addIO(&im.report.Inputs, vi.Name, elem, shape, q, pos)
		case elem == onnxpb.TensorProto_INT32 || elem == onnxpb.TensorProto_INT64:
			t := im.g.input(inference.Int32, 0, shape)
			im.inputPos[t] = pos
			q := qparams{scale: 0, dtype: inference.Int32}
			im.vals[vi.Name] = &value{kind: kInt, q: &qtensor{t: t, phys: shape, perm: identity(len(shape)), shape: shape, q: q}}
			im.addIO(&im.report.Inputs, vi.Name, elem, shape, q, pos)
			if elem == onnxpb.TensorProto_INT64 {
				im.note("input %q is int64 in ONNX; the converted model takes it as int32 (little-endian)", vi.Name)
			}
		default:
			return fmt.Errorf("%w: input %q has element type %s", ErrUnsupported, vi.Name, elem)
		}
		pos++
	}
	return nil
}

// quantizedOperands lists, per quantized op, which inputs are quantized
// activations and where their scale and zero point are: {x, scale, zp}.
var quantizedOperands = map[string][][3]int{
	"DequantizeLinear":                       {{0, 1, 2}},
	"QLinearConv":                            {{0, 1, 2}},
	"QLinearMatMul":                          {{0, 1, 2}, {3, 4, 5}},
	"MatMulInteger":                          {{0, -1, 2}, {1, -1, 3}},
	"ConvInteger":                            {{0, -1, 2}},
	"com.microsoft.QGemm":                    {{0, 1, 2}, {3, 4, 5}},
	"com.microsoft.QLinearAdd":               {{0, 1, 2}, {3, 4, 5}},
	"com.microsoft.QLinearMul":               {{0, 1, 2}, {3, 4, 5}},
	"com.microsoft.QLinearSigmoid":           {{0, 1, 2}},
	"com.microsoft.QLinearLeakyRelu":         {{0, 1, 2}},
	"com.microsoft.QLinearSoftmax":           {{0, 1, 2}},
	"com.microsoft.QLinearGlobalAveragePool": {{0, 1, 2}},
	"com.microsoft.QLinearAveragePool":       {{0, 1, 2}},
}

// integerInputParams finds the scale and zero point a quantized graph
// input is read with: from the first node that reads it with parameters.
// The engine fixes a tensor's zero point when it is declared.
func (im *importer) integerInputParams(name string, nodes []*onnxpb.NodeProto) (float64, int64) {
	for _, n := range nodes {
		for _, op := range quantizedOperands[opName(n)] {
			if op[0] >= len(n.Input) || n.Input[op[0]] != name {
				continue
			}
			scale, zp := 0.0, int64(0)
			if op[1] >= 0 {
				if s, _, err := im.scalarParam(n, op[1], 0); err == nil {
					scale = s
				}
			}
			if z, _, err := im.scalarParam(n, op[2], 0); err == nil {
				zp = int64(z)
			}
			return scale, zp
		}
	}
	return 0, 0
}

func (im *importer) addIO(list *[]IOReport, name string, elem onnxpb.TensorProto_DataType, shape []int, q qparams, pos int) {
	r := IOReport{Name: name, ONNXType: strings.ToLower(elem.String()), Shape: append([]int{}, shape...),
		DType: q.dtype, Type: q.dtype.String(), Scale: q.scale, ZeroPoint: q.zp, Bytes: product(shape) * q.dtype.Size(), position: pos}
	if q.uint8 {
		r.Offset = -128
	}
	*list = append(*list, r)
}

func (im *importer) graphOutputs(g *onnxpb.GraphProto) error {
	used := map[int]bool{}
	for k, vi := range g.Output {
		v, ok := im.vals[vi.Name]
		if !ok {
			return malformed("output %q is not defined by any node", vi.Name)
		}
		im.cur = &NodeReport{Index: -1 - k}
		im.g.attr = im.origin()
		var x *qtensor
		elem := onnxpb.TensorProto_FLOAT
		if tt := vi.GetType().GetTensorType(); tt != nil {
			elem = onnxpb.TensorProto_DataType(tt.ElemType)
		}
		switch v.kind {
		case kQuant, kDeq, kInt:
			x = v.q
		case kPending:
			if v.p.rawAcc && elem == onnxpb.TensorProto_INT32 {
				// MatMulInteger/ConvInteger's accumulator as the output:
				// the engine writes it as int32, exactly (multiplier 1).
				q, err := im.emitPending(v.p, qparams{scale: 1, dtype: inference.Int32})
				if err != nil {
					return err
				}
				x = q
				break
			}
			if v.p.passthrough == nil {
				return fmt.Errorf("%w: output %q is the unquantized float result of %s; add a QuantizeLinear (and DequantizeLinear) after it: the engine's outputs are integers", ErrUnsupported, vi.Name, v.p.origin)
			}
			q, err := im.materialize(v.p)
			if err != nil {
				return err
			}
			x = q
		case kFloatInput:
			return fmt.Errorf("%w: output %q is a float graph input passed through", ErrUnsupported, vi.Name)
		default:
			return fmt.Errorf("%w: output %q is a constant", ErrUnsupported, vi.Name)
		}
		x = im.logical(im.origin(), x)
		if used[x.t] || slices.Contains(im.g.inputs, x.t) {
			// Each output is its own tensor: copy by an identity reshape.
			t := im.g.node(inference.OpReshape, &inference.NoAttrs{}, x.q.dtype, x.q.zp, x.phys, x.t)
			x = x.withTensor(t, x.q)
		}
		used[x.t] = true
		im.g.outputs = append(im.g.outputs, x.t)
		im.addIO(&im.report.Outputs, vi.Name, elem, x.shape, x.q, k)
		if elem == onnxpb.TensorProto_INT64 {
			im.note("output %q is int64 in ONNX; the converted model writes it as int32 (little-endian)", vi.Name)
		}
	}
	// Report the ops written for the outputs under the last node.
	return nil
}

// get returns an input value of node n, or nil for an absent optional input.
func (im *importer) get(n *onnxpb.NodeProto, i int) (*value, error) {
	if i >= len(n.Input) || n.Input[i] == "" {
		return nil, nil
	}
	v, ok := im.vals[n.Input[i]]
	if !ok {
		return nil, malformed("node %s reads %q, which is not defined", describe(n), n.Input[i])
	}
	return v, nil
}

// need is get for a required input.
func (im *importer) need(n *onnxpb.NodeProto, i int) (*value, error) {
	v, err := im.get(n, i)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, malformed("node %s lacks its input %d", describe(n), i)
	}
	return v, nil
}

// set defines output i of n.
func (im *importer) set(n *onnxpb.NodeProto, i int, v *value) error {
	if i >= len(n.Output) || n.Output[i] == "" {
		return nil
	}
	if v.kind == kPending && v.p.key == "" {
		v.p.key = im.origin()
	}
	im.vals[n.Output[i]] = v
	return nil
}

// onlyFirstOutput refuses nodes whose extra outputs something reads.
func (im *importer) onlyFirstOutput(n *onnxpb.NodeProto) error {
	for _, o := range n.Output[min(1, len(n.Output)):] {
		if o != "" && im.uses[o] > 0 {
			return unsupported(describe(n), "its output %q is used; only the first output is supported", o)
		}
	}
	return nil
}

// constant returns input i as a constant (a dequantized constant is
// converted to its real values).
func (im *importer) constant(n *onnxpb.NodeProto, i int) (*tensorData, error) {
	v, err := im.get(n, i)
	if err != nil || v == nil {
		return nil, err
	}
	switch v.kind {
	case kConst:
		return v.c, nil
	case kDeqConst:
		return &tensorData{name: v.dc.q.name, elem: onnxpb.TensorProto_FLOAT, shape: v.dc.q.shape, f: v.dc.reals()}, nil
	}
	return nil, unsupported(describe(n), "input %d (%q) must be a constant", i, n.Input[i])
}

// scalarParam reads a per-tensor scale or zero point.
func (im *importer) scalarParam(n *onnxpb.NodeProto, i int, def float64) (float64, onnxpb.TensorProto_DataType, error) {
	c, err := im.constant(n, i)
	if err != nil {
		return 0, 0, err
	}
	if c == nil {
		return def, onnxpb.TensorProto_UINT8, nil
	}
	if c.elements() != 1 {
		return 0, 0, unsupported(describe(n), "input %d (%q) has %d elements; activations are quantized per tensor", i, n.Input[i], c.elements())
	}
	return c.at(0), c.elem, nil
}

// activationParams reads an activation's (scale, zero point) inputs of a
// quantized op, as engine qparams.
func (im *importer) activationParams(n *onnxpb.NodeProto, si, zi int) (qparams, error) {
	scale, _, err := im.scalarParam(n, si, 0)
	if err != nil {
		return qparams{}, err
	}
	if !(scale > 0) || math.IsInf(scale, 0) {
		return qparams{}, unsupported(describe(n), "scale %g is not a positive finite number", scale)
	}
	zp, elem, err := im.scalarParam(n, zi, 0)
	if err != nil {
		return qparams{}, err
	}
	dt, off, ok := engineType(elem)
	if !ok {
		return qparams{}, unsupported(describe(n), "quantized type %s: op set v1 activations are int8 (uint8 is shifted to int8)", elem)
	}
	return qparams{scale: scale, zp: int32(int64(zp) - off), dtype: dt, uint8: off != 0}, nil
}

// convert dispatches one node.
func (im *importer) convert(n *onnxpb.NodeProto) error {
	a, err := nodeAttrs(n)
	if err != nil {
		return err
	}
	// Constant folding: a node whose inputs are all constants is evaluated
	// now, in float64, exactly as the reference interpreter would.
	if folded, err := im.fold(n); err != nil || folded {
		return err
	}
	h, ok := handlers[opName(n)]
	if !ok {
		return unsupported(describe(n), "%s", refusalReason(opName(n)))
	}
	return h(im, n, a)
}

func readsAny(n *onnxpb.NodeProto, names map[string]bool) bool {
	for _, in := range n.Input {
		if names[in] {
			return true
		}
	}
	return false
}

func markOutputs(n *onnxpb.NodeProto, names map[string]bool) {
	for _, o := range n.Output {
		if o != "" {
			names[o] = true
		}
	}
}

// joinRefusals returns the one refusal as it is, or all of them in one
// error (nodes that only read a refused node's output are not listed).
func joinRefusals(refused []error) error {
	switch len(refused) {
	case 0:
		return nil
	case 1:
		return refused[0]
	}
	prefix := ErrUnsupported.Error() + ": "
	lines := make([]string, len(refused))
	for i, err := range refused {
		lines[i] = "  " + strings.TrimPrefix(err.Error(), prefix)
	}
	return fmt.Errorf("%w: %d node(s) cannot be converted to op set v1:\n%s", ErrUnsupported, len(refused), strings.Join(lines, "\n"))
}
