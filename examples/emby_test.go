package examples_test

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/blimptest"
)

// The Emby example (examples/emby) is a projects root whose project "mediabrowser"
// serves the Emby server web socket at /mediabrowser and the HTTP calls around it.
// The protocol is in examples/emby/README.md. These tests talk to it as an Emby
// client does: ask /System/Info where the web socket is, connect, send Identity,
// then exchange {MessageType, Data} envelopes.
const embyRoot = "emby"

// embyIdentity is the document's own example of an Identity message's Data.
const embyIdentity = "Dashboard|df787898fdsf7ds80|1.0.0.0|nexus7"

// embyEnvelope is one frame of the Emby web socket.
type embyEnvelope struct {
	MessageType string
	Data        json.RawMessage
}

// embyError is the Data of an Error envelope.
type embyError struct {
	Code    string
	Message string
}

// embySession is one entry of the sessions list (GET /Sessions, Sessions messages).
type embySession struct {
	Id                    string
	Client                string
	DeviceId              string
	DeviceName            string
	ApplicationVersion    string
	RemoteEndPoint        string
	LastActivityDate      string
	SupportsRemoteControl bool
	NowViewingItem        *struct{ Type, Id, Name string }
	NowPlayingItem        *struct{ Id string }
	PlayState             map[string]any
}

// embySystemInfo is what a client reads from /System/Info.
type embySystemInfo struct {
	ServerName          string
	Version             string
	Id                  string
	LocalAddress        string
	WebSocketPortNumber int
	HasPendingRestart   bool
}

// embySettings are the example's settings.json values the tests depend on.
type embySettings struct {
	IdentityTimeoutMs     int `json:"identityTimeoutMs"`
	MinSessionsIntervalMs int `json:"minSessionsIntervalMs"`
}

func embyReadSettings(t *testing.T) embySettings {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(embyRoot, "mediabrowser", "settings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s embySettings
	if err := json.Unmarshal(b, &s); err != nil || s.IdentityTimeoutMs <= 0 || s.MinSessionsIntervalMs <= 0 {
		t.Fatalf("settings.json: %v (%+v)", err, s)
	}
	return s
}

// embyClient is a web socket client speaking the envelope protocol.
type embyClient struct {
	*blimptest.Client
	t *testing.T
}

// embyConnect connects to the web socket the way the document says: the port comes
// from /System/Info's WebSocketPortNumber, the path is /mediabrowser.
func embyConnect(t *testing.T, s *blimptest.Server, header http.Header) *embyClient {
	t.Helper()
	var info embySystemInfo
	embyGetJSON(t, s, "/System/Info", &info)
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + host + ":" + strconv.Itoa(info.WebSocketPortNumber) + "/mediabrowser"
	if url != s.URL("/mediabrowser") {
		t.Fatalf("the URL built from /System/Info is %s, want %s", url, s.URL("/mediabrowser"))
	}
	c, resp, err := s.TryDial(t, "/mediabrowser", header)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", url, err, resp)
	}
	return &embyClient{Client: c, t: t}
}

// embyIdentify connects and identifies with identity; the session exists once it returns.
func embyIdentify(t *testing.T, s *blimptest.Server, identity string) *embyClient {
	t.Helper()
	c := embyConnect(t, s, nil)
	c.send("Identity", identity)
	c.sync("")
	return c
}

// send sends {MessageType: typ, Data: data}; a nil data leaves Data out.
func (c *embyClient) send(typ string, data any) {
	c.t.Helper()
	m := map[string]any{"MessageType": typ}
	if data != nil {
		m["Data"] = data
	}
	b, err := json.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	c.Send(string(b))
}

// next reads the next envelope.
func (c *embyClient) next() embyEnvelope {
	c.t.Helper()
	text := c.ReadText()
	var m embyEnvelope
	if err := json.Unmarshal([]byte(text), &m); err != nil || m.MessageType == "" {
		c.t.Fatalf("got %s, want a {MessageType, Data} envelope (%v)", text, err)
	}
	return m
}

// expect reads the next envelope and checks its MessageType.
func (c *embyClient) expect(typ string) embyEnvelope {
	c.t.Helper()
	m := c.next()
	if m.MessageType != typ {
		c.t.Fatalf("got %s %s, want MessageType %s", m.MessageType, m.Data, typ)
	}
	return m
}

// expectError reads an Error envelope with code.
func (c *embyClient) expectError(code string) embyError {
	c.t.Helper()
	m := c.expect("Error")
	var e embyError
	if err := json.Unmarshal(m.Data, &e); err != nil || e.Code != code || e.Message == "" {
		c.t.Fatalf("got Error %s, want Code %s with a Message", m.Data, code)
	}
	return e
}

