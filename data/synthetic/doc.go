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
//
// The downstream tasks of UNITER (WriteTask, EnsureTask, TaskLayout) are written in ORIG's preprocessed formats,
// a txt_db per split and the img_dbs of the images, from the same scenes and detector:
//
//   - itr: image-text retrieval, PerImage captions per scene that list its objects ("a small red cube, a blue
//     sphere and a large gray cone.").
//     Chance: recall@K = K/images for image retrieval, about captions-per-image·K/captions for text retrieval
//     (R@1 0.5%, R@10 5% on a 200-image split).
//   - nlvr2: statements about a pair of scenes ("the left image contains a red cube.", "exactly one image contains
//     a blue sphere.", also both and neither), half true. Chance 1/2.
//   - ve: hypotheses "the <color> <shape> is made of <material>." about a scene's one object of that colour and
//     shape; the detector shows the material of large objects only, so a small object's material is neutral.
//     Balanced labels, chance 1/3.
//   - refcoco: expressions that pick out one object ("the red cube", "the leftmost sphere", "the cone left of the
//     blue cylinder"), with ground-truth regions (one per object) and detector regions (jittered object boxes
//     and background proposals). Chance: 1/objects, about 0.19, with ground-truth regions; about 0.14 with
//     detector regions (a region with IoU > 0.5 with the target, picked at random).
//
// NLVR2 and SNLI-VE texts are drawn so that each is equally likely under every label: a text-only model stays at
// chance (measured by TestTextOnlyCeiling) and the images decide.
package synthetic
