package runtime

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/eventloop"

	"github.com/blimp/blimp/hub"
)

// installTimers replaces the event loop's timer globals with ones whose callbacks run
// under the event time limit, in the context of the event that set them (for the
// context functions and console tags), and whose errors are logged with their stack.
func (w *Worker) installTimers(rt *goja.Runtime) {
	schedule := func(call goja.FunctionCall, repeat bool) goja.Value {
		fn, ok := goja.AssertFunction(call.Argument(0))
		if !ok {
			w.Throw(errors.New("the first argument of setTimeout/setInterval must be a function"))
		}
		delay := time.Duration(call.Argument(1).ToInteger()) * time.Millisecond
		if delay < 0 {
			delay = 0
		}
		var args []goja.Value
		if len(call.Arguments) > 2 {
			args = append(args, call.Arguments[2:]...)
		}
		ev := w.event // the callback runs in the context of the event that set it
		run := func(*goja.Runtime) {
			prev := w.event
			w.event = ev
			defer func() { w.event = prev }()
			err := w.guard(func() error {
				_, err := fn(goja.Undefined(), args...)
				return err
			})
			if err != nil {
				w.logError("timer", ev, err)
			}
		}
		if repeat {
			if delay < time.Millisecond {
				delay = time.Millisecond
			}
			iv := w.loop.SetInterval(run, delay)
			w.intervals[iv] = struct{}{} // cleared when the worker retires (see drain)
			return rt.ToValue(iv)
		}
		return rt.ToValue(w.loop.SetTimeout(run, delay))
	}
	clear := func(call goja.FunctionCall) goja.Value {
		switch t := call.Argument(0).Export().(type) {
		case *eventloop.Timer:
			w.loop.ClearTimeout(t)
		case *eventloop.Interval:
			delete(w.intervals, t)
			w.loop.ClearInterval(t)
		}
		return goja.Undefined()
	}
	rt.Set("setTimeout", func(call goja.FunctionCall) goja.Value { return schedule(call, false) })
	rt.Set("setInterval", func(call goja.FunctionCall) goja.Value { return schedule(call, true) })
	rt.Set("clearTimeout", clear)
	rt.Set("clearInterval", clear)
}

// eventTracker carries the running event into the promise jobs it schedules, so
// that an async handler's code after an await still runs in its event: the context
// functions answer for it and console output is tagged with its endpoint.
type eventTracker struct {
	w    *Worker
	prev *Event
}

func (t *eventTracker) Grab() any { return t.w.event }

func (t *eventTracker) Resumed(ev any) {
	t.prev = t.w.event
	t.w.event, _ = ev.(*Event)
}

func (t *eventTracker) Exited() { t.w.event, t.prev = t.prev, nil }

// installText adds TextEncoder and TextDecoder (UTF-8 only), which goja lacks.
func (w *Worker) installText(rt *goja.Runtime) {
	rt.Set("TextEncoder", func(call goja.ConstructorCall) *goja.Object {
		call.This.Set("encoding", "utf-8")
		call.This.Set("encode", func(s goja.Value) goja.Value {
			text := ""
			if !goja.IsUndefined(s) {
				text = s.String()
			}
			return w.Uint8Array([]byte(text))
		})
		return nil
	})
	rt.Set("TextDecoder", func(call goja.ConstructorCall) *goja.Object {
		if label := call.Argument(0); !goja.IsUndefined(label) {
			if l := strings.ToLower(label.String()); l != "utf-8" && l != "utf8" {
				w.Throw(fmt.Errorf("TextDecoder: only utf-8 is supported, got %q", label.String()))
			}
		}
		call.This.Set("encoding", "utf-8")
		call.This.Set("decode", func(v goja.Value) string {
			if goja.IsUndefined(v) {
				return ""
			}
			b, ok := w.Bytes(v)
			if !ok {
				w.Throw(errors.New("TextDecoder.decode takes an ArrayBuffer or a typed array"))
			}
			return strings.ToValidUTF8(string(b), "\uFFFD")
		})
		return nil
	})
}

