package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/endpoints"
	"github.com/blimp/blimp/hub"
	"github.com/blimp/blimp/runtime"
	sdkdb "github.com/blimp/blimp/sdk/db"
	sdknet "github.com/blimp/blimp/sdk/net"
	"github.com/blimp/blimp/store"
)

// Path prefixes endpoints are served at: Dirigible's, and its shorter alias.
const (
	ServicePath      = "/websockets/v4/service/"
	ServicePathAlias = "/websockets/service/"
)

// readBufferSize is each connection's read buffer: small, since most messages are
// small and gorilla reads bigger ones through it in pieces.
const readBufferSize = 512

// writeBuffers lend connections a write buffer only while they write a frame, so an
// idle connection holds none.
var writeBuffers = &sync.Pool{}

// Server serves every project under one projects root: it owns the hub of
// connections, the store, the routing snapshot and each project's generation. Its
// zero value is not usable: create it with New. It is safe for concurrent use.
type Server struct {
	cfg         config.Config
	log         *slog.Logger
	hub         *hub.Hub
	store       *store.Store // nil in check
	opts        runtime.Options
	upgrader    websocket.Upgrader // for endpoints without compression
	compressing websocket.Upgrader // for endpoints that opt in to permessage-deflate

	routes     atomic.Pointer[routing]
	handshakes *rateLimiter // nil: no limit
	originOK   func(*http.Request) bool

	mu         sync.Mutex        // guards status, closed and selfSigned, and serializes loads
	selfSigned *x509.Certificate // generated for TLS, if any
	status     map[string]*Status
	closed     bool           // set by shutdown: no more loads
	retiring   sync.WaitGroup // generations replaced or removed, still stopping (see retire)
}

// routing is an immutable snapshot of what is served: swapped whole on every load.
type routing struct {
	table *endpoints.Table
	gens  map[string]*runtime.Generation
}

// Status is the result of the last load of one project.
type Status struct {
	Project    string    `json:"project"`
	Generation int       `json:"generation"`
	LoadedAt   time.Time `json:"loadedAt"`
	Endpoints  []string  `json:"endpoints"`
	Error      string    `json:"error,omitempty"`
	Warnings   []string  `json:"warnings,omitempty"`

	taken bool // Error is another project serving one of its endpoints or paths
}

// New opens the store at data.path and returns a server for cfg that serves
// nothing until Load. The store is closed when Serve returns.
func New(cfg config.Config, log *slog.Logger) (*Server, error) {
	if err := checkRoot(cfg.Projects.Root); err != nil {
		return nil, err
	}
	st, err := store.Open(cfg.Data.Path)
	if err != nil {
		return nil, err
	}
	return newServer(cfg, log, st), nil
}

// checkRoot reports a projects root that is not a folder: the server could neither
// serve nor watch it.
func checkRoot(root string) error {
	const fix = "create it, or point --projects (projects.root in the config) at the folder holding your project folders"
	fi, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("projects root %q does not exist: %s", root, fix)
	case err != nil:
		return fmt.Errorf("projects root: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("projects root %q is a file, not a folder: %s", root, fix)
	}
	return nil
}

// newServer returns a server whose handlers use the store st.
func newServer(cfg config.Config, log *slog.Logger, st *store.Store) *Server {
	h := hub.New(hub.Options{
		ReadLimit:    cfg.Server.ReadLimit,
		QueueBytes:   cfg.Server.QueueBytes,
		WriteTimeout: cfg.Server.WriteTimeout.Duration,
		PingInterval: cfg.Server.PingInterval.Duration,
		PongTimeout:  cfg.Server.PongTimeout.Duration,
		ParkIdle:     cfg.Server.ParkIdle,
		Log:          log,
	})
	s := &Server{
		cfg:      cfg,
		log:      log,
		hub:      h,
		store:    st,
		status:   map[string]*Status{},
		originOK: originChecker(cfg.Server.AllowedOrigins),
		opts: runtime.Options{
			Workers:      cfg.Runtime.Workers,
			EventTimeout: cfg.Runtime.EventTimeout.Duration,
			MaxCallStack: cfg.Runtime.MaxCallStack,
			Modules:      map[string]runtime.Module{sdknet.Name: newClients(cfg, log).Module, sdkdb.Name: sdkdb.Module(st)},
			Loader:       &runtime.Loader{},
			Sessions:     &runtime.Sessions{},
			Hub:          h,
			Broker:       hub.NewLocal(h),
			Log:          log,
		},
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  readBufferSize,
		WriteBufferPool: writeBuffers,
		CheckOrigin:     s.originOK,
	}
	s.compressing = s.upgrader
	s.compressing.EnableCompression = true
	s.handshakes = newRateLimiter(cfg.Server.HandshakeRate)
	s.routes.Store(&routing{table: &endpoints.Table{}, gens: map[string]*runtime.Generation{}})
	return s
}

