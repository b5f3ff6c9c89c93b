package examples_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/blimptest"
	"github.com/blimp/blimp/server"
)

// The 2-Immerse example (examples/immerse) is a projects root with one project,
// websocket-service, serving the namespaces ~/layout and ~/lobby as the endpoints
// "layout" and "lobby", also mounted at /layout and /lobby. Every frame is a JSON
// array [EVENT_TYPE, EVENT]; the protocol is in examples/immerse/README.md. The
// tests run over TLS with the self-signed certificate, as `blimp run --https` does.
const immerseRoot = "immerse"

// immerseStart serves the projects under root over TLS (self-signed).
func immerseStart(t *testing.T, root string) *blimptest.Server {
	t.Helper()
	return blimptest.Start(t, root, func(c *config.Config) { c.TLS.Enabled = true })
}

// immerseSend sends the frame [eventType, data].
func immerseSend(t *testing.T, c *blimptest.Client, eventType string, data any) {
	t.Helper()
	frame, err := json.Marshal([]any{eventType, data})
	if err != nil {
		t.Fatal(err)
	}
	c.Send(string(frame))
}

// immerseRead reads the next frame, which must be a JSON array [EVENT_TYPE, EVENT],
// and returns its type and data.
func immerseRead(t *testing.T, c *blimptest.Client) (string, any) {
	t.Helper()
	text := c.ReadText()
	var frame []any
	if err := json.Unmarshal([]byte(text), &frame); err != nil || len(frame) != 2 {
		t.Fatalf("got frame %s, want a JSON array [EVENT_TYPE, EVENT]", text)
	}
	eventType, ok := frame[0].(string)
	if !ok {
		t.Fatalf("got frame %s, want a string event type first", text)
	}
	return eventType, frame[1]
}

// immerseExpect reads the next frame and checks it equals want (JSON, compared as
// values, so key order does not matter).
func immerseExpect(t *testing.T, c *blimptest.Client, want string) {
	t.Helper()
	var wantV any
	if err := json.Unmarshal([]byte(want), &wantV); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	eventType, data := immerseRead(t, c)
	got := []any{eventType, data}
	if !reflect.DeepEqual(got, wantV) {
		gotJSON, _ := json.Marshal(got)
		t.Fatalf("got frame %s, want %s", gotJSON, want)
	}
}

// immerseExpectError reads the next frame and checks it is
// ["ERROR", {"event": event, "message": ...}] with a message containing substr.
// event is nil for a frame that was not [EVENT_TYPE, EVENT].
func immerseExpectError(t *testing.T, c *blimptest.Client, event any, substr string) {
	t.Helper()
	eventType, data := immerseRead(t, c)
	body, _ := data.(map[string]any)
	msg, _ := body["message"].(string)
	if eventType != "ERROR" || !reflect.DeepEqual(body["event"], event) || !strings.Contains(msg, substr) {
		got, _ := json.Marshal([]any{eventType, data})
		t.Fatalf("got frame %s, want [\"ERROR\", {\"event\": %s, \"message\": \"...%s...\"}]", got, immerseJSON(event), substr)
	}
}

// immerseClients asks for the nicknames in room and returns them.
func immerseClients(t *testing.T, c *blimptest.Client, room string) []string {
	t.Helper()
	immerseSend(t, c, "CLIENTS", map[string]any{"room": room})
	eventType, data := immerseRead(t, c)
	body, _ := data.(map[string]any)
	list, ok := body["clients"].([]any)
	if eventType != "CLIENTS" || body["room"] != room || !ok {
		got, _ := json.Marshal([]any{eventType, data})
		t.Fatalf("got frame %s, want [\"CLIENTS\", {\"room\": %q, \"clients\": [...]}]", got, room)
	}
	names := []string{}
	for _, n := range list {
		s, ok := n.(string)
		if !ok {
			t.Fatalf("CLIENTS %q: got a non-string nickname %v", room, n)
		}
		names = append(names, s)
	}
	return names
}

