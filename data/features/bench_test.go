package features

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// benchImages returns n images of UNITER's real size: 100 boxes × 2048 features, 1601 classes.
func benchImages(n int) []*ImageFeatures {
	rng := rand.New(rand.NewPCG(1, 2))
	fs := make([]*ImageFeatures, n)
	for i := range fs {
		f := &ImageFeatures{ImageID: fmt.Sprintf("coco_val2014_%012d", i), Width: 640, Height: 480,
			NumBoxes: 100, Dim: 2048, NumClasses: 1601}
		f.Features = make([]float32, 100*2048)
		for j := range f.Features {
			f.Features[j] = rng.Float32() * 4
		}
		f.ClassProbs = make([]float32, 100*1601)
		for j := range f.ClassProbs {
			f.ClassProbs[j] = rng.Float32() / 1601
		}
		for b := 0; b < 100; b++ {
			f.Boxes = append(f.Boxes, 10, 20, 300, 400)
		}
		fs[i] = f
	}
	return fs
}

func benchmarkGet(b *testing.B, open func(dir string, fs []*ImageFeatures) (Reader, error)) {
	fs := benchImages(8)
	r, err := open(b.TempDir(), fs)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Get(fs[i%len(fs)].ImageID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetImgDB(b *testing.B) {
	benchmarkGet(b, func(dir string, fs []*ImageFeatures) (Reader, error) {
		if err := WriteImgDB(dir, fs, false); err != nil {
			return nil, err
		}
		return OpenImgDB(dir)
	})
}

func BenchmarkGetImgDBCompressed(b *testing.B) {
	benchmarkGet(b, func(dir string, fs []*ImageFeatures) (Reader, error) {
		if err := WriteImgDB(dir, fs, true); err != nil {
			return nil, err
		}
		return OpenImgDB(dir)
	})
}

func BenchmarkGetNPZ(b *testing.B) {
	benchmarkGet(b, func(dir string, fs []*ImageFeatures) (Reader, error) {
		for _, f := range fs {
			if err := WriteNPZ(filepath.Join(dir, f.ImageID+".npz"), f); err != nil {
				return nil, err
			}
		}
		return OpenNPZDir(dir)
	})
}

func BenchmarkGetTSV(b *testing.B) {
	benchmarkGet(b, func(dir string, fs []*ImageFeatures) (Reader, error) {
		path := filepath.Join(dir, "f.tsv")
		if err := WriteTSV(path, fs); err != nil {
			return nil, err
		}
		return OpenTSV(path)
	})
}
