package net

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/hub"
	"github.com/blimp/blimp/runtime"
)

// Client states, as getClients() and WebsocketClient.state report them.
const (
	StateConnecting = "connecting" // dialing; messages sent now are queued
	StateOpen       = "open"
	StateClosing    = "closing" // close() was called; the close handshake is under way
	StateClosed     = "closed"  // ended for any reason; the client has left getClients()
)

// RetireReason is the close reason sent (with 1001, going away) to the remote of a
// client whose project is reloaded, removed or stopped.
const RetireReason = "project reloaded or stopped"

// ClientOptions configure outbound clients. Zero fields take the defaults of
// blimp's config.toml [server] section.
type ClientOptions struct {
	// RootCAs are the CAs trusted for wss:// URIs; nil means the system's.
	RootCAs *x509.CertPool
	// ReadLimit is the largest message accepted from a remote (close 1009 beyond).
	ReadLimit int64
	// QueueBytes bounds the bytes queued for sending, before and after the
	// connection opens; beyond it the client is closed with 1008.
	QueueBytes int
	// WriteTimeout bounds one batch of writes.
	WriteTimeout time.Duration
	// PingInterval is how often an open client pings its remote; a remote silent
	// for PongTimeout (no frame, no pong) ends the connection.
	PingInterval time.Duration
	PongTimeout  time.Duration
	// HandshakeTimeout bounds connecting: TCP, TLS and the WebSocket handshake.
	HandshakeTimeout time.Duration
}

func (o *ClientOptions) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 1 << 20
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = 4 << 20
	}
	set(&o.WriteTimeout, 10*time.Second)
	set(&o.PingInterval, 30*time.Second)
	set(&o.PongTimeout, 60*time.Second)
	set(&o.HandshakeTimeout, 10*time.Second)
}

// clientInFlight is how many received messages of one client may wait for its
// worker before its reader stops reading (backpressure), as for connections.
const clientInFlight = 64

// Clients tracks a server's outbound WebSocket clients, the ones handlers create
// with websockets.createWebsocket, by project. Create it with NewClients and
// register its Module as "sdk/net". It is safe for concurrent use.
type Clients struct {
	opts   ClientOptions
	dialer *websocket.Dialer

	mu   sync.Mutex // guards seq and byID
	seq  uint64
	byID map[string]*client
}

// NewClients returns an empty registry whose clients connect with opts.
func NewClients(opts ClientOptions) *Clients {
	opts.defaults()
	return &Clients{
		opts: opts,
		dialer: &websocket.Dialer{
			NetDialContext:   hub.DialBatching, // the writer sends each wake-up's frames in one write
			Proxy:            http.ProxyFromEnvironment,
			HandshakeTimeout: opts.HandshakeTimeout,
			TLSClientConfig:  &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
			WriteBufferPool:  &sync.Pool{},
		},
		byID: map[string]*client{},
	}
}

// Module is the runtime.Module for "sdk/net" with outbound clients: the functions
// of the package-level Module plus createWebsocket, getClients, getClient and
// getClientByHandler, whose clients cs tracks. The worker's clients are closed
// (1001) when it retires.
func (cs *Clients) Module(w *runtime.Worker) (*goja.Object, error) {
	exports, err := Module(w)
	if err != nil {
		return nil, err
	}
	ws, ok := exports.Get("websockets").(*goja.Object)
	if !ok {
		return nil, errors.New("the websockets object is missing")
	}
	m := &clientModule{cs: cs, w: w, rt: w.Runtime()}
	for name, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"createWebsocket":    m.createWebsocket,
		"getClients":         m.getClients,
		"getClient":          m.getClient,
		"getClientByHandler": m.getClientByHandler,
	} {
		if err := ws.Set(name, fn); err != nil {
			return nil, err
		}
	}
	w.OnRetire(func() { cs.retire(w) })
	return exports, nil
}

