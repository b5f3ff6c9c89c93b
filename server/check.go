package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/endpoints"
	"github.com/blimp/blimp/runtime"
	"github.com/blimp/blimp/store"
)

// CheckResult is what Check found under one projects root.
type CheckResult struct {
	Projects  int
	Endpoints int
	Errors    []error
	Warnings  []string
}

// Check validates every project under root the way the server loads them:
// descriptors parsed, handlers resolved, compiled and loaded (their top-level code
// runs, with no connections and an empty throwaway store), endpoint names unique
// across projects. Each error names its file, and line:column where it has one. A root with no project folder
// is an error; descriptor files lying in the root itself are warnings.
func Check(cfg config.Config, root string) CheckResult {
	var res CheckResult
	names, err := endpoints.ProjectNames(root)
	if err != nil {
		res.Errors = append(res.Errors, err)
		return res
	}
	if len(names) == 0 {
		res.Errors = append(res.Errors, endpoints.NoProjectsError(root))
		return res
	}
	res.Warnings = append(res.Warnings, endpoints.RootWarnings(root)...)
	cfg.Projects.Root = root
	st, cleanup, err := throwawayStore()
	if err != nil {
		res.Errors = append(res.Errors, err)
		return res
	}
	defer cleanup()
	s := newServer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), st)
	table := &endpoints.Table{}
	for _, name := range names {
		res.Projects++
		p, err := endpoints.ScanProject(root, name)
		if p != nil {
			res.Warnings = append(res.Warnings, p.Warnings...)
		}
		if err != nil {
			res.Errors = append(res.Errors, unjoin(err)...)
			continue
		}
		next, err := table.With(p)
		if err != nil {
			res.Errors = append(res.Errors, err)
			continue
		}
		table = next
		p.Settings.Workers = 0 // one worker validates the code: loading it N times would run its top level N times
		gen, err := runtime.Start(p, s.opts)
		if err != nil {
			res.Errors = append(res.Errors, unjoin(err)...)
			continue
		}
		gen.Stop()
		res.Warnings = append(res.Warnings, gen.Warnings...)
		res.Endpoints += len(p.Descriptors)
	}
	return res
}

// throwawayStore opens an empty store in a temporary folder, for the top-level code
// check runs (which may save or read); cleanup closes and deletes it.
func throwawayStore() (*store.Store, func(), error) {
	dir, err := os.MkdirTemp("", "blimp-check-")
	if err != nil {
		return nil, nil, fmt.Errorf("check: a temporary store for the handlers' top-level code: %w", err)
	}
	st, err := store.Open(filepath.Join(dir, "check.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("check: a temporary store for the handlers' top-level code: %w", err)
	}
	return st, func() { st.Close(); os.RemoveAll(dir) }, nil
}

// unjoin splits an errors.Join result into its parts, so that each is printed on
// a line of its own. An *endpoints.Error holding joined problems is split into one
// *endpoints.Error per problem, each naming the file.
func unjoin(err error) []error {
	var parts []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	} else if fe, ok := err.(*endpoints.Error); ok {
		if j, ok := fe.Err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				if inner := (*endpoints.Error)(nil); !errors.As(e, &inner) {
					e = &endpoints.Error{File: fe.File, Line: fe.Line, Col: fe.Col, Err: e}
				}
				parts = append(parts, e)
			}
		}
	}
	if parts == nil {
		return []error{err}
	}
	var out []error
	for _, e := range parts {
		out = append(out, unjoin(e)...)
	}
	return out
}
