package notebook

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/uniter-go/uniter/experiments/report"
	"github.com/uniter-go/uniter/experiments/runner"
)

// TestRetrievalChance compares the chance recall with every ranking of a small split enumerated: 3 images with 2,
// 1 and 3 of the 6 captions.
func TestRetrievalChance(t *testing.T) {
	imageOf := []string{"a", "a", "b", "c", "c", "c"}
	images := []string{"a", "b", "c"}
	got := retrievalChance(imageOf)
	want := map[string]float64{}
	// Image retrieval: a caption ranks the 3 images; every order is equally likely.
	for _, k := range []int{1, 5, 10} {
		hits, orders := 0, 0
		for _, order := range permutations(len(images)) {
			for _, own := range imageOf {
				orders++
				if slices.Index(order, slices.Index(images, own)) < k {
					hits++
				}
			}
		}
		want[fmt.Sprintf("img_r%d", k)] = float64(hits) / float64(orders)
	}
	// Text retrieval: an image ranks the 6 captions.
	for _, k := range []int{1, 5, 10} {
		hits, orders := 0, 0
		for _, order := range permutations(len(imageOf)) {
			for _, img := range images {
				orders++
				if slices.ContainsFunc(order[:min(k, len(order))], func(c int) bool { return imageOf[c] == img }) {
					hits++
				}
			}
		}
		want[fmt.Sprintf("txt_r%d", k)] = float64(hits) / float64(orders)
	}
	want["img_r_mean"] = (want["img_r1"] + want["img_r5"] + want["img_r10"]) / 3
	want["txt_r_mean"] = (want["txt_r1"] + want["txt_r5"] + want["txt_r10"]) / 3
	want["r_mean"] = (want["img_r_mean"] + want["txt_r_mean"]) / 2
	if len(got) != len(want) {
		t.Fatalf("chance %v, want the keys of %v", got, want)
	}
	for k, v := range want {
		if math.Abs(got[k]-v) > 1e-12 {
			t.Errorf("%s: %v, enumerated %v", k, got[k], v)
		}
	}
	// By hand: R@1 of text retrieval (2 + 1 + 3)/6/3, R@5 (1 + 5/6 + 1)/3.
	if math.Abs(got["txt_r1"]-1.0/3) > 1e-12 || math.Abs(got["txt_r5"]-17.0/18) > 1e-12 || got["img_r1"] != 1.0/3 {
		t.Errorf("chance %v", got)
	}
}

// permutations returns every order of 0 … n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := range n {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

func TestRecallTable(t *testing.T) {
	metrics := map[string]float64{
		"test/x/img_r1": 0.1, "test/x/img_r5": 0.2, "test/x/img_r10": 0.3, "test/x/img_r_mean": 0.2,
		"test/x/txt_r1": 0.4, "test/x/txt_r5": 0.5, "test/x/txt_r10": 0.6, "test/x/txt_r_mean": 0.5, "test/x/r_mean": 0.35,
	}
	table := recallTable(metrics, "test/x/", retrievalChance([]string{"a", "b", "c", "d"}))
	cell := `<td[^>]*>`
	for _, row := range []string{
		`image retrieval \(each caption ranks the images\): this model</td>` + cell + `0\.100</td>` + cell + `0\.200</td>` + cell + `0\.300</td>` + cell + `0\.200</td>`,
		`image retrieval \(each caption ranks the images\): chance</td>` + cell + `0\.250</td>` + cell + `1\.000</td>` + cell + `1\.000</td>` + cell + `0\.750</td>`,
		`text retrieval \(each image ranks the captions\): this model</td>` + cell + `0\.400</td>` + cell + `0\.500</td>` + cell + `0\.600</td>` + cell + `0\.500</td>`,
		`r_mean \(the mean of both means\): this model</td>(` + cell + `</td>){3}` + cell + `0\.350</td>`,
		`r_mean: chance</td>(` + cell + `</td>){3}` + cell + `0\.750</td>`,
	} {
		if !regexp.MustCompile(row).MatchString(table) {
			t.Errorf("table lacks the row %s:\n%s", row, table)
		}
	}
}

