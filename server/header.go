package server

import "net/http"

// requestHeader returns a copy of r's headers with Host put back: net/http moves
// the Host header out of Header into r.Host, but handlers read it from
// `headers.host` (for example to tell a client which port it reached).
func requestHeader(r *http.Request) http.Header {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if r.Host != "" {
		h.Set("Host", r.Host)
	}
	return h
}