// immerseExpectClients checks the CLIENTS answer for room.
func immerseExpectClients(t *testing.T, c *blimptest.Client, room string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := immerseClients(t, c, room); !reflect.DeepEqual(got, want) {
		t.Fatalf("CLIENTS %q: got %q, want %q", room, got, want)
	}
}

// immerseJoinLobby joins lobby and returns the connection's id, read from the
// JOINED event the joiner receives, and the PEERS it receives next.
func immerseJoinLobby(t *testing.T, c *blimptest.Client, lobby string) (string, []any) {
	t.Helper()
	immerseSend(t, c, "JOIN", lobby)
	return immerseJoined(t, c)
}

// immerseJoined reads a joiner's ["JOINED", id] and ["PEERS", [...]].
func immerseJoined(t *testing.T, c *blimptest.Client) (string, []any) {
	t.Helper()
	eventType, data := immerseRead(t, c)
	id, ok := data.(string)
	if eventType != "JOINED" || !ok || id == "" {
		t.Fatalf("got [%q, %v], want [\"JOINED\", own id]", eventType, data)
	}
	eventType, data = immerseRead(t, c)
	peers, ok := data.([]any)
	if eventType != "PEERS" || !ok {
		t.Fatalf("got [%q, %v], want [\"PEERS\", [...]]", eventType, data)
	}
	return id, peers
}