// Hub returns the server's connection hub.
func (s *Server) Hub() *hub.Hub { return s.hub }

// Load scans the projects root and loads every project in it. A project that fails
// is reported (in the log and in the returned error) and not served; the others are.
func (s *Server) Load() error {
	names, err := endpoints.ProjectNames(s.cfg.Projects.Root)
	if err != nil {
		return err
	}
	for _, w := range endpoints.RootWarnings(s.cfg.Projects.Root) {
		s.log.Warn(w)
	}
	var errs []error
	for _, name := range names {
		if err := s.LoadProject(name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// LoadProject (re)loads one project as a new generation and swaps it in. If the
// project folder is gone, the project is retired. If loading fails, the previous
// generation (if any) keeps serving and the error is returned and logged.
//
// When the change frees an endpoint or path, the projects refused because another
// project served one of theirs are loaded again (and so on, while loading them
// frees more).
func (s *Server) LoadProject(name string) error {
	freed, err := s.loadProject(name)
	for freed {
		freed = false
		for _, other := range s.refusedProjects() {
			f, _ := s.loadProject(other)
			freed = freed || f
		}
	}
	return err
}

// refusedProjects names the projects whose last load failed because another
// project serves one of their endpoint names or paths.
func (s *Server) refusedProjects() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name, st := range s.status {
		if st.taken {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// loadProject is LoadProject without the retries; freed reports whether the
// project serves fewer endpoints or paths than before.
func (s *Server) loadProject(name string) (freed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, fmt.Errorf("project %q: server is shutting down", name)
	}
	st := s.status[name]
	if st == nil {
		st = &Status{Project: name}
	}
	if fi, err := os.Stat(filepath.Join(s.cfg.Projects.Root, name)); err != nil || !fi.IsDir() {
		return s.retireLocked(name), nil
	}
	gen, table, err := s.build(name)
	st.LoadedAt = time.Now()
	if err != nil {
		st.Error, st.taken = err.Error(), errors.Is(err, endpoints.ErrTaken)
		s.status[name] = st
		s.log.Error("project not loaded", "project", name, "error", err)
		return false, fmt.Errorf("project %q: %w", name, err)
	}
	cur := s.routes.Load()
	next := &routing{table: table, gens: copyGens(cur.gens)}
	next.gens[name] = gen
	s.routes.Store(next)
	gen.Activate()

	st.Generation++
	st.Error, st.taken = "", false
	st.Warnings = append(slices.Clip(gen.Project.Warnings), gen.Warnings...)
	st.Endpoints = endpointNames(gen.Project)
	s.status[name] = st
	for _, w := range st.Warnings {
		s.log.Warn(w, "project", name)
	}
	if old := cur.gens[name]; old != nil {
		freed = s.closeRemoved(old, gen.Project)
		s.retire(old)
	}
	s.log.Info("project loaded", "project", name, "generation", st.Generation, "endpoints", strings.Join(st.Endpoints, ","))
	return freed, nil
}

// build scans and starts a new generation of project name, with the routing table it
// would be served under.
func (s *Server) build(name string) (*runtime.Generation, *endpoints.Table, error) {
	p, err := endpoints.ScanProject(s.cfg.Projects.Root, name)
	if err != nil {
		return nil, nil, err
	}
	table, err := s.routes.Load().table.With(p)
	if err != nil {
		return nil, nil, err
	}
	gen, err := runtime.Start(p, s.opts)
	if err != nil {
		return nil, nil, err
	}
	return gen, table, nil
}

// retireLocked stops serving project name and closes its connections with 1001.
// It reports whether the project served anything.
func (s *Server) retireLocked(name string) bool {
	cur := s.routes.Load()
	old := cur.gens[name]
	if old == nil {
		delete(s.status, name)
		return false
	}
	next := &routing{table: cur.table.Without(name), gens: copyGens(cur.gens)}
	delete(next.gens, name)
	s.routes.Store(next)
	delete(s.status, name)
	s.closeRemoved(old, &endpoints.Project{})
	s.retire(old)
	s.log.Info("project removed", "project", name)
	return true
}

// retire stops a generation no longer served, in the background: it may wait up to
// the event time limit for handlers still awaiting something (see
// runtime.Generation.Stop), and a reload must not wait for that. Shutdown waits for
// it before closing the store.
func (s *Server) retire(old *runtime.Generation) {
	s.retiring.Add(1)
	go func() {
		defer s.retiring.Done()
		old.Stop()
	}()
}

// closeRemoved closes, with 1001, the connections of the endpoints old serves and
// next does not, and runs their onClose in old (the only code that has it) before
// old is stopped. The close the hub reports later finds the handler already run.
// It reports whether old claims an endpoint or path that next does not.
func (s *Server) closeRemoved(old *runtime.Generation, next *endpoints.Project) (freed bool) {
	kept := map[string]bool{} // endpoint names and paths (which start with "/")
	for _, d := range next.Descriptors {
		kept[d.Endpoint], kept[d.Path] = true, true
	}
	const reason = "endpoint removed"
	for _, d := range old.Project.Descriptors {
		for _, claim := range []string{d.Endpoint, d.Path} {
			freed = freed || claim != "" && !kept[claim]
		}
		if d.Kind != endpoints.KindWebSocket || kept[d.Endpoint] {
			continue
		}
		for _, c := range s.hub.Connections(d.Endpoint) {
			c.Close(websocket.CloseGoingAway, reason)
			if c.ClaimClose() && !old.CloseClaimed(c, websocket.CloseGoingAway, reason) {
				s.opts.Sessions.Drop(c.ID)
			}
		}
	}
	return freed
}

// Statuses returns the last load result of every project, sorted by name.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.status))
	for n := range s.status {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Status, len(names))
	for i, n := range names {
		out[i] = *s.status[n]
	}
	return out
}

// ServeHTTP serves endpoint URLs, the paths descriptors mount (HTTP handlers and
// WebSocket endpoints' extra paths) and the admin API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	table := s.routes.Load().table
	d := table.LookupPath(r.URL.Path)
	if d == nil && len(r.URL.Path) > 1 && strings.HasSuffix(r.URL.Path, "/") {
		d = table.LookupPath(strings.TrimSuffix(r.URL.Path, "/")) // "/x/" is "/x"
	}
	if d != nil {
		if d.Kind == endpoints.KindHTTP {
			s.serveRequest(w, r, d)
		} else {
			s.serveWebSocket(w, r, d)
		}
		return
	}
	var endpoint string
	switch {
	case strings.HasPrefix(r.URL.Path, ServicePath):
		endpoint = strings.TrimPrefix(r.URL.Path, ServicePath)
	case strings.HasPrefix(r.URL.Path, ServicePathAlias):
		endpoint = strings.TrimPrefix(r.URL.Path, ServicePathAlias)
	case strings.HasPrefix(r.URL.Path, AdminPath):
		s.serveAdmin(w, r)
		return
	default:
		http.NotFound(w, r)
		return
	}
	d = table.Lookup(endpoint)
	if d == nil {
		http.Error(w, fmt.Sprintf("no WebSocket endpoint %q is served here", endpoint), http.StatusNotFound)
		return
	}
	s.serveWebSocket(w, r, d)
}

// serveWebSocket upgrades r into a connection of the endpoint of d.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request, d *endpoints.Descriptor) {
	if !websocket.IsWebSocketUpgrade(r) {
		http.Error(w, fmt.Sprintf("endpoint %q is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)", d.Endpoint), http.StatusBadRequest)
		return
	}
	if !s.originOK(r) {
		origin := r.Header.Get("Origin")
		s.log.Info("connection refused: origin not allowed (server.allowed_origins)", "endpoint", d.Endpoint, "origin", origin, "host", r.Host, "remote", r.RemoteAddr)
		http.Error(w, fmt.Sprintf("origin %s may not connect: this server accepts requests without an Origin header, from its own host (%s) and from the origins in its server.allowed_origins", origin, r.Host), http.StatusForbidden)
		return
	}
	if max := s.cfg.Server.MaxConnections; max > 0 && s.hub.Count("") >= max {
		s.log.Warn("connection refused: server.max_connections reached", "endpoint", d.Endpoint, "remote", r.RemoteAddr, "max", max)
		w.Header().Set("Retry-After", "5")
		http.Error(w, fmt.Sprintf("the server has reached its limit of %d connections; try again later", max), http.StatusServiceUnavailable)
		return
	}
	if ok, wait := s.handshakes.allow(time.Now()); !ok {
		w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
		http.Error(w, "too many WebSocket handshakes (server.handshake_rate); try again shortly", http.StatusServiceUnavailable)
		return
	}
	upgrader := &s.upgrader
	if d.Compression {
		upgrader = &s.compressing
	}
	ws, err := upgrader.Upgrade(hub.Batching(w), r, nil)
	if err != nil {
		s.log.Debug("upgrade failed", "endpoint", d.Endpoint, "remote", r.RemoteAddr, "error", err)
		return // the upgrader has answered with the HTTP error
	}
	c := s.hub.Add(ws, hub.Info{
		Endpoint:   d.Endpoint,
		Project:    d.Project,
		RemoteAddr: r.RemoteAddr,
		Header:     requestHeader(r),
		Query:      r.URL.Query(),
	})
	if c == nil {
		return // shutting down
	}
	if s.routes.Load().table.Lookup(d.Endpoint) == nil {
		c.Close(websocket.CloseGoingAway, "endpoint removed") // removed while we upgraded
	}
	go c.Serve(router{s})
}

// serveRequest runs the HTTP handler of d for r.
func (s *Server) serveRequest(w http.ResponseWriter, r *http.Request, d *endpoints.Descriptor) {
	// HEAD is served wherever GET is (RFC 9110 9.3.2).
	getOK := slices.Contains(d.Methods, http.MethodGet)
	if !slices.Contains(d.Methods, r.Method) && !(r.Method == http.MethodHead && getOK) {
		allowed := d.Methods
		if getOK && !slices.Contains(allowed, http.MethodHead) {
			allowed = append(slices.Clip(allowed), http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": fmt.Sprintf("method %s is not allowed here; use %s", r.Method, strings.Join(allowed, ", "))})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.Server.HTTPBodyLimit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("request body over the limit of %d bytes", s.cfg.Server.HTTPBodyLimit)})
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "reading the request body: " + err.Error()})
		return
	}
	req := &runtime.Request{
		Method:     r.Method,
		Path:       r.URL.Path,
		Query:      r.URL.Query(),
		Header:     requestHeader(r),
		Body:       body,
		RemoteAddr: r.RemoteAddr,
		Secure:     r.TLS != nil,
	}
	var resp runtime.Response
	if !(router{s}).offer(d.Project, func(g *runtime.Generation) bool {
		var ok bool
		resp, ok = g.ServeRequest(d.Path, req)
		return ok
	}) {
		http.NotFound(w, r)
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.Status)
	w.Write(resp.Body) // for HEAD, net/http sends the Content-Length GET would have, and no body
}

// generation returns the generation currently serving project, or nil.
func (s *Server) generation(project string) *runtime.Generation {
	return s.routes.Load().gens[project]
}

// router routes each connection event to the current generation of its project.
// An event the generation cannot take because a reload retired it in the meantime
// goes to the generation that replaced it.
type router struct{ s *Server }

// offer gives an event to the current generation of project, and to its
// successors while they turn it down because they stopped. It reports whether one
// took it.
func (r router) offer(project string, try func(*runtime.Generation) bool) bool {
	var last *runtime.Generation
	for {
		g := r.s.generation(project)
		if g == nil || g == last {
			return false
		}
		if try(g) {
			return true
		}
		last = g
	}
}

func (r router) Open(c *hub.Conn) {
	r.offer(c.Project, func(g *runtime.Generation) bool { return g.Open(c) })
}

func (r router) Message(c *hub.Conn, binary bool, data []byte, done func()) {
	if !r.offer(c.Project, func(g *runtime.Generation) bool { return g.Message(c, binary, data, done) }) {
		done()
	}
}

func (r router) Error(c *hub.Conn, err error) {
	r.offer(c.Project, func(g *runtime.Generation) bool { return g.Error(c, err) })
}

// Close runs onClose in the current generation. A connection whose endpoint was
// removed had its onClose run by the old generation (closeRemoved claimed it), which
// forgets its state too; else, with no handler left, only its state is dropped.
func (r router) Close(c *hub.Conn, code int, reason string) {
	if !r.offer(c.Project, func(g *runtime.Generation) bool { return g.Close(c, code, reason) }) && c.ClaimClose() {
		r.s.opts.Sessions.Drop(c.ID) // else the generation that claimed it forgets it
	}
}

// Serve accepts connections on l until ctx is done, then shuts down gracefully:
// it stops accepting, closes every WebSocket with 1001, waits (bounded) for their
// onClose handlers and stops every generation.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	if s.cfg.TLS.Enabled {
		conf, err := s.tlsConfig()
		if err != nil {
			return err
		}
		l = tls.NewListener(l, conf)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	watching := make(chan struct{})
	if s.cfg.Projects.Watch {
		loop, err := s.watch()
		if err != nil {
			s.log.Error("not watching projects: changes need a restart or POST /admin/reload", "error", err)
			close(watching)
		} else {
			go func() { loop(ctx); close(watching) }()
		}
	} else {
		close(watching)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		s.stopAll()
		return err
	case <-ctx.Done():
	}
	<-watching
	s.Shutdown(srv)
	return nil
}

