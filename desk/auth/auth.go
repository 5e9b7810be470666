// Package auth signs counsellors in to the desk: passkeys, or a password and a one-time code;
// invitations, sessions and CSRF.
package auth

// What a counsellor's browser and Redis hold, and why, is told at the top of each file:
// sessions and CSRF in session.go; invitations, enrolment and the end of an operator's access
// in invite.go; credentials and ceremonies at rest in store.go; the password and one-time code
// in password.go (which passwords are refused: policy.go); passkeys in passkey.go; failed
// attempts in failures.go; floods in floods.go; the pages in pages.go; refusals in
// respond.go. This file is the configuration and the routes.

import (
	"cmp"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/internal/seal"
)

// Config is what New needs.
type Config struct {
	Redis  redis.UniversalClient
	Prefix string // of every Redis key; "": "faros"
	// Secret (32 bytes) seals the TOTP secrets and password hashes at rest; keys derived from it
	// also make the CSRF tokens and the names of the failure counters. Not in Redis.
	Secret []byte
	// Origin is the desk's public address, FAROS_DESK_URL: "https://desk.example.org" or
	// "http://localhost:8081". The WebAuthn RP ID is its host name without the port.
	Origin string
	// Known tells whether id is an operator of the roster in force, and their alias; it is
	// asked at every request, so taking someone off the roster locks them out at once.
	Known      func(id string) (alias string, ok bool)
	Idle       time.Duration    // a session ends after this long without a request; 0: 30 minutes
	Absolute   time.Duration    // and this long after sign-in whatever happens; 0: 12 hours
	InviteLife time.Duration    // how long an invitation link works; 0: 72 hours
	Now        func() time.Time // nil: time.Now
	Logger     *slog.Logger     // nil: discard
	// ClientAddrHeader names the header in which the desk's own reverse proxy passes the
	// client's address, for the limits on sign-in requests (floods.go): "X-Forwarded-For"
	// (the last address counts, the one the proxy added) or a single-value header such as
	// "X-Real-IP". Set it only when every request comes through that proxy: a client that
	// reaches the desk directly could write any address there. Empty: the connection's
	// address.
	ClientAddrHeader string
}

// Auth signs counsellors in and keeps their sessions.
type Auth struct {
	rdb      redis.UniversalClient
	prefix   string
	origin   string // scheme://host[:port], lower case, as browsers send it in Origin
	known    func(string) (string, bool)
	idle     time.Duration
	absolute time.Duration
	invite   time.Duration
	now      func() time.Time
	log      *slog.Logger
	wa       *webauthn.WebAuthn

	aead    cipher.AEAD // seals credentials and ceremonies
	csrfKey []byte      // makes a session's CSRF token from its id
	failKey []byte      // names a typed id's failure counter without the typed text
	decoy   []byte      // makes the passkey an unknown id seems to have

	argon    argonParams   // tests lower it; see password.go
	hashing  chan struct{} // at most this many password hashes at once: each takes 19 MiB
	hashWait time.Duration // the longest a password waits for its place; tests shorten it

	limits      *limits // on sign-in requests, per client address and in all: floods.go
	addrHeader  string
	missingOnce sync.Once // the log says once that the address header is missing
}

// Durations of what this package keeps in Redis besides sessions and invitations.
const (
	credentialLife = 400 * 24 * time.Hour // refreshed at each sign-in
	ceremonyLife   = 5 * time.Minute      // a passkey dialogue, or a password waiting for its first code
	failureWindow  = 15 * time.Minute     // failures are counted this long
	maxFailures    = 5                    // attempts per typed id, way of signing in and failureWindow
	stepLife       = 5 * time.Minute      // a used one-time code's time step: longer than it is valid
)

