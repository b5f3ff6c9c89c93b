package runtime

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"github.com/blimp/blimp/endpoints"
	"github.com/blimp/blimp/hub"
)

// Generation is one loaded version of a project: its workers, each with every
// endpoint's handler loaded. A reload builds a new Generation beside the old one and
// swaps it in; connections keep their worker slot, so their next events run the new
// code. Generation is safe for concurrent use.
type Generation struct {
	Project *endpoints.Project
	// Warnings are problems with the handlers that do not stop the project (an
	// export whose name is close to an event function's, say), each naming its file.
	Warnings []string

	workers  []*Worker
	handlers []map[string]*Handler // per worker, by descriptor key; read-only after Start
	next     atomic.Uint64         // round-robin worker choice for HTTP requests
	serving  atomic.Bool           // set by Activate; read by the workers (see Worker.state)

	stopOnce sync.Once
}

// Start loads project p into opts.Workers fresh workers. If any handler fails to
// load, every worker is stopped and the errors (naming file, line and column) are
// returned.
func Start(p *endpoints.Project, opts Options) (*Generation, error) {
	if p.Settings.Workers > 0 {
		opts.Workers = p.Settings.Workers // the project asks for its own number
	}
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	if opts.Loader == nil {
		opts.Loader = &Loader{}
	}
	if opts.Sessions == nil {
		opts.Sessions = &Sessions{}
	}
	g := &Generation{Project: p}
	gen := generations.Add(1)
	// The workers load at once, each on its own goroutine and runtime (the Loader's
	// cache is shared): a project with several reloads about as fast as with one.
	workers := make([]*Worker, opts.Workers)
	handlers := make([]map[string]*Handler, opts.Workers)
	errs := make([]error, opts.Workers)
	var loading sync.WaitGroup
	for i := range opts.Workers {
		loading.Go(func() { workers[i], handlers[i], errs[i] = g.load(p, i, gen, opts) })
	}
	loading.Wait()
	for _, w := range workers {
		if w != nil {
			g.workers = append(g.workers, w)
		}
	}
	for _, err := range errs { // the first worker's problems, which the others repeat
		if err != nil {
			g.Stop()
			return nil, err
		}
	}
	g.handlers = handlers
	return g, nil
}

// load starts worker i of the generation and loads every handler of p into it. The
// first worker's also records the handlers' warnings.
func (g *Generation) load(p *endpoints.Project, i int, gen uint64, opts Options) (*Worker, map[string]*Handler, error) {
	w, err := newWorker(p, i, gen, opts, &g.serving)
	if err != nil {
		return nil, nil, fmt.Errorf("project %q: %w", p.Name, err)
	}
	handlers := map[string]*Handler{}
	warned := map[string]bool{} // handler files whose warnings are recorded
	err = w.Sync(func(*goja.Runtime) error {
		var errs []error
		for _, d := range p.Descriptors {
			h, err := w.LoadHandler(d.HandlerFile)
			if err != nil {
				errs = append(errs, loadError(d.HandlerFile, err, opts.EventTimeout))
				continue
			}
			if d.Kind == endpoints.KindHTTP && h.onRequest == nil {
				errs = append(errs, &endpoints.Error{File: d.File, Err: fmt.Errorf("handler %s must export onRequest(request) to serve %s", d.HandlerFile, d.Path)})
				continue
			}
			if i == 0 {
				g.warn(d, h, warned)
			}
			handlers[d.Key()] = h
		}
		return errors.Join(errs...)
	})
	return w, handlers, err
}

// warn records the warnings of h, once per handler file (warned), and warns when a
// WebSocket endpoint's handler exports only onRequest: its connections would get
// no events.
func (g *Generation) warn(d *endpoints.Descriptor, h *Handler, warned map[string]bool) {
	if !warned[h.File] {
		warned[h.File] = true
		g.Warnings = append(g.Warnings, h.Warnings...)
	}
	if d.Kind == endpoints.KindWebSocket && !h.Script && h.onOpen == nil && h.onMessage == nil && h.onError == nil && h.onClose == nil {
		g.Warnings = append(g.Warnings, fmt.Sprintf("%s: handler %s exports only onRequest, which serves .http descriptors: endpoint %q gets no events (export onOpen, onMessage, onError or onClose)", d.File, d.Handler, d.Endpoint))
	}
}

