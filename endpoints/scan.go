package endpoints

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Descriptor file extensions.
const (
	DescriptorExt = ".websocket" // WebSocket endpoint descriptors
	HTTPExt       = ".http"      // HTTP handler descriptors
)

// HandlerExts are the extensions tried, in order, for a handler path written without one.
var HandlerExts = []string{".js", ".mjs", ".ts"}

// Project is one folder under the projects root and the endpoints it declares.
type Project struct {
	// Name is the folder name; handler paths start with it.
	Name string
	// Dir is the project folder on disk.
	Dir string
	// Descriptors are the valid descriptors, WebSocket endpoints first (sorted by
	// endpoint), then HTTP handlers (sorted by path).
	Descriptors []*Descriptor
	// Settings are what the project asks for in its blimp.json (SettingsFile), if any.
	Settings Settings
	// Warnings are problems that do not stop the project (unknown descriptor fields).
	Warnings []string
}

// Skip reports whether a folder is never part of a project: dot-folders and node_modules.
func Skip(name string) bool {
	return strings.HasPrefix(name, ".") || name == "node_modules"
}

// ProjectNames lists the project folders under root, sorted.
func ProjectNames(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("projects root: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !Skip(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// IsDescriptor reports whether the file name is a descriptor's: .websocket or .http.
func IsDescriptor(name string) bool {
	ext := filepath.Ext(name)
	return ext == DescriptorExt || ext == HTTPExt
}

// StrayDescriptors lists, sorted, the descriptor files lying directly in the projects
// root, outside every project folder. They are never served. An unreadable root has
// none (ProjectNames reports it).
func StrayDescriptors(root string) []string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && IsDescriptor(e.Name()) {
			files = append(files, filepath.Join(root, e.Name()))
		}
	}
	return files
}

// RootWarnings returns a warning for each of the StrayDescriptors of root, and for a
// blimp.json there: problems of the projects root itself, which belong to no project.
func RootWarnings(root string) []string {
	var warnings []string
	for _, file := range StrayDescriptors(root) {
		warnings = append(warnings, fmt.Sprintf("%s: not served: a descriptor directly in the projects root belongs to no project; move it into a project folder, like %s (or, if %s is itself a project folder, give its parent, %s, as the projects root)",
			file, filepath.Join(root, "my-project", filepath.Base(file)), root, parent(root)))
	}
	if file := filepath.Join(root, SettingsFile); fileExists(file) {
		warnings = append(warnings, fmt.Sprintf("%s: not read: a %s belongs in a project folder and applies to that project, like %s; server-wide settings are in the config file",
			file, SettingsFile, filepath.Join(root, "my-project", SettingsFile)))
	}
	return warnings
}

// fileExists reports whether path is a regular file (after symlinks).
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// NoProjectsError explains a projects root that holds no project folder: when root
// holds descriptor files itself it is most likely a project folder given in place of
// the projects root, and the error says to use its parent instead.
func NoProjectsError(root string) error {
	stray := StrayDescriptors(root)
	if len(stray) == 0 {
		return fmt.Errorf("no projects under %s: a projects root holds one folder per project, each with its .websocket and .http descriptors; create one, like %s, or give the folder that holds your projects",
			root, filepath.Join(root, "my-project"))
	}
	names := make([]string, len(stray))
	for i, f := range stray {
		names[i] = filepath.Base(f)
	}
	return fmt.Errorf("no projects under %s: a projects root holds one folder per project, and %s holds descriptor files itself (%s), so it looks like a project folder: give its parent, %s, as the projects root instead",
		root, root, strings.Join(names, ", "), parent(root))
}

// parent returns the folder holding dir, made absolute when dir is "." or ends in
// "..", whose parent cannot be written by trimming the path.
func parent(dir string) string {
	clean := filepath.Clean(dir)
	if base := filepath.Base(clean); base == "." || base == ".." {
		if abs, err := filepath.Abs(clean); err == nil {
			clean = abs
		}
	}
	return filepath.Dir(clean)
}

