package examples_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/blimptest"
)

// The Navixy example (examples/navixy) is a projects root holding the project
// "navixy": user/auth at /api/user/auth, the event subscription socket at
// /event/subscription, tracker reports at /api/tracker/event. Its protocol is in
// examples/navixy/README.md.
const (
	navixyRoot    = "navixy"
	navixyProject = "navixy"
	navixySocket  = "/event/subscription"
	// navixyAtmosphere is the query atmosphere-javascript sends, exactly as the
	// Navixy document shows it.
	navixyAtmosphere = "X-Atmosphere-tracking-id=0&X-Atmosphere-Framework=2.3.6-javascript&X-Atmosphere-Transport=websocket&Content-Type=application/json&X-atmo-protocol=true"

	// Trackers of users.json and trackers.json: the demo user owns the first three
	// (15568 is blocked), the other user owns 20001.
	navixyVan1    = 15564
	navixyVan2    = 15565
	navixyBlocked = 15568
	navixyTruck   = 20001
	navixyNone    = 99999
)

var (
	navixyNegotiation = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})\|(\d+)\|X\|$`)
	navixyHash        = regexp.MustCompile(`^[0-9a-f]{32}$`)
	navixyUserTime    = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`)
)

// navixyFrame is a JSON frame the socket sends.
type navixyFrame struct {
	Type     string          `json:"type"`
	Action   *string         `json:"action"`
	Event    string          `json:"event"`
	Events   []string        `json:"events"`
	UserTime string          `json:"user_time"`
	Data     json.RawMessage `json:"data"`
}

// navixyStatus is the status object of the common API format: the data of an
// error frame, the "status" of an HTTP error (with "errors" beside it there).
type navixyStatus struct {
	Code        int                `json:"code"`
	Description string             `json:"description"`
	Errors      []navixyParamError `json:"errors"`
}

type navixyParamError struct {
	Parameter string `json:"parameter"`
	Error     string `json:"error"`
}

// navixyHTTPReply is the body of an HTTP call's answer.
type navixyHTTPReply struct {
	Success   bool               `json:"success"`
	Hash      string             `json:"hash"`
	Status    navixyStatus       `json:"status"`
	Errors    []navixyParamError `json:"errors"`
	State     *navixyState       `json:"state"`
	Delivered *int               `json:"delivered"`
}

// navixyState is a tracker's source state, as state events carry it.
type navixyState struct {
	SourceID int `json:"source_id"`
	GPS      struct {
		Updated  *string `json:"updated"`
		Location struct {
			Lat float64 `json:"lat"`
			Lng float64 `json:"lng"`
		} `json:"location"`
		Speed float64 `json:"speed"`
	} `json:"gps"`
	ConnectionStatus string `json:"connection_status"`
	MovementStatus   string `json:"movement_status"`
	Ignition         bool   `json:"ignition"`
}

// navixyUser and navixyTracker are entries of the example's users.json and
// trackers.json.
type navixyUser struct {
	Login    string `json:"login"`
	Password string `json:"password"`
	Trackers []int  `json:"trackers"`
}

type navixyTracker struct {
	ID       int  `json:"id"`
	SourceID int  `json:"source_id"`
	Blocked  bool `json:"blocked"`
	Location struct {
		Lat float64 `json:"lat"`
		Lng float64 `json:"lng"`
	} `json:"location"`
}

