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

// rssSamples and rssGap: the server's memory is sampled this many times, this far
// apart, and the smallest sample kept (a garbage-collected heap shrinks between them).
var (
	rssSamples = 5
	rssGap     = 400 * time.Millisecond
)

func runIdle(ctx context.Context, p params) (*Result, error) {
	r := newResult("idle", p)
	// Both ends hold one descriptor per connection: stay under both limits.
	limit := raiseOpenFiles()
	if srv := procOpenFiles(p.PID); srv > 0 && (limit == 0 || srv < limit) {
		limit = srv
	}
	if limit > 0 && p.Conns > limit-200 {
		n := limit - 200
		msg := fmt.Sprintf("-conns %d scaled down to %d: the open-files limit (ulimit -n) is %d", p.Conns, n, limit)
		fmt.Println("idle:", msg)
		r.Notes = append(r.Notes, msg)
		p.Conns = n
		r.Params.Conns = n
	}

	// Warm the server's code paths and pools with a few connections, then let it
	// settle before the baseline sample.
	warm, err := connectAll(ctx, p.URL, 20, p.Dialers)
	if err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	for _, c := range warm {
		if err := echoOnce(c); err != nil {
			closeAll(warm)
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	closeAll(warm)
	if err := sleep(ctx, p.Settle); err != nil {
		return nil, err
	}
	before, err := minRSS(p.PID, rssSamples, rssGap)
	if err != nil {
		return nil, err
	}
	// bench/blimpprof writes a heap profile at each SIGUSR2: one now, one with every
	// connection open, for go tool pprof -diff_base.
	if err := markHeap(ctx, p); err != nil {
		return nil, err
	}

	// Open the connections in two halves, sampling after each: the growth over the
	// second half alone (the marginal cost) leaves out fixed costs a server pays once
	// when it first grows (heap spaces, pools, threads).
	half := p.Conns / 2
	stopping := make(chan struct{})
	var dropped atomic.Int64
	var readers sync.WaitGroup
	var clients []*client
	var mid, after int64
	for i, n := range []int{half, p.Conns - half} {
		cs, err := openIdle(ctx, p, n, stopping, &dropped, &readers)
		clients = append(clients, cs...)
		if err == nil {
			err = sleep(ctx, p.Settle)
		}
		var v int64
		if err == nil {
			v, err = minRSS(p.PID, rssSamples, rssGap)
		}
		if err != nil {
			close(stopping)
			closeAll(clients)
			readers.Wait()
			return nil, err
		}
		if i == 0 {
			mid = v
		} else {
			after = v
		}
	}
	err = markHeap(ctx, p)
	close(stopping)
	closeAll(clients)
	readers.Wait()
	if err != nil {
		return nil, err
	}
	r.Conns = p.Conns
	r.RSSBefore, r.RSSMid, r.RSSAfter = before, mid, after
	r.BytesPerConn = float64(after-before) / float64(p.Conns)
	if n := p.Conns - half; n > 0 {
		r.MarginalPerConn = float64(after-mid) / float64(n)
	}
	r.Dropped = int(dropped.Load())
	if r.Dropped > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d of %d idle connections were ended by the server", r.Dropped, p.Conns))
	}
	return r, nil
}

// openIdle opens n connections; each exchanges one message, so it is known to be
// served, then stays quiet with a reader that answers the server's pings and counts
// the connection in dropped if it ends before stopping is closed.
func openIdle(ctx context.Context, p params, n int, stopping <-chan struct{}, dropped *atomic.Int64, readers *sync.WaitGroup) ([]*client, error) {
	clients, err := connectAll(ctx, p.URL, n, p.Dialers)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	sem := make(chan struct{}, p.Dialers)
	for _, c := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if echoOnce(c) != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		closeAll(clients)
		return nil, fmt.Errorf("%d of %d connections did not echo", f, n)
	}
	for _, c := range clients {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				if _, _, err := c.ws.NextReader(); err != nil {
					select {
					case <-stopping:
					default:
						dropped.Add(1)
					}
					return
				}
			}
		}()
	}
	return clients, nil
}

// markHeap asks bench/blimpprof (with -profile-signals) for a heap profile, and
// gives it the time to write one.
func markHeap(ctx context.Context, p params) error {
	if !p.ProfileSig {
		return nil
	}
	signalProfile(p, syscall.SIGUSR2)
	return sleep(ctx, 2*time.Second)
}

// echoOnce sends one message on c and waits up to 10 s for its reply.
func echoOnce(c *client) error {
	payload := newPayload(64)
	stamp(payload, now())
	if err := c.ws.WriteMessage(websocket.TextMessage, payload); err != nil {
		return err
	}
	c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer c.ws.SetReadDeadline(time.Time{})
	_, err := c.read(make([]byte, 128))
	return err
}
