package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blimp/blimp"
)

func TestDefaultsMatchRepositoryFile(t *testing.T) {
	file, err := os.ReadFile("../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != string(blimp.DefaultConfig) {
		t.Fatal("embedded defaults differ from config.toml")
	}
	c := Default()
	if c.Server.Addr != ":8080" || c.Projects.Root != "./projects" || c.Runtime.EventTimeout.Duration != 2*time.Second || c.Runtime.Workers != 1 {
		t.Fatalf("got %+v, want the documented defaults", c)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, toml string
		wantErr    string
		check      func(Config) bool
	}{
		{name: "override", toml: "[server]\naddr = \"127.0.0.1:9\"\n[runtime]\nevent_timeout = \"250ms\"",
			check: func(c Config) bool {
				return c.Server.Addr == "127.0.0.1:9" && c.Runtime.EventTimeout.Duration == 250*time.Millisecond && c.Runtime.Workers == 1
			}},
		{name: "empty keeps defaults", toml: "", check: func(c Config) bool { return c.Server.Addr == ":8080" }},
		{name: "unknown key", toml: "[server]\nadr = \":1\"", wantErr: `unknown key server.adr`},
		{name: "unknown section", toml: "[serverx]\naddr = \":1\"", wantErr: `unknown key serverx`},
		{name: "syntax", toml: "[server]\naddr = = 1", wantErr: "cfg.toml:2:"},
		{name: "wrong type", toml: "[runtime]\nworkers = \"two\"", wantErr: "workers"},
		{name: "bad duration", toml: "[runtime]\nevent_timeout = \"soon\"", wantErr: `"soon" is not a duration`},
		{name: "zero workers", toml: "[runtime]\nworkers = 0", wantErr: "runtime.workers: must be between 1 and 256"},
		{name: "ping not below pong", toml: "[server]\nping_interval = \"90s\"", wantErr: "server.ping_interval"},
		{name: "bad origin", toml: "[server]\nallowed_origins = [\"example.com\"]", wantErr: `"example.com" is not an origin`},
		{name: "star origin", toml: "[server]\nallowed_origins = [\"*\"]", check: func(c Config) bool { return c.Server.AllowedOrigins[0] == "*" }},
		{name: "bad level", toml: "[log]\nlevel = \"loud\"", wantErr: "log.level"},
		{name: "empty root", toml: "[projects]\nroot = \"\"", wantErr: "projects.root: must not be empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("cfg.toml", []byte(tc.toml), Default())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !tc.check(c) {
				t.Fatalf("got %+v, not what the TOML says", c)
			}
		})
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blimp.toml")
	if err := os.WriteFile(path, []byte("[data]\npath = \"/tmp/x.db\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil || c.Data.Path != "/tmp/x.db" || c.Server.Addr != ":8080" {
		t.Fatalf("got %+v, %v; want data.path overridden and defaults kept", c.Data, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Fatalf("got %v, want an error naming the missing file", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(string(blimp.DefaultConfig))
	f.Add("[server]\naddr = \":1\"\n")
	f.Add("[runtime]\nevent_timeout = \"-1s\"\nworkers = 300\n")
	f.Add("[[server]]\n")
	f.Add("x = 1\n[log]\nlevel = 3")
	f.Fuzz(func(t *testing.T, data string) {
		c, err := Parse("fuzz.toml", []byte(data), Default())
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if verr := c.Validate(); verr != nil {
			t.Fatalf("Parse accepted a config that does not validate: %v", verr)
		}
	})
}
