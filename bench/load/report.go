package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// targetOrder is the order servers are listed in.
var targetOrder = map[string]int{"blimp": 0, "node": 1, "gorilla": 2}

func runReport(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: load report DIR")
	}
	results, err := readResults(args[0])
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("no results (*.json) in %s", args[0])
	}
	writeReport(os.Stdout, results)
	return nil
}

func readResults(dir string) ([]*Result, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*Result
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r Result
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, &r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		oi, iok := targetOrder[out[i].Target]
		oj, jok := targetOrder[out[j].Target]
		if !iok {
			oi = len(targetOrder)
		}
		if !jok {
			oj = len(targetOrder)
		}
		if oi != oj {
			return oi < oj
		}
		return out[i].Target < out[j].Target
	})
	return out, nil
}

// key is the figure a result is ranked by when several rounds are taken: the rate,
// or the memory per connection.
func key(r *Result) float64 {
	if r.Scenario == "idle" {
		return r.BytesPerConn
	}
	return r.Rate
}

// median returns the result with the median key (the lower middle of an even count).
func median(rs []*Result) *Result {
	s := append([]*Result(nil), rs...)
	sort.SliceStable(s, func(i, j int) bool { return key(s[i]) < key(s[j]) })
	return s[(len(s)-1)/2]
}

