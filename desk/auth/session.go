package auth

// Sessions. The cookie __Host-faros-desk holds 32 random bytes and dies with the browser; Redis
// keeps only their SHA-256, the session id, so a copy of Redis signs nobody in. A session
// stores its operator, when it started, when it was last used and the operator's generation
// at sign-in: Revoke and a new enrolment raise the generation, which ends every older session
// at once even if one was being made at that moment. Expiry is decided by comparing the
// stored times with the clock; Redis TTLs only clear away what is already dead.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

const sessionCookie = "__Host-faros-desk"

// Session is a signed-in counsellor's session.
type Session struct {
	ID       string // opaque: a hash of the cookie's token, never the token
	Operator string // the roster id
	CSRF     string // the token the app sends back in X-CSRF-Token
	Started  time.Time
}

type ctxKey struct{}

// From returns the session Require put in ctx.
func From(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(ctxKey{}).(Session)
	return s, ok
}

func (a *Auth) sessionKey(id string) string { return a.key("session", id) }

// hashToken is the id under which a cookie's token is known.
func hashToken(token []byte) string {
	sum := sha256.Sum256(token)
	return hex.EncodeToString(sum[:])
}

// csrfToken is derived from the session id, so it is stored nowhere: a copy of Redis cannot
// make it.
func (a *Auth) csrfToken(id string) string {
	m := hmac.New(sha256.New, a.csrfKey)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (a *Auth) generation(ctx context.Context, op string) (int64, error) {
	g, err := a.rdb.Get(ctx, a.opKey(op, "gen")).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return g, err
}

// startSession signs the browser in as op, of generation gen (read before the credentials
// were checked).
func (a *Auth) startSession(ctx context.Context, w http.ResponseWriter, op string, gen int64) error {
	token := make([]byte, 32)
	_, _ = rand.Read(token)
	id, now := hashToken(token), a.now().UnixMilli()
	_, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, a.sessionKey(id), "op", op, "started", now, "seen", now, "gen", gen)
		p.PExpire(ctx, a.sessionKey(id), min(a.idle, a.absolute))
		p.SAdd(ctx, a.opKey(op, "sessions"), id)
		p.PExpire(ctx, a.opKey(op, "sessions"), a.absolute)
		// The generation must outlive every session that names it: were it to expire, an
		// older session's generation would no longer match and end too early.
		p.PExpire(ctx, a.opKey(op, "gen"), a.absolute+time.Hour)
		return nil
	})
	if err != nil {
		return err
	}
	setCookie(w, sessionCookie, base64.RawURLEncoding.EncodeToString(token), 0)
	return nil
}

// setCookie sets a cookie only this origin's pages over https (or localhost) can send, that
// no script can read and that no other site's link or form carries. maxAge 0: it dies with
// the browser; -1: delete it.
func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// stored is a session as Redis keeps it.
type stored struct {
	op            string
	started, seen time.Time
	gen           int64
	alive         bool
}

// lookup reads the session named by id and tells whether it is alive now.
func (a *Auth) lookup(ctx context.Context, id string) (stored, error) {
	f, err := a.rdb.HGetAll(ctx, a.sessionKey(id)).Result()
	if err != nil || f["op"] == "" {
		return stored{}, err
	}
	s := stored{op: f["op"]}
	ms := func(k string) time.Time { n, _ := strconv.ParseInt(f[k], 10, 64); return time.UnixMilli(n) }
	s.started, s.seen = ms("started"), ms("seen")
	s.gen, _ = strconv.ParseInt(f["gen"], 10, 64)
	now := a.now()
	if _, known := a.known(s.op); !known || now.Sub(s.seen) >= a.idle || now.Sub(s.started) >= a.absolute {
		a.end(ctx, id, s.op)
		return s, nil
	}
	gen, err := a.generation(ctx, s.op)
	if err != nil {
		return stored{}, err
	}
	if gen != s.gen {
		a.end(ctx, id, s.op)
		return s, nil
	}
	s.alive = true
	return s, nil
}

// end deletes a session (best effort: a dead session is refused whether or not it is gone).
func (a *Auth) end(ctx context.Context, id, op string) {
	a.rdb.Del(ctx, a.sessionKey(id))
	a.rdb.SRem(ctx, a.opKey(op, "sessions"), id)
}

// touchScript refreshes a session's idle timer, but never brings back one that was deleted.
var touchScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'seen', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

func (a *Auth) touch(ctx context.Context, id string, s stored) error {
	now := a.now()
	ttl := min(a.idle, s.started.Add(a.absolute).Sub(now))
	return touchScript.Run(ctx, a.rdb, []string{a.sessionKey(id)}, now.UnixMilli(), max(ttl, time.Millisecond).Milliseconds()).Err()
}

// fromCookie returns the session id the request's cookie names, or "".
func fromCookie(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	token, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(token) != 32 {
		return ""
	}
	return hashToken(token)
}

