package runtime

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dop251/goja"

	"github.com/blimp/blimp/endpoints"
)

// nodeCore are the Node core modules handlers may require (from goja_nodejs).
var nodeCore = map[string]bool{"buffer": true, "url": true, "node:buffer": true, "node:url": true}

// requireFrom returns the require function for modules in dir.
func (w *Worker) requireFrom(dir string) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		v, err := w.require(dir, call.Argument(0).String())
		if err != nil {
			var ex *goja.Exception
			if errors.As(err, &ex) {
				panic(ex) // the module itself threw: keep its value and stack
			}
			w.Throw(err)
		}
		return v
	}
}

// require resolves spec as seen from a module in dir and returns its exports.
func (w *Worker) require(dir, spec string) (goja.Value, error) {
	switch {
	case strings.HasPrefix(spec, "sdk/"):
		return w.native(spec)
	case spec == "." || spec == ".." || strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../"):
		path := filepath.Join(dir, filepath.FromSlash(spec))
		if rel, err := filepath.Rel(w.dir, path); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("require(%q): %s is outside project %q; a module may only import files of its own project", spec, path, w.project)
		}
		file, err := endpoints.ResolveModule(path)
		if err != nil {
			return nil, fmt.Errorf("require(%q) from %s: %v", spec, dir, err)
		}
		if err := endpoints.Inside(w.dir, file); err != nil {
			return nil, fmt.Errorf("require(%q): %v", spec, err)
		}
		m, err := w.execModule(file, true)
		if err != nil {
			return nil, err
		}
		return m.Get("exports"), nil
	case nodeCore[spec]:
		return w.nodeReq(goja.Undefined(), w.rt.ToValue(spec))
	case filepath.IsAbs(spec):
		return nil, fmt.Errorf("require(%q): absolute paths are not allowed; import files of the project with a relative path such as \"./lib\"", spec)
	default:
		return nil, fmt.Errorf("cannot find module %q: handlers import relative paths inside their project (\"./lib\"), sdk modules (%s) and the Node core modules buffer and url", spec, strings.Join(w.nativeNames(), ", "))
	}
}

// native returns the exports of the native module name, instantiating it once per worker.
func (w *Worker) native(name string) (goja.Value, error) {
	if m, ok := w.natives[name]; ok {
		return m, nil
	}
	mod, ok := w.opts.Modules[name]
	if !ok {
		return nil, fmt.Errorf("unknown module %q: the sdk modules are %s", name, strings.Join(w.nativeNames(), ", "))
	}
	exports, err := mod(w)
	if err != nil {
		return nil, fmt.Errorf("module %q: %w", name, err)
	}
	nameNatives(w.rt, exports, 2)
	w.natives[name] = exports
	return exports, nil
}

func (w *Worker) nativeNames() []string {
	names := make([]string, 0, len(w.opts.Modules))
	for n := range w.opts.Modules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// execModule runs the module file and returns its module object. With cache, a
// module already loaded is returned as is (CommonJS semantics, cycles included);
// without, the body runs afresh (Dirigible's script-style handlers).
func (w *Worker) execModule(file string, cache bool) (*goja.Object, error) {
	if m, ok := w.modules[file]; ok && cache {
		return m, nil
	}
	var prog *goja.Program
	var err error
	w.unmetered(func() { prog, err = w.opts.Loader.Load(file) })
	if err != nil {
		return nil, err
	}
	rt := w.rt
	module := rt.NewObject()
	exports := rt.NewObject()
	module.Set("exports", exports)
	module.Set("id", file)
	if cache {
		w.modules[file] = module
	}
	fail := func(err error) (*goja.Object, error) {
		if cache {
			delete(w.modules, file)
		}
		return nil, err
	}
	fnv, err := rt.RunProgram(prog)
	if err != nil {
		return fail(err)
	}
	fn, ok := goja.AssertFunction(fnv)
	if !ok {
		return fail(&endpoints.Error{File: file, Err: errors.New("module did not compile to a function")})
	}
	dir := filepath.Dir(file)
	if _, err := fn(exports, exports, rt.ToValue(w.requireFrom(dir)), module, rt.ToValue(file), rt.ToValue(dir)); err != nil {
		return fail(err)
	}
	return module, nil
}
