package wstest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Bounds of Eventually.
const (
	pollTimeout  = 10 * time.Second
	pollInterval = 20 * time.Millisecond
)

// Eventually polls check until it returns "" or ten seconds pass, then fails the
// test with the last complaint. check says what is still wrong, or "" when all is
// well.
func Eventually(t testing.TB, check func() string) {
	t.Helper()
	deadline := time.Now().Add(pollTimeout)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(pollInterval)
	}
}

// WriteFiles writes files (slash path relative to root -> content) under root,
// making the folders they need.
func WriteFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		// Write a dot-file beside it and rename it into place, as editors save: a
		// watching server never sees the file truncated but not yet written.
		tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".tmp")
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
}