// add registers a new client of worker w.
func (cs *Clients) add(w *runtime.Worker, uri, handler, file string) *client {
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{
		uri:      uri,
		handler:  handler,
		file:     file,
		project:  w.Project(),
		w:        w,
		cs:       cs,
		log:      w.Log(),
		ctx:      ctx,
		cancel:   cancel,
		inflight: make(chan struct{}, clientInFlight),
		state:    StateConnecting,
		out: hub.Outbox{
			Limit:          cs.opts.QueueBytes,
			OverflowReason: overflowReason,
			WriteTimeout:   cs.opts.WriteTimeout,
		},
	}
	c.out.OnWriteError = c.writeFailed
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.seq++
	c.seq = cs.seq
	for {
		c.id = fmt.Sprintf("%016x", rand.Uint64())
		if _, dup := cs.byID[c.id]; !dup {
			break
		}
	}
	cs.byID[c.id] = c
	return c
}

func (cs *Clients) remove(c *client) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	delete(cs.byID, c.id)
}

// list returns the live clients of project, oldest first.
func (cs *Clients) list(project string) []*client {
	cs.mu.Lock()
	out := make([]*client, 0, len(cs.byID))
	for _, c := range cs.byID {
		if c.project == project {
			out = append(out, c)
		}
	}
	cs.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// get returns the live client id of project, or nil.
func (cs *Clients) get(project, id string) *client {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c := cs.byID[id]; c != nil && c.project == project {
		return c
	}
	return nil
}

// retire closes, with 1001, every live client worker w created, and runs their
// onClose. It is w's retire hook, so it runs on w's loop.
func (cs *Clients) retire(w *runtime.Worker) {
	for _, c := range cs.list(w.Project()) {
		if c.w != w || c.ended {
			continue
		}
		c.shutdown(websocket.CloseGoingAway, RetireReason)
		c.closed()
		if h := c.loadHandler(); h != nil {
			rt := w.Runtime()
			c.fire(h, &runtime.Event{Method: runtime.OnClose}, nil, c.obj, rt.ToValue(websocket.CloseGoingAway), rt.ToValue(RetireReason))
		}
	}
}

// client is one outbound WebSocket connection made by createWebsocket. Its events
// run on the loop of the worker that created it (w), through the handler module
// file. Its network side is in clientconn.go.
//
// What JavaScript sees changes on w's loop only, as a browser's readyState does:
// state becomes open when onOpen is dispatched, closing when close() is called, and
// closed (the client leaving the registry) when onClose is dispatched; so within
// one event the state and getClients() do not change under the handler's feet.
type client struct {
	id, uri, handler string
	file             string // the handler's module file
	project          string
	seq              uint64 // creation order
	w                *runtime.Worker
	cs               *Clients
	log              *slog.Logger
	ctx              context.Context // done once the client is closed
	cancel           context.CancelFunc
	inflight         chan struct{}

	// On w's loop goroutine only:
	obj   *goja.Object // the WebsocketClient object in w's runtime
	ended bool         // onClose has been dispatched: later events are dropped

	// out holds the frames to send, queued from creation on and written once the
	// connection is attached; its close frame is what onClose reports when this side
	// closed. Its methods may be called with mu held; it calls writeFailed (which
	// takes mu) holding no lock of its own.
	out hub.Outbox

	mu       sync.Mutex // guards the fields below
	state    string     // as JavaScript sees it (changed on w's loop)
	openedAt time.Time  // as JavaScript sees it: zero until onOpen
	shut     bool       // closed by retire: a dial that still succeeds is closed at once
	failure  error      // reported to onError when the client ends
	ping     *time.Timer
}

// status returns the client's state and when it opened (zero before).
func (c *client) status() (string, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.openedAt
}

// post queues fn, one event of c, to c's worker loop; it is dropped if onClose
// has been dispatched by then. done, if not nil, is called once the event has run
// or been dropped. It reports whether the worker took it.
func (c *client) post(done func(), fn func()) bool {
	ok := c.w.Do(func(*goja.Runtime) error {
		if done != nil {
			defer done()
		}
		if !c.ended {
			fn()
		}
		return nil
	})
	if !ok && done != nil {
		done()
	}
	return ok
}

// loadHandler returns c's handler as loaded in its worker (the module cache makes
// this cheap), or nil after logging why it could not be loaded. On c's loop.
func (c *client) loadHandler() *runtime.Handler {
	h, err := c.w.LoadHandler(c.file)
	if err != nil {
		c.log.Error("client event not run: its handler does not load", "client", c.id, "handler", c.handler, "error", err)
		return nil
	}
	return h
}

// closed marks c closed for JavaScript: it leaves the registry and its later
// events are dropped. On c's loop, right before onClose.
func (c *client) closed() {
	c.ended = true
	c.mu.Lock()
	c.state = StateClosed
	c.mu.Unlock()
	c.cs.remove(c)
	c.cancel()
}

// fire runs one event of c with h, on c's worker loop.
func (c *client) fire(h *runtime.Handler, ev *runtime.Event, reply func(goja.Value), args ...goja.Value) {
	ev.Client = c.id
	c.w.Fire(h, ev, c.obj, reply, args...)
}

// opened queues onOpen for a connection opened at.
func (c *client) opened(at time.Time) {
	c.post(nil, func() {
		c.mu.Lock()
		if c.state == StateConnecting {
			c.state = StateOpen
		}
		c.openedAt = at
		c.mu.Unlock()
		if h := c.loadHandler(); h != nil {
			c.fire(h, &runtime.Event{Method: runtime.OnOpen}, nil, c.obj)
		}
	})
}

// received queues onMessage; its return value is sent back to the remote.
func (c *client) received(binary bool, data []byte) {
	c.post(func() { <-c.inflight }, func() {
		h := c.loadHandler()
		if h == nil {
			return
		}
		rt := c.w.Runtime()
		var msg goja.Value
		if binary {
			msg = rt.ToValue(rt.NewArrayBuffer(data))
		} else {
			msg = rt.ToValue(string(data))
		}
		c.fire(h, &runtime.Event{Method: runtime.OnMessage, Message: msg}, c.reply, msg, c.obj)
	})
}

// reply sends what onMessage returned back to the remote.
func (c *client) reply(v goja.Value) {
	if v == nil || goja.IsUndefined(v) {
		return
	}
	m, err := c.w.Encode(v)
	if err != nil {
		c.log.Error("reply not sent", "client", c.id, "uri", c.uri, "error", err)
		return
	}
	c.send(m)
}

// end queues the last events: onError with failure, if any, then onClose.
func (c *client) end(failure error, code int, reason string) {
	c.post(nil, func() {
		h := c.loadHandler()
		if h == nil {
			c.closed()
			return
		}
		rt := c.w.Runtime()
		if failure != nil {
			msg := failure.Error()
			c.fire(h, &runtime.Event{Method: runtime.OnError, Error: msg}, nil, rt.ToValue(msg), c.obj)
		}
		c.closed()
		c.fire(h, &runtime.Event{Method: runtime.OnClose}, nil, c.obj, rt.ToValue(code), rt.ToValue(reason))
	})
}

// clientModule is the client half of "sdk/net" in one worker.
type clientModule struct {
	cs *Clients
	w  *runtime.Worker
	rt *goja.Runtime
}

func (m *clientModule) throw(format string, args ...any) {
	m.w.Throw(fmt.Errorf(format, args...))
}

// createWebsocket(uri, handler, engine?) connects to uri in the background and
// returns the WebsocketClient at once; its events run handler's functions.
func (m *clientModule) createWebsocket(call goja.FunctionCall) goja.Value {
	if m.w.Retiring() {
		m.throw("createWebsocket: project %q is being reloaded or stopped; no client can be created now", m.w.Project())
	}
	uriV, handlerV, engineV := call.Argument(0), call.Argument(1), call.Argument(2)
	if !goja.IsString(uriV) {
		m.throw("createWebsocket(uri, handler): uri must be a string like \"ws://host:port/path\", got %s", uriV)
	}
	uri := uriV.String()
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		m.throw("createWebsocket: uri %q is not a WebSocket URL: write ws://host[:port]/path or wss://host[:port]/path", uri)
	}
	if !goja.IsString(handlerV) {
		m.throw("createWebsocket(uri, handler): handler must be a module path like \"%s/ws-handler\", got %s", m.w.Project(), handlerV)
	}
	handler := handlerV.String()
	file, err := m.w.ResolveHandler(handler)
	if err != nil {
		m.throw("createWebsocket: %v", err)
	}
	if !goja.IsUndefined(engineV) && !goja.IsNull(engineV) && !strings.EqualFold(engineV.String(), "javascript") {
		m.throw("createWebsocket: engine %q is not supported: blimp runs handlers as JavaScript; leave engine out or pass \"javascript\"", engineV)
	}
	c := m.cs.add(m.w, uri, handler, file)
	c.obj = m.object(c)
	go c.run()
	return c.obj
}

