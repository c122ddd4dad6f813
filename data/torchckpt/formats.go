package torchckpt

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors/numpy"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/uniter-go/uniter/internal/safetensors"
)

// readZip handles the two zip-based formats: torch.save's archive (<name>/data.pkl plus raw
// storages <name>/data/<key>) and NumPy's .npz (one <name>.npy per array).
func readZip(f *os.File, size int64) (StateDict, error) {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return nil, fmt.Errorf("not a valid zip archive: %w", err)
	}
	files := make(map[string]*zip.File, len(zr.File))
	prefix, npy := "", false
	for _, zf := range zr.File {
		files[zf.Name] = zf
		if dir, ok := strings.CutSuffix(zf.Name, "/data.pkl"); ok && !strings.Contains(dir, "/") {
			prefix = dir + "/"
		}
		npy = npy || strings.HasSuffix(zf.Name, ".npy")
	}
	switch {
	case prefix != "":
		return readTorchZip(files, prefix)
	case npy:
		return readNPZ(f, size)
	}
	return nil, errors.New("zip archive holds neither data.pkl (torch.save) nor .npy files (.npz)")
}

func readTorchZip(files map[string]*zip.File, prefix string) (StateDict, error) {
	if _, ok := files[prefix+"constants.pkl"]; ok {
		return nil, errors.New("TorchScript archives are not supported; save a state_dict instead")
	}
	if zf, ok := files[prefix+"byteorder"]; ok {
		order, err := readZipFile(zf, 16)
		if err != nil {
			return nil, err
		}
		if s := strings.TrimSpace(string(order)); s != "little" {
			return nil, fmt.Errorf("byte order %q is not supported", s)
		}
	}
	pkl, err := readZipFile(files[prefix+"data.pkl"], -1)
	if err != nil {
		return nil, err
	}
	table := storageTable{}
	obj, err := unpickle(bytes.NewReader(pkl), table.persistentLoad)
	if err != nil {
		return nil, fmt.Errorf("unpickling %sdata.pkl: %w", prefix, err)
	}
	refs, err := selectTensors(obj)
	if err != nil {
		return nil, err
	}
	for key, st := range table {
		if !st.needed {
			continue
		}
		name := prefix + "data/" + key
		zf, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("storage record %s is missing", name)
		}
		want := int64(st.numel) * int64(elemTypes[st.dtype].size)
		if zf.UncompressedSize64 != uint64(want) {
			return nil, fmt.Errorf("storage record %s has %d bytes, want %d (%d %s elements)",
				name, zf.UncompressedSize64, want, st.numel, st.dtype)
		}
		raw, err := readZipFile(zf, want)
		if err != nil {
			return nil, err
		}
		if st.data, err = decodeRaw(st.dtype, raw); err != nil {
			return nil, fmt.Errorf("storage record %s: %w", name, err)
		}
	}
	return materialize(refs)
}

// readZipFile returns the content of zf; want >= 0 demands exactly that many bytes.
func readZipFile(zf *zip.File, want int64) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("opening record %s: %w", zf.Name, err)
	}
	defer rc.Close()
	var data []byte
	if want >= 0 {
		data = make([]byte, want)
		_, err = io.ReadFull(rc, data)
	} else {
		data, err = io.ReadAll(rc)
	}
	if err != nil {
		return nil, fmt.Errorf("reading record %s: %w", zf.Name, err)
	}
	return data, nil
}

// legacyMagic is the first pickle of a non-zip torch.save file.
const legacyMagic = "1950a86a20f9469cfc6c"

