//go:build amd64

package sgemm

import (
	"sync"
)

// Micro-kernel and cache-block sizes. A B micro-panel (KC×NR floats, 32 KiB) stays in L1 while the kernel streams
// the A block (MC×KC, 96 KiB) from L2; the B panel (KC×NC) lives in L3.
const (
	MR = 12
	NR = 32
	KC = 256
	MC = 96 // multiple of MR
	NC = 4096
)

// Task is a rectangle of one matrix product of a batch: rows [RowStart, RowEnd) and columns [ColStart, ColEnd) of
// output matrix Batch.
type Task struct {
	Batch            int
	RowStart, RowEnd int
	ColStart, ColEnd int
}

// Problem describes a batch of products out[b] = lhs[b] · rhs[b], lhs[b] shaped [M, K] and out[b] [M, N]. When
// TransposedRHS, rhs[b] is shaped [N, K], otherwise [K, N]. All matrices are row-major and contiguous per batch.
type Problem struct {
	LHS, RHS, Out  []float32
	Batch, M, N, K int
	TransposedRHS  bool
}

// Tasks splits p into about parts rectangles of similar cost for parallel workers: whole batch items when there are
// enough of them, otherwise row blocks (multiples of MR) or column blocks (multiples of NR), whichever repacks the
// smaller operand: each row block packs all of RHS (K·N), each column block all of LHS (M·K).
func (p *Problem) Tasks(parts int) []Task {
	if parts < 1 {
		parts = 1
	}
	var tasks []Task
	switch {
	case parts == 1 || p.Batch >= 2*parts:
		for b := range p.Batch {
			tasks = append(tasks, Task{b, 0, p.M, 0, p.N})
		}
	case p.M >= p.N || p.N < NR*parts:
		perBatch := (parts + p.Batch - 1) / p.Batch
		step := roundUp((p.M+perBatch-1)/perBatch, MR)
		for b := range p.Batch {
			for r := 0; r < p.M; r += step {
				tasks = append(tasks, Task{b, r, min(r+step, p.M), 0, p.N})
			}
		}
	default:
		perBatch := (parts + p.Batch - 1) / p.Batch
		step := roundUp((p.N+perBatch-1)/perBatch, NR)
		for b := range p.Batch {
			for c := 0; c < p.N; c += step {
				tasks = append(tasks, Task{b, 0, p.M, c, min(c+step, p.N)})
			}
		}
	}
	return tasks
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// buffers holds one worker's packed panels.
type buffers struct {
	a    []float32 // MC×KC
	b    []float32 // KC×NC
	tile [MR * NR]float32
}

var bufferPool = sync.Pool{New: func() any {
	return &buffers{a: make([]float32, MC*KC), b: make([]float32, KC*NC)}
}}

// Run computes the rectangle t of p.
func (p *Problem) Run(t Task) {
	buf := bufferPool.Get().(*buffers)
	defer bufferPool.Put(buf)
	M, N, K := p.M, p.N, p.K
	lhs := p.LHS[t.Batch*M*K : (t.Batch+1)*M*K]
	rhs := p.RHS[t.Batch*K*N : (t.Batch+1)*K*N]
	out := p.Out[t.Batch*M*N : (t.Batch+1)*M*N]
	if K == 0 {
		for r := t.RowStart; r < t.RowEnd; r++ {
			clear(out[r*N+t.ColStart : r*N+t.ColEnd])
		}
		return
	}
	for jc := t.ColStart; jc < t.ColEnd; jc += NC {
		nc := min(NC, t.ColEnd-jc)
		for pc := 0; pc < K; pc += KC {
			kc := min(KC, K-pc)
			if p.TransposedRHS {
				packBTransposed(buf.b, rhs, K, pc, kc, jc, nc)
			} else {
				packB(buf.b, rhs, N, pc, kc, jc, nc)
			}
			accumulate := pc > 0
			for ic := t.RowStart; ic < t.RowEnd; ic += MC {
				mc := min(MC, t.RowEnd-ic)
				packA(buf.a, lhs, K, ic, mc, pc, kc)
				for jr := 0; jr < nc; jr += NR {
					nr := min(NR, nc-jr)
					bPanel := buf.b[jr*kc:]
					for ir := 0; ir < mc; ir += MR {
						mr := min(MR, mc-ir)
						aPanel := buf.a[ir*kc:]
						cOff := (ic+ir)*N + jc + jr
						if mr == MR && nr == NR {
							kernel12x32(kc, &aPanel[0], &bPanel[0], &out[cOff], N, accumulate)
							continue
						}
						kernel12x32(kc, &aPanel[0], &bPanel[0], &buf.tile[0], NR, false)
						for r := range mr {
							dst := out[cOff+r*N : cOff+r*N+nr]
							src := buf.tile[r*NR : r*NR+nr]
							if accumulate {
								for j, v := range src {
									dst[j] += v
								}
							} else {
								copy(dst, src)
							}
						}
					}
				}
			}
		}
	}
}

// packA copies lhs[ic:ic+mc, pc:pc+kc] (row stride K) into micro-panels of MR rows: panel i holds
// dst[i*MR*kc + k*MR + r] = lhs[ic+i*MR+r, pc+k], rows past mc zero.
func packA(dst, lhs []float32, K, ic, mc, pc, kc int) {
	for i := 0; i < mc; i += MR {
		panel := dst[i*kc : i*kc+MR*kc]
		rows := min(MR, mc-i)
		k0 := 0
		if rows == MR {
			for ; k0+16 <= kc; k0 += 16 {
				transpose12x16(&lhs[(ic+i)*K+pc+k0], K, &panel[k0*MR], MR)
			}
		}
		for r := range rows {
			src := lhs[(ic+i+r)*K+pc+k0 : (ic+i+r)*K+pc+kc]
			for k, v := range src {
				panel[(k0+k)*MR+r] = v
			}
		}
		for r := rows; r < MR; r++ {
			for k := range kc {
				panel[k*MR+r] = 0
			}
		}
	}
}

// packB copies rhs[pc:pc+kc, jc:jc+nc] (shape [K, N]) into micro-panels of NR columns: panel j holds
// dst[j*kc + k*NR + c] = rhs[pc+k, jc+j+c], columns past nc zero.
func packB(dst, rhs []float32, N, pc, kc, jc, nc int) {
	for j := 0; j < nc; j += NR {
		panel := dst[j*kc : j*kc+NR*kc]
		cols := min(NR, nc-j)
		for k := range kc {
			row := panel[k*NR : k*NR+NR]
			n := copy(row[:cols], rhs[(pc+k)*N+jc+j:])
			clear(row[n:])
		}
	}
}

// packBTransposed is packB for rhs shaped [N, K]: dst[j*kc + k*NR + c] = rhs[jc+j+c, pc+k].
func packBTransposed(dst, rhs []float32, K, pc, kc, jc, nc int) {
	for j := 0; j < nc; j += NR {
		panel := dst[j*kc : j*kc+NR*kc]
		cols := min(NR, nc-j)
		k0 := 0
		if cols == NR {
			for ; k0+16 <= kc; k0 += 16 {
				transpose16x16(&rhs[(jc+j)*K+pc+k0], K, &panel[k0*NR], NR)
				transpose16x16(&rhs[(jc+j+16)*K+pc+k0], K, &panel[k0*NR+16], NR)
			}
		}
		for c := range cols {
			src := rhs[(jc+j+c)*K+pc+k0 : (jc+j+c)*K+pc+kc]
			for k, v := range src {
				panel[(k0+k)*NR+c] = v
			}
		}
		for c := cols; c < NR; c++ {
			for k := range kc {
				panel[k*NR+c] = 0
			}
		}
	}
}
