package store

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

const (
	// lockTimeout is how long Open waits for another process to release
	// the data file.
	lockTimeout = time.Second
	// maxBatchSize caps the writes in one commit; it is also how many
	// writes may wait for the committer before Save and Remove block.
	maxBatchSize = 1000
	// fillPercent packs collection pages nearly full when they split:
	// ids only ever grow, so inserts go to the last page and the default
	// half-full split would leave every other page half empty.
	fillPercent = 0.95

	// MaxDocumentSize is the largest document, as JSON, that Save stores.
	MaxDocumentSize = 1 << 20
	// MaxNameLen is the longest project or collection name, in bytes.
	MaxNameLen = 128
)

// ids: the upper 48 bits are the creation time in milliseconds since the
// epoch, the lower 16 a sequence number within that millisecond.
const (
	seqBits   = 16
	maxMillis = 1<<(64-seqBits) - 1
)

// formatVersion is the data layout this package writes, kept in the meta
// bucket so that a later layout can recognize and migrate it.
const formatVersion = "1"

var (
	bucketMeta     = []byte("meta")
	bucketProjects = []byte("projects")
	keyVersion     = []byte("version")
)

// ErrClosed is returned by the methods of a Store that has been closed.
var ErrClosed = errors.New("store is closed")

// Store is a document store that owns one bbolt file. Create it with Open;
// the zero value is not usable. A Store is safe for concurrent use by
// many goroutines.
type Store struct {
	db   *bolt.DB
	path string
	// last is the last id issued. It only changes inside write
	// transactions, which bbolt runs one at a time, so ids grow in commit
	// order.
	last atomic.Uint64
	// now returns the time in milliseconds since the epoch; tests set it.
	now func() int64

	// writes queues Save and Remove for the committer goroutine, which
	// closes committed once writes is closed and drained.
	writes    chan *write
	committed chan struct{}
	// mu guards closed. Save and Remove hold it for reading while they
	// queue a write, Close for writing while it closes writes.
	mu     sync.RWMutex
	closed bool
}

// write is a Save or Remove waiting for the committer: apply runs inside
// the commit's transaction (more than once if a commit has to be retried)
// and done receives the outcome once the transaction is on disk.
type write struct {
	apply func(*bolt.Tx) error
	done  chan error
}

// Open opens the data file at path, creating it and its parent
// directories if needed. It fails after a second if another process holds
// the file.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("data file: no path given")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("data file %q: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: lockTimeout,
		// The freelist is rebuilt when the file is opened instead of
		// being written by every commit; a hashmap keeps it fast as the
		// file grows. etcd runs bbolt the same way.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("data file %q: locked by another process (is another blimp running?)", path)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum), errors.Is(err, bolterrors.ErrVersionMismatch):
		return nil, fmt.Errorf("data file %q: not a blimp data file, or damaged (%w); move it away to start with an empty store", path, err)
	case err != nil:
		return nil, fmt.Errorf("data file %q: %w", path, err)
	}
	s := &Store{
		db:        db,
		path:      path,
		now:       func() int64 { return time.Now().UnixMilli() },
		writes:    make(chan *write, maxBatchSize),
		committed: make(chan struct{}),
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("data file %q: %w", path, err)
	}
	go s.commit()
	return s, nil
}

// init creates the top-level buckets, checks the layout version and finds
// the last id issued, so that new ids sort after all existing ones even if
// the clock went back.
func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			if err := checkEmpty(tx); err != nil {
				return err
			}
			var err error
			if meta, err = tx.CreateBucket(bucketMeta); err != nil {
				return err
			}
			if err := meta.Put(keyVersion, []byte(formatVersion)); err != nil {
				return err
			}
		}
		if v := meta.Get(keyVersion); string(v) != formatVersion {
			return fmt.Errorf("data layout version %q is not %q, the one this blimp reads; was it written by a newer blimp?", v, formatVersion)
		}
		projects, err := tx.CreateBucketIfNotExists(bucketProjects)
		if err != nil {
			return err
		}
		var last uint64
		err = projects.ForEachBucket(func(name []byte) error {
			return projects.Bucket(name).ForEachBucket(func(coll []byte) error {
				k, _ := projects.Bucket(name).Bucket(coll).Cursor().Last()
				if id, ok := parseID(k); ok && id > last {
					last = id
				}
				return nil
			})
		})
		s.last.Store(last)
		return err
	})
}

