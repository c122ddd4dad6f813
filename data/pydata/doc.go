// Package pydata decodes the Python data files that MMF and ORIG UNITER write, natively and without running any
// Python: NumPy .npy and .npz arrays (numeric arrays and object arrays such as MMF's imdb_*.npy), and pickles of
// dicts, lists, tuples, strings, numbers and NumPy arrays and scalars (MMF's LMDB feature records). The unpickler
// is restricted: it builds only these values and rejects any other class or function a pickle names, so a file
// can never make it run code. Every decoder returns an error, never panics, on truncated or corrupt input.
package pydata
