package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/buffer"
	"github.com/dop251/goja_nodejs/console"
	"github.com/dop251/goja_nodejs/eventloop"
	"github.com/dop251/goja_nodejs/require"
	"github.com/dop251/goja_nodejs/url"

	"github.com/blimp/blimp/endpoints"
	"github.com/blimp/blimp/hub"
)

// Module builds the exports of a native module (such as "sdk/net") for one worker.
// It runs on the worker's loop goroutine.
type Module func(w *Worker) (*goja.Object, error)

// Options configure the workers of a generation.
type Options struct {
	// Workers is the number of workers per project (at least 1).
	Workers int
	// EventTimeout is the time limit of one event.
	EventTimeout time.Duration
	// MaxCallStack limits the JavaScript call stack depth.
	MaxCallStack int
	// Modules maps the names handlers import ("sdk/net") to native modules.
	Modules map[string]Module
	// Loader compiles module files; shared by all generations.
	Loader *Loader
	// Hub holds the open connections.
	Hub *hub.Hub
	// Broker delivers fan-out.
	Broker hub.Broker
	// Log receives handler errors and console output.
	Log *slog.Logger
	// Sessions hands connection state from generation to generation; shared by all.
	Sessions *Sessions
}

// errTimeLimit is the value a worker interrupts its runtime with.
var errTimeLimit = errors.New("time limit exceeded")

// Event is the event a worker is running: what the Dirigible context functions
// (getMethod, getMessage, getError, isOn...) answer for.
type Event struct {
	// Method is "onopen", "onmessage", "onerror" or "onclose".
	Method string
	// Endpoint is the endpoint of the connection (empty for outbound clients).
	Endpoint string
	// Conn is the connection the event belongs to, if any.
	Conn *hub.Conn
	// Message is the received message (onmessage).
	Message goja.Value
	// Error is the error text (onerror).
	Error string
	// Client is the id of the outbound client (createWebsocket) the event belongs
	// to, if any.
	Client string
}

// Worker is one goja runtime with its event loop, owned by one goroutine. All its
// fields below loop are only touched on that goroutine, except the time-limit state
// guarded by mu. Use Do to run code on it from elsewhere.
type Worker struct {
	project   string
	dir       string
	slot, of  int             // this worker is number slot of the generation's of workers
	endpoints map[string]bool // the project's endpoints
	opts      Options
	log       *slog.Logger
	loop      *eventloop.EventLoop

	rt        *goja.Runtime
	modules   map[string]*goja.Object // loaded modules by file, for require's cache
	natives   map[string]*goja.Object // instantiated native modules by name
	conns     map[string]*connState   // this worker's connections by id
	event     *Event                  // the event being run, or nil
	nodeReq   goja.Callable           // goja_nodejs require, for Node core modules only
	stringify goja.Callable
	parseJSON goja.Callable
	isView    goja.Callable
	uint8     goja.Value
	connProto *goja.Object
	connSym   *goja.Symbol               // hidden key of a connection object's *hub.Conn
	rejected  map[*goja.Promise]struct{} // rejections no handler has caught yet
	retired   chan struct{}              // closed once the worker has stopped and parked its connections
	onRetire  []func()                   // retire hooks, in registration order (see OnRetire)
	retiring  bool                       // set once the retire hooks start
	serving   *atomic.Bool               // the generation serves (Activate): until then, see state
	unsettled int                        // event and request promises not settled yet (see settle)
	drained   chan struct{}              // closed when unsettled reaches 0 while retiring
	intervals map[*eventloop.Interval]struct{}

	depth int         // nesting of guard calls; loop goroutine only
	limit *time.Timer // the time limit of the running event: armed and stopped by the outermost guard on the loop, fires interrupt

	mu       sync.Mutex // guards running and deadline (read by interrupt on the timer's goroutine)
	running  bool
	deadline time.Time // when the running event's limit is up
	gen      uint64    // generation number: newer generations have larger ones
}

