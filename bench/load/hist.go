package main

import (
	"math/bits"
	"time"
)

// hist is a latency histogram in nanoseconds with about 1.6% resolution (64 buckets
// per power of two, exact below 128 ns). The zero value is empty. It is not safe for
// concurrent use: each reader goroutine owns one, and they are merged at the end.
type hist struct {
	counts [histBuckets]uint64
	n      uint64
	max    int64
}

const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histMaxBits = 41 // values are clamped below 2^41 ns (about 36 minutes)
	histBuckets = (histMaxBits-histSubBits)*histSub + histSub
)

func histIndex(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	if u >= 1<<histMaxBits {
		u = 1<<histMaxBits - 1
	}
	if u < 2*histSub {
		return int(u)
	}
	exp := bits.Len64(u) - histSubBits - 1 // u>>exp is in [histSub, 2*histSub)
	return (exp+1)*histSub + int(u>>exp) - histSub
}

// histValue is the middle of bucket i.
func histValue(i int) int64 {
	if i < 2*histSub {
		return int64(i)
	}
	exp := i/histSub - 1
	mant := uint64(i%histSub + histSub)
	return int64(mant<<exp + (uint64(1)<<exp)/2)
}

func (h *hist) record(v int64) {
	h.counts[histIndex(v)]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the value below which a fraction q of the samples fall.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(histValue(i), h.max))
		}
	}
	return time.Duration(h.max)
}