// checkEmpty refuses a bbolt file that holds buckets of some other program.
func checkEmpty(tx *bolt.Tx) error {
	var names []string
	err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		names = append(names, string(name))
		return nil
	})
	if err == nil && len(names) > 0 {
		err = fmt.Errorf("not a blimp data file: it holds buckets %q", names)
	}
	return err
}

// Close closes the data file, after the writes already queued and the
// transactions under way finish. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.writes)
	}
	s.mu.Unlock()
	<-s.committed
	return s.db.Close()
}

// commit is the committer goroutine: it takes the first write queued,
// adds every other write queued by then (up to maxBatchSize) and commits
// them in one transaction, then starts again. Writes that arrive while a
// commit is under way wait for the next one, so the busier the store, the
// more writes share each fsync, and a lone write never waits for company.
// It returns once writes is closed and drained.
func (s *Store) commit() {
	defer close(s.committed)
	batch := make([]*write, 0, maxBatchSize)
	for w := range s.writes {
		batch = append(batch[:0], w)
	gather:
		for len(batch) < maxBatchSize {
			select {
			case w, ok := <-s.writes:
				if !ok {
					break gather
				}
				batch = append(batch, w)
			default:
				break gather
			}
		}
		s.commitBatch(batch)
	}
}

// commitBatch commits batch in one transaction and reports the outcome to
// each write. If one write fails, the transaction is rolled back and each
// write is committed on its own, so that only the failing one fails.
func (s *Store) commitBatch(batch []*write) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, w := range batch {
			if err := w.run(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(batch) == 1 {
		for _, w := range batch {
			w.done <- err
		}
		return
	}
	for _, w := range batch {
		w.done <- s.db.Update(w.run)
	}
}

// run applies w in tx, turning a panic into an error so that it fails w
// alone instead of the committer.
func (w *write) run(tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return w.apply(tx)
}

// write queues apply for the committer and returns its outcome once the
// transaction it ran in is on disk.
func (s *Store) write(apply func(*bolt.Tx) error) error {
	w := &write{apply: apply, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	s.writes <- w
	s.mu.RUnlock()
	return <-w.done
}

// Path returns the data file's path.
func (s *Store) Path() string { return s.path }

// Save stores doc as a new document in the collection and returns its id
// and creation time (milliseconds since the epoch), which it also stores in
// the document as "id" and "created", replacing any given. doc must
// encode as JSON, in at most MaxDocumentSize bytes; it is not modified.
//
// Save returns once the document is committed to disk. Concurrent calls
// share commits: the writes that queue while one commit is under way go
// into the next, so many goroutines saving at once cost one fsync per
// batch rather than one each.
func (s *Store) Save(project, collection string, doc map[string]any) (id string, created int64, err error) {
	if err := checkNames(project, collection); err != nil {
		return "", 0, err
	}
	body, err := encodeBody(doc)
	if err != nil {
		return "", 0, fmt.Errorf("save in %q: document cannot be stored as JSON: %w", collection, err)
	}
	if len(body) > MaxDocumentSize {
		return "", 0, fmt.Errorf("save in %q: document is %d bytes as JSON, more than the limit of %d", collection, len(body), MaxDocumentSize)
	}
	var n uint64
	// The committer may run this function more than once; only the run
	// that commits counts, and each run takes a fresh id.
	err = s.write(func(tx *bolt.Tx) error {
		b, err := collectionBucket(tx, project, collection, true)
		if err != nil {
			return err
		}
		b.FillPercent = fillPercent
		n = s.nextID()
		return b.Put(idKey(n), appendDoc(nil, n, body))
	})
	if err != nil {
		return "", 0, s.wrap(fmt.Sprintf("save in %q", collection), err)
	}
	return string(idKey(n)), int64(n >> seqBits), nil
}

// nextID issues an id: the current time, or one past the last id issued
// if that is not smaller. The caller must be in a write transaction.
func (s *Store) nextID() uint64 {
	ms := min(max(s.now(), 0), maxMillis)
	n := max(uint64(ms)<<seqBits, s.last.Load()+1)
	s.last.Store(n)
	return n
}

// idKey formats an id as 16 lowercase hexadecimal digits.
func idKey(n uint64) []byte {
	var raw [8]byte
	for i := range raw {
		raw[i] = byte(n >> (56 - 8*i))
	}
	return hex.AppendEncode(make([]byte, 0, 16), raw[:])
}

// parseID reads an id formatted by idKey.
func parseID(k []byte) (uint64, bool) {
	if len(k) != 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(k), 16, 64)
	return n, err == nil
}

// encodeBody encodes doc as JSON without its id and created fields.
func encodeBody(doc map[string]any) ([]byte, error) {
	_, hasID := doc["id"]
	_, hasCreated := doc["created"]
	if hasID || hasCreated {
		m := make(map[string]any, len(doc))
		for k, v := range doc {
			if k != "id" && k != "created" {
				m[k] = v
			}
		}
		doc = m
	}
	if doc == nil {
		return []byte("{}"), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// appendDoc appends the stored form of a document: body, the JSON object
// encodeBody made, with created and id put first.
func appendDoc(dst []byte, n uint64, body []byte) []byte {
	dst = append(dst, `{"created":`...)
	dst = strconv.AppendInt(dst, int64(n>>seqBits), 10)
	dst = append(dst, `,"id":"`...)
	dst = append(dst, idKey(n)...)
	dst = append(dst, '"')
	if len(body) > 2 { // not "{}"
		dst = append(dst, ',')
	}
	return append(dst, body[1:]...)
}

// Get returns the document with the given id, or nil and no error if the
// collection holds none.
func (s *Store) Get(project, collection, id string) (map[string]any, error) {
	if err := checkNames(project, collection); err != nil {
		return nil, err
	}
	var doc map[string]any
	err := s.db.View(func(tx *bolt.Tx) error {
		b, _ := collectionBucket(tx, project, collection, false)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		var err error
		doc, err = decodeDoc(v)
		return damaged(id, err)
	})
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("get from %q", collection), err)
	}
	return doc, nil
}

// Remove deletes the document with the given id and reports whether there
// was one. Like Save, it returns once the change is on disk.
func (s *Store) Remove(project, collection, id string) (bool, error) {
	if err := checkNames(project, collection); err != nil {
		return false, err
	}
	var found bool
	err := s.write(func(tx *bolt.Tx) error {
		found = false
		b, _ := collectionBucket(tx, project, collection, false)
		if b == nil || b.Get([]byte(id)) == nil {
			return nil
		}
		found = true
		return b.Delete([]byte(id))
	})
	if err != nil {
		return false, s.wrap(fmt.Sprintf("remove from %q", collection), err)
	}
	return found, nil
}

// wrap gives an error of bbolt its context.
func (s *Store) wrap(what string, err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("%s: %w", what, ErrClosed)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// damaged describes a stored document that cannot be decoded.
func damaged(id string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("document %q is damaged: %w", id, err)
}

// collectionBucket returns the bucket of a collection, creating it (and its
// project's) if create is set; otherwise it returns nil if there is none.
func collectionBucket(tx *bolt.Tx, project, collection string, create bool) (*bolt.Bucket, error) {
	projects := tx.Bucket(bucketProjects)
	if projects == nil {
		return nil, errors.New("data file has no projects bucket")
	}
	if !create {
		p := projects.Bucket([]byte(project))
		if p == nil {
			return nil, nil
		}
		return p.Bucket([]byte(collection)), nil
	}
	p, err := projects.CreateBucketIfNotExists([]byte(project))
	if err != nil {
		return nil, err
	}
	return p.CreateBucketIfNotExists([]byte(collection))
}

// checkNames checks a project and a collection name. A project name comes
// from a folder name, so it may be any printable text; a collection name
// is written in handler code and is held to A-Z a-z 0-9 . _ -.
func checkNames(project, collection string) error {
	if err := checkName("project", project, false); err != nil {
		return err
	}
	return checkName("collection", collection, true)
}

func checkName(kind, name string, strict bool) error {
	switch {
	case name == "":
		return fmt.Errorf("%s name is empty", kind)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%s name %.20q... is %d bytes long, more than %d", kind, name, len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%s name %q is not valid UTF-8", kind, name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !strict {
			ok = r >= ' ' && r != 0x7f && !(r >= 0x80 && r < 0xa0)
		}
		if !ok {
			if strict {
				return fmt.Errorf("%s name %q has the character %q; use only letters A-Z a-z, digits, '.', '_' and '-'", kind, name, r)
			}
			return fmt.Errorf("%s name %q has the control character %q", kind, name, r)
		}
	}
	return nil
}
