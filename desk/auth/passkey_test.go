package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// softKey is a software authenticator: it answers the options the server sends as a browser
// with a platform passkey would, with "none" attestation and an ES256 key.
type softKey struct {
	t      *testing.T
	priv   *ecdsa.PrivateKey
	id     []byte
	handle []byte
	count  uint32
	origin string
	// noUV: the key proves presence only, without a PIN or biometric (the UV flag is off).
	noUV bool
	// synced: the key's signature counter is always 0, as synced passkeys' are.
	synced bool
}

// flags are the authenticator data's: user present, and verified unless noUV.
func (k *softKey) flags() byte {
	if k.noUV {
		return 0x01
	}
	return 0x05
}

func newSoftKey(t *testing.T) *softKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return &softKey{t: t, priv: priv, id: id, origin: testOrigin}
}

var b64 = base64.RawURLEncoding

func (k *softKey) clientData(typ string, options map[string]any) []byte {
	pk := options["publicKey"].(map[string]any)
	j, _ := json.Marshal(map[string]any{"type": typ, "challenge": pk["challenge"], "origin": k.origin, "crossOrigin": false})
	return j
}

func rpHash(rpID string) []byte {
	h := sha256.Sum256([]byte(rpID))
	return h[:]
}

// create answers navigator.credentials.create.
func (k *softKey) create(options map[string]any) string {
	pk := options["publicKey"].(map[string]any)
	rp := pk["rp"].(map[string]any)["id"].(string)
	k.handle, _ = b64.DecodeString(pk["user"].(map[string]any)["id"].(string))
	point, err := k.priv.PublicKey.Bytes()
	if err != nil {
		k.t.Fatal(err)
	}
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: point[1:33], -3: point[33:]})
	if err != nil {
		k.t.Fatal(err)
	}
	auth := append(rpHash(rp), k.flags()|0x40) // attested credential data
	auth = binary.BigEndian.AppendUint32(auth, 0)
	auth = append(auth, make([]byte, 16)...) // AAGUID
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(k.id)))
	auth = append(append(auth, k.id...), cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		k.t.Fatal(err)
	}
	j, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(k.clientData("webauthn.create", options)),
			"attestationObject": b64.EncodeToString(att), "transports": []string{"internal"}},
	})
	return string(j)
}

// get answers navigator.credentials.get.
func (k *softKey) get(options map[string]any) string {
	pk := options["publicKey"].(map[string]any)
	if !k.synced {
		k.count++
	}
	auth := append(rpHash(pk["rpId"].(string)), k.flags())
	auth = binary.BigEndian.AppendUint32(auth, k.count)
	cd := k.clientData("webauthn.get", options)
	cdh := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdh[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	j, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(auth),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(k.handle)},
	})
	return string(j)
}

// enrolPasskey enrols id with k in b; b is then signed in.
func (f *fixture) enrolPasskey(b *browser, id string, k *softKey) {
	f.t.Helper()
	r := b.post("/auth/enrol/passkey/begin", map[string]string{"token": f.invite(id)})
	if r.status != http.StatusOK {
		f.t.Fatalf("enrol passkey begin: %d %s", r.status, r.raw)
	}
	if r := b.post("/auth/enrol/passkey/finish", k.create(r.body)); r.status != http.StatusOK {
		f.t.Fatalf("enrol passkey finish: %d %s", r.status, r.raw)
	}
}

