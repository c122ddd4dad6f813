package uniter

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/data/torchckpt"
	"github.com/uniter-go/uniter/uniter/named"
)

func TestNLVR2AndEntailmentLossesOnKnownValues(t *testing.T) {
	outs := callOps(t, newStore(0), func(scope *model.Scope, in []*Node) []*Node {
		g := in[0].Graph()
		return []*Node{NLVR2Loss(in[0], Const(g, []int32{1, 0}), nil), NLVR2Loss(in[0], Const(g, []int32{1, 0}), Const(g, []float32{0, 1})),
			VQALoss(Zeros(g, shapesOf(4, VisualEntailmentClasses)), Zeros(g, shapesOf(4, VisualEntailmentClasses)), nil)}
	}, [][]float32{{0, 0}, {2, 0}})
	ce := []float64{math.Ln2, math.Log(1 + math.Exp(-2))}
	for i, want := range []float64{(ce[0] + ce[1]) / 2, ce[1], 3 * math.Ln2} {
		if math.Abs(float64(outs[i][0])-want) > 1e-6 {
			t.Errorf("case %d: %g, want %g", i, outs[i][0], want)
		}
	}
}

// TestNLVR2PairedAndTripletHeads checks the paired head's pairing (rows 2i and 2i+1 concatenated in that order) and
// the triplet head against the Linear layer computed from the variables, and the SNLI-VE objective against its
// head and loss.
func TestNLVR2PairedAndTripletHeads(t *testing.T) {
	cfg := testConfig()
	cfg.TypeVocabSize = NLVR2TypeVocabSize
	store := newStore(9)
	tb := newTinyBatch(cfg, 9)
	four := []int32{0, 1, 2, 0}
	outs := call(t, store, tb.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
		batch := named.Bind[Inputs](in)
		g := batch.InputIDs.Graph()
		x := gatherRows(batch, Reshape(Const(g, four), 4, 1))
		paired := NLVR2(scope, cfg, NLVR2Paired, NLVR2Inputs{Inputs: x, Targets: Const(g, []int32{1, 0})})
		pooled := Backbone(scope, cfg, x, Options{}).Pooled
		w := store.GetVariable(VariablePath("nlvr2_output.weight")).NodeValue(g) // [2, 2H]
		b := store.GetVariable(VariablePath("nlvr2_output.bias")).NodeValue(g)
		row := func(i int) *Node { return Slice(pooled, AxisRange(i, i+1)) }
		pairs := Concatenate([]*Node{Concatenate([]*Node{row(0), row(1)}, 1), Concatenate([]*Node{row(2), row(3)}, 1)}, 0)
		manual := Add(Einsum("bk,ok->bo", pairs, w), InsertAxes(b, 0))
		return named.Nodes{"logits": paired.Logits, "manual": manual, "loss": paired.Loss}
	})
	if d := maxAbs(outs["logits"], outs["manual"]); d > 1e-5 {
		t.Errorf("paired logits differ from nlvr2_output([pooled 2i, pooled 2i+1]) by %g", d)
	}
	logits := outs["logits"]
	want := (logSumExp(logits[0:2]) - float64(logits[1]) + logSumExp(logits[2:4]) - float64(logits[2])) / 2
	if math.Abs(float64(outs["loss"][0])-want) > 1e-5 {
		t.Errorf("paired loss %g, want %g", outs["loss"][0], want)
	}

	store = newStore(10)
	outs = call(t, store, tb.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
		x := named.Bind[Inputs](in)
		g := x.InputIDs.Graph()
		triplet := NLVR2(scope, cfg, NLVR2Triplet, NLVR2Inputs{Inputs: x, Targets: Const(g, []int32{1, 0, 1})})
		pooled := Backbone(scope, cfg, x, Options{}).Pooled
		w := store.GetVariable(VariablePath("nlvr2_output.weight")).NodeValue(g) // [2, H]
		b := store.GetVariable(VariablePath("nlvr2_output.bias")).NodeValue(g)
		targets := Const(g, [][]float32{{0, 1, 0}, {1, 0, 0}, {0, 0, 1}})
		ve := VisualEntailment(scope, cfg, VisualEntailmentInputs{Inputs: x, Targets: targets})
		return named.Nodes{"triplet": triplet.Logits, "triplet_manual": Add(Einsum("bk,ok->bo", pooled, w), InsertAxes(b, 0)),
			"ve": ve.Logits, "ve_head": VisualEntailmentHead(scope, cfg, pooled), "ve_loss": ve.Loss,
			"ve_vqa_loss": VQALoss(ve.Logits, targets, nil)}
	})
	if d := maxAbs(outs["triplet"], outs["triplet_manual"]); d > 1e-5 {
		t.Errorf("triplet logits differ from nlvr2_output(pooled) by %g", d)
	}
	if d := maxAbs(outs["ve"], outs["ve_head"]); len(outs["ve"]) != 3*VisualEntailmentClasses || d > 1e-5 || outs["ve_loss"][0] != outs["ve_vqa_loss"][0] {
		t.Errorf("SNLI-VE: %d logits (want 9), head difference %g, loss %g vs VQALoss %g", len(outs["ve"]), d, outs["ve_loss"][0], outs["ve_vqa_loss"][0])
	}
}

