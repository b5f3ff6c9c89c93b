package store

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openTest opens a store in a fresh temporary directory and closes it when
// the test ends.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "data", "blimp.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock makes s issue ids at the given milliseconds, one per call, then
// keep the last.
func clock(s *Store, ms ...int64) {
	var mu sync.Mutex
	s.now = func() int64 {
		mu.Lock()
		defer mu.Unlock()
		v := ms[0]
		if len(ms) > 1 {
			ms = ms[1:]
		}
		return v
	}
}

func mustSave(t testing.TB, s *Store, project, collection string, doc map[string]any) string {
	t.Helper()
	id, _, err := s.Save(project, collection, doc)
	if err != nil {
		t.Fatalf("Save(%q, %q): %v", project, collection, err)
	}
	return id
}

func TestSaveGetRemove(t *testing.T) {
	s := openTest(t)
	clock(s, 1678724096803)
	doc := map[string]any{
		"client_id": "widget-1",
		"username":  "ada",
		"id":        "mine", // replaced
		"created":   int64(1),
		"data": map[string]any{
			"score": int64(57), "ratio": 0.25, "tags": []any{"a", int64(2), nil, true},
			"html": "<b>&amp;</b>", "unicode": "é\u2028😀", "big": int64(1) << 60,
		},
	}
	orig := cloneJSON(doc)
	id, created, err := s.Save("p", "c", doc)
	if err != nil {
		t.Fatalf("Save: %v", err)
	}
	if !reflect.DeepEqual(doc, orig) {
		t.Errorf("Save modified its argument: got %v, want %v", doc, orig)
	}
	if created != 1678724096803 {
		t.Errorf("created: got %d, want 1678724096803", created)
	}
	if want := "0186dbc0e3230000"; id != want {
		t.Errorf("id: got %q, want %q", id, want)
	}
	got, err := s.Get("p", "c", id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want := cloneJSON(doc)
	want["id"] = id
	want["created"] = created
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Get: got %#v, want %#v", got, want)
	}

	for _, missing := range []string{"0186dbc0e3230001", "", "nonsense"} {
		got, err := s.Get("p", "c", missing)
		if got != nil || err != nil {
			t.Errorf("Get(%q): got %v, %v, want nil, nil", missing, got, err)
		}
	}
	if got, err := s.Get("p", "other", id); got != nil || err != nil {
		t.Errorf("Get in a collection never written: got %v, %v, want nil, nil", got, err)
	}

	removed, err := s.Remove("p", "c", id)
	if err != nil || !removed {
		t.Fatalf("Remove: got %v, %v, want true, nil", removed, err)
	}
	removed, err = s.Remove("p", "c", id)
	if err != nil || removed {
		t.Errorf("second Remove: got %v, %v, want false, nil", removed, err)
	}
	if got, err := s.Get("p", "c", id); got != nil || err != nil {
		t.Errorf("Get after Remove: got %v, %v, want nil, nil", got, err)
	}
}

// cloneJSON deep-copies maps and slices.
func cloneJSON(m map[string]any) map[string]any {
	var clone func(any) any
	clone = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range v {
				out[k] = clone(e)
			}
			return out
		case []any:
			out := []any{}
			for _, e := range v {
				out = append(out, clone(e))
			}
			return out
		}
		return v
	}
	return clone(m).(map[string]any)
}

func TestSaveNilAndEmpty(t *testing.T) {
	s := openTest(t)
	for _, doc := range []map[string]any{nil, {}, {"id": "x"}} {
		id, created, err := s.Save("p", "c", doc)
		if err != nil {
			t.Fatalf("Save(%v): %v", doc, err)
		}
		got, err := s.Get("p", "c", id)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"id": id, "created": created}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Save(%v) then Get: got %v, want %v", doc, got, want)
		}
	}
}