// newWorker starts a worker for the project in dir and sets up its globals.
func newWorker(p *endpoints.Project, slot int, gen uint64, opts Options, serving *atomic.Bool) (*Worker, error) {
	w := &Worker{
		gen:       gen,
		serving:   serving,
		slot:      slot,
		of:        opts.Workers,
		project:   p.Name,
		dir:       p.Dir,
		endpoints: map[string]bool{},
		opts:      opts,
		log:       opts.Log.With("project", p.Name),
		modules:   map[string]*goja.Object{},
		natives:   map[string]*goja.Object{},
		conns:     map[string]*connState{},
		rejected:  map[*goja.Promise]struct{}{},
		intervals: map[*eventloop.Interval]struct{}{},
		retired:   make(chan struct{}),
	}
	for _, d := range p.Descriptors {
		if d.Kind == endpoints.KindWebSocket {
			w.endpoints[d.Endpoint] = true
		}
	}
	reg := require.NewRegistry(require.WithLoader(func(string) ([]byte, error) {
		return nil, require.ModuleFileDoesNotExistError // only Node core modules come from here
	}))
	reg.RegisterNativeModule("console", console.RequireWithPrinter(consolePrinter{w}))
	w.loop = eventloop.NewEventLoop(eventloop.EnableConsole(false), eventloop.WithRegistry(reg))
	w.limit = time.AfterFunc(time.Hour, w.interrupt)
	w.limit.Stop()
	w.loop.Start()
	err := w.Sync(func(rt *goja.Runtime) error { return w.setup(rt) })
	if err != nil {
		w.retire()
		return nil, err
	}
	return w, nil
}

func (w *Worker) setup(rt *goja.Runtime) error {
	w.rt = rt
	rt.SetFieldNameMapper(goja.UncapFieldNameMapper())
	rt.SetMaxCallStackSize(w.opts.MaxCallStack)
	w.nodeReq, _ = goja.AssertFunction(rt.Get("require")) // enabled by the event loop
	buffer.Enable(rt)
	url.Enable(rt)
	rt.Set("console", require.Require(rt, "console"))
	rt.Set("require", w.requireFrom(w.dir))
	w.installTimers(rt)
	rt.SetAsyncContextTracker(&eventTracker{w: w})
	w.installText(rt)
	w.installCrypto(rt)
	stringify, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("stringify"))
	isView, _ := goja.AssertFunction(rt.Get("ArrayBuffer").ToObject(rt).Get("isView"))
	parse, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
	w.stringify, w.parseJSON, w.isView = stringify, parse, isView
	w.uint8 = rt.Get("Uint8Array")
	w.connSym = goja.NewSymbol("blimp.conn")
	w.connProto = w.newConnProto()
	nameNatives(rt, w.connProto, 0)
	nameNatives(rt, rt.GlobalObject(), 1)
	rt.SetPromiseRejectionTracker(func(p *goja.Promise, op goja.PromiseRejectionOperation) {
		if op == goja.PromiseRejectionReject {
			w.rejected[p] = struct{}{}
		} else {
			delete(w.rejected, p)
		}
	})
	return nil
}

