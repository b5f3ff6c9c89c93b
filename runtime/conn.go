package runtime

import (
	"errors"
	"fmt"

	"github.com/dop251/goja"

	"github.com/blimp/blimp/hub"
)

// connState is a worker's JavaScript side of one connection.
type connState struct {
	obj *goja.Object // the connection object, which holds its *hub.Conn (see newConnProto)
	// pending marks the state made before the worker's generation served: its data
	// is a copy, and the generation still serving keeps the connection until this
	// one first needs it after the swap (see state).
	pending bool
}

// newConnProto builds the prototype shared by every connection object of the worker.
// A connection object holds only its *hub.Conn (under a hidden symbol) and, once
// used, its data, headers and query: what every connection has alike (its metadata
// and methods) lives here, so an idle connection costs little. The methods find the
// live connection through the hub by id (none once it is closed).
func (w *Worker) newConnProto() *goja.Object {
	rt := w.rt
	proto := rt.NewObject()
	this := func(call goja.FunctionCall) *hub.Conn {
		c := w.connOf(call.This)
		if c == nil {
			w.Throw(errors.New("not a connection object"))
		}
		return w.opts.Hub.Get(c.ID)
	}
	proto.Set("send", func(call goja.FunctionCall) goja.Value {
		c := this(call)
		m, err := w.Encode(call.Argument(0))
		if err != nil {
			w.Throw(fmt.Errorf("conn.send: %w", err))
		}
		return rt.ToValue(c != nil && c.Send(m) == nil)
	})
	proto.Set("close", func(call goja.FunctionCall) goja.Value {
		c := this(call)
		code, reason := CloseArgs(w, "conn.close", call.Argument(0), call.Argument(1))
		if c != nil {
			c.Close(code, reason)
		}
		return goja.Undefined()
	})
	proto.Set("join", func(call goja.FunctionCall) goja.Value {
		c, room := this(call), RoomArg(w, "conn.join", call.Argument(0))
		return rt.ToValue(c != nil && w.opts.Hub.Join(c, room))
	})
	proto.Set("leave", func(call goja.FunctionCall) goja.Value {
		c, room := this(call), RoomArg(w, "conn.leave", call.Argument(0))
		if c != nil {
			w.opts.Hub.Leave(c, room)
		}
		return goja.Undefined()
	})
	proto.Set("rooms", func(call goja.FunctionCall) goja.Value {
		c := this(call)
		if c == nil {
			return rt.NewArray()
		}
		rooms := w.opts.Hub.Rooms(c)
		vals := make([]any, len(rooms))
		for i, r := range rooms {
			vals[i] = r
		}
		return rt.NewArray(vals...)
	})
	// The metadata, read from the connection.
	meta := func(name string, get func(c *hub.Conn) any) {
		getter := rt.ToValue(func(call goja.FunctionCall) goja.Value {
			if c := w.connOf(call.This); c != nil {
				return rt.ToValue(get(c))
			}
			return goja.Undefined() // not a connection object (the prototype itself, say)
		})
		proto.DefineAccessorProperty(name, getter, nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	meta("id", func(c *hub.Conn) any { return c.ID })
	meta("endpoint", func(c *hub.Conn) any { return c.Endpoint })
	meta("remoteAddress", func(c *hub.Conn) any { return c.RemoteAddr })
	meta("openedAt", func(c *hub.Conn) any { return c.OpenedAt.UnixMilli() })
	// data, headers and query are made when a handler first reads them and then kept
	// on the connection object (headers and query cost a couple of kilobytes); data
	// may also be assigned.
	lazy := func(name string, build func(c *hub.Conn) goja.Value, writable bool) {
		get := rt.ToValue(func(call goja.FunctionCall) goja.Value {
			c := w.connOf(call.This)
			if c == nil {
				return goja.Undefined()
			}
			v := build(c)
			w.setOwn(call.This, name, v, writable)
			return v
		})
		var set goja.Value
		if writable {
			set = rt.ToValue(func(call goja.FunctionCall) goja.Value {
				if w.connOf(call.This) != nil {
					w.setOwn(call.This, name, call.Argument(0), true)
				}
				return goja.Undefined()
			})
		}
		proto.DefineAccessorProperty(name, get, set, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	lazy("data", func(*hub.Conn) goja.Value { return rt.NewObject() }, true)
	lazy("headers", func(c *hub.Conn) goja.Value { return firstValues(rt, c.Header, true) }, false)
	lazy("query", func(c *hub.Conn) goja.Value { return firstValues(rt, c.Query, false) }, false)
	proto.Set("toString", func(call goja.FunctionCall) goja.Value {
		return call.This.ToObject(rt).Get("id")
	})
	// JSON.stringify(conn) shows what the object stands for, as when the metadata were
	// its own properties: them, its data, and what the handler set on it.
	toJSON := rt.ToValue(func(call goja.FunctionCall) goja.Value {
		o, c := call.This.ToObject(rt), w.connOf(call.This)
		if c == nil {
			return goja.Undefined()
		}
		out := rt.NewObject()
		for _, k := range []string{"id", "endpoint", "remoteAddress", "openedAt", "data"} {
			out.Set(k, o.Get(k))
		}
		for _, k := range o.Keys() {
			if k != "data" {
				out.Set(k, o.Get(k))
			}
		}
		return out
	})
	proto.DefineDataProperty("toJSON", toJSON, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	return proto
}

// connOf returns the connection a connection object stands for, or nil if v is not
// one.
func (w *Worker) connOf(v goja.Value) *hub.Conn {
	o, ok := v.(*goja.Object)
	if !ok {
		return nil
	}
	sym := o.GetSymbol(w.connSym)
	if sym == nil {
		return nil
	}
	c, _ := sym.Export().(*hub.Conn)
	return c
}

// setOwn makes v the own property name of the connection object o, shadowing the
// prototype's accessor.
func (w *Worker) setOwn(o goja.Value, name string, v goja.Value, writable bool) {
	flag := goja.FLAG_FALSE
	if writable {
		flag = goja.FLAG_TRUE
	}
	o.ToObject(w.rt).DefineDataProperty(name, v, flag, flag, goja.FLAG_TRUE)
}

// maxRoomName bounds a room name in bytes.
const maxRoomName = 256

// RoomArg validates a room name argument: a non-empty string of at most 256 bytes.
func RoomArg(w *Worker, what string, v goja.Value) string {
	if goja.IsString(v) && v.String() != "" && len(v.String()) <= maxRoomName {
		return v.String()
	}
	got := v.String()
	switch {
	case !goja.IsString(v):
	case got == "":
		got = `""`
	default:
		got = fmt.Sprintf("a string of %d bytes", len(got))
	}
	w.Throw(fmt.Errorf("%s: a room name is a non-empty string of at most %d bytes, got %s", what, maxRoomName, got))
	return ""
}

// CloseArgs validates the optional code and reason of a close call: a code is 1000,
// 1008 (policy violation: the server refuses what the client sent, RFC 6455 7.4.1)
// or an application code 3000-4999; a reason is at most 123 bytes.
func CloseArgs(w *Worker, what string, codeV, reasonV goja.Value) (int, string) {
	code, reason := 1000, ""
	if !goja.IsUndefined(codeV) && !goja.IsNull(codeV) {
		code = int(codeV.ToInteger())
		if code != 1000 && code != 1008 && (code < 3000 || code > 4999) {
			w.Throw(fmt.Errorf("%s: code %s is not allowed: use 1000 (normal), 1008 (policy violation) or an application code 3000-4999", what, codeV))
		}
	}
	if !goja.IsUndefined(reasonV) && !goja.IsNull(reasonV) {
		reason = reasonV.String()
		if len(reason) > 123 {
			w.Throw(fmt.Errorf("%s: reason is %d bytes; a close reason may be at most 123 bytes", what, len(reason)))
		}
	}
	return code, reason
}

// ConnObject returns the JavaScript object for c: the worker's own, with its data,
// when c is pinned to this worker (taking the data over from a previous generation
// if need be), else a fresh object with the same metadata and methods and an empty
// data (a connection pinned to another worker of the project).
func (w *Worker) ConnObject(c *hub.Conn) *goja.Object {
	if c.Project == w.project && w.endpoints[c.Endpoint] && int(c.Slot%uint64(w.of)) == w.slot {
		return w.state(c).obj
	}
	return w.newConnObject(c)
}

func (w *Worker) newConnObject(c *hub.Conn) *goja.Object {
	rt := w.rt
	o := rt.NewObject()
	o.SetPrototype(w.connProto)
	// Everything else comes from c through the prototype (see newConnProto).
	o.DefineDataPropertySymbol(w.connSym, rt.ToValue(c), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	return o
}

// state returns the worker's state for c. On the connection's first event in this
// worker it is created, with the data the previous generation's worker held.
//
// Until the generation serves (Activate): while module top-level code runs, which
// may re-arm timers for the connections already open, and until the swap (timers
// and callbacks it started), the state is made with a copy of the data and the
// connection stays with the generation still serving it, whose events must not lose
// it to code not yet serving. The first use after the swap takes the connection over
// and puts its data, as it is then, into the same connection object, so closures
// that kept the object see it (one that kept the copied data object itself keeps the
// copy; writes to the copy are replaced). A connection that closes before that
// leaves its pending state here until the generation retires.
//
// Waiting on the previous owner is Go time, not counted against the time limit.
func (w *Worker) state(c *hub.Conn) *connState {
	st, ok := w.conns[c.ID]
	if ok && !st.pending {
		return st
	}
	if !ok {
		st = &connState{obj: w.newConnObject(c)}
	}
	if !w.serving.Load() {
		if !ok {
			var data string
			w.unmetered(func() { data = w.opts.Sessions.peek(c.ID, w) })
			w.setData(st, data)
			st.pending = true
			w.conns[c.ID] = st
		}
		return st
	}
	var data string
	var taken bool
	w.unmetered(func() { data, taken = w.opts.Sessions.take(c.ID, w) })
	if !taken {
		return st // a newer generation holds c: this late event gets a detached object
	}
	w.setData(st, data)
	st.pending = false
	w.conns[c.ID] = st
	return st
}

// setData sets the connection object's data from its JSON, if any.
func (w *Worker) setData(st *connState, data string) {
	if data == "" {
		return
	}
	if parsed, err := w.ParseJSON(data); err == nil {
		st.obj.Set("data", parsed)
	}
}
