package store

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fruit are the documents of the query tests, saved in this order, one
// second apart from created = 1000000.
var fruit = []map[string]any{
	{"name": "apple", "price": 1.5, "data": map[string]any{"score": int64(10), "tags": []any{"red", "fruit"}, "liked": true}},
	{"name": "banana", "price": int64(2), "data": map[string]any{"score": 55.5, "tags": []any{"yellow", "fruit"}, "liked": false}},
	{"name": "cherry", "price": nil, "data": map[string]any{"score": int64(90), "tags": []any{}, "liked": true}},
	{"name": "date", "data": map[string]any{"liked": true}},
	{"name": "Elder", "data": map[string]any{"score": "high"}},
	{"name": "fig", "data": map[string]any{"score": 55.0, "nested": map[string]any{"a": int64(1)}}},
}

const fruitStart = 1000000

func fruitStore(t testing.TB) *Store {
	t.Helper()
	s := openTest(t)
	var ms []int64
	for i := range fruit {
		ms = append(ms, fruitStart+int64(i)*1000)
	}
	clock(s, ms...)
	for _, d := range fruit {
		mustSave(t, s, "p", "fruit", d)
	}
	return s
}

// expectNames lists project "p"'s fruit with the raw query, checks the names and
// returns the parsed query.
func expectNames(t *testing.T, s *Store, raw any, want []string) Query {
	t.Helper()
	q, err := ParseQuery(raw)
	if err != nil {
		t.Fatalf("ParseQuery: %v", err)
	}
	docs, err := s.List("p", "fruit", q)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got := names(docs); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	return q
}

func names(docs []map[string]any) []string {
	out := []string{}
	for _, d := range docs {
		out = append(out, d["name"].(string))
	}
	return out
}

func f(field, op string, value any) any {
	return map[string]any{"field": field, "operator": op, "value": value}
}

func filters(fs ...any) map[string]any {
	return map[string]any{"filters": fs}
}

