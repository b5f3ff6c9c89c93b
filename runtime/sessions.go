package runtime

import (
	"slices"
	"sync"

	"github.com/dop251/goja"
)

// Sessions tracks, for every open connection, which worker holds its JavaScript
// state (the connection object and its `data`), so that the state can move to the
// connection's worker in a new generation after a reload. Between owners the data
// is parked as JSON. The zero value is ready to use; it is safe for concurrent use.
//
// The hand-over is pulled by the new owner: on a connection's first event in a new
// worker, that worker asks the previous owner (always of an older generation) to
// release the connection, which it does between events, so no event runs against
// stale data. Older generations never wait on newer ones, so this cannot deadlock.
type Sessions struct {
	mu      sync.Mutex // guards entries
	entries map[string]*session
}

type session struct {
	owner *Worker // nil while parked
	data  string  // JSON of conn.data while parked
}

// take makes w the owner of connection id and returns its parked data JSON ("" for
// a new connection), first making the previous owner release it. It reports false,
// taking nothing, when a newer generation's worker holds the connection already
// (w is running a late event): waits only ever go from newer to older workers, so
// two workers can never wait on each other.
func (s *Sessions) take(id string, w *Worker) (string, bool) {
	for {
		s.mu.Lock()
		if s.entries == nil {
			s.entries = map[string]*session{}
		}
		e := s.entries[id]
		if e == nil {
			e = &session{}
			s.entries[id] = e
		}
		prev := e.owner
		if prev == nil || prev == w {
			e.owner = w
			data := e.data
			e.data = ""
			s.mu.Unlock()
			return data, true
		}
		s.mu.Unlock()
		if prev.gen > w.gen {
			return "", false
		}
		// Let the previous owner finish its queued events for id and park the data.
		if err := prev.Sync(func(*goja.Runtime) error { prev.release(id); return nil }); err != nil {
			<-prev.retired // it is shutting down: it parks everything before this closes
		}
	}
}

// peek returns a copy of connection id's data JSON ("" if none) for w, which is
// loading, without taking the connection: from its parked data, or from the older
// generation's worker that holds it (between that worker's events).
func (s *Sessions) peek(id string, w *Worker) string {
	for {
		s.mu.Lock()
		e := s.entries[id]
		if e == nil {
			s.mu.Unlock()
			return ""
		}
		prev, data := e.owner, e.data
		s.mu.Unlock()
		if prev == nil {
			return data
		}
		if prev.gen >= w.gen {
			return ""
		}
		if err := prev.Sync(func(*goja.Runtime) error { data = prev.dataJSON(id, nil, false); return nil }); err == nil {
			return data
		}
		<-prev.retired // it is shutting down: it parks everything before this closes
	}
}

// park records that w no longer holds id, keeping its data JSON.
func (s *Sessions) park(id string, w *Worker, data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[id]; e != nil && e.owner == w {
		e.owner, e.data = nil, data
	}
}

// drop forgets a closed connection.
func (s *Sessions) drop(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, id)
}

// Len returns the number of tracked connections.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Drop forgets connection id (closed, and no handler will see it again).
func (s *Sessions) Drop(id string) { s.drop(id) }

// release parks the state of connection id, if this worker holds it. It runs on the
// worker's loop (or after the loop has stopped).
func (w *Worker) release(id string) {
	st, ok := w.conns[id]
	if !ok {
		return
	}
	delete(w.conns, id)
	if !st.pending { // a pending state's data is a copy: the owner's stands
		w.opts.Sessions.park(id, w, w.dataJSON(id, st, true))
	}
}

// dataJSON returns the JSON of the data of connection id as this worker holds it
// ("" if it holds none, or the connection's data was never made). Functions and symbols are left out, as JSON.stringify
// does; when the data has what JSON.stringify refuses (a reference to an object it
// is inside of, a BigInt), that is left out too, and the rest is kept. With report,
// what was left out is logged (a hand-over; a copy for loading code is not). It runs
// on the worker's loop (or after the loop has stopped).
func (w *Worker) dataJSON(id string, st *connState, report bool) string {
	if st == nil {
		if st = w.conns[id]; st == nil || st.pending {
			return ""
		}
	}
	if !slices.Contains(st.obj.Keys(), "data") {
		return "" // never made (see newConnProto): nothing to hand over
	}
	data := st.obj.Get("data")
	v, err := w.stringify(goja.Undefined(), data) // the common case, at full speed
	var dropped string
	if err != nil {
		v, err = w.stringify(goja.Undefined(), data, w.rt.ToValue(jsonOnly(&dropped)))
	}
	switch {
	case err != nil:
		if report {
			w.log.Warn("conn.data is not JSON and does not survive the reload", "conn", id, "error", err)
		}
		return "{}"
	case dropped != "" && report:
		w.log.Warn("conn.data: values with no JSON form are left out of the hand-over to the reloaded code", "conn", id, "dropped", dropped)
	}
	if goja.IsUndefined(v) {
		return "{}"
	}
	return v.String()
}

// jsonOnly returns a JSON.stringify replacer that leaves out what has no JSON form
// (a reference to an object it is inside of, a BigInt, a function, a symbol),
// adding each one's key path and why to *dropped.
func jsonOnly(dropped *string) func(goja.FunctionCall) goja.Value {
	// JSON.stringify writes depth first and calls the replacer with each value and
	// its holder, so the holder is on the chain of objects being written, and what
	// follows it on the chain is done with: a value already on the chain is a cycle.
	var (
		chain []*goja.Object // the holder and its ancestors, outermost (stringify's wrapper) first
		keys  []string       // keys[i] is the key of chain[i+1] in chain[i]
	)
	return func(call goja.FunctionCall) goja.Value {
		holder, _ := call.This.(*goja.Object)
		key, v := call.Argument(0).String(), call.Argument(1)
		i := len(chain) - 1
		for i >= 0 && chain[i] != holder {
			i--
		}
		if i < 0 { // the first call: holder is stringify's wrapper
			chain, i = append(chain, holder), 0
		}
		chain, keys = chain[:i+1], keys[:i]
		why := ""
		switch o, isObj := v.(*goja.Object); {
		case goja.IsBigInt(v):
			why = "BigInt"
		case isObj:
			if _, fn := goja.AssertFunction(v); fn {
				why = "function"
				break
			}
			for _, a := range chain {
				if a == o {
					why = "cycle"
					break
				}
			}
			if why == "" {
				chain, keys = append(chain, o), append(keys, key)
				return v
			}
		default:
			if _, sym := v.(*goja.Symbol); sym {
				why = "symbol"
			}
		}
		if why == "" {
			return v
		}
		path := "conn.data"
		step := func(in *goja.Object, k string) {
			if in.ClassName() == "Array" {
				path += "[" + k + "]"
			} else {
				path += "." + k
			}
		}
		for j := 1; j < i; j++ {
			step(chain[j], keys[j])
		}
		if i > 0 { // else v is conn.data itself
			step(chain[i], key)
		}
		if *dropped != "" {
			*dropped += ", "
		}
		*dropped += path + " (" + why + ")"
		return goja.Undefined()
	}
}

// retire lets the events already queued run and those still awaiting something
// finish (drain), runs the retire hooks (which close what the worker opened, such
// as outbound clients), stops the worker after running the events queued meanwhile,
// then parks the state of every connection it holds for the next generation.
func (w *Worker) retire() {
	w.drain()
	w.runRetireHooks()
	w.loop.Terminate()
	w.limit.Stop()
	for id := range w.conns {
		w.release(id)
	}
	close(w.retired)
}