// nameNatives gives the Go functions set on obj (and on the objects it holds, depth
// levels down) the names they are set under: goja names a Go function after its Go
// symbol ("github.com/blimp/blimp/runtime.(*Worker).newConnProto.func3"), which
// would show in JavaScript stack traces and errors. Reading the properties runs
// accessors (the connection prototype's lazy headers and query, with the prototype
// as this): they must cope.
func nameNatives(rt *goja.Runtime, obj *goja.Object, depth int) {
	for _, key := range obj.Keys() {
		v, ok := obj.Get(key).(*goja.Object)
		if !ok {
			continue
		}
		if _, isFn := goja.AssertFunction(v); isFn {
			if name := v.Get("name"); name != nil && strings.ContainsAny(name.String(), "./") {
				v.DefineDataProperty("name", rt.ToValue(key), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
			}
			continue
		}
		if depth > 0 {
			nameNatives(rt, v, depth-1)
		}
	}
}

// Serves reports whether endpoint belongs to the worker's project.
func (w *Worker) Serves(endpoint string) bool { return w.endpoints[endpoint] }

// Project returns the name of the worker's project.
func (w *Worker) Project() string { return w.project }

// Runtime returns the worker's goja runtime. Only use it on the loop goroutine.
func (w *Worker) Runtime() *goja.Runtime { return w.rt }

// Event returns the event being run, or nil between events.
func (w *Worker) Event() *Event { return w.event }

// Log returns the worker's logger, tagged with its project.
func (w *Worker) Log() *slog.Logger { return w.log }

// Hub returns the hub of open connections.
func (w *Worker) Hub() *hub.Hub { return w.opts.Hub }

// Broker returns the broker for fan-out.
func (w *Worker) Broker() hub.Broker { return w.opts.Broker }

// Do queues fn to run on the worker's loop, under the event time limit. It reports
// whether the worker accepted it (false once the worker has stopped). Errors fn
// returns are logged.
func (w *Worker) Do(fn func(rt *goja.Runtime) error) bool {
	return w.loop.RunOnLoop(func(rt *goja.Runtime) {
		if err := w.guard(func() error { return fn(rt) }); err != nil {
			w.logError("callback", nil, err)
		}
	})
}

// Sync runs fn on the loop and waits for its result.
func (w *Worker) Sync(fn func(rt *goja.Runtime) error) error {
	done := make(chan error, 1)
	if !w.loop.RunOnLoop(func(rt *goja.Runtime) { done <- w.guard(func() error { return fn(rt) }) }) {
		return errors.New("worker has stopped")
	}
	return <-done
}

// guard runs fn under the event time limit, turning a Go panic into an error.
func (w *Worker) guard(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v\n%s", r, debug.Stack())
		}
	}()
	if w.depth > 0 {
		// Nested (an onError fired from a failed promise job, say): the outermost
		// guard's limit keeps running and it alone cleans up.
		w.depth++
		defer func() { w.depth-- }()
		return fn()
	}
	w.depth = 1
	w.mu.Lock()
	w.running = true
	w.deadline = time.Now().Add(w.opts.EventTimeout)
	w.mu.Unlock()
	w.limit.Reset(w.opts.EventTimeout)
	defer func() {
		w.depth = 0
		for p := range w.rejected {
			delete(w.rejected, p)
			w.logError("unhandled rejection", w.event, valueError(p.Result()))
		}
		w.limit.Stop()
		w.mu.Lock()
		w.running = false
		w.mu.Unlock()
		if w.rt != nil {
			w.rt.ClearInterrupt()
		}
	}()
	return fn()
}

// unmetered runs fn, Go work such as compiling a module, without counting its time
// against the running event's limit: only JavaScript execution is limited.
func (w *Worker) unmetered(fn func()) {
	if !w.limit.Stop() {
		fn() // no limit armed, or it has fired already
		return
	}
	start := time.Now()
	fn()
	w.mu.Lock()
	w.deadline = w.deadline.Add(time.Since(start))
	left := time.Until(w.deadline)
	w.mu.Unlock()
	w.limit.Reset(left)
}

// interrupt stops the running event once it is past its deadline.
func (w *Worker) interrupt() {
	w.mu.Lock()
	defer w.mu.Unlock()
	// A timer that fires late must not hit the next event: only an event past its
	// own deadline is interrupted.
	if w.running && !time.Now().Before(w.deadline) {
		w.rt.Interrupt(errTimeLimit)
	}
}

// Throw panics with a JavaScript Error carrying err's message; use it inside native
// functions to turn a Go error into a thrown JS error.
func (w *Worker) Throw(err error) {
	panic(w.NewError(err.Error()))
}

// NewError returns a JavaScript Error object with message.
func (w *Worker) NewError(message string) goja.Value {
	v, err := w.rt.New(w.rt.Get("Error"), w.rt.ToValue(message))
	if err != nil {
		return w.rt.ToValue(message)
	}
	return v
}

// consolePrinter sends console output to the log, tagged with the endpoint of the
// event being run.
type consolePrinter struct{ w *Worker }

func (p consolePrinter) attrs() []any {
	if ev := p.w.event; ev != nil && ev.Endpoint != "" {
		return []any{"endpoint", ev.Endpoint}
	} else if ev != nil && ev.Client != "" {
		return []any{"client", ev.Client}
	}
	return nil
}

func (p consolePrinter) Log(s string)   { p.w.log.Info(s, p.attrs()...) }
func (p consolePrinter) Warn(s string)  { p.w.log.Warn(s, p.attrs()...) }
func (p consolePrinter) Error(s string) { p.w.log.Error(s, p.attrs()...) }
