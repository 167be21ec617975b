package exactly

import (
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/lovoo/goka/storage"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// Stores are the table stores a group's processor opened, by topic and
// partition: a Window that writes table records itself (Config.Table) puts
// them into the local store too, as goka's SetValue would.
type Stores struct {
	dir  string
	mu   sync.Mutex
	open map[storeKey]*writeBehind
}

type storeKey struct {
	topic     string
	partition int32
}

// NewStores returns the stores of a group whose LevelDB files live in dir.
func NewStores(dir string) *Stores { return &Stores{dir: dir, open: map[storeKey]*writeBehind{}} }

// Builder is StorageBuilder(dir), remembering every store it opens.
func (s *Stores) Builder() storage.Builder {
	build := StorageBuilder(s.dir)
	return func(topic string, partition int32) (storage.Storage, error) {
		st, err := build(topic, partition)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.open[storeKey{topic, partition}] = st.(*writeBehind)
		s.mu.Unlock()
		return st, nil
	}
}

// store returns the open store of topic's partition p, or nil.
func (s *Stores) store(topic string, p int32) *writeBehind {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open[storeKey{topic, p}]
}

// Each calls fn with every record of the open store of topic's partition p
// (none when it is not open here), after its pending writes. A store that
// closes meanwhile (a rebalance) ends the walk with an error.
func (s *Stores) Each(topic string, p int32, fn func(key string, value []byte) error) error {
	st := s.store(topic, p)
	if st == nil {
		return nil
	}
	it, err := st.Iterator()
	if err != nil {
		return fmt.Errorf("walk %s/%d: %w", topic, p, err)
	}
	defer it.Release()
	for it.Next() {
		v, err := it.Value()
		if err != nil {
			return fmt.Errorf("walk %s/%d: %w", topic, p, err)
		}
		if err := fn(string(it.Key()), v); err != nil {
			return err
		}
	}
	return it.Err()
}

// StorageBuilder is the LevelDB storage of the group's table, for the
// processor and its views: a write-behind store (below) over LevelDB. Each
// table partition is a store of its own, so their buffers add up: a 4 MiB
// write buffer (LevelDB's default; 16 MiB cost 96 MiB of heap over six
// stores for no measurable speed, the write-behind store already gathers
// the writes) and a 2 MiB block cache (the reads mostly hit the memtable or
// the write-behind store).
func StorageBuilder(dir string) storage.Builder {
	return func(topic string, partition int32) (storage.Storage, error) {
		path := filepath.Join(dir, fmt.Sprintf("%s.%d", topic, partition))
		db, err := leveldb.OpenFile(path, &opt.Options{WriteBuffer: 4 << 20, BlockCacheCapacity: 2 << 20})
		if err != nil {
			return nil, fmt.Errorf("open table storage %s: %w", path, err)
		}
		return newWriteBehind(db)
	}
}

// writeBehind is goka's table storage with its writes gathered in memory
// and applied to LevelDB in one atomic batch every flushWrites writes or
// flushEvery, whichever comes first (and when recovered or closed). Every
// event rewrites its IP's and its day's records, and goka stores each
// write's table-topic offset after it too: written one by one that was
// four LevelDB puts per event, each with its journal write() syscall.
// Gathered, a hot key's writes in a batch collapse into one and a batch is
// one write().
//
// A crash loses the writes not yet applied; that is safe because the local
// store is a cache of the table topic. LevelDB then holds a prefix of the
// writes (batches are atomic and in order), including the offset goka
// stored with it: every table record up to that offset was written locally
// before it was produced, so it is in the prefix. On restart goka recovers
// the table topic from that offset, and the inputs whose outputs never
// reached Kafka are replayed (offsets are committed in order), exactly as
// after a crash without the cache.
//
// Values are kept by reference: goka hands over a freshly encoded value (or
// a consumed record's) that nothing changes afterwards.
type writeBehind struct {
	db   *leveldb.DB
	iter storage.Storage // goka's LevelDB storage over db, for its iterators

	mu        sync.Mutex
	pending   map[string][]byte // nil: deleted
	offset    int64             // the last offset goka stored (0: none)
	offsetSet bool              // offset is not applied yet
	writes    int
	since     time.Time
}

const (
	// flushWrites bounds the values held: an attacking IP's record with its
	// kept alerts is several KiB (8192 held 40 MiB per store).
	flushWrites = 1024
	flushEvery  = 200 * time.Millisecond
	// offsetKey is goka's key for the stored offset (storage.offsetKey), so
	// stores written by goka's own LevelDB storage read the same.
	offsetKey = "__offset"
)

func newWriteBehind(db *leveldb.DB) (*writeBehind, error) {
	iter, err := storage.New(db)
	if err != nil {
		return nil, err
	}
	return &writeBehind{db: db, iter: iter, pending: map[string][]byte{}, since: time.Now()}, nil
}

// Open implements storage.Storage.
func (s *writeBehind) Open() error { return nil }

// Close applies the pending writes and closes LevelDB.
func (s *writeBehind) Close() error {
	s.mu.Lock()
	err := s.flushLocked()
	s.mu.Unlock()
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// Has implements storage.Storage.
func (s *writeBehind) Has(key string) (bool, error) {
	s.mu.Lock()
	v, ok := s.pending[key]
	s.mu.Unlock()
	if ok {
		return v != nil, nil
	}
	return s.db.Has([]byte(key), nil)
}

// Get implements storage.Storage.
func (s *writeBehind) Get(key string) ([]byte, error) {
	s.mu.Lock()
	v, ok := s.pending[key]
	s.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := s.db.Get([]byte(key), nil)
	if err == leveldb.ErrNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("table storage: get %s: %w", key, err)
	}
	return v, nil
}

// Set implements storage.Storage.
func (s *writeBehind) Set(key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	return s.write(key, value)
}

// Delete implements storage.Storage.
func (s *writeBehind) Delete(key string) error { return s.write(key, nil) }

func (s *writeBehind) write(key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[key] = value
	return s.wrote()
}

// GetOffset implements storage.Storage: the last offset stored, or def.
func (s *writeBehind) GetOffset(def int64) (int64, error) {
	s.mu.Lock()
	off := s.offset
	s.mu.Unlock()
	if off != 0 {
		return off, nil
	}
	data, err := s.db.Get([]byte(offsetKey), nil)
	if err == leveldb.ErrNotFound {
		return def, nil
	}
	if err != nil {
		return 0, fmt.Errorf("table storage: get offset: %w", err)
	}
	v, err := strconv.ParseInt(string(data), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("table storage: decode offset %q: %w", data, err)
	}
	return v, nil
}

// SetOffset implements storage.Storage.
func (s *writeBehind) SetOffset(offset int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset, s.offsetSet = offset, true
	return s.wrote()
}

// MarkRecovered applies what recovery wrote.
func (s *writeBehind) MarkRecovered() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked()
}