// TestRetrievalRunAndWhatTheNotebookShows trains a tiny retrieval model through Train on the notebooks' retrieval
// experiment and checks what notebook 05 shows from it: the recall table, a query with its ranked scenes, the
// first caption retrieved first, and the attention of its pair drawn over the scene.
func TestRetrievalRunAndWhatTheNotebookShows(t *testing.T) {
	nb := testNotebook(t)
	tiny := append(slices.Clone(tinyModel), "dataset_config.synthetic_itr.scenes.feature_dim=16",
		"dataset_config.synthetic_itr.train=16", "dataset_config.synthetic_itr.val=6", "dataset_config.synthetic_itr.test=6",
		"dataset_config.synthetic_itr.per_image=2",
		"model_config.uniter.heads.synthetic_itr.negative_size=2", "model_config.uniter.heads.synthetic_itr.inf_minibatch_size=7",
		"training.batch_size=4", "training.max_updates=4", "training.log_interval=2", "training.evaluation_interval=2",
		"training.num_workers=1", "scheduler.params.num_warmup_steps=2", "training.seed=2")
	res, err := nb.Train("itr", "tiny_itr", func(id, html string) {}, tiny...)
	if err != nil {
		t.Fatal(err)
	}
	table, err := nb.RecallTable("tiny_itr")
	if err != nil {
		t.Fatal(err)
	}
	// 6 test images: a caption's image is first by chance with probability 1/6.
	for _, want := range []string{
		fmt.Sprintf(">%.3f</td>", res.Final["test/synthetic_itr/img_r1"]), fmt.Sprintf(">%.3f</td>", res.Final["test/synthetic_itr/r_mean"]),
		"chance</td><td style=\"border:1px solid #ccc;padding:3px 8px;text-align:left\">0.167</td>",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("recall table lacks %s: %s", want, table)
		}
	}
	if _, err := nb.RecallTable("missing"); err == nil {
		t.Error("recall table of a missing run: no error")
	}

	r, err := report.OpenRun(nb.RunDir("tiny_itr"), "run_type=test")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	set, err := r.Data().Split(runner.SplitTest)
	if err != nil {
		t.Fatal(err)
	}
	firstRetrieved := -1
	for i, ex := range set.Examples {
		q, err := Query(r, runner.SplitTest, i)
		if err != nil {
			t.Fatal(err)
		}
		if q.Index != i || q.Caption != ex.Text || q.ImageKey != ex.ImageKey || len(q.Ranked) != 6 {
			t.Fatalf("query %d: %+v", i, q)
		}
		if q.Rank() < 1 || q.Ranked[q.Rank()-1].Key != ex.ImageKey {
			t.Fatalf("query %d: own image %s at rank %d of %+v", i, ex.ImageKey, q.Rank(), q.Ranked)
		}
		if q.Rank() == 1 && firstRetrieved < 0 {
			firstRetrieved = i
		}
		for k := 1; k < len(q.Ranked); k++ {
			if q.Ranked[k].Score > q.Ranked[k-1].Score {
				t.Fatalf("query %d: not ranked by score: %+v", i, q.Ranked)
			}
		}
		h, err := q.HTML(3)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(h, "<figure") != 3 || strings.Count(h, `src="data:image/png;base64,`) != 3 ||
			!strings.Contains(h, fmt.Sprintf("ranks %d of 6", q.Rank())) || strings.Contains(h, "✓") != (q.Rank() <= 3) {
			t.Errorf("query %d (own image at rank %d) shown as %.800s", i, q.Rank(), h)
		}
	}
	// The seed is one where the first caption retrieved first is not the first caption.
	if firstRetrieved < 1 {
		t.Fatalf("caption %d is the first whose own image ranks first: the test needs one after the first", firstRetrieved)
	}
	if q, err := Query(r, runner.SplitTest, -1); err != nil || q.Index != firstRetrieved {
		t.Errorf("Query(-1) = %+v, %v; want caption %d, the first retrieved first", q, err, firstRetrieved)
	}
	if _, err := Query(r, runner.SplitTest, set.Len()); err == nil {
		t.Error("a query outside the split: no error")
	}

	am, err := r.Attention(runner.SplitTest, firstRetrieved)
	if err != nil {
		t.Fatal(err)
	}
	v, err := report.DrawAttention(am, report.LastLayer, report.AllHeads)
	if err != nil {
		t.Fatal(err)
	}
	if am.ImagePath == "" || v.Scene.Bounds().Dx() < 320 || !strings.Contains(v.Heatmap, "<svg") {
		t.Errorf("attention of the retrieved pair: image %q, scene %v", am.ImagePath, v.Scene.Bounds())
	}
}