// getClients() returns the metadata of the project's live clients, oldest first.
func (m *clientModule) getClients(goja.FunctionCall) goja.Value {
	clients := m.cs.list(m.w.Project())
	out := make([]any, len(clients))
	for i, c := range clients {
		state, openedAt := c.status()
		o := m.rt.NewObject()
		o.Set("id", c.id)
		o.Set("uri", c.uri)
		o.Set("handler", c.handler)
		o.Set("state", state)
		o.Set("openedAt", m.millis(openedAt))
		out[i] = o
	}
	return m.rt.NewArray(out...)
}

// getClient(id) returns the project's live client with id (or the client itself), or null.
func (m *clientModule) getClient(call goja.FunctionCall) goja.Value {
	if c := m.cs.get(m.w.Project(), IDOf(m.w, "getClient", call.Argument(0))); c != nil {
		return m.objectFor(c)
	}
	return goja.Null()
}

// getClientByHandler(handler) returns the project's newest live client created
// with handler (the same path, or one naming the same module file), or null.
func (m *clientModule) getClientByHandler(call goja.FunctionCall) goja.Value {
	handler := call.Argument(0).String()
	file, err := m.w.ResolveHandler(handler)
	clients := m.cs.list(m.w.Project())
	for i := len(clients) - 1; i >= 0; i-- {
		if c := clients[i]; c.handler == handler || (err == nil && c.file == file) {
			return m.objectFor(c)
		}
	}
	return goja.Null()
}

