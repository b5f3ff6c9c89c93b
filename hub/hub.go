package hub

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Options are the connection-layer limits, from the [server] section of the config.
type Options struct {
	// ReadLimit is the largest incoming message in bytes (close 1009 beyond).
	ReadLimit int64
	// QueueBytes bounds a connection's outgoing queue (close 1008 beyond); zero means
	// no bound.
	QueueBytes int
	// WriteTimeout bounds one batch of writes; zero means no bound.
	WriteTimeout time.Duration
	// PingInterval is how often an idle connection is pinged.
	PingInterval time.Duration
	// PongTimeout is how long a connection may stay silent (no frame, no pong).
	PongTimeout time.Duration
	// InFlight is how many received messages of one connection may wait for the
	// runtime before its reader stops reading (backpressure). Zero means 64.
	InFlight int
	// ParkIdle lets an idle connection wait with no goroutine (Linux, plain TCP; see
	// Conn.Serve). The upgrader must set a ReadBufferSize (gorilla then reads
	// through the hijacked connection, which the hub follows).
	ParkIdle bool
	// Log receives connection-layer events.
	Log *slog.Logger
}

// Handler receives the events of connections. For one Conn the calls come from its
// reader goroutine, in order: Open, any number of Message and Error, then Close once.
type Handler interface {
	Open(c *Conn)
	// Message delivers a frame; the handler calls done once it has processed it.
	Message(c *Conn, binary bool, data []byte, done func())
	// Error reports a failure of the connection itself (oversize frame, protocol
	// error, keepalive timeout); Close follows.
	Error(c *Conn, err error)
	Close(c *Conn, code int, reason string)
}

// Info describes a connection at handshake time.
type Info struct {
	Endpoint   string
	Project    string
	RemoteAddr string
	Header     http.Header
	Query      url.Values
}

// Hub owns the set of open connections, indexed by id and by endpoint.
// It is safe for concurrent use.
type Hub struct {
	opts Options
	log  *slog.Logger
	slow string // the close reason of a connection whose queue overflows

	mu         sync.RWMutex // guards closed, conns, byEndpoint, rooms and every Conn's joined
	closed     bool
	conns      map[string]*Conn
	byEndpoint map[string]map[string]*Conn
	rooms      map[roomKey]map[string]*Conn

	readers sync.WaitGroup

	pollMu sync.Mutex // guards poll and noPoll
	poll   *poller    // started by the first connection that parks
	noPoll bool       // no poller: shut down, or it failed to start
}

// New returns an empty Hub.
func New(opts Options) *Hub {
	if opts.InFlight <= 0 {
		opts.InFlight = 64
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Hub{
		opts:       opts,
		log:        opts.Log,
		slow:       fmt.Sprintf("slow consumer: more than %d bytes queued", opts.QueueBytes),
		conns:      map[string]*Conn{},
		byEndpoint: map[string]map[string]*Conn{},
		rooms:      map[roomKey]map[string]*Conn{},
	}
}

// roomKey names a room: rooms are scoped to a project.
type roomKey struct{ project, room string }

// Add registers a freshly upgraded connection. Call Serve on the result to start
// reading from it. After Shutdown it closes ws with 1001 and returns nil.
func (h *Hub) Add(ws *websocket.Conn, info Info) *Conn {
	slot := rand.Uint64()
	c := &Conn{
		ID:         fmt.Sprintf("%016x", slot),
		Slot:       slot,
		Endpoint:   info.Endpoint,
		Project:    info.Project,
		RemoteAddr: info.RemoteAddr,
		Header:     info.Header,
		Query:      info.Query,
		OpenedAt:   time.Now(),
		hub:        h,
		ws:         ws,
		out: Outbox{
			Limit:          h.opts.QueueBytes,
			OverflowReason: h.slow,
			AbortOverflow:  true, // free a slow consumer's backlog and its writer at once
			WriteTimeout:   h.opts.WriteTimeout,
		},
		inflight: make(chan struct{}, h.opts.InFlight),
	}
	if h.opts.ParkIdle && canPark {
		c.parkable()
	}
	c.out.Attach(ws)
	c.release = func() { <-c.inflight }
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		ws.Close()
		return nil
	}
	h.readers.Add(1) // under mu, so never concurrent with Wait after Shutdown
	h.conns[c.ID] = c
	set := h.byEndpoint[c.Endpoint]
	if set == nil {
		set = map[string]*Conn{}
		h.byEndpoint[c.Endpoint] = set
	}
	set[c.ID] = c
	h.mu.Unlock()
	return c
}

