package synthetic

import (
	"errors"
	"fmt"
)

// Feature file formats accepted by (*Dataset).Write and Config.FeatureFormat.
const (
	FormatNPZ   = "npz"   // one <key>.npz per image under features/
	FormatImgDB = "imgdb" // ORIG img_db LMDB directory features/
	FormatTSV   = "tsv"   // bottom-up-attention TSV file features/features.tsv
)

// maxAnswers is the number of human answers per question, as in VQA v2.
const maxAnswers = 10

// Config fixes every choice of the generator: the same Config gives byte-identical datasets.
type Config struct {
	Seed         int64 `json:"seed"`          // scenes, questions, captions and feature noise
	DetectorSeed int64 `json:"detector_seed"` // the fixed feature projection ("the detector"), shared by all splits

	NumImages   int `json:"num_images"`
	MinObjects  int `json:"min_objects"` // objects per scene, uniform in [MinObjects, MaxObjects]
	MaxObjects  int `json:"max_objects"`
	NumShapes   int `json:"num_shapes"` // first NumShapes entries of Shapes are used
	NumColors   int `json:"num_colors"` // first NumColors entries of Colors are used
	ImageWidth  int `json:"image_width"`
	ImageHeight int `json:"image_height"`

	FeatureDim        int     `json:"feature_dim"`        // D of the region features (2048 for real BUTD features)
	NumClasses        int     `json:"num_classes"`        // columns of the class distributions (1601); 0 = none
	FeatureNoise      float64 `json:"feature_noise"`      // σ of the Gaussian noise added before the ReLU
	BackgroundRegions int     `json:"background_regions"` // extra random "floor" regions per image

	QuestionsPerImage int `json:"questions_per_image"` // at most; fewer when a scene admits fewer distinct questions
	CaptionsPerImage  int `json:"captions_per_image"`
	MinAgree          int `json:"min_agree"` // human answers agreeing with the truth: uniform in [MinAgree, 10]

	TrainFraction   float64 `json:"train_fraction"` // images of the train split; val next, test the rest
	ValFraction     float64 `json:"val_fraction"`
	LowDataPercents []int   `json:"low_data_percents"` // extra train subsets: the first p% of training questions

	FeatureFormat string `json:"feature_format"` // FormatNPZ, FormatImgDB or FormatTSV (used by EnsureDataset)
}

// DefaultConfig is the fast default: small enough to generate and train on in seconds on a CPU.
func DefaultConfig() Config {
	return Config{
		Seed:              1,
		DetectorSeed:      2020,
		NumImages:         600,
		MinObjects:        3,
		MaxObjects:        8,
		NumShapes:         len(Shapes),
		NumColors:         len(Colors),
		ImageWidth:        320,
		ImageHeight:       240,
		FeatureDim:        128,
		NumClasses:        1601,
		FeatureNoise:      0.1,
		BackgroundRegions: 2,
		QuestionsPerImage: 10,
		CaptionsPerImage:  5,
		MinAgree:          8,
		TrainFraction:     0.8,
		ValFraction:       0.1,
		LowDataPercents:   []int{10},
		FeatureFormat:     FormatNPZ,
	}
}

// Validate reports every inconsistent setting.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.NumImages >= 1, "num_images %d < 1", c.NumImages)
	check(c.NumImages < 1_000_000, "num_images %d does not fit the 6-digit image keys", c.NumImages)
	check(c.MinObjects >= 2, "min_objects %d < 2 (captions relate two objects)", c.MinObjects)
	check(c.MaxObjects >= c.MinObjects, "max_objects %d < min_objects %d", c.MaxObjects, c.MinObjects)
	check(c.NumShapes >= 2 && c.NumShapes <= len(Shapes), "num_shapes %d not in [2, %d]", c.NumShapes, len(Shapes))
	check(c.NumColors >= 2 && c.NumColors <= len(Colors), "num_colors %d not in [2, %d]", c.NumColors, len(Colors))
	okSize := c.ImageWidth >= 64 && c.ImageHeight >= 64 && c.ImageWidth*3 >= c.ImageHeight && c.ImageHeight*3 >= c.ImageWidth
	check(okSize, "image size %dx%d smaller than 64x64 or sides more than 3:1", c.ImageWidth, c.ImageHeight)
	if okSize {
		side := objectSide(c.ImageHeight, 1) + objectGap
		check(2*c.MaxObjects*side*side <= c.ImageWidth*c.ImageHeight,
			"max_objects %d do not fit without overlap in a %dx%d image", c.MaxObjects, c.ImageWidth, c.ImageHeight)
	}
	check(c.FeatureDim >= 1, "feature_dim %d < 1", c.FeatureDim)
	check(c.NumClasses == 0 || c.NumClasses > backgroundClassID,
		"num_classes %d must be 0 or > %d", c.NumClasses, backgroundClassID)
	check(c.FeatureNoise >= 0, "feature_noise %g < 0", c.FeatureNoise)
	check(c.BackgroundRegions >= 0, "background_regions %d < 0", c.BackgroundRegions)
	check(c.QuestionsPerImage >= 1 && c.QuestionsPerImage < questionIDStride,
		"questions_per_image %d not in [1, %d)", c.QuestionsPerImage, questionIDStride)
	check(c.CaptionsPerImage >= 1 && c.CaptionsPerImage < captionIDStride,
		"captions_per_image %d not in [1, %d)", c.CaptionsPerImage, captionIDStride)
	check(c.MinAgree > maxAnswers/2 && c.MinAgree <= maxAnswers,
		"min_agree %d not in [%d, %d] (the true answer must stay the majority)", c.MinAgree, maxAnswers/2+1, maxAnswers)
	check(c.TrainFraction >= 0 && c.ValFraction >= 0 && c.TrainFraction+c.ValFraction <= 1,
		"train_fraction %g + val_fraction %g not a split of [0, 1]", c.TrainFraction, c.ValFraction)
	for _, p := range c.LowDataPercents {
		check(p >= 1 && p <= 100, "low_data_percents entry %d not in [1, 100]", p)
	}
	check(c.FeatureFormat == FormatNPZ || c.FeatureFormat == FormatImgDB || c.FeatureFormat == FormatTSV,
		"feature_format %q not one of %s, %s, %s", c.FeatureFormat, FormatNPZ, FormatImgDB, FormatTSV)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("synthetic config: %w", err)
	}
	return nil
}
