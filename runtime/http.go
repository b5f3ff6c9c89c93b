package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// OnRequest is the method name of HTTP events, as getMethod() returns it.
const OnRequest = "onrequest"

// Request is an HTTP request for a handler's onRequest.
type Request struct {
	Method     string
	Path       string
	Query      url.Values
	Header     http.Header
	Body       []byte
	RemoteAddr string
	// Secure reports whether the request came over TLS.
	Secure bool
}

// Response is a handler's answer to a Request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// jsonResponse is a Response with a JSON body.
func jsonResponse(status int, v any) Response {
	body, _ := json.Marshal(v)
	return Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}
}

// ServeRequest runs the onRequest handler mounted at path on one of the
// generation's workers and returns its response. It reports false, with no
// response, when the generation has stopped: ask the one that replaced it. A thrown error or rejected promise
// is a 500 with a JSON error body (the stack goes to the log only), a handler that
// runs out of time (or whose promise does not settle within the event time limit)
// a 504, a body that is declared JSON but is not a 400.
func (g *Generation) ServeRequest(path string, req *Request) (Response, bool) {
	i := int(g.next.Add(1) % uint64(len(g.workers)))
	h, w := g.handlers[i][path], g.workers[i]
	if h == nil {
		return jsonResponse(http.StatusNotFound, map[string]string{"error": "no handler at " + path}), true
	}
	if isJSON(req.Header.Get("Content-Type")) && len(req.Body) > 0 && !json.Valid(req.Body) {
		return jsonResponse(http.StatusBadRequest, map[string]string{"error": "the request body is declared JSON (Content-Type) but is not valid JSON"}), true
	}
	done := make(chan Response, 1)
	respond := func(r Response) {
		select {
		case done <- r:
		default: // answered already
		}
	}
	if !w.loop.RunOnLoop(func(*goja.Runtime) { w.request(h, path, req, respond) }) {
		return Response{}, false
	}
	// The request's own deadline, for a promise that never settles; the handler's time
	// limit (an interrupt, answered at once) comes first when it is JavaScript that runs.
	timer := time.NewTimer(w.opts.EventTimeout + max(w.opts.EventTimeout/4, 250*time.Millisecond))
	defer timer.Stop()
	select {
	case r := <-done:
		return r, true
	case <-timer.C:
		w.log.Error("request timed out", "path", path, "method", req.Method, "limit", w.opts.EventTimeout)
		return jsonResponse(http.StatusGatewayTimeout, map[string]string{"error": "the handler did not answer within " + w.opts.EventTimeout.String()}), true
	}
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// request runs on the worker's loop.
func (w *Worker) request(h *Handler, path string, req *Request, respond func(Response)) {
	ev := &Event{Method: OnRequest, Endpoint: path}
	fail := func(err error) {
		// Answer first: logging the stack takes a while, and the request waits.
		var intr *goja.InterruptedError
		if errors.As(err, &intr) {
			respond(jsonResponse(http.StatusGatewayTimeout, map[string]string{"error": "the handler ran out of time"}))
		} else {
			respond(jsonResponse(http.StatusInternalServerError, map[string]string{"error": "internal error in the request handler (details are in the server log)"}))
		}
		w.logError(OnRequest, ev, err)
	}
	prev := w.event
	w.event = ev
	err := w.guard(func() error {
		res, err := h.onRequest(goja.Undefined(), w.requestObject(req))
		if err != nil {
			return err
		}
		return w.settle(res, func(v goja.Value) {
			r, err := w.response(v)
			if err != nil {
				fail(err)
				return
			}
			respond(r)
		}, fail)
	})
	w.event = prev
	if err != nil {
		fail(err)
	}
}

// requestObject is what onRequest receives.
func (w *Worker) requestObject(req *Request) *goja.Object {
	rt := w.rt
	o := rt.NewObject()
	o.Set("method", req.Method)
	o.Set("path", req.Path)
	o.Set("query", firstValues(rt, req.Query, false))
	o.Set("headers", firstValues(rt, req.Header, true))
	o.Set("remoteAddress", req.RemoteAddr)
	o.Set("secure", req.Secure)
	o.Set("body", string(req.Body))
	var parsed goja.Value = goja.Undefined()
	if isJSON(req.Header.Get("Content-Type")) && len(req.Body) > 0 {
		if v, err := w.ParseJSON(string(req.Body)); err == nil {
			parsed = v
		}
	}
	o.Set("json", parsed)
	return o
}

// firstValues turns a multi-valued map into an object of first values, in key order.
func firstValues(rt *goja.Runtime, m map[string][]string, lower bool) *goja.Object {
	o := rt.NewObject()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if v := m[k]; len(v) > 0 {
			if lower {
				k = strings.ToLower(k)
			}
			o.Set(k, v[0])
		}
	}
	return o
}

