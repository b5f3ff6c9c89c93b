package runtime

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/blimp/blimp/endpoints"
)

// ResolveHandler finds the module file of a handler path written as in a
// descriptor: relative to the projects root and starting with the worker's project
// folder ("my-project/ws-handler"), extension optional (endpoints.ResolveModule).
// The file must lie inside the project, symlinks included. It is compiled at once,
// so that a syntax error is reported to the caller rather than when the handler
// first runs. Loop goroutine only.
func (w *Worker) ResolveHandler(path string) (string, error) {
	example := w.project + "/handler"
	if path == "" {
		return "", fmt.Errorf("handler must not be empty: write a module path like %q", example)
	}
	if strings.HasPrefix(path, "/") || strings.Contains(path, `\`) || filepath.IsAbs(path) {
		return "", fmt.Errorf("handler %q must be relative to the projects root, like %q", path, example)
	}
	segs := strings.Split(path, "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return "", fmt.Errorf("handler %q must be a plain path inside project %q, like %q (no empty, '.' or '..' segments)", path, w.project, example)
		}
	}
	if segs[0] != w.project || len(segs) < 2 {
		return "", fmt.Errorf("handler %q is outside project %q: handler paths start with the project folder, like %q", path, w.project, example)
	}
	file, err := endpoints.ResolveModule(filepath.Join(w.dir, filepath.Join(segs[1:]...)))
	if err != nil {
		return "", fmt.Errorf("handler %q: %v", path, err)
	}
	if err := endpoints.Inside(w.dir, file); err != nil {
		return "", fmt.Errorf("handler %q: %v", path, err)
	}
	w.unmetered(func() { _, err = w.opts.Loader.Load(file) })
	if err != nil {
		return "", err
	}
	return file, nil
}
