package auth

// Invitations, enrolment and the end of an operator's access. Invite makes a one-time link
// Origin+"/enrol#"+token, the token being base64url(id) "." base64url(32 random bytes): in the
// fragment, it never reaches a server's log. Redis keeps only the token's SHA-256 and when it
// expires, under the operator's own key, so a new invitation replaces an older one. The script
// that keeps new credentials also spends the invitation, raises the operator's generation and
// takes their sessions: two enrolments with one link cannot both succeed, and a re-enrolled
// operator (a lost phone or laptop) is signed out everywhere else.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Invite returns a one-time enrolment link for id and when it stops working. It is an error
// if id is not Known.
func (a *Auth) Invite(ctx context.Context, id string) (link string, expires time.Time, err error) {
	if _, known := a.known(id); !known || id == "" {
		return "", time.Time{}, fmt.Errorf("auth: %q is not on the roster", id)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	token := base64.RawURLEncoding.EncodeToString([]byte(id)) + "." + base64.RawURLEncoding.EncodeToString(secret)
	expires = a.now().Add(a.invite)
	v := hashToken([]byte(token)) + "|" + strconv.FormatInt(expires.UnixMilli(), 10)
	if err := a.rdb.Set(ctx, a.opKey(id, "invite"), v, a.invite).Err(); err != nil {
		return "", time.Time{}, err
	}
	a.log.Info("desk invitation", "op", id, "expires", expires)
	return a.origin + "/enrol#" + token, expires, nil
}

// invitation returns the operator a pending, unexpired invitation token is for and the
// token's hash; msgInvite otherwise.
func (a *Auth) invitation(ctx context.Context, token string) (op, hash string, err error) {
	gone := refuse(http.StatusGone, msgInvite)
	enc, _, found := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if !found || err != nil || len(token) > 512 {
		return "", "", gone
	}
	op, hash = string(raw), hashToken([]byte(token))
	if _, known := a.known(op); !known {
		return "", "", gone
	}
	v, err := a.rdb.Get(ctx, a.opKey(op, "invite")).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", gone
	}
	if err != nil {
		return "", "", err
	}
	want, until, _ := strings.Cut(v, "|")
	ms, _ := strconv.ParseInt(until, 10, 64)
	// Both sides are hashes of a 256-bit secret: comparing them leaks nothing of the token.
	if want != hash || !a.now().Before(time.UnixMilli(ms)) {
		return "", "", gone
	}
	return op, hash, nil
}

// enrolCheck tells the enrolment page whose invitation it holds, or that it no longer works.
func (a *Auth) enrolCheck(w http.ResponseWriter, r *http.Request) error {
	var in struct{ Token string }
	if err := decode(r, &in); err != nil {
		return err
	}
	op, _, err := a.invitation(r.Context(), in.Token)
	if err != nil {
		return err
	}
	alias, _ := a.known(op)
	writeJSON(w, http.StatusOK, map[string]string{"id": op, "alias": alias})
	return nil
}

// enrolScript spends an invitation and keeps the operator's new credentials in its place.
// KEYS: invite, cred, gen, sessions, step. ARGV: the invitation's hash, now (ms), the sealed
// credentials, their life (ms), the generation's life (ms), the one-time code's time step
// used to confirm ("" for none), its life (ms). It returns the new generation followed by the
// sessions to delete, or nil when the invitation is gone, another or expired.
var enrolScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
local sep = string.find(v, '|', 1, true)
if not sep or string.sub(v, 1, sep - 1) ~= ARGV[1] then return false end
redis.call('DEL', KEYS[1])
if tonumber(string.sub(v, sep + 1)) <= tonumber(ARGV[2]) then return false end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
local gen = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
local ended = redis.call('SMEMBERS', KEYS[4])
redis.call('DEL', KEYS[4])
if ARGV[6] == '' then
  redis.call('DEL', KEYS[5])
else
  redis.call('SET', KEYS[5], ARGV[6], 'PX', ARGV[7])
end
table.insert(ended, 1, tostring(gen))
return ended`)

// enrol keeps rec as op's only credentials if the invitation (by its hash) is still good,
// ends op's other sessions and signs this browser in.
func (a *Auth) enrol(ctx context.Context, w http.ResponseWriter, op, invite string, rec record, step string) error {
	if _, known := a.known(op); !known { // taken off the roster since the invitation was opened
		return refuse(http.StatusGone, msgInvite)
	}
	rec.Enrolled = a.now().UnixMilli()
	box, err := a.sealRecord(op, rec)
	if err != nil {
		return err
	}
	keys := []string{a.opKey(op, "invite"), a.opKey(op, "cred"), a.opKey(op, "gen"), a.opKey(op, "sessions"), a.opKey(op, "step")}
	res, err := enrolScript.Run(ctx, a.rdb, keys, invite, a.now().UnixMilli(), box, credentialLife.Milliseconds(),
		(a.absolute + time.Hour).Milliseconds(), step, stepLife.Milliseconds()).StringSlice()
	if errors.Is(err, redis.Nil) {
		a.log.Warn("desk enrolment refused: the invitation is no longer good", "op", op)
		return refuse(http.StatusGone, msgInvite)
	}
	if err != nil {
		return err
	}
	gen, _ := strconv.ParseInt(res[0], 10, 64)
	ended := a.endAll(ctx, res[1:])
	a.log.Info("desk enrolment", "op", op, "method", rec.Method, "sessions_ended", ended)
	if err := a.startSession(ctx, w, op, gen); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, okBody)
	return nil
}

// revokeScript deletes an operator's credentials and pending invitation and raises their
// generation. KEYS: cred, invite, gen, sessions, step. ARGV: the generation's life (ms). It
// returns the sessions to delete.
var revokeScript = redis.NewScript(`
redis.call('DEL', KEYS[1], KEYS[2], KEYS[5])
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
local ended = redis.call('SMEMBERS', KEYS[4])
redis.call('DEL', KEYS[4])
return ended`)

// Revoke ends every session of id at once and deletes their credentials and pending
// invitation: they need a new invitation. ended counts the sessions that were still kept.
func (a *Auth) Revoke(ctx context.Context, id string) (ended int, err error) {
	keys := []string{a.opKey(id, "cred"), a.opKey(id, "invite"), a.opKey(id, "gen"), a.opKey(id, "sessions"), a.opKey(id, "step")}
	ids, err := revokeScript.Run(ctx, a.rdb, keys, (a.absolute + time.Hour).Milliseconds()).StringSlice()
	if err != nil {
		return 0, err
	}
	ended = a.endAll(ctx, ids)
	a.log.Info("desk access revoked", "op", id, "sessions_ended", ended)
	return ended, nil
}
