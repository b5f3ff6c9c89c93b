package store

import (
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Group is one value of a Query's GroupBy field and the number of matching
// documents that hold it. Value is nil for documents where the field is
// null or missing.
type Group struct {
	Value any `json:"value"`
	Count int `json:"count"`
}

// List returns the documents of the collection that match q, ordered and
// paged as q says. It returns an empty, non-nil slice when none match, and
// an error if q has GroupBy set: call Group for that.
func (s *Store) List(project, collection string, q Query) ([]map[string]any, error) {
	p, err := s.prepare(project, collection, q)
	if err != nil {
		return nil, err
	}
	if p.groupPath != nil {
		return nil, fmt.Errorf("list %q: the query has groupBy %q; call Group for grouped results", collection, q.GroupBy)
	}
	docs := []map[string]any{}
	err = s.view(project, collection, func(b *bolt.Bucket) error {
		if p.sortPath == nil {
			return p.listKeyOrder(b, &docs)
		}
		return p.listSorted(b, &docs)
	})
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("list %q", collection), err)
	}
	return docs, nil
}

// Count reports how many results List (or, with GroupBy, Group) would
// return for q if there were no offset and no limit: the number of
// matching documents, or the number of groups.
func (s *Store) Count(project, collection string, q Query) (int, error) {
	p, err := s.prepare(project, collection, q)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.view(project, collection, func(b *bolt.Bucket) error {
		if p.groupPath != nil {
			groups, err := p.group(b)
			n = len(groups)
			return err
		}
		return p.each(b, false, func(_, _ []byte) (bool, error) {
			n++
			return true, nil
		})
	})
	if err != nil {
		return 0, s.wrap(fmt.Sprintf("count %q", collection), err)
	}
	return n, nil
}

// Group counts the documents that match q by the value of q.GroupBy, which
// must be set. Documents where the field is missing count with those where
// it is null. Groups come largest first, equal counts ordered by value
// (see List for the order of values); q's offset and limit page through
// them, and its sort field and order do not apply.
func (s *Store) Group(project, collection string, q Query) ([]Group, error) {
	p, err := s.prepare(project, collection, q)
	if err != nil {
		return nil, err
	}
	if p.groupPath == nil {
		return nil, fmt.Errorf("group %q: the query has no groupBy field", collection)
	}
	groups := []Group{}
	err = s.view(project, collection, func(b *bolt.Bucket) error {
		all, err := p.group(b)
		if err != nil {
			return err
		}
		slices.SortFunc(all, func(a, b Group) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return compareValues(a.Value, b.Value)
		})
		groups = page(all, p.offset, p.limit)
		return nil
	})
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("group %q", collection), err)
	}
	if groups == nil {
		groups = []Group{}
	}
	return groups, nil
}

func (s *Store) prepare(project, collection string, q Query) (*plan, error) {
	if err := checkNames(project, collection); err != nil {
		return nil, err
	}
	return compile(q)
}

// view runs fn in a read transaction with the collection's bucket, if the
// collection exists.
func (s *Store) view(project, collection string, fn func(*bolt.Bucket) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b, err := collectionBucket(tx, project, collection, false)
		if b == nil || err != nil {
			return err
		}
		return fn(b)
	})
}

func page[T any](all []T, offset, limit int) []T {
	if offset >= len(all) {
		return all[:0]
	}
	return all[offset:min(len(all), offset+limit)]
}