// readSettings reads the project's blimp.json at path.
func (p *Project) readSettings(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &Error{File: path, Err: err}
	}
	settings, warnings, err := ParseSettings(path, data)
	if err != nil {
		return err
	}
	p.Settings = settings
	p.Warnings = append(p.Warnings, warnings...)
	return nil
}

// ScanProject reads every descriptor (.websocket and .http) of the project folder
// root/name and resolves their handlers, and reads the project's blimp.json if it
// has one. It returns the project and all problems found, joined; a project with
// problems must not be served.
func ScanProject(root, name string) (*Project, error) {
	dir := filepath.Join(root, name)
	p := &Project{Name: name, Dir: dir}
	var errs []error
	seen := (&Table{}).Without(name)
	walkErr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, &Error{File: path, Err: err})
			return nil
		}
		if d.IsDir() {
			if path != dir && Skip(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if path == filepath.Join(dir, SettingsFile) {
			if err := p.readSettings(path); err != nil {
				errs = append(errs, err)
			}
			return nil
		}
		if !IsDescriptor(path) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, &Error{File: path, Err: err})
			return nil
		}
		desc, err := Parse(path, data)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		desc.Project = name
		if err := resolveHandler(root, name, desc); err != nil {
			errs = append(errs, err)
			return nil
		}
		if err := seen.claim(desc); err != nil {
			errs = append(errs, err)
			return nil
		}
		for _, k := range desc.Unknown {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: unknown field %q is ignored", path, k))
		}
		p.Descriptors = append(p.Descriptors, desc)
		return nil
	})
	if walkErr != nil {
		errs = append(errs, &Error{File: dir, Err: walkErr})
	}
	sort.Slice(p.Descriptors, func(i, j int) bool {
		a, b := p.Descriptors[i], p.Descriptors[j]
		if a.Kind != b.Kind {
			return a.Kind == KindWebSocket
		}
		return a.Key() < b.Key()
	})
	return p, errors.Join(errs...)
}

// resolveHandler finds the handler module of d on disk and checks it stays inside
// project name, symlinks included.
func resolveHandler(root, name string, d *Descriptor) error {
	fail := func(format string, args ...any) error {
		return &Error{File: d.File, Err: fmt.Errorf(format, args...)}
	}
	if first, _, _ := strings.Cut(d.Handler, "/"); first != name {
		return fail("handler %q is outside project %q: handler paths start with the project folder, like \"%s/handler\"", d.Handler, name, name)
	}
	file, err := ResolveModule(filepath.Join(root, filepath.FromSlash(d.Handler)))
	if err != nil {
		return fail("handler %q: %v", d.Handler, err)
	}
	if err := Inside(filepath.Join(root, name), file); err != nil {
		return fail("handler %q: %v", d.Handler, err)
	}
	// An empty handler would serve an endpoint that never answers; it is most often a
	// file caught mid-save (truncated, not yet written), whose next write reloads.
	if fi, err := os.Stat(file); err == nil && fi.Size() == 0 {
		return &Error{File: file, Err: fmt.Errorf("the handler of %s is empty: write its event functions (export function onMessage ...)", filepath.Base(d.File))}
	}
	d.HandlerFile = file
	return nil
}

// ResolveModule finds the module file for path: the path itself if it names a file,
// else the path with each of HandlerExts, else an index file inside it.
func ResolveModule(path string) (string, error) {
	candidates := []string{path}
	for _, ext := range HandlerExts {
		candidates = append(candidates, path+ext)
	}
	for _, ext := range HandlerExts {
		candidates = append(candidates, filepath.Join(path, "index"+ext))
	}
	for _, c := range candidates {
		if fileExists(c) {
			return c, nil
		}
	}
	return "", fmt.Errorf("no such module: tried %s with no extension, %s and %s/index.*",
		filepath.Base(path), strings.Join(HandlerExts, ", "), filepath.Base(path))
}

// Inside reports, as an error, whether file (after resolving symlinks) lies outside dir.
func Inside(dir, file string) error {
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	realFile, err := filepath.EvalSymlinks(file)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(realDir, realFile)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("%s is outside the project folder %s", file, dir)
	}
	return nil
}