// The passkey ceremonies end to end, with a software authenticator (the browser test drives
// Chrome's virtual one).
func TestPasskeyEnrolmentAndSignin(t *testing.T) {
	f := newFixture(t)
	k := newSoftKey(t)
	b := f.browser()
	f.enrolPasskey(b, "maria", k)
	if st, _ := b.me(); st != http.StatusOK {
		t.Fatalf("after passkey enrolment: %d", st)
	}
	if len(k.handle) != 32 || strings.Contains(string(k.handle), "maria") {
		t.Errorf("the user handle is not random: %q", k.handle)
	}

	other := f.browser()
	r := other.post("/auth/passkey/begin", map[string]string{"id": "maria"})
	if r.status != http.StatusOK {
		t.Fatalf("passkey begin: %d %s", r.status, r.raw)
	}
	answer, ceremonyName := k.get(r.body), other.cookies[ceremonyCookie]
	if r := other.post("/auth/passkey/finish", answer); r.status != http.StatusOK {
		t.Fatalf("passkey finish: %d %s", r.status, r.raw)
	}
	if st, _ := other.me(); st != http.StatusOK {
		t.Fatalf("after passkey sign-in: %d", st)
	}
	if _, ok := other.cookies[ceremonyCookie]; ok {
		t.Error("the ceremony's cookie outlived the sign-in")
	}
	// The same answer again, with the same ceremony's cookie kept: the ceremony is spent.
	replay := f.browser()
	replay.cookies[ceremonyCookie] = ceremonyName
	if r := replay.post("/auth/passkey/finish", answer); r.status != http.StatusBadRequest || r.str("error") != msgCeremony {
		t.Errorf("a replayed answer: %d %s, want 400", r.status, r.raw)
	}
	// An answer to another ceremony's challenge.
	third := f.browser()
	third.post("/auth/passkey/begin", map[string]string{"id": "maria"})
	if r := third.post("/auth/passkey/finish", answer); r.status != http.StatusUnauthorized || r.str("error") != msgPasskey {
		t.Errorf("an answer to another challenge: %d %s, want 401", r.status, r.raw)
	}
	// Another key that claims to be maria's: same credential id and handle, its own private key.
	thief := newSoftKey(t)
	thief.id, thief.handle = k.id, k.handle
	r = third.post("/auth/passkey/begin", map[string]string{"id": "maria"})
	if r := third.post("/auth/passkey/finish", thief.get(r.body)); r.status != http.StatusUnauthorized {
		t.Errorf("another key: %d %s, want 401", r.status, r.raw)
	}
	if !strings.Contains(f.logText(), "signature") {
		t.Errorf("another key was not refused for its signature:\n%s", f.logText())
	}
	// The right key typed under another operator's id.
	f.enrolTOTP(f.browser(), "nikos", goodPassword)
	r = third.post("/auth/passkey/begin", map[string]string{"id": "nikos"})
	if r := third.post("/auth/passkey/finish", k.get(r.body)); r.status != http.StatusUnauthorized {
		t.Errorf("maria's key for nikos: %d %s, want 401", r.status, r.raw)
	}
	if st, _ := third.me(); st != http.StatusUnauthorized {
		t.Error("a refused passkey signed in")
	}
	// After Revoke the key signs nobody in.
	if _, err := f.a.Revoke(t.Context(), "maria"); err != nil {
		t.Fatal(err)
	}
	r = third.post("/auth/passkey/begin", map[string]string{"id": "maria"})
	if r := third.post("/auth/passkey/finish", k.get(r.body)); r.status != http.StatusUnauthorized {
		t.Errorf("after Revoke: %d %s, want 401", r.status, r.raw)
	}
	if !strings.Contains(f.logText(), "method=passkey") {
		t.Error("passkey sign-ins are not logged")
	}
}

// What is refused before and after the authenticator.
func TestPasskeyRefusals(t *testing.T) {
	f := newFixture(t)
	k := newSoftKey(t)
	f.enrolPasskey(f.browser(), "maria", k)
	b := f.browser()
	if r := b.post("/auth/passkey/finish", "{}"); r.status != http.StatusBadRequest || r.str("error") != msgCeremony {
		t.Errorf("finish without a ceremony: %d %s", r.status, r.raw)
	}
	b.post("/auth/passkey/begin", map[string]string{"id": "maria"})
	if r := b.post("/auth/passkey/finish", `{"id":"x","type":"public-key"}`); r.status != http.StatusUnauthorized || r.str("error") != msgPasskey {
		t.Errorf("a malformed answer: %d %s", r.status, r.raw)
	}
	// Too late.
	r := b.post("/auth/passkey/begin", map[string]string{"id": "maria"})
	f.advance(5 * time.Minute)
	if r := b.post("/auth/passkey/finish", k.get(r.body)); r.status != http.StatusBadRequest || r.str("error") != msgCeremony {
		t.Errorf("finish after 5 minutes: %d %s", r.status, r.raw)
	}
	// A ceremony of another kind.
	b.post("/auth/enrol/passkey/begin", map[string]string{"token": f.invite("nikos")})
	if r := b.post("/auth/passkey/finish", "{}"); r.status != http.StatusBadRequest {
		t.Errorf("finish of an enrolment's ceremony: %d %s", r.status, r.raw)
	}
	// Enrolment: a malformed answer, then a key from another origin.
	r = b.post("/auth/enrol/passkey/begin", map[string]string{"token": f.invite("nikos")})
	if r := b.post("/auth/enrol/passkey/finish", `{"id":"x"}`); r.status != http.StatusBadRequest || r.str("error") != msgEnrolKey {
		t.Errorf("enrol with a malformed answer: %d %s", r.status, r.raw)
	}
	r = b.post("/auth/enrol/passkey/begin", map[string]string{"token": f.invite("nikos")})
	phish := newSoftKey(t)
	phish.origin = "https://desk.example.org.evil.example"
	if r := b.post("/auth/enrol/passkey/finish", phish.create(r.body)); r.status != http.StatusBadRequest {
		t.Errorf("enrol from another origin: %d %s", r.status, r.raw)
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Error("a refused ceremony signed in")
	}
	// A passkey answer for an id enrolled with a password counts as a failure like any other.
	f.enrolTOTP(f.browser(), "eleni", goodPassword)
	for i := range maxFailures {
		r := b.post("/auth/passkey/begin", map[string]string{"id": "eleni"})
		want := http.StatusUnauthorized
		if i == maxFailures-1 {
			want = http.StatusTooManyRequests
		}
		if r := b.post("/auth/passkey/finish", k.get(r.body)); r.status != want {
			t.Errorf("failure %d: %d %s, want %d", i+1, r.status, r.raw, want)
		}
	}
	if r := b.post("/auth/passkey/begin", map[string]string{"id": "eleni"}); r.status != http.StatusTooManyRequests {
		t.Errorf("begin after %d failures: %d, want 429", maxFailures, r.status)
	}
}
