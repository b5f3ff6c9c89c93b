package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blimp/blimp/internal/wstest"
)

func TestCLI(t *testing.T) {
	broken := t.TempDir()
	wstest.WriteFiles(t, broken, map[string]string{
		"good/echo.websocket": `{"handler": "good/echo", "endpoint": "echo"}`,
		"good/echo.js":        "export function onMessage(m) { return m; }\n",
		"bad/x.websocket":     `{"handler": "bad/x", "endpoint": "x"}`,
		"bad/x.js":            "export function onMessage(m) {\n  return m +;\n}\n",
	})
	// problems has descriptors with several problems each, a stray descriptor in the
	// root, and a name no client can reach.
	problems := t.TempDir()
	wstest.WriteFiles(t, problems, map[string]string{
		"httpbad/a.http":      `{"path": "api/x", "handler": "httpbad/a", "methods": ["GETT"]}`,
		"httpbad/b.websocket": `{"handler":5,"endpoint":["x"]}`,
		"httpbad/c.http":      `{"path":"/z/","methods":[]}`,
		"httpbad/d.websocket": `{"handler": "httpbad/d", "endpoint": ".."}`,
		"httpbad/d.js":        "export function onMessage(m) { return m; }\n",
		"stray.websocket":     `{"handler": "httpbad/d", "endpoint": "stray"}`,
	})
	// windows has descriptors saved with a byte-order mark and CRLF line ends.
	windows := t.TempDir()
	wstest.WriteFiles(t, windows, map[string]string{
		"win/echo.websocket": "\ufeff{\r\n  \"handler\": \"win/echo\",\r\n  \"endpoint\": \"echo\"\r\n}\r\n",
		"win/info.http":      "\ufeff{\"path\": \"/info\", \"handler\": \"win/info\"}",
		"win/echo.js":        "export function onMessage(m) { return m; }\n",
		"win/info.js":        "export function onRequest() { return \"hi\"; }\n",
		"win/bad.websocket":  "\ufeff{\r\n  \"handler\": \"win/echo\"\r\n  \"endpoint\": \"bad\"\r\n}\r\n",
	})
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.toml")
	wstest.WriteFiles(t, dir, map[string]string{
		"typo.toml":   "[server]\nadrr = \":9090\"\n",
		"syntax.toml": "[server]\naddr = \":9090\n",
		"range.toml":  "[runtime]\nworkers = 0\n",
	})

	for _, tc := range []struct {
		name string
		args []string
		want int
		// stdout and stderr are substrings of each output.
		stdout, stderr []string
		// lines, if set, are the prefixes every line of stdout starts with one of.
		lines []string
	}{
		{
			name:   "check the starter projects",
			args:   []string{"check", "../../projects"},
			want:   0,
			stdout: []string{"../../projects: ", " 0 errors"},
		},
		{
			name:   "check the starter projects with --projects",
			args:   []string{"check", "--projects", "../../projects"},
			want:   0,
			stdout: []string{"../../projects: ", " 0 errors"},
		},
		{
			name: "check a broken root",
			args: []string{"check", broken},
			want: 1,
			stdout: []string{
				"error: " + filepath.Join(broken, "bad", "x.js") + ":2:13: syntax error: Unexpected",
				broken + ": 2 projects, 1 endpoint, 1 error, 0 warnings\n",
			},
		},
		{
			name:   "check several roots, one broken",
			args:   []string{"check", "../../projects", broken},
			want:   1,
			stdout: []string{"0 errors", ", 1 error, "},
		},
		{
			name: "check descriptors with several problems each",
			args: []string{"check", problems},
			want: 1,
			stdout: []string{
				"error: " + filepath.Join(problems, "httpbad", "a.http") + `:1:10: path "api/x" must be absolute`,
				"error: " + filepath.Join(problems, "httpbad", "a.http") + `:1:54: "methods": "GETT" is not one of`,
				"error: " + filepath.Join(problems, "httpbad", "b.websocket") + `:1:25: "endpoint" must be a string`,
				"error: " + filepath.Join(problems, "httpbad", "b.websocket") + `:1:12: "handler" must be a string`,
				"error: " + filepath.Join(problems, "httpbad", "c.http") + `: missing "handler"`,
				"error: " + filepath.Join(problems, "httpbad", "c.http") + `:1:25: "methods" must be a non-empty array`,
				"error: " + filepath.Join(problems, "httpbad", "d.websocket") + `:1:38: endpoint ".." cannot be reached`,
				"warning: " + filepath.Join(problems, "stray.websocket") + ": not served: a descriptor directly in the projects root belongs to no project",
				problems + ": 1 project, 0 endpoints, 8 errors, 1 warning\n",
			},
			lines: []string{"error: " + filepath.Join(problems, "httpbad") + string(filepath.Separator), "warning: " + problems, problems + ": "},
		},
		{
			name: "check descriptors with byte-order marks",
			args: []string{"check", windows},
			want: 1,
			stdout: []string{
				"error: " + filepath.Join(windows, "win", "bad.websocket") + ":3:3: invalid JSON",
				windows + ": 1 project, 0 endpoints, 1 error, 0 warnings\n",
			},
			lines: []string{"error: " + filepath.Join(windows, "win", "bad.websocket") + ":3:3: ", windows + ": "},
		},
		{
			name:   "check a project folder",
			args:   []string{"check", filepath.Join(problems, "httpbad")},
			want:   1,
			stdout: []string{"error: no projects under " + filepath.Join(problems, "httpbad"), "looks like a project folder: give its parent, " + problems + ", as the projects root instead", ": 0 projects, 0 endpoints, 1 error, 0 warnings\n"},
		},
		{
			name:   "check an empty root",
			args:   []string{"check", dir},
			want:   1,
			stdout: []string{"error: no projects under " + dir + ": a projects root holds one folder per project"},
		},
		{
			name:   "check a missing root",
			args:   []string{"check", filepath.Join(dir, "nope")},
			want:   1,
			stdout: []string{"error: projects root:", "nope"},
		},
		{
			name:   "version",
			args:   []string{"version"},
			want:   0,
			stdout: []string{"blimp "},
		},
		{
			name:   "help",
			args:   []string{"help"},
			want:   0,
			stdout: []string{"blimp run", "blimp check", "blimp version"},
		},
		{
			name:   "no command",
			args:   nil,
			want:   2,
			stderr: []string{"Usage:", "-config"},
		},
		{
			name:   "unknown command",
			args:   []string{"frobnicate"},
			want:   2,
			stderr: []string{`unknown command "frobnicate"`},
		},
		{
			name:   "unknown flag",
			args:   []string{"check", "--frobnicate"},
			want:   2,
			stderr: []string{"flag provided but not defined: -frobnicate"},
		},
		{
			name:   "unknown config key in check",
			args:   []string{"check", "--config", typo, "../../projects"},
			want:   2,
			stderr: []string{typo + ": unknown key server.adrr"},
		},
		{
			name:   "unknown config key in run",
			args:   []string{"run", "--config", typo},
			want:   2,
			stderr: []string{typo + ": unknown key server.adrr"},
		},
		{
			name:   "config syntax error",
			args:   []string{"check", "--config", filepath.Join(dir, "syntax.toml"), "../../projects"},
			want:   2,
			stderr: []string{filepath.Join(dir, "syntax.toml") + ":2:"},
		},
		{
			name:   "config value out of range",
			args:   []string{"check", "--config", filepath.Join(dir, "range.toml"), "../../projects"},
			want:   2,
			stderr: []string{"runtime.workers: must be between 1 and 256, got 0"},
		},
		{
			name:   "missing config file",
			args:   []string{"check", "--config", filepath.Join(dir, "absent.toml")},
			want:   2,
			stderr: []string{"absent.toml"},
		},
		{
			name:   "run with an argument",
			args:   []string{"run", "extra"},
			want:   2,
			stderr: []string{`unexpected argument "extra"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(tc.args, &stdout, &stderr); got != tc.want {
				t.Errorf("blimp %s: got exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), got, tc.want, stdout.String(), stderr.String())
			}
			for _, want := range tc.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("blimp %s: got stdout\n%s\nwant it to contain %q", strings.Join(tc.args, " "), stdout.String(), want)
				}
			}
			for _, line := range strings.SplitAfter(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
				if tc.lines != nil && !hasAnyPrefix(line, tc.lines) {
					t.Errorf("blimp %s: got stdout line %q, want it to start with one of %q", strings.Join(tc.args, " "), line, tc.lines)
				}
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("blimp %s: got stderr\n%s\nwant it to contain %q", strings.Join(tc.args, " "), stderr.String(), want)
				}
			}
		})
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func TestPrintProblemIndentsContinuationLines(t *testing.T) {
	var out bytes.Buffer
	printProblem(&out, "error:", "a.js:1:2: first\nsecond")
	if got, want := out.String(), "error: a.js:1:2: first\n\tsecond\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