// writeReport prints one Markdown table per scenario, then the ratios the issue's
// targets are stated in. With several rounds, each table row and each ratio uses the
// median round of each server, and the ratios of each round are listed too.
func writeReport(w io.Writer, results []*Result) {
	all := map[string]map[string][]*Result{} // scenario, target -> rounds
	targets := map[string][]string{}         // scenario -> targets in order
	for _, r := range results {
		if all[r.Scenario] == nil {
			all[r.Scenario] = map[string][]*Result{}
		}
		if all[r.Scenario][r.Target] == nil {
			targets[r.Scenario] = append(targets[r.Scenario], r.Target)
		}
		all[r.Scenario][r.Target] = append(all[r.Scenario][r.Target], r)
	}
	by := map[string]map[string]*Result{} // scenario, target -> median round
	rounds := map[string]int{}            // scenario -> rounds
	for sc, ts := range all {
		by[sc] = map[string]*Result{}
		for t, rs := range ts {
			by[sc][t] = median(rs)
			rounds[sc] = max(rounds[sc], len(rs))
		}
	}
	rows := func(sc string) []*Result {
		var out []*Result
		for _, t := range targets[sc] {
			out = append(out, by[sc][t])
		}
		return out
	}

	if rs := rows("echo"); len(rs) > 0 {
		p := rs[0].Params
		fmt.Fprintf(w, "### echo: %d connections x %d in flight, %d-byte text, %s measured after %s warm-up%s\n\n", p.Conns, p.Window, p.Size, p.Duration, p.Warmup, medianOf(rounds["echo"]))
		fmt.Fprintln(w, "| server | messages/s | p50 ms | p99 ms | max ms | server CPU (cores) | msgs per server core-s | generator CPU | load avg |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---|")
		for _, r := range rs {
			fmt.Fprintf(w, "| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %s | %.2f | %s |\n", r.Target, r.Rate, r.P50ms, r.P99ms, r.MaxMs, r.ServerCPU, perCore(r), r.LoadCPU, r.LoadAvg)
		}
		notes(w, all["echo"], targets["echo"])
		fmt.Fprintln(w)
	}
	if rs := rows("fanout"); len(rs) > 0 {
		p := rs[0].Params
		fmt.Fprintf(w, "### fanout: 1 publisher (%d in flight) to %d subscribers, %d-byte text, %s measured after %s warm-up%s\n\n", p.Window, p.Subs, p.Size, p.Duration, p.Warmup, medianOf(rounds["fanout"]))
		fmt.Fprintln(w, "| server | deliveries/s | messages/s | p50 ms | p99 ms | max ms | server CPU (cores) | deliveries per server core-s | generator CPU | load avg |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
		for _, r := range rs {
			fmt.Fprintf(w, "| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %s | %.2f | %s |\n", r.Target, r.Rate, float64(r.Sent)/r.Seconds, r.P50ms, r.P99ms, r.MaxMs, r.ServerCPU, perCore(r), r.LoadCPU, r.LoadAvg)
		}
		notes(w, all["fanout"], targets["fanout"])
		fmt.Fprintln(w)
	}
	if rs := rows("idle"); len(rs) > 0 {
		fmt.Fprintf(w, "### idle: memory per idle connection (server RSS after minus before, smallest of %d samples each)%s\n\n", rssSamples, medianOf(rounds["idle"]))
		fmt.Fprintln(w, "| server | connections | RSS before MiB | at half MiB | after MiB | KB per connection | marginal KB per connection (2nd half) | load avg |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---|")
		for _, r := range rs {
			fmt.Fprintf(w, "| %s | %d | %.1f | %.1f | %.1f | %.2f | %.2f | %s |\n", r.Target, r.Conns, mib(r.RSSBefore), mib(r.RSSMid), mib(r.RSSAfter), r.BytesPerConn/1024, r.MarginalPerConn/1024, r.LoadAvg)
		}
		notes(w, all["idle"], targets["idle"])
		fmt.Fprintln(w)
	}

	fmt.Fprintln(w, "### ratios against the issue 8 targets")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| measure | blimp | baseline | ratio | target | met |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	// ratio prints one row: f gives the figure of a result, better whether a ratio
	// (blimp / baseline) meets the target.
	ratio := func(sc, base, label, unit, target string, f func(*Result) float64, better func(float64) bool) {
		b, o := by[sc]["blimp"], by[sc][base]
		if b == nil || o == nil || f(o) == 0 {
			return
		}
		x := f(b) / f(o)
		met := ""
		if better != nil {
			met = yesNo(better(x))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.2fx%s | %s | %s |\n", label, num(f(b), unit), num(f(o), unit), x, perRound(all[sc]["blimp"], all[sc][base], f), target, met)
	}
	rate := func(r *Result) float64 { return r.Rate }
	p99 := func(r *Result) float64 { return r.P99ms }
	kb := func(r *Result) float64 { return r.BytesPerConn / 1024 }
	ratio("echo", "node", "echo messages/s, blimp / node", "", ">= 1.2x", rate, func(x float64) bool { return x >= 1.2 })
	ratio("echo", "gorilla", "echo messages/s, blimp / gorilla", "", ">= 0.8x", rate, func(x float64) bool { return x >= 0.8 })
	ratio("fanout", "node", "fan-out deliveries/s, blimp / node", "", ">= 2x", rate, func(x float64) bool { return x >= 2 })
	ratio("fanout", "node", "fan-out p99 latency, blimp / node", "ms", "lower (< 1x)", p99, func(x float64) bool { return x < 1 })
	ratio("idle", "node", "idle memory per connection, blimp / node", "KB", "<= 1x", kb, func(x float64) bool { return x <= 1 })
	ratio("idle", "node", "idle marginal memory per connection, blimp / node", "KB", "(same target)", func(r *Result) float64 { return r.MarginalPerConn / 1024 }, func(x float64) bool { return x <= 1 })
	ratio("fanout", "gorilla", "fan-out deliveries/s, blimp / gorilla", "", "(none)", rate, nil)
	ratio("idle", "gorilla", "idle memory per connection, blimp / gorilla", "KB", "(none)", kb, nil)
}

// medianOf says which round a table shows, when there are several.
func medianOf(rounds int) string {
	if rounds < 2 {
		return ""
	}
	return fmt.Sprintf("; each row is the server's median of %d rounds", rounds)
}

// num formats a figure with its unit.
func num(v float64, unit string) string {
	switch unit {
	case "":
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2f %s", v, unit)
	}
}

// perRound lists the ratio of each round both servers ran, when there are several.
func perRound(b, o []*Result, f func(*Result) float64) string {
	if len(b) < 2 {
		return ""
	}
	base := map[int]*Result{}
	for _, r := range o {
		base[r.Params.Round] = r
	}
	var parts []string
	for _, r := range b {
		if x := base[r.Params.Round]; x != nil && f(x) != 0 {
			parts = append(parts, fmt.Sprintf("%.2f", f(r)/f(x)))
		}
	}
	return " (rounds: " + strings.Join(parts, ", ") + ")"
}

func perCore(r *Result) string {
	if r.ServerCPU <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", r.Rate/r.ServerCPU)
}

func notes(w io.Writer, byTarget map[string][]*Result, targets []string) {
	var lines []string
	for _, t := range targets {
		for _, r := range byTarget[t] {
			for _, n := range r.Notes {
				lines = append(lines, fmt.Sprintf("- %s (round %d): %s", r.Target, r.Params.Round, n))
			}
		}
	}
	if len(lines) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}