// fullResponseKeys are the keys of a full response object.
var fullResponseKeys = map[string]bool{"status": true, "headers": true, "body": true}

// response turns onRequest's result into a Response: undefined is 204; an object
// with a numeric status and no keys but status, headers and body is a full
// response; anything else is a 200 body.
func (w *Worker) response(v goja.Value) (Response, error) {
	if goja.IsUndefined(v) {
		return Response{Status: http.StatusNoContent}, nil
	}
	if obj, ok := v.(*goja.Object); ok && obj.ClassName() == "Object" && isFullResponse(obj) {
		r := Response{Header: http.Header{}}
		r.Status = int(obj.Get("status").ToInteger())
		if r.Status < 100 || r.Status > 599 {
			return r, fmt.Errorf("response status %d is not an HTTP status (100-599)", r.Status)
		}
		if hv := obj.Get("headers"); hv != nil && !goja.IsUndefined(hv) && !goja.IsNull(hv) {
			ho, ok := hv.(*goja.Object)
			if !ok {
				return r, errors.New("response headers must be an object of name: value")
			}
			for _, k := range ho.Keys() {
				values, err := headerValues(ho.Get(k))
				if err != nil {
					return r, fmt.Errorf("response header %q: %w", k, err)
				}
				r.Header.Del(k)
				for _, v := range values {
					r.Header.Add(k, v)
				}
			}
		}
		if bv := obj.Get("body"); bv != nil && !goja.IsUndefined(bv) && !goja.IsNull(bv) {
			body, ctype, err := w.body(bv)
			if err != nil {
				return r, err
			}
			r.Body = body
			if r.Header.Get("Content-Type") == "" {
				r.Header.Set("Content-Type", ctype)
			}
		}
		return r, nil
	}
	body, ctype, err := w.body(v)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {ctype}}, Body: body}, nil
}

// headerValueRule says what a response header's value may be.
const headerValueRule = "a header value is a string, a number or an array of them (one header line each)"

// headerValues returns the lines of one response header: a string or number is
// one line, an array of them one line per element (as Set-Cookie needs).
func headerValues(v goja.Value) ([]string, error) {
	scalar := func(v goja.Value) bool { return goja.IsString(v) || goja.IsNumber(v) }
	if scalar(v) {
		return []string{v.String()}, nil
	}
	if obj, ok := v.(*goja.Object); ok && obj.ClassName() == "Array" {
		var values []string // no capacity from length: a sparse array's may be huge
		for i := range obj.Get("length").ToInteger() {
			e := obj.Get(strconv.FormatInt(i, 10))
			if !scalar(e) {
				return nil, fmt.Errorf("element %d is %s: %s", i, describeHeaderValue(e), headerValueRule)
			}
			values = append(values, e.String())
		}
		return values, nil
	}
	return nil, fmt.Errorf("the value is %s: %s", describeHeaderValue(v), headerValueRule)
}

// describeHeaderValue says what a header value that is not allowed is.
func describeHeaderValue(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	case goja.IsBigInt(v):
		return v.String() + "n"
	}
	if obj, ok := v.(*goja.Object); ok {
		if _, fn := goja.AssertFunction(v); fn {
			return "a function"
		}
		if obj.ClassName() == "Array" {
			return "an array"
		}
		return "an object"
	}
	return v.String()
}

func isFullResponse(obj *goja.Object) bool {
	status := obj.Get("status")
	if status == nil || goja.IsUndefined(status) {
		return false
	}
	if _, ok := status.Export().(int64); !ok {
		return false
	}
	for _, k := range obj.Keys() {
		if !fullResponseKeys[k] {
			return false
		}
	}
	return true
}

// body encodes a response body by the rule for everything blimp sends: a string is
// text, bytes are bytes, anything else is JSON.
func (w *Worker) body(v goja.Value) ([]byte, string, error) {
	m, err := w.Encode(v)
	if err != nil {
		return nil, "", fmt.Errorf("response body: %w", err)
	}
	switch {
	case m.Binary:
		return m.Data, "application/octet-stream", nil
	case goja.IsString(v):
		return m.Data, "text/plain; charset=utf-8", nil
	default:
		return m.Data, "application/json", nil
	}
}
