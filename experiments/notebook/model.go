package notebook

import (
	"fmt"
	"image"
	"maps"
	"slices"
	"strings"

	"github.com/uniter-go/uniter/experiments/report"
	"github.com/uniter-go/uniter/experiments/runner"
	"github.com/uniter-go/uniter/experiments/viz"
	"github.com/uniter-go/uniter/uniter"
)

// ParameterTable renders the parameters of a run's model as an HTML table: the tensors and parameters of each
// module (the embeddings, each encoder layer, the pooler, each head), the total, and for scale the total of
// UNITER-base with the same heads.
func ParameterTable(r *runner.Runner) (string, error) {
	mc, heads := r.Model()
	shapes, err := uniter.ParameterShapes(mc, heads...)
	if err != nil {
		return "", err
	}
	counts, tensors := map[string]int{}, map[string]int{}
	for key, dims := range shapes {
		m := module(key)
		counts[m] += uniter.CountParameters(map[string][]int{key: dims})
		tensors[m]++
	}
	var rows [][]string
	for _, m := range slices.Sorted(maps.Keys(counts)) {
		rows = append(rows, []string{m, fmt.Sprint(tensors[m]), fmt.Sprint(counts[m])})
	}
	base := uniter.Base()
	base.NumAnswers = mc.NumAnswers
	baseShapes, err := uniter.ParameterShapes(base, heads...)
	if err != nil {
		return "", err
	}
	rows = append(rows, []string{"total (this model)", fmt.Sprint(len(shapes)), fmt.Sprint(uniter.CountParameters(shapes))},
		[]string{"total (UNITER-base, the same heads)", fmt.Sprint(len(baseShapes)), fmt.Sprint(uniter.CountParameters(baseShapes))})
	return viz.Table([]string{"module", "tensors", "parameters"}, rows), nil
}

// module names the module of a checkpoint key: uniter.embeddings, uniter.encoder.layer.<i>, uniter.pooler, or the
// head (vqa_output, cls, …).
func module(key string) string {
	parts := strings.Split(key, ".")
	switch {
	case parts[0] == "uniter" && len(parts) > 3 && parts[1] == "encoder":
		return strings.Join(parts[:4], ".")
	case parts[0] == "uniter" && len(parts) > 1:
		return strings.Join(parts[:2], ".")
	}
	return parts[0]
}

// Scene draws the regions of example i of a split (the detector's boxes the model reads, labelled r0, r1, …)
// over its rendered image, and renders the questions about the same image with the answer most annotators gave.
func Scene(r *runner.Runner, split string, i int) (image.Image, string, error) {
	set, err := r.Data().Split(split)
	if err != nil {
		return nil, "", err
	}
	if i < 0 || i >= set.Len() {
		return nil, "", fmt.Errorf("scene: example %d outside split %s (%d examples)", i, split, set.Len())
	}
	ex := set.Examples[i]
	f, err := set.Features(ex.ImageKey)
	if err != nil {
		return nil, "", err
	}
	path := r.Data().ImagePath(ex.ImageKey)
	if path == "" {
		return nil, "", fmt.Errorf("scene: no image file for %s", ex.ImageKey)
	}
	img, err := report.LoadImage(path)
	if err != nil {
		return nil, "", err
	}
	boxes := make([][4]float32, len(f.Boxes)/4)
	weights := make([]float32, len(boxes))
	labels := make([]string, len(boxes))
	for j := range boxes {
		boxes[j] = [4]float32(f.Boxes[4*j : 4*j+4])
		weights[j], labels[j] = 1, fmt.Sprintf("r%d", j)
	}
	img, boxes = report.Enlarge(img, boxes, 480)
	var rows [][]string
	for _, other := range set.Examples {
		if other.ImageKey == ex.ImageKey {
			rows = append(rows, []string{other.Text, report.MajorityAnswer(other.Answers)})
		}
	}
	return viz.DrawBoxes(img, boxes, weights, labels), viz.Table([]string{"question about " + ex.ImageKey, "answer"}, rows), nil
}
