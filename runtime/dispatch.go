package runtime

import (
	"fmt"
	"strings"

	"github.com/dop251/goja"

	"github.com/blimp/blimp/endpoints"
	"github.com/blimp/blimp/hub"
)

// Event method names, as getMethod() returns them.
const (
	OnOpen    = "onopen"
	OnMessage = "onmessage"
	OnError   = "onerror"
	OnClose   = "onclose"
)

// Handler is one handler module as loaded in one worker. A module exporting none of
// the four event functions (nor onRequest) is Script style: its body runs afresh for
// every event.
type Handler struct {
	File   string
	Script bool
	// Warnings name exports that look like misspelled event functions.
	Warnings  []string
	onRequest goja.Callable
	onOpen    goja.Callable
	onMessage goja.Callable
	onError   goja.Callable
	onClose   goja.Callable
}

// LoadHandler loads the module at file (cached like any require) and finds its event
// functions. An export of one of their names that is not a function is an error.
func (w *Worker) LoadHandler(file string) (*Handler, error) {
	m, err := w.execModule(file, true)
	if err != nil {
		return nil, err
	}
	exports := m.Get("exports")
	h := &Handler{File: file}
	obj, _ := exports.(*goja.Object)
	if obj != nil {
		for _, f := range []struct {
			name string
			dst  *goja.Callable
		}{{"onOpen", &h.onOpen}, {"onMessage", &h.onMessage}, {"onError", &h.onError}, {"onClose", &h.onClose}, {"onRequest", &h.onRequest}} {
			v := obj.Get(f.name)
			if v == nil || goja.IsUndefined(v) {
				continue
			}
			fn, ok := goja.AssertFunction(v)
			if !ok {
				return nil, &endpoints.Error{File: file, Err: fmt.Errorf("export %s must be a function, got %s", f.name, v.String())}
			}
			*f.dst = fn
		}
	}
	h.Script = h.onOpen == nil && h.onMessage == nil && h.onError == nil && h.onClose == nil && h.onRequest == nil
	if obj != nil && w.slot == 0 { // the same in every worker: reported once
		h.Warnings = exportWarnings(file, obj)
	}
	return h, nil
}

// handlerExports are the names LoadHandler looks for.
var handlerExports = []string{"onOpen", "onMessage", "onError", "onClose", "onRequest"}

// exportWarnings names the exports of a handler module that look like event
// functions blimp will not find: a name differing only in case (Dirigible's
// getMethod() answers "onmessage"), or event functions inside a default export.
func exportWarnings(file string, exports *goja.Object) []string {
	var out []string
	for _, key := range exports.Keys() {
		if key == "default" {
			if def, ok := exports.Get(key).(*goja.Object); ok {
				for _, name := range handlerExports {
					if v := def.Get(name); v != nil && !goja.IsUndefined(v) && exports.Get(name) == nil {
						out = append(out, fmt.Sprintf("%s: %s is a property of the default export and is not called: export it by name (export function %s)", file, name, name))
					}
				}
			}
			continue
		}
		for _, name := range handlerExports {
			if key != name && strings.EqualFold(key, name) {
				out = append(out, fmt.Sprintf("%s: export %q is not an event function and is not called: did you mean %s?", file, key, name))
			}
		}
	}
	return out
}

// Fire runs one event of h: the matching export, or the whole module in Script
// style. For onmessage the result (awaited if a Promise) is passed to reply. A
// failure is logged and, unless it is an onerror event already, reported to the
// handler's onError with conn.
func (w *Worker) Fire(h *Handler, ev *Event, conn goja.Value, reply func(goja.Value), args ...goja.Value) {
	var fn goja.Callable
	switch ev.Method {
	case OnOpen:
		fn = h.onOpen
	case OnMessage:
		fn = h.onMessage
	case OnError:
		fn = h.onError
	case OnClose:
		fn = h.onClose
	}
	if fn == nil && !h.Script {
		return
	}
	prev := w.event // set when an event fails in a timer or promise job of another
	w.event = ev
	err := w.guard(func() error {
		var res goja.Value
		var err error
		if h.Script {
			_, err = w.execModule(h.File, false)
		} else {
			res, err = fn(goja.Undefined(), args...)
		}
		if err == nil && res != nil && !goja.IsUndefined(res) && (reply != nil || isPromise(res)) {
			if reply == nil {
				reply = func(goja.Value) {} // awaited all the same: a retiring worker waits for it, a rejection is the event's failure
			}
			err = w.settle(res, reply, func(err error) { w.failed(h, ev, conn, err) })
		}
		return err
	})
	w.event = prev
	if err != nil {
		w.failed(h, ev, conn, err)
	}
}

func isPromise(v goja.Value) bool {
	_, ok := v.Export().(*goja.Promise)
	return ok
}

