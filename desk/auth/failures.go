package auth

// Attempts. Each way of proving who one is has its own count per typed id: passwords and
// one-time codes at sign-in, passkeys at sign-in, and the first one-time code at enrolment.
// Separate, so that anyone typing wrong passwords under a counsellor's id cannot keep that
// counsellor from using their passkey (or from finishing an enrolment).
//
// An attempt is counted before it is checked, by one script that also refuses it past
// maxFailures in failureWindow: a burst of guesses sent at once cannot all pass a check made
// before the first of them is counted (the password's hash takes a tenth of a second, and
// requests wait for it in a queue). A success deletes the count; an attempt that was never
// checked (the server was too busy to hash the password) is given back.
//
// Counts are kept for every id, known or not, so that being locked out tells nothing about
// whether an id exists. The key is named by a keyed hash of what was typed: a password typed
// into the id field by mistake never reaches Redis or the log. The window's start is stored
// and compared with the clock.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// counter names one of the counts an id has.
type counter string

const (
	passwordTries counter = "password" // a password and one-time code, at sign-in
	passkeyTries  counter = "passkey"  // a passkey's answer, at sign-in
	enrolTries    counter = "enrol"    // the first one-time code, at enrolment (by the invited id)
)

// hidden names what was typed as an id without the text: a keyed hash.
func (a *Auth) hidden(typed string) string {
	m := hmac.New(sha256.New, a.failKey)
	m.Write([]byte(typed))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func (a *Auth) failureKey(c counter, typed string) string {
	return a.key("fail", string(c), a.hidden(typed))
}

// locked is the refusal of an id whose window began at start.
func (a *Auth) locked(start int64) error {
	wait := time.UnixMilli(start).Add(failureWindow).Sub(a.now())
	return &problem{status: http.StatusTooManyRequests, msg: lockedMessage(wait), retry: wait}
}

// lockedOut refuses when typed has used up its attempts of c in the current window; it
// counts nothing (the passkey dialogue asks it before the browser asks the counsellor).
func (a *Auth) lockedOut(ctx context.Context, c counter, typed string) error {
	v, err := a.rdb.HMGet(ctx, a.failureKey(c, typed), "n", "start").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	n, start := atoi(v[0]), atoi(v[1])
	if n >= maxFailures && a.now().Sub(time.UnixMilli(start)) < failureWindow {
		return a.locked(start)
	}
	return nil
}

func atoi(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// attemptScript counts an attempt. KEYS: the count. ARGV: now (ms), the window (ms), the
// most attempts in a window. A window older than ARGV[2] starts again. It returns the
// attempt's number and the window's start; past the most, the count stays as it is and the
// number returned is one more.
var attemptScript = redis.NewScript(`
local start = tonumber(redis.call('HGET', KEYS[1], 'start') or '0')
local now, window, most = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if now - start >= window then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'n', 1, 'start', now)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, now}
end
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if n >= most then return {n + 1, start} end
return {redis.call('HINCRBY', KEYS[1], 'n', 1), start}`)

// try is one attempt, counted.
type try struct {
	a        *Auth
	key      string
	n, start int64
}

// attempt counts an attempt of typed at c. Past maxFailures in the window it refuses with
// the lock-out and when it ends; the attempt must then not be checked.
func (a *Auth) attempt(ctx context.Context, c counter, typed string) (try, error) {
	t := try{a: a, key: a.failureKey(c, typed)}
	res, err := attemptScript.Run(ctx, a.rdb, []string{t.key}, a.now().UnixMilli(), failureWindow.Milliseconds(), maxFailures).Int64Slice()
	if err != nil {
		return t, err
	}
	t.n, t.start = res[0], res[1]
	if t.n > maxFailures {
		return t, a.locked(t.start)
	}
	return t, nil
}

// failed is the refusal of a failed attempt: msg, or, at the last attempt allowed, the
// lock-out and when it ends.
func (t try) failed(msg string) error {
	if t.n >= maxFailures {
		return t.a.locked(t.start)
	}
	return refuse(http.StatusUnauthorized, msg)
}

// succeeded forgets the attempts.
func (t try) succeeded(ctx context.Context) {
	t.a.rdb.Del(ctx, t.key)
}

// undoScript gives an attempt back if its window is still the one it was counted in. KEYS:
// the count. ARGV: the window's start.
var undoScript = redis.NewScript(`
local start = tonumber(redis.call('HGET', KEYS[1], 'start') or '-1')
if start == tonumber(ARGV[1]) and tonumber(redis.call('HGET', KEYS[1], 'n') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'n', -1)
end
return 0`)

// undo gives back an attempt that was not checked (the server was busy, or Redis failed):
// a flood must not lock a counsellor out by making the server refuse their attempts. Best
// effort; it returns err, the reason, for the caller's convenience.
func (t try) undo(ctx context.Context, err error) error {
	undoScript.Run(context.WithoutCancel(ctx), t.a.rdb, []string{t.key}, t.start)
	return err
}