func TestListFilters(t *testing.T) {
	s := fruitStore(t)
	tests := []struct {
		name  string
		query map[string]any
		want  []string
	}{
		{"no filters", nil, []string{"apple", "banana", "cherry", "date", "Elder", "fig"}},
		{"> int", filters(f("data.score", ">", int64(55))), []string{"banana", "cherry"}},
		{"> float", filters(f("data.score", ">", 55.4)), []string{"banana", "cherry"}},
		{">= int matches float 55.0", filters(f("data.score", ">=", int64(55))), []string{"banana", "cherry", "fig"}},
		{"= int matches float", filters(f("data.score", "=", int64(55))), []string{"fig"}},
		{"= float matches int", filters(f("data.score", "=", 90.0)), []string{"cherry"}},
		{"== json float", filters(f("data.score", "==", 10.0)), []string{"apple"}},
		{"< float", filters(f("data.score", "<", 55.5)), []string{"apple", "fig"}},
		{"<= int", filters(f("data.score", "<=", int64(10))), []string{"apple"}},
		{"!= skips missing, keeps other types", filters(f("data.score", "!=", int64(55))), []string{"apple", "banana", "cherry", "Elder"}},
		{"> string compares strings only", filters(f("data.score", ">", "a")), []string{"Elder"}},
		{"string order is by bytes", filters(f("name", ">", "b")), []string{"banana", "cherry", "date", "fig"}},
		{"string <=", filters(f("name", "<=", "banana")), []string{"apple", "banana", "Elder"}},
		{"bool =", filters(f("data.liked", "=", true)), []string{"apple", "cherry", "date"}},
		{"bool !=", filters(f("data.liked", "!=", true)), []string{"banana"}},
		{"bool never equals number", filters(f("data.liked", "=", int64(1))), []string{}},
		{"in", filters(f("name", "in", []any{"fig", "apple", "zzz"})), []string{"apple", "fig"}},
		{"in numbers", filters(f("data.score", "in", []any{55.5, int64(90), "10"})), []string{"banana", "cherry"}},
		{"in empty", filters(f("name", "in", []any{})), []string{}},
		{"contains substring", filters(f("name", "contains", "an")), []string{"banana"}},
		{"contains element", filters(f("data.tags", "contains", "fruit")), []string{"apple", "banana"}},
		{"contains on number field", filters(f("data.score", "contains", "1")), []string{}},
		{"= null matches explicit null only", filters(f("price", "=", nil)), []string{"cherry"}},
		{"!= null skips missing", filters(f("price", "!=", nil)), []string{"apple", "banana"}},
		{"= object", filters(f("data.nested", "=", map[string]any{"a": 1.0})), []string{"fig"}},
		{"= array", filters(f("data.tags", "=", []any{"red", "fruit"})), []string{"apple"}},
		{"= empty array", filters(f("data.tags", "=", []any{})), []string{"cherry"}},
		{"array index", filters(f("data.tags.0", "=", "yellow")), []string{"banana"}},
		{"array index out of range", filters(f("data.tags.5", "!=", "x")), []string{}},
		{"path through a scalar", filters(f("name.x", "!=", "x")), []string{}},
		{"missing field never matches", filters(f("nope", "!=", int64(1))), []string{}},
		{"word forms", filters(f("data.score", "GT", int64(10)), f("data.score", "lte", int64(90)), f("data.score", "ne", 55.5)), []string{"cherry", "fig"}},
		{"filters AND", filters(f("data.liked", "eq", true), f("data.score", "gte", int64(50))), []string{"cherry"}},
		{"huge float", filters(f("data.score", ">", 1e300)), []string{}},
		{"created >", filters(f("created", ">", int64(fruitStart+2000))), []string{"date", "Elder", "fig"}},
		{"created > fraction", filters(f("created", ">", fruitStart+1999.5)), []string{"cherry", "date", "Elder", "fig"}},
		{"created >= and <", filters(f("created", ">=", int64(fruitStart+1000)), f("created", "<", int64(fruitStart+3000))), []string{"banana", "cherry"}},
		{"created <=", filters(f("created", "<=", float64(fruitStart+1000))), []string{"apple", "banana"}},
		{"created =", filters(f("created", "=", int64(fruitStart+4000))), []string{"Elder"}},
		{"created = fraction", filters(f("created", "=", fruitStart+0.5)), []string{}},
		{"created != ", filters(f("created", "!=", int64(fruitStart))), []string{"banana", "cherry", "date", "Elder", "fig"}},
		{"created in", filters(f("created", "in", []any{int64(fruitStart), int64(fruitStart + 5000)})), []string{"apple", "fig"}},
		{"created with a string", filters(f("created", ">", "0")), []string{}},
		{"created empty range", filters(f("created", ">", int64(fruitStart+3000)), f("created", "<", int64(fruitStart+2000))), []string{}},
		{"created negative", filters(f("created", "<", int64(-5))), []string{}},
		{"created beyond the id range", filters(f("created", "<", 1e300)), []string{"apple", "banana", "cherry", "date", "Elder", "fig"}},
		{"created with other filters", filters(f("created", ">=", int64(fruitStart+1000)), f("data.liked", "=", true)), []string{"cherry", "date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw any
			if tt.query != nil {
				raw = tt.query
			}
			q := expectNames(t, s, raw, tt.want)
			n, err := s.Count("p", "fruit", q)
			if err != nil || n != len(tt.want) {
				t.Errorf("Count: got %d, %v, want %d", n, err, len(tt.want))
			}
		})
	}
}

func TestListIDFilters(t *testing.T) {
	s := fruitStore(t)
	all, err := s.List("p", "fruit", Query{})
	if err != nil {
		t.Fatal(err)
	}
	id := func(i int) string { return all[i]["id"].(string) }
	tests := []struct {
		name string
		f    any
		want []string
	}{
		{"=", f("id", "=", id(2)), []string{"cherry"}},
		{">", f("id", ">", id(3)), []string{"Elder", "fig"}},
		{">=", f("id", ">=", id(3)), []string{"date", "Elder", "fig"}},
		{"<", f("id", "<", id(1)), []string{"apple"}},
		{"<=", f("id", "<=", id(1)), []string{"apple", "banana"}},
		{"= unknown", f("id", "=", "zzz"), []string{}},
		{"= number", f("id", "=", int64(1)), []string{}},
		{"in", f("id", "in", []any{id(0), id(5)}), []string{"apple", "fig"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectNames(t, s, filters(tt.f), tt.want)
		})
	}
}

