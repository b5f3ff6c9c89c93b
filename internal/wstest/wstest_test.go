package wstest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// echo serves a WebSocket that sends every message back as it came, and closes
// with 4000 "bye" when asked to "close".
func echo(t *testing.T) string {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			kind, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if string(data) == "close" {
				ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "bye"), time.Now().Add(closeWait))
				return
			}
			if err := ws.WriteMessage(kind, data); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestClient(t *testing.T) {
	c := Dial(t, echo(t), nil, nil)
	if got := c.Ask("hi"); got != "hi" {
		t.Fatalf("Ask: got %q, want hi", got)
	}
	c.Send("again")
	c.Expect("again")
	t.Run("binary in a subtest", func(t *testing.T) {
		c := c.On(t)
		c.SendBinary([]byte{1, 2})
		if kind, got := c.Read(); kind != websocket.BinaryMessage || got != "\x01\x02" {
			t.Fatalf("Read: got %q (type %d), want binary 0102", got, kind)
		}
	})
	c.Send("close")
	if code, reason := c.ExpectClose(); code != 4000 || reason != "bye" {
		t.Fatalf("ExpectClose: got %d %q, want 4000 bye", code, reason)
	}
	if q := Dial(t, echo(t), nil, nil); !q.Quiet(50 * time.Millisecond) {
		t.Fatal("Quiet: got a message from a silent server")
	}
}

func TestLog(t *testing.T) {
	var l Log
	go func() {
		for i := range 3 {
			fmt.Fprintf(&l, "line=%d level=INFO\n", i)
		}
	}()
	if got := l.WaitForLine(t, "level=INFO", "line=2"); got != "line=2 level=INFO" {
		t.Fatalf("WaitForLine: got %q, want line=2 level=INFO", got)
	}
	l.WaitFor(t, "line=1")
}

func TestWriteFiles(t *testing.T) {
	root := t.TempDir()
	WriteFiles(t, root, map[string]string{"a/b.txt": "x"})
	if b, err := os.ReadFile(filepath.Join(root, "a", "b.txt")); err != nil || string(b) != "x" {
		t.Fatalf("got %q, %v, want x", b, err)
	}
}

func TestEventually(t *testing.T) {
	calls := 0
	Eventually(t, func() string {
		if calls++; calls < 3 {
			return "not yet"
		}
		return ""
	})
	if calls != 3 {
		t.Fatalf("got %d calls, want 3", calls)
	}
}
