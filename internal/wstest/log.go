package wstest

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Log collects what a server logs, for assertions. Its zero value is an empty log
// ready for use; it is safe for concurrent use.
type Log struct {
	mu  sync.Mutex // mu guards buf
	buf bytes.Buffer
}

// Write appends p to the log.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns the log so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Logger returns a debug-level text logger that writes to l.
func (l *Log) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// WaitFor waits (bounded, see Eventually) until the log contains substr.
func (l *Log) WaitFor(t testing.TB, substr string) {
	t.Helper()
	Eventually(t, func() string {
		if log := l.String(); !strings.Contains(log, substr) {
			return fmt.Sprintf("log never contained %q; log:\n%s", substr, log)
		}
		return ""
	})
}

// WaitForLine waits (bounded, see Eventually) until one line of the log contains
// every one of substrs, and returns that line.
func (l *Log) WaitForLine(t testing.TB, substrs ...string) string {
	t.Helper()
	var found string
	Eventually(t, func() string {
		log := l.String()
		for _, line := range strings.Split(log, "\n") {
			if ContainsAll(line, substrs...) {
				found = line
				return ""
			}
		}
		return fmt.Sprintf("no log line contained all of %q; log:\n%s", substrs, log)
	})
	return found
}

// ContainsAll reports whether s contains every one of substrs.
func ContainsAll(s string, substrs ...string) bool {
	for _, sub := range substrs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
