package auth

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// signedIn enrols id with a password in a new browser and returns it, signed in.
func (f *fixture) signedIn(id string) (*browser, string) {
	f.t.Helper()
	b := f.browser()
	return b, f.enrolTOTP(b, id, goodPassword)
}

// session returns the Session the app sees for b.
func (b *browser) session() Session {
	b.f.t.Helper()
	r := b.send(http.MethodGet, "/api/me", nil)
	if r.status != http.StatusOK {
		b.f.t.Fatalf("/api/me: %d %s", r.status, r.raw)
	}
	return Session{ID: r.str("session"), Operator: r.str("id"), CSRF: r.str("csrf")}
}

// A session ends after Idle without anything done, whatever Redis's TTL says; each thing done
// (an unsafe request) moves the end further, and reads do not: an open page reads its board by
// itself, and a desk left open on an unattended computer must still sign out.
func TestIdleExpiry(t *testing.T) {
	f := newFixture(t)
	b, _ := f.signedIn("maria")
	s := b.session()
	for range 3 {
		f.advance(29 * time.Minute)
		if st := b.busy(); st != http.StatusOK {
			t.Fatalf("a POST 29 minutes after the last: %d, want 200", st)
		}
	}
	for range 2 {
		f.advance(14 * time.Minute)
		if st, _ := b.me(); st != http.StatusOK {
			t.Fatalf("a read 14 minutes after the last: %d, want 200", st)
		}
	}
	if !f.a.Alive(context.Background(), s) {
		t.Fatal("Alive is false 28 minutes after the last POST")
	}
	f.advance(2 * time.Minute)
	if f.a.Alive(context.Background(), s) {
		t.Error("Alive is true 30 minutes after the last POST, reads meanwhile")
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Errorf("/api/me 30 minutes after the last request: %d, want 401", st)
	}
	if r := b.send(http.MethodGet, "/", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin" {
		t.Errorf("/ after the session ended: %d to %q, want 303 to /signin", r.status, r.header.Get("Location"))
	}
}

// Alive does not count as a request: an open event stream does not keep a session alive.
func TestAliveDoesNotRefresh(t *testing.T) {
	f := newFixture(t)
	b, _ := f.signedIn("maria")
	s := b.session()
	for range 10 {
		f.advance(3 * time.Minute)
		f.a.Alive(context.Background(), s)
	}
	if f.a.Alive(context.Background(), s) {
		t.Error("30 minutes of Alive kept the session")
	}
}

// A session ends Absolute after sign-in however busy it is.
func TestAbsoluteExpiry(t *testing.T) {
	f := newFixture(t)
	b, _ := f.signedIn("maria")
	s := b.session()
	for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
		f.advance(20 * time.Minute)
		if st := b.busy(); st != http.StatusOK {
			t.Fatalf("%v after sign-in: %d, want 200", elapsed+20*time.Minute, st)
		}
	}
	f.advance(20 * time.Minute) // 12 hours
	if f.a.Alive(context.Background(), s) {
		t.Error("Alive 12 hours after sign-in")
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Errorf("12 hours after sign-in: %d, want 401", st)
	}
}

// Revoke ends every session at once, and the credentials and invitation with them.
func TestRevoke(t *testing.T) {
	f := newFixture(t)
	b, secret := f.signedIn("maria")
	other := f.browser()
	if r := f.signin(other, "maria", goodPassword, secret); r.status != http.StatusOK {
		t.Fatalf("second sign-in: %d %s", r.status, r.raw)
	}
	s1, s2 := b.session(), other.session()
	bystander, _ := f.signedIn("nikos")
	pending := f.invite("maria")

	ended, err := f.a.Revoke(context.Background(), "maria")
	if err != nil || ended != 2 {
		t.Fatalf("Revoke = %d, %v; want 2 sessions ended", ended, err)
	}
	for _, s := range []Session{s1, s2} {
		if f.a.Alive(context.Background(), s) {
			t.Error("Alive after Revoke")
		}
	}
	for _, br := range []*browser{b, other} {
		if st, _ := br.me(); st != http.StatusUnauthorized {
			t.Errorf("/api/me after Revoke: %d, want 401", st)
		}
	}
	if st, _ := bystander.me(); st != http.StatusOK {
		t.Errorf("another operator's session after Revoke: %d, want 200", st)
	}
	if r := f.signin(f.browser(), "maria", goodPassword, secret); r.status != http.StatusUnauthorized {
		t.Errorf("sign-in after Revoke: %d, want 401", r.status)
	}
	if r := f.browser().post("/auth/enrol/check", map[string]string{"token": pending}); r.status != http.StatusGone {
		t.Errorf("the pending invitation after Revoke: %d, want 410", r.status)
	}
	if !strings.Contains(f.logText(), "desk access revoked") {
		t.Error("Revoke is not logged")
	}
}

