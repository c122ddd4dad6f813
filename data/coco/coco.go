// Package coco reads and writes COCO caption annotation files (captions_*.json) and Karpathy's split file
// (dataset_coco.json).
package coco

import (
	"github.com/uniter-go/uniter/internal/jsonfile"
)

// Image is one entry of the "images" list of a COCO annotation file.
type Image struct {
	ID       int64  `json:"id"`
	FileName string `json:"file_name"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

// Caption is one entry of the "annotations" list of a COCO captions file.
type Caption struct {
	ID      int64  `json:"id"`
	ImageID int64  `json:"image_id"`
	Caption string `json:"caption"`
}

// CaptionFile is a COCO captions file (captions_train2014.json and friends).
type CaptionFile struct {
	Info        map[string]any `json:"info,omitempty"`
	Images      []Image        `json:"images"`
	Annotations []Caption      `json:"annotations"`
}

// KarpathySentence is one caption of Karpathy's split file.
type KarpathySentence struct {
	Raw    string   `json:"raw"`
	Tokens []string `json:"tokens"`
	ImgID  int64    `json:"imgid"`
	SentID int64    `json:"sentid"`
}

// KarpathyImage is one image of Karpathy's split file; Split is "train", "restval", "val" or "test".
type KarpathyImage struct {
	FilePath  string             `json:"filepath"`
	FileName  string             `json:"filename"`
	ImgID     int64              `json:"imgid"`
	Split     string             `json:"split"`
	Sentences []KarpathySentence `json:"sentences"`
	SentIDs   []int64            `json:"sentids"`
	CocoID    int64              `json:"cocoid"`
}

// KarpathyFile is Karpathy's dataset_coco.json.
type KarpathyFile struct {
	Images  []KarpathyImage `json:"images"`
	Dataset string          `json:"dataset"`
}

// ReadCaptions reads a COCO captions file.
func ReadCaptions(path string) (*CaptionFile, error) {
	f := new(CaptionFile)
	if err := jsonfile.Read(path, f); err != nil {
		return nil, err
	}
	return f, nil
}

// WriteCaptions writes a COCO captions file.
func WriteCaptions(path string, f *CaptionFile) error { return jsonfile.Write(path, f) }

// ReadKarpathy reads Karpathy's dataset_coco.json.
func ReadKarpathy(path string) (*KarpathyFile, error) {
	f := new(KarpathyFile)
	if err := jsonfile.Read(path, f); err != nil {
		return nil, err
	}
	return f, nil
}

// WriteKarpathy writes a file in the layout of Karpathy's dataset_coco.json.
func WriteKarpathy(path string, f *KarpathyFile) error { return jsonfile.Write(path, f) }

// CaptionsByImage groups the captions of a file by image id, in file order.
func (f *CaptionFile) CaptionsByImage() map[int64][]string {
	m := make(map[int64][]string, len(f.Images))
	for _, c := range f.Annotations {
		m[c.ImageID] = append(m[c.ImageID], c.Caption)
	}
	return m
}