func TestListSortAndPage(t *testing.T) {
	s := fruitStore(t)
	tests := []struct {
		name  string
		query map[string]any
		want  []string
	}{
		{"created asc", map[string]any{"sortField": "created", "sortOrder": "asc"}, []string{"apple", "banana", "cherry", "date", "Elder", "fig"}},
		{"created desc", map[string]any{"sortField": "created", "sortOrder": "desc"}, []string{"fig", "Elder", "date", "cherry", "banana", "apple"}},
		{"id DESC", map[string]any{"sortField": "id", "sortOrder": "DESC"}, []string{"fig", "Elder", "date", "cherry", "banana", "apple"}},
		{"offset limit asc", map[string]any{"offset": int64(1), "limit": int64(2)}, []string{"banana", "cherry"}},
		{"offset limit desc", map[string]any{"sortOrder": "desc", "offset": 1.0, "limit": 2.0}, []string{"Elder", "date"}},
		{"offset past the end", map[string]any{"offset": int64(10)}, []string{}},
		{"limit 0 is the default", map[string]any{"limit": int64(0)}, []string{"apple", "banana", "cherry", "date", "Elder", "fig"}},
		{"null values are absent", map[string]any{"limit": nil, "sortField": nil, "filters": nil}, []string{"apple", "banana", "cherry", "date", "Elder", "fig"}},
		{"desc with created range", map[string]any{"sortOrder": "desc", "limit": int64(2), "filters": []any{f("created", "<", int64(fruitStart+4000))}}, []string{"date", "cherry"}},
		{"desc with created range and filter", map[string]any{"sortOrder": "desc", "filters": []any{f("created", "<=", int64(fruitStart+4000)), f("data.liked", "=", true)}}, []string{"date", "cherry", "apple"}},
		// Numbers, then strings; missing last.
		{"data path asc", map[string]any{"sortField": "data.score"}, []string{"apple", "fig", "banana", "cherry", "Elder", "date"}},
		{"data path desc", map[string]any{"sortField": "data.score", "sortOrder": "desc"}, []string{"Elder", "cherry", "banana", "fig", "apple", "date"}},
		{"data path page", map[string]any{"sortField": "data.score", "offset": int64(2), "limit": int64(2)}, []string{"banana", "cherry"}},
		{"data path page desc", map[string]any{"sortField": "data.score", "sortOrder": "desc", "offset": int64(4), "limit": int64(5)}, []string{"apple", "date"}},
		{"data path with filter", map[string]any{"sortField": "data.score", "sortOrder": "desc", "filters": []any{f("data.liked", "=", true)}}, []string{"cherry", "apple", "date"}},
		// false < true; missing (Elder, fig) last, then by id.
		{"bool field", map[string]any{"sortField": "data.liked"}, []string{"banana", "apple", "cherry", "date", "Elder", "fig"}},
		// Ties by id in the sort direction.
		{"bool field desc", map[string]any{"sortField": "data.liked", "sortOrder": "desc"}, []string{"date", "cherry", "apple", "banana", "fig", "Elder"}},
		// null sorts first among present values.
		{"null sorts first", map[string]any{"sortField": "price"}, []string{"cherry", "apple", "banana", "date", "Elder", "fig"}},
		{"string field", map[string]any{"sortField": "name", "limit": int64(3)}, []string{"Elder", "apple", "banana"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectNames(t, s, tt.query, tt.want)
		})
	}
}

