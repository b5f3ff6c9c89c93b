package server

import (
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
)

// Bad input never takes the server down: a broken project is reported, naming the
// file (and line:column for JavaScript), in the log and by Check, and every other
// project keeps serving. Each case puts one broken project, "broken", beside a good
// one, "app", in a fresh projects root.

// goodProject is served beside every broken one; it must keep echoing.
var goodProject = map[string]string{
	"app/echo.websocket": `{"handler": "app/echo", "endpoint": "echo"}`,
	"app/echo.js":        "export function onMessage(m) { return m; }\n",
}

// checkConfig is the configuration Check runs with in these tests.
func checkConfig() config.Config {
	cfg := config.Default()
	cfg.Runtime.EventTimeout.Duration = 300 * time.Millisecond
	return cfg
}

// badRoot writes the good project and files into a fresh projects root.
func badRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	wstest.WriteFiles(t, root, goodProject)
	wstest.WriteFiles(t, root, files)
	return root
}

// expectEcho checks that the good project still serves.
func expectEcho(t *testing.T, s *testServer) {
	t.Helper()
	c := s.dial(t, "echo")
	c.Send("still serving")
	c.Expect("still serving")
}

// expectNotServed checks that endpoint answers 404 to an upgrade.
func expectNotServed(t *testing.T, s *testServer, endpoint string) {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(s.url(endpoint), nil)
	if err == nil {
		ws.Close()
		t.Fatalf("dial %s: connected, want HTTP 404", endpoint)
	}
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("dial %s: got %v, want HTTP 404", endpoint, err)
	}
}

func TestBrokenProjectIsReported(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		// want are substrings of one error: the file, its position, what is wrong.
		// They are checked in Check's errors and in the server log, so they hold no
		// characters the log quotes (").
		want []string
		// once are substrings that must occur exactly once in that error.
		once []string
	}{
		{
			name: "malformed descriptor JSON",
			files: map[string]string{"broken/x.websocket": `{
  "handler": "broken/x",
  "endpoint": "broken"
  "description": "a comma is missing above"
}`},
			want: []string{"broken/x.websocket:4:3: invalid JSON", "after object key:value pair"},
		},
		{
			name:  "missing handler",
			files: map[string]string{"broken/x.websocket": `{"endpoint": "broken"}`},
			want:  []string{"broken/x.websocket: missing", "handler"},
		},
		{
			name: "missing endpoint",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x"}`,
				"broken/x.js":        "export function onMessage() {}\n",
			},
			want: []string{"broken/x.websocket: missing", "endpoint"},
		},
		{
			name: "endpoint with a slash",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x", "endpoint": "a/b"}`,
				"broken/x.js":        "export function onMessage() {}\n",
			},
			want: []string{"broken/x.websocket:1:37: endpoint", "a/b", "must be one path segment"},
		},
		{
			name: "endpoint taken by another project",
			files: map[string]string{
				"broken/dup.websocket": `{"handler": "broken/x", "endpoint": "echo"}`,
				"broken/ok.websocket":  `{"handler": "broken/x", "endpoint": "broken"}`,
				"broken/x.js":          "export function onMessage() {}\n",
			},
			want: []string{"broken/dup.websocket: endpoint", "echo", "is already served by project", "app/echo.websocket"},
		},
		{
			name:  "handler file does not exist",
			files: map[string]string{"broken/x.websocket": `{"handler": "broken/nope", "endpoint": "broken"}`},
			want:  []string{"broken/x.websocket: handler", "broken/nope", "no such module: tried nope with no extension, .js, .mjs, .ts"},
		},
		{
			name: "handler outside its project",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "app/echo", "endpoint": "broken"}`,
			},
			want: []string{"broken/x.websocket: handler", "app/echo", "is outside project"},
		},
		{
			name: "JavaScript syntax error",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`,
				"broken/x.js":        "export function onMessage(m) {\n  return m +;\n}\n",
			},
			want: []string{"broken/x.js:2:13: syntax error: Unexpected"},
		},
		{
			name: "TypeScript syntax error",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`,
				"broken/x.ts":        "interface Shape {\n  size: number;\n}\nconst s: Shape = { size: 1 ;\nexport function onMessage() { return s; }\n",
			},
			want: []string{"broken/x.ts:4:28: syntax error: Expected"},
		},
		{
			name: "syntax error in an imported module",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`,
				"broken/x.js":        "import { f } from \"./lib/f\";\nexport function onMessage() { return f(); }\n",
				"broken/lib/f.js":    "export function f() {\n  return [1, 2;\n}\n",
			},
			want: []string{"broken/x.js:1:19:", "broken/lib/f.js:2:15: syntax error: Expected"},
		},
		{
			name: "handler throws while loading",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`,
				"broken/x.ts":        "type Config = { ready: boolean };\nconst config: Config = { ready: false };\nif (!config.ready) {\n  throw new Error(\"not configured\");\n}\nexport function onMessage() {}\n",
			},
			want: []string{"broken/x.ts:4:9: Error: not configured"},
		},
		{
			name: "endless loop while loading",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`,
				"broken/x.js":        "let n = 0;\nwhile (true) { n++; }\nexport function onMessage() {}\n",
			},
			want: []string{"broken/x.js:2:", "exceeded the time limit"},
		},
		{
			name: "require of another project",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`,
				"broken/x.js":        "const echo = require(\"../app/echo\");\nexports.onMessage = echo.onMessage;\n",
			},
			want: []string{"broken/x.js:1:14:", "../app/echo", "is outside project"},
		},
		{
			name: "import of another project",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`,
				"broken/x.js":        "// an ES import leaving the project\nimport { onMessage as echo } from \"../app/echo\";\nexport const onMessage = echo;\n",
			},
			want: []string{"broken/x.js:2:", "../app/echo", "is outside project"},
		},
		{
			name: "require of an absolute path",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`,
				"broken/x.js":        "const passwd = require(\"/etc/passwd\");\nexports.onMessage = () => passwd;\n",
			},
			want: []string{"broken/x.js:1:16:", "/etc/passwd", "absolute paths are not allowed"},
		},
		{
			name: "unknown sdk module",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`,
				"broken/x.js":        "import { foo } from \"sdk/foo\";\nexport function onMessage() { return foo(); }\n",
			},
			want: []string{"broken/x.js:1:21:", "unknown module", "sdk/foo", "the sdk modules are", "sdk/net"},
		},
		{
			name: "unknown bare module",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`,
				"broken/x.js":        "\nconst _ = require(\"lodash\");\nexports.onMessage = (m) => _.upperCase(m);\n",
			},
			want: []string{"broken/x.js:2:11:", "cannot find module", "lodash", "relative paths inside their project"},
		},
		{
			name: "event export that is not a function",
			files: map[string]string{
				"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`,
				"broken/x.js":        "export const onMessage = \"hello\";\n",
			},
			want: []string{"broken/x.js: export onMessage must be a function, got hello"},
			once: []string{"broken/x.js"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := badRoot(t, tc.files)

			res := Check(checkConfig(), root)
			if res.Projects != 2 || res.Endpoints != 1 {
				t.Errorf("Check: got %d projects and %d endpoints, want 2 and 1 (the good echo)", res.Projects, res.Endpoints)
			}
			if !anyContains(res.Errors, tc.want...) {
				t.Errorf("Check: got errors %q, want one containing all of %q", res.Errors, tc.want)
			}
			for _, err := range res.Errors {
				for _, sub := range tc.once {
					if n := strings.Count(err.Error(), sub); n != 1 {
						t.Errorf("Check: got %q with %q %d times, want once", err, sub, n)
					}
				}
			}

			s := start(t, root, func(cfg *config.Config) { cfg.Runtime.EventTimeout.Duration = 300 * time.Millisecond })
			s.log.WaitForLine(t, append([]string{"level=ERROR", `msg="project not loaded"`, "project=broken"}, tc.want...)...)
			expectEcho(t, s)
			expectNotServed(t, s, "broken")
		})
	}
}

