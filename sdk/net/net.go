package net

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/dop251/goja"

	"github.com/blimp/blimp/hub"
	"github.com/blimp/blimp/runtime"
)

// Name is the module name handlers import.
const Name = "sdk/net"

// Module is the runtime.Module for "sdk/net" without outbound clients; a server
// registers Clients.Module, which adds them (client.go).
func Module(w *runtime.Worker) (*goja.Object, error) {
	rt := w.Runtime()
	ws := rt.NewObject()
	m := &module{w: w, rt: rt}
	fns := map[string]func(goja.FunctionCall) goja.Value{
		"getMethod":      m.getMethod,
		"getMessage":     m.getMessage,
		"getError":       m.getError,
		"isOnOpen":       m.is(runtime.OnOpen),
		"isOnMessage":    m.is(runtime.OnMessage),
		"isOnError":      m.is(runtime.OnError),
		"isOnClose":      m.is(runtime.OnClose),
		"getConnection":  m.getConnection,
		"getConnections": m.getConnections,
		"count":          m.count,
		"send":           m.send,
		"broadcast":      m.broadcast,
		"publish":        m.publish,
		"members":        m.members,
	}
	for name, fn := range fns {
		if err := ws.Set(name, fn); err != nil {
			return nil, err
		}
	}
	exports := rt.NewObject()
	exports.Set("websockets", ws)
	return exports, nil
}

type module struct {
	w  *runtime.Worker
	rt *goja.Runtime
}

func (m *module) event() *runtime.Event {
	if ev := m.w.Event(); ev != nil {
		return ev
	}
	return &runtime.Event{}
}

func (m *module) getMethod(goja.FunctionCall) goja.Value {
	if ev := m.event(); ev.Method != "" {
		return m.rt.ToValue(ev.Method)
	}
	return goja.Undefined()
}

func (m *module) getMessage(goja.FunctionCall) goja.Value {
	if ev := m.event(); ev.Message != nil {
		return ev.Message
	}
	return goja.Undefined()
}

func (m *module) getError(goja.FunctionCall) goja.Value {
	if ev := m.event(); ev.Method == runtime.OnError {
		return m.rt.ToValue(ev.Error)
	}
	return goja.Undefined()
}

func (m *module) is(method string) func(goja.FunctionCall) goja.Value {
	return func(goja.FunctionCall) goja.Value { return m.rt.ToValue(m.event().Method == method) }
}

// conn returns the open connection with id if it belongs to the caller's project.
func (m *module) conn(id string) *hub.Conn {
	c := m.w.Hub().Get(id)
	if c == nil || c.Project != m.w.Project() {
		return nil
	}
	return c
}

// endpointArg reads an optional endpoint argument, which must be the project's own.
func (m *module) endpointArg(what string, v goja.Value) string {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return ""
	}
	endpoint := v.String()
	if !m.w.Serves(endpoint) {
		m.w.Throw(fmt.Errorf("%s: endpoint %q is not one of project %q's endpoints", what, endpoint, m.w.Project()))
	}
	return endpoint
}

// connections lists the project's open connections, of one endpoint if given.
func (m *module) connections(endpoint string) []*hub.Conn {
	all := m.w.Hub().Connections(endpoint)
	out := all[:0]
	for _, c := range all {
		if c.Project == m.w.Project() {
			out = append(out, c)
		}
	}
	return out
}

func (m *module) getConnection(call goja.FunctionCall) goja.Value {
	c := m.conn(call.Argument(0).String())
	if c == nil {
		return goja.Null()
	}
	return m.w.ConnObject(c)
}

func (m *module) getConnections(call goja.FunctionCall) goja.Value {
	return m.connArray(m.connections(m.endpointArg("getConnections", call.Argument(0))))
}

func (m *module) count(call goja.FunctionCall) goja.Value {
	return m.rt.ToValue(len(m.connections(m.endpointArg("count", call.Argument(0)))))
}

