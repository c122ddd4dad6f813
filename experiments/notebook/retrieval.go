package notebook

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/uniter-go/uniter/experiments/report"
	"github.com/uniter-go/uniter/experiments/runner"
	"github.com/uniter-go/uniter/experiments/viz"
)

// retrievalWidth is the width, in pixels, of each retrieved scene RetrievalHTML shows.
const retrievalWidth = 240

// Retrieval is a caption of a split with every image of the split ranked for it by a retrieval run.
type Retrieval struct {
	Split    string
	Index    int    // the caption's index in the split
	Caption  string // the caption, the query
	ImageKey string // the caption's own image
	// Ranked is every image of the split, the best match first (runner.Runner.RetrieveImages).
	Ranked []runner.RetrievedImage
}

// Rank returns the rank of the caption's own image among Ranked, 1 for the best match (0 when it is missing).
func (q *Retrieval) Rank() int {
	for i, im := range q.Ranked {
		if im.Key == q.ImageKey {
			return i + 1
		}
	}
	return 0
}

// Query ranks every image of a split for caption i of the split with a retrieval run's model; i < 0 takes the first
// caption whose own image ranks first.
func Query(r *runner.Runner, split string, i int) (*Retrieval, error) {
	set, err := r.Data().Split(split)
	if err != nil {
		return nil, err
	}
	if i >= set.Len() {
		return nil, fmt.Errorf("query: caption %d outside split %s (%d captions)", i, split, set.Len())
	}
	first, last := i, i
	if i < 0 {
		first, last = 0, set.Len()-1
	}
	for j := first; j <= last; j++ {
		ex := set.Examples[j]
		ranked, err := r.RetrieveImages(split, ex.Text, math.MaxInt) // every image
		if err != nil {
			return nil, err
		}
		q := &Retrieval{Split: split, Index: j, Caption: ex.Text, ImageKey: ex.ImageKey, Ranked: ranked}
		if i >= 0 || q.Rank() == 1 {
			return q, nil
		}
	}
	return nil, fmt.Errorf("query: no caption of split %s retrieves its own image first", split)
}

// HTML renders the query and its k best images: each image's rendered scene (when the data has pictures), its rank,
// key and score (the ranking head's logit, and its sigmoid, which ORIG model/itm.py's triplet loss compares), the
// caption's own image framed in green and marked ✓; a line above says where the own image ranks.
func (q *Retrieval) HTML(k int) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `<p style="font-family:sans-serif;font-size:13px"><b>Query</b> (caption %d of the %s split): %s<br>`+
		`its own image %s ranks %d of %d</p>`, q.Index, q.Split, html.EscapeString(q.Caption), html.EscapeString(q.ImageKey),
		q.Rank(), len(q.Ranked))
	b.WriteString(`<div style="display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start;font-family:sans-serif;font-size:13px">`)
	for n, im := range q.Ranked[:min(k, len(q.Ranked))] {
		own := im.Key == q.ImageKey
		border, mark := "2px solid #ccc", ""
		if own {
			border, mark = "3px solid #2ca02c", " ✓ its own image"
		}
		fmt.Fprintf(&b, `<figure style="margin:0;padding:4px;border:%s">`, border)
		if im.ImagePath != "" {
			img, err := report.LoadImage(im.ImagePath)
			if err != nil {
				return "", err
			}
			src, err := viz.PNGDataURI(img)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, `<img alt="%s" src="%s" style="width:%dpx;display:block">`, html.EscapeString(im.Key), src, retrievalWidth)
		}
		fmt.Fprintf(&b, `<figcaption><b>%d.</b> %s<br>score %.3f (sigmoid %.3f)%s</figcaption></figure>`, n+1,
			html.EscapeString(im.Key), im.Score, sigmoid(im.Score), mark)
	}
	b.WriteString(`</div>`)
	return b.String(), nil
}

// sigmoid is the logistic function, which ORIG model/itm.py applies to the ranking logits.
func sigmoid(x float32) float64 { return 1 / (1 + math.Exp(-float64(x))) }

