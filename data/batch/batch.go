// Package batch turns examples into the fixed-size padded host-side mini-batches the UNITER model consumes:
// UNITER's pretraining samplers (MLM, MRM, ITM with ORIG semantics), VQA finetuning batches, task mixing and a
// prefetching iterator.
package batch

// Task names the objective a batch is built for (ORIG task names).
type Task string

// The tasks of UNITER pretraining and finetuning.
const (
	TaskVQA   Task = "vqa"   // VQA finetuning: soft-score BCE.
	TaskMLM   Task = "mlm"   // Masked language modeling (text masked, regions intact).
	TaskMRFR  Task = "mrfr"  // Masked region feature regression (regions masked, text intact).
	TaskMRC   Task = "mrc"   // Masked region classification, hard labels.
	TaskMRCKL Task = "mrckl" // Masked region classification, KL to the detector distribution.
	TaskITM   Task = "itm"   // Image-text matching (+ WRA/OT when enabled); nothing masked.

	// Downstream tasks (ORIG train_*.py).
	TaskVE            Task = "ve"            // SNLI-VE: the VQA layout with 3 one-hot targets (contradiction, entailment, neutral).
	TaskNLVR2Paired   Task = "nlvr2_paired"  // NLVR2, two rows per example (ORIG paired and paired-attn models).
	TaskNLVR2Triplet  Task = "nlvr2_triplet" // NLVR2, one row per example holding both images' regions.
	TaskRetrieval     Task = "itr"           // Image-text retrieval training: groups of rows, the positive pair first.
	TaskRetrievalEval Task = "itr_eval"      // Image-text retrieval evaluation: image × text pairs to score.
	TaskRE            Task = "re"            // Referring expressions: one score per region.
)

// Batch is one padded mini-batch in row-major host slices. The layout is UNITER's padded layout
// [text Lt | regions Nr]. Sizes: B = Size, Lt = TextLen, Nr = NumRegions, D = FeatDim (2048 for real features),
// K = number of gathered (masked) positions, padded up to a bucket so graphs are reused; Valid marks real rows.
// Fields that a task does not use are nil.
type Batch struct {
	Task                               Task
	Size, TextLen, NumRegions, FeatDim int

	InputIDs []int32   // [B,Lt] token ids ([CLS] ... [SEP], 0 padding); for MLM the masked ids.
	TxtMask  []float32 // [B,Lt] 1 = real token (incl. CLS/SEP).
	ImgFeat  []float32 // [B,Nr,D] region features; for MRM tasks masked rows are zero.
	ImgPos   []float32 // [B,Nr,7] [x1,y1,x2,y2,w,h,w*h] normalised by image size; zero rows at padding.
	ImgMask  []float32 // [B,Nr] 1 = real region.
	MRMMask  []float32 // [B,Nr] 1 = MRM-masked region (ORIG img_masks); MRM tasks only.

	// MLM: K masked text positions.
	MLMPositions []int32   // [K,2] (b, t).
	MLMLabels    []int32   // [K] original token id.
	MLMValid     []float32 // [K] 1 = real entry, 0 = bucket padding.

	// MRM (MRFR / MRC / MRC-kl): K masked regions.
	MRMPositions []int32   // [K,2] (b, r), r counted within the regions (not the joint sequence).
	MRMValid     []float32 // [K] 1 = real entry.
	FeatTargets  []float32 // [K,D] unmasked features of the masked regions (MRFR).
	MRCTargets   []float32 // [K,LabelDim] detector class distributions of the masked regions (MRC, MRC-kl).
	LabelDim     int       // 1601 for real features.

	// VQA.
	Targets     []float32 // [B,A] soft scores in {0,.3,.6,.9,1}.
	NumAnswers  int
	QuestionIDs []int64 // [B] -1 for padding rows.

	// ITM: 1 = matched pair, 0 = image swapped for another one.
	ITMTargets []int32 // [B]

	// Token type of every region (ORIG img_type_ids), [B,Nr]; nil = type 1 everywhere (ORIG's default). NLVR2: 1 for
	// the regions of the example's first image, 2 for those of its second (0 at padding).
	ImgTypeIDs []int32

	// Labels are class targets. NLVR2: one per example, [B/2] paired and [B] triplet, 1 = the statement is true
	// (-1 unlabelled); RE: [B] index of the referred region among the row's regions (-1 unknown: detector regions).
	Labels []int32

	// Retrieval training: the rows form groups of GroupSize, the positive pair first, then its negatives (ORIG
	// sample_size); the ranking loss compares each group's first score with the others.
	GroupSize int
	// Retrieval evaluation: [B] index of each row's text and image in the enumeration (-1 on padding rows).
	PairTexts, PairImages []int32

	// RE: ObjMask [B,Nr] is 1 where a region is no candidate (ORIG obj_masks: the padding), whose score the head sets
	// to -1e4; RegionBoxes [B,Nr,4] every region's box and TargetBoxes [B,4] the referred object's box, COCO
	// [x, y, w, h] in pixels of the image (ORIG obj_boxes and tgt_box, for the IoU ≥ 0.5 accuracy).
	ObjMask     []float32
	RegionBoxes []float32
	TargetBoxes []float32

	// Example bookkeeping (not fed to the model).
	ImageIDs   []string // [B] the image of each row (NLVR2 triplet: the first image)
	ExampleIDs []string // [B] the id of the example (question, caption, sentence) each row comes from; "" on padding
	ExampleOK  []bool   // [B] false for rows that only pad the batch.
}

// NumGathered returns K, the number of gathered positions for MLM (text) or MRM (regions) tasks, else 0.
func (b *Batch) NumGathered() int {
	switch {
	case b.MLMValid != nil:
		return len(b.MLMValid)
	case b.MRMValid != nil:
		return len(b.MRMValid)
	}
	return 0
}
