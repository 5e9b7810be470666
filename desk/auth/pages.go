package auth

// The sign-in and enrolment pages and their two files, embedded. They are static: nothing
// about a counsellor is in them, so they may be served to anyone. They obey the desk's
// Content-Security-Policy (no inline script or style, nothing from elsewhere), which is set
// here too, in case a page is served outside the desk's own headers.

import (
	"embed"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// csp is the desk's policy (see the desk's spec); the pages need nothing more.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// staticTypes lists the files served under /static/auth/, with their types.
var staticTypes = map[string]string{
	"auth.js":  "text/javascript; charset=utf-8",
	"auth.css": "text/css; charset=utf-8",
}

func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", csp)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

func serveFile(w http.ResponseWriter, r *http.Request, name, ctype string) {
	b, err := static.ReadFile("static/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", ctype)
	_, _ = w.Write(b)
}

// serveStatic serves auth.js and auth.css; anything else under /static/auth/ is not found.
func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/auth/")
	ctype, ok := staticTypes[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	serveFile(w, r, name, ctype)
}

// signinPage is the sign-in page; a browser already signed in goes to the desk.
func (a *Auth) signinPage(w http.ResponseWriter, r *http.Request) {
	if id := fromCookie(r); id != "" {
		if s, err := a.lookup(r.Context(), id); err == nil && s.alive {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
	}
	serveFile(w, r, "signin.html", "text/html; charset=utf-8")
}

// enrolPage is the enrolment page; its script reads the invitation from the fragment.
func (a *Auth) enrolPage(w http.ResponseWriter, r *http.Request) {
	serveFile(w, r, "enrol.html", "text/html; charset=utf-8")
}