func (m *clientModule) millis(t time.Time) goja.Value {
	if t.IsZero() {
		return goja.Null()
	}
	return m.rt.ToValue(t.UnixMilli())
}

// objectFor returns c's WebsocketClient object in this worker: the one
// createWebsocket returned when this worker created c, else a new one (c's events
// still run on the worker that created it).
func (m *clientModule) objectFor(c *client) goja.Value {
	if c.w == m.w {
		return c.obj
	}
	return m.object(c)
}

// object builds a WebsocketClient object for c in this worker's runtime.
func (m *clientModule) object(c *client) *goja.Object {
	rt := m.rt
	o := rt.NewObject()
	for _, p := range []struct{ name, v string }{{"id", c.id}, {"uri", c.uri}, {"handler", c.handler}} {
		o.DefineDataProperty(p.name, rt.ToValue(p.v), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	getter := func(fn func() goja.Value) goja.Value {
		return rt.ToValue(func(goja.FunctionCall) goja.Value { return fn() })
	}
	o.DefineAccessorProperty("state", getter(func() goja.Value {
		state, _ := c.status()
		return rt.ToValue(state)
	}), nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	o.DefineAccessorProperty("openedAt", getter(func() goja.Value {
		_, openedAt := c.status()
		return m.millis(openedAt)
	}), nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	method := func(name string, fn func(goja.FunctionCall) goja.Value) {
		o.DefineDataProperty(name, rt.ToValue(fn), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	method("send", func(call goja.FunctionCall) goja.Value {
		msg, err := m.w.Encode(call.Argument(0))
		if err != nil {
			m.throw("client.send: %v", err)
		}
		return rt.ToValue(c.send(msg))
	})
	method("close", func(call goja.FunctionCall) goja.Value {
		code, reason := runtime.CloseArgs(m.w, "client.close", call.Argument(0), call.Argument(1))
		c.close(code, reason)
		return goja.Undefined()
	})
	method("toString", func(goja.FunctionCall) goja.Value { return rt.ToValue(c.id) })
	return o
}
