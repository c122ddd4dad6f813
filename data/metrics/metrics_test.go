package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"
)

func TestRetrievalRecallByHand(t *testing.T) {
	// 3 captions, 2 images: captions 0 and 1 show image 0, caption 2 image 1.
	scores := []float32{
		0.9, 0.1, // caption 0: its image first
		0.2, 0.5, // caption 1: its image second
		0.3, 0.3, // caption 2: a tie, image 0 comes first: rank 1
	}
	r, err := RetrievalRecall(scores, []int{0, 0, 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Image retrieval: ranks 0, 1, 1. Text retrieval: image 0's best caption is caption 0 (rank 0); image 1's only
	// caption 2 scores 0.3 behind caption 1's 0.5: rank 1.
	want := Recall{ImgR1: 1.0 / 3, ImgR5: 1, ImgR10: 1, TxtR1: 0.5, TxtR5: 1, TxtR10: 1}
	want.ImgRMean, want.TxtRMean = (1.0/3+2)/3, 2.5/3
	want.RMean = (want.ImgRMean + want.TxtRMean) / 2
	if !close(r, want) {
		t.Errorf("recall %+v, want %+v", r, want)
	}
	for _, bad := range []struct {
		scores []float32
		ti     []int
		n      int
	}{{scores[:5], []int{0, 0, 1}, 2}, {scores, []int{0, 0, 2}, 2}, {scores, []int{0, 0, 0}, 2}} {
		if _, err := RetrievalRecall(bad.scores, bad.ti, bad.n); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func close(a, b Recall) bool {
	x, y := []float64{a.TxtR1, a.TxtR5, a.TxtR10, a.TxtRMean, a.ImgR1, a.ImgR5, a.ImgR10, a.ImgRMean, a.RMean},
		[]float64{b.TxtR1, b.TxtR5, b.TxtR10, b.TxtRMean, b.ImgR1, b.ImgR5, b.ImgR10, b.ImgRMean, b.RMean}
	for i := range x {
		if math.Abs(x[i]-y[i]) > 1e-9 {
			return false
		}
	}
	return true
}

// TestRetrievalRecallMatchesORIG compares with ORIG's itm_eval (testdata/orig_itm_eval.py) on random scores, with
// ties (scores on a coarse grid) and images of 1 to 5 captions.
func TestRetrievalRecallMatchesORIG(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skipf("needs %s with numpy: %v", py, err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	nImg := 40
	var ti []int
	for j := range nImg {
		for range 1 + rng.IntN(5) {
			ti = append(ti, j)
		}
	}
	rng.Shuffle(len(ti), func(a, b int) { ti[a], ti[b] = ti[b], ti[a] })
	nTxt := len(ti)
	scores := make([]float32, nTxt*nImg)
	rows := make([][]float32, nTxt)
	txtIDs, imgIDs := make([]string, nTxt), make([]string, nImg)
	txt2img, img2txts := map[string]string{}, map[string][]string{}
	for j := range imgIDs {
		imgIDs[j] = fmt.Sprintf("img%d", j)
	}
	for i := range nTxt {
		txtIDs[i] = fmt.Sprintf("txt%d", i)
		txt2img[txtIDs[i]] = imgIDs[ti[i]]
		img2txts[imgIDs[ti[i]]] = append(img2txts[imgIDs[ti[i]]], txtIDs[i])
		for j := range nImg {
			v := float32(rng.IntN(20)) / 4 // ties
			if j == ti[i] {
				v += float32(rng.IntN(3))
			}
			scores[i*nImg+j] = v
		}
		rows[i] = scores[i*nImg : (i+1)*nImg]
	}
	in, _ := json.Marshal(map[string]any{"scores": rows, "txt_ids": txtIDs, "img_ids": imgIDs, "txt2img": txt2img,
		"img2txts": img2txts})
	cmd := exec.Command(py, "testdata/orig_itm_eval.py")
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("orig_itm_eval.py: %v", err)
	}
	var o map[string]float64
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatal(err)
	}
	want := Recall{TxtR1: o["txt_r1"], TxtR5: o["txt_r5"], TxtR10: o["txt_r10"], TxtRMean: o["txt_r_mean"],
		ImgR1: o["img_r1"], ImgR5: o["img_r5"], ImgR10: o["img_r10"], ImgRMean: o["img_r_mean"], RMean: o["r_mean"]}
	got, err := RetrievalRecall(scores, ti, nImg)
	if err != nil {
		t.Fatal(err)
	}
	if !close(got, want) {
		t.Errorf("recall %+v\nORIG   %+v", got, want)
	}
	if want.ImgR1 == 0 || want.ImgR10 == 1 || want.TxtR1 == 0 || want.TxtR10 == 1 {
		t.Errorf("degenerate test scores: %+v", want)
	}
}

func TestBoxIoU(t *testing.T) {
	for _, c := range []struct {
		a, b [4]float64
		want float64
	}{
		{[4]float64{0, 0, 10, 10}, [4]float64{0, 0, 10, 10}, 1},
		// ORIG counts pixels inclusively: [0,9] and [5,14] share 5×10 of 100+100-50.
		{[4]float64{0, 0, 10, 10}, [4]float64{5, 0, 10, 10}, 50.0 / 150},
		{[4]float64{0, 0, 10, 10}, [4]float64{20, 20, 5, 5}, 0},
		{[4]float64{0, 0, 10, 10}, [4]float64{9, 9, 10, 10}, 0}, // a single shared pixel: ORIG's x1 < x2 fails
	} {
		if got := BoxIoU(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("IoU(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	if RefCorrect([4]float64{0, 0, 10, 10}, [4]float64{0, 0, 20, 10}) || !RefCorrect([4]float64{0, 0, 10, 10}, [4]float64{1, 0, 10, 10}) {
		t.Errorf("RefCorrect: IoU exactly 0.5 must fail, 0.82 pass")
	}
}
