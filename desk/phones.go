package desk

// How the handoff desk reaches a counsellor who works at the desk only (roster.Desk): they are
// reachable while a page of theirs is open (its event stream marks them present), and what
// Faros tells them (a case taken away, a person who wiped the chat, a reminder) is kept for the
// page, sealed, for an hour.

import (
	"context"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/internal/seal"
)

// Phones is the handoff desk's way to the counsellors of the desk (handoff.Config.Operators
// under roster.Desk).
type Phones struct {
	rdb    redis.UniversalClient
	prefix string
	aead   cipher.AEAD
}

var (
	_ handoff.Phones   = (*Phones)(nil)
	_ handoff.Presence = (*Phones)(nil)
)

// ErrAway means the counsellor has no desk page open: the handoff desk gives their case to the
// others on call, and does not count them as told.
var ErrAway = errors.New("desk: the counsellor has no desk page open")

const (
	presentFor = 15 * time.Second // an open page renews it every 5 seconds (Config.Alive)
	noticesFor = time.Hour
	maxNotices = 50
)

// NewPhones returns the desk's Phones; secret (the service's key) seals the notices.
func NewPhones(rdb redis.UniversalClient, prefix string, secret []byte) *Phones {
	key, err := hkdf.Key(sha256.New, secret, nil, "faros desk notices v1", 32)
	if err != nil {
		panic(err) // only for a length hkdf cannot give: a bug
	}
	return &Phones{rdb: rdb, prefix: prefix, aead: seal.AEAD(key)}
}

func (p *Phones) key(op, what string) string { return p.prefix + ":desk:" + what + ":" + op }

// here marks op present for presentFor: a page of theirs is open. It reports whether they
// were not before.
func (p *Phones) here(ctx context.Context, op string) (arrived bool, err error) {
	arrived = !p.Present(ctx, op)
	return arrived, p.rdb.Set(ctx, p.key(op, "live"), 1, presentFor).Err()
}

// Present reports whether op has a desk page open.
func (p *Phones) Present(ctx context.Context, op string) bool {
	n, err := p.rdb.Exists(ctx, p.key(op, "live")).Result()
	return err == nil && n > 0
}

// Notice is one message Faros gave a counsellor of the desk.
type Notice struct {
	At     int64  `json:"at"` // Unix milliseconds
	Text   string `json:"text"`
	Case   string `json:"case,omitempty"`
	Urgent bool   `json:"urgent,omitempty"`
}

// Send keeps replies for op's page, but what the page shows from a case itself (bot.Reply.Shown);
// ErrAway when no page of theirs is open.
func (p *Phones) Send(ctx context.Context, op string, replies []bot.Reply) error {
	if !p.Present(ctx, op) {
		return ErrAway
	}
	now := time.Now().UnixMilli()
	var boxes []any
	for _, r := range replies {
		if r.Shown || r.Text == "" {
			continue
		}
		data, _ := json.Marshal(Notice{At: now, Text: r.Text, Case: r.Tag, Urgent: r.Urgent}) // never fails
		boxes = append(boxes, seal.Seal(p.aead, data, "desk notice "+op))
	}
	if len(boxes) == 0 {
		return nil
	}
	pipe := p.rdb.TxPipeline()
	pipe.RPush(ctx, p.key(op, "notices"), boxes...)
	pipe.LTrim(ctx, p.key(op, "notices"), -maxNotices, -1)
	pipe.PExpire(ctx, p.key(op, "notices"), noticesFor)
	_, err := pipe.Exec(ctx)
	return err
}

// Notices returns op's notices, newest first.
func (p *Phones) Notices(ctx context.Context, op string) ([]Notice, error) {
	boxes, err := p.rdb.LRange(ctx, p.key(op, "notices"), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Notice, 0, len(boxes))
	for i := len(boxes) - 1; i >= 0; i-- {
		var n Notice
		if data, err := seal.Open(p.aead, []byte(boxes[i]), "desk notice "+op); err == nil && json.Unmarshal(data, &n) == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// Copy refuses: Faros keeps no media, and the desk cannot show them; the person is asked to
// write instead, as when a copy fails on Telegram.
func (*Phones) Copy(context.Context, string, string, string, string) error {
	return errors.New("the desk in the browser cannot show media")
}

// Delete does nothing: the notices expire within the hour.
func (*Phones) Delete(context.Context, string, []string) error { return nil }
