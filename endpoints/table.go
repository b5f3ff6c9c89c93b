package endpoints

import (
	"fmt"
	"sort"
)

// Table maps endpoint names to descriptors across all served projects. A Table is
// immutable: With and Without return new tables. The zero value is an empty table.
// It is safe for concurrent use.
type Table struct {
	byEndpoint map[string]*Descriptor
}

// Lookup returns the descriptor serving endpoint, or nil.
func (t *Table) Lookup(endpoint string) *Descriptor {
	if t == nil {
		return nil
	}
	return t.byEndpoint[endpoint]
}

// Endpoints lists every endpoint name, sorted.
func (t *Table) Endpoints() []string {
	if t == nil {
		return nil
	}
	names := make([]string, 0, len(t.byEndpoint))
	for name := range t.byEndpoint {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// With returns a table where project p's endpoints replace any it had before. It
// fails, naming both files, when another project already serves one of them.
func (t *Table) With(p *Project) (*Table, error) {
	next := t.Without(p.Name)
	for _, d := range p.Descriptors {
		if other := next.byEndpoint[d.Endpoint]; other != nil {
			return nil, &Error{File: d.File, Err: fmt.Errorf("endpoint %q is already served by project %q (%s); endpoint names are unique across projects", d.Endpoint, other.Project, other.File)}
		}
		next.byEndpoint[d.Endpoint] = d
	}
	return next, nil
}

// Without returns a table with none of project's endpoints.
func (t *Table) Without(project string) *Table {
	next := &Table{byEndpoint: map[string]*Descriptor{}}
	if t != nil {
		for name, d := range t.byEndpoint {
			if d.Project != project {
				next.byEndpoint[name] = d
			}
		}
	}
	return next
}
