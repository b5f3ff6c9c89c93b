package store

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Limits of the query language.
const (
	// DefaultLimit is the number of results List and Group return when the
	// query gives no limit (or a limit of 0).
	DefaultLimit = 100
	// MaxLimit is the largest limit a query may ask for; larger pages are
	// an error, not silently cut short.
	MaxLimit = 1000
	// MaxOffset is the largest offset a query may ask for.
	MaxOffset = math.MaxInt32
	// maxPathLen bounds a field path, in bytes.
	maxPathLen = 256
)

// Query selects, orders and pages documents of one collection. The zero
// Query lists the first DefaultLimit documents in creation order.
// ParseQuery builds a Query from the query object a handler passes; List,
// Count and Group check a Query again, so one built in Go is held to the
// same rules.
type Query struct {
	// SortField is the field path to order by; "" means "created".
	// Ordering by "created" or "id" follows the store's key order.
	SortField string
	// Desc orders from the largest value down (sortOrder "desc").
	Desc bool
	// Offset is the number of results to skip.
	Offset int
	// Limit is the most results to return; 0 means DefaultLimit.
	Limit int
	// Filters are the conditions a document must all meet.
	Filters []Filter
	// GroupBy, if set, is the field path whose values Group counts.
	GroupBy string
}

// Filter is one condition of a Query: the value at the field path Field,
// compared by Operator with Value.
type Filter struct {
	Field    string
	Operator string
	Value    any
}

// QueryError describes a malformed query: Where names the offending part
// (such as "limit" or "filters[1].operator"), empty for the query as a
// whole, and Msg says what is wrong with it.
type QueryError struct {
	Where string
	Msg   string
}

func (e *QueryError) Error() string {
	if e.Where == "" {
		return "invalid query: " + e.Msg
	}
	return "invalid query: " + e.Where + ": " + e.Msg
}

func queryErrorf(where, format string, args ...any) *QueryError {
	return &QueryError{Where: where, Msg: fmt.Sprintf(format, args...)}
}

// queryKeys are the keys of a query object, in the order error messages
// list them.
var queryKeys = []string{"sortField", "sortOrder", "offset", "limit", "filters", "groupBy"}

var filterKeys = []string{"field", "operator", "value"}

// ParseQuery builds a Query from the query object raw, as it comes from a
// handler: nil (JavaScript null or undefined) means the zero Query, and
// otherwise raw must be a map[string]any with the keys sortField,
// sortOrder, offset, limit, filters and groupBy, all optional. A key whose
// value is nil counts as absent. Numbers may be any Go integer or float
// type, or json.Number. Anything unexpected, such as an unknown key or
// operator or a value of the wrong type, is a *QueryError; nothing is
// silently ignored.
func ParseQuery(raw any) (Query, error) {
	var q Query
	if raw == nil {
		return q, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return q, queryErrorf("", "must be an object with the keys %s, got %s", strings.Join(queryKeys, ", "), typeName(raw))
	}
	if err := checkKeys(m, queryKeys, ""); err != nil {
		return q, err
	}
	var err error
	if v := m["sortField"]; v != nil {
		if q.SortField, err = pathValue(v, "sortField"); err != nil {
			return q, err
		}
	}
	if v := m["sortOrder"]; v != nil {
		s, err := stringValue(v, "sortOrder")
		if err != nil {
			return q, err
		}
		switch strings.ToLower(s) {
		case "asc":
		case "desc":
			q.Desc = true
		default:
			return q, queryErrorf("sortOrder", `must be "asc" or "desc", got %q`, s)
		}
	}
	if v := m["offset"]; v != nil {
		if q.Offset, err = intValue(v, "offset", MaxOffset); err != nil {
			return q, err
		}
	}
	if v := m["limit"]; v != nil {
		if q.Limit, err = intValue(v, "limit", MaxLimit); err != nil {
			return q, err
		}
	}
	if v := m["groupBy"]; v != nil {
		if q.GroupBy, err = pathValue(v, "groupBy"); err != nil {
			return q, err
		}
	}
	if v := m["filters"]; v != nil {
		list, ok := v.([]any)
		if !ok {
			return q, queryErrorf("filters", "must be an array of {field, operator, value} objects, got %s", typeName(v))
		}
		for i, e := range list {
			f, err := parseFilter(e, fmt.Sprintf("filters[%d]", i))
			if err != nil {
				return q, err
			}
			q.Filters = append(q.Filters, f)
		}
	}
	if _, err := compile(q); err != nil {
		return Query{}, err
	}
	return q, nil
}

