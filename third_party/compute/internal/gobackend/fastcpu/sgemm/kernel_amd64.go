//go:build amd64

package sgemm

//go:generate python3 kernel_gen.py

// kernel12x32 computes c[r*ldc+j] = (accumulate ? c[r*ldc+j] : 0) + Σ_k a[k*MR+r]·b[k*NR+j] for r < MR, j < NR.
//
//go:noescape
func kernel12x32(kc int, a, b, c *float32, ldc int, accumulate bool)

// transpose16x16 sets dst[c*dstStride+r] = src[r*srcStride+c] for r, c < 16.
//
//go:noescape
func transpose16x16(src *float32, srcStride int, dst *float32, dstStride int)

// transpose12x16 sets dst[c*dstStride+r] = src[r*srcStride+c] for r < 12, c < 16, leaving dst[c*dstStride+12:+16]
// untouched.
//
//go:noescape
func transpose12x16(src *float32, srcStride int, dst *float32, dstStride int)