// Iterator implements storage.Storage (after applying the pending writes).
func (s *writeBehind) Iterator() (storage.Iterator, error) {
	if err := s.flush(); err != nil {
		return nil, err
	}
	return s.iter.Iterator()
}

// IteratorWithRange implements storage.Storage (after applying the pending writes).
func (s *writeBehind) IteratorWithRange(start, limit []byte) (storage.Iterator, error) {
	if err := s.flush(); err != nil {
		return nil, err
	}
	return s.iter.IteratorWithRange(start, limit)
}

// wrote counts a write and applies the batch when it is due.
func (s *writeBehind) wrote() error {
	s.writes++
	if s.writes < flushWrites && time.Since(s.since) < flushEvery {
		return nil
	}
	return s.flushLocked()
}

func (s *writeBehind) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked()
}

// flushLocked applies the pending writes in one atomic batch.
func (s *writeBehind) flushLocked() error {
	s.writes, s.since = 0, time.Now()
	if len(s.pending) == 0 && !s.offsetSet {
		return nil
	}
	var b leveldb.Batch
	for k, v := range s.pending {
		if v == nil {
			b.Delete([]byte(k))
		} else {
			b.Put([]byte(k), v)
		}
	}
	if s.offsetSet {
		b.Put([]byte(offsetKey), strconv.AppendInt(nil, s.offset, 10))
	}
	if err := s.db.Write(&b, nil); err != nil {
		return fmt.Errorf("table storage: write %d records: %w", b.Len(), err)
	}
	clear(s.pending)
	s.offsetSet = false
	return nil
}