func parseFilter(raw any, where string) (Filter, error) {
	var f Filter
	m, ok := raw.(map[string]any)
	if !ok {
		return f, queryErrorf(where, "must be an object {field, operator, value}, got %s", typeName(raw))
	}
	if err := checkKeys(m, filterKeys, where+"."); err != nil {
		return f, err
	}
	for _, k := range filterKeys[:2] {
		v, ok := m[k]
		if !ok || v == nil {
			return f, queryErrorf(where, "missing %s", k)
		}
		s, err := stringValue(v, where+"."+k)
		if err != nil {
			return f, err
		}
		if k == "field" {
			f.Field = s
		} else {
			f.Operator = s
		}
	}
	v, ok := m["value"]
	if !ok {
		return f, queryErrorf(where, "missing value (use null to compare with null)")
	}
	f.Value = v
	return f, nil
}

// checkKeys reports the first key of m, in sorted order, that is not one
// of valid.
func checkKeys(m map[string]any, valid []string, prefix string) error {
	var unknown []string
	for k := range m {
		if !slices.Contains(valid, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	k := unknown[0]
	for _, v := range valid {
		if strings.EqualFold(k, v) {
			return queryErrorf(prefix+k, "unknown key; did you mean %q?", v)
		}
	}
	return queryErrorf(prefix+k, "unknown key; valid keys are %s", strings.Join(valid, ", "))
}

func stringValue(v any, where string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", queryErrorf(where, "must be a string, got %s", typeName(v))
	}
	return s, nil
}

// pathValue reads a field path; unlike in a Query, where "" means the
// default, an empty path given in a query object is an error.
func pathValue(v any, where string) (string, error) {
	s, err := stringValue(v, where)
	if err != nil {
		return "", err
	}
	_, err = parsePath(s, where)
	return s, err
}

// intValue converts a query number to a non-negative int no larger than
// upper.
func intValue(v any, where string, upper int) (int, error) {
	n, err := normalize(v)
	if err != nil {
		if typeName(v) == "number" {
			return 0, queryErrorf(where, "%v", err)
		}
		return 0, queryErrorf(where, "must be a number, got %s", typeName(v))
	}
	var f float64
	switch n := n.(type) {
	case int64:
		f = float64(n)
	case float64:
		if n != math.Trunc(n) {
			return 0, queryErrorf(where, "must be a whole number, got %v", n)
		}
		f = n
	default:
		return 0, queryErrorf(where, "must be a number, got %s", typeName(v))
	}
	switch {
	case f < 0:
		return 0, queryErrorf(where, "must not be negative, got %v", n)
	case f > float64(upper):
		return 0, tooLarge(where, n, upper)
	}
	return int(f), nil
}

func tooLarge(where string, n any, upper int) *QueryError {
	hint := ""
	if where == "limit" {
		hint = "; use offset to page through results"
	}
	return queryErrorf(where, "%v is above the maximum of %d%s", n, upper, hint)
}

// op is a comparison operator.
type op uint8

const (
	opEq op = iota + 1
	opNe
	opGt
	opGte
	opLt
	opLte
	opContains
	opIn
)

// operators maps the operator names a query may use to operators. Word
// forms are matched case-insensitively.
var operators = map[string]op{
	"=": opEq, "==": opEq, "eq": opEq,
	"!=": opNe, "ne": opNe,
	">": opGt, "gt": opGt,
	">=": opGte, "gte": opGte,
	"<": opLt, "lt": opLt,
	"<=": opLte, "lte": opLte,
	"contains": opContains,
	"in":       opIn,
}

const validOperators = "=, !=, >, >=, <, <=, contains, in (or the words eq, ne, gt, gte, lt, lte)"

func (o op) ordering() bool { return o >= opGt && o <= opLte }

// plan is a checked Query, ready to run.
type plan struct {
	// lo and hi bound the keys to visit: lo <= key < hi; nil is unbounded.
	// Filters on created and id narrow them instead of being tested on each
	// document.
	lo, hi []byte
	// empty reports that no document can match.
	empty     bool
	filters   []filter
	sortPath  []string // nil: key order
	desc      bool
	offset    int
	limit     int
	groupPath []string
}

// filter is a checked Filter.
type filter struct {
	path  []string
	op    op
	value any // normalized
}

// compile checks q and turns it into a plan.
func compile(q Query) (*plan, error) {
	p := &plan{desc: q.Desc, offset: q.Offset, limit: q.Limit}
	switch {
	case q.Offset < 0:
		return nil, queryErrorf("offset", "must not be negative, got %d", q.Offset)
	case q.Offset > MaxOffset:
		return nil, tooLarge("offset", q.Offset, MaxOffset)
	case q.Limit < 0:
		return nil, queryErrorf("limit", "must not be negative, got %d", q.Limit)
	case q.Limit > MaxLimit:
		return nil, tooLarge("limit", q.Limit, MaxLimit)
	case q.Limit == 0:
		p.limit = DefaultLimit
	}
	switch q.SortField {
	case "", "created", "id":
	default:
		path, err := parsePath(q.SortField, "sortField")
		if err != nil {
			return nil, err
		}
		p.sortPath = path
	}
	if q.GroupBy != "" {
		path, err := parsePath(q.GroupBy, "groupBy")
		if err != nil {
			return nil, err
		}
		p.groupPath = path
	}
	for i, f := range q.Filters {
		where := fmt.Sprintf("filters[%d]", i)
		cf, err := compileFilter(f, where)
		if err != nil {
			return nil, err
		}
		if !p.narrow(cf) {
			p.filters = append(p.filters, cf)
		}
	}
	if p.lo != nil && p.hi != nil && bytes.Compare(p.lo, p.hi) >= 0 {
		p.empty = true
	}
	return p, nil
}

func compileFilter(f Filter, where string) (filter, error) {
	var cf filter
	path, err := parsePath(f.Field, where+".field")
	if err != nil {
		return cf, err
	}
	o, ok := operators[f.Operator]
	if !ok {
		o, ok = operators[strings.ToLower(f.Operator)]
	}
	if !ok || f.Operator == "" {
		return cf, queryErrorf(where+".operator", "unknown operator %q; valid operators are %s", f.Operator, validOperators)
	}
	v, err := normalize(f.Value)
	if err != nil {
		return cf, queryErrorf(where+".value", "%v", err)
	}
	switch {
	case o.ordering():
		if _, isNum := asNumber(v); !isNum {
			if _, isStr := v.(string); !isStr {
				return cf, queryErrorf(where+".value", "operator %q compares numbers or strings, got %s", f.Operator, typeName(v))
			}
		}
	case o == opIn:
		if _, ok := v.([]any); !ok {
			return cf, queryErrorf(where+".value", "operator \"in\" needs an array of values, got %s", typeName(v))
		}
	}
	return filter{path: path, op: o, value: v}, nil
}

// parsePath splits a dotted field path such as "data.score".
func parsePath(s, where string) ([]string, error) {
	switch {
	case s == "":
		return nil, queryErrorf(where, "must not be empty; give a field such as \"created\" or \"data.score\"")
	case len(s) > maxPathLen:
		return nil, queryErrorf(where, "field path is too long (%d bytes, at most %d)", len(s), maxPathLen)
	}
	path := strings.Split(s, ".")
	if slices.Contains(path, "") {
		return nil, queryErrorf(where, "bad field path %q: empty segment; write segments separated by single dots, like \"data.score\"", s)
	}
	return path, nil
}

// narrow folds a filter on created or id into the key range and reports
// whether it did. It relies on two facts Save guarantees: a document's key
// is its id, and an id starts with its created time.
func (p *plan) narrow(f filter) bool {
	if len(f.path) != 1 || !(f.op == opEq || f.op.ordering()) {
		return false
	}
	switch f.path[0] {
	case "created":
		n, ok := asNumber(f.value)
		if !ok {
			p.empty = true // a number never equals or orders with a string
			return true
		}
		v := n.f
		if !n.isFloat {
			v = float64(n.i)
		}
		switch f.op {
		case opEq:
			if v != math.Trunc(v) {
				p.empty = true
				return true
			}
			p.fromMs(v)
			p.belowMs(v + 1)
		case opGt:
			p.fromMs(math.Floor(v) + 1)
		case opGte:
			p.fromMs(math.Ceil(v))
		case opLt:
			p.belowMs(math.Ceil(v))
		case opLte:
			p.belowMs(math.Floor(v) + 1)
		}
		return true
	case "id":
		s, ok := f.value.(string)
		if !ok {
			p.empty = true
			return true
		}
		next := []byte(s + "\x00") // the smallest key after s
		switch f.op {
		case opEq:
			p.from([]byte(s))
			p.below(next)
		case opGt:
			p.from(next)
		case opGte:
			p.from([]byte(s))
		case opLt:
			p.below([]byte(s))
		case opLte:
			p.below(next)
		}
		return true
	}
	return false
}

// fromMs makes the range start at the first id created at ms or later.
func (p *plan) fromMs(ms float64) {
	switch {
	case ms > maxMillis:
		p.empty = true
	case ms > 0:
		p.from(idKey(uint64(ms) << seqBits))
	}
}

// belowMs makes the range end before the first id created at ms.
func (p *plan) belowMs(ms float64) {
	switch {
	case ms <= 0:
		p.empty = true
	case ms <= maxMillis:
		p.below(idKey(uint64(ms) << seqBits))
	}
}

func (p *plan) from(k []byte) {
	if p.lo == nil || bytes.Compare(k, p.lo) > 0 {
		p.lo = k
	}
}

func (p *plan) below(k []byte) {
	if p.hi == nil || bytes.Compare(k, p.hi) < 0 {
		p.hi = k
	}
}
