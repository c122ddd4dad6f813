package synthetic

import (
	"fmt"
	"math/rand/v2"
)

// Object is one object of a scene. Box is in pixels, [x1, y1, x2, y2) with integer corners: the object is drawn
// inside it and it is the object's detector box.
type Object struct {
	Shape string `json:"shape"`
	Color string `json:"color"`
	Size  string `json:"size"`
	// Material is "metal" or "rubber" in the SNLI-VE scenes, "" elsewhere; the detector shows it for large objects
	// only.
	Material string     `json:"material,omitempty"`
	Box      [4]float32 `json:"box"`
}

// Scene is one synthetic image: its objects and the boxes of its background regions.
type Scene struct {
	ImageID    int64        `json:"image_id"`
	Key        string       `json:"key"` // feature key and image file stem, FeatureKey(ImageID)
	Split      string       `json:"split"`
	Width      int          `json:"width"`
	Height     int          `json:"height"`
	Objects    []Object     `json:"objects"`
	Background [][4]float32 `json:"background"` // boxes of the background regions, in pixels
}

// objectGap is the least free space, in pixels, between two object boxes.
const objectGap = 6

// placementTries bounds the rejection sampling of one object position and of one scene.
const placementTries = 200

// objectSide returns the nominal side of an object of the given size index (0 small, 1 large) in an image of the
// given height.
func objectSide(height, size int) int {
	if size == 0 {
		return height * 13 / 100
	}
	return height * 21 / 100
}

// centerX returns the horizontal centre of the object's box.
func (o Object) centerX() float32 { return (o.Box[0] + o.Box[2]) / 2 }

// centerY returns the vertical centre of the object's box.
func (o Object) centerY() float32 { return (o.Box[1] + o.Box[3]) / 2 }

// newScene draws a scene with MinObjects..MaxObjects non-overlapping objects and the background regions.
func newScene(cfg Config, rng *rand.Rand, imageID int64, split string) (Scene, error) {
	s := Scene{ImageID: imageID, Key: FeatureKey(imageID), Split: split, Width: cfg.ImageWidth, Height: cfg.ImageHeight}
	for range placementTries {
		n := cfg.MinObjects + rng.IntN(cfg.MaxObjects-cfg.MinObjects+1)
		s.Objects = s.Objects[:0]
		for range n {
			o, ok := placeObject(cfg, rng, s.Objects)
			if !ok {
				break
			}
			s.Objects = append(s.Objects, o)
		}
		if len(s.Objects) >= cfg.MinObjects {
			s.Background = make([][4]float32, cfg.BackgroundRegions)
			for i := range s.Background {
				s.Background[i] = backgroundBox(cfg, rng)
			}
			return s, nil
		}
	}
	return Scene{}, fmt.Errorf("scene %s: could not place %d objects without overlap", s.Key, cfg.MinObjects)
}

// placeObject draws a random object and a position at least objectGap away from every placed object.
func placeObject(cfg Config, rng *rand.Rand, placed []Object) (Object, bool) {
	shape, colorIdx, size := rng.IntN(cfg.NumShapes), rng.IntN(cfg.NumColors), rng.IntN(len(Sizes))
	side := float64(objectSide(cfg.ImageHeight, size)) * (0.9 + 0.2*rng.Float64())
	aspect := [...]float64{1, 1, 0.75, 0.9}[shape] // width / height of cube, sphere, cylinder, cone
	w, h := int(side*aspect), int(side)
	for range placementTries {
		x1 := objectGap + rng.IntN(cfg.ImageWidth-w-2*objectGap+1)
		y1 := objectGap + rng.IntN(cfg.ImageHeight-h-2*objectGap+1)
		box := [4]float32{float32(x1), float32(y1), float32(x1 + w), float32(y1 + h)}
		if !overlaps(box, placed) {
			return Object{Shape: Shapes[shape], Color: Colors[colorIdx], Size: Sizes[size], Box: box}, true
		}
	}
	return Object{}, false
}

// overlaps reports whether box comes closer than objectGap to any placed object.
func overlaps(box [4]float32, placed []Object) bool {
	for _, p := range placed {
		b := p.Box
		if box[0] < b[2]+objectGap && b[0] < box[2]+objectGap && box[1] < b[3]+objectGap && b[1] < box[3]+objectGap {
			return true
		}
	}
	return false
}

// backgroundBox draws a large random box, as a detector's "floor"/"table" proposals.
func backgroundBox(cfg Config, rng *rand.Rand) [4]float32 {
	w := cfg.ImageWidth/4 + rng.IntN(cfg.ImageWidth/2)
	h := cfg.ImageHeight/4 + rng.IntN(cfg.ImageHeight/2)
	x1, y1 := rng.IntN(cfg.ImageWidth-w+1), rng.IntN(cfg.ImageHeight-h+1)
	return [4]float32{float32(x1), float32(y1), float32(x1 + w), float32(y1 + h)}
}