func logSumExp(x []float32) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}

// TestNLVR2PairedAttnMatchesReference checks the paired-attn head against a plain Go transcription of ORIG's
// UniterForNlvr2PairedAttn (PyTorch's MultiheadAttention with key_padding_mask, fc, AttentionPool, nlvr2_output)
// on the same last-layer states, and that padding never changes its logits.
func TestNLVR2PairedAttnMatchesReference(t *testing.T) {
	cfg := testConfig()
	cfg.TypeVocabSize = NLVR2TypeVocabSize
	cfg.InitializerRange = 0.1
	store := newStore(12)
	tb := newTinyBatch(cfg, 12)
	rows := []int32{0, 1, 2, 1}
	types := [][]int32{{1, 1, 1, 1, 1}, {2, 2, 2, 2, 2}, {1, 1, 1, 1, 1}}
	fn := func(scope *model.Scope, in named.Nodes) named.Nodes {
		x := named.Bind[Inputs](in)
		g := x.InputIDs.Graph()
		x = gatherRows(x, Reshape(Const(g, rows), 4, 1))
		out := Backbone(scope, cfg, x, Options{})
		return named.Nodes{"logits": NLVR2(scope, cfg, NLVR2PairedAttn, NLVR2Inputs{Inputs: x, Targets: Const(g, []int32{0, 1})}).Logits,
			"seq": out.Sequence, "mask": out.AttentionMask}
	}
	outs := call(t, store, tb.inputs(map[string]any{"ImgTypeIDs": types}), fn)
	logits, seq, mask := outs["logits"], outs["seq"], outs["mask"]
	p := func(key string) []float32 { return variableValues(t, store, key) }
	h, l := cfg.HiddenSize, len(mask)/4
	at := func(row int) ([]float32, []float32) { return seq[row*l*h : (row+1)*l*h], mask[row*l : (row+1)*l] }
	for ex := range 2 {
		left, leftMask := at(2 * ex)
		right, rightMask := at(2*ex + 1)
		l2r := refMultiheadAttention(left, right, rightMask, p("attn1.in_proj_weight"), p("attn1.in_proj_bias"),
			p("attn1.out_proj.weight"), p("attn1.out_proj.bias"), h, cfg.NumAttentionHeads)
		r2l := refMultiheadAttention(right, left, leftMask, p("attn2.in_proj_weight"), p("attn2.in_proj_bias"),
			p("attn2.out_proj.weight"), p("attn2.out_proj.bias"), h, cfg.NumAttentionHeads)
		fc := func(attended []float64, own []float32) []float64 {
			out := make([]float64, len(own))
			for i := range len(own) / h {
				in := append(slices64(attended[i*h:(i+1)*h]), slices64f(own[i*h:(i+1)*h])...)
				copy(out[i*h:], refLinear(in, p("fc.0.weight"), p("fc.0.bias"), relu64))
			}
			return out
		}
		pool := func(x []float64, m []float32) []float64 {
			n := len(m)
			scores := make([]float64, n)
			for i := range n {
				scores[i] = refLinear(x[i*h:(i+1)*h], p("attn_pool.fc.0.weight"), p("attn_pool.fc.0.bias"), relu64)[0] + (1-float64(m[i]))*-1e4
			}
			w := refSoftmax(scores)
			out := make([]float64, h)
			for i := range n {
				for k := range h {
					out[k] += w[i] * x[i*h+k]
				}
			}
			return out
		}
		pooled := append(pool(fc(l2r, left), leftMask), pool(fc(r2l, right), rightMask)...)
		want := refLinear(pooled, p("nlvr2_output.weight"), p("nlvr2_output.bias"), nil)
		for c := range 2 {
			if got := float64(logits[ex*2+c]); math.Abs(got-want[c]) > 1e-4*math.Max(1, math.Abs(want[c])) {
				t.Errorf("example %d class %d: logit %g, reference %g", ex, c, got, want[c])
			}
		}
	}
	// Garbage in the padding of text and regions leaves the logits alone.
	for i := range tb.ids {
		for j := tb.txtLens[i]; j < len(tb.ids[i]); j++ {
			tb.ids[i][j] = 999
		}
		for j := tb.regionLens[i]; j < len(tb.feat[i]); j++ {
			for k := range tb.feat[i][j] {
				tb.feat[i][j][k] = 3
			}
		}
	}
	if d := maxAbs(call(t, store, tb.inputs(map[string]any{"ImgTypeIDs": types}), fn)["logits"], logits); d > 1e-5 {
		t.Errorf("padding changed the paired-attn logits by %g", d)
	}
}