// readLegacy reads torch.save(..., _use_new_zipfile_serialization=False): pickles of the magic
// number, protocol version 1001, system info, the object and the sorted storage keys, followed by
// each storage as an int64 element count and its raw bytes.
func readLegacy(f *os.File, size int64) (StateDict, error) {
	r := bufio.NewReader(io.NewSectionReader(f, 0, size))
	magic, err := unpickle(r, nil)
	if n, ok := magic.(*big.Int); err != nil || !ok || n.Text(16) != legacyMagic {
		return nil, errors.New("pickle file without the PyTorch magic number")
	}
	if v, err := unpickle(r, nil); err != nil || v != 1001 {
		return nil, fmt.Errorf("unsupported legacy protocol version %v", v)
	}
	if _, err := unpickle(r, nil); err != nil {
		return nil, fmt.Errorf("unpickling system info: %w", err)
	}
	table := storageTable{}
	obj, err := unpickle(r, table.persistentLoad)
	if err != nil {
		return nil, fmt.Errorf("unpickling the saved object: %w", err)
	}
	refs, err := selectTensors(obj)
	if err != nil {
		return nil, err
	}
	keysObj, err := unpickle(r, nil)
	keys, ok := keysObj.(*types.List)
	if err != nil || !ok {
		return nil, fmt.Errorf("unpickling the storage key list: %v", err)
	}
	for _, k := range *keys {
		key, _ := k.(string)
		st, ok := table[key]
		if !ok {
			return nil, fmt.Errorf("storage key %v is not used by the pickle", k)
		}
		var count uint64
		if err := binary.Read(r, binary.LittleEndian, &count); err != nil {
			return nil, fmt.Errorf("storage %s: reading its size: %w", key, err)
		}
		nbytes := int64(st.numel) * int64(elemTypes[st.dtype].size)
		if count != uint64(st.numel) || nbytes > size {
			return nil, fmt.Errorf("storage %s: %d elements stored, pickle says %d", key, count, st.numel)
		}
		if !st.needed {
			if _, err := r.Discard(int(nbytes)); err != nil {
				return nil, fmt.Errorf("storage %s: %w", key, err)
			}
			continue
		}
		raw := make([]byte, nbytes)
		if _, err := io.ReadFull(r, raw); err != nil {
			return nil, fmt.Errorf("storage %s: %w", key, err)
		}
		if st.data, err = decodeRaw(st.dtype, raw); err != nil {
			return nil, fmt.Errorf("storage %s: %w", key, err)
		}
	}
	for key, st := range table {
		if st.needed && st.data == nil {
			return nil, fmt.Errorf("storage %s is missing from the file", key)
		}
	}
	return materialize(refs)
}

// safetensorsDTypes maps safetensors dtype codes to Tensor.DType names.
var safetensorsDTypes = map[string]string{
	"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64", "I64": "int64",
	"I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool",
}

// readSafetensors reads a safetensors file with the shared reader.
func readSafetensors(path string) (StateDict, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sd := make(StateDict, len(f.Entries))
	for name, e := range f.Entries {
		dtype, ok := safetensorsDTypes[e.DType]
		if !ok {
			return nil, fmt.Errorf("key %q: unsupported dtype %q", name, e.DType)
		}
		buf := make([]byte, e.Size())
		if err := f.Read(name, buf); err != nil {
			return nil, err
		}
		data, err := decodeRaw(dtype, buf)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", name, err)
		}
		if sd[name], err = newTensor(name, dtype, e.Shape, data); err != nil {
			return nil, err
		}
	}
	return sd, nil
}

// npzDTypes maps the array types gomlx's NumPy reader returns to Tensor.DType names.
var npzDTypes = map[dtypes.DType]string{
	dtypes.Float32: "float32", dtypes.Float16: "float16", dtypes.Float64: "float64", dtypes.Int64: "int64",
	dtypes.Int32: "int32", dtypes.Int16: "int16", dtypes.Int8: "int8", dtypes.Uint8: "uint8", dtypes.Bool: "bool",
}

// readNPZ reads a NumPy .npz archive with gomlx's reader (host byte order is little-endian).
func readNPZ(f *os.File, size int64) (StateDict, error) {
	arrays, err := numpy.FromNpzReader(f, size)
	if err != nil {
		return nil, err
	}
	sd := make(StateDict, len(arrays))
	for name, t := range arrays {
		dtype, ok := npzDTypes[t.DType()]
		if !ok {
			return nil, fmt.Errorf("key %q: unsupported dtype %s", name, t.DType())
		}
		var data []float32
		var decodeErr error
		if err := t.ConstBytes(func(raw []byte) { data, decodeErr = decodeRaw(dtype, raw) }); err != nil {
			return nil, fmt.Errorf("key %q: %w", name, err)
		}
		if decodeErr != nil {
			return nil, fmt.Errorf("key %q: %w", name, decodeErr)
		}
		if sd[name], err = newTensor(name, dtype, t.Shape().Dimensions, data); err != nil {
			return nil, err
		}
	}
	return sd, nil
}