func TestSaveErrors(t *testing.T) {
	s := openTest(t)
	tests := []struct {
		name                string
		project, collection string
		doc                 map[string]any
		want                string
	}{
		{"empty project", "", "c", nil, "project name is empty"},
		{"empty collection", "p", "", nil, "collection name is empty"},
		{"long collection", "p", strings.Repeat("x", MaxNameLen+1), nil, "more than 128"},
		{"slash in collection", "p", "a/b", nil, `collection name "a/b" has the character '/'; use only letters`},
		{"control in project", "p\n", "c", nil, `control character '\n'`},
		{"bad utf8 project", "p\xff", "c", nil, "not valid UTF-8"},
		{"func value", "p", "c", map[string]any{"f": func() {}}, `save in "c": document cannot be stored as JSON: json: unsupported type: func()`},
		{"NaN", "p", "c", map[string]any{"n": nanValue()}, "unsupported value: NaN"},
		{"too big", "p", "c", map[string]any{"s": strings.Repeat("x", MaxDocumentSize)}, "more than the limit of 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.Save(tt.project, tt.collection, tt.doc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	// The project name may be any printable text: it is a folder name.
	if _, _, err := s.Save("my project é", "c", nil); err != nil {
		t.Errorf("Save with a project name with a space: got %v, want nil", err)
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func TestIDsIncreaseAndEncodeCreated(t *testing.T) {
	s := openTest(t)
	// Same millisecond, then the clock goes back, then forward.
	clock(s, 5000, 5000, 5000, 3000, 7000)
	var prev string
	wantCreated := []int64{5000, 5000, 5000, 5000, 7000}
	for i, want := range wantCreated {
		id, created, err := s.Save("p", "c", map[string]any{"i": int64(i)})
		if err != nil {
			t.Fatal(err)
		}
		if id <= prev {
			t.Errorf("save %d: id %q is not after %q", i, id, prev)
		}
		if created != want {
			t.Errorf("save %d: created %d, want %d", i, created, want)
		}
		n, ok := parseID([]byte(id))
		if !ok || int64(n>>seqBits) != created {
			t.Errorf("save %d: id %q does not start with created %d", i, id, created)
		}
		prev = id
	}

	// Reopening carries the last id over, whatever the clock says.
	path := s.Path()
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	clock(s2, 1000)
	id, created, err := s2.Save("p", "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	if id <= prev || created != 7000 {
		t.Errorf("after reopen with the clock back: got id %q created %d, want an id after %q and created 7000", id, created, prev)
	}
}

func TestConcurrentSavesAreUnique(t *testing.T) {
	s := openTest(t)
	const writers, each = 20, 50
	ids := make(chan string, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id, _, err := s.Save("p", "c", map[string]any{"w": int64(w), "i": int64(i)})
				if err != nil {
					t.Error(err)
					return
				}
				ids <- id
			}
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("id %q issued twice", id)
		}
		seen[id] = true
	}
	n, err := s.Count("p", "c", Query{})
	if err != nil || n != writers*each || len(seen) != writers*each {
		t.Errorf("got %d documents and %d ids (err %v), want %d", n, len(seen), err, writers*each)
	}
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dirs", "blimp.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 5 {
		ids = append(ids, mustSave(t, s, "p", "scores", map[string]any{"n": int64(i), "data": map[string]any{"x": 1.5}}))
	}
	if removed, err := s.Remove("p", "scores", ids[2]); !removed || err != nil {
		t.Fatalf("Remove: %v, %v", removed, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if _, _, err := s.Save("p", "scores", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Save after Close: got %v, want ErrClosed", err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	docs, err := s.List("p", "scores", Query{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, d["id"].(string))
		if d["data"].(map[string]any)["x"] != 1.5 {
			t.Errorf("document %v: data.x: got %v, want 1.5", d["id"], d["data"])
		}
	}
	want := []string{ids[0], ids[1], ids[3], ids[4]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ids after reopen: got %v, want %v", got, want)
	}
}

func TestProjectsAreIsolated(t *testing.T) {
	s := openTest(t)
	id := mustSave(t, s, "alpha", "scores", map[string]any{"secret": "a"})
	mustSave(t, s, "beta", "other", map[string]any{"x": int64(1)})

	if got, err := s.Get("beta", "scores", id); got != nil || err != nil {
		t.Errorf("beta Get alpha's id: got %v, %v, want nil, nil", got, err)
	}
	if docs, err := s.List("beta", "scores", Query{}); len(docs) != 0 || err != nil {
		t.Errorf("beta List scores: got %v, %v, want none", docs, err)
	}
	if n, err := s.Count("beta", "scores", Query{}); n != 0 || err != nil {
		t.Errorf("beta Count scores: got %d, %v, want 0", n, err)
	}
	if removed, err := s.Remove("beta", "scores", id); removed || err != nil {
		t.Errorf("beta Remove alpha's id: got %v, %v, want false, nil", removed, err)
	}
	if got, err := s.Get("alpha", "scores", id); got == nil || err != nil {
		t.Errorf("alpha's document after beta's attempts: got %v, %v, want it", got, err)
	}
	if docs, err := s.List("alpha", "other", Query{}); len(docs) != 0 || err != nil {
		t.Errorf("alpha List beta's collection: got %v, %v, want none", docs, err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blimp.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s2, err := Open(path)
	if err == nil {
		s2.Close()
		t.Fatal("second Open of the same file: got no error, want a lock error")
	}
	want := `data file "` + path + `": locked by another process (is another blimp running?)`
	if err.Error() != want {
		t.Errorf("got error %q, want %q", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %v, want about %v", d, lockTimeout)
	}
	s.Close()
	s3, err := Open(path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s3.Close()
}

func TestOpenBadFile(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign.db")
	db, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("someone-else"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, path string
		want       []string
	}{
		{"garbage", garbage, []string{`data file "` + garbage + `"`, "not a blimp data file, or damaged (invalid database)"}},
		{"foreign bbolt file", foreign, []string{`data file "` + foreign + `"`, `not a blimp data file: it holds buckets ["someone-else"]`}},
		{"parent is a file", filepath.Join(blocker, "blimp.db"), []string{`data file "` + filepath.Join(blocker, "blimp.db") + `"`, "not a directory"}},
		{"no path", "", []string{"no path given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path)
			if err == nil {
				s.Close()
				t.Fatal("got no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestDamagedDocument(t *testing.T) {
	s := openTest(t)
	id := mustSave(t, s, "p", "c", map[string]any{"data": map[string]any{"score": int64(1)}})
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b, _ := collectionBucket(tx, "p", "c", false)
		return b.Put([]byte(id), []byte(`{"created":1,"id":"x","data":{"score":`))
	}); err != nil {
		t.Fatal(err)
	}
	want := `document "` + id + `" is damaged`
	if _, err := s.Get("p", "c", id); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Get: got %v, want an error containing %q", err, want)
	}
	q, err := ParseQuery(map[string]any{"filters": []any{map[string]any{"field": "data.score", "operator": ">", "value": int64(0)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.List("p", "c", q); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("List: got %v, want an error containing %q", err, want)
	}
}