// immerseJSON is the JSON of v, for building expected frames.
func immerseJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestImmerseLayout(t *testing.T) {
	s := immerseStart(t, immerseRoot)
	// The TV and the phone of one household share room match-1; a tablet is
	// elsewhere. Clients connect at /layout (the namespace's path) or at the
	// endpoint's service URL.
	tv := s.Dial(t, "/layout")
	phone := s.Dial(t, "layout")
	tablet := s.Dial(t, "/layout")
	if !strings.HasPrefix(s.URL("/layout"), "wss://") {
		t.Fatalf("got URL %s, want wss://", s.URL("/layout"))
	}

	immerseSend(t, tv, "JOIN", map[string]any{"room": "match-1", "name": "tv"})
	immerseExpectClients(t, tv, "match-1", "tv")
	// The original service's clients send the event data as a JSON string.
	immerseSend(t, phone, "JOIN", `{"room": "match-1", "name": "phone"}`)
	immerseExpectClients(t, phone, "match-1", "phone", "tv")
	immerseSend(t, tablet, "JOIN", map[string]any{"room": "match-2", "name": "tablet"})
	immerseExpectClients(t, tablet, "match-2", "tablet")

	t.Run("NOTIFY reaches the room's other members as EVENT", func(t *testing.T) {
		immerseSend(t, tv, "NOTIFY", map[string]any{"room": "match-1", "message": "goal"})
		immerseExpect(t, phone, `["EVENT", {"sender": "tv", "room": "match-1", "message": "goal"}]`)
		// The sender's next frame is its CLIENTS answer, not its own EVENT; the
		// tablet, asking after the NOTIFY ran, gets its answer and no EVENT either.
		immerseExpectClients(t, tv, "match-1", "phone", "tv")
		immerseExpectClients(t, tablet, "match-2", "tablet")

		// A message may be any JSON value; it is delivered as sent.
		immerseSend(t, phone, "NOTIFY", `{"room": "match-1", "message": {"layout": "pip", "at": [1, 2]}}`)
		immerseExpect(t, tv, `["EVENT", {"sender": "phone", "room": "match-1", "message": {"layout": "pip", "at": [1, 2]}}]`)
	})

	t.Run("CLIENTS is answered to the requester only", func(t *testing.T) {
		// The tablet is not in match-1 and may still ask.
		immerseExpectClients(t, tablet, "match-1", "phone", "tv")
		immerseExpectClients(t, tablet, "nobody-here")
		// tv and phone got nothing: their next frames are their own answers.
		immerseExpectClients(t, tv, "match-2", "tablet")
		immerseExpectClients(t, phone, "match-2", "tablet")
	})

	t.Run("JOIN again renames", func(t *testing.T) {
		immerseSend(t, phone, "JOIN", map[string]any{"room": "match-1", "name": "second-screen"})
		immerseExpectClients(t, phone, "match-1", "second-screen", "tv")
		immerseSend(t, phone, "NOTIFY", map[string]any{"room": "match-1", "message": "hi"})
		immerseExpect(t, tv, `["EVENT", {"sender": "second-screen", "room": "match-1", "message": "hi"}]`)
	})

	t.Run("one connection in several rooms, with a nickname in each", func(t *testing.T) {
		immerseSend(t, tablet, "JOIN", map[string]any{"room": "match-1", "name": "tab"})
		immerseExpectClients(t, tablet, "match-1", "second-screen", "tab", "tv")
		immerseExpectClients(t, tablet, "match-2", "tablet")
		immerseSend(t, tablet, "NOTIFY", map[string]any{"room": "match-1", "message": "m1"})
		immerseExpect(t, tv, `["EVENT", {"sender": "tab", "room": "match-1", "message": "m1"}]`)
		immerseExpect(t, phone, `["EVENT", {"sender": "tab", "room": "match-1", "message": "m1"}]`)
		immerseSend(t, tablet, "LEAVE", map[string]any{"room": "match-1"})
		immerseExpectClients(t, tablet, "match-1", "second-screen", "tv")
		immerseExpectClients(t, tablet, "match-2", "tablet")
	})

	t.Run("LEAVE stops the EVENTs", func(t *testing.T) {
		immerseSend(t, phone, "LEAVE", `{"room": "match-1"}`)
		immerseExpectClients(t, phone, "match-1", "tv")
		immerseSend(t, tv, "NOTIFY", map[string]any{"room": "match-1", "message": "anyone?"})
		immerseExpectClients(t, tv, "match-1", "tv")    // the NOTIFY has run
		immerseExpectClients(t, phone, "match-1", "tv") // and sent the phone nothing
		// Having left, the phone may not notify the room.
		immerseSend(t, phone, "NOTIFY", map[string]any{"room": "match-1", "message": "late"})
		immerseExpectError(t, phone, "NOTIFY", `not in room "match-1"`)
	})

	t.Run("a member that disconnects leaves its rooms", func(t *testing.T) {
		tablet.WS.Close()
		blimptest.Eventually(t, func() string {
			if got := immerseClients(t, tv, "match-2"); len(got) != 0 {
				return "CLIENTS match-2 after the tablet closed: got " + strings.Join(got, ",") + ", want none"
			}
			return ""
		})
	})
}

