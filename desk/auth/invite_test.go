package auth

import (
	"context"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// An invitation works once, stops at InviteLife, and a new one replaces the older.
func TestInviteOneTimeAndExpires(t *testing.T) {
	f := newFixture(t)
	token := f.invite("maria")
	b := f.browser()
	if r := b.post("/auth/enrol/check", map[string]string{"token": token}); r.status != http.StatusOK || r.str("alias") != "Μαρία" || r.str("id") != "maria" {
		t.Fatalf("check: %d %s", r.status, r.raw)
	}
	r := b.post("/auth/enrol/totp/begin", map[string]string{"token": token, "password": goodPassword})
	if r.status != http.StatusOK {
		t.Fatalf("begin: %d %s", r.status, r.raw)
	}
	if r := b.post("/auth/enrol/totp/finish", map[string]string{"code": f.code(r.str("secret"))}); r.status != http.StatusOK {
		t.Fatalf("finish: %d %s", r.status, r.raw)
	}
	// Spent.
	again := f.browser()
	for _, path := range []string{"/auth/enrol/check", "/auth/enrol/totp/begin", "/auth/enrol/passkey/begin"} {
		if r := again.post(path, map[string]string{"token": token, "password": goodPassword}); r.status != http.StatusGone || r.str("error") != msgInvite {
			t.Errorf("%s with a spent invitation: %d %s, want 410", path, r.status, r.raw)
		}
	}

	// Two enrolments begun with one link: the first to finish spends it, the second fails.
	token = f.invite("nikos")
	one, two := f.browser(), f.browser()
	r1 := one.post("/auth/enrol/totp/begin", map[string]string{"token": token, "password": goodPassword})
	r2 := two.post("/auth/enrol/totp/begin", map[string]string{"token": token, "password": "another long passphrase"})
	if r1.status != http.StatusOK || r2.status != http.StatusOK {
		t.Fatalf("two begins: %d, %d", r1.status, r2.status)
	}
	if r := one.post("/auth/enrol/totp/finish", map[string]string{"code": f.code(r1.str("secret"))}); r.status != http.StatusOK {
		t.Fatalf("first finish: %d %s", r.status, r.raw)
	}
	if r := two.post("/auth/enrol/totp/finish", map[string]string{"code": f.code(r2.str("secret"))}); r.status != http.StatusGone {
		t.Errorf("second finish with the same link: %d %s, want 410", r.status, r.raw)
	}
	if st, _ := two.me(); st != http.StatusUnauthorized {
		t.Error("the second enrolment signed in")
	}

	// Expiry: by the clock, not by Redis's TTL.
	token = f.invite("eleni")
	f.advance(72*time.Hour - time.Second)
	if r := b.post("/auth/enrol/check", map[string]string{"token": token}); r.status != http.StatusOK {
		t.Fatalf("a second before expiry: %d", r.status)
	}
	r = b.post("/auth/enrol/totp/begin", map[string]string{"token": token, "password": goodPassword})
	f.advance(time.Second)
	if r := b.post("/auth/enrol/check", map[string]string{"token": token}); r.status != http.StatusGone {
		t.Errorf("after 72 hours: %d, want 410", r.status)
	}
	// An enrolment begun in time cannot finish after the link expired.
	if r := b.post("/auth/enrol/totp/finish", map[string]string{"code": f.code(r.str("secret"))}); r.status != http.StatusGone {
		t.Errorf("finishing after expiry: %d %s, want 410", r.status, r.raw)
	}

	// A new invitation replaces the pending one.
	old := f.invite("eleni")
	fresh := f.invite("eleni")
	if r := b.post("/auth/enrol/check", map[string]string{"token": old}); r.status != http.StatusGone {
		t.Errorf("the replaced invitation: %d, want 410", r.status)
	}
	if r := b.post("/auth/enrol/check", map[string]string{"token": fresh}); r.status != http.StatusOK {
		t.Errorf("the new invitation: %d, want 200", r.status)
	}
}

func TestInviteUnknown(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"nobody", "", "Maria"} {
		if link, _, err := f.a.Invite(context.Background(), id); err == nil {
			t.Errorf("Invite(%q) = %q, want an error", id, link)
		}
	}
	link, expires, err := f.a.Invite(context.Background(), "maria")
	if err != nil || !expires.Equal(f.clock().Add(72*time.Hour)) || !strings.HasPrefix(link, testOrigin+"/enrol#") {
		t.Errorf("Invite(maria) = %q, %v, %v", link, expires, err)
	}
}

// Tokens that are not invitations are refused alike.
func TestInviteForgedTokens(t *testing.T) {
	f := newFixture(t)
	token := f.invite("maria")
	id, secret, _ := strings.Cut(token, ".")
	nikos := f.invite("nikos")
	_, nikosSecret, _ := strings.Cut(nikos, ".")
	flipped := secret[:len(secret)-1] + map[bool]string{true: "B", false: "A"}[secret[len(secret)-1] == 'A']
	for _, forged := range []string{"", ".", "x", id, id + ".", id + "." + flipped, id + "." + nikosSecret, "!!!." + secret, strings.Repeat("a", 600)} {
		if r := f.browser().post("/auth/enrol/check", map[string]string{"token": forged}); r.status != http.StatusGone {
			t.Errorf("token %q: %d %s, want 410", forged, r.status, r.raw)
		}
	}
}

// An id that could break a Redis Cluster hash tag is written in hex, and still works.
func TestOddIDs(t *testing.T) {
	for id, want := range map[string]string{"maria": "maria", "m.k_2-x": "m.k_2-x", "a}b": "~617d62", "{x}": "~7b787d", "γιώργος": "~" + hex.EncodeToString([]byte("γιώργος"))} {
		if got := keyID(id); got != want {
			t.Errorf("keyID(%q) = %q, want %q", id, got, want)
		}
	}
	f := newFixture(t)
	f.setKnown("ann}{:x", true)
	b := f.browser()
	secret := f.enrolTOTP(b, "ann}{:x", goodPassword)
	if r := f.signin(f.browser(), "ann}{:x", goodPassword, secret); r.status != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.status, r.raw)
	}
	keys, _ := f.r.Keys(context.Background())
	for _, k := range keys {
		if strings.Contains(k, "ann") {
			t.Errorf("key %s holds the odd id as it is", k)
		}
	}
}