// Shutdown stops srv from accepting, closes every connection with 1001 and waits up
// to server.shutdown_grace for their onClose handlers before stopping the
// generations and closing the store.
func (s *Server) Shutdown(srv *http.Server) {
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.Server.ShutdownGrace.Duration)
	defer cancel()
	srv.Shutdown(sctx)
	s.hub.Shutdown(websocket.CloseGoingAway, "server shutting down")
	done := make(chan struct{})
	go func() { s.hub.Wait(); close(done) }()
	select {
	case <-done:
	case <-sctx.Done():
		s.log.Warn("shutdown: connections still open after the grace period")
	}
	s.drain(sctx)
	s.stopAll()
}

// drain waits until every worker has run the events queued before this call.
func (s *Server) drain(ctx context.Context) {
	for _, g := range s.routes.Load().gens {
		for _, w := range g.Workers() {
			done := make(chan struct{})
			if !w.Do(func(*goja.Runtime) error { close(done); return nil }) {
				continue
			}
			select {
			case <-done:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (s *Server) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	var stopping sync.WaitGroup
	for _, g := range s.routes.Load().gens {
		stopping.Go(g.Stop)
	}
	stopping.Wait()
	s.retiring.Wait()
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			s.log.Error("closing the store", "error", err)
		}
	}
}

func copyGens(gens map[string]*runtime.Generation) map[string]*runtime.Generation {
	out := make(map[string]*runtime.Generation, len(gens)+1)
	for k, v := range gens {
		out[k] = v
	}
	return out
}

func endpointNames(p *endpoints.Project) []string {
	names := make([]string, len(p.Descriptors))
	for i, d := range p.Descriptors {
		names[i] = d.Key()
	}
	return names
}
