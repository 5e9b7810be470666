package auth

import (
	"net/http"
	"testing"
)

// Another site cannot sign a counsellor out: its form sends no cookie (SameSite=Strict), but
// the browser would keep an answer that deletes it. Sign-out needs the desk's Origin, or
// Sec-Fetch-Site: same-origin from a browser that sends no Origin; and the cookie is deleted
// only when one came.
func TestSignoutOnlyFromTheDesk(t *testing.T) {
	f := newFixture(t)
	b, _ := f.signedIn("maria")
	_, csrf := b.me()
	stranger := f.browser() // another site's page: no cookie
	for _, c := range []struct {
		what string
		hdr  []string
	}{
		{"another site's form", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Content-Type", "application/x-www-form-urlencoded"}},
		{"another site, no Origin", []string{"Origin", "", "Sec-Fetch-Site", "cross-site"}},
		{"a sibling site, no Origin", []string{"Origin", "", "Sec-Fetch-Site", "same-site"}},
		{"neither Origin nor Sec-Fetch-Site", []string{"Origin", ""}},
		{"the desk's host on another port", []string{"Origin", "http://localhost:8082"}},
	} {
		r := stranger.post("/auth/signout", "x=1", c.hdr...)
		if r.status != http.StatusForbidden || len(r.header.Values("Set-Cookie")) > 0 {
			t.Errorf("%s: %d, Set-Cookie %q; want 403 and no cookie", c.what, r.status, r.header.Values("Set-Cookie"))
		}
		if r := b.post("/auth/signout", nil, append([]string{"X-CSRF-Token", csrf}, c.hdr...)...); r.status != http.StatusForbidden {
			t.Errorf("%s, with the session and its token: %d; want 403", c.what, r.status)
		}
	}
	if st, _ := b.me(); st != http.StatusOK {
		t.Fatal("a sign-out from elsewhere signed out")
	}
	// From the desk without a session cookie: nothing to end, nothing to delete.
	if r := stranger.post("/auth/signout", nil); r.status != http.StatusOK || len(r.header.Values("Set-Cookie")) > 0 {
		t.Errorf("from the desk without a cookie: %d, Set-Cookie %q; want 200 and no cookie", r.status, r.header.Values("Set-Cookie"))
	}
	// A browser that sends no Origin but says same-origin.
	r := b.post("/auth/signout", nil, "X-CSRF-Token", csrf, "Origin", "", "Sec-Fetch-Site", "same-origin")
	if r.status != http.StatusOK || len(r.header.Values("Set-Cookie")) != 1 {
		t.Errorf("same-origin without Origin: %d, Set-Cookie %q; want 200 and the cookie deleted", r.status, r.header.Values("Set-Cookie"))
	}
	if st, _ := b.me(); st != http.StatusUnauthorized {
		t.Error("the sign-out did not sign out")
	}
}