func TestImmerseLayoutErrors(t *testing.T) {
	s := immerseStart(t, immerseRoot)
	c := s.Dial(t, "/layout")
	other := s.Dial(t, "/layout")
	immerseSend(t, other, "JOIN", map[string]any{"room": "r", "name": "other"})
	immerseExpectClients(t, other, "r", "other")

	long := strings.Repeat("x", 120)
	for _, tc := range []struct {
		name   string
		frame  string
		event  any // nil when the frame is not [EVENT_TYPE, EVENT]
		substr string
	}{
		{"not JSON", `JOIN r1`, nil, "not JSON"},
		{"not an array", `{"room": "r1"}`, nil, "[EVENT_TYPE, EVENT]"},
		{"one element", `["JOIN"]`, nil, "two elements"},
		{"three elements", `["JOIN", {"room": "r", "name": "n"}, 1]`, nil, "two elements"},
		{"type not a string", `[7, {"room": "r1"}]`, nil, "[EVENT_TYPE, EVENT]"},
		{"unknown event", `["SHOUT", {"room": "r1"}]`, "SHOUT", `unknown event "SHOUT"; this namespace accepts JOIN, NOTIFY, LEAVE, CLIENTS`},
		{"event names are upper case", `["join", {"room": "r1", "name": "n"}]`, "join", "unknown event"},
		{"an Object method is no event", `["constructor", {}]`, "constructor", "unknown event"},
		{"a lobby event is no layout event", `["BROADCAST", {"message": 1}]`, "BROADCAST", "unknown event"},
		{"JOIN without name", `["JOIN", {"room": "r1"}]`, "JOIN", `"name" is missing`},
		{"JOIN without room", `["JOIN", {"name": "n"}]`, "JOIN", `"room" is missing`},
		{"JOIN room not a string", `["JOIN", {"room": 7, "name": "n"}]`, "JOIN", `"room" must be a non-empty string, got 7`},
		{"JOIN empty name", `["JOIN", {"room": "r1", "name": ""}]`, "JOIN", `"name" must be a non-empty string`},
		{"JOIN data not an object", `["JOIN", ["r1", "n"]]`, "JOIN", "must be an object"},
		{"JOIN data null", `["JOIN", null]`, "JOIN", "must be an object"},
		{"JOIN data a string that is not JSON", `["JOIN", "r1"]`, "JOIN", "this string is not JSON"},
		{"JOIN too long", immerseJSON([]any{"JOIN", map[string]any{"room": long, "name": long}}), "JOIN", `"room" and "name" together are too long`},
		{"NOTIFY a room not joined", `["NOTIFY", {"room": "r", "message": "m"}]`, "NOTIFY", `not in room "r": JOIN it before NOTIFY`},
		{"NOTIFY without message", `["NOTIFY", {"room": "r"}]`, "NOTIFY", `"message" is missing`},
		{"NOTIFY without room", `["NOTIFY", {"message": "m"}]`, "NOTIFY", `"room" is missing`},
		{"LEAVE a room not joined", `["LEAVE", {"room": "r"}]`, "LEAVE", `not in room "r"`},
		{"LEAVE room not a string", `["LEAVE", {"room": true}]`, "LEAVE", `"room" must be a non-empty string`},
		{"CLIENTS without room", `["CLIENTS", {}]`, "CLIENTS", `"room" is missing`},
		{"CLIENTS room too long", immerseJSON([]any{"CLIENTS", map[string]any{"room": long + long + long}}), "CLIENTS", `"room" is too long`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Send(tc.frame)
			immerseExpectError(t, c, tc.event, tc.substr)
		})
	}

	t.Run("binary frame", func(t *testing.T) {
		if err := c.WS.WriteMessage(websocket.BinaryMessage, []byte(`["JOIN", {"room": "r", "name": "n"}]`)); err != nil {
			t.Fatal(err)
		}
		immerseExpectError(t, c, nil, "binary frame")
	})

	t.Run("a room and a nickname may take 235 bytes together", func(t *testing.T) {
		immerseSend(t, c, "JOIN", map[string]any{"room": "r", "name": strings.Repeat("n", 235)})
		immerseExpectError(t, c, "JOIN", "too long: at most 235 bytes")
		immerseSend(t, c, "JOIN", map[string]any{"room": "r", "name": strings.Repeat("n", 234)})
		immerseExpectClients(t, c, "r", strings.Repeat("n", 234), "other")
		immerseSend(t, c, "LEAVE", map[string]any{"room": "r"})
		immerseExpectClients(t, c, "r", "other")
	})

	t.Run("the connection is still open and the errors went to the sender only", func(t *testing.T) {
		immerseSend(t, c, "JOIN", map[string]any{"room": "r", "name": "c"})
		immerseExpectClients(t, c, "r", "c", "other")
		immerseExpectClients(t, other, "r", "c", "other")
	})
}

