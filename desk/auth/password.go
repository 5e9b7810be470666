package auth

// The password and one-time code, for a counsellor whose device has no passkeys. The password
// is kept as an argon2id hash, sealed with the rest of the credentials; the one-time code is
// TOTP (RFC 6238: 6 digits, 30 s, SHA-1, as every authenticator app reads from a QR code). A
// code is accepted one step early or late (a phone's clock drifts), and never twice: the last
// time step used is remembered, and a script takes a step only if it is later.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// argonParams are argon2id's costs; OWASP's minimum for argon2id (19 MiB, 2 passes) keeps a
// sign-in under a tenth of a second on a small server.
type argonParams struct {
	Time    uint32 `json:"t"`
	Memory  uint32 `json:"m"` // KiB
	Threads uint8  `json:"p"`
}

var defaultArgon = argonParams{Time: 2, Memory: 19 * 1024, Threads: 1}

// passwordHash is a password as it is kept. The costs are kept with it, so that raising them
// later does not lock anyone out.
type passwordHash struct {
	Salt []byte      `json:"salt"`
	Key  []byte      `json:"key"`
	Cost argonParams `json:"cost"`
}

// errBusy: no hashing place came free in time.
var errBusy = &problem{status: http.StatusServiceUnavailable, msg: msgBusy, retry: hashWait}

// argon2id runs the hash, at most cap(a.hashing) at once: a flood of sign-ins must not take
// all the memory. It waits at most a.hashWait for a place, then answers errBusy: a flood must
// not keep a counsellor waiting without end either.
func (a *Auth) argon2id(ctx context.Context, password string, salt []byte, c argonParams) ([]byte, error) {
	wait := time.NewTimer(a.hashWait)
	defer wait.Stop()
	select {
	case a.hashing <- struct{}{}:
	case <-wait.C:
		return nil, errBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-a.hashing }()
	return argon2.IDKey([]byte(password), salt, c.Time, c.Memory, c.Threads, 32), nil
}

func (a *Auth) hashPassword(ctx context.Context, password string) (*passwordHash, error) {
	h := &passwordHash{Salt: make([]byte, 16), Cost: a.argon}
	_, _ = rand.Read(h.Salt)
	key, err := a.argon2id(ctx, password, h.Salt, h.Cost)
	h.Key = key
	return h, err
}

// passwordMatches compares in constant time. Without a hash (an unknown id, or one enrolled
// with a passkey) it hashes all the same and answers no, so that the answer takes as long.
func (a *Auth) passwordMatches(ctx context.Context, password string, h *passwordHash) (bool, error) {
	if h == nil {
		_, err := a.argon2id(ctx, password, a.decoy[:16], a.argon)
		return false, err
	}
	key, err := a.argon2id(ctx, password, h.Salt, h.Cost)
	return err == nil && subtle.ConstantTimeCompare(key, h.Key) == 1, err
}

// normalPassword is how a password is hashed: in Unicode's NFC, so that an accented letter
// is the same password however it was typed: "ά" as one character (U+03AC), as "α" and a
// combining accent (U+03B1 U+0301: some keyboards and phones), or as the polytonic one
// (U+1F71, which NFC makes U+03AC). At enrolment and at sign-in.
func normalPassword(pw string) string {
	return norm.NFC.String(pw)
}

const totpPeriod = 30 // seconds

// matchStep returns the time step at which code is the one-time code of secret, looking one
// step either side of now, or -1.
func matchStep(secret, code string, now time.Time) int64 {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return -1
	}
	found, t := int64(-1), now.Unix()/totpPeriod
	for s := t - 1; s <= t+1; s++ {
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found = s
		}
	}
	return found
}

