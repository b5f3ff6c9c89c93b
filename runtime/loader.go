package runtime

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
	"github.com/evanw/esbuild/pkg/api"

	"github.com/blimp/blimp/endpoints"
)

// Loader turns module files into compiled goja programs: each file is transformed on
// its own by esbuild (ES modules and TypeScript to CommonJS, newer syntax lowered to
// what goja runs, with an inline source map) and compiled once per content. A
// program is immutable and shared by every worker and generation that loads the
// same file content, so a reload only recompiles the files that changed.
// The zero value is ready to use; a Loader is safe for concurrent use.
type Loader struct {
	mu    sync.Mutex // guards cache
	cache map[string]compiled
}

type compiled struct {
	sum  [sha256.Size]byte
	prog *goja.Program
}

// moduleWrapperStart and moduleWrapperEnd turn a CommonJS body into a function.
// The start stays on the first line so that line numbers are unchanged.
const (
	moduleWrapperStart = "(function(exports,require,module,__filename,__dirname){"
	moduleWrapperEnd   = "\n})"
)

// Load reads and compiles the module at path. Problems are *endpoints.Error values
// naming the file, line and column.
func (l *Loader) Load(path string) (*goja.Program, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &endpoints.Error{File: path, Err: err}
	}
	sum := sha256.Sum256(src)
	l.mu.Lock()
	c, ok := l.cache[path]
	l.mu.Unlock()
	if ok && c.sum == sum {
		return c.prog, nil
	}
	prog, err := compile(path, src)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.cache == nil {
		l.cache = map[string]compiled{}
	}
	l.cache[path] = compiled{sum: sum, prog: prog}
	l.mu.Unlock()
	return prog, nil
}

// esTarget is the newest syntax goja runs natively; esbuild lowers anything newer
// (object spread, optional catch binding, class fields, `for await`, ...).
var esTarget = api.ES2017

func compile(path string, src []byte) (*goja.Program, error) {
	code := string(src)
	if filepath.Ext(path) != ".json" {
		loader := api.LoaderJS
		if filepath.Ext(path) == ".ts" {
			loader = api.LoaderTS
		}
		// esbuild treats a file named *.mjs as Node's ESM: a default import would then
		// be the importee's whole module.exports. Every module here is compiled on its
		// own to CommonJS with __esModule set, so .mjs gets the same interop as .js.
		sourcefile := filepath.Base(path)
		if filepath.Ext(sourcefile) == ".mjs" {
			sourcefile = strings.TrimSuffix(sourcefile, ".mjs") + ".js"
		}
		res := api.Transform(code, api.TransformOptions{
			Loader:     loader,
			Format:     api.FormatCommonJS,
			Target:     esTarget,
			Platform:   api.PlatformNeutral,
			Sourcemap:  api.SourceMapExternal,
			Sourcefile: sourcefile,
			LogLevel:   api.LogLevelSilent,
		})
		if len(res.Errors) > 0 {
			return nil, esbuildError(path, res.Errors)
		}
		sm, err := adjustSourceMap(res.Map, filepath.Base(path), len(moduleWrapperStart))
		if err != nil {
			return nil, &endpoints.Error{File: path, Err: err}
		}
		code = string(res.Code) + "\n//# sourceMappingURL=data:application/json;base64," + base64.StdEncoding.EncodeToString(sm)
	} else {
		code = strings.TrimPrefix(code, "\ufeff") // as Node does
		if err := checkJSON(path, []byte(code)); err != nil {
			return nil, err
		}
		// JSON.parse, not an object literal: a "__proto__" key is then a key.
		quoted, _ := json.Marshal(code) // a JSON string is a JavaScript string literal
		code = "module.exports = JSON.parse(" + string(quoted) + ");"
	}
	ast, err := goja.Parse(programName(path), moduleWrapperStart+code+moduleWrapperEnd, parser.WithSourceMapLoader(noExternalSourceMaps))
	if err != nil {
		return nil, parseError(path, err)
	}
	prog, err := goja.CompileAST(ast, false)
	if err != nil {
		return nil, parseError(path, err)
	}
	return prog, nil
}

// checkJSON reports a .json module that is not JSON as an *endpoints.Error at the
// line and column of the problem in the file itself (the JavaScript parser would
// report it in the wrapper the module is compiled in).
func checkJSON(path string, src []byte) error {
	if json.Valid(src) {
		return nil
	}
	err := json.Unmarshal(src, new(json.RawMessage))
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return &endpoints.Error{File: path, Err: fmt.Errorf("invalid JSON: %v", err)}
	}
	// Offset counts the bytes read, the bad one included. At the end of the input,
	// point just past the last token rather than at trailing blank lines.
	at := max(int(se.Offset)-1, 0)
	if strings.HasPrefix(se.Error(), "unexpected end") {
		at = len(bytes.TrimRight(src, " \t\r\n"))
	}
	line := 1 + bytes.Count(src[:at], []byte("\n"))
	col := 1 + utf8.RuneCount(src[bytes.LastIndexByte(src[:at], '\n')+1:at])
	return &endpoints.Error{File: path, Line: line, Col: col, Err: fmt.Errorf("invalid JSON: %s", se.Error())}
}

// programName is the name goja compiles the module at path under. goja resolves
// source-map sources against it as a URL, so it is one: a space, '#', '?' or '%' in
// the path is escaped (else "my projects" would read "my%20projects" and a '#'
// would cut the path short). fileName turns it back into the path.
func programName(path string) string {
	return (&url.URL{Path: filepath.ToSlash(path)}).EscapedPath()
}

// fileName is the path of a program name, as goja reports it in positions.
func fileName(name string) string {
	if p, err := url.PathUnescape(name); err == nil {
		return filepath.FromSlash(p)
	}
	return name
}

func noExternalSourceMaps(path string) ([]byte, error) {
	return nil, fmt.Errorf("external source maps are not loaded (%s)", path)
}

// esbuildError reports the first error of a transform, with its position, and counts
// the rest.
func esbuildError(path string, msgs []api.Message) error {
	m := msgs[0]
	text := m.Text
	if len(msgs) > 1 {
		text = fmt.Sprintf("%s (and %d more errors)", text, len(msgs)-1)
	}
	e := &endpoints.Error{File: path, Err: fmt.Errorf("syntax error: %s", text)}
	if m.Location != nil {
		e.Line, e.Col = m.Location.Line, m.Location.Column+1
	}
	return e
}

// parseError converts a goja parse or compile error into an *endpoints.Error.
func parseError(path string, err error) error {
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		p := list[0].Position
		return &endpoints.Error{File: path, Line: p.Line, Col: p.Column, Err: fmt.Errorf("syntax error: %s", list[0].Message)}
	}
	var cse *goja.CompilerSyntaxError
	if errors.As(err, &cse) {
		return &endpoints.Error{File: path, Err: fmt.Errorf("syntax error: %s", cse.Error())}
	}
	return &endpoints.Error{File: path, Err: err}
}
