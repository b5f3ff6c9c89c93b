package store

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		fixture.Close()
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// The benchmark fixture: fixtureDocs documents in project "p", collection
// "bench", created fixtureStep milliseconds apart from fixtureStart.
const (
	fixtureDocs  = 100_000
	fixtureStart = 1_700_000_000_000
	fixtureStep  = 10
)

var (
	fixtureOnce sync.Once
	fixture     *Store
	fixtureDir  string
)

func benchFixture(b *testing.B) *Store {
	fixtureOnce.Do(func() {
		dir, err := os.MkdirTemp("", "blimp-store-bench-")
		if err != nil {
			b.Fatal(err)
		}
		fixtureDir = dir
		s, err := Open(filepath.Join(dir, "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		var ms int64 = fixtureStart
		s.now = func() int64 { ms += fixtureStep; return ms }
		// One transaction: Save's path, without a commit per document.
		err = s.db.Update(func(tx *bolt.Tx) error {
			bk, err := collectionBucket(tx, "p", "bench", true)
			if err != nil {
				return err
			}
			bk.FillPercent = fillPercent
			for i := range fixtureDocs {
				body, err := encodeBody(benchDoc(i))
				if err != nil {
					return err
				}
				n := s.nextID()
				if err := bk.Put(idKey(n), appendDoc(nil, n, body)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		fixture = s
	})
	if fixture == nil {
		b.Fatal("fixture failed to build")
	}
	return fixture
}

// benchDoc is a Cinema8-shaped document of about 150 bytes.
func benchDoc(i int) map[string]any {
	return map[string]any{
		"client_id": fmt.Sprintf("widget-%d", i%50),
		"username":  fmt.Sprintf("user%d", i%1000),
		"data": map[string]any{
			"score":   int64(i % 100),
			"liked":   i%3 == 0,
			"comment": "a short comment from the audience",
		},
	}
}

// BenchmarkSaveParallel saves from 50 goroutines at once, each waiting for
// its commit, as 50 handlers awaiting store.save would.
func BenchmarkSaveParallel(b *testing.B) {
	s := openTest(b)
	const writers = 50
	var next atomic.Int64
	var wg sync.WaitGroup
	tx0 := txID(b, s)
	b.ResetTimer()
	for w := range writers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if _, _, err := s.Save("p", "c", benchDoc(w*1_000_000+int(i))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(float64(b.N)/float64(max(txID(b, s)-tx0, 1)), "docs/commit")
}

// txID returns the id of the last committed write transaction.
func txID(b testing.TB, s *Store) int {
	var id int
	if err := s.db.View(func(tx *bolt.Tx) error {
		id = tx.ID()
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return id
}

// BenchmarkListCreatedRange lists 10 documents from a created range in the
// middle of 100,000.
func BenchmarkListCreatedRange(b *testing.B) {
	s := benchFixture(b)
	mid := int64(fixtureStart + fixtureDocs/2*fixtureStep)
	for _, order := range []string{"asc", "desc"} {
		b.Run(order, func(b *testing.B) {
			q, err := ParseQuery(map[string]any{
				"sortField": "created", "sortOrder": order, "limit": int64(10),
				"filters": []any{
					f("created", ">=", mid),
					f("created", "<", mid+100_000),
				},
			})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				docs, err := s.List("p", "bench", q)
				if err != nil || len(docs) != 10 {
					b.Fatalf("List: got %d documents, %v, want 10", len(docs), err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
		})
	}
}

// BenchmarkScanFilter runs queries that must read all 100,000 documents.
func BenchmarkScanFilter(b *testing.B) {
	s := benchFixture(b)
	tests := []struct {
		name  string
		query map[string]any
		run   func(Query) (int, error)
	}{
		{"count/data.score>90", filters(f("data.score", ">", int64(90))), func(q Query) (int, error) {
			return s.Count("p", "bench", q)
		}},
		{"list/data.score>98-limit10", filters(f("data.score", ">", int64(98)), f("username", "=", "user999")), func(q Query) (int, error) {
			docs, err := s.List("p", "bench", q)
			return len(docs), err
		}},
		{"list/sort-data.score-desc-limit10", map[string]any{"sortField": "data.score", "sortOrder": "desc", "limit": int64(10)}, func(q Query) (int, error) {
			docs, err := s.List("p", "bench", q)
			return len(docs), err
		}},
		{"group/data.liked", map[string]any{"groupBy": "data.liked"}, func(q Query) (int, error) {
			groups, err := s.Group("p", "bench", q)
			return len(groups), err
		}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			q, err := ParseQuery(tt.query)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if n, err := tt.run(q); err != nil || n == 0 {
					b.Fatalf("got %d results, %v", n, err)
				}
			}
			b.ReportMetric(float64(fixtureDocs)*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}
