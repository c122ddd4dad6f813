package synthetic

import "image/color"

// The attribute vocabularies. Config.NumShapes and Config.NumColors select a prefix of each table; the detector
// projection always covers the full tables, so datasets with fewer attributes share the same feature space.
var (
	// Shapes are the object shapes, in class-id order.
	Shapes = []string{"cube", "sphere", "cylinder", "cone"}
	// Colors are the object colours, in class-id order.
	Colors = []string{"red", "blue", "green", "yellow", "gray", "purple", "brown", "cyan"}
	// Sizes are the object sizes.
	Sizes = []string{"small", "large"}
	// Materials are the object materials of the SNLI-VE scenes.
	Materials = []string{"metal", "rubber"}
)

// palette holds the RGB value each entry of Colors is drawn with.
var palette = []color.RGBA{
	{R: 220, G: 40, B: 40, A: 255},   // red
	{R: 40, G: 80, B: 220, A: 255},   // blue
	{R: 40, G: 170, B: 60, A: 255},   // green
	{R: 235, G: 205, B: 30, A: 255},  // yellow
	{R: 128, G: 128, B: 128, A: 255}, // gray
	{R: 130, G: 50, B: 180, A: 255},  // purple
	{R: 130, G: 80, B: 30, A: 255},   // brown
	{R: 40, G: 200, B: 210, A: 255},  // cyan
}

// backgroundColor is the light floor every scene is drawn on.
var backgroundColor = color.RGBA{R: 236, G: 236, B: 230, A: 255}

// classID returns the detector class (column of the 1601-way class distribution) of an object with the given shape
// and colour indices into the full tables: 1 + shape·len(Colors) + colour. Column 0 is the detector's "no object"
// class and backgroundClassID the class of the background regions.
func classID(shape, colorIdx int) int { return 1 + shape*len(Colors) + colorIdx }

// backgroundClassID is the detector class of the background ("floor") regions.
var backgroundClassID = 1 + len(Shapes)*len(Colors)

// indexOf returns the position of s in list, or -1.
func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