// navixyData reads the example's users (demo, other) and trackers (by id), and
// checks they are what the tests assume.
func navixyData(t *testing.T) (demo, other navixyUser, trackers map[int]navixyTracker) {
	t.Helper()
	read := func(name string, v any) {
		raw, err := os.ReadFile(filepath.Join(navixyRoot, navixyProject, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var u struct{ Users []navixyUser }
	var tr struct{ Trackers []navixyTracker }
	read("users.json", &u)
	read("trackers.json", &tr)
	if len(u.Users) < 2 {
		t.Fatalf("users.json: want two users, got %d", len(u.Users))
	}
	demo, other = u.Users[0], u.Users[1]
	trackers = map[int]navixyTracker{}
	for _, x := range tr.Trackers {
		trackers[x.ID] = x
	}
	if fmt.Sprint(demo.Trackers) != fmt.Sprint([]int{navixyVan1, navixyVan2, navixyBlocked}) ||
		fmt.Sprint(other.Trackers) != fmt.Sprint([]int{navixyTruck}) || !trackers[navixyBlocked].Blocked ||
		trackers[navixyVan1].Blocked || trackers[navixyVan2].Blocked || trackers[navixyTruck].Blocked {
		t.Fatalf("users.json/trackers.json no longer hold the trackers these tests use: %+v %+v %+v", demo, other, trackers)
	}
	return demo, other, trackers
}

// navixyCall makes an HTTP call and decodes the answer.
func navixyCall(t *testing.T, s *blimptest.Server, method, path, contentType, body string) (int, navixyHTTPReply) {
	t.Helper()
	req, err := http.NewRequest(method, s.HTTPURL(path), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	text := blimptest.ReadAll(t, resp)
	var reply navixyHTTPReply
	if resp.StatusCode != http.StatusMethodNotAllowed {
		if err := json.Unmarshal([]byte(text), &reply); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %q", method, path, text)
		}
	}
	return resp.StatusCode, reply
}

// navixyJSON marshals v.
func navixyJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// navixyAuth calls user/auth and returns the session hash.
func navixyAuth(t *testing.T, s *blimptest.Server, u navixyUser) string {
	t.Helper()
	status, reply := navixyCall(t, s, "POST", "/api/user/auth", "application/json",
		navixyJSON(t, map[string]string{"login": u.Login, "password": u.Password}))
	if status != http.StatusOK || !reply.Success || !navixyHash.MatchString(reply.Hash) {
		t.Fatalf("user/auth: got %d %+v, want 200, success and a 32-hex-digit hash", status, reply)
	}
	return reply.Hash
}

// navixyReport posts a tracker report and returns the answer.
func navixyReport(t *testing.T, s *blimptest.Server, params map[string]any) (int, navixyHTTPReply) {
	t.Helper()
	return navixyCall(t, s, "POST", "/api/tracker/event", "application/json", navixyJSON(t, params))
}

// navixyDelivered posts a report that must succeed and returns to how many
// connections its state event went.
func navixyDelivered(t *testing.T, s *blimptest.Server, params map[string]any) int {
	t.Helper()
	status, reply := navixyReport(t, s, params)
	if status != http.StatusOK || !reply.Success || reply.Delivered == nil || reply.State == nil {
		t.Fatalf("tracker/event %v: got %d %+v, want 200 with success, state and delivered", params, status, reply)
	}
	return *reply.Delivered
}

// navixyOpen opens the socket with the document's Atmosphere query plus extra, and
// returns the client, its tracking id and the heartbeat interval the negotiation
// message announced.
func navixyOpen(t *testing.T, s *blimptest.Server, extra string) (*blimptest.Client, string, int) {
	t.Helper()
	c := s.Dial(t, navixySocket+"?"+navixyAtmosphere+extra)
	first := c.ReadText()
	m := navixyNegotiation.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first frame: got %q, want the negotiation message <uuid>|<heartbeat ms>|X|", first)
	}
	ms, _ := strconv.Atoi(m[2])
	return c, m[1], ms
}

// navixySend sends v as a JSON text frame.
func navixySend(t *testing.T, c *blimptest.Client, v any) {
	t.Helper()
	c.Send(navixyJSON(t, v))
}

// navixyNext returns the next JSON frame, skipping heartbeats.
func navixyNext(t *testing.T, c *blimptest.Client) navixyFrame {
	t.Helper()
	for {
		text := c.ReadText()
		if text == "X" {
			continue
		}
		var f navixyFrame
		if err := json.Unmarshal([]byte(text), &f); err != nil || f.Type == "" {
			t.Fatalf("got frame %q, want a JSON object with a type", text)
		}
		return f
	}
}

// navixyNoFrame checks that nothing but heartbeats is pending for c: it sends an
// action the socket answers with an error and checks that this error is the next
// frame. The socket handles a connection's actions in order and the HTTP calls
// publish before they answer, so a frame still due would come first.
func navixyNoFrame(t *testing.T, c *blimptest.Client) {
	t.Helper()
	navixySend(t, c, map[string]string{"action": "probe"})
	if st := navixyExpectError(t, c, "probe", 7); navixyParams(st.Errors) != "action" {
		t.Fatalf("probe: got %+v, want an error for the action", st)
	}
}

// navixyAction returns the frame's action, "" if it has none.
func navixyAction(f navixyFrame) string {
	if f.Action == nil {
		return ""
	}
	return *f.Action
}

// navixyExpectResponse reads a response to action and decodes its data into v.
func navixyExpectResponse(t *testing.T, c *blimptest.Client, action string, v any) {
	t.Helper()
	f := navixyNext(t, c)
	if f.Type != "response" || navixyAction(f) != action || fmt.Sprint(f.Events) != "[state]" {
		t.Fatalf("got %+v (data %s), want a response to %s for events [state]", f, f.Data, action)
	}
	if err := json.Unmarshal(f.Data, v); err != nil {
		t.Fatalf("response data %s: %v", f.Data, err)
	}
}

// navixyExpectState reads a state event and returns its state.
func navixyExpectState(t *testing.T, c *blimptest.Client) navixyState {
	t.Helper()
	f := navixyNext(t, c)
	if f.Type != "event" || f.Event != "state" || !navixyUserTime.MatchString(f.UserTime) {
		t.Fatalf("got %+v (data %s), want a state event with a user_time", f, f.Data)
	}
	var st navixyState
	if err := json.Unmarshal(f.Data, &st); err != nil {
		t.Fatalf("state event data %s: %v", f.Data, err)
	}
	return st
}

// navixyExpectError reads an error frame for action ("" for none) with code.
func navixyExpectError(t *testing.T, c *blimptest.Client, action string, code int) navixyStatus {
	t.Helper()
	f := navixyNext(t, c)
	var st navixyStatus
	if err := json.Unmarshal(f.Data, &st); err != nil {
		t.Fatalf("error data %s: %v", f.Data, err)
	}
	if f.Type != "error" || navixyAction(f) != action || st.Code != code || st.Description == "" {
		t.Fatalf("got %+v (data %s), want an error for action %q with code %d", f, f.Data, action, code)
	}
	return st
}

// navixyParams returns the parameters named in errors, sorted.
func navixyParams(errors []navixyParamError) string {
	var names []string
	for _, e := range errors {
		if e.Error == "" {
			return "an error without text for " + e.Parameter
		}
		names = append(names, e.Parameter)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// navixySubscribe subscribes to the state of trackers and returns the statuses of
// the response (the state events that follow are left to read).
func navixySubscribe(t *testing.T, c *blimptest.Client, hash string, trackers ...int) map[string]string {
	t.Helper()
	navixySend(t, c, map[string]any{"action": "subscribe", "hash": hash, "events": []string{"state"}, "trackers": trackers})
	var data struct{ State map[string]string }
	navixyExpectResponse(t, c, "subscription/subscribe", &data)
	return data.State
}

// navixyUnsubscribe unsubscribes (from all trackers when none are given) and
// returns the trackers the response lists.
func navixyUnsubscribe(t *testing.T, c *blimptest.Client, hash string, trackers ...int) []int {
	t.Helper()
	req := map[string]any{"action": "unsubscribe", "hash": hash, "events": []string{"state"}}
	if trackers != nil {
		req["trackers"] = trackers
	}
	navixySend(t, c, req)
	var data struct{ State []int }
	navixyExpectResponse(t, c, "subscription/unsubscribe", &data)
	return data.State
}

// navixyServerStatus reads GET /api/subscription/status.
func navixyServerStatus(t *testing.T, s *blimptest.Server) (connections, heartbeats int) {
	t.Helper()
	resp, err := s.HTTPClient().Get(s.HTTPURL("/api/subscription/status"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Connections, Heartbeats int }
	if err := json.Unmarshal([]byte(blimptest.ReadAll(t, resp)), &st); err != nil {
		t.Fatal(err)
	}
	return st.Connections, st.Heartbeats
}

// navixyWaitStatus waits until the status shows connections and heartbeats.
func navixyWaitStatus(t *testing.T, s *blimptest.Server, connections, heartbeats int) {
	t.Helper()
	blimptest.Eventually(t, func() string {
		c, h := navixyServerStatus(t, s)
		if c != connections || h != heartbeats {
			return fmt.Sprintf("status: got %d connections and %d heartbeat timers, want %d and %d", c, h, connections, heartbeats)
		}
		return ""
	})
}

// TestNavixyAuth covers user/auth: login and password in a JSON body, a form body
// or the query string; missing parameters and wrong credentials.
func TestNavixyAuth(t *testing.T) {
	demo, _, _ := navixyData(t)
	s := blimptest.Start(t, navixyRoot, nil)
	q := url.Values{"login": {demo.Login}, "password": {demo.Password}}.Encode()
	form := "application/x-www-form-urlencoded"
	hashes := map[string]bool{}
	for _, tc := range []struct {
		name, method, query, ctype, body string
		wantStatus, wantCode             int
		wantParams                       string
	}{
		{"JSON body", "POST", "", "application/json", navixyJSON(t, map[string]string{"login": demo.Login, "password": demo.Password}), 200, 0, ""},
		{"form body", "POST", "", form, q, 200, 0, ""},
		{"GET query", "GET", q, "", "", 200, 0, ""},
		{"POST query", "POST", q, "", "", 200, 0, ""},
		{"body wins over query", "POST", "login=nobody&password=x", form, q, 200, 0, ""},
		{"no password", "POST", "", "application/json", navixyJSON(t, map[string]string{"login": demo.Login}), 400, 7, "password"},
		{"nothing", "GET", "", "", "", 400, 7, "login,password"},
		{"password not a string", "POST", "", "application/json", navixyJSON(t, map[string]any{"login": demo.Login, "password": 1234}), 400, 7, "password"},
		{"wrong password", "POST", "", form, url.Values{"login": {demo.Login}, "password": {"guess"}}.Encode(), 400, 102, ""},
		{"unknown login", "GET", url.Values{"login": {"nobody@example.com"}, "password": {demo.Password}}.Encode(), "", "", 400, 102, ""},
		{"JSON body not an object", "POST", "", "application/json", `["login"]`, 400, 5, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/api/user/auth"
			if tc.query != "" {
				path += "?" + tc.query
			}
			status, reply := navixyCall(t, s, tc.method, path, tc.ctype, tc.body)
			if status != tc.wantStatus {
				t.Fatalf("got status %d %+v, want %d", status, reply, tc.wantStatus)
			}
			if tc.wantStatus == 200 {
				if !reply.Success || !navixyHash.MatchString(reply.Hash) || hashes[reply.Hash] {
					t.Fatalf("got %+v, want success and a new 32-hex-digit hash", reply)
				}
				hashes[reply.Hash] = true
				return
			}
			if reply.Success || reply.Hash != "" || reply.Status.Code != tc.wantCode || reply.Status.Description == "" {
				t.Fatalf("got %+v, want success false and status code %d with a description", reply, tc.wantCode)
			}
			if got := navixyParams(reply.Errors); got != tc.wantParams {
				t.Fatalf("got errors for %q, want %q", got, tc.wantParams)
			}
		})
	}
	if status, _ := navixyCall(t, s, "DELETE", "/api/user/auth", "", ""); status != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE user/auth: got %d, want 405", status)
	}
}

// TestNavixyHandshake covers opening the socket: the Atmosphere parameters, the
// negotiation message, and every way to get them wrong.
func TestNavixyHandshake(t *testing.T) {
	demo, _, _ := navixyData(t)
	s := blimptest.Start(t, navixyRoot, nil)
	hash := navixyAuth(t, s, demo)

	t.Run("the document's request", func(t *testing.T) {
		_, id1, ms := navixyOpen(t, s, "")
		_, id2, _ := navixyOpen(t, s, "")
		if ms != 30000 {
			t.Fatalf("announced heartbeat: got %d ms, want 30000 as in the document", ms)
		}
		if id1 == id2 {
			t.Fatalf("two clients got the same tracking id %s", id1)
		}
	})
	t.Run("heartbeat asked for", func(t *testing.T) {
		if _, _, ms := navixyOpen(t, s, "&heartbeat=250"); ms != 250 {
			t.Fatalf("announced heartbeat: got %d ms, want 250", ms)
		}
	})
	t.Run("parameters as headers", func(t *testing.T) {
		h := http.Header{}
		for _, kv := range strings.Split(navixyAtmosphere, "&") {
			k, v, _ := strings.Cut(kv, "=")
			h.Set(k, v)
		}
		c, _, err := s.TryDial(t, navixySocket, h)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.ReadText(); !navixyNegotiation.MatchString(got) {
			t.Fatalf("first frame: got %q, want the negotiation message", got)
		}
	})
	// Atmosphere sends the negotiation message only to new clients that ask for it;
	// the socket works all the same.
	for _, tc := range []struct{ name, query string }{
		{"no X-atmo-protocol", "X-Atmosphere-tracking-id=0&X-Atmosphere-Transport=websocket"},
		{"returning client", "X-Atmosphere-tracking-id=b623a15d-9623-4fd8-a9d3-697036635c29&X-Atmosphere-Framework=2.3.6-javascript&X-Atmosphere-Transport=websocket&X-atmo-protocol=true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.Dial(t, navixySocket+"?"+tc.query)
			if got := navixySubscribe(t, c, hash, navixyVan1); got[strconv.Itoa(navixyVan1)] != "normal" {
				t.Fatalf("got statuses %v, want %d normal (and no negotiation message before)", got, navixyVan1)
			}
		})
	}

	base, _ := url.ParseQuery(navixyAtmosphere)
	for _, tc := range []struct {
		name       string
		change     map[string]string // "" deletes the parameter
		wantParams string
	}{
		{"no transport", map[string]string{"X-Atmosphere-Transport": ""}, "X-Atmosphere-Transport"},
		{"long-polling", map[string]string{"X-Atmosphere-Transport": "long-polling"}, "X-Atmosphere-Transport"},
		{"no tracking id", map[string]string{"X-Atmosphere-tracking-id": ""}, "X-Atmosphere-tracking-id"},
		{"bad tracking id", map[string]string{"X-Atmosphere-tracking-id": "abc"}, "X-Atmosphere-tracking-id"},
		{"old framework", map[string]string{"X-Atmosphere-Framework": "2.1.0-javascript"}, "X-Atmosphere-Framework"},
		{"no framework", map[string]string{"X-Atmosphere-Framework": ""}, "X-Atmosphere-Framework"},
		{"not JSON", map[string]string{"Content-Type": "text/plain"}, "Content-Type"},
		{"heartbeat not a number", map[string]string{"heartbeat": "soon"}, "heartbeat"},
		{"heartbeat too short", map[string]string{"heartbeat": "10"}, "heartbeat"},
		{"heartbeat too long", map[string]string{"heartbeat": "3600000"}, "heartbeat"},
		{"two wrong", map[string]string{"X-Atmosphere-Transport": "sse", "heartbeat": "-1"}, "X-Atmosphere-Transport,heartbeat"},
		{"plain WebSocket", map[string]string{"X-Atmosphere-Transport": "", "X-Atmosphere-tracking-id": "", "X-Atmosphere-Framework": "", "Content-Type": "", "X-atmo-protocol": ""}, "X-Atmosphere-Transport,X-Atmosphere-tracking-id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range base {
				q[k] = v
			}
			for k, v := range tc.change {
				if v == "" {
					q.Del(k)
				} else {
					q.Set(k, v)
				}
			}
			c := s.Dial(t, navixySocket+"?"+q.Encode())
			st := navixyExpectError(t, c, "", 7)
			if got := navixyParams(st.Errors); got != tc.wantParams {
				t.Fatalf("got errors for %q, want %q", got, tc.wantParams)
			}
			if code, _ := c.ExpectClose(); code != websocket.ClosePolicyViolation {
				t.Fatalf("got close code %d, want 1008", code)
			}
		})
	}
}