// each calls fn with the key and value of every document in p's key range
// that passes p's filters, in key order (or reversed, if desc), until fn
// returns false.
func (p *plan) each(b *bolt.Bucket, desc bool, fn func(k, v []byte) (bool, error)) error {
	if p.empty {
		return nil
	}
	c := b.Cursor()
	var k, v []byte
	switch {
	case !desc && p.lo != nil:
		k, v = c.Seek(p.lo)
	case !desc:
		k, v = c.First()
	case p.hi != nil:
		if k, v = c.Seek(p.hi); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	default:
		k, v = c.Last()
	}
	for ; k != nil; k, v = next(c, desc) {
		if !desc && p.hi != nil && bytes.Compare(k, p.hi) >= 0 || desc && p.lo != nil && bytes.Compare(k, p.lo) < 0 {
			return nil
		}
		if v == nil {
			continue // a nested bucket; collections have none
		}
		ok, err := p.match(v)
		if err != nil {
			return damaged(string(k), err)
		}
		if !ok {
			continue
		}
		if more, err := fn(k, v); !more || err != nil {
			return err
		}
	}
	return nil
}

func next(c *bolt.Cursor, desc bool) ([]byte, []byte) {
	if desc {
		return c.Prev()
	}
	return c.Next()
}

// match reports whether the stored document doc passes all filters.
func (p *plan) match(doc []byte) (bool, error) {
	for i := range p.filters {
		ok, err := p.filters[i].match(doc)
		if !ok || err != nil {
			return false, err
		}
	}
	return true, nil
}

// listKeyOrder lists documents in creation order: it stops reading as soon
// as it has offset+limit matches.
func (p *plan) listKeyOrder(b *bolt.Bucket, docs *[]map[string]any) error {
	skip := p.offset
	return p.each(b, p.desc, func(k, v []byte) (bool, error) {
		if skip > 0 {
			skip--
			return true, nil
		}
		doc, err := decodeDoc(v)
		if err != nil {
			return false, damaged(string(k), err)
		}
		*docs = append(*docs, doc)
		return len(*docs) < p.limit, nil
	})
}

// listSorted lists documents ordered by a field: it reads every match,
// keeping the best offset+limit in a heap, and decodes only those.
func (p *plan) listSorted(b *bolt.Bucket, docs *[]map[string]any) error {
	h := &topK{desc: p.desc, k: p.offset + p.limit}
	err := p.each(b, false, func(k, v []byte) (bool, error) {
		it := sortItem{key: k, doc: v}
		raw, found, err := lookup(v, p.sortPath)
		if err == nil && found {
			it.val, err = decode(raw)
			it.has = true
		}
		if err != nil {
			return false, damaged(string(k), err)
		}
		h.offer(it)
		return true, nil
	})
	if err != nil {
		return err
	}
	items := h.items
	slices.SortFunc(items, func(a, b sortItem) int {
		switch {
		case h.before(a, b):
			return -1
		case h.before(b, a):
			return 1
		}
		return 0
	})
	for _, it := range page(items, p.offset, p.limit) {
		doc, err := decodeDoc(it.doc)
		if err != nil {
			return damaged(string(it.key), err)
		}
		*docs = append(*docs, doc)
	}
	return nil
}

// sortItem is a document being sorted by a field; has reports whether the
// document has the field, and val is its value.
type sortItem struct {
	key, doc []byte
	val      any
	has      bool
}

// topK keeps the k items that sort first. It is a heap with the item that
// sorts last at the root, so that a better one can replace it.
type topK struct {
	items []sortItem
	desc  bool
	k     int
}

// before reports whether a sorts before b: documents with the field by its
// value, ascending or descending, then documents without it; ties by id in
// the same direction.
func (h *topK) before(a, b sortItem) bool {
	if a.has != b.has {
		return a.has
	}
	c := 0
	if a.has {
		c = compareValues(a.val, b.val)
	}
	if c == 0 {
		c = bytes.Compare(a.key, b.key)
	}
	if h.desc {
		return c > 0
	}
	return c < 0
}

func (h *topK) offer(it sortItem) {
	switch {
	case h.k == 0:
	case len(h.items) < h.k:
		heap.Push(h, it)
	case h.before(it, h.items[0]):
		h.items[0] = it
		heap.Fix(h, 0)
	}
}

func (h *topK) Len() int           { return len(h.items) }
func (h *topK) Less(i, j int) bool { return h.before(h.items[j], h.items[i]) }
func (h *topK) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *topK) Push(x any)         { h.items = append(h.items, x.(sortItem)) }
func (h *topK) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}

