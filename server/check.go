package server

import (
	"io"
	"log/slog"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/endpoints"
	"github.com/blimp/blimp/runtime"
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
// runs, with no connections), endpoint names unique across projects. Each error
// names its file, and line:column where it has one.
func Check(cfg config.Config, root string) CheckResult {
	var res CheckResult
	names, err := endpoints.ProjectNames(root)
	if err != nil {
		res.Errors = append(res.Errors, err)
		return res
	}
	cfg.Projects.Root = root
	s := newServer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
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

// unjoin splits an errors.Join result into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}