// stepScript takes a time step if it is later than the last one used. KEYS: step. ARGV: the
// step, the key's life (ms).
var stepScript = redis.NewScript(`
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

func (a *Auth) takeStep(ctx context.Context, op string, step int64) (bool, error) {
	n, err := stepScript.Run(ctx, a.rdb, []string{a.opKey(op, "step")}, step, stepLife.Milliseconds()).Int()
	return n == 1, err
}

// signinPassword signs in with {"id","password","code"}. The attempt is counted before
// anything is checked (failures.go), and every id, known or not, costs the same reads and one
// hash.
func (a *Auth) signinPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct{ ID, Password, Code string }
	if err := decode(r, &in); err != nil {
		return err
	}
	ctx, id := r.Context(), strings.TrimSpace(in.ID)
	if id == "" {
		return refuse(http.StatusBadRequest, msgNoID)
	}
	try, err := a.attempt(ctx, passwordTries, id)
	if err != nil {
		return err
	}
	if len(in.Password) > 1024 {
		in.Password = in.Password[:1024] // never a match (enrolment allows 128 characters); only bounds the hashing
	}
	_, known := a.known(id)
	rec, gen, _, err := a.readOperator(ctx, id, known)
	if err != nil {
		return try.undo(ctx, err)
	}
	var h *passwordHash
	if rec.Method == methodPassword {
		h = rec.Password
	}
	match, err := a.passwordMatches(ctx, normalPassword(in.Password), h)
	if err != nil {
		return try.undo(ctx, err) // not checked: the server was busy, or the browser left
	}
	step := int64(-1)
	if h != nil {
		step = matchStep(rec.TOTP, in.Code, a.now())
	}
	why := ""
	switch {
	case !known:
		why = "not on the roster"
	case h == nil:
		why = "no password enrolled"
	case !match:
		why = "wrong password"
	case step < 0:
		why = "wrong one-time code"
	default:
		fresh, err := a.takeStep(ctx, id, step)
		if err != nil {
			return err
		}
		if !fresh {
			why = "one-time code used before"
		}
	}
	if why != "" {
		a.log.Warn("desk sign-in refused", "op", loggable(id, known), "method", methodPassword, "reason", why)
		return try.failed(msgSignin)
	}
	try.succeeded(ctx)
	a.rdb.PExpire(ctx, a.opKey(id, "cred"), credentialLife)
	if err := a.startSession(ctx, w, id, gen); err != nil {
		return err
	}
	a.log.Info("desk sign-in", "op", id, "method", methodPassword)
	writeJSON(w, http.StatusOK, okBody)
	return nil
}

// loggable is what a log may say of a typed id: the id of an operator, but nothing of text
// that is none (it could be a password typed in the wrong field).
func loggable(id string, known bool) string {
	if known {
		return id
	}
	return "(not an operator)"
}

// enrolTOTPBegin takes {"token","password"}: if the password will do, it makes a TOTP secret
// and shows it, as a QR code and as text. Nothing is kept for the operator until a code
// confirms it (enrolTOTPFinish).
func (a *Auth) enrolTOTPBegin(w http.ResponseWriter, r *http.Request) error {
	var in struct{ Token, Password string }
	if err := decode(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	op, invite, err := a.invitation(ctx, in.Token)
	if err != nil {
		return err
	}
	in.Password = normalPassword(in.Password)
	if msg := weakPassword(in.Password, op); msg != "" {
		return refuse(http.StatusBadRequest, msg)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Faros", AccountName: op, Period: totpPeriod, SecretSize: 20})
	if err != nil {
		return err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return err
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return err
	}
	h, err := a.hashPassword(ctx, in.Password)
	if err != nil {
		return err
	}
	rec := &record{Method: methodPassword, Password: h, TOTP: key.Secret()}
	if err := a.beginCeremony(ctx, w, ceremony{Kind: kindEnrolTOTP, Operator: op, Invite: invite, Record: rec}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"secret": key.Secret(),
		"qr":     "data:image/png;base64," + base64.StdEncoding.EncodeToString(qr.Bytes()),
	})
	return nil
}

// enrolTOTPFinish takes {"code"}: the first code from the app confirms the secret, and the
// password and secret become the operator's credentials.
func (a *Auth) enrolTOTPFinish(w http.ResponseWriter, r *http.Request) error {
	var in struct{ Code string }
	if err := decode(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	c, err := a.takeCeremony(ctx, w, r, kindEnrolTOTP, true) // kept: a mistyped code may be typed again
	if err != nil {
		return err
	}
	if c.Record == nil || c.Record.Method != methodPassword {
		return refuse(http.StatusBadRequest, msgCeremony)
	}
	// Counted before the code is checked: the ceremony is kept for another try, so requests
	// sent at once could otherwise each try a code.
	try, err := a.attempt(ctx, enrolTries, c.Operator)
	if err != nil {
		return err
	}
	step := matchStep(c.Record.TOTP, in.Code, a.now())
	if step < 0 {
		a.log.Warn("desk enrolment refused", "op", c.Operator, "method", methodPassword, "reason", "wrong one-time code")
		return try.failed(msgEnrolCode)
	}
	try.succeeded(ctx)
	a.endCeremony(ctx, w, r)
	// The confirming code's step is kept as used: the code cannot sign in once more.
	return a.enrol(ctx, w, c.Operator, c.Invite, *c.Record, strconv.FormatInt(step, 10))
}
