package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestReportRatios(t *testing.T) {
	res := func(sc, target string, round int, rate, p99, perConn float64) *Result {
		return &Result{Scenario: sc, Target: target, Params: params{Round: round, Conns: 100, Window: 16, Size: 64}, Seconds: 1, Rate: rate, P99ms: p99, BytesPerConn: perConn, MarginalPerConn: perConn}
	}
	results := []*Result{
		res("echo", "blimp", 1, 130, 0, 0), res("echo", "node", 1, 100, 0, 0), res("echo", "gorilla", 1, 200, 0, 0),
		res("echo", "blimp", 2, 150, 0, 0), res("echo", "node", 2, 100, 0, 0), res("echo", "gorilla", 2, 200, 0, 0),
		res("echo", "blimp", 3, 90, 0, 0), res("echo", "node", 3, 100, 0, 0), res("echo", "gorilla", 3, 200, 0, 0),
		res("fanout", "blimp", 1, 300, 5, 0), res("fanout", "node", 1, 100, 10, 0),
		res("idle", "blimp", 1, 0, 0, 6144), res("idle", "node", 1, 0, 0, 5120),
	}
	var b bytes.Buffer
	writeReport(&b, results)
	out := b.String()
	for _, want := range []string{
		"median of 3 rounds",
		"| echo messages/s, blimp / node | 130 | 100 | 1.30x (rounds: 1.30, 1.50, 0.90) | >= 1.2x | yes |",
		"| echo messages/s, blimp / gorilla | 130 | 200 | 0.65x (rounds: 0.65, 0.75, 0.45) | >= 0.8x | **no** |",
		"| fan-out deliveries/s, blimp / node | 300 | 100 | 3.00x | >= 2x | yes |",
		"| fan-out p99 latency, blimp / node | 5.00 ms | 10.00 ms | 0.50x | lower (< 1x) | yes |",
		"| idle memory per connection, blimp / node | 6.00 KB | 5.00 KB | 1.20x | <= 1x | **no** |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q; got:\n%s", want, out)
		}
	}
}
