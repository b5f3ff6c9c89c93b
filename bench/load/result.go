package main

import (
	"fmt"
	"time"
)

// Result is what one scenario measured against one server.
type Result struct {
	Scenario string `json:"scenario"`
	Target   string `json:"target"`
	Params   params `json:"params"`
	Start    string `json:"start"`
	// LoadAvg is the machine's load average (1, 5, 15 min) when the scenario started.
	LoadAvg string `json:"loadavg"`

	// Echo and fanout.
	Seconds float64 `json:"seconds,omitempty"` // measured window
	Count   int64   `json:"count,omitempty"`   // replies (echo) or deliveries (fanout) in it
	Rate    float64 `json:"rate,omitempty"`    // Count per second
	Sent    int64   `json:"sent,omitempty"`    // fanout: messages the publisher sent in the window
	P50ms   float64 `json:"p50_ms,omitempty"`
	P99ms   float64 `json:"p99_ms,omitempty"`
	MaxMs   float64 `json:"max_ms,omitempty"`
	// ServerCPU and LoadCPU are the cores the server (with -pid) and this generator
	// used during the window, on average.
	ServerCPU float64 `json:"server_cpu,omitempty"`
	LoadCPU   float64 `json:"load_cpu,omitempty"`

	// Idle.
	Conns        int     `json:"conns,omitempty"`
	RSSBefore    int64   `json:"rss_before,omitempty"`
	RSSMid       int64   `json:"rss_mid,omitempty"` // with half the connections open
	RSSAfter     int64   `json:"rss_after,omitempty"`
	BytesPerConn float64 `json:"bytes_per_conn,omitempty"` // (after - before) / conns
	// MarginalPerConn is (after - mid) / (conns - conns/2): the cost of the second
	// half of the connections, without the server's one-off growth.
	MarginalPerConn float64 `json:"marginal_bytes_per_conn,omitempty"`

	// Dropped counts connections the server ended during the run.
	Dropped int `json:"dropped"`
	// Notes are remarks on the run (scaled-down counts, dropped subscribers, ...).
	Notes []string `json:"notes,omitempty"`
}

func newResult(scenario string, p params) *Result {
	return &Result{Scenario: scenario, Target: p.Target, Params: p, Start: time.Now().Format(time.RFC3339), LoadAvg: loadAvg()}
}

// Summary is the result on one line.
func (r *Result) Summary() string {
	var s string
	switch r.Scenario {
	case "echo":
		s = fmt.Sprintf("echo %-8s %10.0f msg/s   p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  server %.2f cores, load %.2f cores", r.Target, r.Rate, r.P50ms, r.P99ms, r.MaxMs, r.ServerCPU, r.LoadCPU)
	case "fanout":
		s = fmt.Sprintf("fanout %-8s %10.0f deliveries/s (%.0f msg/s)  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  server %.2f cores, load %.2f cores", r.Target, r.Rate, float64(r.Sent)/r.Seconds, r.P50ms, r.P99ms, r.MaxMs, r.ServerCPU, r.LoadCPU)
	case "idle":
		s = fmt.Sprintf("idle %-8s %d conns: RSS %.1f MiB -> %.1f MiB (%.1f MiB at half), %.0f bytes per connection, %.0f marginal", r.Target, r.Conns, mib(r.RSSBefore), mib(r.RSSAfter), mib(r.RSSMid), r.BytesPerConn, r.MarginalPerConn)
	}
	if r.Dropped > 0 {
		s += fmt.Sprintf("  (%d connections dropped by the server)", r.Dropped)
	}
	for _, n := range r.Notes {
		s += "\n  note: " + n
	}
	return s
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// window measures the CPU time of the server and of this process over the
// measured window.
type window struct {
	pid       int
	start     time.Time
	srv0, me0 time.Duration
}

func startWindow(pid int) *window {
	w := &window{pid: pid, start: time.Now(), me0: selfCPU()}
	if pid > 0 {
		w.srv0, _ = procCPU(pid)
	}
	return w
}

// end fills r's window length and CPU use.
func (w *window) end(r *Result) {
	el := time.Since(w.start)
	r.Seconds = el.Seconds()
	r.LoadCPU = float64(selfCPU()-w.me0) / float64(el)
	if w.pid > 0 {
		if c, err := procCPU(w.pid); err == nil {
			r.ServerCPU = float64(c-w.srv0) / float64(el)
		}
	}
}
