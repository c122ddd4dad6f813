package synthetic

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/uniter-go/uniter/data/coco"
	"github.com/uniter-go/uniter/data/features"
	"github.com/uniter-go/uniter/data/vqa"
)

// The splits, in image order.
const (
	SplitTrain = "train"
	SplitVal   = "val"
	SplitTest  = "test"
)

// Splits lists the splits in image order.
var Splits = []string{SplitTrain, SplitVal, SplitTest}

// FeatureKeyFormat is the printf format of the feature key (and image file stem) of an image id.
const FeatureKeyFormat = "synthetic_%06d"

// FeatureKey returns the key of an image in the feature store, e.g. "synthetic_000012".
func FeatureKey(imageID int64) string { return fmt.Sprintf(FeatureKeyFormat, imageID) }

// Dataset is a generated dataset in memory, in the types of the real-data readers. Image ids run from 1 to
// NumImages; Scenes[i] and Features[i] describe image i+1.
type Dataset struct {
	Config      Config
	Scenes      []Scene
	Features    []*features.ImageFeatures
	Questions   map[string]*vqa.QuestionFile   // by split
	Annotations map[string]*vqa.AnnotationFile // by split
	Captions    map[string]*coco.CaptionFile   // by split
	Answers     *vqa.AnswerVocab
}

// Random streams of one image: each part of the generator has its own, so changing e.g. the feature size does not
// change the scenes, questions or captions.
const (
	streamScene = iota
	streamFeatures
	streamQuestions
	streamCaptions
	numStreams
)

// info is the "info" block of every written JSON file.
var info = map[string]any{"description": "synthetic CLEVR-like scenes (github.com/uniter-go/uniter/data/synthetic)"}

// Generate builds a dataset from cfg. The first TrainFraction of the images form the train split, the next
// ValFraction the val split and the rest the test split.
func Generate(cfg Config) (*Dataset, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	det := newDetector(cfg.DetectorSeed, cfg.FeatureDim)
	answers, err := vqa.NewAnswerVocab(answerList(cfg))
	if err != nil {
		return nil, fmt.Errorf("synthetic answer vocabulary: %w", err)
	}
	ds := &Dataset{
		Config: cfg, Answers: answers,
		Questions:   map[string]*vqa.QuestionFile{},
		Annotations: map[string]*vqa.AnnotationFile{},
		Captions:    map[string]*coco.CaptionFile{},
	}
	for _, split := range Splits {
		ds.Questions[split] = &vqa.QuestionFile{Info: info, TaskType: "Open-Ended", DataType: "synthetic", DataSubtype: split,
			Questions: []vqa.Question{}}
		ds.Annotations[split] = &vqa.AnnotationFile{Info: info, DataType: "synthetic", DataSubtype: split,
			Annotations: []vqa.Annotation{}}
		ds.Captions[split] = &coco.CaptionFile{Info: info, Images: []coco.Image{}, Annotations: []coco.Caption{}}
	}
	nTrain := int(math.Round(cfg.TrainFraction * float64(cfg.NumImages)))
	nVal := min(int(math.Round(cfg.ValFraction*float64(cfg.NumImages))), cfg.NumImages-nTrain)
	for i := range cfg.NumImages {
		id := int64(i + 1)
		split := SplitTest
		if i < nTrain {
			split = SplitTrain
		} else if i < nTrain+nVal {
			split = SplitVal
		}
		stream := func(k int) *rand.Rand {
			return rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(id)*numStreams+uint64(k)))
		}
		scene, err := newScene(cfg, stream(streamScene), id, split)
		if err != nil {
			return nil, err
		}
		ds.Scenes = append(ds.Scenes, scene)
		ds.Features = append(ds.Features, det.regionFeatures(cfg, stream(streamFeatures), &scene))
		qs, anns := newQuestions(cfg, stream(streamQuestions), &scene)
		ds.Questions[split].Questions = append(ds.Questions[split].Questions, qs...)
		ds.Annotations[split].Annotations = append(ds.Annotations[split].Annotations, anns...)
		cf := ds.Captions[split]
		cf.Images = append(cf.Images, coco.Image{ID: id, FileName: scene.Key + ".png", Width: scene.Width, Height: scene.Height})
		for k, c := range newCaptions(cfg, stream(streamCaptions), &scene) {
			cf.Annotations = append(cf.Annotations, coco.Caption{ID: id*captionIDStride + int64(k), ImageID: id, Caption: c})
		}
	}
	return ds, nil
}

// LowDataSplit names the training subset of the first percent% of the training questions, e.g. "train10pct".
func LowDataSplit(percent int) string { return fmt.Sprintf("%s%dpct", SplitTrain, percent) }

// LowData returns the first percent% (at least one) of the training questions and their annotations, as the
// split LowDataSplit(percent).
func (ds *Dataset) LowData(percent int) (*vqa.QuestionFile, *vqa.AnnotationFile) {
	qf, af := *ds.Questions[SplitTrain], *ds.Annotations[SplitTrain]
	n := min(len(qf.Questions), max(1, len(qf.Questions)*percent/100))
	qf.Questions, af.Annotations = qf.Questions[:n], af.Annotations[:n]
	qf.DataSubtype, af.DataSubtype = LowDataSplit(percent), LowDataSplit(percent)
	return &qf, &af
}

// Karpathy returns the captions of all splits as Karpathy's dataset_coco.json: one entry per image with its split,
// the captions as "raw" and lower-cased word "tokens" without punctuation.
func (ds *Dataset) Karpathy() *coco.KarpathyFile {
	kf := &coco.KarpathyFile{Dataset: "synthetic", Images: make([]coco.KarpathyImage, 0, len(ds.Scenes))}
	for _, split := range Splits {
		byImage := map[int64][]coco.Caption{}
		for _, c := range ds.Captions[split].Annotations {
			byImage[c.ImageID] = append(byImage[c.ImageID], c)
		}
		for _, img := range ds.Captions[split].Images {
			ki := coco.KarpathyImage{FilePath: "images", FileName: img.FileName, ImgID: int64(len(kf.Images)), Split: split,
				CocoID: img.ID, Sentences: []coco.KarpathySentence{}, SentIDs: []int64{}}
			for _, c := range byImage[img.ID] {
				ki.Sentences = append(ki.Sentences, coco.KarpathySentence{Raw: c.Caption, Tokens: wordTokens(c.Caption), ImgID: ki.ImgID, SentID: c.ID})
				ki.SentIDs = append(ki.SentIDs, c.ID)
			}
			kf.Images = append(kf.Images, ki)
		}
	}
	return kf
}
