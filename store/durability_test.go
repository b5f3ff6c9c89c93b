package store

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// childEnv, when set, makes TestDurabilityAfterKill the child: it saves
// documents into the data file named by the variable until it is killed.
const childEnv = "BLIMP_STORE_CHILD"

// TestDurabilityAfterKill runs a child process that saves documents from
// several goroutines and prints each id once Save returns, kills it with
// SIGKILL in the middle of its writes, and checks that every id it printed
// is in the reopened file.
func TestDurabilityAfterKill(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		saveUntilKilled(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "blimp.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurabilityAfterKill$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	const killAfter = 500
	var ids []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		id, ok := strings.CutPrefix(sc.Text(), "saved ")
		if !ok {
			continue
		}
		ids = append(ids, id)
		if len(ids) == killAfter && !killed {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
	// The scanner also read what the child printed before it died: those
	// saves returned too.
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child ended after %d ids without being killed: %v", len(ids), err)
	}
	t.Logf("child printed %d ids, %d of them after the kill was sent", len(ids), len(ids)-killAfter)

	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open after kill: %v", err)
	}
	defer s.Close()
	for _, id := range ids {
		doc, err := s.Get("p", "c", id)
		if err != nil || doc == nil || doc["id"] != id {
			t.Errorf("id %s was acknowledged but is missing after the kill: got %v, %v", id, doc, err)
		}
	}
	n, err := s.Count("p", "c", Query{})
	if err != nil || n < len(ids) {
		t.Errorf("Count after kill: got %d, %v, want at least %d", n, err, len(ids))
	}
}

// saveUntilKilled is the child's side.
func saveUntilKilled(path string) {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex // mu guards stdout
	for w := range 8 {
		go func() {
			for i := 0; ; i++ {
				id, _, err := s.Save("p", "c", map[string]any{"w": w, "i": i, "pad": strings.Repeat("x", 200)})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintln(os.Stdout, "saved", id)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Minute) // the parent kills the child long before
	os.Exit(3)
}
