package server

import (
	"math"
	"sync"
	"time"
)

// rateLimiter is a token bucket: rate tokens a second, bursts up to rate. A nil
// *rateLimiter allows everything. It is safe for concurrent use.
type rateLimiter struct {
	rate float64

	mu     sync.Mutex // guards tokens and last
	tokens float64
	last   time.Time
}

// newRateLimiter returns a limiter for rate events a second, or nil for no limit.
func newRateLimiter(rate float64) *rateLimiter {
	if rate <= 0 {
		return nil
	}
	return &rateLimiter{rate: rate, tokens: math.Max(rate, 1), last: time.Now()}
}

// allow takes a token and reports whether there was one; if not, it also says
// when the next one will be there.
func (l *rateLimiter) allow(now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokens = math.Min(math.Max(l.rate, 1), l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true, 0
	}
	return false, time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
}