// TestNavixySubscription follows the document's workflow: authorize, open the
// socket, subscribe, get the current states, listen to events, unsubscribe.
func TestNavixySubscription(t *testing.T) {
	demo, other, trackers := navixyData(t)
	s := blimptest.Start(t, navixyRoot, nil)
	hash, otherHash := navixyAuth(t, s, demo), navixyAuth(t, s, other)
	a, _, _ := navixyOpen(t, s, "")
	b, _, _ := navixyOpen(t, s, "")

	// Subscribe: a status per tracker, then the current state of the normal ones.
	got := navixySubscribe(t, a, hash, navixyVan1, navixyVan2, navixyBlocked, navixyTruck, navixyNone)
	want := map[string]string{"15564": "normal", "15565": "normal", "15568": "blocked", "20001": "unknown", "99999": "unknown"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("subscribe statuses: got %v, want %v", got, want)
	}
	seen := map[int]bool{}
	for i := 0; i < 2; i++ {
		st := navixyExpectState(t, a)
		var tr navixyTracker
		for _, x := range trackers {
			if x.SourceID == st.SourceID {
				tr = x
			}
		}
		if (tr.ID != navixyVan1 && tr.ID != navixyVan2) || seen[tr.ID] {
			t.Fatalf("state event for source %d: want one for each of trackers %d and %d", st.SourceID, navixyVan1, navixyVan2)
		}
		seen[tr.ID] = true
		if st.GPS.Location.Lat != tr.Location.Lat || st.GPS.Location.Lng != tr.Location.Lng || st.ConnectionStatus != "offline" || st.GPS.Updated != nil {
			t.Fatalf("initial state of %d: got %+v, want the location of trackers.json, offline, never updated", tr.ID, st)
		}
	}
	navixyNoFrame(t, a) // nothing for the blocked and unknown trackers
	if got := navixySubscribe(t, b, otherHash, navixyTruck); got["20001"] != "normal" {
		t.Fatalf("other user's subscribe: got %v, want 20001 normal", got)
	}
	if st := navixyExpectState(t, b); st.SourceID != trackers[navixyTruck].SourceID {
		t.Fatalf("other user's state event: got source %d, want %d", st.SourceID, trackers[navixyTruck].SourceID)
	}

	// A tracker reports: its subscribers, and only they, get the new state.
	if n := navixyDelivered(t, s, map[string]any{"hash": hash, "tracker_id": navixyVan1, "lat": 52.53, "lng": 13.41, "speed": 42, "movement_status": "moving", "ignition": true}); n != 1 {
		t.Fatalf("delivered to %d connections, want 1", n)
	}
	st := navixyExpectState(t, a)
	if st.SourceID != trackers[navixyVan1].SourceID || st.GPS.Location.Lat != 52.53 || st.GPS.Location.Lng != 13.41 || st.GPS.Speed != 42 ||
		st.MovementStatus != "moving" || !st.Ignition || st.ConnectionStatus != "active" || st.GPS.Updated == nil {
		t.Fatalf("state event after the report: got %+v", st)
	}
	navixyNoFrame(t, b)
	if n := navixyDelivered(t, s, map[string]any{"hash": otherHash, "tracker_id": navixyTruck, "speed": 80}); n != 1 {
		t.Fatalf("delivered to %d connections, want 1", n)
	}
	if st := navixyExpectState(t, b); st.GPS.Speed != 80 || st.GPS.Location.Lat != trackers[navixyTruck].Location.Lat {
		t.Fatalf("truck's state event: got %+v, want speed 80 at its configured location", st)
	}
	navixyNoFrame(t, a)

	// A report as a form, the way the Navixy API takes parameters too; fields not
	// reported keep their values.
	status, reply := navixyCall(t, s, "POST", "/api/tracker/event", "application/x-www-form-urlencoded",
		url.Values{"hash": {hash}, "tracker_id": {"15564"}, "lat": {"52.54"}, "lng": {"13.42"}, "ignition": {"false"}}.Encode())
	if status != 200 || reply.Delivered == nil || *reply.Delivered != 1 {
		t.Fatalf("form report: got %d %+v", status, reply)
	}
	if st := navixyExpectState(t, a); st.GPS.Location.Lat != 52.54 || st.Ignition || st.GPS.Speed != 42 || st.MovementStatus != "moving" {
		t.Fatalf("state after the form report: got %+v, want lat 52.54, ignition off, speed and movement kept", st)
	}

	// Unsubscribe from one tracker: its events stop, the other's go on.
	if got := navixyUnsubscribe(t, a, hash, navixyVan1); fmt.Sprint(got) != "[15564]" {
		t.Fatalf("unsubscribe: got %v, want [15564]", got)
	}
	if n := navixyDelivered(t, s, map[string]any{"hash": hash, "tracker_id": navixyVan1, "lat": 52.55}); n != 0 {
		t.Fatalf("delivered to %d connections after unsubscribe, want 0", n)
	}
	navixyNoFrame(t, a)
	if n := navixyDelivered(t, s, map[string]any{"hash": hash, "tracker_id": navixyVan2, "speed": 5}); n != 1 {
		t.Fatalf("still subscribed tracker: delivered to %d, want 1", n)
	}
	if st := navixyExpectState(t, a); st.SourceID != trackers[navixyVan2].SourceID || st.GPS.Speed != 5 {
		t.Fatalf("got %+v, want tracker %d's new state", st, navixyVan2)
	}

	// Subscribing again brings the current state: the last report, kept while
	// nobody listened.
	navixySubscribe(t, a, hash, navixyVan1)
	if st := navixyExpectState(t, a); st.GPS.Location.Lat != 52.55 || st.GPS.Location.Lng != 13.42 {
		t.Fatalf("state after subscribing again: got %+v, want the latest report (lat 52.55)", st)
	}

	// Unsubscribe with no trackers: from all of them (the other user's tracker is
	// not the demo user's to unsubscribe).
	if got := navixyUnsubscribe(t, a, hash); fmt.Sprint(got) != "[15564 15565]" {
		t.Fatalf("unsubscribe from all: got %v, want [15564 15565]", got)
	}
	if got := navixyUnsubscribe(t, a, hash); len(got) != 0 {
		t.Fatalf("unsubscribe again: got %v, want none", got)
	}
	if n := navixyDelivered(t, s, map[string]any{"hash": hash, "tracker_id": navixyVan2, "speed": 6}); n != 0 {
		t.Fatalf("delivered to %d after unsubscribing from all, want 0", n)
	}
	navixyNoFrame(t, a)

	// Actions are handled in the order they come, even when sent back to back.
	a.Send(navixyJSON(t, map[string]any{"action": "subscribe", "hash": hash, "events": []string{"state"}, "trackers": []int{navixyVan1}}))
	a.Send(navixyJSON(t, map[string]any{"action": "unsubscribe", "hash": hash, "events": []string{"state"}}))
	var subscribed struct{ State map[string]string }
	navixyExpectResponse(t, a, "subscription/subscribe", &subscribed)
	navixyExpectState(t, a)
	var unsubscribed struct{ State []int }
	navixyExpectResponse(t, a, "subscription/unsubscribe", &unsubscribed)
	if fmt.Sprint(unsubscribed.State) != "[15564]" {
		t.Fatalf("back-to-back unsubscribe: got %v, want [15564]", unsubscribed.State)
	}
	if n := navixyDelivered(t, s, map[string]any{"hash": hash, "tracker_id": navixyVan1}); n != 0 {
		t.Fatalf("delivered to %d after back-to-back subscribe and unsubscribe, want 0", n)
	}
	navixyNoFrame(t, a)
}

