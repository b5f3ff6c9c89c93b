package server

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/blimp/blimp/endpoints"
)

// reloadDebounce is how long the watcher waits after the last change to a project
// before reloading it, so that an editor's burst of writes becomes one reload.
const reloadDebounce = 40 * time.Millisecond

// watch starts watching the projects root recursively (folders created later
// included; dot-folders and node_modules skipped) and returns the loop that reloads
// each touched project once its changes settle, until ctx is done.
func (s *Server) watch() (loop func(ctx context.Context), err error) {
	root := s.cfg.Projects.Root
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if err := watchTree(fw, root); err != nil {
		fw.Close()
		return nil, err
	}
	return func(ctx context.Context) {
		defer fw.Close()
		s.reloadOnChange(ctx, fw)
	}, nil
}

func (s *Server) reloadOnChange(ctx context.Context, fw *fsnotify.Watcher) {
	root := s.cfg.Projects.Root
	pending := map[string]bool{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-fw.Errors:
			s.log.Warn("watching projects", "error", err)
		case ev := <-fw.Events:
			project, ok := projectOf(root, ev.Name)
			if !ok {
				continue
			}
			if ev.Has(fsnotify.Create) {
				// A new folder: watch it and whatever was created in it before the watch.
				watchTree(fw, ev.Name)
			}
			pending[project] = true
			timer.Reset(reloadDebounce)
		case <-timer.C:
			for project := range pending {
				delete(pending, project)
				s.LoadProject(project)
			}
		}
	}
}

// watchTree adds dir and every folder below it that can hold project files.
func watchTree(fw *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walked
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if path != dir && endpoints.Skip(d.Name()) {
			return filepath.SkipDir
		}
		return fw.Add(path)
	})
}

// projectOf returns the project a changed path belongs to, and false for paths no
// project cares about: dot-files and editor backups, and anything under a dot-folder
// or node_modules.
func projectOf(root, path string) (string, bool) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return "", false
	}
	parts := strings.Split(rel, string(filepath.Separator))
	for _, p := range parts {
		if endpoints.Skip(p) {
			return "", false
		}
	}
	base := parts[len(parts)-1]
	if strings.HasSuffix(base, "~") || strings.HasSuffix(base, ".swp") {
		return "", false
	}
	return parts[0], true // a file at the top level is no project: loading it is a no-op
}