func (h *Hub) remove(c *Conn) {
	h.mu.Lock()
	delete(h.conns, c.ID)
	if set := h.byEndpoint[c.Endpoint]; set != nil {
		delete(set, c.ID)
		if len(set) == 0 {
			delete(h.byEndpoint, c.Endpoint)
		}
	}
	for room := range c.joined {
		h.leaveLocked(c, room)
	}
	h.mu.Unlock()
}

// Join adds c to room of its project and reports whether c is still open.
func (h *Hub) Join(c *Conn, room string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns[c.ID] != c {
		return false
	}
	k := roomKey{c.Project, room}
	set := h.rooms[k]
	if set == nil {
		set = map[string]*Conn{}
		h.rooms[k] = set
	}
	set[c.ID] = c
	if c.joined == nil {
		c.joined = map[string]struct{}{}
	}
	c.joined[room] = struct{}{}
	return true
}

// Leave removes c from room of its project.
func (h *Hub) Leave(c *Conn, room string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.leaveLocked(c, room)
}

func (h *Hub) leaveLocked(c *Conn, room string) {
	delete(c.joined, room)
	k := roomKey{c.Project, room}
	if set := h.rooms[k]; set != nil {
		delete(set, c.ID)
		if len(set) == 0 {
			delete(h.rooms, k)
		}
	}
}

// Rooms lists the rooms c has joined, sorted.
func (h *Hub) Rooms(c *Conn) []string {
	h.mu.RLock()
	out := make([]string, 0, len(c.joined))
	for room := range c.joined {
		out = append(out, room)
	}
	h.mu.RUnlock()
	sort.Strings(out)
	return out
}

// Members returns a snapshot of the connections in room of project.
func (h *Hub) Members(project, room string) []*Conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	set := h.rooms[roomKey{project, room}]
	out := make([]*Conn, 0, len(set))
	for _, c := range set {
		out = append(out, c)
	}
	return out
}

// Get returns the open connection with id, or nil.
func (h *Hub) Get(id string) *Conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.conns[id]
}

// Connections returns a snapshot of the open connections of endpoint, or of all
// endpoints when endpoint is empty.
func (h *Hub) Connections(endpoint string) []*Conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if endpoint == "" {
		out := make([]*Conn, 0, len(h.conns))
		for _, c := range h.conns {
			out = append(out, c)
		}
		return out
	}
	set := h.byEndpoint[endpoint]
	out := make([]*Conn, 0, len(set))
	for _, c := range set {
		out = append(out, c)
	}
	return out
}

// Count returns the number of open connections of endpoint, or of all endpoints
// when endpoint is empty.
func (h *Hub) Count(endpoint string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if endpoint == "" {
		return len(h.conns)
	}
	return len(h.byEndpoint[endpoint])
}

// CloseEndpoint closes every connection of endpoint with code and reason.
func (h *Hub) CloseEndpoint(endpoint string, code int, reason string) {
	for _, c := range h.Connections(endpoint) {
		c.Close(code, reason)
	}
}

// Shutdown closes every connection with code and reason and refuses new ones.
func (h *Hub) Shutdown(code int, reason string) {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.CloseEndpoint("", code, reason)
	h.pollMu.Lock()
	h.noPoll = true
	if h.poll != nil {
		h.poll.stop()
	}
	h.pollMu.Unlock()
}

// poller returns the hub's poller, started on first use, or nil if there is none.
func (h *Hub) poller() *poller {
	h.pollMu.Lock()
	defer h.pollMu.Unlock()
	if h.poll == nil && !h.noPoll {
		p, err := newPoller()
		if err != nil {
			h.log.Warn("idle connections keep their reader goroutine", "error", err)
			h.noPoll = true
			return nil
		}
		h.poll = p
	}
	return h.poll
}

// pollerIfStarted returns the hub's poller, or nil if none has started.
func (h *Hub) pollerIfStarted() *poller {
	h.pollMu.Lock()
	defer h.pollMu.Unlock()
	return h.poll
}

// Parked returns the number of idle connections parked with no reader goroutine.
func (h *Hub) Parked() int {
	if p := h.pollerIfStarted(); p != nil {
		return p.count()
	}
	return 0
}

// unpark hands c, if parked, back to a new reader goroutine.
func (h *Hub) unpark(c *Conn) {
	if c.rd == nil {
		return
	}
	if p := h.pollerIfStarted(); p != nil && p.claim(c) {
		go c.resume()
	}
}

// Wait blocks until every connection's reader has finished (its Close delivered).
func (h *Hub) Wait() { h.readers.Wait() }
