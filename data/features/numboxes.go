package features

// NumBoxes returns how many regions r.Get returns for an image. An ORIG img_db with an nbb file answers with the
// file's count without decoding the image (ORIG's name2nbb, which its TokenBucketSampler lengths use; Get returns
// that many unless the image stores fewer); other stores read the image.
func NumBoxes(r Reader, imageID string) (int, error) {
	if db, ok := r.(*imgDB); ok {
		if n, ok := db.listedBoxes(imageID); ok {
			return n, nil
		}
	}
	f, err := r.Get(imageID)
	if err != nil {
		return 0, err
	}
	return f.NumBoxes, nil
}

// listedBoxes returns the nbb file's count of an image, if the store has an nbb file that lists it.
func (r *imgDB) listedBoxes(imageID string) (int, bool) {
	if r.nbb == nil {
		return 0, false
	}
	key, ok := r.keys[trimNPZ(imageID)]
	if !ok {
		return 0, false
	}
	n, ok := r.nbb[key]
	return n, ok && n > 0
}
