package store

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// FuzzParseQuery feeds query objects, decoded from JSON as encoding/json
// does (numbers as float64), to ParseQuery. It must never panic, and a
// query it accepts must run on a small store without error.
func FuzzParseQuery(f *testing.F) {
	seeds := []string{
		`null`,
		`{}`,
		`"created"`,
		`[]`,
		`{"sortField":"created","sortOrder":"asc","offset":0,"limit":10,"filters":[{"field":"created","operator":">","value":1678724096803},{"field":"data.score","operator":">","value":55}]}`,
		`{"sortField":"data.score","sortOrder":"desc","limit":3}`,
		`{"groupBy":"data.liked","filters":[{"field":"data.score","operator":">=","value":50}]}`,
		`{"filters":[{"field":"data.tags","operator":"contains","value":"fruit"}]}`,
		`{"filters":[{"field":"name","operator":"in","value":["apple","fig"]}]}`,
		`{"filters":[{"field":"id","operator":"<=","value":"0186"}],"sortOrder":"DESC"}`,
		`{"filters":[{"field":"created","operator":"=","value":1000.5}]}`,
		`{"filters":[{"field":"data.nested","operator":"=","value":{"a":1}}]}`,
		`{"filters":[{"field":"price","operator":"!=","value":null}]}`,
		`{"filters":[{"field":"data.tags.0","operator":"eq","value":"red"}]}`,
		`{"offset":1e300}`,
		`{"limit":-1}`,
		`{"limit":2.5}`,
		`{"limit":"10"}`,
		`{"sortfield":"created"}`,
		`{"filters":{}}`,
		`{"filters":[{"field":"x","operator":"~","value":1}]}`,
		`{"filters":[{"field":"a..b","operator":"=","value":1}]}`,
		`{"filters":[{"field":"x","operator":"in","value":1}]}`,
		`{"filters":[{"field":"x","operator":">","value":true}]}`,
		`{"filters":[{"field":"x","operator":"="}]}`,
		`{"groupBy":""}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	s, err := Open(filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	for _, d := range fruit {
		if _, _, err := s.Save("p", "fruit", d); err != nil {
			f.Fatal(err)
		}
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		var raw any
		if json.Unmarshal(b, &raw) != nil {
			return
		}
		q, err := ParseQuery(raw)
		if err != nil {
			if _, ok := err.(*QueryError); !ok {
				t.Fatalf("ParseQuery(%s): error of type %T, want *QueryError: %v", b, err, err)
			}
			return
		}
		if q.GroupBy != "" {
			if _, err := s.Group("p", "fruit", q); err != nil {
				t.Fatalf("Group(%s): %v", b, err)
			}
		} else if _, err := s.List("p", "fruit", q); err != nil {
			t.Fatalf("List(%s): %v", b, err)
		}
		if _, err := s.Count("p", "fruit", q); err != nil {
			t.Fatalf("Count(%s): %v", b, err)
		}
	})
}
