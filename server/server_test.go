package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/internal/wstest"
)

func TestEchoStarter(t *testing.T) {
	s := start(t, "../projects", nil)
	c := s.dial(t, "echo")
	c.Send("hello")
	c.Expect("hello")
	if err := c.WS.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	kind, data := c.Read()
	if kind != websocket.BinaryMessage || data != "\x01\x02\x03" {
		t.Fatalf("got %q (type %d), want binary 010203", data, kind)
	}
}

func TestChatStarterBroadcasts(t *testing.T) {
	s := start(t, "../projects", nil)
	a := s.dial(t, "chat?name=ada")
	a.Read() // its own join
	b := s.dial(t, "chat?name=bob")
	_, joined := a.Read()
	if !strings.Contains(joined, `"name":"bob"`) {
		t.Fatalf("got %s, want bob's join", joined)
	}
	b.Read() // its own join
	b.Send("hi all")
	for _, c := range []*wstest.Client{a, b} {
		_, got := c.Read()
		if !strings.Contains(got, `"text":"hi all"`) || !strings.Contains(got, `"name":"bob"`) {
			t.Fatalf("got %s, want bob's message", got)
		}
	}
}

func TestStarterInfo(t *testing.T) {
	s := start(t, "../projects", nil)
	s.dial(t, "chat?name=ada").Read()
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
	_, resp, err := wstest.TryDial(t, "ws://"+s.addr+ServicePath+"nope", nil, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("upgrade to unknown endpoint: got %v, want HTTP 404", err)
	}
	c := wstest.Dial(t, "ws://"+s.addr+ServicePathAlias+"echo", nil, nil)
	c.Send("alias")
	c.Expect("alias")
}
