package bot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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

// TestMessageIDsKeepTheirTTLOnceInAWhile: a typed message's id in the chat is kept for a wipe
// in a key whose TTL the save sets again only when conv's m says it ends within msgsTTL;
// then, as when Remember sets it, ids older than msgsKeep go. The key always has a TTL.
func TestMessageIDsKeepTheirTTLOnceInAWhile(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	s := &store{rdb: r.Client, pipe: newPipe(r.Client), prefix: r.Prefix, idle: time.Hour, lockTTL: 10 * time.Second, lockWait: time.Second}
	msgs := s.key("p", "msgs")
	typed := func(chatID string) {
		t.Helper()
		bg, err := s.begin(ctx, "p", "", "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.commit(ctx, "p", bg, save{data: []byte(`{}`), ttl: time.Hour, chatID: chatID}); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-msgsKeep - time.Hour).Unix()
	typed("10")
	r.Client.ZAdd(ctx, msgs, redis.Z{Score: float64(old), Member: "9"}) // an id older than any wipe reaches
	if ttl := r.Client.TTL(ctx, msgs).Val(); ttl < msgsTTL {
		t.Fatalf("the first typed message: TTL %v; want %v", ttl, msgsKeep)
	}
	r.Client.Expire(ctx, msgs, time.Hour) // as if 47 hours had passed, and m were still ahead
	typed("11")
	if ttl := r.Client.TTL(ctx, msgs).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("a typed message while m is ahead: TTL %v; want the hour left, not set again", ttl)
	}
	r.Client.HSet(ctx, s.key("p", "conv"), "m", time.Now().Add(time.Hour).Unix()) // m now says so too
	typed("12")
	if ttl := r.Client.TTL(ctx, msgs).Val(); ttl < msgsTTL {
		t.Errorf("a typed message once m ends within msgsTTL: TTL %v; want %v", ttl, msgsKeep)
	}
	if ids := r.Client.ZRange(ctx, msgs, 0, -1).Val(); strings.Join(ids, ",") != "10,11,12" {
		t.Errorf("the ids kept: %q; want 10-12, without the old one", ids)
	}

	// Remember does the same.
	r.Client.ZAdd(ctx, msgs, redis.Z{Score: float64(old), Member: "9"})
	r.Client.HSet(ctx, s.key("p", "conv"), "m", time.Now().Add(time.Hour).Unix())
	r.Client.Expire(ctx, msgs, time.Hour)
	if _, err := s.remember(ctx, "p", []string{"13"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if ttl := r.Client.TTL(ctx, msgs).Val(); ttl < msgsTTL {
		t.Errorf("Remember once m ends within msgsTTL: TTL %v; want %v", ttl, msgsKeep)
	}
	if ids := r.Client.ZRange(ctx, msgs, 0, -1).Val(); strings.Join(ids, ",") != "10,11,12,13" {
		t.Errorf("the ids kept: %q; want 10-13, without the old one", ids)
	}
}