// sync sends KeepAlive and reads up to its reply: every message the server queued
// before has then arrived. Messages of type skip on the way are counted and
// dropped; any other message fails the test.
func (c *embyClient) sync(skip string) int {
	c.t.Helper()
	c.send("KeepAlive", nil)
	skipped := 0
	for {
		m := c.next()
		switch {
		case m.MessageType == "KeepAlive":
			return skipped
		case skip != "" && m.MessageType == skip:
			skipped++
		default:
			c.t.Fatalf("got %s %s, want nothing before the KeepAlive reply", m.MessageType, m.Data)
		}
	}
}

// expectRefused reads the Error envelope with code and then the close frame with
// closeCode and the code as reason.
func (c *embyClient) expectRefused(code string, closeCode int) {
	c.t.Helper()
	c.expectError(code)
	gotCode, reason := c.ExpectClose()
	if gotCode != closeCode || reason != code {
		c.t.Fatalf("closed with %d %q, want %d %q", gotCode, reason, closeCode, code)
	}
}

// embyDo sends an HTTP request (body is JSON when non-empty) and returns the status
// and body.
func embyDo(t *testing.T, s *blimptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.HTTPURL(path), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, blimptest.ReadAll(t, resp)
}

func embyGetJSON(t *testing.T, s *blimptest.Server, path string, v any) {
	t.Helper()
	status, body := embyDo(t, s, "GET", path, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s: got %d %s, want 200", path, status, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// embySessions returns GET /Sessions by DeviceId.
func embySessions(t *testing.T, s *blimptest.Server) map[string]embySession {
	t.Helper()
	var list []embySession
	embyGetJSON(t, s, "/Sessions", &list)
	byDevice := map[string]embySession{}
	for _, x := range list {
		byDevice[x.DeviceId] = x
	}
	return byDevice
}

// embyTimers returns GET /Debug/Timers.
func embyTimers(t *testing.T, s *blimptest.Server) (deadlines, feeds int) {
	t.Helper()
	var got struct{ IdentityDeadlines, SessionsFeeds int }
	embyGetJSON(t, s, "/Debug/Timers", &got)
	return got.IdentityDeadlines, got.SessionsFeeds
}

// embyWaitTimers waits (bounded) until the timer counts are as wanted.
func embyWaitTimers(t *testing.T, s *blimptest.Server, wantDeadlines, wantFeeds int) {
	t.Helper()
	blimptest.Eventually(t, func() string {
		d, f := embyTimers(t, s)
		if d != wantDeadlines || f != wantFeeds {
			return "timers: got " + strconv.Itoa(d) + " Identity deadlines and " + strconv.Itoa(f) +
				" Sessions feeds, want " + strconv.Itoa(wantDeadlines) + " and " + strconv.Itoa(wantFeeds)
		}
		return ""
	})
}

// embySameJSON reports whether two JSON texts hold the same value.
func embySameJSON(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

func TestEmby(t *testing.T) {
	s := blimptest.Start(t, embyRoot, nil)
	settings := embyReadSettings(t)

	t.Run("System Info tells where the web socket is", func(t *testing.T) {
		var info embySystemInfo
		embyGetJSON(t, s, "/System/Info", &info)
		_, port, _ := net.SplitHostPort(s.Addr)
		if strconv.Itoa(info.WebSocketPortNumber) != port {
			t.Fatalf("WebSocketPortNumber: got %d, want %s (the port the client connected to)", info.WebSocketPortNumber, port)
		}
		if info.ServerName == "" || info.Version == "" || info.Id == "" || info.HasPendingRestart {
			t.Fatalf("got %+v, want ServerName, Version and Id set and no pending restart", info)
		}
		var public embySystemInfo
		embyGetJSON(t, s, "/System/Info/Public", &public)
		if public.Id != info.Id || public.ServerName != info.ServerName || public.LocalAddress != "http://"+s.Addr || public.WebSocketPortNumber != 0 {
			t.Fatalf("public info %+v does not match %+v at %s", public, info, s.Addr)
		}
		for host, want := range map[string]string{
			"emby.local:8096": `"WebSocketPortNumber":8096`,
			"emby.local":      `"WebSocketPortNumber":80`,
			"[::1]:9000":      `"LocalAddress":"http://[::1]:9000"`,
		} {
			req, _ := http.NewRequest("GET", s.HTTPURL("/System/Info"), nil)
			req.Host = host
			resp, err := s.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if body := blimptest.ReadAll(t, resp); !strings.Contains(body, want+",") {
				t.Fatalf("Host %s: got %s, want it to contain %s", host, body, want)
			}
		}
		if status, _ := embyDo(t, s, "POST", "/System/Info", ""); status != http.StatusMethodNotAllowed {
			t.Fatalf("POST /System/Info: got %d, want 405", status)
		}
	})

	t.Run("a client that skips or malforms Identity is refused", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			send      func(c *embyClient)
			code      string
			closeCode int
		}{
			{"another message first", func(c *embyClient) { c.send("SessionsStart", "0,1000") }, "IdentityRequired", 4001},
			{"an unknown message first", func(c *embyClient) { c.send("Hello", "") }, "IdentityRequired", 4001},
			{"not JSON", func(c *embyClient) { c.Send("Identity Dashboard|x|1|y") }, "InvalidMessage", 4000},
			{"no MessageType", func(c *embyClient) { c.Send(`{"Data": "` + embyIdentity + `"}`) }, "InvalidMessage", 4000},
			{"not an object", func(c *embyClient) { c.Send(`["Identity", "` + embyIdentity + `"]`) }, "InvalidMessage", 4000},
			{"binary frame", func(c *embyClient) {
				if err := c.WS.WriteMessage(websocket.BinaryMessage, []byte(`{"MessageType":"Identity"}`)); err != nil {
					c.t.Fatal(err)
				}
			}, "InvalidMessage", 4000},
			{"too few fields", func(c *embyClient) { c.send("Identity", "Dashboard|df787898fdsf7ds80") }, "InvalidIdentity", 4002},
			{"empty client", func(c *embyClient) { c.send("Identity", "|df787898fdsf7ds80|1.0.0.0|nexus7") }, "InvalidIdentity", 4002},
			{"empty device id", func(c *embyClient) { c.send("Identity", "Dashboard||1.0.0.0|nexus7") }, "InvalidIdentity", 4002},
			{"Data not text", func(c *embyClient) { c.send("Identity", map[string]string{"Client": "Dashboard"}) }, "InvalidIdentity", 4002},
			{"no Data", func(c *embyClient) { c.send("Identity", nil) }, "InvalidIdentity", 4002},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := embyConnect(t, s, nil)
				tc.send(c)
				c.expectRefused(tc.code, tc.closeCode)
			})
		}

		// The client name must match the one of the HTTP authorization header.
		auth := http.Header{"X-Emby-Authorization": {`MediaBrowser Client="Android", Device="nexus7", DeviceId="auth-dev", Version="1.0.0.0"`}}
		c := embyConnect(t, s, auth)
		c.send("Identity", "Dashboard|auth-dev|1.0.0.0|nexus7")
		if e := c.expectError("InvalidIdentity"); !strings.Contains(e.Message, `Client="Android"`) {
			t.Fatalf("got %q, want the message to name the header's client", e.Message)
		}
		if code, _ := c.ExpectClose(); code != 4002 {
			t.Fatalf("closed with %d, want 4002", code)
		}
		ok := embyConnect(t, s, auth)
		ok.send("Identity", "Android|auth-dev|1.0.0.0|nexus7")
		ok.sync("")
		if got := embySessions(t, s)["auth-dev"]; got.Client != "Android" {
			t.Fatalf("a client matching its authorization header was not identified: got %+v", got)
		}
		ok.WS.Close()
		blimptest.Eventually(t, func() string {
			if _, there := embySessions(t, s)["auth-dev"]; there {
				return "a closed client's session is still listed"
			}
			return ""
		})
		for _, dev := range []string{"df787898fdsf7ds80", ""} {
			if _, there := embySessions(t, s)[dev]; there {
				t.Fatalf("a refused client has a session (DeviceId %q)", dev)
			}
		}
		// Each refused connection's Identity deadline was cleared with it.
		embyWaitTimers(t, s, 0, 0)
	})

	// ada and bob are identified clients for the rest of the test; bob identifies
	// through the endpoint's other URL and with lower-case names, which Emby accepts.
	ada := embyIdentify(t, s, embyIdentity)
	bobWS := s.Dial(t, "emby")
	bob := &embyClient{Client: bobWS, t: t}
	bob.Send(`{"messagetype": "identity", "data": "Emby Theater|bob-device|3.0.1|living room"}`)
	bob.sync("")
	sessions := embySessions(t, s)
	adaSession, bobSession := sessions["df787898fdsf7ds80"], sessions["bob-device"]

	t.Run("Identity creates a session", func(t *testing.T) {
		if len(sessions) != 2 {
			t.Fatalf("got %d sessions %+v, want 2", len(sessions), sessions)
		}
		want := embySession{Id: adaSession.Id, Client: "Dashboard", DeviceId: "df787898fdsf7ds80", DeviceName: "nexus7",
			ApplicationVersion: "1.0.0.0", RemoteEndPoint: adaSession.RemoteEndPoint, LastActivityDate: adaSession.LastActivityDate,
			SupportsRemoteControl: true, PlayState: map[string]any{"CanSeek": false, "IsPaused": false, "IsMuted": false}}
		if !reflect.DeepEqual(adaSession, want) {
			t.Fatalf("got session %+v, want %+v", adaSession, want)
		}
		if adaSession.Id == "" || adaSession.Id == bobSession.Id || !strings.HasPrefix(adaSession.RemoteEndPoint, "127.0.0.1:") {
			t.Fatalf("sessions need distinct ids and the client's address: %+v %+v", adaSession, bobSession)
		}
		if deadlines, _ := embyTimers(t, s); deadlines != 0 {
			t.Fatalf("%d Identity deadlines still running after every client identified, want 0", deadlines)
		}
		if _, err := time.Parse(time.RFC3339, adaSession.LastActivityDate); err != nil {
			t.Fatalf("LastActivityDate %q: %v", adaSession.LastActivityDate, err)
		}
		if bobSession.Client != "Emby Theater" || bobSession.DeviceName != "living room" || bobSession.ApplicationVersion != "3.0.1" {
			t.Fatalf("bob's session: got %+v", bobSession)
		}
	})

	t.Run("an identified client's mistakes get an Error and the connection stays", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			send func()
			code string
		}{
			{"unknown MessageType", func() { ada.send("Explode", "now") }, "UnknownMessageType"},
			{"not JSON", func() { ada.Send("{") }, "InvalidMessage"},
			{"malformed Identity again", func() { ada.send("Identity", "Dashboard") }, "InvalidIdentity"},
			{"Context with two values", func() { ada.send("Context", "Movie|42") }, "InvalidData"},
			{"Context not text", func() { ada.send("Context", 42) }, "InvalidData"},
			{"SessionsStart without Data", func() { ada.send("SessionsStart", nil) }, "InvalidData"},
			{"SessionsStart not numbers", func() { ada.send("SessionsStart", "soon,often") }, "InvalidData"},
			{"SessionsStart too often", func() { ada.send("SessionsStart", "0,"+strconv.Itoa(settings.MinSessionsIntervalMs-1)) }, "InvalidData"},
			{"check-in without ItemId", func() { ada.send("ReportPlaybackStart", map[string]any{"PositionTicks": 0}) }, "InvalidData"},
			{"check-in with a bad type", func() { ada.send("ReportPlaybackProgress", map[string]any{"ItemId": "42", "PositionTicks": "x"}) }, "InvalidData"},
			{"check-in not JSON", func() { ada.send("ReportPlaybackStopped", "ItemId=42") }, "InvalidData"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.send()
				ada.expectError(tc.code)
				ada.sync("") // still connected, and nothing else was sent
			})
		}
		if got := embySessions(t, s)["df787898fdsf7ds80"]; got.Client != "Dashboard" || got.NowViewingItem != nil || got.NowPlayingItem != nil {
			t.Fatalf("a refused message changed the session: %+v", got)
		}
		if _, feeds := embyTimers(t, s); feeds != 0 {
			t.Fatalf("a refused SessionsStart started a feed (%d running)", feeds)
		}
	})

	t.Run("server events reach every identified client", func(t *testing.T) {
		// carol is connected but not identified: she must not receive events.
		carol := embyConnect(t, s, nil)
		for _, tc := range []struct {
			method, path, body string
			wantType, wantData string
		}{
			{"POST", "/Library/Refresh", `{"ItemsAdded": ["42", "43"], "FoldersAddedTo": ["f1"]}`,
				"LibraryChanged", `{"FoldersAddedTo": ["f1"], "FoldersRemovedFrom": [], "ItemsAdded": ["42", "43"], "ItemsRemoved": [], "ItemsUpdated": []}`},
			{"POST", "/Library/Refresh", "", "LibraryChanged",
				`{"FoldersAddedTo": [], "FoldersRemovedFrom": [], "ItemsAdded": [], "ItemsRemoved": [], "ItemsUpdated": []}`},
			{"POST", "/Users/Items/UserData?UserId=u1&ItemId=42", `{"Played": true, "IsFavorite": true, "Rating": 7.5, "PlaybackPositionTicks": 0, "PlayCount": 2}`,
				"UserDataChanged", `{"UserId": "u1", "UserDataList": [{"ItemId": "42", "Key": "42", "Played": true, "IsFavorite": true, "Rating": 7.5, "PlaybackPositionTicks": 0, "PlayCount": 2}]}`},
			{"POST", "/Users/Items/UserData?UserId=u1&ItemId=43&Likes=false", "",
				"UserDataChanged", `{"UserId": "u1", "UserDataList": [{"ItemId": "43", "Key": "43", "Likes": false}]}`},
			{"POST", "/Users?Id=u1", `{"Name": "ada"}`, "UserUpdated", `{"Name": "ada", "Id": "u1"}`},
			{"DELETE", "/Users?Id=u2", "", "UserDeleted", `"u2"`},
			{"POST", "/System/Configuration", `{}`, "RestartRequired", `""`},
			{"POST", "/System/Restart", "", "ServerRestarting", `""`},
			{"POST", "/System/Shutdown", "", "ServerShuttingDown", `""`},
		} {
			t.Run(tc.wantType, func(t *testing.T) {
				status, body := embyDo(t, s, tc.method, tc.path, tc.body)
				if status != http.StatusOK && status != http.StatusNoContent {
					t.Fatalf("%s %s: got %d %s", tc.method, tc.path, status, body)
				}
				for name, c := range map[string]*embyClient{"ada": ada, "bob": bob} {
					if m := c.expect(tc.wantType); !embySameJSON(t, m.Data, tc.wantData) {
						t.Fatalf("%s got Data %s, want %s", name, m.Data, tc.wantData)
					}
				}
				if tc.wantType == "UserDataChanged" && !strings.Contains(body, `"ItemId":"4`) {
					t.Fatalf("UserData answered %s, want the user data", body)
				}
				if tc.wantType == "RestartRequired" || tc.wantType == "ServerRestarting" {
					var info embySystemInfo
					embyGetJSON(t, s, "/System/Info", &info)
					if info.HasPendingRestart != (tc.wantType == "RestartRequired") {
						t.Fatalf("after %s: HasPendingRestart is %v", tc.wantType, info.HasPendingRestart)
					}
				}
			})
		}
		for _, tc := range []struct {
			method, path, body string
			want               int
		}{
			{"POST", "/Library/Refresh", `{"ItemsAdded": "42"}`, 400},
			{"POST", "/Library/Refresh", `["42"]`, 400},
			{"POST", "/Library/Refresh", `{"ItemsAdded": [`, 400},
			{"GET", "/Library/Refresh", "", 405},
			{"POST", "/Users/Items/UserData?UserId=u1", `{"Played": true}`, 400},
			{"POST", "/Users/Items/UserData?UserId=u1&ItemId=42", `{"Played": "maybe"}`, 400},
			{"POST", "/Users/Items/UserData?UserId=u1&ItemId=42", `{"Rating": 11}`, 400},
			{"POST", "/Users/Items/UserData?UserId=u1&ItemId=42", `{"PlayCount": -1}`, 400},
			{"POST", "/Users", `{"Name": "ada"}`, 400},
			{"POST", "/Users?Id=u1", "", 400},
			{"GET", "/Users?Id=u1", "", 405},
			{"GET", "/System/Restart", "", 405},
		} {
			if status, body := embyDo(t, s, tc.method, tc.path, tc.body); status != tc.want {
				t.Fatalf("%s %s %s: got %d %s, want %d", tc.method, tc.path, tc.body, status, body, tc.want)
			}
		}
		// Nothing reached anyone from the refused calls, nor carol from any call:
		// once she identifies, the first thing she gets is her KeepAlive reply.
		ada.sync("")
		bob.sync("")
		carol.send("Identity", "Dashboard|carol-device|1.0.0.0|tablet")
		carol.sync("")
		carol.WS.Close()
	})

	t.Run("remote control commands reach one session", func(t *testing.T) {
		id := adaSession.Id
		for _, tc := range []struct {
			name, path, body   string
			wantType, wantData string
		}{
			{"Browse", "/Sessions/Browse?Id=" + id + "&ItemType=Movie&ItemId=42&ItemName=Heat&Context=movies", "",
				"Browse", `{"Context": "movies", "ItemId": "42", "ItemName": "Heat", "ItemType": "Movie"}`},
			{"Browse without context", "/Sessions/Browse", `{"Id": "` + id + `", "ItemType": "Series", "ItemId": 7, "ItemName": "Lost"}`,
				"Browse", `{"Context": "", "ItemId": "7", "ItemName": "Lost", "ItemType": "Series"}`},
			{"Play from a body", "/Sessions/Play", `{"Id": "` + id + `", "ItemIds": ["1", "2"], "PlayCommand": "PlayNow", "StartPositionTicks": 600000000}`,
				"Play", `{"ItemIds": ["1", "2"], "PlayCommand": "PlayNow", "StartPositionTicks": 600000000}`},
			{"Play from the query", "/Sessions/Play?Id=" + id + "&ItemIds=3,4&PlayCommand=PlayLast", "",
				"Play", `{"ItemIds": ["3", "4"], "PlayCommand": "PlayLast"}`},
			{"Playstate Seek", "/Sessions/Playstate?Id=" + id + "&Command=Seek&SeekPositionTicks=100", "",
				"Playstate", `{"Command": "Seek", "SeekPositionTicks": 100}`},
			{"Playstate Pause", "/Sessions/Playstate?Id=" + id + "&Command=Pause", "", "Playstate", `{"Command": "Pause"}`},
			{"GeneralCommand", "/Sessions/GeneralCommand?Id=" + id + "&Command=GoHome", "", "GeneralCommand", `"GoHome"`},
			{"DisplayMessage with timeout", "/Sessions/DisplayMessage?Id=" + id, `{"Header": "Hi", "Text": "Dinner is ready", "TimeoutMs": 5000}`,
				"DisplayMessage", `{"Header": "Hi", "Text": "Dinner is ready", "TimeoutMs": 5000}`},
			{"DisplayMessage until confirmed", "/Sessions/DisplayMessage?Id=" + id + "&Text=Confirm+me", "",
				"DisplayMessage", `{"Header": "", "Text": "Confirm me"}`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if status, body := embyDo(t, s, "POST", tc.path, tc.body); status != http.StatusNoContent {
					t.Fatalf("POST %s: got %d %s, want 204", tc.path, status, body)
				}
				if m := ada.expect(tc.wantType); !embySameJSON(t, m.Data, tc.wantData) {
					t.Fatalf("got Data %s, want %s", m.Data, tc.wantData)
				}
			})
		}
		for _, tc := range []struct {
			method, path string
			want         int
		}{
			{"POST", "/Sessions/Play?ItemIds=1&PlayCommand=PlayNow", 400},
			{"POST", "/Sessions/Play?Id=ffffffffffffffff&ItemIds=1&PlayCommand=PlayNow", 404},
			{"POST", "/Sessions/Play?Id=" + id + "&PlayCommand=PlayNow", 400},
			{"POST", "/Sessions/Play?Id=" + id + "&ItemIds=1&PlayCommand=PlaySoon", 400},
			{"POST", "/Sessions/Play?Id=" + id + "&ItemIds=1&PlayCommand=PlayNow&StartPositionTicks=-5", 400},
			{"POST", "/Sessions/Playstate?Id=" + id + "&Command=Seek", 400},
			{"POST", "/Sessions/Playstate?Id=" + id + "&Command=Rewind", 400},
			{"POST", "/Sessions/GeneralCommand?Id=" + id + "&Command=Explode", 400},
			{"POST", "/Sessions/DisplayMessage?Id=" + id + "&Header=Hi", 400},
			{"POST", "/Sessions/Browse?Id=" + id + "&ItemType=Movie", 400},
			{"GET", "/Sessions/GeneralCommand?Id=" + id + "&Command=GoHome", 405},
		} {
			if status, body := embyDo(t, s, tc.method, tc.path, ""); status != tc.want {
				t.Fatalf("%s %s: got %d %s, want %d", tc.method, tc.path, status, body, tc.want)
			}
		}
		ada.sync("") // the refused commands sent nothing
		bob.sync("") // and the others went to ada only
	})

	t.Run("Context and playback check-ins update the sessions list", func(t *testing.T) {
		viewing := func(want *struct{ Type, Id, Name string }) {
			t.Helper()
			ada.sync("")
			got := embySessions(t, s)["df787898fdsf7ds80"].NowViewingItem
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("NowViewingItem: got %+v, want %+v", got, want)
			}
		}
		ada.send("Context", "Movie|42|Heat")
		viewing(&struct{ Type, Id, Name string }{"Movie", "42", "Heat"})
		ada.send("Context", "Folder||Movies|A-Z") // empty values are fine; a name may hold "|"
		viewing(&struct{ Type, Id, Name string }{"Folder", "", "Movies|A-Z"})
		ada.send("Context", "||")
		viewing(nil)

		playing := func(wantItem string, wantState map[string]any) {
			t.Helper()
			ada.sync("")
			got := embySessions(t, s)["df787898fdsf7ds80"]
			if (wantItem == "") != (got.NowPlayingItem == nil) || (got.NowPlayingItem != nil && got.NowPlayingItem.Id != wantItem) {
				t.Fatalf("NowPlayingItem: got %+v, want %q", got.NowPlayingItem, wantItem)
			}
			if !reflect.DeepEqual(got.PlayState, wantState) {
				t.Fatalf("PlayState: got %v, want %v", got.PlayState, wantState)
			}
		}
		// Data as a string of JSON, as Emby's apiclient sends it.
		ada.send("ReportPlaybackStart", `{"ItemId": "42", "MediaSourceId": "ms1", "CanSeek": true, "PlayMethod": "DirectPlay", "Unknown": 1}`)
		playing("42", map[string]any{"CanSeek": true, "IsPaused": false, "IsMuted": false, "PositionTicks": 0.0, "MediaSourceId": "ms1", "PlayMethod": "DirectPlay"})
		ada.send("ReportPlaybackProgress", map[string]any{"ItemId": "42", "PositionTicks": 600000000, "IsPaused": true})
		playing("42", map[string]any{"CanSeek": true, "IsPaused": true, "IsMuted": false, "PositionTicks": 600000000.0, "MediaSourceId": "ms1", "PlayMethod": "DirectPlay"})
		// A progress report for another item counts as its start.
		ada.send("ReportPlaybackProgress", map[string]any{"ItemId": "43", "PositionTicks": 10, "IsMuted": true})
		playing("43", map[string]any{"CanSeek": false, "IsPaused": false, "IsMuted": true, "PositionTicks": 10.0})
		ada.send("ReportPlaybackStopped", map[string]any{"ItemId": "43", "PositionTicks": 20})
		playing("", map[string]any{"CanSeek": false, "IsPaused": false, "IsMuted": false})
		if got := embySessions(t, s)["bob-device"]; got.NowPlayingItem != nil || got.NowViewingItem != nil {
			t.Fatalf("ada's messages changed bob's session: %+v", got)
		}
	})

	t.Run("SessionsStart sends Sessions on schedule until SessionsStop", func(t *testing.T) {
		const delay, interval = 400 * time.Millisecond, 100 * time.Millisecond
		ada.send("Context", "Series|7|Lost")
		ada.sync("")
		start := time.Now()
		ada.send("SessionsStart", "400,100")
		var first, fourth time.Time
		for i := 0; i < 4; i++ {
			m := ada.expect("Sessions")
			if i == 0 {
				first = time.Now()
				var list []embySession
				if err := json.Unmarshal(m.Data, &list); err != nil {
					t.Fatalf("Sessions Data %s: %v", m.Data, err)
				}
				if len(list) != 2 || list[0].DeviceId == list[1].DeviceId {
					t.Fatalf("Sessions: got %s, want ada's and bob's sessions", m.Data)
				}
				for _, x := range list {
					if x.DeviceId == "df787898fdsf7ds80" && (x.NowViewingItem == nil || x.NowViewingItem.Name != "Lost" || x.Id != adaSession.Id) {
						t.Fatalf("Sessions: ada's entry %+v does not show her Context", x)
					}
				}
			}
			fourth = time.Now()
		}
		if got := first.Sub(start); got < delay {
			t.Fatalf("the first Sessions came after %v, want at least the initial delay %v", got, delay)
		}
		if got := fourth.Sub(first); got < interval*5/2 {
			t.Fatalf("4 Sessions messages came within %v, want about %v (every %v)", got, 3*interval, interval)
		}
		if _, feeds := embyTimers(t, s); feeds != 1 {
			t.Fatalf("got %d Sessions feeds, want 1", feeds)
		}

		// Each message carries the list as it is now.
		ada.send("Context", "Episode|8|Pilot")
		blimptest.Eventually(t, func() string {
			var list []embySession
			json.Unmarshal(ada.expect("Sessions").Data, &list)
			for _, x := range list {
				if x.DeviceId == "df787898fdsf7ds80" && x.NowViewingItem != nil && x.NowViewingItem.Name == "Pilot" {
					return ""
				}
			}
			return "no Sessions message showed the new Context"
		})

		// A second SessionsStart replaces the schedule instead of adding one.
		ada.send("SessionsStart", "0,200")
		ada.sync("Sessions")
		if _, feeds := embyTimers(t, s); feeds != 1 {
			t.Fatalf("after a second SessionsStart: got %d Sessions feeds, want 1", feeds)
		}

		ada.send("SessionsStop", nil)
		ada.send("SessionsStop", nil) // stopping twice is harmless
		ada.sync("Sessions")          // Sessions sent before the stop was handled arrive first
		if _, feeds := embyTimers(t, s); feeds != 0 {
			t.Fatalf("after SessionsStop: got %d Sessions feeds, want 0", feeds)
		}
		// Quiet is ada's last read: a timed-out read ends a gorilla connection's reads.
		if !ada.Quiet(3 * 200 * time.Millisecond) {
			t.Fatal("a Sessions message arrived after SessionsStop")
		}
	})

	t.Run("a client that disconnects leaves no timer behind", func(t *testing.T) {
		// Both timers would run for seconds more: they must go when the clients do,
		// well before they would fire.
		const within = time.Second
		if time.Duration(settings.IdentityTimeoutMs)*time.Millisecond < 3*within {
			t.Fatalf("identityTimeoutMs %d is too short for this test", settings.IdentityTimeoutMs)
		}
		bob.send("SessionsStart", "0,3000")
		bob.expect("Sessions")
		unidentified := embyConnect(t, s, nil)
		embyWaitTimers(t, s, 1, 1)
		bob.WS.Close()
		unidentified.WS.Close()
		for deadline := time.Now().Add(within); ; time.Sleep(10 * time.Millisecond) {
			d, f := embyTimers(t, s)
			if d == 0 && f == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%v after the clients disconnected: %d Identity deadlines and %d Sessions feeds still running, want none", within, d, f)
			}
		}
		blimptest.Eventually(t, func() string {
			if _, there := embySessions(t, s)["bob-device"]; there {
				return "bob's session is still listed after he disconnected"
			}
			return ""
		})
		if got := embySessions(t, s); len(got) != 1 || got["df787898fdsf7ds80"].Id != adaSession.Id {
			t.Fatalf("sessions: got %+v, want ada's only", got)
		}
	})
}

