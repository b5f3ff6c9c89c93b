package db

import (
	"encoding/json"
	"fmt"

	"github.com/dop251/goja"

	"github.com/blimp/blimp/runtime"
	"github.com/blimp/blimp/store"
)

// Name is the module name handlers import.
const Name = "sdk/db"

// Module returns the runtime.Module for "sdk/db" backed by st. With a nil store
// (as in `blimp check`) the module loads but every call throws.
func Module(st *store.Store) runtime.Module {
	return func(w *runtime.Worker) (*goja.Object, error) {
		rt := w.Runtime()
		m := &module{w: w, rt: rt, st: st}
		obj := rt.NewObject()
		for name, fn := range map[string]func(goja.FunctionCall) goja.Value{
			"save":   m.save,
			"get":    m.get,
			"remove": m.remove,
			"list":   m.list,
			"count":  m.count,
		} {
			if err := obj.Set(name, fn); err != nil {
				return nil, err
			}
		}
		exports := rt.NewObject()
		exports.Set("store", obj)
		return exports, nil
	}
}

type module struct {
	w  *runtime.Worker
	rt *goja.Runtime
	st *store.Store
}

// collection reads the collection argument.
func (m *module) collection(what string, v goja.Value) string {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		m.w.Throw(fmt.Errorf("store.%s: the collection name is required", what))
	}
	return v.String()
}

// async runs fn off the loop and settles the returned Promise with its result on
// the loop. The result is handed to JavaScript as parsed JSON, so handlers get
// plain objects and arrays.
func (m *module) async(what string, fn func() (any, error)) goja.Value {
	promise, resolve, reject := m.rt.NewPromise()
	w := m.w
	go func() {
		v, err := fn()
		var data []byte
		if err == nil {
			data, err = json.Marshal(v)
		}
		w.Do(func(*goja.Runtime) error {
			if err != nil {
				return reject(w.NewError(fmt.Sprintf("store.%s: %v", what, err)))
			}
			val, perr := w.ParseJSON(string(data))
			if perr != nil {
				return reject(w.NewError(fmt.Sprintf("store.%s: %v", what, perr)))
			}
			return resolve(val)
		})
	}()
	return m.rt.ToValue(promise)
}

func (m *module) save(call goja.FunctionCall) goja.Value {
	coll := m.collection("save", call.Argument(0))
	doc, err := m.exportObject(call.Argument(1))
	if err != nil {
		m.w.Throw(fmt.Errorf("store.save(collection, doc): %v", err))
	}
	project := m.w.Project()
	return m.async("save", func() (any, error) {
		id, _, err := m.st.Save(project, coll, doc)
		return id, err
	})
}

// exportObject returns v as a document: what JSON.stringify writes for it (toJSON
// honoured, undefined and function properties left out), decoded.
func (m *module) exportObject(v goja.Value) (map[string]any, error) {
	obj, ok := v.(*goja.Object)
	if !ok || obj.ClassName() == "Array" || obj.ClassName() == "Function" {
		return nil, fmt.Errorf("doc must be an object, got %s", v.String())
	}
	text, err := m.w.Stringify(v)
	if err != nil {
		return nil, fmt.Errorf("doc cannot be written as JSON: %v", err)
	}
	doc, err := store.DecodeDocument([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("doc must be an object once written as JSON (its toJSON returned something else)")
	}
	return doc, nil
}

// id reads a document id argument: a non-empty string (any other value would be
// looked up as its text, and found missing).
func (m *module) id(what string, v goja.Value) string {
	if goja.IsString(v) && v.String() != "" {
		return v.String()
	}
	got := v.String()
	if goja.IsString(v) {
		got = `""`
	}
	m.w.Throw(fmt.Errorf("store.%s(collection, id): id must be a non-empty string, got %s", what, got))
	return ""
}

func (m *module) get(call goja.FunctionCall) goja.Value {
	coll := m.collection("get", call.Argument(0))
	id := m.id("get", call.Argument(1))
	project := m.w.Project()
	return m.async("get", func() (any, error) { return m.st.Get(project, coll, id) })
}

func (m *module) remove(call goja.FunctionCall) goja.Value {
	coll := m.collection("remove", call.Argument(0))
	id := m.id("remove", call.Argument(1))
	project := m.w.Project()
	return m.async("remove", func() (any, error) { return m.st.Remove(project, coll, id) })
}

// query parses the query argument, throwing what is wrong with it.
func (m *module) query(what string, v goja.Value) store.Query {
	var raw any
	if !goja.IsUndefined(v) && !goja.IsNull(v) {
		raw = v.Export()
	}
	q, err := store.ParseQuery(raw)
	if err != nil {
		m.w.Throw(fmt.Errorf("store.%s: %w", what, err))
	}
	return q
}

func (m *module) list(call goja.FunctionCall) goja.Value {
	coll := m.collection("list", call.Argument(0))
	q := m.query("list", call.Argument(1))
	project := m.w.Project()
	return m.async("list", func() (any, error) {
		if q.GroupBy != "" {
			return m.st.Group(project, coll, q)
		}
		return m.st.List(project, coll, q)
	})
}

func (m *module) count(call goja.FunctionCall) goja.Value {
	coll := m.collection("count", call.Argument(0))
	q := m.query("count", call.Argument(1))
	project := m.w.Project()
	return m.async("count", func() (any, error) { return m.st.Count(project, coll, q) })
}