// New checks cfg and returns the Auth.
func New(cfg Config) (*Auth, error) {
	if cfg.Redis == nil {
		return nil, errors.New("auth: no Redis")
	}
	if len(cfg.Secret) < 32 {
		return nil, errors.New("auth: the secret must have at least 32 bytes")
	}
	if cfg.Known == nil {
		return nil, errors.New("auth: no roster (Known)")
	}
	if h := cfg.ClientAddrHeader; h != "" && strings.ContainsAny(h, " \t\r\n:,") {
		return nil, fmt.Errorf("auth: client address header %q is not a header name", h)
	}
	u, err := url.Parse(cfg.Origin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("auth: the desk's address %q is not like https://desk.example.org", cfg.Origin)
	}
	origin := strings.ToLower(u.Scheme + "://" + u.Host)
	if u.Scheme == "http" && u.Hostname() != "localhost" {
		// The session cookie is Secure: a browser keeps it only over https, or on localhost.
		return nil, fmt.Errorf("auth: the desk's address %q must be https (http only on localhost)", cfg.Origin)
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          strings.ToLower(u.Hostname()),
		RPDisplayName: "Faros",
		RPOrigins:     []string{origin},
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementPreferred,
			// The passkey is the only factor: a key that anyone holding it can use (a security
			// key without its PIN, a phone unlocked by someone else) is refused, at enrolment
			// and at every sign-in. The library then checks the UV flag.
			UserVerification: protocol.VerificationRequired,
		},
		// The desk asks for no extension; a browser that reports one unasked must not keep a
		// counsellor out.
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
	if err != nil {
		return nil, fmt.Errorf("auth: passkeys need a domain name in the desk's address %q: %w", cfg.Origin, err)
	}
	a := &Auth{
		rdb: cfg.Redis, prefix: cmp.Or(cfg.Prefix, "faros"), origin: origin, known: cfg.Known,
		idle: cmp.Or(cfg.Idle, 30*time.Minute), absolute: cmp.Or(cfg.Absolute, 12*time.Hour),
		invite: cmp.Or(cfg.InviteLife, 72*time.Hour), now: cfg.Now, log: cfg.Logger, wa: wa,
		aead:    seal.AEAD(derive(cfg.Secret, "faros desk credentials v1")),
		csrfKey: derive(cfg.Secret, "faros desk csrf v1"),
		failKey: derive(cfg.Secret, "faros desk failures v1"),
		decoy:   derive(cfg.Secret, "faros desk decoys v1"),
		argon:   defaultArgon,
		hashing: make(chan struct{}, 4), hashWait: hashWait,
		addrHeader: cfg.ClientAddrHeader,
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.limits = newLimits(addrBucket, allBucket, maxAddrs, a.now)
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a, nil
}

// derive makes a key for one purpose from the secret.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Routes registers the pages, their files and the ceremonies. Everything here is reachable
// without a session: each POST proves it comes from the desk's own page, and the ceremonies
// are limited per client address and in all (see pre).
func (a *Auth) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /signin", a.signinPage)
	mux.HandleFunc("GET /enrol", a.enrolPage)
	mux.HandleFunc("GET /static/auth/", serveStatic)
	mux.HandleFunc("POST /auth/password", a.pre(a.signinPassword))
	mux.HandleFunc("POST /auth/passkey/begin", a.pre(a.signinPasskeyBegin))
	mux.HandleFunc("POST /auth/passkey/finish", a.pre(a.signinPasskeyFinish))
	mux.HandleFunc("POST /auth/enrol/check", a.pre(a.enrolCheck))
	mux.HandleFunc("POST /auth/enrol/passkey/begin", a.pre(a.enrolPasskeyBegin))
	mux.HandleFunc("POST /auth/enrol/passkey/finish", a.pre(a.enrolPasskeyFinish))
	mux.HandleFunc("POST /auth/enrol/totp/begin", a.pre(a.enrolTOTPBegin))
	mux.HandleFunc("POST /auth/enrol/totp/finish", a.pre(a.enrolTOTPFinish))
	mux.HandleFunc("POST /auth/signout", a.signout)
}

// Idle is how long a session lasts without anything done (Config.Idle): the page warns before.
func (a *Auth) Idle() time.Duration { return a.idle }

// key names a Redis key of the desk.
func (a *Auth) key(parts ...string) string {
	return a.prefix + ":desk:" + strings.Join(parts, ":")
}

// opKey names a key of one operator's. The hash tag puts all of them on one slot of a Redis
// Cluster, so that one script may change them together. An id that could break the tag is
// written in hex after a "~", which no id written as it is has.
func (a *Auth) opKey(id, what string) string {
	return a.prefix + ":desk:{desk:" + keyID(id) + "}:" + what
}

func keyID(id string) string {
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Sprintf("~%x", id)
		}
	}
	return id
}