// TestNavixySocketErrors sends every kind of bad action: each gets an error frame
// in the common format (never silence), and the connection goes on working.
func TestNavixySocketErrors(t *testing.T) {
	demo, _, _ := navixyData(t)
	s := blimptest.Start(t, navixyRoot, nil)
	hash := navixyAuth(t, s, demo)
	unknown := strings.Repeat("0f", 16)
	c, _, _ := navixyOpen(t, s, "")
	state := []string{"state"}
	for _, tc := range []struct {
		name       string
		frame      any // sent as JSON unless a string
		wantAction string
		wantCode   int
		wantParams string
	}{
		{"subscribe without hash", map[string]any{"action": "subscribe", "events": state, "trackers": []int{navixyVan1}}, "subscription/subscribe", 3, ""},
		{"malformed hash", map[string]any{"action": "subscribe", "hash": "abc", "events": state, "trackers": []int{navixyVan1}}, "subscription/subscribe", 3, ""},
		{"hash not a string", map[string]any{"action": "subscribe", "hash": 42, "events": state, "trackers": []int{navixyVan1}}, "subscription/subscribe", 3, ""},
		{"unknown hash", map[string]any{"action": "subscribe", "hash": unknown, "events": state, "trackers": []int{navixyVan1}}, "subscription/subscribe", 4, ""},
		{"hash checked first", map[string]any{"action": "subscribe", "events": []string{"nope"}}, "subscription/subscribe", 3, ""},
		{"unsubscribe without hash", map[string]any{"action": "unsubscribe", "events": state}, "subscription/unsubscribe", 3, ""},
		{"unsubscribe unknown hash", map[string]any{"action": "unsubscribe", "hash": unknown, "events": state}, "subscription/unsubscribe", 4, ""},
		{"no events", map[string]any{"action": "subscribe", "hash": hash, "trackers": []int{navixyVan1}}, "subscription/subscribe", 7, "events"},
		{"unknown event", map[string]any{"action": "subscribe", "hash": hash, "events": []string{"lifecycle"}, "trackers": []int{navixyVan1}}, "subscription/subscribe", 7, "events"},
		{"no trackers", map[string]any{"action": "subscribe", "hash": hash, "events": state}, "subscription/subscribe", 7, "trackers"},
		{"empty trackers", map[string]any{"action": "subscribe", "hash": hash, "events": state, "trackers": []int{}}, "subscription/subscribe", 7, "trackers"},
		{"trackers as text", map[string]any{"action": "subscribe", "hash": hash, "events": state, "trackers": []string{"15564"}}, "subscription/subscribe", 7, "trackers"},
		{"both wrong", map[string]any{"action": "subscribe", "hash": hash, "events": "state", "trackers": 15564}, "subscription/subscribe", 7, "events,trackers"},
		{"unsubscribe bad trackers", map[string]any{"action": "unsubscribe", "hash": hash, "events": state, "trackers": "all"}, "subscription/unsubscribe", 7, "trackers"},
		{"unknown action", map[string]any{"action": "watch", "hash": hash}, "watch", 7, "action"},
		{"no action", map[string]any{"hash": hash}, "", 7, "action"},
		{"not JSON", "subscribe please", "", 5, ""},
		{"JSON array", `[{"action": "subscribe"}]`, "", 5, ""},
		{"JSON null", `null`, "", 5, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if text, ok := tc.frame.(string); ok {
				c.Send(text)
			} else {
				navixySend(t, c, tc.frame)
			}
			st := navixyExpectError(t, c, tc.wantAction, tc.wantCode)
			if got := navixyParams(st.Errors); got != tc.wantParams {
				t.Fatalf("got errors for %q, want %q", got, tc.wantParams)
			}
		})
	}
	if err := c.WS.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	navixyExpectError(t, c, "", 5)

	// Nothing was subscribed by the failed actions, and the connection still works.
	if n := navixyDelivered(t, s, map[string]any{"hash": hash, "tracker_id": navixyVan1}); n != 0 {
		t.Fatalf("a failed subscribe subscribed: delivered to %d, want 0", n)
	}
	if got := navixySubscribe(t, c, hash, navixyVan1); got["15564"] != "normal" {
		t.Fatalf("subscribe after the errors: got %v", got)
	}
	navixyExpectState(t, c)
	if strings.Contains(s.Log.String(), "unexpected error") {
		t.Fatalf("a bad action reached an unexpected error:\n%s", s.Log.String())
	}
}

