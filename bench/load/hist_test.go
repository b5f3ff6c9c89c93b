package main

import (
	"testing"
	"time"
)

func TestHistQuantiles(t *testing.T) {
	var h hist
	for v := int64(1); v <= 100000; v++ {
		h.record(v * 1000) // 1 µs .. 100 ms, uniform
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {0.001, 100 * time.Microsecond}} {
		got := h.quantile(tc.q)
		if d := got - tc.want; d < -tc.want/50 || d > tc.want/50 {
			t.Errorf("quantile(%v) = %v, want %v within 2%%", tc.q, got, tc.want)
		}
	}
	if got := h.quantile(1); got != 100*time.Millisecond {
		t.Errorf("quantile(1) = %v, want the max 100ms", got)
	}
}

func TestHistIndexMonotonic(t *testing.T) {
	prev := -1
	for v := int64(0); v < 1<<22; v += 7 {
		i := histIndex(v)
		if i < prev {
			t.Fatalf("histIndex(%d) = %d, below histIndex of a smaller value (%d)", v, i, prev)
		}
		if lo := histValue(i); v >= 2*histSub && (lo > v*102/100 || lo < v*98/100) {
			t.Fatalf("histValue(histIndex(%d)) = %d, more than 2%% off", v, lo)
		}
		prev = i
	}
	if i := histIndex(1 << 50); i >= histBuckets {
		t.Fatalf("histIndex(2^50) = %d, out of %d buckets", i, histBuckets)
	}
}

func TestStampRoundTrip(t *testing.T) {
	b := newPayload(64)
	for _, v := range []int64{0, 1, 123456789, 1<<62 - 1} {
		stamp(b, v)
		if got := sentAt(b); got != v {
			t.Errorf("sentAt(stamp(%d)) = %d", v, got)
		}
	}
	if got := sentAt([]byte("short")); got != -1 {
		t.Errorf("sentAt(short) = %d, want -1", got)
	}
}
