package auth

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
)

// A counsellor enrols with a password and a one-time code app, is signed in, signs out and
// signs in again.
func TestPasswordEnrolmentAndSignin(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	secret := f.enrolTOTP(b, "maria", goodPassword)
	if st, csrf := b.me(); st != http.StatusOK || csrf == "" {
		t.Fatalf("after enrolment /api/me: %d, csrf %q; want 200 and a token", st, csrf)
	}
	if r := b.send(http.MethodGet, "/", nil); r.status != http.StatusOK || r.raw != "the desk" {
		t.Fatalf("after enrolment /: %d %q", r.status, r.raw)
	}
	_, csrf := b.me()
	if r := b.post("/auth/signout", nil, "X-CSRF-Token", csrf); r.status != http.StatusOK {
		t.Fatalf("sign-out: %d %s", r.status, r.raw)
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Fatalf("after sign-out /api/me: %d, want 401", st)
	}
	if r := b.send(http.MethodGet, "/", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin" {
		t.Fatalf("after sign-out /: %d to %q, want 303 to /signin", r.status, r.header.Get("Location"))
	}

	other := f.browser()
	if r := f.signin(other, "maria", goodPassword, secret); r.status != http.StatusOK || r.body["ok"] != true {
		t.Fatalf("sign-in: %d %s", r.status, r.raw)
	}
	if st, _ := other.me(); st != http.StatusOK {
		t.Fatalf("after sign-in /api/me: %d", st)
	}
	if !strings.Contains(f.logText(), "desk sign-in") || !strings.Contains(f.logText(), "op=maria") {
		t.Errorf("the sign-in is not logged by operator id:\n%s", f.logText())
	}
}

// A wrong code and a replayed code are refused with the same words as a wrong password or an
// unknown id; the fifth failure locks the id for 15 minutes, even with the right code.
func TestWrongReplayedAndLockedOut(t *testing.T) {
	f := newFixture(t)
	secret := f.enrolTOTP(f.browser(), "maria", goodPassword)
	b := f.browser()

	f.advance(30 * time.Second)
	code := f.code(secret)
	if r := b.post("/auth/password", map[string]string{"id": "maria", "password": goodPassword, "code": code}); r.status != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.status, r.raw)
	}
	replay := b.post("/auth/password", map[string]string{"id": "maria", "password": goodPassword, "code": code})
	if replay.status != http.StatusUnauthorized || replay.str("error") != msgSignin {
		t.Fatalf("replayed code: %d %s, want 401 %q", replay.status, replay.raw, msgSignin)
	}
	wrong := wrongCode(f.code(secret))
	for _, c := range []struct{ what, id, password, code string }{
		{"a wrong code", "maria", goodPassword, wrong},
		{"a wrong password", "maria", "blue harbour lanterns at dusk", f.code(secret)},
		{"an unknown id", "nobody", goodPassword, f.code(secret)},
	} {
		r := b.post("/auth/password", map[string]string{"id": c.id, "password": c.password, "code": c.code})
		if r.status != http.StatusUnauthorized || r.str("error") != replay.str("error") {
			t.Errorf("%s: %d %s; want 401 with the same words as any failure", c.what, r.status, r.raw)
		}
	}
	if !strings.Contains(f.logText(), "reason=\"one-time code used before\"") {
		t.Errorf("the replay is not logged:\n%s", f.logText())
	}

	// maria has had 3 failures (replay, code, password): 2 more lock her out.
	b = f.browser()
	f.advance(30 * time.Second)
	if r := b.post("/auth/password", map[string]string{"id": "maria", "password": "wrong wrong wrong", "code": f.code(secret)}); r.status != http.StatusUnauthorized {
		t.Fatalf("4th failure: %d %s", r.status, r.raw)
	}
	r := b.post("/auth/password", map[string]string{"id": "maria", "password": "wrong wrong wrong", "code": f.code(secret)})
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.str("error"), "15 λεπτά") || r.header.Get("Retry-After") == "" {
		t.Fatalf("5th failure: %d %s, want 429 saying to wait 15 minutes", r.status, r.raw)
	}
	f.advance(5 * time.Minute)
	r = b.post("/auth/password", map[string]string{"id": "maria", "password": goodPassword, "code": f.code(secret)})
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.str("error"), "10 λεπτά") {
		t.Fatalf("6th attempt, right password and code: %d %s, want 429 saying to wait 10 minutes", r.status, r.raw)
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Fatalf("the locked-out attempt signed in")
	}
	f.advance(10 * time.Minute)
	if r := b.post("/auth/password", map[string]string{"id": "maria", "password": goodPassword, "code": f.code(secret)}); r.status != http.StatusOK {
		t.Fatalf("after the lock-out: %d %s", r.status, r.raw)
	}

	// An unknown id is locked out the same way: that tells nothing either.
	for range maxFailures {
		b.post("/auth/password", map[string]string{"id": "nobody", "password": goodPassword, "code": "123456"})
	}
	if r := b.post("/auth/password", map[string]string{"id": "nobody", "password": goodPassword, "code": "123456"}); r.status != http.StatusTooManyRequests {
		t.Errorf("an unknown id after %d failures: %d, want 429", maxFailures, r.status)
	}
}

