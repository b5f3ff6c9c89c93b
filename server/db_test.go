package server

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
)

// dbHandler runs store calls named by JSON messages and replies with the result.
const dbHandler = `
import { store } from "sdk/db";
export async function onMessage(m) {
  const { op, args } = JSON.parse(m);
  try {
    return { ok: await store[op](...args) };
  } catch (e) {
    return { error: String(e.message || e) };
  }
}`

func dbRoot(t *testing.T) string {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"a/db.websocket": `{"handler": "a/db", "endpoint": "a"}`,
		"a/db.js":        dbHandler,
		"b/db.websocket": `{"handler": "b/db", "endpoint": "b"}`,
		"b/db.js":        dbHandler,
	})
	return root
}

func TestStoreFromHandlers(t *testing.T) {
	root := dbRoot(t)
	dataPath := filepath.Join(t.TempDir(), "blimp.db")
	s := start(t, root, func(c *config.Config) { c.Data.Path = dataPath })
	a := s.dial(t, "a")
	for _, tc := range []struct{ name, msg, want string }{
		{"save", `{"op":"save","args":["scores",{"username":"ada","data":{"score":7}}]}`, `{"ok":"`},
		{"save2", `{"op":"save","args":["scores",{"username":"bob","data":{"score":3}}]}`, `{"ok":"`},
		{"count", `{"op":"count","args":["scores",{"filters":[{"field":"data.score","operator":">","value":5}]}]}`, `{"ok":1}`},
		{"list sorted", `{"op":"list","args":["scores",{"sortField":"data.score","sortOrder":"desc","limit":1}]}`, `"username":"ada"`},
		{"group", `{"op":"list","args":["scores",{"groupBy":"username"}]}`, `{"value":"ada","count":1}`},
		{"bad operator", `{"op":"list","args":["scores",{"filters":[{"field":"x","operator":"~","value":1}]}]}`, `unknown operator`},
		{"bad limit", `{"op":"count","args":["scores",{"limit":"ten"}]}`, `limit`},
		{"doc not object", `{"op":"save","args":["scores",[1,2]]}`, `doc must be an object`},
		{"missing", `{"op":"get","args":["scores","0000000000000000"]}`, `{"ok":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.Ask(tc.msg); !strings.Contains(got, tc.want) {
				t.Fatalf("got %s, want it to contain %s", got, tc.want)
			}
		})
	}
	got := a.Ask(`{"op":"list","args":["scores",{"limit":1}]}`)
	id := between(got, `"id":"`, `"`)
	if g := a.Ask(`{"op":"get","args":["scores","` + id + `"]}`); !strings.Contains(g, `"created":`) || !strings.Contains(g, `"username":"ada"`) {
		t.Fatalf("get: got %s, want the saved document with created", g)
	}

	// Project b has its own collections: it sees none of a's documents.
	b := s.dial(t, "b")
	if got := b.Ask(`{"op":"count","args":["scores",{}]}`); got != `{"ok":0}` {
		t.Fatalf("project b counted a's documents: got %s, want 0", got)
	}
	if got := a.Ask(`{"op":"remove","args":["scores","` + id + `"]}`); got != `{"ok":true}` {
		t.Fatalf("remove: got %s", got)
	}
}

func TestStorePersistsAcrossRestart(t *testing.T) {
	root := dbRoot(t)
	dataPath := filepath.Join(t.TempDir(), "blimp.db")
	tune := func(c *config.Config) { c.Data.Path = dataPath }

	first := start(t, root, tune)
	first.dial(t, "a").Ask(`{"op":"save","args":["notes",{"text":"kept"}]}`)
	cfg := config.Default()
	cfg.Data.Path = dataPath
	cfg.Projects.Root = root
	if _, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("opening a store in use: got %v, want an error saying it is locked", err)
	}
	first.stop(t)

	second := start(t, root, tune)
	if got := second.dial(t, "a").Ask(`{"op":"list","args":["notes",{}]}`); !strings.Contains(got, `"text":"kept"`) {
		t.Fatalf("after restart: got %s, want the saved note", got)
	}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}
