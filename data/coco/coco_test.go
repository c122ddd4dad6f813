package coco

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadCaptionsSample(t *testing.T) {
	f, err := ReadCaptions("testdata/captions_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Images) != 2 || f.Images[0] != (Image{ID: 391895, FileName: "COCO_val2014_000000391895.jpg",
		Width: 640, Height: 360}) {
		t.Errorf("images = %+v", f.Images)
	}
	if len(f.Annotations) != 3 || f.Annotations[1] != (Caption{ID: 775090, ImageID: 522418,
		Caption: "A woman wearing a net on her head cutting a cake. "}) {
		t.Errorf("annotations = %+v", f.Annotations)
	}
	if f.Info["year"] != float64(2014) {
		t.Errorf("info = %v", f.Info)
	}
	byImg := f.CaptionsByImage()
	if len(byImg[391895]) != 2 || byImg[391895][1] != "Man riding a motor bike on a dirt road on the countryside." {
		t.Errorf("CaptionsByImage = %v", byImg)
	}
	path := filepath.Join(t.TempDir(), "c.json")
	if err := WriteCaptions(path, f); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCaptions(path)
	if err != nil || !reflect.DeepEqual(back, f) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func TestReadKarpathySample(t *testing.T) {
	f, err := ReadKarpathy("testdata/dataset_coco_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	if f.Dataset != "coco" || len(f.Images) != 2 {
		t.Fatalf("file = %+v", f)
	}
	im := f.Images[0]
	if im.FilePath != "val2014" || im.FileName != "COCO_val2014_000000391895.jpg" || im.ImgID != 0 ||
		im.Split != "test" || im.CocoID != 391895 || !reflect.DeepEqual(im.SentIDs, []int64{770337, 771687}) ||
		len(im.Sentences) != 2 || im.Sentences[0].SentID != 770337 || im.Sentences[0].Tokens[5] != "helmet" ||
		im.Sentences[1].Raw != "Man riding a motor bike on a dirt road on the countryside." {
		t.Errorf("image 0 = %+v", im)
	}
	if f.Images[1].Split != "restval" {
		t.Errorf("split = %q", f.Images[1].Split)
	}
	path := filepath.Join(t.TempDir(), "k.json")
	if err := WriteKarpathy(path, f); err != nil {
		t.Fatal(err)
	}
	back, err := ReadKarpathy(path)
	if err != nil || !reflect.DeepEqual(back, f) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func TestMalformed(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"images": [{"id": "not a number"}]}`), 0o644)
	if _, err := ReadCaptions(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("wrong type: %v", err)
	}
	os.WriteFile(bad, []byte(`{"images": [`), 0o644)
	if _, err := ReadKarpathy(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("truncated: %v", err)
	}
	if err := WriteCaptions(filepath.Join(bad, "x", "y.json"), &CaptionFile{}); err == nil {
		t.Errorf("write into a missing directory succeeded")
	}
}