// RecallTable renders the recall of a retrieval run's test evaluation (ORIG utils/itm_eval.py) beside what ranking
// at random gives on the same test split: R@1, R@5, R@10 and their mean of image retrieval (each caption ranks the
// images) and of text retrieval (each image ranks the captions), and r_mean, the mean of both means.
func (n *Notebook) RecallTable(run string) (string, error) {
	records, err := runner.ReadMetrics(n.RunDir(run))
	if err != nil {
		return "", err
	}
	latest := report.Latest(records)
	prefix := ""
	for name := range latest {
		if strings.HasPrefix(name, runner.SplitTest+"/") && strings.HasSuffix(name, "/r_mean") {
			prefix = strings.TrimSuffix(name, "r_mean")
		}
	}
	if prefix == "" {
		return "", fmt.Errorf("run %s: no test recall in its metrics (a retrieval run whose run_type includes test)", run)
	}
	r, err := report.OpenRun(n.RunDir(run), "run_type=test")
	if err != nil {
		return "", err
	}
	defer r.Close()
	set, err := r.Data().Split(runner.SplitTest)
	if err != nil {
		return "", err
	}
	imageOf := make([]string, set.Len())
	for i, ex := range set.Examples {
		imageOf[i] = ex.ImageKey
	}
	return recallTable(latest, prefix, retrievalChance(imageOf)), nil
}

// recallTable renders the recall metrics named prefix+"img_r1" … prefix+"r_mean" beside chance (named without
// the prefix).
func recallTable(metrics map[string]float64, prefix string, chance map[string]float64) string {
	var rows [][]string
	for _, dir := range []struct{ name, key string }{
		{"image retrieval (each caption ranks the images)", "img_r"},
		{"text retrieval (each image ranks the captions)", "txt_r"},
	} {
		model, random := []string{dir.name + ": this model"}, []string{dir.name + ": chance"}
		for _, k := range []string{"1", "5", "10", "_mean"} {
			model = append(model, fmt.Sprintf("%.3f", metrics[prefix+dir.key+k]))
			random = append(random, fmt.Sprintf("%.3f", chance[dir.key+k]))
		}
		rows = append(rows, model, random)
	}
	rows = append(rows, []string{"r_mean (the mean of both means): this model", "", "", "", fmt.Sprintf("%.3f", metrics[prefix+"r_mean"])},
		[]string{"r_mean: chance", "", "", "", fmt.Sprintf("%.3f", chance["r_mean"])})
	return viz.Table([]string{"test split", "R@1", "R@5", "R@10", "mean"}, rows)
}

// retrievalChance returns the expected recall of a random ranking, named as ORIG's itm_eval names the recall, for
// captions whose own images are imageOf: a caption's image is among the first K of N images with probability K/N;
// an image with P of the T captions has one of them among the first K with probability 1 − C(T−P, K)/C(T, K).
func retrievalChance(imageOf []string) map[string]float64 {
	captions := map[string]int{}
	for _, key := range imageOf {
		captions[key]++
	}
	t, ni := len(imageOf), float64(len(captions))
	c := map[string]float64{}
	for _, k := range []int{1, 5, 10} {
		c[fmt.Sprintf("img_r%d", k)] = math.Min(float64(k), ni) / ni
		var txt float64
		for _, p := range captions {
			miss := 1.0 // C(T−P, K)/C(T, K): none of the image's P captions among the first K
			for i := range min(k, t) {
				miss *= math.Max(float64(t-p-i), 0) / float64(t-i)
			}
			txt += (1 - miss) / ni
		}
		c[fmt.Sprintf("txt_r%d", k)] = txt
	}
	c["img_r_mean"] = (c["img_r1"] + c["img_r5"] + c["img_r10"]) / 3
	c["txt_r_mean"] = (c["txt_r1"] + c["txt_r5"] + c["txt_r10"]) / 3
	c["r_mean"] = (c["img_r_mean"] + c["txt_r_mean"]) / 2
	return c
}
