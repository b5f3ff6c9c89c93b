package server

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/blimp/blimp/endpoints"
)

// AdminPath prefixes the admin API.
const AdminPath = "/admin/"

// serveAdmin serves the admin API, on when admin.token is set:
//
//	GET  /admin/projects              the last load result of every project
//	POST /admin/reload                reload every project (new folders too)
//	POST /admin/reload?project=name   reload one project (404 if there is no such
//	                                  folder and no such project loaded)
//
// Requests carry "Authorization: Bearer <token>". Reload answers 200 when every
// reloaded project loaded, 422 when one failed; the body is the statuses either way.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	token := s.cfg.Admin.Token
	if token == "" {
		http.NotFound(w, r)
		return
	}
	given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(given), []byte(token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="blimp admin"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong admin token"})
		return
	}
	switch strings.TrimPrefix(r.URL.Path, AdminPath) {
	case "projects":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, http.MethodGet)
			return
		}
		writeJSON(w, http.StatusOK, s.Statuses())
	case "reload":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, http.MethodPost)
			return
		}
		names := []string{r.URL.Query().Get("project")}
		if names[0] == "" {
			names = s.knownProjects()
		} else if strings.ContainsAny(names[0], `/\`) || endpoints.Skip(names[0]) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "project must be a folder name under the projects root"})
			return
		} else if !slices.Contains(s.knownProjects(), names[0]) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no project %q: there is no such folder under the projects root %s, and none is loaded; GET /admin/projects lists them", names[0], s.cfg.Projects.Root)})
			return
		}
		status := http.StatusOK
		for _, name := range names {
			if s.LoadProject(name) != nil {
				status = http.StatusUnprocessableEntity
			}
		}
		writeJSON(w, status, s.Statuses())
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown admin path; use GET /admin/projects or POST /admin/reload[?project=name]"})
	}
}

// knownProjects lists the project folders on disk and the projects loaded now, so a
// full reload also retires projects whose folder is gone.
func (s *Server) knownProjects() []string {
	set := map[string]bool{}
	names, _ := endpoints.ProjectNames(s.cfg.Projects.Root)
	for _, n := range names {
		set[n] = true
	}
	for n := range s.routes.Load().gens {
		set[n] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed; use " + allow})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
