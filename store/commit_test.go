package store

import (
	"errors"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// holdCommitter makes the committer run a write that blocks until release
// is called, so that the writes queued meanwhile all go into the next
// commit.
func holdCommitter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, hold := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.write(func(*bolt.Tx) error {
			close(started)
			<-hold
			return nil
		})
	}()
	<-started
	return func() {
		close(hold)
		if err := <-done; err != nil {
			t.Errorf("holding write: %v", err)
		}
	}
}

// waitQueued waits until n writes are queued for the committer.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.writes) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d writes queued, want %d", len(s.writes), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCommitGathersQueuedWrites checks that the writes queued while a
// commit is under way share the next commit, and that one failing write
// fails alone.
func TestCommitGathersQueuedWrites(t *testing.T) {
	s := openTest(t)
	tx0 := txID(t, s)
	release := holdCommitter(t, s)

	const saves = 20
	ids := make([]string, saves)
	errs := make([]error, saves+1)
	var wg sync.WaitGroup
	for i := range saves {
		wg.Go(func() {
			ids[i], _, errs[i] = s.Save("p", "c", map[string]any{"i": int64(i)})
		})
	}
	boom := errors.New("boom")
	wg.Go(func() { errs[saves] = s.write(func(*bolt.Tx) error { return boom }) })
	waitQueued(t, s, saves+1)
	release()
	wg.Wait()

	for i, err := range errs[:saves] {
		if err != nil {
			t.Errorf("save %d: %v", i, err)
		}
	}
	if !errors.Is(errs[saves], boom) {
		t.Errorf("failing write: got %v, want boom", errs[saves])
	}
	n, err := s.Count("p", "c", Query{})
	if err != nil || n != saves {
		t.Fatalf("Count: got %d, %v, want %d", n, err, saves)
	}
	// The hold, the shared commit that failed, then one commit per write.
	if got, want := txID(t, s)-tx0, 1+saves; got != want {
		t.Errorf("got %d commits, want %d", got, want)
	}

	// Without a failure, queued writes share one commit.
	tx0 = txID(t, s)
	release = holdCommitter(t, s)
	for i := range saves {
		wg.Go(func() { _, _, errs[i] = s.Save("p", "c", map[string]any{"i": int64(i)}) })
	}
	waitQueued(t, s, saves)
	release()
	wg.Wait()
	for i, err := range errs[:saves] {
		if err != nil {
			t.Errorf("save %d: %v", i, err)
		}
	}
	if got, want := txID(t, s)-tx0, 2; got != want {
		t.Errorf("got %d commits for %d queued saves, want %d (the hold, then one)", got, saves, want)
	}
}

// TestCloseWhileSaving closes the store while goroutines save: each save
// either succeeds, and is in the file when it is opened again, or fails
// with ErrClosed.
func TestCloseWhileSaving(t *testing.T) {
	s := openTest(t)
	path := s.Path()
	var (
		mu    sync.Mutex
		saved []string
		wg    sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id, _, err := s.Save("p", "c", map[string]any{"w": int64(w), "i": int64(i)})
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Save: got %v, want success or ErrClosed", err)
					return
				}
				mu.Lock()
				saved = append(saved, id)
				mu.Unlock()
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if len(saved) == 0 {
		t.Fatal("no save succeeded before Close")
	}
	for _, id := range saved {
		if doc, err := s2.Get("p", "c", id); doc == nil || err != nil {
			t.Fatalf("saved %s before Close: got %v, %v after reopening", id, doc, err)
		}
	}
	if _, err := s.Remove("p", "c", saved[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("Remove after Close: got %v, want ErrClosed", err)
	}
	t.Logf("%d saves before Close", len(saved))
}