// TestNavixyReportErrors covers the error answers of POST /api/tracker/event.
func TestNavixyReportErrors(t *testing.T) {
	demo, _, _ := navixyData(t)
	s := blimptest.Start(t, navixyRoot, nil)
	hash := navixyAuth(t, s, demo)
	for _, tc := range []struct {
		name       string
		params     map[string]any
		wantStatus int
		wantCode   int
		wantParams string
	}{
		{"no hash", map[string]any{"tracker_id": navixyVan1}, 400, 3, ""},
		{"unknown hash", map[string]any{"hash": strings.Repeat("ab", 16), "tracker_id": navixyVan1}, 400, 4, ""},
		{"other user's tracker", map[string]any{"hash": hash, "tracker_id": navixyTruck}, 400, 201, ""},
		{"no such tracker", map[string]any{"hash": hash, "tracker_id": navixyNone}, 400, 201, ""},
		{"blocked tracker", map[string]any{"hash": hash, "tracker_id": navixyBlocked}, 403, 208, ""},
		{"no tracker_id", map[string]any{"hash": hash, "lat": 1}, 400, 7, "tracker_id"},
		{"fractional tracker_id", map[string]any{"hash": hash, "tracker_id": 1.5}, 400, 7, "tracker_id"},
		{"latitude out of range", map[string]any{"hash": hash, "tracker_id": navixyVan1, "lat": 91}, 400, 7, "lat"},
		{"negative speed", map[string]any{"hash": hash, "tracker_id": navixyVan1, "speed": -1}, 400, 7, "speed"},
		{"longitude as words", map[string]any{"hash": hash, "tracker_id": navixyVan1, "lng": "east"}, 400, 7, "lng"},
		{"unknown movement", map[string]any{"hash": hash, "tracker_id": navixyVan1, "movement_status": "flying"}, 400, 7, "movement_status"},
		{"ignition not boolean", map[string]any{"hash": hash, "tracker_id": navixyVan1, "ignition": "maybe"}, 400, 7, "ignition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, reply := navixyReport(t, s, tc.params)
			if status != tc.wantStatus || reply.Success || reply.Status.Code != tc.wantCode || reply.Status.Description == "" {
				t.Fatalf("got %d %+v, want %d with status code %d", status, reply, tc.wantStatus, tc.wantCode)
			}
			if got := navixyParams(reply.Errors); got != tc.wantParams {
				t.Fatalf("got errors for %q, want %q", got, tc.wantParams)
			}
		})
	}
	if status, reply := navixyCall(t, s, "POST", "/api/tracker/event", "application/json", `[1]`); status != 400 || reply.Status.Code != 5 {
		t.Fatalf("JSON array body: got %d %+v, want 400 with code 5", status, reply)
	}
	if status, _ := navixyCall(t, s, "GET", "/api/tracker/event", "", ""); status != http.StatusMethodNotAllowed {
		t.Fatalf("GET tracker/event: got %d, want 405", status)
	}
}

