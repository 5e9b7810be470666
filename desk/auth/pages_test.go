package auth

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// The pages carry the ids the browser tests drive, obey the Content-Security-Policy and keep
// nothing in the browser.
func TestPages(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	for _, c := range []struct {
		path string
		ids  []string
	}{
		{"/signin", []string{"id", "passkey", "password", "code", "signin", "status"}},
		{"/enrol", []string{"enrol-passkey", "new-password", "totp-start", "totp-qr", "totp-secret", "totp-code", "enrol-totp", "status"}},
	} {
		r := b.send(http.MethodGet, c.path, nil)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" ||
			r.header.Get("Content-Security-Policy") != csp || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %v", c.path, r.status, r.header)
		}
		for _, id := range c.ids {
			if !strings.Contains(r.raw, `id="`+id+`"`) {
				t.Errorf("%s has no #%s", c.path, id)
			}
		}
		if !strings.Contains(r.raw, `id="status" role="status"`) {
			t.Errorf("%s: #status is not role=status", c.path)
		}
		checkCSP(t, c.path, r.raw)
	}
	for name, ctype := range staticTypes {
		r := b.send(http.MethodGet, "/static/auth/"+name, nil)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != ctype || len(r.raw) < 100 {
			t.Errorf("/static/auth/%s: %d %q", name, r.status, r.header.Get("Content-Type"))
		}
		checkCSP(t, name, r.raw)
	}
	for _, path := range []string{"/static/auth/", "/static/auth/signin.html", "/static/auth/../auth.go", "/static/auth/nothing.js"} {
		if r := b.send(http.MethodGet, path, nil); r.status == http.StatusOK {
			t.Errorf("%s: %d, want no file", path, r.status)
		}
	}
}

var (
	inlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>`)
	handlerAttr  = regexp.MustCompile(`\son[a-z]+\s*=`)
	externalURL  = regexp.MustCompile(`(?:src|href|action)\s*=\s*"(?:https?:)?//`)
)

func checkCSP(t *testing.T, name, text string) {
	t.Helper()
	for _, tag := range inlineScript.FindAllString(text, -1) {
		if !strings.Contains(tag, `src="/static/auth/`) {
			t.Errorf("%s: inline script %s", name, tag)
		}
	}
	for _, bad := range []string{"<style", "style=", "javascript:", "localStorage", "sessionStorage", "indexedDB", "serviceWorker", "eval(", "new Function", "document.cookie", "innerHTML", "@import"} {
		if strings.Contains(text, bad) {
			t.Errorf("%s contains %q", name, bad)
		}
	}
	if strings.HasSuffix(name, ".css") && strings.Contains(text, "url(") {
		t.Errorf("%s loads something with url()", name)
	}
	if m := handlerAttr.FindString(text); m != "" && strings.HasSuffix(name, ".html") {
		t.Errorf("%s: an event handler attribute %q", name, m)
	}
	if m := externalURL.FindString(text); m != "" {
		t.Errorf("%s: an external URL %q", name, m)
	}
}