// anyContains reports whether one of errs contains every one of substrs.
func anyContains(errs []error, substrs ...string) bool {
	for _, err := range errs {
		if wstest.ContainsAll(err.Error(), substrs...) {
			return true
		}
	}
	return false
}

// TestScriptErrorsAreLogged covers handlers that load but fail while serving: the
// error is logged with the stack mapped to the original file, line and column, and
// both the failing endpoint and the other project go on serving.
func TestScriptErrorsAreLogged(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		// reply is what the handler answers to "boom", if anything.
		reply string
		// log are substrings of one log line, after "boom" was sent to "broken".
		log []string
	}{
		{
			name: "throw in onMessage",
			files: map[string]string{
				"broken/x.ts": `interface Message {
  text: string;
}

function check(m: Message): string {
  if (m.text === "boom") {
    throw new Error("thrown in onMessage");
  }
  return m.text;
}

export function onMessage(text: string): string {
  return "ok " + check({ text });
}
`,
			},
			log: []string{
				"in=onmessage", `error="Error: thrown in onMessage"`, "at=", "broken/x.ts:7:11", "endpoint=broken",
				`stack="at check (`, "broken/x.ts:7:11)\\nat onMessage (", "broken/x.ts:13:18)",
			},
		},
		{
			name: "rejected promise of an async onMessage",
			files: map[string]string{
				"broken/x.js": `async function lookup(m) {
  await new Promise((resolve) => setTimeout(resolve, 5));
  if (m === "boom") {
    throw new TypeError("rejected in async");
  }
  return m;
}

export async function onMessage(m) {
  return "ok " + (await lookup(m));
}
`,
			},
			log: []string{"in=onmessage", `error="TypeError: rejected in async"`, "at=", "broken/x.js:4:11", "endpoint=broken"},
		},
		{
			name: "promise rejected with nobody to catch it",
			files: map[string]string{
				"broken/x.js": `export function onMessage(m) {
  if (m === "boom") {
    Promise.reject(new RangeError("nobody catches this"));
  }
  return "ok " + m;
}
`,
			},
			reply: "ok boom",
			log:   []string{`in="unhandled rejection"`, `error="RangeError: nobody catches this"`, "at=", "broken/x.js:3:20", "endpoint=broken"},
		},
		{
			name: "throw in a timer",
			files: map[string]string{
				"broken/x.js": `export function onMessage(m) {
  if (m === "boom") {
    setTimeout(() => {
      null.field = 1;
    }, 1);
  }
  return "ok " + m;
}
`,
			},
			reply: "ok boom",
			log:   []string{"in=timer", `error="TypeError: Cannot convert undefined or null to object"`, "at=", "broken/x.js:4:12", "endpoint=broken"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`}
			for k, v := range tc.files {
				files[k] = v
			}
			root := badRoot(t, files)
			if res := Check(checkConfig(), root); len(res.Errors) != 0 || res.Endpoints != 2 {
				t.Errorf("Check: got %d endpoints and errors %q, want 2 endpoints and no errors", res.Endpoints, res.Errors)
			}
			s := start(t, root, nil)
			c := s.dial(t, "broken")
			c.Send("boom")
			if tc.reply != "" {
				c.Expect(tc.reply)
			}
			s.log.WaitForLine(t, append([]string{"level=ERROR", `msg="script error"`, "project=broken"}, tc.log...)...)
			c.Send("fine")
			c.Expect("ok fine")
			expectEcho(t, s)
		})
	}
}

// TestCheckReportsEveryProblem runs Check over a root with several broken projects
// and files: every problem is listed, not just the first.
func TestCheckReportsEveryProblem(t *testing.T) {
	root := badRoot(t, map[string]string{
		"one/a.websocket": `{"handler": "one/a", "endpoint": "a"`,
		"one/b.websocket": `{"handler": "one/missing", "endpoint": "b"}`,
		"two/c.websocket": `{"handler": "two/c", "endpoint": "c"}`,
		"two/c.js":        "export function onMessage( {}\n",
	})
	res := Check(checkConfig(), root)
	for _, want := range [][]string{
		{"one/a.websocket:1:", "invalid JSON"},
		{"one/b.websocket", "one/missing"},
		{"two/c.js:2:1: syntax error: Expected"},
	} {
		if !anyContains(res.Errors, want...) {
			t.Errorf("got errors %q, want one containing %q", res.Errors, want)
		}
	}
	if len(res.Errors) != 3 || res.Projects != 3 || res.Endpoints != 1 {
		t.Errorf("got %d errors, %d projects, %d endpoints, want 3, 3, 1", len(res.Errors), res.Projects, res.Endpoints)
	}
}

func TestCheckWarnsAboutUnknownFields(t *testing.T) {
	root := badRoot(t, map[string]string{
		"dirigible/x.websocket": `{"handler": "dirigible/x", "endpoint": "x", "createdBy": "admin"}`,
		"dirigible/x.js":        "export function onMessage(m) { return m; }\n",
	})
	res := Check(checkConfig(), root)
	if len(res.Errors) != 0 {
		t.Errorf("got errors %q, want none", res.Errors)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `dirigible/x.websocket: unknown field "createdBy" is ignored`) {
		t.Errorf("got warnings %q, want one about createdBy", res.Warnings)
	}
}

func TestCheckMissingRoot(t *testing.T) {
	res := Check(checkConfig(), t.TempDir()+"/nope")
	if len(res.Errors) != 1 || !errors.Is(res.Errors[0], fs.ErrNotExist) || !strings.Contains(res.Errors[0].Error(), "nope") {
		t.Errorf("got errors %q, want one naming the missing root", res.Errors)
	}
}

// TestErrorPositionsInAnOddRoot checks that file names in positions survive a
// projects root whose path has a space, a '#' and a '%' (goja resolves source maps
// against file names as URLs).
func TestErrorPositionsInAnOddRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "my projects #1 100%")
	wstest.WriteFiles(t, root, goodProject)
	wstest.WriteFiles(t, root, map[string]string{
		"broken/x.websocket": `{"handler": "broken/x", "endpoint": "broken"}`,
		"broken/x.js":        "// loads, then fails\nthrow new Error(\"at load\");\n",
		"fails/y.websocket":  `{"handler": "fails/y", "endpoint": "fails"}`,
		"fails/y.ts":         "export function onMessage(m: string): string {\n  throw new Error(\"in onMessage\");\n}\n",
	})
	loadAt := filepath.Join(root, "broken", "x.js") + ":2:7: Error: at load"
	if res := Check(checkConfig(), root); !anyContains(res.Errors, loadAt) {
		t.Errorf("Check: got errors %q, want one containing %q", res.Errors, loadAt)
	}
	s := start(t, root, nil)
	s.log.WaitForLine(t, `msg="project not loaded"`, loadAt)
	c := s.dial(t, "fails")
	c.Send("x")
	s.log.WaitForLine(t, `msg="script error"`, "at=\""+filepath.Join(root, "fails", "y.ts")+":2:9\"")
	expectEcho(t, s)
}
