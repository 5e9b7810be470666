package bot

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/faros-project/faros/internal/redistest"
)

// TestStoreVersion: a save lands only on the version its message read. A message that read
// before another saved is refused, as is one that read before a lock was taken; the holder
// of the lock saves; and a lock is refused to a message that read before a save.
func TestStoreVersion(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	s := &store{rdb: r.Client, pipe: newPipe(r.Client), prefix: r.Prefix, idle: time.Hour, lockTTL: 10 * time.Second, lockWait: time.Second}
	now := time.Now()
	sv := func(data string) save { return save{data: []byte(data), ttl: time.Hour} }
	read := func() begun {
		t.Helper()
		bg, err := s.begin(ctx, "p", "", "", now)
		if err != nil {
			t.Fatal(err)
		}
		return bg
	}

	first, second := read(), read()
	if err := s.commit(ctx, "p", first, sv(`{"t":1}`)); err != nil {
		t.Fatalf("the first save: %v", err)
	}
	if err := s.commit(ctx, "p", second, sv(`{"t":2}`)); !errors.Is(err, errMoved) {
		t.Errorf("a save on a version another save moved: %v; want errMoved", err)
	}
	if err := s.lock(ctx, "p", &second); !errors.Is(err, errMoved) {
		t.Errorf("a lock on a version another save moved: %v; want errMoved", err)
	}

	holder, other := read(), read()
	if err := s.lock(ctx, "p", &holder); err != nil {
		t.Fatalf("lock: %v", err)
	}
	if _, err := s.begin(ctx, "p", "", "", now); !errors.Is(err, errBusy) {
		t.Errorf("a read while the lock is held: %v; want errBusy after lockWait", err)
	}
	if err := s.commit(ctx, "p", other, sv(`{"t":3}`)); !errors.Is(err, errMoved) {
		t.Errorf("a save while another holds the lock: %v; want errMoved", err)
	}
	if err := s.commit(ctx, "p", holder, sv(`{"t":4}`)); err != nil {
		t.Errorf("the holder's save: %v", err)
	}
	if bg := read(); string(bg.data) != `{"t":4}` {
		t.Errorf("the session is %s; want the holder's", bg.data)
	}
	if ttl := r.Client.TTL(ctx, s.key("p", "conv")).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("TTL %v; want the idle time", ttl)
	}
}

// TestStoreVersionAfterAWipe: a save read before a wipe never lands after it, however many
// saves the conversation begun again has had: versions are random, never counted again.
func TestStoreVersionAfterAWipe(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	s := &store{rdb: r.Client, pipe: newPipe(r.Client), prefix: r.Prefix, idle: time.Hour, lockTTL: 10 * time.Second, lockWait: time.Second}
	read := func() begun {
		t.Helper()
		bg, err := s.begin(ctx, "p", "", "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return bg
	}
	sv := func(data string) save { return save{data: []byte(data), ttl: time.Hour} }
	if err := s.commit(ctx, "p", read(), sv(`{"before":"the wipe"}`)); err != nil {
		t.Fatal(err)
	}
	slow, w := read(), read()
	if err := s.lock(ctx, "p", &w); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wipe(ctx, "p", w, ""); err != nil {
		t.Fatal(err)
	}
	for range 3 { // the person starts again
		if err := s.commit(ctx, "p", read(), sv(`{"after":"the wipe"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.commit(ctx, "p", slow, sv(`{"before":"the wipe","again":true}`)); !errors.Is(err, errMoved) {
		t.Errorf("a save read before the wipe: %v; want errMoved (the session is now %s)", err, read().data)
	}
}
