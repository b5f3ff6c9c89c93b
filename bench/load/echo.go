package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// echoConn is one pipelined echo connection: a writer keeps up to window messages
// outstanding, its reader hands a token back for every reply.
type echoConn struct {
	*client
	tokens chan struct{}
	recv   atomic.Int64
	hist   hist
}

// writeBurst writes one message per token available (at least one, waiting for it),
// gathered into one system call.
func (c *echoConn) writeBurst(ctx context.Context, payload []byte) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.tokens:
	}
	c.bc.begin()
	for n := 1; ; n++ {
		stamp(payload, now())
		if err := c.ws.WriteMessage(websocket.TextMessage, payload); err != nil {
			c.bc.flush()
			return err
		}
		if n == cap(c.tokens) {
			break
		}
		select {
		case <-c.tokens:
			continue
		default:
		}
		break
	}
	return c.bc.flush()
}

// readLoop reads replies until the connection ends, recording the latency of those
// received while measuring.
func (c *echoConn) readLoop(measuring *atomic.Bool) error {
	buf := make([]byte, 256)
	for {
		msg, err := c.read(buf)
		buf = msg[:cap(msg)]
		if err != nil {
			return err
		}
		if t := sentAt(msg); t >= 0 && measuring.Load() {
			c.hist.record(now() - t)
		}
		c.recv.Add(1)
		c.tokens <- struct{}{}
	}
}

func runEcho(ctx context.Context, p params) (*Result, error) {
	r := newResult("echo", p)
	if lim := raiseOpenFiles(); lim > 0 && p.Conns+100 > lim {
		return nil, fmt.Errorf("%d connections need more open files than this process's limit of %d (ulimit -n)", p.Conns, lim)
	}
	clients, err := connectAll(ctx, p.URL, p.Conns, p.Dialers)
	if err != nil {
		return nil, err
	}
	conns := make([]*echoConn, len(clients))
	for i, c := range clients {
		conns[i] = &echoConn{client: c, tokens: make(chan struct{}, p.Window)}
		for range p.Window {
			conns[i].tokens <- struct{}{}
		}
	}

	var measuring atomic.Bool
	var dropped atomic.Int64
	stopping := make(chan struct{})
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var writers, readers sync.WaitGroup
	for _, c := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			if c.readLoop(&measuring) != nil {
				select {
				case <-stopping:
				default:
					dropped.Add(1)
				}
			}
		}()
		writers.Add(1)
		go func() {
			defer writers.Done()
			payload := newPayload(p.Size)
			for c.writeBurst(lctx, payload) == nil {
			}
		}()
	}
	total := func() int64 {
		var n int64
		for _, c := range conns {
			n += c.recv.Load()
		}
		return n
	}

	if err := sleep(ctx, p.Warmup); err != nil {
		return nil, err
	}
	if total() == 0 {
		cancel()
		close(stopping)
		closeAll(clients)
		return nil, fmt.Errorf("no reply during the %s warm-up", p.Warmup)
	}
	signalProfile(p, syscall.SIGUSR1)
	measuring.Store(true)
	n0, w := total(), startWindow(p.PID)
	err = sleep(ctx, p.Duration)
	n1 := total()
	w.end(r)
	measuring.Store(false)
	signalProfile(p, syscall.SIGUSR2)

	cancel()
	close(stopping)
	writers.Wait()
	closeAll(clients)
	readers.Wait()
	if err != nil {
		return nil, err
	}

	var h hist
	for _, c := range conns {
		h.merge(&c.hist)
	}
	r.Count = n1 - n0
	r.Rate = float64(r.Count) / r.Seconds
	r.P50ms, r.P99ms, r.MaxMs = ms(h.quantile(0.50)), ms(h.quantile(0.99)), ms(time.Duration(h.max))
	r.Dropped = int(dropped.Load())
	if r.Dropped > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d of %d connections were ended by the server during the run", r.Dropped, p.Conns))
	}
	return r, nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