// TestEmbyIdentityTimeout checks that a client that connects and never identifies
// itself is told so and closed, and that an identified one is not.
func TestEmbyIdentityTimeout(t *testing.T) {
	t.Parallel()
	s := blimptest.Start(t, embyRoot, nil)
	timeout := time.Duration(embyReadSettings(t).IdentityTimeoutMs) * time.Millisecond
	start := time.Now()
	silent := embyConnect(t, s, nil)
	identified := embyIdentify(t, s, embyIdentity)
	embyWaitTimers(t, s, 1, 0) // silent's deadline is running, identified's is cleared

	silent.WS.SetReadDeadline(time.Now().Add(timeout + 5*time.Second))
	_, frame, err := silent.WS.ReadMessage()
	if err != nil {
		t.Fatalf("got %v, want an Error envelope", err)
	}
	var m struct {
		MessageType string
		Data        embyError
	}
	if json.Unmarshal(frame, &m); m.MessageType != "Error" || m.Data.Code != "IdentityTimeout" {
		t.Fatalf("got %s, want an Error with Code IdentityTimeout", frame)
	}
	if elapsed := time.Since(start); elapsed < timeout {
		t.Fatalf("refused after %v, before the %v deadline", elapsed, timeout)
	}
	_, _, err = silent.WS.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 4003 || ce.Text != "IdentityTimeout" {
		t.Fatalf("got %v, want close 4003 IdentityTimeout", err)
	}
	identified.sync("") // still connected past the deadline
	embyWaitTimers(t, s, 0, 0)
}