func (m *module) encode(what string, v goja.Value) *hub.Message {
	msg, err := m.w.Encode(v)
	if err != nil {
		m.w.Throw(fmt.Errorf("%s: %w", what, err))
	}
	return msg
}

func (m *module) send(call goja.FunctionCall) goja.Value {
	id := IDOf(m.w, "send", call.Argument(0))
	msg := m.encode("send", call.Argument(1))
	if m.conn(id) == nil {
		return m.rt.ToValue(false)
	}
	return m.rt.ToValue(m.w.Broker().Send(id, msg))
}

func (m *module) broadcast(call goja.FunctionCall) goja.Value {
	if goja.IsUndefined(call.Argument(0)) {
		m.w.Throw(errors.New("broadcast(endpoint, message, {except}): endpoint is required"))
	}
	endpoint := m.endpointArg("broadcast", call.Argument(0))
	msg := m.encode("broadcast", call.Argument(1))
	except := m.exceptOption("broadcast", call.Argument(2))
	return m.rt.ToValue(m.w.Broker().Broadcast(endpoint, msg, except))
}

func (m *module) publish(call goja.FunctionCall) goja.Value {
	room := runtime.RoomArg(m.w, "publish", call.Argument(0))
	msg := m.encode("publish", call.Argument(1))
	except := m.exceptOption("publish", call.Argument(2))
	return m.rt.ToValue(m.w.Broker().Publish(m.w.Project(), room, msg, except))
}

func (m *module) members(call goja.FunctionCall) goja.Value {
	room := runtime.RoomArg(m.w, "members", call.Argument(0))
	return m.connArray(m.w.Hub().Members(m.w.Project(), room))
}

// connArray returns the JavaScript array of the connection objects of conns.
func (m *module) connArray(conns []*hub.Conn) goja.Value {
	objs := make([]any, len(conns))
	for i, c := range conns {
		objs[i] = m.w.ConnObject(c)
	}
	return m.rt.NewArray(objs...)
}

// maxExcept bounds the except list of one fan-out.
const maxExcept = 65536

// exceptOption reads {except} from an options argument: a connection, an id, or an
// array of them.
func (m *module) exceptOption(what string, opts goja.Value) []string {
	if goja.IsUndefined(opts) || goja.IsNull(opts) {
		return nil
	}
	obj, ok := opts.(*goja.Object)
	if !ok {
		m.w.Throw(fmt.Errorf("%s: options must be an object like {except: conn}, got %s", what, opts.String()))
	}
	ex := obj.Get("except")
	if ex == nil || goja.IsUndefined(ex) || goja.IsNull(ex) {
		return nil
	}
	if arr, ok := ex.(*goja.Object); ok && arr.ClassName() == "Array" {
		n := arr.Get("length").ToInteger()
		if n > maxExcept {
			m.w.Throw(fmt.Errorf("%s: except lists %d connections; at most %d", what, n, maxExcept))
		}
		ids := make([]string, 0, n)
		for i := int64(0); i < n; i++ {
			ids = append(ids, IDOf(m.w, what+": except", arr.Get(strconv.FormatInt(i, 10))))
		}
		return ids
	}
	return []string{IDOf(m.w, what+": except", ex)}
}

// IDOf returns the id v stands for in a call named what: an object's id (a
// connection's, a client's), or a string or number as it is. Anything else throws:
// an object with no id (a copy such as {...conn}: the metadata is inherited), null
// or undefined.
func IDOf(w *runtime.Worker, what string, v goja.Value) string {
	if obj, ok := v.(*goja.Object); ok {
		if id := obj.Get("id"); id != nil && !goja.IsUndefined(id) && !goja.IsNull(id) {
			return id.String()
		}
		w.Throw(fmt.Errorf("%s: expected a connection or its id, got an object with no id (a copy such as {...conn} has none: pass conn itself or conn.id)", what))
	}
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		w.Throw(fmt.Errorf("%s: expected a connection or its id, got %v", what, v))
	}
	return v.String()
}