func TestImmerseLobby(t *testing.T) {
	s := immerseStart(t, immerseRoot)
	ada := s.Dial(t, "/lobby")
	adaID, peers := immerseJoinLobby(t, ada, "lobby-1")
	if len(peers) != 0 {
		t.Fatalf("PEERS of the first member: got %v, want []", peers)
	}

	// The lobby module's clients name the lobby in the URL and are joined at once.
	bob := s.Dial(t, "/lobby?lobbyId=lobby-1")
	bobID, peers := immerseJoined(t, bob)
	if !reflect.DeepEqual(peers, []any{adaID}) || bobID == adaID {
		t.Fatalf("bob (%s): got PEERS %v, want [%s]", bobID, peers, adaID)
	}
	immerseExpect(t, ada, immerseJSON([]any{"JOINED", bobID}))

	cy := s.Dial(t, "lobby")
	cyID, peers := immerseJoinLobby(t, cy, "lobby-2")
	if len(peers) != 0 {
		t.Fatalf("PEERS of lobby-2's first member: got %v, want []", peers)
	}

	t.Run("BROADCAST reaches every member of the lobby", func(t *testing.T) {
		immerseSend(t, ada, "BROADCAST", map[string]any{"message": "ready?"})
		want := immerseJSON([]any{"MESSAGE", map[string]any{"from": adaID, "message": "ready?"}})
		immerseExpect(t, ada, want)
		immerseExpect(t, bob, want)
		// cy, in lobby-2, gets nothing: its next frame answers its own BROADCAST.
		immerseSend(t, cy, "BROADCAST", `{"message": "lonely"}`)
		immerseExpect(t, cy, immerseJSON([]any{"MESSAGE", map[string]any{"from": cyID, "message": "lonely"}}))
	})

	t.Run("RTCSIGNAL goes to one peer, from the server-set sender", func(t *testing.T) {
		immerseSend(t, ada, "RTCSIGNAL", map[string]any{"to": bobID, "type": "offer", "sdp": "v=0", "from": "someone-else"})
		immerseExpect(t, bob, immerseJSON([]any{"RTCSIGNAL", map[string]any{"to": bobID, "type": "offer", "sdp": "v=0", "from": adaID}}))
		immerseSend(t, bob, "RTCSIGNAL", map[string]any{"to": adaID, "type": "answer"})
		immerseExpect(t, ada, immerseJSON([]any{"RTCSIGNAL", map[string]any{"to": adaID, "type": "answer", "from": bobID}}))
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			frame  string
			event  any
			substr string
		}{
			{"JOIN a second lobby", `["JOIN", "lobby-2"]`, "JOIN", `already in lobby "lobby-1": LEAVE it first`},
			{"JOIN the same lobby again", `["JOIN", "lobby-1"]`, "JOIN", `already in lobby "lobby-1"`},
			{"JOIN a lobby id that is not a string", `["JOIN", 42]`, "JOIN", "the lobby id must be a non-empty string, got 42"},
			{"JOIN an empty lobby id", `["JOIN", ""]`, "JOIN", "the lobby id must be a non-empty string"},
			{"JOIN a lobby id too long", immerseJSON([]any{"JOIN", strings.Repeat("l", 245)}), "JOIN", "the lobby id is too long: at most 244 bytes"},
			{"LEAVE another lobby", `["LEAVE", "lobby-2"]`, "LEAVE", `not in lobby "lobby-2"`},
			{"LEAVE without an id", `["LEAVE", null]`, "LEAVE", "the lobby id must be a non-empty string, got null"},
			{"BROADCAST without message", `["BROADCAST", {}]`, "BROADCAST", `"message" is missing`},
			{"BROADCAST data not an object", `["BROADCAST", 5]`, "BROADCAST", "must be an object"},
			{"RTCSIGNAL to a peer of another lobby", immerseJSON([]any{"RTCSIGNAL", map[string]any{"to": cyID}}), "RTCSIGNAL", `is not another peer of lobby "lobby-1"`},
			{"RTCSIGNAL to oneself", immerseJSON([]any{"RTCSIGNAL", map[string]any{"to": adaID}}), "RTCSIGNAL", "is not another peer"},
			{"RTCSIGNAL without to", `["RTCSIGNAL", {"sdp": "v=0"}]`, "RTCSIGNAL", `"to" is missing`},
			{"a layout event is no lobby event", `["NOTIFY", {"room": "lobby-1", "message": "m"}]`, "NOTIFY", "unknown event \"NOTIFY\"; this namespace accepts JOIN, LEAVE, BROADCAST, RTCSIGNAL"},
			{"not an event", `"JOIN"`, nil, "[EVENT_TYPE, EVENT]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ada.Send(tc.frame)
				immerseExpectError(t, ada, tc.event, tc.substr)
			})
		}
		// None of that reached bob, and ada is still connected and in lobby-1.
		immerseSend(t, ada, "BROADCAST", map[string]any{"message": "still here"})
		want := immerseJSON([]any{"MESSAGE", map[string]any{"from": adaID, "message": "still here"}})
		immerseExpect(t, bob, want)
		immerseExpect(t, ada, want)

		// Not in a lobby: BROADCAST and RTCSIGNAL are refused; a bad lobbyId in the URL
		// is refused at connect without closing the connection.
		loner := s.Dial(t, "/lobby?lobbyId=")
		immerseExpectError(t, loner, "JOIN", "the lobby id must be a non-empty string")
		immerseSend(t, loner, "BROADCAST", map[string]any{"message": "x"})
		immerseExpectError(t, loner, "BROADCAST", "not in a lobby: JOIN one first")
		immerseSend(t, loner, "RTCSIGNAL", map[string]any{"to": adaID})
		immerseExpectError(t, loner, "RTCSIGNAL", "not in a lobby")
		immerseSend(t, loner, "LEAVE", "lobby-1")
		immerseExpectError(t, loner, "LEAVE", `not in lobby "lobby-1"`)
		longest := strings.Repeat("l", 244)
		immerseJoinLobby(t, loner, longest)
		immerseSend(t, loner, "LEAVE", longest)
		immerseSend(t, loner, "BROADCAST", map[string]any{"message": "x"})
		immerseExpectError(t, loner, "BROADCAST", "not in a lobby")
	})

	t.Run("LEAVE, then JOIN another lobby", func(t *testing.T) {
		immerseSend(t, bob, "LEAVE", "lobby-1")
		immerseExpect(t, ada, immerseJSON([]any{"LEFT", bobID}))
		id, peers := immerseJoinLobby(t, bob, "lobby-2") // bob's next frames: no LEFT of its own
		if id != bobID || !reflect.DeepEqual(peers, []any{cyID}) {
			t.Fatalf("bob rejoining: got JOINED %s PEERS %v, want %s and [%s]", id, peers, bobID, cyID)
		}
		immerseExpect(t, cy, immerseJSON([]any{"JOINED", bobID}))
		// ada is alone in lobby-1 now.
		immerseSend(t, ada, "BROADCAST", map[string]any{"message": "alone"})
		immerseExpect(t, ada, immerseJSON([]any{"MESSAGE", map[string]any{"from": adaID, "message": "alone"}}))
	})

	t.Run("a member that disconnects is LEFT", func(t *testing.T) {
		cy.WS.Close()
		immerseExpect(t, bob, immerseJSON([]any{"LEFT", cyID}))
		immerseSend(t, bob, "BROADCAST", map[string]any{"message": "gone?"})
		immerseExpect(t, bob, immerseJSON([]any{"MESSAGE", map[string]any{"from": bobID, "message": "gone?"}}))
	})
}

