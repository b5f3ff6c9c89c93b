package examples_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/blimp/blimp/internal/blimptest"
)

// The Dirigible example (examples/dirigible) is a projects root with one project,
// my-project: the endpoint my-endpoint and the outbound client of Dirigible's
// sdk/net documentation share the handler my-project/ws-handler; the endpoint echo
// stands in for echo.websocket.org. See examples/dirigible/README.md.

// dgClient is one entry of getClients().
type dgClient struct {
	ID       string `json:"id"`
	URI      string `json:"uri"`
	Handler  string `json:"handler"`
	State    string `json:"state"`
	OpenedAt *int64 `json:"openedAt"`
}

// dgClients parses "... getClients() = [...]" and checks the text before it.
func dgClients(t *testing.T, msg, wantPrefix string) []dgClient {
	t.Helper()
	head, list, ok := strings.Cut(msg, " getClients() = ")
	if !ok || head != wantPrefix {
		t.Fatalf("got %q, want %q followed by getClients() = [...]", msg, wantPrefix+" getClients() = ")
	}
	var out []dgClient
	if err := json.Unmarshal([]byte(list), &out); err != nil {
		t.Fatalf("getClients() in %q: %v", msg, err)
	}
	return out
}

func TestDirigibleExample(t *testing.T) {
	s := blimptest.Start(t, "dirigible", nil)
	user := s.Dial(t, "my-endpoint") // a browser or websocat user
	user.Expect(`welcome: send "connect" to run the client example; anything else comes back`)
	if got := user.Ask("hello"); got != "my-endpoint got: hello" { // the seed's browser call: ws.send('hello')
		t.Fatalf("my-endpoint answered %q to hello, want %q", got, "my-endpoint got: hello")
	}

	echoURI := "ws://" + s.Addr + "/websockets/v4/service/echo"
	before := time.Now().UnixMilli()
	user.Send("connect")

	// createWebsocket returns at once: the client is listed, still connecting.
	created := user.ReadText()
	m := regexp.MustCompile(`^client ([0-9a-f]{16}) created:`).FindStringSubmatch(created)
	if m == nil {
		t.Fatalf("got %q, want client <id> created: ...", created)
	}
	id := m[1]
	list := dgClients(t, created, "client "+id+" created:")
	want := dgClient{ID: id, URI: echoURI, Handler: "my-project/ws-handler", State: "connecting"}
	if len(list) != 1 || list[0] != want {
		t.Fatalf("getClients() right after createWebsocket = %+v, want [%+v]", list, want)
	}

	// The client's events run ws-handler with the client as the connection.
	list = dgClients(t, user.ReadText(), "client "+id+" onopen:")
	if len(list) != 1 || list[0].ID != id || list[0].State != "open" || list[0].OpenedAt == nil || *list[0].OpenedAt < before {
		t.Fatalf("getClients() in the client's onOpen = %+v, want client %s open with openedAt >= %d", list, id, before)
	}
	user.Expect("client " + id + " onmessage: hello") // the echo of what initialize() sent
	if list := dgClients(t, user.ReadText(), "client "+id+" onclose 1000:"); len(list) != 0 {
		t.Fatalf("getClients() in the client's onClose = %+v, want []", list)
	}
	if got := user.Ask("clients"); got != "[]" {
		t.Fatalf("getClients() after the close = %s, want []", got)
	}

	// The server log tells the same story, from all three sides, through the
	// context functions: my-endpoint's events, the echo endpoint's, the client's.
	client := "client " + id + " (" + echoURI + ")"
	s.Log.WaitFor(t, client+": onclose")
	s.Log.WaitFor(t, ": onclose 1000") // the echo endpoint's side of the close
	var msgs []string
	for _, m := range regexp.MustCompile(`msg="([^"]*)"`).FindAllStringSubmatch(s.Log.String(), -1) {
		msgs = append(msgs, m[1])
	}
	first := func(re string) string { // the first log message matching re
		for _, m := range msgs {
			if found := regexp.MustCompile(re).FindString(m); found != "" {
				return found
			}
		}
		return ""
	}
	endpointConn := first(`^my-endpoint connection [0-9a-f]{16}`)
	echoConn := first(`^echo connection [0-9a-f]{16}`)
	if endpointConn == "" || echoConn == "" {
		t.Fatalf("no my-endpoint or echo connection in the log:\n%s", s.Log.String())
	}
	for _, story := range [][]string{
		{endpointConn + ": onopen", endpointConn + ": onmessage hello", endpointConn + ": onmessage connect", "Connect to: " + echoURI},
		{echoConn + ": onopen", echoConn + ": onmessage hello", echoConn + ": onclose 1000"},
		{"Connect to: " + echoURI, client + ": onopen", client + ": onmessage hello", client + ": onclose"},
	} {
		next := 0
		for _, m := range msgs {
			if next < len(story) && m == story[next] {
				next++
			}
		}
		if next < len(story) {
			t.Fatalf("the log lacks %q (in this order: %q); log:\n%s", story[next], story, s.Log.String())
		}
	}
	if strings.Contains(s.Log.String(), "level=ERROR") {
		t.Fatalf("the example logged an error:\n%s", s.Log.String())
	}
}
