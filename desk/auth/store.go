package auth

// What is kept between requests besides sessions: an operator's credentials, and a ceremony in
// progress. Both are sealed (AES-GCM under a key derived from the secret, with a label that
// binds each box to its place), so a copy of Redis holds no password hash, no one-time code
// secret, no passkey id and no challenge in clear.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/internal/seal"
)

// Methods of signing in; an operator has one, chosen at enrolment.
const (
	methodPasskey  = "passkey"
	methodPassword = "password"
)

// record is an operator's credentials.
type record struct {
	Method   string                `json:"method"`
	Handle   []byte                `json:"handle,omitempty"` // the WebAuthn user handle: random, not the id
	Passkeys []webauthn.Credential `json:"passkeys,omitempty"`
	Password *passwordHash         `json:"password,omitempty"`
	TOTP     string                `json:"totp,omitempty"` // the base32 secret
	Enrolled int64                 `json:"enrolled"`       // Unix ms
}

func (a *Auth) sealRecord(op string, rec record) ([]byte, error) {
	plain, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	return seal.Seal(a.aead, plain, "desk credentials "+op), nil
}

// readOperator reads what a sign-in checks: the generation of typed, then their credentials
// (the generation first: see session.go), in one round trip. have is false when there are no
// credentials. For an id that is not on the roster it reads two keys that never exist, named
// by a keyed hash of what was typed: the same work for every id, so that neither the time
// taken nor Redis's own statistics tell whether an id exists, and what was typed (it could be
// a password typed into the id field) never reaches Redis. Credentials left by an operator
// taken off the roster are never read.
func (a *Auth) readOperator(ctx context.Context, typed string, known bool) (rec record, gen int64, have bool, err error) {
	genKey, credKey := a.opKey(typed, "gen"), a.opKey(typed, "cred")
	if !known {
		tag := a.prefix + ":desk:{absent:" + a.hidden(typed) + "}:"
		genKey, credKey = tag+"gen", tag+"cred"
	}
	var g *redis.StringCmd
	var c *redis.StringCmd
	_, err = a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		g, c = p.Get(ctx, genKey), p.Get(ctx, credKey)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return rec, 0, false, err
	}
	if gen, err = g.Int64(); err != nil && !errors.Is(err, redis.Nil) {
		return rec, 0, false, err
	}
	box, err := c.Bytes()
	if errors.Is(err, redis.Nil) || !known {
		return rec, gen, false, nil
	}
	if err != nil {
		return rec, 0, false, err
	}
	plain, err := seal.Open(a.aead, box, "desk credentials "+typed)
	if err != nil {
		return rec, 0, false, err // another secret, or tampered with: a bug or an attack, not a failure
	}
	return rec, gen, true, json.Unmarshal(plain, &rec)
}

// ceremony is a sign-in or enrolment between its two requests.
type ceremony struct {
	Kind     string                `json:"kind"`     // one of the kind constants
	Operator string                `json:"operator"` // the typed id (sign-in) or the invited one
	Invite   string                `json:"invite,omitempty"`
	WebAuthn *webauthn.SessionData `json:"webauthn,omitempty"`
	Record   *record               `json:"record,omitempty"` // enrolment: what to keep when it succeeds
	Started  int64                 `json:"started"`          // Unix ms
}

const (
	kindSigninPasskey = "signin-passkey"
	kindEnrolPasskey  = "enrol-passkey"
	kindEnrolTOTP     = "enrol-totp"
)

// ceremonyCookie names the ceremony a browser is in: a random id, whose hash names the key.
const ceremonyCookie = "__Host-faros-ceremony"

// beginCeremony keeps c server-side and gives the browser its name.
func (a *Auth) beginCeremony(ctx context.Context, w http.ResponseWriter, c ceremony) error {
	c.Started = a.now().UnixMilli()
	plain, err := json.Marshal(c)
	if err != nil {
		return err
	}
	token := make([]byte, 32)
	_, _ = rand.Read(token)
	name := hashToken(token)
	if err := a.rdb.Set(ctx, a.key("ceremony", name), seal.Seal(a.aead, plain, "desk ceremony "+name), ceremonyLife).Err(); err != nil {
		return err
	}
	setCookie(w, ceremonyCookie, base64.RawURLEncoding.EncodeToString(token), int(ceremonyLife.Seconds()))
	return nil
}

// takeCeremony returns the browser's ceremony of kind; keep false deletes it first, so that a
// challenge is answered once. No ceremony, another kind or too old: msgCeremony.
func (a *Auth) takeCeremony(ctx context.Context, w http.ResponseWriter, r *http.Request, kind string, keep bool) (ceremony, error) {
	var c ceremony
	ck, err := r.Cookie(ceremonyCookie)
	if err != nil {
		return c, refuse(http.StatusBadRequest, msgCeremony)
	}
	token, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || len(token) != 32 {
		return c, refuse(http.StatusBadRequest, msgCeremony)
	}
	name := hashToken(token)
	var box []byte
	if keep {
		box, err = a.rdb.Get(ctx, a.key("ceremony", name)).Bytes()
	} else {
		box, err = a.rdb.GetDel(ctx, a.key("ceremony", name)).Bytes()
		setCookie(w, ceremonyCookie, "", -1)
	}
	if errors.Is(err, redis.Nil) {
		return c, refuse(http.StatusBadRequest, msgCeremony)
	}
	if err != nil {
		return c, err
	}
	plain, err := seal.Open(a.aead, box, "desk ceremony "+name)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(plain, &c); err != nil {
		return c, err
	}
	if c.Kind != kind || a.now().Sub(time.UnixMilli(c.Started)) >= ceremonyLife {
		return c, refuse(http.StatusBadRequest, msgCeremony)
	}
	return c, nil
}

// endCeremony deletes a ceremony kept until it succeeded.
func (a *Auth) endCeremony(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(ceremonyCookie); err == nil {
		if token, err := base64.RawURLEncoding.DecodeString(ck.Value); err == nil {
			a.rdb.Del(ctx, a.key("ceremony", hashToken(token)))
		}
	}
	setCookie(w, ceremonyCookie, "", -1)
}