// A session made at the moment of a Revoke, by a sign-in that read the credentials before
// Revoke deleted them, is dead all the same: it names the older generation.
func TestRevokeDuringSignin(t *testing.T) {
	f := newFixture(t)
	f.signedIn("maria")
	ctx := context.Background()
	gen, err := f.a.generation(ctx, "maria") // what the sign-in read
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Revoke(ctx, "maria"); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	rec := httptestRecorder()
	if err := f.a.startSession(ctx, rec, "maria", gen); err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Result().Cookies() {
		b.cookies[c.Name] = c
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Errorf("a session of the generation before Revoke: %d, want 401", st)
	}
}

// Taken off the roster, an operator is signed out at their next request.
func TestRemovedFromRoster(t *testing.T) {
	f := newFixture(t)
	b, secret := f.signedIn("eleni")
	s := b.session()
	f.setKnown("eleni", false)
	if f.a.Alive(context.Background(), s) {
		t.Error("Alive after removal from the roster")
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Errorf("/api/me after removal from the roster: %d, want 401", st)
	}
	if r := f.signin(f.browser(), "eleni", goodPassword, secret); r.status != http.StatusUnauthorized {
		t.Errorf("sign-in after removal: %d, want 401", r.status)
	}
	if _, _, err := f.a.Invite(context.Background(), "eleni"); err == nil {
		t.Error("Invite of someone not on the roster succeeded")
	}
	f.setKnown("eleni", true)
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Errorf("the old session after being put back on the roster: %d, want 401 (it ended)", st)
	}
}

// An unsafe request needs the session's CSRF token and, when there is one, the desk's Origin.
func TestCSRF(t *testing.T) {
	f := newFixture(t)
	b, _ := f.signedIn("maria")
	_, csrf := b.me()
	for _, c := range []struct {
		what string
		hdr  []string
		want int
	}{
		{"no token", nil, http.StatusForbidden},
		{"a wrong token", []string{"X-CSRF-Token", csrf + "x"}, http.StatusForbidden},
		{"another site's Origin", []string{"X-CSRF-Token", csrf, "Origin", "https://evil.example"}, http.StatusForbidden},
		{"the desk's Origin over another port", []string{"X-CSRF-Token", csrf, "Origin", "http://localhost:8082"}, http.StatusForbidden},
		{"the token and the desk's Origin", []string{"X-CSRF-Token", csrf}, http.StatusOK},
		{"the token and no Origin", []string{"X-CSRF-Token", csrf, "Origin", ""}, http.StatusOK},
	} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
			if r := b.send(m, "/api/cases/X/claim", map[string]string{}, c.hdr...); r.status != c.want {
				t.Errorf("%s with %s: %d %s, want %d", m, c.what, r.status, r.raw, c.want)
			}
		}
	}
	if st, _ := b.me(); st != http.StatusOK {
		t.Errorf("a GET needs no token: %d", st)
	}
	// Another session's token is not this one's.
	other, _ := f.signedIn("nikos")
	_, otherCSRF := other.me()
	if r := b.post("/api/x", map[string]string{}, "X-CSRF-Token", otherCSRF); r.status != http.StatusForbidden {
		t.Errorf("another session's token: %d, want 403", r.status)
	}
	// Without a session: 401 under /api/ before any CSRF question.
	if r := f.browser().post("/api/x", map[string]string{}); r.status != http.StatusUnauthorized || r.str("error") != msgSignedOut {
		t.Errorf("no session: %d %s, want 401", r.status, r.raw)
	}
	// Sign-out needs the token too.
	if r := b.post("/auth/signout", nil); r.status != http.StatusForbidden {
		t.Errorf("sign-out without the token: %d, want 403", r.status)
	}
	if st, _ := b.me(); st != http.StatusOK {
		t.Error("a sign-out without the token signed out")
	}
}

