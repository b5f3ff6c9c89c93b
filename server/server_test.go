package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

func TestEchoStarter(t *testing.T) {
	s := start(t, "../projects", nil)
	c := s.dial(t, "echo")
	c.send("hello")
	c.expect("hello")
	if err := c.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	kind, data := c.read()
	if kind != websocket.BinaryMessage || data != "\x01\x02\x03" {
		t.Fatalf("got %q (type %d), want binary 010203", data, kind)
	}
}

func TestChatStarterBroadcasts(t *testing.T) {
	s := start(t, "../projects", nil)
	a := s.dial(t, "chat?name=ada")
	a.read() // its own join
	b := s.dial(t, "chat?name=bob")
	_, joined := a.read()
	if !strings.Contains(joined, `"name":"bob"`) {
		t.Fatalf("got %s, want bob's join", joined)
	}
	b.read() // its own join
	b.send("hi all")
	for _, c := range []*client{a, b} {
		_, got := c.read()
		if !strings.Contains(got, `"text":"hi all"`) || !strings.Contains(got, `"name":"bob"`) {
			t.Fatalf("got %s, want bob's message", got)
		}
	}
}

func TestStarterInfo(t *testing.T) {
	s := start(t, "../projects", nil)
	s.dial(t, "chat?name=ada").read()
	resp, err := http.Get("http://" + s.addr + "/api/starter/info")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"chat":1,"echo":0}` {
		t.Fatalf("got %s, want one chat connection", body)
	}
}

func TestHTTPStatuses(t *testing.T) {
	s := start(t, "../projects", nil)
	for _, tc := range []struct {
		path string
		want int
	}{
		{ServicePath + "echo", http.StatusBadRequest},
		{ServicePathAlias + "echo", http.StatusBadRequest},
		{ServicePath + "nope", http.StatusNotFound},
		{"/elsewhere", http.StatusNotFound},
	} {
		resp, err := http.Get("http://" + s.addr + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s: got %d, want %d", tc.path, resp.StatusCode, tc.want)
		}
	}
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+s.addr+ServicePath+"nope", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("upgrade to unknown endpoint: got %v, want HTTP 404", err)
	}
	c := &client{t: t}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.addr+ServicePathAlias+"echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c.ws = ws
	c.send("alias")
	c.expect("alias")
}