// TestEmbyReload checks that a reload of the project keeps the identified clients'
// sessions (they live in conn.data), before the client sends anything to the new
// code (GET /Sessions reads them through getConnections), and that the new code
// re-arms the running timers: a Sessions feed and an Identity deadline.
func TestEmbyReload(t *testing.T) {
	t.Parallel()
	s := blimptest.Start(t, embyRoot, func(c *config.Config) { c.Projects.Watch = false })
	ada := embyIdentify(t, s, embyIdentity)
	embyConnect(t, s, nil) // unidentified: its Identity deadline runs
	ada.send("Context", "Series|7|Lost")
	ada.send("SessionsStart", "0,100")
	ada.expect("Sessions")
	embyWaitTimers(t, s, 1, 1)
	before := embySessions(t, s)["df787898fdsf7ds80"]
	if err := s.LoadProject("mediabrowser"); err != nil {
		t.Fatal(err)
	}
	after := embySessions(t, s)["df787898fdsf7ds80"]
	if after.Id == "" || after.Id != before.Id || after.NowViewingItem == nil || after.NowViewingItem.Name != "Lost" {
		t.Fatalf("after a reload GET /Sessions has ada as %+v, want %+v", after, before)
	}
	// The new code's own timers (its module state started empty).
	embyWaitTimers(t, s, 1, 1)
	ada.sync("Sessions") // the connection itself is served by the new code
	ada.expect("Sessions")
	ada.send("SessionsStop", nil)
	ada.sync("Sessions")
	embyWaitTimers(t, s, 1, 0)
}
