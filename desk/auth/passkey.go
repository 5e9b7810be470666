package auth

// Passkeys (WebAuthn). The counsellor types their id first; the browser is then asked for a
// passkey of that id. An id that has no passkey (unknown, or enrolled with a password) gets a
// decoy: a made-up passkey derived from the id and the secret, the same at every request, so
// the answer looks alike whether the id exists or not. The challenge and what the library
// needs to check the answer stay server-side, in a ceremony named by a cookie.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/redis/go-redis/v9"
)

// user is an operator as the WebAuthn library sees them.
type user struct {
	id, name string
	handle   []byte
	creds    []webauthn.Credential
}

func (u user) WebAuthnID() []byte                         { return u.handle }
func (u user) WebAuthnName() string                       { return u.id }
func (u user) WebAuthnDisplayName() string                { return u.name }
func (u user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// decoyUser is what an id without passkeys seems to have.
func (a *Auth) decoyUser(id string) user {
	mac := func(what string, n int) []byte {
		m := hmac.New(sha256.New, a.decoy)
		m.Write([]byte(what + "\x00" + id))
		return m.Sum(nil)[:n]
	}
	return user{id: id, name: id, handle: mac("handle", 16), creds: []webauthn.Credential{{ID: mac("credential", 32)}}}
}

// signinPasskeyBegin takes {"id"} and answers the options for navigator.credentials.get.
func (a *Auth) signinPasskeyBegin(w http.ResponseWriter, r *http.Request) error {
	var in struct{ ID string }
	if err := decode(r, &in); err != nil {
		return err
	}
	ctx, id := r.Context(), strings.TrimSpace(in.ID)
	if id == "" {
		return refuse(http.StatusBadRequest, msgNoID)
	}
	if err := a.lockedOut(ctx, id); err != nil {
		return err
	}
	u := a.decoyUser(id)
	if _, known := a.known(id); known {
		rec, have, err := a.loadRecord(ctx, id)
		if err != nil {
			return err
		}
		if have && rec.Method == methodPasskey && len(rec.Passkeys) > 0 {
			u = user{id: id, name: id, handle: rec.Handle, creds: rec.Passkeys}
		}
	}
	assertion, session, err := a.wa.BeginLogin(u)
	if err != nil {
		return err
	}
	if err := a.beginCeremony(ctx, w, ceremony{Kind: kindSigninPasskey, Operator: id, WebAuthn: session}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, assertion)
	return nil
}

// signinPasskeyFinish takes the browser's PublicKeyCredential (JSON) and signs in.
func (a *Auth) signinPasskeyFinish(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := a.takeCeremony(ctx, w, r, kindSigninPasskey, false) // a challenge is answered once
	if err != nil || c.WebAuthn == nil {
		return cmpErr(err, refuse(http.StatusBadRequest, msgCeremony))
	}
	id := c.Operator
	if err := a.lockedOut(ctx, id); err != nil {
		return err
	}
	_, known := a.known(id)
	var rec record
	var gen int64
	if known {
		if gen, err = a.generation(ctx, id); err != nil {
			return err
		}
		if rec, _, err = a.loadRecord(ctx, id); err != nil {
			return err
		}
	}
	refused := func(why string) error {
		a.log.Warn("desk sign-in refused", "op", loggable(id, known), "method", methodPasskey, "reason", why)
		return a.failed(ctx, id, msgPasskey)
	}
	if !known || rec.Method != methodPasskey {
		return refused("no passkey enrolled")
	}
	cred, err := a.wa.FinishLogin(user{id: id, name: id, handle: rec.Handle, creds: rec.Passkeys}, *c.WebAuthn, r)
	if err != nil {
		return refused(reason(err))
	}
	if cred.Authenticator.CloneWarning {
		// A signature counter that went back: perhaps a copied key, perhaps a quirk of the
		// authenticator. It is the right key all the same; a supervisor may re-enrol.
		a.log.Warn("desk sign-in: the passkey's counter went back", "op", id)
	}
	for i := range rec.Passkeys {
		if bytes.Equal(rec.Passkeys[i].ID, cred.ID) {
			rec.Passkeys[i] = *cred
		}
	}
	if kept, err := a.updateRecord(ctx, id, rec, gen); err != nil || !kept {
		return cmpErr(err, refuse(http.StatusUnauthorized, msgPasskey)) // revoked or re-enrolled meanwhile
	}
	a.succeeded(ctx, id)
	if err := a.startSession(ctx, w, id, gen); err != nil {
		return err
	}
	a.log.Info("desk sign-in", "op", id, "method", methodPasskey)
	writeJSON(w, http.StatusOK, okBody)
	return nil
}

// cmpErr is err, or else alt.
func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// reason says why the library refused, for the log: its short type and details, never its
// debugging information (which may quote what the browser sent).
func reason(err error) string {
	var p *protocol.Error
	if errors.As(err, &p) {
		return p.Type + ": " + p.Details
	}
	return "the answer could not be read"
}

// updateScript keeps new credentials only if the operator still has credentials of the same
// generation: a sign-in must not bring back what Revoke deleted. KEYS: cred, gen. ARGV: the
// sealed credentials, their life (ms), the generation.
var updateScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

func (a *Auth) updateRecord(ctx context.Context, op string, rec record, gen int64) (bool, error) {
	box, err := a.sealRecord(op, rec)
	if err != nil {
		return false, err
	}
	n, err := updateScript.Run(ctx, a.rdb, []string{a.opKey(op, "cred"), a.opKey(op, "gen")}, box, credentialLife.Milliseconds(), gen).Int()
	return n == 1, err
}

// enrolPasskeyBegin takes {"token"} and answers the options for navigator.credentials.create.
func (a *Auth) enrolPasskeyBegin(w http.ResponseWriter, r *http.Request) error {
	var in struct{ Token string }
	if err := decode(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	op, invite, err := a.invitation(ctx, in.Token)
	if err != nil {
		return err
	}
	alias, _ := a.known(op)
	handle := make([]byte, 32) // not the id: the authenticator keeps it
	_, _ = rand.Read(handle)
	creation, session, err := a.wa.BeginRegistration(user{id: op, name: cmp.Or(alias, op), handle: handle})
	if err != nil {
		return err
	}
	c := ceremony{Kind: kindEnrolPasskey, Operator: op, Invite: invite, WebAuthn: session,
		Record: &record{Method: methodPasskey, Handle: handle}}
	if err := a.beginCeremony(ctx, w, c); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, creation)
	return nil
}

// enrolPasskeyFinish takes the browser's new PublicKeyCredential (JSON) and keeps it as the
// operator's only credential.
func (a *Auth) enrolPasskeyFinish(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := a.takeCeremony(ctx, w, r, kindEnrolPasskey, false)
	if err != nil || c.WebAuthn == nil || c.Record == nil {
		return cmpErr(err, refuse(http.StatusBadRequest, msgCeremony))
	}
	cred, err := a.wa.FinishRegistration(user{id: c.Operator, name: c.Operator, handle: c.Record.Handle}, *c.WebAuthn, r)
	if err != nil {
		a.log.Warn("desk enrolment refused", "op", c.Operator, "method", methodPasskey, "reason", reason(err))
		return refuse(http.StatusBadRequest, msgEnrolKey)
	}
	cred.Attestation = webauthn.CredentialAttestation{} // checked; not needed to sign in
	rec := *c.Record
	rec.Passkeys = []webauthn.Credential{*cred}
	return a.enrol(ctx, w, c.Operator, c.Invite, rec, "")
}
