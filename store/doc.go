// Package store is blimp's document store: collections of JSON documents,
// kept per project in one bbolt file, with ids ordered by creation time and
// the Cinema8 query language. The sdk/db module exposes it to handlers as
// store.save, get, remove, list and count.
//
// # Documents
//
// A document is a map[string]any of JSON values, as encoding/json or goja's
// Export produce them. Save adds two fields, replacing any given: "id", a
// string unique in the store, and "created", the time of the save in
// milliseconds since the epoch. Documents are stored as JSON; Get and List
// return integers as int64 and other numbers as float64, like goja's
// Export, so a saved document comes back equal to itself plus id and
// created.
//
// An id is 16 lowercase hexadecimal digits: 12 for the creation
// millisecond, 4 for a sequence number within it (for example
// "0186dbc0e3230000"), so ids sort as text in the order of creation and
// created is the number the first 12 digits spell. Ids
// are issued inside the write transaction and so grow in commit order: a
// reader that has seen an id will never later see a new document with a
// smaller id. They also keep growing across restarts when the clock goes
// back (created then stays at the last time issued).
//
// # Layout
//
// The bbolt file holds two top-level buckets:
//
//	meta                      version = "1" (the layout of this package)
//	projects
//	  <project>               one bucket per project
//	    <collection>          one bucket per collection
//	      <id> = <JSON>       documents, keyed by id, {"created":…,"id":…,…}
//
// Every method takes the project and the collection, so a project can only
// reach its own buckets. Project names may be any printable text up to
// MaxNameLen bytes; collection names use A-Z a-z 0-9 . _ - only.
//
// # Queries
//
// List, Count and Group take a Query, which ParseQuery builds from the
// query object of a handler, as in Cinema8's search:
//
//	{
//	  "sortField": "created",      // a field path; default "created"
//	  "sortOrder": "asc",          // "asc" (default) or "desc", any case
//	  "offset": 0,                 // results to skip; default 0
//	  "limit": 10,                 // results to return; default 100, at most 1000
//	  "filters": [{"field": "data.score", "operator": ">", "value": 55}],
//	  "groupBy": "data.liked"      // count documents by this field instead
//	}
//
// Every key is optional, and a null or undefined value counts as absent;
// a limit of 0 also means the default. Anything else that is not as
// described, such as an unknown key, an unknown operator, a limit that is
// not a whole number, or a filter without its value, is a *QueryError that
// says where the problem is; a query is never silently run as something
// else.
//
// A field path is a field name, or names joined by dots for nested
// objects: "created", "username", "data.score". A segment that is a
// number also indexes an array: "data.tags.0". A document matches when it
// passes every filter. The operators:
//
//	=   (also ==, eq)  equal: numbers by value, strings, booleans and null
//	                   exactly, arrays and objects element by element
//	!=  (also ne)      not equal: the field is there and is not equal
//	>   (also gt)      greater than
//	>=  (also gte)     greater than or equal
//	<   (also lt)      less than
//	<=  (also lte)     less than or equal
//	contains           the field, a string, has value as a substring, or,
//	                   an array, has an element equal to value
//	in                 value is an array with an element equal to the field
//
// Word forms match in any case. The ordering operators (>, >=, <, <=)
// take a number or a string: numbers compare by value, whether stored as
// integers or not, and strings by their bytes (so "10" < "9"). A field of
// another type than the value never matches them. A field that is missing
// never matches any filter, not even !=: {field: "x", operator: "!=",
// value: 1} selects the documents that have an x other than 1. To select
// documents with an explicit null, compare with null using = or in.
//
// Documents are listed by sortField, then by id in the same direction.
// Values of different types order as null, booleans, numbers, strings,
// arrays, objects (arrays and objects tie). Documents without the sort
// field come last, in both directions.
//
// With groupBy, Group returns the distinct values of that field among the
// matching documents with their counts, largest count first, then by value;
// a missing field counts as null. Offset and limit page through the
// groups; sortField and sortOrder are accepted but do not apply. List
// refuses a query with groupBy, and Count then counts groups.
//
// # Performance
//
// Filters on created and id with =, >, >=, < and <= become a range of
// keys: List, Count and Group seek to the first key and stop after the
// last, never reading other documents. Sorting by created or id follows
// the keys forward or backward and stops after offset+limit matches. Other
// filters and sort fields read every document in the range; they find the
// fields they need in the stored JSON without decoding the rest, and
// decode only the documents returned. Sorting by another field keeps only
// the best offset+limit documents in memory.
//
// # Concurrency
//
// A Store is safe for concurrent use. bbolt lets any number of reads run
// alongside one write transaction; reads see the state of the last commit.
// Save and Remove hand their writes to one committer goroutine, which
// commits every write queued so far in one transaction and one fsync, then
// starts again with those that queued meanwhile (group commit without a
// timer: a lone write is committed at once, and under load each commit
// takes all the writes that waited for the previous one). Each caller
// returns only after its commit is on disk: a write that returned survives
// a crash. If one write of a commit fails, the others are committed one by
// one, so a write can be run more than once, and each run takes its own
// id. Close lets the queued writes finish; writes after it fail with
// ErrClosed. Open takes bbolt's
// file lock, so a second process (or a second Open of the same file)
// fails after a second with an error saying the file is locked.
package store