// The ceremonies before a session need JSON and the desk's Origin.
func TestPreSessionGuards(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	body := map[string]string{"id": "maria", "password": goodPassword, "code": "123456"}
	for _, c := range []struct {
		what string
		hdr  []string
		want int
	}{
		{"a form's type", []string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"text/plain", []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
		{"no Origin", []string{"Origin", ""}, http.StatusForbidden},
		{"another site's Origin", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"the desk's Origin in capitals", []string{"Origin", "HTTP://LOCALHOST:8081"}, http.StatusUnauthorized},
		{"JSON with a charset", []string{"Content-Type", "application/json; charset=utf-8"}, http.StatusUnauthorized},
	} {
		for _, path := range []string{"/auth/password", "/auth/passkey/begin", "/auth/enrol/check", "/auth/enrol/totp/begin"} {
			r := b.post(path, body, c.hdr...)
			want := c.want
			if want == http.StatusUnauthorized && path != "/auth/password" {
				continue // those pass the guard and fail later for other reasons
			}
			if r.status != want || r.str("error") == "" {
				t.Errorf("%s with %s: %d %s, want %d with an error", path, c.what, r.status, r.raw, want)
			}
		}
	}
	if r := b.post("/auth/password", strings.Repeat(" ", 70<<10)+"{}"); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 70 KiB body: %d, want 413", r.status)
	}
	if r := b.post("/auth/password", "{not json"); r.status != http.StatusBadRequest || r.str("error") != msgBadRequest {
		t.Errorf("malformed JSON: %d %s", r.status, r.raw)
	}
}

// The cookies are Secure, HttpOnly, SameSite=Strict, Path=/, without Domain; the session's
// dies with the browser.
func TestCookies(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	f.enrolTOTP(b, "maria", goodPassword)
	got := map[string]bool{}
	for _, c := range b.seen {
		got[c.Name] = true
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
			t.Errorf("cookie %s: %s", c.Name, c.Raw)
		}
		if c.Name == sessionCookie && (c.MaxAge > 0 || !c.Expires.IsZero()) {
			t.Errorf("cookie %s has an end: %s", c.Name, c.Raw)
		}
		if !strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("cookie %s is not __Host-", c.Name)
		}
	}
	if !got[sessionCookie] || !got[ceremonyCookie] {
		t.Errorf("cookies set: %v, want %s and %s", got, sessionCookie, ceremonyCookie)
	}
	if _, ok := b.cookies[ceremonyCookie]; ok {
		t.Error("the ceremony's cookie outlived the enrolment")
	}
	_, csrf := b.me()
	r := b.post("/auth/signout", nil, "X-CSRF-Token", csrf)
	if r.status != http.StatusOK {
		t.Fatalf("sign-out: %d", r.status)
	}
	if _, ok := b.cookies[sessionCookie]; ok {
		t.Error("sign-out did not expire the cookie")
	}
}

// Re-enrolling (a lost phone) ends the operator's other sessions.
func TestEnrolmentEndsOtherSessions(t *testing.T) {
	f := newFixture(t)
	lost, _ := f.signedIn("maria")
	s := lost.session()
	fresh := f.browser()
	f.enrolTOTP(fresh, "maria", "a new phone, a new passphrase")
	if f.a.Alive(context.Background(), s) {
		t.Error("the old session is alive after re-enrolment")
	}
	if st, _ := lost.me(); st != http.StatusUnauthorized {
		t.Errorf("the old session after re-enrolment: %d, want 401", st)
	}
	if st, _ := fresh.me(); st != http.StatusOK {
		t.Errorf("the new session: %d, want 200", st)
	}
}

// /signin sends a browser already signed in to the desk.
func TestSigninPageWhenSignedIn(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	if r := b.send(http.MethodGet, "/signin", nil); r.status != http.StatusOK || !strings.Contains(r.raw, `id="passkey"`) {
		t.Fatalf("/signin: %d", r.status)
	}
	f.enrolTOTP(b, "maria", goodPassword)
	if r := b.send(http.MethodGet, "/signin", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Errorf("/signin signed in: %d to %q, want 303 to /", r.status, r.header.Get("Location"))
	}
}