// TestImmerseReload edits a copy of the project while clients are connected: the
// new code serves them at once, and room membership, nicknames and lobbies survive.
func TestImmerseReload(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(immerseRoot)); err != nil {
		t.Fatal(err)
	}
	s := immerseStart(t, root)
	tv, phone, probe := s.Dial(t, "/layout"), s.Dial(t, "/layout"), s.Dial(t, "/layout")
	immerseSend(t, tv, "JOIN", map[string]any{"room": "match-1", "name": "tv"})
	immerseExpectClients(t, tv, "match-1", "tv")
	immerseSend(t, phone, "JOIN", map[string]any{"room": "match-1", "name": "phone"})
	immerseExpectClients(t, phone, "match-1", "phone", "tv")
	ada, bob := s.Dial(t, "/lobby"), s.Dial(t, "/lobby")
	adaID, _ := immerseJoinLobby(t, ada, "lobby-1")
	bobID, _ := immerseJoinLobby(t, bob, "lobby-1")
	immerseExpect(t, ada, immerseJSON([]any{"JOINED", bobID}))

	protocol := filepath.Join(root, "websocket-service", "protocol.js")
	src, err := os.ReadFile(protocol)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "unknown event ${", "unknown event (v2) ${", 1)
	if edited == string(src) {
		t.Fatal(`protocol.js no longer says "unknown event ${": update this test`)
	}
	if err := os.WriteFile(protocol, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	blimptest.Eventually(t, func() string {
		immerseSend(t, probe, "PING", map[string]any{})
		_, data := immerseRead(t, probe)
		body, _ := data.(map[string]any)
		if msg, _ := body["message"].(string); !strings.Contains(msg, "(v2)") {
			return "the edited protocol.js is not serving yet: got " + msg
		}
		return ""
	})

	// Nobody was dropped; rooms, nicknames and lobbies are as they were. The probe
	// asks first, while the members have sent nothing since the reload.
	immerseExpectClients(t, probe, "match-1", "phone", "tv")
	immerseSend(t, phone, "NOTIFY", map[string]any{"room": "match-1", "message": "after reload"})
	immerseExpect(t, tv, `["EVENT", {"sender": "phone", "room": "match-1", "message": "after reload"}]`)
	immerseSend(t, bob, "BROADCAST", map[string]any{"message": "after reload"})
	want := immerseJSON([]any{"MESSAGE", map[string]any{"from": bobID, "message": "after reload"}})
	immerseExpect(t, ada, want)
	immerseExpect(t, bob, want)
	ada.WS.Close()
	immerseExpect(t, bob, immerseJSON([]any{"LEFT", adaID}))
}

