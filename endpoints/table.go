package endpoints

import (
	"errors"
	"fmt"
	"sort"
)

// Table maps endpoint names and mount paths to descriptors across all served
// projects. A Table is immutable: With and Without return new tables. The zero
// value is an empty table. It is safe for concurrent use.
type Table struct {
	byEndpoint map[string]*Descriptor
	byPath     map[string]*Descriptor
}

// Lookup returns the WebSocket descriptor serving endpoint, or nil.
func (t *Table) Lookup(endpoint string) *Descriptor {
	if t == nil {
		return nil
	}
	return t.byEndpoint[endpoint]
}

// LookupPath returns the descriptor mounted at the absolute path p: an HTTP
// handler, or a WebSocket endpoint's extra path. It returns nil when none is.
func (t *Table) LookupPath(p string) *Descriptor {
	if t == nil {
		return nil
	}
	return t.byPath[p]
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

// With returns a table where project p's descriptors replace any it had before. It
// fails, naming both files, when another project already serves one of its
// endpoint names or paths.
func (t *Table) With(p *Project) (*Table, error) {
	next := t.Without(p.Name)
	for _, d := range p.Descriptors {
		if err := next.claim(d); err != nil {
			return nil, err
		}
	}
	return next, nil
}

// claim adds d, or explains which descriptor already holds its name or path.
func (t *Table) claim(d *Descriptor) error {
	if d.Kind == KindWebSocket {
		if other := t.byEndpoint[d.Endpoint]; other != nil {
			return conflict(d, other, fmt.Sprintf("endpoint %q", d.Endpoint))
		}
	}
	if d.Path != "" {
		if other := t.byPath[d.Path]; other != nil {
			return conflict(d, other, fmt.Sprintf("path %q", d.Path))
		}
	}
	if d.Kind == KindWebSocket {
		t.byEndpoint[d.Endpoint] = d
	}
	if d.Path != "" {
		t.byPath[d.Path] = d
	}
	return nil
}

// ErrTaken is wrapped by the error of a descriptor whose endpoint name or path
// another project serves: the project may load once that project gives it up.
var ErrTaken = errors.New("endpoint names and paths are unique across projects")

func conflict(d, other *Descriptor, what string) error {
	if other.Project == d.Project {
		return &Error{File: d.File, Err: fmt.Errorf("%s is already declared by %s", what, other.File)}
	}
	return &Error{File: d.File, Err: fmt.Errorf("%s is already served by project %q (%s); %w", what, other.Project, other.File, ErrTaken)}
}

// Without returns a table with none of project's descriptors.
func (t *Table) Without(project string) *Table {
	next := &Table{byEndpoint: map[string]*Descriptor{}, byPath: map[string]*Descriptor{}}
	if t != nil {
		for name, d := range t.byEndpoint {
			if d.Project != project {
				next.byEndpoint[name] = d
			}
		}
		for p, d := range t.byPath {
			if d.Project != project {
				next.byPath[p] = d
			}
		}
	}
	return next
}