// generations numbers generations in the order they start, across all projects.
var generations atomic.Uint64

// loadError explains why the handler at file failed to load, with the position of
// the failure when the error carries one.
func loadError(file string, err error, timeout time.Duration) error {
	var fe *endpoints.Error
	if errors.As(err, &fe) {
		return fe
	}
	se := scriptError("loading "+file, err, timeout)
	loc := se.Location
	if loc == "" {
		loc = file
	}
	return fmt.Errorf("%s: %s", loc, se.Message)
}

// Activate tells the generation that it serves now: the routing that sends events to
// it is in place. Until then its code (module top-level code, and the timers and
// callbacks it starts) sees the open connections' data as copies and leaves the
// connections with the generation still serving them (see Worker.state). Call it
// once the generation is swapped in; a generation never activated (a failed or
// checked load) takes no connection.
func (g *Generation) Activate() { g.serving.Store(true) }

// Stop retires the generation: each worker runs the events already queued to it,
// clears its intervals, waits up to the event time limit for the promises of
// handlers still awaiting something (so they answer), stops (its timers cleared,
// its goroutine gone) and parks its connections' state for the generation that
// replaces it. The workers retire in parallel; Stop returns when all have. Stop is
// idempotent.
func (g *Generation) Stop() {
	g.stopOnce.Do(func() {
		var retiring sync.WaitGroup
		for _, w := range g.workers {
			retiring.Go(w.retire)
		}
		retiring.Wait()
	})
}

// Serves reports whether the generation has a handler for endpoint.
func (g *Generation) Serves(endpoint string) bool {
	_, ok := g.handlers[0][endpoint]
	return ok
}

// Workers returns the generation's workers.
func (g *Generation) Workers() []*Worker { return g.workers }

// pin runs fn on the worker c is pinned to, with the handler of c's endpoint. It
// reports false when the generation does not serve the endpoint or has stopped.
func (g *Generation) pin(c *hub.Conn, fn func(w *Worker, h *Handler)) bool {
	i := int(c.Slot % uint64(len(g.workers)))
	h := g.handlers[i][c.Endpoint]
	if h == nil {
		return false
	}
	w := g.workers[i]
	return w.loop.RunOnLoop(func(*goja.Runtime) {
		defer func() {
			if r := recover(); r != nil {
				w.log.Error("internal error in event", "endpoint", c.Endpoint, "panic", r)
			}
		}()
		fn(w, h)
	})
}

// The event methods below queue one connection event to the worker c is pinned to.
// Each reports false when the generation cannot take it (it has stopped, or does not
// serve c's endpoint); the caller then offers it to the generation that replaced
// this one, so no event is lost to a reload. Message calls done only when it
// reports true.

// Open queues c's open event.
func (g *Generation) Open(c *hub.Conn) bool {
	return g.pin(c, func(w *Worker, h *Handler) { w.open(h, c) })
}

// Message queues a message of c; done is called once it has been handled.
func (g *Generation) Message(c *hub.Conn, binary bool, data []byte, done func()) bool {
	return g.pin(c, func(w *Worker, h *Handler) {
		defer done()
		w.message(h, c, binary, data)
	})
}

// Error queues a failure of c's connection.
func (g *Generation) Error(c *hub.Conn, err error) bool {
	return g.pin(c, func(w *Worker, h *Handler) { w.connError(h, c, err.Error()) })
}

// Close queues c's close event.
func (g *Generation) Close(c *hub.Conn, code int, reason string) bool {
	return g.pin(c, func(w *Worker, h *Handler) { w.close(h, c, code, reason) })
}

// CloseClaimed is Close for a caller that has claimed c's close (hub.Conn.ClaimClose):
// it runs onClose even though the hub has not reported the close yet.
func (g *Generation) CloseClaimed(c *hub.Conn, code int, reason string) bool {
	return g.pin(c, func(w *Worker, h *Handler) { w.closeClaimed(h, c, code, reason) })
}