// refMultiheadAttention is PyTorch's multi_head_attention_forward (ORIG model/attention.py) in float64 for one
// example: query [Lq·H], key = value [Lk·H], keys with mask 0 get −∞.
func refMultiheadAttention(query, kv, keyMask, inW, inB, outW, outB []float32, h, heads int) []float64 {
	lq, lk, dh := len(query)/h, len(kv)/h, h/heads
	proj := func(x []float32, part int) [][]float64 {
		rows := make([][]float64, len(x)/h)
		for i := range rows {
			rows[i] = refLinear(slices64f(x[i*h:(i+1)*h]), inW[part*h*h:(part+1)*h*h], inB[part*h:(part+1)*h], nil)
		}
		return rows
	}
	q, k, v := proj(query, 0), proj(kv, 1), proj(kv, 2)
	scale := 1 / math.Sqrt(float64(dh))
	context := make([]float64, lq*h)
	for hd := range heads {
		for i := range lq {
			scores := make([]float64, lk)
			for j := range lk {
				if keyMask[j] == 0 {
					scores[j] = math.Inf(-1)
					continue
				}
				for d := hd * dh; d < (hd+1)*dh; d++ {
					scores[j] += q[i][d] * scale * k[j][d]
				}
			}
			w := refSoftmax(scores)
			for j := range lk {
				for d := hd * dh; d < (hd+1)*dh; d++ {
					context[i*h+d] += w[j] * v[j][d]
				}
			}
		}
	}
	out := make([]float64, lq*h)
	for i := range lq {
		copy(out[i*h:], refLinear(context[i*h:(i+1)*h], outW, outB, nil))
	}
	return out
}

// refLinear is x Wᵀ + b for a PyTorch-layout weight [out, len(x)], followed by act when not nil.
func refLinear(x []float64, w, b []float32, act func(float64) float64) []float64 {
	out := make([]float64, len(b))
	for o := range out {
		s := float64(b[o])
		for i, xi := range x {
			s += xi * float64(w[o*len(x)+i])
		}
		if act != nil {
			s = act(s)
		}
		out[o] = s
	}
	return out
}