func TestGroup(t *testing.T) {
	s := fruitStore(t)
	mustSave(t, s, "p", "fruit", map[string]any{"name": "grape", "data": map[string]any{"score": 55.5, "nested": map[string]any{"a": 1.0}}})
	tests := []struct {
		name  string
		query map[string]any
		want  []Group
	}{
		{"bool", map[string]any{"groupBy": "data.liked"}, []Group{{nil, 3}, {true, 3}, {false, 1}}},
		// 55 and 55.0 are one number; ties by value.
		{"numbers", map[string]any{"groupBy": "data.score"}, []Group{{55.5, 2}, {nil, 1}, {int64(10), 1}, {int64(55), 1}, {int64(90), 1}, {"high", 1}}},
		// grape's {"a": 1.0} and fig's {"a": 1} are one value.
		{"objects", map[string]any{"groupBy": "data.nested"}, []Group{{nil, 5}, {map[string]any{"a": int64(1)}, 2}}},
		{"with filter", map[string]any{"groupBy": "data.liked", "filters": []any{f("data.score", ">", int64(50))}}, []Group{{nil, 2}, {false, 1}, {true, 1}}},
		{"paged", map[string]any{"groupBy": "data.score", "offset": int64(1), "limit": int64(2)}, []Group{{nil, 1}, {int64(10), 1}}},
		{"sort keys do not apply", map[string]any{"groupBy": "data.liked", "sortField": "created", "sortOrder": "asc"}, []Group{{nil, 3}, {true, 3}, {false, 1}}},
		{"nothing matches", map[string]any{"groupBy": "data.liked", "filters": []any{f("name", "=", "zzz")}}, []Group{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery(tt.query)
			if err != nil {
				t.Fatalf("ParseQuery: %v", err)
			}
			got, err := s.Group("p", "fruit", q)
			if err != nil {
				t.Fatalf("Group: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			unpaged := q
			unpaged.Offset, unpaged.Limit = 0, 0
			all, err := s.Group("p", "fruit", unpaged)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := s.Count("p", "fruit", q); n != len(all) || err != nil {
				t.Errorf("Count with groupBy: got %d, %v, want %d groups", n, err, len(all))
			}
		})
	}

	if _, err := s.List("p", "fruit", Query{GroupBy: "data.liked"}); err == nil || !strings.Contains(err.Error(), `the query has groupBy "data.liked"; call Group`) {
		t.Errorf("List with groupBy: got %v, want an error pointing to Group", err)
	}
	if _, err := s.Group("p", "fruit", Query{}); err == nil || !strings.Contains(err.Error(), "no groupBy") {
		t.Errorf("Group without groupBy: got %v, want an error", err)
	}
	if got, err := s.Group("p", "none", Query{GroupBy: "x"}); err != nil || got == nil || len(got) != 0 {
		t.Errorf("Group on a missing collection: got %#v, %v, want an empty slice", got, err)
	}
}

func TestQueryErrors(t *testing.T) {
	longPath := strings.Repeat("a.", 200) + "b"
	tests := []struct {
		name  string
		query any
		want  string
	}{
		{"not an object", "created", "invalid query: must be an object with the keys sortField, sortOrder, offset, limit, filters, groupBy, got string"},
		{"array", []any{}, "got array"},
		{"unknown key", map[string]any{"bogus": 1.0}, "invalid query: bogus: unknown key; valid keys are sortField, sortOrder, offset, limit, filters, groupBy"},
		{"wrong case key", map[string]any{"sortfield": "created"}, `sortfield: unknown key; did you mean "sortField"?`},
		{"limit string", map[string]any{"limit": "10"}, "limit: must be a number, got string"},
		{"limit negative", map[string]any{"limit": int64(-1)}, "limit: must not be negative, got -1"},
		{"limit fraction", map[string]any{"limit": 2.5}, "limit: must be a whole number, got 2.5"},
		{"limit too large", map[string]any{"limit": int64(5000)}, "limit: 5000 is above the maximum of 1000; use offset to page through results"},
		{"limit huge", map[string]any{"limit": 1e300}, "limit: 1e+300 is above the maximum of 1000"},
		{"limit NaN", map[string]any{"limit": math.NaN()}, "limit: must be a finite number, got NaN"},
		{"limit bool", map[string]any{"limit": true}, "limit: must be a number, got boolean"},
		{"offset negative", map[string]any{"offset": -3.0}, "offset: must not be negative, got -3"},
		{"offset too large", map[string]any{"offset": 1e10}, "offset: 1e+10 is above the maximum of 2147483647"},
		{"offset object", map[string]any{"offset": map[string]any{}}, "offset: must be a number, got object"},
		{"sortOrder", map[string]any{"sortOrder": "up"}, `sortOrder: must be "asc" or "desc", got "up"`},
		{"sortOrder type", map[string]any{"sortOrder": int64(1)}, "sortOrder: must be a string, got number"},
		{"sortField empty segment", map[string]any{"sortField": "data..x"}, `sortField: bad field path "data..x": empty segment`},
		{"sortField empty", map[string]any{"sortField": ""}, "sortField: must not be empty"},
		{"sortField type", map[string]any{"sortField": []any{"a"}}, "sortField: must be a string, got array"},
		{"sortField too long", map[string]any{"sortField": longPath}, "sortField: field path is too long (401 bytes, at most 256)"},
		{"groupBy type", map[string]any{"groupBy": int64(3)}, "groupBy: must be a string, got number"},
		{"groupBy trailing dot", map[string]any{"groupBy": "data."}, `groupBy: bad field path "data."`},
		{"filters object", map[string]any{"filters": map[string]any{}}, "filters: must be an array of {field, operator, value} objects, got object"},
		{"filter not object", map[string]any{"filters": []any{"x"}}, "filters[0]: must be an object {field, operator, value}, got string"},
		{"filter missing field", filters(map[string]any{"operator": "=", "value": 1.0}), "filters[0]: missing field"},
		{"filter null field", filters(map[string]any{"field": nil, "operator": "=", "value": 1.0}), "filters[0]: missing field"},
		{"filter missing operator", filters(f("a", "=", 1.0), map[string]any{"field": "x", "value": 1.0}), "filters[1]: missing operator"},
		{"filter missing value", filters(map[string]any{"field": "x", "operator": "="}), "filters[0]: missing value (use null to compare with null)"},
		{"filter unknown key", filters(map[string]any{"field": "x", "operator": "=", "value": 1.0, "extra": true}), "filters[0].extra: unknown key; valid keys are field, operator, value"},
		{"filter wrong case key", filters(map[string]any{"Field": "x", "operator": "=", "value": 1.0}), `filters[0].Field: unknown key; did you mean "field"?`},
		{"unknown operator", filters(f("x", "~", 1.0)), `filters[0].operator: unknown operator "~"; valid operators are =, !=, >, >=, <, <=, contains, in (or the words eq, ne, gt, gte, lt, lte)`},
		{"empty operator", filters(f("x", "", 1.0)), `filters[0].operator: unknown operator ""`},
		{"prose operator", filters(f("x", "greater than", 1.0)), `unknown operator "greater than"`},
		{"operator type", filters(map[string]any{"field": "x", "operator": int64(1), "value": 1.0}), "filters[0].operator: must be a string, got number"},
		{"field type", filters(map[string]any{"field": int64(5), "operator": "=", "value": 1.0}), "filters[0].field: must be a string, got number"},
		{"field empty", filters(f("", "=", 1.0)), "filters[0].field: must not be empty"},
		{"field leading dot", filters(f(".a", "=", 1.0)), `filters[0].field: bad field path ".a": empty segment`},
		{"in without array", filters(f("x", "in", 1.0)), `filters[0].value: operator "in" needs an array of values, got number`},
		{"> with bool", filters(f("x", ">", true)), `filters[0].value: operator ">" compares numbers or strings, got boolean`},
		{"<= with null", filters(f("x", "<=", nil)), `operator "<=" compares numbers or strings, got null`},
		{"gte with array", filters(f("x", "gte", []any{})), `operator "gte" compares numbers or strings, got array`},
		{"value NaN", filters(f("x", "=", math.Inf(1))), "filters[0].value: must be a finite number, got +Inf"},
		{"nested NaN", filters(f("x", "in", []any{1.0, math.NaN()})), "filters[0].value: [1]: must be a finite number"},
		{"date value", filters(f("created", ">", time.Now())), "filters[0].value: dates are not supported; compare with a number of milliseconds since the epoch (date.getTime())"},
		{"func value", filters(f("x", "=", func() {})), "filters[0].value: unsupported value of type func()"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseQuery(tt.query)
			if err == nil {
				t.Fatalf("got no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to contain %q", err, tt.want)
			}
			var qe *QueryError
			if !errors.As(err, &qe) {
				t.Errorf("got error of type %T, want *QueryError", err)
			}
		})
	}
}

// TestQueryStructChecked checks that a Query built in Go is held to the
// rules ParseQuery applies.
func TestQueryStructChecked(t *testing.T) {
	s := openTest(t)
	tests := []struct {
		name string
		q    Query
		want string
	}{
		{"negative limit", Query{Limit: -1}, "limit: must not be negative"},
		{"large limit", Query{Limit: MaxLimit + 1}, "limit: 1001 is above the maximum of 1000"},
		{"negative offset", Query{Offset: -1}, "offset: must not be negative"},
		{"bad sort path", Query{SortField: "a..b"}, "sortField: bad field path"},
		{"bad operator", Query{Filters: []Filter{{Field: "a", Operator: "like", Value: "x"}}}, `filters[0].operator: unknown operator "like"`},
		{"bad value type", Query{Filters: []Filter{{Field: "a", Operator: "=", Value: struct{}{}}}}, "filters[0].value: unsupported value of type struct {}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.List("p", "c", tt.q)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("List: got %v, want an error containing %q", err, tt.want)
			}
			if _, err := s.Count("p", "c", tt.q); err == nil {
				t.Errorf("Count: got no error")
			}
		})
	}
	// Go integer types are fine.
	q := Query{Filters: []Filter{{Field: "n", Operator: "=", Value: uint8(3)}}}
	mustSave(t, s, "p", "c", map[string]any{"n": 3})
	if n, err := s.Count("p", "c", q); n != 1 || err != nil {
		t.Errorf("Count with a uint8 value: got %d, %v, want 1", n, err)
	}
}

