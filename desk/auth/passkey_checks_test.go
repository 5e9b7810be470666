package auth

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The options to sign in look alike for an operator with a passkey, one with a password and an
// id that does not exist: one credential, its id only (no transports, which only a real one
// could show), of a length real ones have; the decoy is the same at every request. Both ask
// for user verification.
func TestPasskeyBegin(t *testing.T) {
	f := newFixture(t)
	k := newSoftKey(t)
	k.id = k.id[:16] // as Google Password Manager's
	f.enrolPasskey(f.browser(), "maria", k)
	f.enrolTOTP(f.browser(), "nikos", goodPassword)
	shape := func(id string) (allowed string) {
		b := f.browser()
		r := b.post("/auth/passkey/begin", map[string]string{"id": id})
		if r.status != http.StatusOK {
			t.Fatalf("begin for %q: %d %s", id, r.status, r.raw)
		}
		pk, _ := r.body["publicKey"].(map[string]any)
		if pk["rpId"] != "localhost" || pk["userVerification"] != "required" || len(pk["challenge"].(string)) < 40 {
			t.Errorf("begin for %q: %s", id, r.raw)
		}
		list, _ := pk["allowCredentials"].([]any)
		if len(list) != 1 {
			t.Fatalf("begin for %q: %d allowed credentials, want 1: %s", id, len(list), r.raw)
		}
		if _, ok := b.cookies[ceremonyCookie]; !ok {
			t.Errorf("begin for %q set no ceremony cookie", id)
		}
		c := list[0].(map[string]any)
		got, _ := b64.DecodeString(c["id"].(string))
		if !slices.Contains(decoyLengths, len(got)) || c["type"] != "public-key" || len(c) != 2 {
			t.Errorf("begin for %q: credential %v; want an id of a common length and a type, nothing else", id, c)
		}
		return c["id"].(string)
	}
	real := shape("maria")
	if got, _ := b64.DecodeString(real); !bytes.Equal(got, k.id) {
		t.Errorf("maria's credential is %x; want her key's %x", got, k.id)
	}
	decoy := shape("nobody")
	if decoy != shape("nobody") {
		t.Error("the decoy changes from one request to the next")
	}
	if shape("nikos") == decoy || decoy == real {
		t.Error("two ids share a credential")
	}
	// The decoys' lengths are spread over the common ones, as real keys' are.
	lengths := map[int]int{}
	for i := range 60 {
		u := f.a.decoyUser(fmt.Sprintf("someone-%d", i))
		lengths[len(u.creds[0].ID)]++
	}
	if len(lengths) < 3 || lengths[16] == 0 {
		t.Errorf("decoy lengths over 60 ids: %v; want most of %v", lengths, decoyLengths)
	}
	if r := f.browser().post("/auth/passkey/begin", map[string]string{"id": "  "}); r.status != http.StatusBadRequest || r.str("error") != msgNoID {
		t.Errorf("no id: %d %s", r.status, r.raw)
	}

	// Enrolment's options.
	b := f.browser()
	r := b.post("/auth/enrol/passkey/begin", map[string]string{"token": f.invite("eleni")})
	if r.status != http.StatusOK {
		t.Fatalf("enrol begin: %d %s", r.status, r.raw)
	}
	pk := r.body["publicKey"].(map[string]any)
	rp, user, sel := pk["rp"].(map[string]any), pk["user"].(map[string]any), pk["authenticatorSelection"].(map[string]any)
	if rp["id"] != "localhost" || user["name"] != "eleni" || user["displayName"] != "Ελένη" ||
		sel["residentKey"] != "preferred" || sel["userVerification"] != "required" {
		t.Errorf("enrol options: %s", r.raw)
	}
}

// A key that proves only that someone is present, without a PIN or biometric, is refused:
// at enrolment, and at sign-in (a key enrolled with it, then used without).
func TestPasskeyWithoutUserVerificationIsRefused(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	careless := newSoftKey(t)
	careless.noUV = true
	r := b.post("/auth/enrol/passkey/begin", map[string]string{"token": f.invite("nikos")})
	if r := b.post("/auth/enrol/passkey/finish", careless.create(r.body)); r.status != http.StatusBadRequest || r.str("error") != msgEnrolKey {
		t.Errorf("enrolment without user verification: %d %s; want 400 %q", r.status, r.raw, msgEnrolKey)
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Error("an enrolment without user verification signed in")
	}

	k := newSoftKey(t)
	f.enrolPasskey(f.browser(), "maria", k)
	k.noUV = true
	b = f.browser()
	r = b.post("/auth/passkey/begin", map[string]string{"id": "maria"})
	if r := b.post("/auth/passkey/finish", k.get(r.body)); r.status != http.StatusUnauthorized || r.str("error") != msgPasskey {
		t.Errorf("sign-in without user verification: %d %s; want 401", r.status, r.raw)
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Error("a sign-in without user verification signed in")
	}
	k.noUV = false
	r = b.post("/auth/passkey/begin", map[string]string{"id": "maria"})
	if r := b.post("/auth/passkey/finish", k.get(r.body)); r.status != http.StatusOK {
		t.Errorf("then with user verification: %d %s; want 200", r.status, r.raw)
	}
}

// A key whose signature counter goes back is a copy of a key that was used meanwhile: it is
// refused with words that tell the counsellor what to do, and logged. A synced passkey, whose
// counter is always 0, is not refused for it.
func TestACopiedPasskeyIsRefused(t *testing.T) {
	f := newFixture(t)
	k := newSoftKey(t)
	f.enrolPasskey(f.browser(), "maria", k)
	signin := func(k *softKey) reply {
		b := f.browser()
		r := b.post("/auth/passkey/begin", map[string]string{"id": "maria"})
		return b.post("/auth/passkey/finish", k.get(r.body))
	}
	for range 2 {
		if r := signin(k); r.status != http.StatusOK {
			t.Fatalf("sign-in: %d %s", r.status, r.raw)
		}
	}
	copied := *k
	copied.count = 1 // the copy was made after the first sign-in; the original was used since
	if r := signin(&copied); r.status != http.StatusUnauthorized || r.str("error") != msgCloned {
		t.Errorf("the copy: %d %s; want 401 %q", r.status, r.raw, msgCloned)
	}
	if !strings.Contains(f.logText(), "counter went back") {
		t.Errorf("the copy is not logged:\n%s", f.logText())
	}
	if r := signin(k); r.status != http.StatusOK {
		t.Errorf("the original, counting on: %d %s; want 200", r.status, r.raw)
	}

	synced := newSoftKey(t)
	synced.synced = true
	f.enrolPasskey(f.browser(), "nikos", synced)
	for i := range 3 {
		b := f.browser()
		r := b.post("/auth/passkey/begin", map[string]string{"id": "nikos"})
		if r := b.post("/auth/passkey/finish", synced.get(r.body)); r.status != http.StatusOK {
			t.Errorf("a synced passkey, sign-in %d: %d %s; want 200", i+1, r.status, r.raw)
		}
	}
}
