package auth

import (
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// After every kind of request, each key has a TTL, and no token, password, one-time code or
// secret is in any Redis key or value in clear, nor in the logs.
func TestNothingKeptInClear(t *testing.T) {
	f := newFixture(t)
	var secrets, codes []string
	keep := func(s ...string) { secrets = append(secrets, s...) }

	// Enrolment and sign-in with a password; a wrong one; a password typed as the id.
	maria := f.browser()
	token := f.invite("maria")
	keep(token, strings.SplitN(token, ".", 2)[1])
	r := maria.post("/auth/enrol/totp/begin", map[string]string{"token": token, "password": goodPassword})
	secret := r.str("secret")
	keep(goodPassword, secret)
	code := f.code(secret)
	codes = append(codes, code)
	maria.post("/auth/enrol/totp/finish", map[string]string{"code": code})
	second := f.browser()
	f.advance(30 * time.Second)
	code = f.code(secret)
	codes = append(codes, code)
	if r := second.post("/auth/password", map[string]string{"id": "maria", "password": goodPassword, "code": code}); r.status != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.status, r.raw)
	}
	wrong := "harbour lanterns at noon"
	keep(wrong, "my secret passphrase 42")
	second.post("/auth/password", map[string]string{"id": "maria", "password": wrong, "code": "314159"})
	second.post("/auth/password", map[string]string{"id": "my secret passphrase 42", "password": wrong, "code": "271828"})
	codes = append(codes, "314159", "271828")

	// Passkeys: enrolment, sign-in, and a sign-in left half-way.
	k := newSoftKey(t)
	nikos := f.browser()
	f.enrolPasskey(nikos, "nikos", k)
	keep(string(k.id))
	r = nikos.post("/auth/passkey/begin", map[string]string{"id": "nikos"})
	keep(r.body["publicKey"].(map[string]any)["challenge"].(string))
	nikos.post("/auth/passkey/finish", k.get(r.body))
	r = f.browser().post("/auth/passkey/begin", map[string]string{"id": "nikos"})
	keep(r.body["publicKey"].(map[string]any)["challenge"].(string))

	// A pending invitation and an enrolment waiting for its code.
	eleni := f.browser()
	pending := f.invite("eleni")
	keep(pending, strings.SplitN(pending, ".", 2)[1])
	r = eleni.post("/auth/enrol/totp/begin", map[string]string{"token": pending, "password": "lanterns of the old harbour"})
	keep("lanterns of the old harbour", r.str("secret"))

	// Every cookie and CSRF token any browser was given.
	for _, b := range []*browser{maria, second, nikos, eleni} {
		for _, c := range b.seen {
			if c.Value != "" {
				keep(c.Value)
			}
		}
		if st, csrf := b.me(); st == http.StatusOK {
			keep(csrf)
		}
	}
	_, csrf := second.me()
	second.post("/auth/signout", nil, "X-CSRF-Token", csrf)
	if _, err := f.a.Revoke(context.Background(), "nikos"); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	keys, err := f.r.Keys(ctx)
	if err != nil || len(keys) < 8 {
		t.Fatalf("keys: %v, %v", keys, err)
	}
	var blob strings.Builder
	for _, key := range keys {
		if ttl := f.r.Client.PTTL(ctx, key).Val(); ttl <= 0 {
			t.Errorf("key %s has no TTL (%v)", key, ttl)
		}
		if !strings.HasPrefix(key, f.r.Prefix+":desk:") {
			t.Errorf("key %s is not under %s:desk:", key, f.r.Prefix)
		}
		blob.WriteString(key + "\n")
		switch typ := f.r.Client.Type(ctx, key).Val(); typ {
		case "string":
			blob.WriteString(f.r.Client.Get(ctx, key).Val())
		case "hash":
			for k, v := range f.r.Client.HGetAll(ctx, key).Val() {
				blob.WriteString(k + "=" + v + "\n")
			}
		case "set":
			blob.WriteString(strings.Join(f.r.Client.SMembers(ctx, key).Val(), "\n"))
		default:
			t.Errorf("key %s is a %s", key, typ)
		}
		blob.WriteString("\n")
	}
	logs := f.logText()
	for where, text := range map[string]string{"Redis": blob.String(), "the logs": logs} {
		for _, s := range secrets {
			for _, form := range forms(s) {
				if strings.Contains(text, form) {
					t.Errorf("%s holds a secret (%q as %q)", where, s, form)
				}
			}
		}
		for _, c := range codes {
			if regexp.MustCompile(`(^|\D)` + c + `(\D|$)`).MatchString(text) {
				t.Errorf("%s holds the one-time code %s", where, c)
			}
		}
	}
	if t.Failed() {
		t.Logf("keys:\n%s\nlogs:\n%s", strings.Join(keys, "\n"), logs)
	}
}