// settle passes res to reply, awaiting it first if it is a Promise (undefined too:
// reply decides what that means); a rejection goes to fail (or is returned at once
// if the promise has already settled).
func (w *Worker) settle(res goja.Value, reply func(goja.Value), fail func(error)) error {
	p, ok := res.Export().(*goja.Promise)
	if !ok {
		reply(res)
		return nil
	}
	switch p.State() {
	case goja.PromiseStateFulfilled:
		delete(w.rejected, p)
		reply(p.Result())
		return nil
	case goja.PromiseStateRejected:
		delete(w.rejected, p)
		return valueError(p.Result())
	}
	then, _ := goja.AssertFunction(res.ToObject(w.rt).Get("then"))
	w.unsettled++ // a retiring worker waits for it (see drain)
	_, err := then(res,
		w.rt.ToValue(func(v goja.Value) { w.settled(); reply(v) }),
		w.rt.ToValue(func(v goja.Value) { w.settled(); fail(valueError(v)) }))
	if err != nil {
		w.settled()
	}
	return err
}

// settled counts one of settle's promises as settled.
func (w *Worker) settled() {
	w.unsettled--
	if w.unsettled == 0 && w.drained != nil {
		close(w.drained)
		w.drained = nil
	}
}

// failed logs an event's failure and reports it to the handler's onError.
func (w *Worker) failed(h *Handler, ev *Event, conn goja.Value, err error) {
	w.logError(ev.Method, ev, err)
	if ev.Method == OnError {
		return
	}
	msg := scriptError(ev.Method, err, w.opts.EventTimeout).Error()
	w.Fire(h, &Event{Method: OnError, Endpoint: ev.Endpoint, Conn: ev.Conn, Client: ev.Client, Error: msg}, conn, nil, w.rt.ToValue(msg), conn)
}

// Send encodes v and queues it on c, logging what cannot be sent.
func (w *Worker) Send(c *hub.Conn, v goja.Value) {
	m, err := w.Encode(v)
	if err != nil {
		w.log.Error("reply not sent", "endpoint", c.Endpoint, "conn", c.ID, "error", err)
		return
	}
	c.Send(m)
}

// connection events, run on the loop of the worker c is pinned to.

// handles reports whether h runs for an event that fn would handle: the export is
// there, or h is Script style. Events nobody handles make no JavaScript state, so an
// idle connection of an endpoint without onOpen holds none.
func (h *Handler) handles(fn goja.Callable) bool { return fn != nil || h.Script }

func (w *Worker) open(h *Handler, c *hub.Conn) {
	if !h.handles(h.onOpen) {
		return
	}
	st := w.state(c)
	w.Fire(h, &Event{Method: OnOpen, Endpoint: c.Endpoint, Conn: c}, st.obj, nil, st.obj)
}

func (w *Worker) message(h *Handler, c *hub.Conn, binary bool, data []byte) {
	st := w.state(c)
	var msg goja.Value
	if binary {
		msg = w.rt.ToValue(w.rt.NewArrayBuffer(data))
	} else {
		msg = w.rt.ToValue(string(data))
	}
	reply := func(v goja.Value) {
		if !goja.IsUndefined(v) {
			w.Send(c, v)
		}
	}
	w.Fire(h, &Event{Method: OnMessage, Endpoint: c.Endpoint, Conn: c, Message: msg}, st.obj, reply, msg, st.obj)
}

func (w *Worker) connError(h *Handler, c *hub.Conn, text string) {
	if !h.handles(h.onError) {
		return
	}
	st := w.state(c)
	w.Fire(h, &Event{Method: OnError, Endpoint: c.Endpoint, Conn: c, Error: text}, st.obj, nil, w.rt.ToValue(text), st.obj)
}

// close runs onClose for c unless another caller claimed its close first (see
// hub.Conn.ClaimClose); closeClaimed runs it for a caller that has.
func (w *Worker) close(h *Handler, c *hub.Conn, code int, reason string) {
	if !c.ClaimClose() {
		delete(w.conns, c.ID)
		return
	}
	w.closeClaimed(h, c, code, reason)
}

func (w *Worker) closeClaimed(h *Handler, c *hub.Conn, code int, reason string) {
	_, ok := w.conns[c.ID]
	if !ok && !h.handles(h.onClose) {
		w.opts.Sessions.drop(c.ID)
		return
	}
	st := w.state(c)
	delete(w.conns, c.ID)
	w.opts.Sessions.drop(c.ID)
	w.Fire(h, &Event{Method: OnClose, Endpoint: c.Endpoint, Conn: c}, st.obj, nil, st.obj, w.rt.ToValue(code), w.rt.ToValue(reason))
}