// installCrypto adds the part of Web Crypto handlers need for ids and tokens:
// crypto.randomUUID() and crypto.getRandomValues(typedArray), from crypto/rand.
func (w *Worker) installCrypto(rt *goja.Runtime) {
	c := rt.NewObject()
	c.Set("randomUUID", func() string {
		var b [16]byte
		rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40 // version 4
		b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	})
	c.Set("getRandomValues", func(v goja.Value) goja.Value {
		b, ok := w.Bytes(v)
		if !ok || goja.IsUndefined(v) {
			w.Throw(errors.New("crypto.getRandomValues takes a typed array"))
		}
		if len(b) > 65536 {
			w.Throw(fmt.Errorf("crypto.getRandomValues: at most 65536 bytes at a time, got %d", len(b)))
		}
		rand.Read(b)
		return v
	})
	rt.Set("crypto", c)
}

// Uint8Array returns a new Uint8Array holding a copy of b.
func (w *Worker) Uint8Array(b []byte) goja.Value {
	buf := w.rt.NewArrayBuffer(append([]byte(nil), b...))
	arr, err := w.rt.New(w.uint8, w.rt.ToValue(buf))
	if err != nil {
		w.Throw(err)
	}
	return arr
}

// Bytes returns the bytes of an ArrayBuffer or of a view on one (typed array,
// DataView, Buffer), sharing memory with it, and reports whether v was one.
func (w *Worker) Bytes(v goja.Value) ([]byte, bool) {
	if ab, ok := v.Export().(goja.ArrayBuffer); ok {
		return ab.Bytes(), true
	}
	if isView, _ := w.isView(goja.Undefined(), v); isView == nil || !isView.ToBoolean() {
		return nil, false
	}
	obj := v.ToObject(w.rt)
	ab, ok := obj.Get("buffer").Export().(goja.ArrayBuffer)
	if !ok {
		return nil, false
	}
	// byteOffset and byteLength are read like any property, so a script can shadow
	// them: check them against the buffer instead of trusting them.
	b := ab.Bytes()
	off, n := obj.Get("byteOffset").ToInteger(), obj.Get("byteLength").ToInteger()
	if off < 0 || n < 0 || off > int64(len(b)) || n > int64(len(b))-off {
		return nil, false
	}
	return b[off : off+n], true
}

// ParseJSON returns JSON.parse(text).
func (w *Worker) ParseJSON(text string) (goja.Value, error) {
	return w.parseJSON(goja.Undefined(), w.rt.ToValue(text))
}

// Stringify returns JSON.stringify(v), failing for values with no JSON form.
func (w *Worker) Stringify(v goja.Value) (string, error) {
	s, err := w.stringify(goja.Undefined(), v)
	if err != nil {
		return "", err
	}
	if goja.IsUndefined(s) {
		return "", fmt.Errorf("%s has no JSON form", v.String())
	}
	return s.String(), nil
}

// Encode turns a value into a frame, by the one rule for everything blimp sends: a
// string is a text frame, an ArrayBuffer or typed array a binary frame (copied), and
// anything else JSON in a text frame. undefined, functions and symbols are errors.
func (w *Worker) Encode(v goja.Value) (*hub.Message, error) {
	if v == nil || goja.IsUndefined(v) {
		return nil, errors.New("cannot send undefined")
	}
	if goja.IsString(v) {
		return hub.NewText(v.String()), nil
	}
	if _, ok := goja.AssertFunction(v); ok {
		return nil, errors.New("cannot send a function")
	}
	if b, ok := w.Bytes(v); ok {
		return hub.NewBinary(append([]byte(nil), b...)), nil
	}
	s, err := w.Stringify(v)
	if err != nil {
		return nil, fmt.Errorf("cannot send it as JSON: %w", err)
	}
	return hub.NewText(s), nil
}