// TestImmerseTLS checks what the README tells a client: the self-signed
// certificate is written beside the store, a client that trusts that file
// connects, and one that trusts nothing is refused.
func TestImmerseTLS(t *testing.T) {
	var dataPath string
	s := blimptest.Start(t, immerseRoot, func(c *config.Config) {
		c.TLS.Enabled = true
		dataPath = c.Data.Path
	})
	pemBytes, err := os.ReadFile(filepath.Join(filepath.Dir(dataPath), server.SelfSignedFile))
	if err != nil {
		t.Fatalf("the self-signed certificate is not beside the store: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("%s holds no PEM certificate", server.SelfSignedFile)
	}
	trusting := websocket.Dialer{HandshakeTimeout: 5 * time.Second, TLSClientConfig: &tls.Config{RootCAs: roots}}
	ws, _, err := trusting.Dial(s.URL("/layout"), nil)
	if err != nil {
		t.Fatalf("dial trusting %s: %v", server.SelfSignedFile, err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`["CLIENTS", {"room": "r"}]`)); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != `["CLIENTS",{"room":"r","clients":[]}]` {
		t.Fatalf("got %s (%v), want the CLIENTS answer", got, err)
	}

	untrusting := websocket.Dialer{HandshakeTimeout: 5 * time.Second, TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}
	_, _, err = untrusting.Dial(s.URL("/lobby"), nil)
	var unknownAuthority x509.UnknownAuthorityError
	if !errors.As(err, &unknownAuthority) {
		t.Fatalf("dial trusting nothing: got %v, want an unknown-authority error", err)
	}
}
