package uniter

import (
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint
	"github.com/gomlx/gomlx/ml/model"

	"github.com/uniter-go/uniter/uniter/named"
)

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func TestTripletRankingLossOnKnownValues(t *testing.T) {
	scores := [][]float32{{2, 0, -1}, {0.5, 1, 0.5}}
	outs := callOps(t, newStore(0), func(scope *model.Scope, in []*Node) []*Node {
		g := in[0].Graph()
		return []*Node{TripletRankingLoss(in[0], 0.2, nil), TripletRankingLoss(in[0], 0.2, Const(g, []float32{0, 1})),
			TripletRankingLoss(in[0], 0.2, Const(g, []float32{1, 0}))}
	}, scores)
	// Group 0: σ(2) beats both negatives by more than the margin: 0, 0. Group 1: 0.2 + σ(1) − σ(0.5) and 0.2.
	g1 := []float64{0.2 + sigmoid(1) - sigmoid(0.5), 0.2}
	want := []float64{(g1[0] + g1[1]) / 4, (g1[0] + g1[1]) / 2, 0}
	for i, w := range want {
		if math.Abs(float64(outs[i][0])-w) > 1e-6 {
			t.Errorf("case %d: loss %g, want %g", i, outs[i][0], w)
		}
	}
}

// TestRetrievalObjectiveAndEvaluationScores checks that the objective's scores are the evaluation scores of its
// rows grouped by sample size, and that its loss is the triplet loss of those scores.
func TestRetrievalObjectiveAndEvaluationScores(t *testing.T) {
	cfg := testConfig()
	store := newStore(6)
	tb := newTinyBatch(cfg, 6)
	outs := call(t, store, tb.inputs(nil), func(scope *model.Scope, in named.Nodes) named.Nodes {
		inputs := named.Bind[Inputs](in)
		six := gatherRows(inputs, Reshape(Const(inputs.InputIDs.Graph(), []int32{0, 1, 2, 2, 0, 1}), 6, 1))
		out := ImageTextRetrieval(scope, cfg, RetrievalConfig{Margin: 0.2}, RetrievalInputs{Inputs: six, SampleSize: 3})
		return named.Nodes{"scores": out.Scores, "loss": out.Loss, "eval": RetrievalScores(scope, cfg, inputs)}
	})
	scores, loss, eval := outs["scores"], outs["loss"], outs["eval"]
	order := []int{0, 1, 2, 2, 0, 1}
	var want float64
	for i, row := range order {
		if math.Abs(float64(scores[i]-eval[row])) > 1e-6 {
			t.Errorf("objective score %d = %g, evaluation score of row %d = %g", i, scores[i], row, eval[row])
		}
		if i%3 != 0 {
			want += math.Max(0, 0.2+sigmoid(float64(scores[i]))-sigmoid(float64(scores[i/3*3])))
		}
	}
	if want /= 4; math.Abs(float64(loss[0])-want) > 1e-6 {
		t.Errorf("loss %g, want %g", loss[0], want)
	}
}

// offsetInputs are a batch and offsets [10,Nr,ImgDim] added to the region features of the 10 pool rows drawn
// from it.
type offsetInputs struct {
	Inputs
	Offsets *Node
}

// TestHardNegativesAreTheTopScoredWithoutDropout checks ORIG's hard negative mining: the pool is scored in
// evaluation mode (no dropout although the graph trains), the k best-scoring negatives are kept, and the training
// forward (with dropout) runs on the matched pair and those negatives.
func TestHardNegativesAreTheTopScoredWithoutDropout(t *testing.T) {
	const pools, poolSize, k = 2, 5, 2
	// Pools of 5 rows drawn from the 3 examples, with region features offset so that every row scores differently.
	poolRows := []int32{0, 1, 2, 1, 0, 2, 0, 1, 2, 0}
	offsets := make([][][]float32, len(poolRows))
	for i := range offsets {
		for range 5 {
			row := make([]float32, testConfig().ImgDim)
			for k := range row {
				row[k] = float32((i*7+k)%11) * 0.05
			}
			offsets[i] = append(offsets[i], row)
		}
	}
	for _, rate := range []float64{0, 0.1} {
		cfg := testConfig()
		cfg.HiddenDropoutProb, cfg.AttentionProbsDropoutProb, cfg.InitializerRange = rate, rate, 0.3
		store := newStore(7)
		tb := newTinyBatch(cfg, 7)
		pool := func(in named.Nodes) Inputs {
			x := named.Bind[offsetInputs](in)
			p := gatherRows(x.Inputs, Reshape(Const(x.InputIDs.Graph(), poolRows), len(poolRows), 1))
			p.ImgFeat = Add(p.ImgFeat, x.Offsets)
			return p
		}
		inputs := tb.inputs(map[string]any{"Offsets": offsets})
		outs := call(t, store, inputs, func(scope *model.Scope, in named.Nodes) named.Nodes {
			g := in["InputIDs"].Graph()
			store.SetTraining(g, true)
			out := ImageTextRetrievalHardNegatives(scope, cfg, RetrievalConfig{Margin: 0.2, HardNegSize: k},
				HardNegativeInputs{Inputs: pool(in), PoolSize: poolSize})
			training := 0.0
			if store.IsTraining(g) {
				training = 1
			}
			return named.Nodes{"pool": out.PoolScores, "hard": ConvertDType(out.HardNegatives, dtypes.Float32), "scores": out.Scores,
				"training": Scalar(g, dtypes.Float32, training)}
		})
		poolScores, hard, scores, training := outs["pool"], outs["hard"], outs["scores"], outs["training"]
		if training[0] != 1 {
			t.Fatal("the graph is no longer in training mode after scoring the pool")
		}
		evalScores := call(t, store, inputs, func(scope *model.Scope, in named.Nodes) named.Nodes {
			return named.Nodes{"scores": RetrievalScores(scope, cfg, pool(in))}
		})["scores"]
		if d := maxAbs(poolScores, evalScores); d > 1e-5 {
			t.Errorf("dropout %g: pool scores differ from evaluation-mode scores by %g", rate, d)
		}
		var maxDiff float64
		for p := range pools {
			negs := []int{1, 2, 3, 4}
			ps := poolScores[p*poolSize : (p+1)*poolSize]
			sort.Slice(negs, func(a, b int) bool { return ps[negs[a]] > ps[negs[b]] })
			chosen := []int{int(hard[p*k]), int(hard[p*k+1])}
			got, want := slices.Sorted(slices.Values(chosen)), slices.Sorted(slices.Values(negs[:k]))
			if !slices.Equal(got, want) {
				t.Errorf("dropout %g pool %d (scores %v): hard negatives %v, want %v", rate, p, ps, got, want)
			}
			for i, r := range append([]int{0}, chosen...) {
				maxDiff = math.Max(maxDiff, math.Abs(float64(scores[p*(k+1)+i]-poolScores[p*poolSize+r])))
			}
		}
		// The training forward runs on the matched pair and the chosen rows: without dropout it repeats their pool
		// scores; with dropout (training mode) it differs.
		if rate == 0 && maxDiff > 1e-5 {
			t.Errorf("without dropout the training scores differ from the pool scores of the chosen rows by %g", maxDiff)
		}
		if rate > 0 && maxDiff < 1e-4 {
			t.Errorf("dropout %g: the training forward repeats the pool scores (no dropout in training?)", rate)
		}
	}
}
