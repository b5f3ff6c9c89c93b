// Command reload measures hot reload under load: it serves one project in-process on
// a loopback port, holds N open connections, edits the handler E times and reports
// the time from each file write to the first reply produced by the new code (median
// and p99), and how many connections were dropped along the way.
//
//	go run ./bench/reload [-conns 1000] [-edits 20]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/server"
)

func main() {
	conns := flag.Int("conns", 1000, "open connections held during the edits")
	edits := flag.Int("edits", 20, "handler edits to time")
	flag.Parse()
	if err := run(*conns, *edits); err != nil {
		fmt.Fprintln(os.Stderr, "reload:", err)
		os.Exit(1)
	}
}

func handler(version int) string {
	return fmt.Sprintf("export function onMessage(m, conn) { return \"v%d:\" + m; }\n", version)
}

func run(nconns, nedits int) error {
	root, err := os.MkdirTemp("", "blimp-reload-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	dir := filepath.Join(root, "bench")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "b.websocket"), []byte(`{"handler": "bench/b", "endpoint": "b"}`), 0o644)
	file := filepath.Join(dir, "b.js")
	os.WriteFile(file, []byte(handler(0)), 0o644)

	cfg := config.Default()
	cfg.Projects.Root = root
	cfg.Data.Path = filepath.Join(root, "blimp.db")
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	if err := s.Load(); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Serve(ctx, l)
	url := "ws://" + l.Addr().String() + server.ServicePath + "b"

	var dropped atomic.Int64
	clients := make([]*websocket.Conn, nconns)
	replies := make([]chan string, nconns)
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	for i := range clients {
		var ws *websocket.Conn
		for attempt := 0; ; attempt++ {
			ws, _, err = dialer.Dial(url, nil)
			if err == nil {
				break
			}
			if attempt > 50 {
				return fmt.Errorf("dial %d: %w", i, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		clients[i] = ws
		replies[i] = make(chan string, 16)
		go func(ws *websocket.Conn, out chan<- string) {
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					if ctx.Err() == nil {
						dropped.Add(1)
					}
					close(out)
					return
				}
				out <- string(data)
			}
		}(ws, replies[i])
	}
	probe, probeReplies := clients[0], replies[0]
	ask := func(msg string) (string, error) {
		if err := probe.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			return "", err
		}
		select {
		case r, ok := <-probeReplies:
			if !ok {
				return "", fmt.Errorf("probe connection dropped")
			}
			return r, nil
		case <-time.After(5 * time.Second):
			return "", fmt.Errorf("no reply")
		}
	}
	if r, err := ask("warm"); err != nil || r != "v0:warm" {
		return fmt.Errorf("warm-up: got %q, %v", r, err)
	}

	var lat []time.Duration
	for v := 1; v <= nedits; v++ {
		want := fmt.Sprintf("v%d:", v)
		t0 := time.Now()
		if err := os.WriteFile(file, []byte(handler(v)), 0o644); err != nil {
			return err
		}
		for {
			r, err := ask("p")
			if err != nil {
				return err
			}
			if strings.HasPrefix(r, want) {
				break
			}
			if time.Since(t0) > 10*time.Second {
				return fmt.Errorf("edit %d never took effect (last reply %q)", v, r)
			}
		}
		lat = append(lat, time.Since(t0))
		time.Sleep(100 * time.Millisecond) // let the watcher settle between edits
	}

	// Every held connection must still answer, with the newest code.
	var wg sync.WaitGroup
	var stale atomic.Int64
	want := fmt.Sprintf("v%d:end", nedits)
	for i := 1; i < nconns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := clients[i].WriteMessage(websocket.TextMessage, []byte("end")); err != nil {
				stale.Add(1)
				return
			}
			select {
			case r, ok := <-replies[i]:
				if !ok || r != want {
					stale.Add(1)
				}
			case <-time.After(10 * time.Second):
				stale.Add(1)
			}
		}(i)
	}
	wg.Wait()

	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[(len(lat)*99+99)/100-1]
	fmt.Printf("connections held: %d, edits: %d\n", nconns, nedits)
	fmt.Printf("write-to-new-reply latency: median %s, p99 %s, min %s, max %s\n",
		lat[len(lat)/2].Round(time.Millisecond), p99.Round(time.Millisecond), lat[0].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	fmt.Printf("connections dropped: %d, connections not answering with the new code afterwards: %d\n", dropped.Load(), stale.Load())
	cancel()
	for _, c := range clients {
		c.Close()
	}
	return nil
}
