// Package synthetic generates a seeded, deterministic CLEVR-like vision-and-language dataset in the real on-disk
// formats of VQA v2, COCO captions and bottom-up region features, so a model can be trained and checked end to end
// where the real data is out of reach: attributes are linearly recoverable from the features and counts and
// relations follow from the boxes, so a correct model gets close to 100% VQA accuracy and a broken one does not.
//
// A scene has MinObjects..MaxObjects non-overlapping objects (shape × colour × size) in pixel boxes. Each object is
// one detector region whose feature is ReLU(fixed random projection of [attributes, 7-d box] + noise); the
// projection depends only on Config.DetectorSeed, so all splits share it. A few background regions with noise
// features can be added. Every region has a 1601-way class distribution peaked on 1 + shape·8 + colour.
// Questions come from templates (counting, colour, shape, existence, left/right relation) with 10 noisy human
// answers each; captions describe objects and their relations.
//
// Layout of a dataset directory (see Layout; <split> is train, val, test, or train<p>pct for the low-data
// subsets; <key> is FeatureKey(image id), e.g. synthetic_000012):
//
//	DIR/
//	  config.json                                         generator, version and Config (EnsureDataset compares it)
//	  answers.txt                                         answer vocabulary, one answer per line
//	  scenes.json                                         the scenes: objects (shape, color, size, pixel box), background boxes
//	  questions/v2_OpenEnded_mscoco_<split>_questions.json  VQA v2 questions
//	  annotations/v2_mscoco_<split>_annotations.json      VQA v2 annotations, 10 answers each (the test split too)
//	  annotations/captions_<split>.json                   COCO captions
//	  annotations/dataset_coco.json                       Karpathy-style split file with the captions of all splits
//	  features/<key>.npz                                  format npz: per-image region features
//	  features/                                           format imgdb: ORIG UNITER img_db LMDB
//	  features.tsv                                        format tsv: bottom-up-attention TSV
//	  images/<key>.png                                    the rendered scene
//
// Image ids run from 1 to NumImages; question k of image i has id i·1000+k and caption k id i·100+k.
package synthetic