// TestNavixyHeartbeat covers the heartbeat frames "X": sent on the announced
// interval, mixed with the JSON frames, answered to with nothing, and stopped
// (their timers cleared) when the connection closes.
func TestNavixyHeartbeat(t *testing.T) {
	demo, _, _ := navixyData(t)
	s := blimptest.Start(t, navixyRoot, nil)
	hash := navixyAuth(t, s, demo)

	dialed := time.Now() // no heartbeat can be sent before this
	c, _, ms := navixyOpen(t, s, "&heartbeat=100")
	for i := 0; i < 3; i++ {
		if got := c.ReadText(); got != "X" {
			t.Fatalf("frame %d after the negotiation: got %q, want the heartbeat X", i+1, got)
		}
	}
	if elapsed := time.Since(dialed); elapsed < time.Duration(2*ms)*time.Millisecond {
		t.Fatalf("three heartbeats came within %v, want them %d ms apart", elapsed, ms)
	}

	// The client's own heartbeat gets no answer: the next frame that is not a
	// heartbeat answers the probe sent after it.
	c.Send("X")
	navixyNoFrame(t, c)

	// Heartbeats and JSON frames share the socket.
	if got := navixySubscribe(t, c, hash, navixyVan1); got["15564"] != "normal" {
		t.Fatalf("subscribe: got %v", got)
	}
	navixyExpectState(t, c)

	// One heartbeat timer per open socket; closing a socket clears its timer. The
	// second socket's interval (30 s) is far longer than this test, so only its
	// onClose can have cleared it.
	navixyWaitStatus(t, s, 1, 1)
	d, _, _ := navixyOpen(t, s, "")
	navixyWaitStatus(t, s, 2, 2)
	d.WS.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second))
	d.WS.Close()
	navixyWaitStatus(t, s, 1, 1)

	// A refused socket starts no heartbeat.
	r := s.Dial(t, navixySocket+"?X-Atmosphere-Transport=websocket&heartbeat=100")
	navixyExpectError(t, r, "", 7)
	r.ExpectClose()
	navixyWaitStatus(t, s, 1, 1)

	c.WS.Close()
	navixyWaitStatus(t, s, 0, 0)
}

