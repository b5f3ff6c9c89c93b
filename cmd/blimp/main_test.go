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
				broken + ": 2 projects, 1 endpoints, 1 errors",
			},
		},
		{
			name:   "check several roots, one broken",
			args:   []string{"check", "../../projects", broken},
			want:   1,
			stdout: []string{"0 errors", "1 errors"},
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
			for _, want := range tc.stderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("blimp %s: got stderr\n%s\nwant it to contain %q", strings.Join(tc.args, " "), stderr.String(), want)
				}
			}
		})
	}
}
