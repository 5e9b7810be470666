package auth

// Failed attempts. At most maxFailures per typed id in failureWindow, counted for every id,
// known or not, so that being locked out tells nothing about whether an id exists. The key is
// named by a keyed hash of what was typed: a password typed into the id field by mistake never
// reaches Redis or the log. The window's start is stored and compared with the clock.

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

func (a *Auth) failureKey(typed string) string {
	m := hmac.New(sha256.New, a.failKey)
	m.Write([]byte(typed))
	return a.key("fail", hex.EncodeToString(m.Sum(nil)[:16]))
}

// lockedOut refuses when typed has had maxFailures failures in the current window.
func (a *Auth) lockedOut(ctx context.Context, typed string) error {
	v, err := a.rdb.HMGet(ctx, a.failureKey(typed), "n", "start").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	n, start := atoi(v[0]), atoi(v[1])
	if wait := time.UnixMilli(start).Add(failureWindow).Sub(a.now()); n >= maxFailures && wait > 0 {
		return &problem{status: http.StatusTooManyRequests, msg: lockedMessage(wait), retry: wait}
	}
	return nil
}

func atoi(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// failScript counts a failure; a window older than ARGV[2] ms starts again.
var failScript = redis.NewScript(`
local start = tonumber(redis.call('HGET', KEYS[1], 'start') or '0')
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
if now - start >= window then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'n', 1, 'start', now)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, now}
end
return {redis.call('HINCRBY', KEYS[1], 'n', 1), start}`)

// failed counts a failure of typed and returns the refusal to send: msg, or, at the last
// failure allowed, the lock-out and when it ends.
func (a *Auth) failed(ctx context.Context, typed, msg string) error {
	res, err := failScript.Run(ctx, a.rdb, []string{a.failureKey(typed)}, a.now().UnixMilli(), failureWindow.Milliseconds()).Int64Slice()
	if err != nil {
		return err
	}
	if res[0] >= maxFailures {
		wait := time.UnixMilli(res[1]).Add(failureWindow).Sub(a.now())
		return &problem{status: http.StatusTooManyRequests, msg: lockedMessage(wait), retry: wait}
	}
	return refuse(http.StatusUnauthorized, msg)
}

// succeeded forgets the failures of typed.
func (a *Auth) succeeded(ctx context.Context, typed string) {
	a.rdb.Del(ctx, a.failureKey(typed))
}
