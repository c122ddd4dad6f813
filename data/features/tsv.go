package features

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// tsvFile reads a bottom-up-attention TSV; an index of line offsets built at open gives random access.
type tsvFile struct {
	path  string
	f     *os.File
	ids   []string
	lines map[string]tsvLine
}

type tsvLine struct{ off, n int64 }

// OpenTSV opens a bottom-up-attention TSV (generate_tsv.py): one image per line, tab-separated fields image_id,
// image_w, image_h, num_boxes, boxes (base64 of float32 [N,4] pixel x1,y1,x2,y2; float64 is accepted too),
// features (base64 of float32 [N,D]), and optionally cls_prob (base64 of float32 [N,C]). A first line whose
// first field is "image_id" is taken as a header. The file is scanned once to index the lines.
func OpenTSV(path string) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening TSV %s: %w", path, err)
	}
	r := &tsvFile{path: path, f: f, lines: map[string]tsvLine{}}
	if err := r.index(); err != nil {
		f.Close()
		return nil, err
	}
	sort.Strings(r.ids)
	return r, nil
}

// index records the offset and length of every non-empty line under its first field.
func (r *tsvFile) index() error {
	br := bufio.NewReaderSize(r.f, 1<<16)
	var off int64
	for lineNo := 1; ; lineNo++ {
		start := off
		var id []byte
		idDone := false
		for {
			chunk, err := br.ReadSlice('\n')
			off += int64(len(chunk))
			if !idDone {
				if i := bytes.IndexByte(chunk, '\t'); i >= 0 {
					id, idDone = append(id, chunk[:i]...), true
				} else {
					id = append(id, bytes.TrimRight(chunk, "\r\n")...)
				}
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil && err != io.EOF {
				return fmt.Errorf("reading TSV %s line %d: %w", r.path, lineNo, err)
			}
			n := off - start
			if n > 0 && !(lineNo == 1 && string(id) == "image_id") && len(bytes.TrimSpace(id)) > 0 {
				if _, dup := r.lines[string(id)]; dup {
					return fmt.Errorf("reading TSV %s line %d: image %q appears twice", r.path, lineNo, id)
				}
				r.lines[string(id)] = tsvLine{start, n}
				r.ids = append(r.ids, string(id))
			}
			if err == io.EOF {
				return nil
			}
			break
		}
	}
}

// Get implements Reader.
func (r *tsvFile) Get(imageID string) (*ImageFeatures, error) {
	l, ok := r.lines[imageID]
	if !ok {
		return nil, fmt.Errorf("TSV %s: no image %q", r.path, imageID)
	}
	buf := make([]byte, l.n)
	if _, err := r.f.ReadAt(buf, l.off); err != nil {
		return nil, fmt.Errorf("reading TSV %s (image %q): %w", r.path, imageID, err)
	}
	f, err := parseTSVLine(strings.TrimRight(string(buf), "\r\n"))
	if err != nil {
		return nil, fmt.Errorf("reading TSV %s (image %q): %w", r.path, imageID, err)
	}
	return f, nil
}

// IDs implements Reader.
func (r *tsvFile) IDs() []string { return append([]string(nil), r.ids...) }

// Close implements Reader.
func (r *tsvFile) Close() error {
	if err := r.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("closing TSV %s: %w", r.path, err)
	}
	return nil
}

func parseTSVLine(line string) (*ImageFeatures, error) {
	fields := strings.Split(line, "\t")
	if len(fields) != 6 && len(fields) != 7 {
		return nil, fmt.Errorf("want 6 or 7 tab-separated fields, got %d", len(fields))
	}
	f := &ImageFeatures{ImageID: fields[0]}
	ints := []*int{&f.Width, &f.Height, &f.NumBoxes}
	for i, name := range []string{"image_w", "image_h", "num_boxes"} {
		v, err := strconv.Atoi(strings.TrimSpace(fields[1+i]))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		*ints[i] = v
	}
	if f.Width <= 0 || f.Height <= 0 || f.NumBoxes < 0 {
		return nil, fmt.Errorf("bad sizes: image %dx%d, %d boxes", f.Width, f.Height, f.NumBoxes)
	}
	var err error
	if f.Boxes, err = decodeB64Floats(fields[4], 4*f.NumBoxes, true); err != nil {
		return nil, fmt.Errorf("boxes: %w", err)
	}
	if f.Features, err = decodeB64Floats(fields[5], 0, false); err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	if f.Dim, err = perBox(len(f.Features), f.NumBoxes); err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	if len(fields) == 7 {
		if f.ClassProbs, err = decodeB64Floats(fields[6], 0, false); err != nil {
			return nil, fmt.Errorf("cls_prob: %w", err)
		}
		if f.NumClasses, err = perBox(len(f.ClassProbs), f.NumBoxes); err != nil {
			return nil, fmt.Errorf("cls_prob: %w", err)
		}
	}
	return f, nil
}

// perBox returns the number of values per box.
func perBox(total, boxes int) (int, error) {
	if boxes == 0 {
		if total != 0 {
			return 0, fmt.Errorf("%d values for 0 boxes", total)
		}
		return 0, nil
	}
	if total%boxes != 0 {
		return 0, fmt.Errorf("%d values do not split into %d boxes", total, boxes)
	}
	return total / boxes, nil
}

// decodeB64Floats decodes base64 little-endian float32 values. With want > 0 and allow64, a payload of exactly
// want float64 values is accepted too.
func decodeB64Floats(s string, want int, allow64 bool) ([]float32, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if allow64 && want > 0 && len(b) == 8*want {
		out := make([]float32, want)
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
		return out, nil
	}
	if len(b)%4 != 0 || (want > 0 && len(b) != 4*want) {
		return nil, fmt.Errorf("%d bytes are not %d float32 values", len(b), want)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
	}
	return out, nil
}

func encodeB64Floats(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// WriteTSV writes images as a bottom-up-attention TSV (no header; a cls_prob column when every image has
// ClassProbs).
func WriteTSV(path string, fs []*ImageFeatures) error {
	withCls := len(fs) > 0
	for _, f := range fs {
		if err := f.validate(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		withCls = withCls && f.ClassProbs != nil
	}
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	for _, f := range fs {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s", f.ImageID, f.Width, f.Height, f.NumBoxes,
			encodeB64Floats(f.Boxes), encodeB64Floats(f.Features))
		if withCls {
			fmt.Fprintf(w, "\t%s", encodeB64Floats(f.ClassProbs))
		}
		w.WriteByte('\n')
	}
	err = w.Flush()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