func TestParseQueryJSON(t *testing.T) {
	// The Cinema8 example, as encoding/json decodes it (numbers as float64).
	const src = `{"sortField":"created","sortOrder":"asc","offset":0,"limit":10,"filters":[{"field":"created","operator":">","value":1678724096803},{"field":"data.score","operator":">","value":55}],"groupBy":null}`
	var raw any
	if err := json.Unmarshal([]byte(src), &raw); err != nil {
		t.Fatal(err)
	}
	q, err := ParseQuery(raw)
	if err != nil {
		t.Fatalf("ParseQuery: %v", err)
	}
	want := Query{SortField: "created", Limit: 10, Filters: []Filter{
		{Field: "created", Operator: ">", Value: 1678724096803.0},
		{Field: "data.score", Operator: ">", Value: 55.0},
	}}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("got %+v, want %+v", q, want)
	}
	// With UseNumber.
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseQuery(raw); err != nil {
		t.Errorf("ParseQuery with json.Number: %v", err)
	}
}

// TestCreatedUsesKeyRange checks that filters on created and id become a
// key range rather than filters tested on every document.
func TestCreatedUsesKeyRange(t *testing.T) {
	tests := []struct {
		name           string
		filters        []Filter
		lo, hi         string
		empty          bool
		residualFilter int
	}{
		{"created >", []Filter{{"created", ">", int64(1000)}}, string(idKey(1001 << seqBits)), "", false, 0},
		{"created >= <", []Filter{{"created", ">=", int64(1000)}, {"created", "<", 2000.5}}, string(idKey(1000 << seqBits)), string(idKey(2001 << seqBits)), false, 0},
		{"created =", []Filter{{"created", "=", int64(7)}}, string(idKey(7 << seqBits)), string(idKey(8 << seqBits)), false, 0},
		{"id >", []Filter{{"id", ">", "abc"}}, "abc\x00", "", false, 0},
		{"created and other", []Filter{{"created", "<=", int64(5)}, {"data.x", "=", int64(1)}}, "", string(idKey(6 << seqBits)), false, 1},
		{"created !=", []Filter{{"created", "!=", int64(5)}}, "", "", false, 1},
		{"created crossed", []Filter{{"created", ">", int64(5)}, {"created", "<", int64(5)}}, string(idKey(6 << seqBits)), string(idKey(5 << seqBits)), true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := compile(Query{Filters: tt.filters})
			if err != nil {
				t.Fatal(err)
			}
			if string(p.lo) != tt.lo || string(p.hi) != tt.hi || p.empty != tt.empty || len(p.filters) != tt.residualFilter {
				t.Errorf("got range [%q, %q) empty=%v with %d filters, want [%q, %q) empty=%v with %d",
					p.lo, p.hi, p.empty, len(p.filters), tt.lo, tt.hi, tt.empty, tt.residualFilter)
			}
		})
	}
}

func TestCompareNumbers(t *testing.T) {
	const big = int64(1)<<53 + 1 // not a float64
	tests := []struct {
		a, b any
		want int
	}{
		{int64(1), 1.0, 0},
		{int64(1), 1.5, -1},
		{int64(2), 1.5, 1},
		{int64(-2), -1.5, -1},
		{big, float64(big), 1}, // float64(big) rounds down to 2^53
		{float64(big), big, -1},
		{big, 1e300, -1},
		{int64(math.MinInt64), -1e300, 1},
		{int64(math.MaxInt64), math.Pow(2, 63), -1},
		{2.5, 2.25, 1},
		{int64(3), int64(4), -1},
	}
	for _, tt := range tests {
		x, _ := asNumber(tt.a)
		y, _ := asNumber(tt.b)
		if got := compareNumbers(x, y); got != tt.want {
			t.Errorf("compareNumbers(%v, %v): got %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
