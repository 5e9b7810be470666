package auth

// Passkeys (WebAuthn). The counsellor types their id first; the browser is then asked for a
// passkey of that id. An id that has no passkey (unknown, or enrolled with a password) gets a
// decoy: a made-up passkey derived from the id and the secret, the same at every request, of
// a length real ones have, so the answer looks alike whether the id exists or not. The
// challenge and what the library needs to check the answer stay server-side, in a ceremony
// named by a cookie. User verification (a PIN, a fingerprint, the face) is required: the
// passkey is the only factor.

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

// decoyLengths are common lengths of real credential ids, in bytes, the likelier ones more
// often: 16 (Google Password Manager, several password managers), 20 (Apple's iCloud
// Keychain), 32 (many other authenticators), 64 (security keys that keep no passkey inside).
// A decoy takes one of them, chosen by the id: its length alone does not tell it from a real
// one, as one length for all decoys would.
var decoyLengths = []int{16, 16, 16, 20, 20, 32, 32, 32, 64}

// decoyUser is what an id without passkeys seems to have.
func (a *Auth) decoyUser(id string) user {
	mac := func(what string, n int) []byte {
		m := hmac.New(sha256.New, a.decoy)
		m.Write([]byte(what + "\x00" + id))
		out := m.Sum(nil)
		for len(out) < n {
			m.Write(out[len(out)-sha256.Size:]) // more bytes of the same stream
			out = m.Sum(out)
		}
		return out[:n]
	}
	n := decoyLengths[int(mac("length", 1)[0])%len(decoyLengths)]
	return user{id: id, name: id, handle: mac("handle", 32), creds: []webauthn.Credential{{ID: mac("credential", n)}}}
}

// described is the passkeys as the browser is told about them: their ids only. The
// transports the browser reported at enrolment ("internal", "hybrid", "usb") would help it
// choose where to look, but a decoy has none to show, and a list with them would tell a
// real passkey from a decoy.
func described(creds []webauthn.Credential) []webauthn.Credential {
	out := make([]webauthn.Credential, len(creds))
	for i, c := range creds {
		out[i] = webauthn.Credential{ID: c.ID}
	}
	return out
}

// signinPasskeyBegin takes {"id"} and answers the options for navigator.credentials.get.
// Every id costs the same: a look at its passkey count, the same reads as a sign-in with a
// password (store.go) and a ceremony kept.
func (a *Auth) signinPasskeyBegin(w http.ResponseWriter, r *http.Request) error {
	var in struct{ ID string }
	if err := decode(r, &in); err != nil {
		return err
	}
	ctx, id := r.Context(), strings.TrimSpace(in.ID)
	if id == "" {
		return refuse(http.StatusBadRequest, msgNoID)
	}
	if err := a.lockedOut(ctx, passkeyTries, id); err != nil {
		return err
	}
	_, known := a.known(id)
	rec, _, have, err := a.readOperator(ctx, id, known)
	if err != nil {
		return err
	}
	u := a.decoyUser(id)
	if have && rec.Method == methodPasskey && len(rec.Passkeys) > 0 {
		u = user{id: id, name: id, handle: rec.Handle, creds: rec.Passkeys}
	}
	u.creds = described(u.creds)
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
	try, err := a.attempt(ctx, passkeyTries, id)
	if err != nil {
		return err
	}
	_, known := a.known(id)
	rec, gen, _, err := a.readOperator(ctx, id, known)
	if err != nil {
		return try.undo(ctx, err)
	}
	refused := func(why, msg string) error {
		a.log.Warn("desk sign-in refused", "op", loggable(id, known), "method", methodPasskey, "reason", why)
		return try.failed(msg)
	}
	if !known || rec.Method != methodPasskey {
		return refused("no passkey enrolled", msgPasskey)
	}
	// The clone warning is this answer's alone: one kept from an older sign-in (this package
	// once kept them) must not refuse every answer after it.
	creds := make([]webauthn.Credential, len(rec.Passkeys))
	for i, p := range rec.Passkeys {
		creds[i] = p
		creds[i].Authenticator.CloneWarning = false
	}
	cred, err := a.wa.FinishLogin(user{id: id, name: id, handle: rec.Handle, creds: creds}, *c.WebAuthn, r)
	if err != nil {
		return refused(reason(err), msgPasskey)
	}
	if cred.Authenticator.CloneWarning && cred.Authenticator.SignCount != 0 {
		// The signature counter went back, or stood still, on a key that counts (a synced
		// passkey always says 0 and is never refused here): two copies of the key are in use.
		// The right signature all the same, so only its owner or a copy of the key could make
		// it; the counsellor is told to ask for a new enrolment, and the supervisor reads why.
		return refused("the passkey's signature counter went back: perhaps a copied key", msgCloned)
	}
	for i := range rec.Passkeys {
		if bytes.Equal(rec.Passkeys[i].ID, cred.ID) {
			rec.Passkeys[i] = *cred
		}
	}
	if kept, err := a.updateRecord(ctx, id, rec, gen); err != nil || !kept {
		return cmpErr(err, refuse(http.StatusUnauthorized, msgPasskey)) // revoked or re-enrolled meanwhile
	}
	try.succeeded(ctx)
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