func wrongCode(c string) string {
	if c == "000000" {
		return "000001"
	}
	return "000000"
}

// A wrong code at enrolment can be typed again; the invitation stays until it succeeds.
func TestEnrolmentWrongCode(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	token := f.invite("nikos")
	r := b.post("/auth/enrol/totp/begin", map[string]string{"token": token, "password": goodPassword})
	if r.status != http.StatusOK {
		t.Fatalf("begin: %d %s", r.status, r.raw)
	}
	secret := r.str("secret")
	if r := b.post("/auth/enrol/totp/finish", map[string]string{"code": wrongCode(f.code(secret))}); r.status != http.StatusUnauthorized || r.str("error") != msgEnrolCode {
		t.Fatalf("a wrong code: %d %s", r.status, r.raw)
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Fatal("a wrong code signed in")
	}
	if r := b.post("/auth/enrol/totp/finish", map[string]string{"code": f.code(secret)}); r.status != http.StatusOK {
		t.Fatalf("the right code: %d %s", r.status, r.raw)
	}
	// The confirming code cannot sign in once more.
	if r := f.browser().post("/auth/password", map[string]string{"id": "nikos", "password": goodPassword, "code": f.code(secret)}); r.status != http.StatusUnauthorized {
		t.Errorf("the enrolment's code signed in again: %d", r.status)
	}
}

func TestPasswordPolicy(t *testing.T) {
	for _, c := range []struct {
		pw, want string
	}{
		{"short pass", msgPwShort},
		{"ένα δύο τρία", ""}, // 12 Greek letters and spaces: long enough
		{strings.Repeat("a", 129), msgPwLong},
		{"aaaaaaaaaaaa", msgPwCommon},
		{"abcabcabcabc", msgPwCommon},
		{"abcdeabcdeabcde", msgPwCommon},
		{"123456789012", msgPwCommon},
		{"Password2024!", msgPwCommon},
		{"P@ssw0rd-2026", msgPwCommon},
		{"qwertyuiop12", msgPwCommon},
		{"!!Qwertyuiop!!", msgPwCommon},
		{"Καλημέρα2024!!", msgPwCommon},
		{"1qaz2wsx3edc4rfv", msgPwCommon},
		{"maria1234567", msgPwCommon}, // the id with digits
		{"faros-faros-faros", msgPwCommon},
		{"blue harbour lanterns", ""},
		{"Το καράβι φεύγει στις 8", ""},
		{"correct horse battery", ""},
	} {
		if got := weakPassword(c.pw, "maria"); got != c.want {
			t.Errorf("weakPassword(%q) = %q, want %q", c.pw, got, c.want)
		}
	}
}

// The enrolment refuses a weak password with a clear message, before anything is kept.
func TestEnrolmentRefusesAWeakPassword(t *testing.T) {
	f := newFixture(t)
	token := f.invite("maria")
	b := f.browser()
	r := b.post("/auth/enrol/totp/begin", map[string]string{"token": token, "password": "password1234"})
	if r.status != http.StatusBadRequest || r.str("error") != msgPwCommon {
		t.Fatalf("a common password: %d %s", r.status, r.raw)
	}
	if _, ok := b.cookies[ceremonyCookie]; ok {
		t.Error("a refused password began a ceremony")
	}
}

// A Greek password matches however its accents were typed: "ά" as one character, as "α" and
// a combining accent (some keyboards and phones), or as the polytonic "ά".
func TestPasswordsMatchWhicheverWayAccentsAreTyped(t *testing.T) {
	f := newFixture(t)
	const typed = "Το καράβι φεύγει στις οκτώ" // as a Greek keyboard types it: precomposed
	decomposed := norm.NFD.String(typed)
	polytonic := strings.NewReplacer("ά", "\u1f71", "ύ", "\u1f7b", "ώ", "\u1f7d").Replace(typed)
	if decomposed == typed || polytonic == typed {
		t.Fatal("the variants are the same text")
	}
	secret := f.enrolTOTP(f.browser(), "maria", decomposed)
	for what, pw := range map[string]string{"precomposed": typed, "decomposed": decomposed, "polytonic": polytonic} {
		if r := f.signin(f.browser(), "maria", pw, secret); r.status != http.StatusOK {
			t.Errorf("enrolled decomposed, signing in %s: %d %s; want 200", what, r.status, r.raw)
		}
	}
	if r := f.signin(f.browser(), "maria", "Το καραβι φευγει στις οκτω", secret); r.status != http.StatusUnauthorized {
		t.Errorf("without the accents: %d; want 401 (an accent is part of the password)", r.status)
	}
}