// group counts the matching documents by the value at p.groupPath.
func (p *plan) group(b *bolt.Bucket) ([]Group, error) {
	index := map[string]int{}
	var groups []Group
	err := p.each(b, false, func(k, v []byte) (bool, error) {
		raw, found, err := lookup(v, p.groupPath)
		if err != nil {
			return false, damaged(string(k), err)
		}
		if !found {
			raw = []byte("null")
		}
		key, err := groupKey(raw)
		if err != nil {
			return false, damaged(string(k), err)
		}
		if i, ok := index[key]; ok {
			groups[i].Count++
			return true, nil
		}
		val, err := decode(raw)
		if err != nil {
			return false, damaged(string(k), err)
		}
		index[key] = len(groups)
		groups = append(groups, Group{Value: val, Count: 1})
		return true, nil
	})
	return groups, err
}

// match reports whether the stored document doc passes the filter.
func (f *filter) match(doc []byte) (bool, error) {
	raw, found, err := lookup(doc, f.path)
	if err != nil || !found {
		return false, err
	}
	switch f.op {
	case opEq:
		return rawEqual(raw, f.value)
	case opNe:
		eq, err := rawEqual(raw, f.value)
		return !eq && err == nil, err
	case opContains:
		return rawContains(raw, f.value)
	case opIn:
		for _, v := range f.value.([]any) {
			if eq, err := rawEqual(raw, v); eq || err != nil {
				return eq, err
			}
		}
		return false, nil
	}
	c, ok := rawCompare(raw, f.value)
	if !ok {
		return false, nil
	}
	switch f.op {
	case opGt:
		return c > 0, nil
	case opGte:
		return c >= 0, nil
	case opLt:
		return c < 0, nil
	default: // opLte
		return c <= 0, nil
	}
}

// rawEqual reports whether the raw JSON value raw equals the normalized
// value v.
func rawEqual(raw []byte, v any) (bool, error) {
	switch v := v.(type) {
	case nil:
		return string(raw) == "null", nil
	case bool:
		if v {
			return string(raw) == "true", nil
		}
		return string(raw) == "false", nil
	case string:
		return raw[0] == '"' && rawStringEquals(raw, v), nil
	case int64, float64:
		c, ok := rawCompare(raw, v)
		return ok && c == 0, nil
	}
	if raw[0] != '[' && raw[0] != '{' {
		return false, nil
	}
	d, err := decode(raw)
	return err == nil && equal(d, v), err
}

// rawCompare compares the raw JSON value raw with v, a number or a string,
// and reports whether they are of the same type and so comparable.
func rawCompare(raw []byte, v any) (int, bool) {
	if s, ok := v.(string); ok {
		if raw[0] != '"' || len(raw) < 2 {
			return 0, false
		}
		in := raw[1 : len(raw)-1]
		if bytes.IndexByte(in, '\\') < 0 {
			switch {
			case string(in) < s:
				return -1, true
			case string(in) > s:
				return 1, true
			}
			return 0, true
		}
		u, ok := unquote(raw)
		return strings.Compare(u, s), ok
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	a, ok := parseNumber(raw)
	if !ok {
		return 0, false
	}
	b, _ := asNumber(v)
	return compareNumbers(a, b), true
}

// rawContains reports whether raw, a string, has v as a substring, or, an
// array, has an element equal to v.
func rawContains(raw []byte, v any) (bool, error) {
	switch raw[0] {
	case '"':
		s, ok := v.(string)
		if !ok {
			return false, nil
		}
		u, ok := unquote(raw)
		if !ok {
			return false, errMalformed
		}
		return strings.Contains(u, s), nil
	case '[':
		found := false
		var err error
		perr := eachElement(raw, func(_, start, end int) bool {
			found, err = rawEqual(raw[start:end], v)
			return !found && err == nil
		})
		return found, errors.Join(err, perr)
	}
	return false, nil
}
