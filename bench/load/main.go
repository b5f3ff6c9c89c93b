// Command load is the load generator of blimp's connection-layer benchmark (issue 8).
// It drives any WebSocket server that serves an echo and a fan-out endpoint at the
// same paths as bench/projects/bench (blimp, bench/node, bench/gorilla), so the three
// are measured by the same client doing the same work. bench/run drives it; see
// bench/README.md for the figures.
//
//	load echo   -url ws://127.0.0.1:8080/websockets/v4/service/echo [-conns 100] [-window 16] [-size 64] [-duration 10s] [-warmup 2s]
//	load fanout -url ws://127.0.0.1:8080/websockets/v4/service/fanout [-subs 1000] [-window 8] [-size 64] [-duration 10s] [-warmup 2s]
//	load idle   -url ws://127.0.0.1:8080/websockets/v4/service/echo -pid PID [-conns 5000]
//	load report DIR        print the tables and ratios of the results in DIR
//	load freeport          print a free loopback TCP port
//	load wait -url URL     wait until a WebSocket handshake to URL succeeds
//
// Common flags: -target names the server in the results (blimp, node, gorilla);
// -pid is the server's process id, for its CPU time and memory (/proc/PID); -out
// writes the result as JSON to a file (bench/run collects them for load report).
//
// The scenarios:
//
//   - echo: conns connections each keep window messages of size bytes outstanding
//     (pipelined); after the warm-up, messages/s and the round-trip latency of the
//     replies received during duration are reported.
//   - fanout: subs subscribers and one publisher connect to the fan-out endpoint,
//     which sends every message to every connection. The publisher sends as fast as
//     the server absorbs, with at most window messages in flight (it counts its own
//     copies coming back, and also waits while the subscribers as a whole are more
//     than 2*window messages behind). Deliveries/s across the subscribers and the
//     delivery latency (publisher's send to subscriber's receipt) are reported.
//   - idle: conns connections are opened (each exchanges one echo message, so it is
//     known to be served, then stays quiet) and the server's resident memory after
//     they settle, minus before, divided by conns, is reported.
//
// Every payload starts with its send time, so latency needs no bookkeeping per
// message. Each connection has one reader goroutine; writes of a burst are buffered
// and flushed in one system call; buffers are reused.
//
// Only loopback addresses are accepted unless -allow-remote is given: this is a load
// generator.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "echo", "fanout", "idle":
		err = runScenario(ctx, cmd, args)
	case "report":
		err = runReport(args)
	case "freeport":
		err = freePort()
	case "wait":
		err = runWait(ctx, args)
	case "help", "-h", "--help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "load: unknown command %q\n", cmd)
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  load echo|fanout|idle -url ws://HOST:PORT/PATH [flags]   run one scenario (load echo -h lists the flags)
  load report DIR                                          tables and ratios of DIR/*.json
  load freeport                                            print a free loopback port
  load wait -url URL [-timeout 30s]                        wait for the server to accept WebSockets
`)
}

// params are the flags of the scenarios; each uses the ones that apply to it.
type params struct {
	URL         string        `json:"url"`
	Target      string        `json:"target"`
	Round       int           `json:"round,omitempty"`
	PID         int           `json:"pid,omitempty"`
	Conns       int           `json:"conns,omitempty"`
	Subs        int           `json:"subs,omitempty"`
	Window      int           `json:"window,omitempty"`
	Size        int           `json:"size,omitempty"`
	Duration    time.Duration `json:"duration,omitempty"`
	Warmup      time.Duration `json:"warmup,omitempty"`
	Settle      time.Duration `json:"settle,omitempty"`
	Dialers     int           `json:"-"`
	ProfileSig  bool          `json:"-"`
	AllowRemote bool          `json:"-"`
	Out         string        `json:"-"`
}

func runScenario(ctx context.Context, scenario string, args []string) error {
	p := params{}
	fs := flag.NewFlagSet(scenario, flag.ContinueOnError)
	fs.StringVar(&p.URL, "url", "", "WebSocket URL of the endpoint (echo for echo and idle, fan-out for fanout)")
	fs.StringVar(&p.Target, "target", "", "name of the server in the results (blimp, node, gorilla)")
	fs.IntVar(&p.Round, "round", 0, "round number, recorded in the result (bench/run ROUNDS)")
	fs.IntVar(&p.PID, "pid", 0, "server process id, for its CPU time and memory (required by idle)")
	fs.IntVar(&p.Conns, "conns", 0, "connections (echo: default 100; idle: default 5000)")
	fs.IntVar(&p.Subs, "subs", 1000, "fanout: subscriber connections")
	fs.IntVar(&p.Window, "window", 0, "messages in flight (echo: per connection, default 16; fanout: publisher's, default 8)")
	fs.IntVar(&p.Size, "size", 64, "payload bytes (at least 20: the send time is written first)")
	fs.DurationVar(&p.Duration, "duration", 10*time.Second, "measured time (echo, fanout)")
	fs.DurationVar(&p.Warmup, "warmup", 2*time.Second, "load before measuring (echo, fanout)")
	fs.DurationVar(&p.Settle, "settle", 2*time.Second, "idle: wait after the connections are open before sampling memory")
	fs.IntVar(&p.Dialers, "dialers", 32, "concurrent handshakes while connecting")
	fs.BoolVar(&p.ProfileSig, "profile-signals", false, "send SIGUSR1 to -pid when measuring starts and SIGUSR2 when it ends (bench/blimpprof profiles that window)")
	fs.BoolVar(&p.AllowRemote, "allow-remote", false, "allow a non-loopback URL")
	fs.StringVar(&p.Out, "out", "", "write the result as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkURL(p.URL, p.AllowRemote); err != nil {
		return err
	}
	if p.Size < stampLen {
		return fmt.Errorf("-size %d: at least %d bytes are needed for the send time", p.Size, stampLen)
	}
	if p.Target == "" {
		p.Target = "server"
	}
	var (
		r   *Result
		err error
	)
	switch scenario {
	case "echo":
		if p.Conns <= 0 {
			p.Conns = 100
		}
		if p.Window <= 0 {
			p.Window = 16
		}
		r, err = runEcho(ctx, p)
	case "fanout":
		if p.Window <= 0 {
			p.Window = 8
		}
		r, err = runFanout(ctx, p)
	case "idle":
		if p.Conns <= 0 {
			p.Conns = 5000
		}
		if p.PID <= 0 {
			return fmt.Errorf("idle needs -pid: the server's memory is read from /proc/PID/status")
		}
		r, err = runIdle(ctx, p)
	}
	if err != nil {
		return fmt.Errorf("%s against %s: %w", scenario, p.Target, err)
	}
	fmt.Println(r.Summary())
	if p.Out != "" {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(p.Out, append(b, '\n'), 0o644)
	}
	return nil
}

// checkURL accepts ws:// and wss:// URLs, on a loopback address unless allowRemote.
func checkURL(raw string, allowRemote bool) error {
	if raw == "" {
		return fmt.Errorf("-url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-url %q: %w", raw, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return fmt.Errorf("-url %q: want a ws:// or wss:// URL", raw)
	}
	if allowRemote {
		return nil
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-url %q: not a loopback address; pass -allow-remote to load another host", raw)
}

func freePort() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	return nil
}

func runWait(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	u := fs.String("url", "", "WebSocket URL")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkURL(*u, true); err != nil {
		return err
	}
	deadline := time.Now().Add(*timeout)
	for {
		c, err := dial(ctx, *u)
		if err == nil {
			closeAll([]*client{c})
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not accepting WebSockets after %s: %w", *u, *timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
