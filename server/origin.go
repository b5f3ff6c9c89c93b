package server

import (
	"net/http"
	"net/url"
	"strings"
)

// originChecker returns the upgrader's Origin check for the allowed_origins config:
// empty allows requests without an Origin header and same-host origins; "*" allows
// every origin; otherwise an origin must equal one listed (scheme://host[:port]).
func originChecker(allowed []string) func(*http.Request) bool {
	set := map[string]bool{}
	for _, o := range allowed {
		if o == "*" {
			return func(*http.Request) bool { return true }
		}
		set[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" {
			return true
		}
		if set[strings.ToLower(origin)] {
			return true
		}
		u, err := url.Parse(origin)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
}