// Require lets through only requests of a live session: without one, 401 JSON under /api/, else
// 303 to /signin. An unsafe method also needs the session's CSRF token in X-CSRF-Token and, when
// the browser sends one, the desk's Origin (else 403). An unsafe request (the counsellor did
// something) refreshes the idle timer; a read does not. It puts the
// Session in the request's context.
func (a *Auth) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := strings.HasPrefix(r.URL.Path, "/api/")
		id := fromCookie(r)
		var s stored
		if id != "" {
			var err error
			if s, err = a.lookup(r.Context(), id); err != nil {
				a.log.Error("desk session: cannot be read", "err", err)
				writeError(w, http.StatusServiceUnavailable, msgServer)
				return
			}
		}
		if !s.alive {
			if id != "" {
				setCookie(w, sessionCookie, "", -1)
			}
			if api {
				writeError(w, http.StatusUnauthorized, msgSignedOut)
			} else {
				http.Redirect(w, r, "/signin", http.StatusSeeOther)
			}
			return
		}
		sess := Session{ID: id, Operator: s.op, CSRF: a.csrfToken(id), Started: s.started}
		if unsafe(r.Method) && !a.csrfOK(r, sess) {
			a.log.Warn("desk request refused: no CSRF token or another origin", "op", s.op, "method", r.Method)
			writeError(w, http.StatusForbidden, msgCSRF)
			return
		}
		// Only what the counsellor does renews the idle timer: an open page reads its board by
		// itself, and a page left open on an unattended computer must still sign out.
		if unsafe(r.Method) {
			if err := a.touch(r.Context(), id, s); err != nil {
				a.log.Error("desk session: cannot be refreshed", "err", err)
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, sess)))
	})
}

func unsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// csrfOK checks the X-CSRF-Token header (in constant time) and, when present, the Origin.
func (a *Auth) csrfOK(r *http.Request, s Session) bool {
	got := r.Header.Get("X-CSRF-Token")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1 && a.sameOrigin(r, false)
}

// Alive reports whether s still exists, is within its limits and its operator is Known. It
// does not refresh the idle timer: an open event stream is not a counsellor at work. When
// Redis cannot tell, the answer is no.
func (a *Auth) Alive(ctx context.Context, s Session) bool {
	alive, err := a.Check(ctx, s)
	return alive && err == nil
}

// Check is Alive telling "no" apart from "cannot tell now" (Redis not answering, err): an
// event stream then ends without a goodbye, and the page, which keeps its drafts, comes back.
func (a *Auth) Check(ctx context.Context, s Session) (alive bool, err error) {
	if _, known := a.known(s.Operator); !known || s.ID == "" {
		return false, nil
	}
	st, err := a.lookup(ctx, s.ID)
	if err != nil {
		a.log.Warn("desk session: cannot be read", "op", s.Operator, "err", err)
		return false, err
	}
	return st.alive && st.op == s.Operator, nil
}

// signout ends the browser's session. It must come from the desk's own page: the desk's
// Origin, or, from a browser that sends none, Sec-Fetch-Site: same-origin. Otherwise any
// site could sign a counsellor out with a form: the browser would not send the SameSite
// cookie, but would keep the answer's deletion of it. With a live session it also needs the
// CSRF token, like any unsafe request. The cookie is deleted only when one came.
func (a *Auth) signout(w http.ResponseWriter, r *http.Request) {
	if !a.fromDesk(r) {
		a.log.Warn("desk sign-out refused: not from the desk's page")
		writeError(w, http.StatusForbidden, msgOrigin)
		return
	}
	_, err := r.Cookie(sessionCookie)
	hadCookie := err == nil
	if id := fromCookie(r); id != "" {
		s, err := a.lookup(r.Context(), id)
		if err != nil {
			a.log.Error("desk session: cannot be read", "err", err)
			writeError(w, http.StatusServiceUnavailable, msgServer)
			return
		}
		if s.alive {
			if !a.csrfOK(r, Session{ID: id, CSRF: a.csrfToken(id)}) {
				writeError(w, http.StatusForbidden, msgCSRF)
				return
			}
			a.end(r.Context(), id, s.op)
			a.log.Info("desk sign-out", "op", s.op)
		}
	}
	if hadCookie {
		setCookie(w, sessionCookie, "", -1)
	}
	writeJSON(w, http.StatusOK, okBody)
}

// fromDesk reports whether r says it comes from the desk's own page.
func (a *Auth) fromDesk(r *http.Request) bool {
	if r.Header.Get("Origin") != "" {
		return a.sameOrigin(r, true)
	}
	return r.Header.Get("Sec-Fetch-Site") == "same-origin"
}

// endAll deletes the sessions listed for an operator whose generation was just raised: they
// are already refused, this frees them. It returns how many were still there.
func (a *Auth) endAll(ctx context.Context, ids []string) int {
	if len(ids) == 0 {
		return 0
	}
	cmds, _ := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.Del(ctx, a.sessionKey(id)) // one by one: in a cluster they are on different slots
		}
		return nil
	})
	n := 0
	for _, c := range cmds {
		if d, ok := c.(*redis.IntCmd); ok {
			n += int(d.Val())
		}
	}
	return n
}