// forms are the ways a secret could be written: as it is, and its bytes (when it is base64url
// or base32) in hex and base64.
func forms(s string) []string {
	out := []string{s}
	var raw []byte
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil && len(b) >= 8 {
		raw = b
	} else if b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s); err == nil && len(b) >= 8 {
		raw = b
	} else {
		raw = []byte(s)
	}
	out = append(out, string(raw), hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw), base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw))
	return out
}

// commands records what the Auth asks Redis, while on.
type commands struct {
	mu   sync.Mutex
	on   bool
	seen []string // each command's name, and a pipeline's in brackets
	args []string // every argument, as text
}

func (c *commands) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.record(cmd.Name(), cmd)
		return next(ctx, cmd)
	}
}

func (c *commands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, cmd := range cmds {
			names[i] = cmd.Name()
		}
		c.record("["+strings.Join(names, " ")+"]", cmds...)
		return next(ctx, cmds)
	}
}

func (c *commands) record(name string, cmds ...redis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return
	}
	c.seen = append(c.seen, name)
	for _, cmd := range cmds {
		for _, a := range cmd.Args() {
			c.args = append(c.args, fmt.Sprint(a))
		}
	}
}

// during returns what do asked Redis.
func (c *commands) during(do func()) (seen []string, args string) {
	c.mu.Lock()
	c.on, c.seen, c.args = true, nil, nil
	c.mu.Unlock()
	do()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = false
	return c.seen, strings.Join(c.args, "\n")
}

// Whether an id exists, and how it signs in, changes nothing in what Redis is asked when a
// sign-in begins or fails: the same commands, in the same order (so taking the same time);
// and what was typed as an id that does not exist never reaches Redis.
func TestEveryIDCostsTheSameRedisWork(t *testing.T) {
	f := newFixture(t)
	f.enrolPasskey(f.browser(), "maria", newSoftKey(t))
	f.enrolTOTP(f.browser(), "nikos", goodPassword)
	rec := &commands{}
	f.r.Client.AddHook(rec)
	ids := []string{"maria", "nikos", "nobody", "my secret passphrase 42"}
	for _, c := range []struct {
		what string
		send func(id string)
	}{
		{"passkey begin", func(id string) { f.browser().post("/auth/passkey/begin", map[string]string{"id": id}) }},
		{"passkey finish", func(id string) {
			b := f.browser()
			b.post("/auth/passkey/begin", map[string]string{"id": id})
			rec.mu.Lock()
			rec.seen = nil
			rec.mu.Unlock()
			b.post("/auth/passkey/finish", `{"id":"x","type":"public-key"}`)
		}},
		{"a wrong password", func(id string) {
			f.browser().post("/auth/password", map[string]string{"id": id, "password": "blue harbour lanterns at dusk", "code": "123456"})
		}},
	} {
		c.send("warm-up") // the scripts are loaded once
		var first []string
		for _, id := range ids {
			seen, args := rec.during(func() { c.send(id) })
			if first == nil {
				first = seen
				t.Logf("%s: %v", c.what, seen)
			} else if !slices.Equal(seen, first) {
				t.Errorf("%s for %q asks Redis %v; for %q, %v", c.what, id, seen, ids[0], first)
			}
			if _, known := f.known(id); !known && (strings.Contains(args, id) || strings.Contains(args, hex.EncodeToString([]byte(id)))) {
				t.Errorf("%s: the typed id %q reached Redis:\n%s", c.what, id, args)
			}
		}
	}
}