func refSoftmax(x []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	out := make([]float64, len(x))
	var s float64
	for i, v := range x {
		out[i] = math.Exp(v - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

func relu64(x float64) float64 { return math.Max(x, 0) }

func slices64(x []float64) []float64 { return append([]float64(nil), x...) }

func slices64f(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// TestNLVR2PairedAttnMatchesPyTorch checks the paired-attn head against PyTorch's nn.MultiheadAttention and ORIG's
// AttentionPool and forward (testdata/fixtures/nlvr2-paired-attn/head.npz, written by
// tools/reference/nlvr2_attn_ref.py), with nonzero biases and garbage states at padded positions.
func TestNLVR2PairedAttnMatchesPyTorch(t *testing.T) {
	sd, err := torchckpt.Read("../testdata/fixtures/nlvr2-paired-attn/head.npz")
	if err != nil {
		t.Fatal(err)
	}
	fixture := sd.Tensors()
	cfg := testConfig()
	store := newStore(1)
	rep, err := LoadWeights(store, cfg, fixture, HeadNLVR2PairedAttn)
	if err != nil {
		t.Fatal(err)
	}
	headKeys, _ := ParameterShapes(cfg, HeadNLVR2PairedAttn)
	backbone, _ := ParameterShapes(cfg)
	if len(rep.Loaded) != len(headKeys)-len(backbone) {
		t.Fatalf("loaded %d head tensors, want %d: %s", len(rep.Loaded), len(headKeys)-len(backbone), rep)
	}
	outs := callOps(t, store, func(scope *model.Scope, in []*Node) []*Node {
		return []*Node{NLVR2PairedAttnHead(scope, cfg, in[0], in[1])}
	}, fixture["seq"], fixture["attn_mask"])
	want := sd["logits"].Data
	if d := maxAbs(outs[0], want); d > 1e-5 {
		t.Errorf("logits %v, PyTorch %v (max difference %g)", outs[0], want, d)
	}
}

// TestNLVR2PaddingPairIsFinite checks that a pair of padding rows (no real token, no real region), as the last
// batch of an evaluation pass holds, gives finite paired-attn logits, and weighted 0 leaves the loss of the real
// pair unchanged.
func TestNLVR2PaddingPairIsFinite(t *testing.T) {
	cfg := testConfig()
	cfg.TypeVocabSize = NLVR2TypeVocabSize
	store := newStore(14)
	tb := newTinyBatch(cfg, 14)
	for j := range tb.txtMask[2] {
		tb.txtMask[2][j] = 0
	}
	for j := range tb.imgMask[2] {
		tb.imgMask[2][j] = 0
	}
	outs := call(t, store, tb.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
		x := named.Bind[Inputs](in)
		g := x.InputIDs.Graph()
		pairs := gatherRows(x, Reshape(Const(g, []int32{0, 1, 2, 2}), 4, 1))
		padded := NLVR2(scope, cfg, NLVR2PairedAttn, NLVR2Inputs{Inputs: pairs, Targets: Const(g, []int32{1, 0}), Weights: Const(g, []float32{1, 0})})
		alone := NLVR2(scope, cfg, NLVR2PairedAttn, NLVR2Inputs{Inputs: gatherRows(x, Reshape(Const(g, []int32{0, 1}), 2, 1)), Targets: Const(g, []int32{1})})
		return named.Nodes{"logits": padded.Logits, "loss": padded.Loss, "alone": alone.Loss}
	})
	for _, v := range outs["logits"] {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("logits %v", outs["logits"])
		}
	}
	if d := math.Abs(float64(outs["loss"][0] - outs["alone"][0])); d > 1e-6 {
		t.Errorf("loss with a padding pair weighted 0: %g, the real pair alone %g", outs["loss"][0], outs["alone"][0])
	}
}
