// Package lmdbkv is the small LMDB layer shared by UNITER's img_db and txt_db readers and writers: read-only,
// lock-free random access from many goroutines, and a one-transaction bulk writer.
package lmdbkv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/bmatsuo/lmdb-go/lmdb"
)

// mapSize is the LMDB map size used when writing: virtual address space only, the file grows as data is written.
const mapSize = 1 << 38

// Store is a read-only LMDB environment (a directory holding data.mdb). It opens without a lock file, so it must
// not be read while another process writes it.
type Store struct {
	dir    string
	env    *lmdb.Env
	dbi    lmdb.DBI
	mu     sync.RWMutex // guards closed against Get racing Close
	closed bool
}

// Open opens an LMDB environment read-only: a directory holding data.mdb, or the data file itself (what
// Python's lmdb.open(path, subdir=False) writes, e.g. MMF's *.lmdb files).
func Open(dir string) (*Store, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("opening LMDB %s: %w", dir, err)
	}
	flags := uint(lmdb.Readonly | lmdb.NoLock | lmdb.NoReadahead)
	if !st.IsDir() {
		flags |= lmdb.NoSubdir
	} else if _, err := os.Stat(dir + "/data.mdb"); err != nil {
		return nil, fmt.Errorf("opening LMDB %s: %w", dir, err)
	}
	env, err := lmdb.NewEnv()
	if err != nil {
		return nil, fmt.Errorf("opening LMDB %s: %w", dir, err)
	}
	if err := env.Open(dir, flags, 0o644); err != nil {
		env.Close()
		return nil, fmt.Errorf("opening LMDB %s: %w", dir, err)
	}
	s := &Store{dir: dir, env: env}
	err = env.View(func(txn *lmdb.Txn) (err error) {
		s.dbi, err = txn.OpenRoot(0)
		return err
	})
	if err != nil {
		env.Close()
		return nil, fmt.Errorf("opening LMDB %s: %w", dir, err)
	}
	return s, nil
}

// IsLMDBFile reports whether the file at path starts like an LMDB data file (the meta page's magic 0xBEEFC0DE).
func IsLMDBFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [20]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return false
	}
	return binary.LittleEndian.Uint32(b[16:]) == 0xBEEFC0DE
}

// Dir is the directory of the store.
func (s *Store) Dir() string { return s.dir }

// Keys lists every key in LMDB (byte) order.
func (s *Store) Keys() ([]string, error) {
	var keys []string
	err := s.view(func(txn *lmdb.Txn) error {
		cur, err := txn.OpenCursor(s.dbi)
		if err != nil {
			return err
		}
		defer cur.Close()
		for {
			k, _, err := cur.Get(nil, nil, lmdb.Next)
			if lmdb.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			keys = append(keys, string(k))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("listing keys of LMDB %s: %w", s.dir, err)
	}
	return keys, nil
}

// Get calls fn with the value of key, which is only valid during the call (it points into the memory map).
// found is false, and fn is not called, when the key is absent.
func (s *Store) Get(key string, fn func(val []byte) error) (found bool, err error) {
	err = s.view(func(txn *lmdb.Txn) error {
		txn.RawRead = true
		v, err := txn.Get(s.dbi, []byte(key))
		if lmdb.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return fn(v)
	})
	return found, err
}

func (s *Store) view(fn lmdb.TxnOp) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errors.New("store is closed")
	}
	return s.env.View(fn)
}

// Close closes the environment; later calls fail with an error.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.env.Close()
}

// Write creates (or adds to) the LMDB environment in dir and puts n records in one transaction; rec(i) returns the
// i-th key and value. No lock file is left behind.
func Write(dir string, n int, rec func(i int) (key string, val []byte, err error)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing LMDB %s: %w", dir, err)
	}
	env, err := lmdb.NewEnv()
	if err != nil {
		return fmt.Errorf("writing LMDB %s: %w", dir, err)
	}
	defer env.Close()
	if err := env.SetMapSize(mapSize); err != nil {
		return fmt.Errorf("writing LMDB %s: %w", dir, err)
	}
	if err := env.Open(dir, lmdb.NoLock, 0o644); err != nil {
		return fmt.Errorf("writing LMDB %s: %w", dir, err)
	}
	err = env.Update(func(txn *lmdb.Txn) error {
		dbi, err := txn.OpenRoot(0)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			k, v, err := rec(i)
			if err != nil {
				return err
			}
			if err := txn.Put(dbi, []byte(k), v, 0); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing LMDB %s: %w", dir, err)
	}
	return nil
}