// TestNavixyReloadAndRestart checks what must outlive the project's code: after a
// hot reload the heartbeats go on, subscriptions and session hashes hold; after a
// restart on the same store, hashes and the trackers' last states are still there.
func TestNavixyReloadAndRestart(t *testing.T) {
	demo, _, _ := navixyData(t)
	dataPath := filepath.Join(t.TempDir(), "blimp.db")
	tune := func(c *config.Config) { c.Data.Path = dataPath }
	s := blimptest.Start(t, navixyRoot, tune)
	hash := navixyAuth(t, s, demo)
	c, _, _ := navixyOpen(t, s, "&heartbeat=100")
	navixySubscribe(t, c, hash, navixyVan1)
	navixyExpectState(t, c)

	if err := s.LoadProject(navixyProject); err != nil {
		t.Fatalf("reload: %v", err)
	}
	// The old code and its timers are gone: these heartbeats come from the new code.
	navixyWaitStatus(t, s, 1, 1)
	for i := 0; i < 3; i++ {
		if got := c.ReadText(); got != "X" {
			t.Fatalf("after the reload: got %q, want heartbeats", got)
		}
	}
	if n := navixyDelivered(t, s, map[string]any{"hash": hash, "tracker_id": navixyVan1, "lat": 10.5}); n != 1 {
		t.Fatalf("after the reload: delivered to %d, want 1 (the subscription holds)", n)
	}
	if st := navixyExpectState(t, c); st.GPS.Location.Lat != 10.5 {
		t.Fatalf("after the reload: got %+v, want lat 10.5", st)
	}
	c.WS.Close()
	s.Stop()

	s2 := blimptest.Start(t, navixyRoot, tune)
	c2, _, _ := navixyOpen(t, s2, "")
	if got := navixySubscribe(t, c2, hash, navixyVan1); got["15564"] != "normal" {
		t.Fatalf("after the restart: got %v, want the old hash to hold", got)
	}
	if st := navixyExpectState(t, c2); st.GPS.Location.Lat != 10.5 || st.ConnectionStatus != "active" {
		t.Fatalf("after the restart: got %+v, want the last reported state (lat 10.5)", st)
	}
}
