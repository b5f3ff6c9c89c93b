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

// subscriber is one fan-out receiver with its own latency histogram.
type subscriber struct {
	*client
	hist hist
	got  atomic.Int64
}

func runFanout(ctx context.Context, p params) (*Result, error) {
	r := newResult("fanout", p)
	if lim := raiseOpenFiles(); lim > 0 && p.Subs+100 > lim {
		return nil, fmt.Errorf("%d subscribers need more open files than this process's limit of %d (ulimit -n)", p.Subs, lim)
	}
	clients, err := connectAll(ctx, p.URL, p.Subs, p.Dialers)
	if err != nil {
		return nil, err
	}
	// The publisher connects last: servers that keep clients in connection order
	// (ws's Set) then deliver its own copy after everyone else's.
	pub, err := dial(ctx, p.URL)
	if err != nil {
		closeAll(clients)
		return nil, fmt.Errorf("publisher: %w", err)
	}
	all := append(clients, pub)
	subs := make([]*subscriber, len(clients))
	for i, c := range clients {
		subs[i] = &subscriber{client: c}
	}

	var (
		measuring atomic.Bool
		delivered atomic.Int64 // copies received by all subscribers
		dropped   atomic.Int64
		stopping  = make(chan struct{})
		readers   sync.WaitGroup
	)
	lost := func() {
		select {
		case <-stopping:
		default:
			dropped.Add(1)
		}
	}
	for _, s := range subs {
		readers.Add(1)
		go func() {
			defer readers.Done()
			buf := make([]byte, 256)
			for {
				msg, err := s.read(buf)
				buf = msg[:cap(msg)]
				if err != nil {
					lost()
					return
				}
				if t := sentAt(msg); t >= 0 && measuring.Load() {
					s.hist.record(now() - t)
				}
				s.got.Add(1)
				delivered.Add(1)
			}
		}()
	}
	// The publisher's reader returns a token to the publisher for each of its own
	// copies: at most window messages are in flight.
	tokens := make(chan struct{}, p.Window)
	for range p.Window {
		tokens <- struct{}{}
	}
	readers.Add(1)
	go func() {
		defer readers.Done()
		buf := make([]byte, 256)
		for {
			msg, err := pub.read(buf)
			buf = msg[:cap(msg)]
			if err != nil {
				lost()
				return
			}
			tokens <- struct{}{}
		}
	}()

	// Every subscriber must be registered before the load starts. A server may answer
	// the handshake before it has registered the connection, so probe (one message in
	// flight at a time, paced) until every subscriber has had a copy.
	payload := newPayload(p.Size)
	var sent atomic.Int64
	waiting := func() int {
		n := 0
		for _, s := range subs {
			if s.got.Load() == 0 {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for n := waiting(); n > 0; n = waiting() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			close(stopping)
			closeAll(all)
			return nil, fmt.Errorf("%d of %d subscribers got no message within 10s", n, len(subs))
		}
		select {
		case <-tokens:
			stamp(payload, now())
			if err := pub.ws.WriteMessage(websocket.TextMessage, payload); err != nil {
				close(stopping)
				closeAll(all)
				return nil, fmt.Errorf("publisher: %w", err)
			}
			sent.Add(1)
		default:
		}
		time.Sleep(50 * time.Millisecond)
	}

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pubDone := make(chan error, 1)
	go func() {
		pubDone <- publish(lctx, pub, tokens, payload, &sent, &delivered, &dropped, int64(len(subs)), p.Window)
	}()

	if err := sleep(ctx, p.Warmup); err != nil {
		cancel()
		return nil, err
	}
	signalProfile(p, syscall.SIGUSR1)
	measuring.Store(true)
	n0, s0, w := delivered.Load(), sent.Load(), startWindow(p.PID)
	err = sleep(ctx, p.Duration)
	n1, s1 := delivered.Load(), sent.Load()
	w.end(r)
	measuring.Store(false)
	signalProfile(p, syscall.SIGUSR2)

	cancel()
	pubErr := <-pubDone
	close(stopping)
	closeAll(all)
	readers.Wait()
	if err != nil {
		return nil, err
	}

	var h hist
	lagging := 0
	for _, s := range subs {
		h.merge(&s.hist)
		if s.got.Load() < sent.Load()*9/10 {
			lagging++
		}
	}
	r.Count, r.Sent = n1-n0, s1-s0
	r.Rate = float64(r.Count) / r.Seconds
	r.P50ms, r.P99ms, r.MaxMs = ms(h.quantile(0.50)), ms(h.quantile(0.99)), ms(time.Duration(h.max))
	r.Dropped = int(dropped.Load())
	if r.Dropped > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d of %d connections were ended by the server during the run", r.Dropped, len(all)))
	}
	if lagging > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d subscribers got less than 90%% of the messages sent", lagging))
	}
	if pubErr != nil && pubErr != context.Canceled {
		r.Notes = append(r.Notes, fmt.Sprintf("publisher stopped early: %v", pubErr))
	}
	return r, nil
}

// publish sends as fast as tokens allow (one per own copy received back), and also
// waits, up to a bound, while the subscribers as a whole are more than 2*window
// messages behind: the publisher's own copy may come early in a server's delivery
// order.
func publish(ctx context.Context, pub *client, tokens chan struct{}, payload []byte, sent, delivered, dropped *atomic.Int64, subs int64, window int) error {
	maxLag := 2 * int64(window)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tokens:
		}
		for waited := time.Duration(0); waited < 100*time.Millisecond; waited += 50 * time.Microsecond {
			alive := subs - dropped.Load()
			if alive <= 0 || sent.Load()*alive-delivered.Load() <= maxLag*alive {
				break
			}
			time.Sleep(50 * time.Microsecond)
		}
		pub.bc.begin()
		for n := 1; ; n++ {
			stamp(payload, now())
			if err := pub.ws.WriteMessage(websocket.TextMessage, payload); err != nil {
				pub.bc.flush()
				return err
			}
			sent.Add(1)
			if n == window {
				break
			}
			select {
			case <-tokens:
				continue
			default:
			}
			break
		}
		if err := pub.bc.flush(); err != nil {
			return err
		}
	}
}
