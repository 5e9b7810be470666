package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/internal/redistest"
)

// runAudit runs "faros audit" with args and the variables of env only.
func runAudit(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = audit(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeTrail appends entries to the audit stream of r as the desk lays them out: event, case,
// at, then the event's own fields.
func writeTrail(t *testing.T, r *redistest.Redis, entries ...[]any) {
	t.Helper()
	for _, e := range entries {
		fields := append([]any{"event", e[0], "case", e[1], "at", e[2]}, e[3:]...)
		err := r.Client.XAdd(context.Background(), &redis.XAddArgs{Stream: r.Prefix + ":handoff:audit", Values: fields}).Err()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditCommand: the trail of one case from the service's Redis, in Athens time by
// default, in another zone on request, with the flag before or after the case.
func TestAuditCommand(t *testing.T) {
	r := redistest.New(t)
	writeTrail(t, r,
		[]any{"created", "K3XQ7M2A", "2026-11-30T19:01:00Z", "tier", 2, "reason", "screening", "lang", "el", "channel", "telegram"},
		[]any{"created", "ZZZZ7777", "2026-11-30T19:01:30Z", "tier", 3, "reason", "emergency", "lang", "en", "channel", "web"},
		[]any{"notified", "K3XQ7M2A", "2026-11-30T19:01:01Z", "operators", "maria,nikos", "level", 0},
		[]any{"duty_on", "-", "2026-11-30T19:02:00Z", "operator", "nikos"},
		[]any{"claimed", "K3XQ7M2A", "2026-11-30T19:03:12Z", "operator", "maria", "alias", "Μαρία"},
		[]any{"claimed", "ZZZZ7777", "2026-11-30T19:03:20Z", "operator", "nikos", "alias", "Νίκος"},
		[]any{"released", "K3XQ7M2A", "2026-11-30T19:10:00Z", "operator", "maria", "reason", "off duty", "note", ""},
		[]any{"expired", "K3XQ7M2A", "2026-11-30T22:30:00Z"},
	)
	env := map[string]string{"FAROS_REDIS_URL": r.URL(), "FAROS_REDIS_PREFIX": r.Prefix}

	athens := []string{
		"2026-11-30 21:01:00  created  tier=2 reason=screening lang=el channel=telegram",
		"2026-11-30 21:01:01  notified  operators=maria,nikos level=0",
		"2026-11-30 21:03:12  claimed  operator=maria alias=Μαρία",
		`2026-11-30 21:10:00  released  operator=maria reason="off duty" note=""`,
		"2026-12-01 00:30:00  expired",
	}
	utc := []string{
		"2026-11-30 19:01:00  created  tier=2 reason=screening lang=el channel=telegram",
		"2026-11-30 19:01:01  notified  operators=maria,nikos level=0",
		"2026-11-30 19:03:12  claimed  operator=maria alias=Μαρία",
		`2026-11-30 19:10:00  released  operator=maria reason="off duty" note=""`,
		"2026-11-30 22:30:00  expired",
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"K3XQ7M2A"}, athens},
		{[]string{"k3xq7m2a"}, athens},
		{[]string{"K3XQ7M2A", "--tz", "UTC"}, utc},
		{[]string{"-tz=UTC", "K3XQ7M2A"}, utc},
	} {
		code, out, errOut := runAudit(t, env, c.args...)
		if code != 0 || errOut != "" {
			t.Errorf("faros audit %s: exit %d, stderr %q; want 0 and nothing", strings.Join(c.args, " "), code, errOut)
		}
		if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("faros audit %s printed:\n%s\nwant:\n%s", strings.Join(c.args, " "), out, strings.Join(c.want, "\n"))
		}
	}
}

// TestAuditUsage: a wrong command line is told, with the usage, on stderr, and exits 2 before
// any Redis is looked for; -h shows the usage and succeeds.
func TestAuditUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{nil, 2, "name one case"},
		{[]string{"K3XQ7M2A", "ZZZZ7777"}, 2, "name one case"},
		{[]string{"--tz", "UTC"}, 2, "name one case"},
		{[]string{"K3XQ7M2"}, 2, `"K3XQ7M2" is not a case id: a case id is 8 Latin letters A–Z and digits 2–7`},
		{[]string{"K3XQ7M21"}, 2, "is not a case id"},
		{[]string{"Κ3ΧΟ7Μ2Α"}, 2, "is not a case id"}, // Greek capitals
		{[]string{"K3XQ7M2A", "--tz", "Mars/Olympus"}, 2, `--tz: unknown time zone "Mars/Olympus"`},
		{[]string{"K3XQ7M2A", "--tz"}, 2, "flag needs an argument: -tz"},
		{[]string{"K3XQ7M2A", "--zone", "UTC"}, 2, "flag provided but not defined: -zone"},
		{[]string{"-h"}, 0, ""},
		{[]string{"K3XQ7M2A", "--help"}, 0, ""},
	} {
		code, out, errOut := runAudit(t, nil, c.args...)
		if code != c.code || out != "" || !strings.Contains(errOut, c.says) || !strings.Contains(errOut, "usage: faros audit CASE [--tz ZONE]") {
			t.Errorf("faros audit %q: exit %d, stdout %q, stderr:\n%s\nwant exit %d, %q and the usage on stderr only",
				c.args, code, out, errOut, c.code, c.says)
		}
	}
}

// TestAuditNothingToRead: no trail, no store, no configuration, no Redis: said plainly, exit 1.
func TestAuditNothingToRead(t *testing.T) {
	r := redistest.New(t)
	writeTrail(t, r, []any{"created", "ZZZZ7777", "2026-11-30T19:01:30Z", "tier", 3})
	for _, c := range []struct {
		name string
		env  map[string]string
		says string
	}{
		{"unknown case", map[string]string{"FAROS_REDIS_URL": r.URL(), "FAROS_REDIS_PREFIX": r.Prefix},
			`case K3XQ7M2A has no events in the audit trail of prefix "` + r.Prefix + `"`},
		{"another deployment's prefix", map[string]string{"FAROS_REDIS_URL": r.URL()}, `has no events in the audit trail of prefix "faros"`},
		{"embedded store", nil, "in-memory Redis that is gone when the process stops: there is no audit trail to read"},
		{"invalid configuration", map[string]string{"FAROS_REDIS_URL": r.URL(), "FAROS_LOG_LEVEL": "loud"}, "invalid configuration"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runAudit(t, c.env, "K3XQ7M2A")
			if code != 1 || out != "" || !strings.Contains(errOut, c.says) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q on stderr", code, out, errOut, c.says)
			}
		})
	}
	t.Run("redis unreachable", func(t *testing.T) {
		p, url := r.Proxy(t) // skips on a cluster
		p.Cut()
		code, out, errOut := runAudit(t, map[string]string{"FAROS_REDIS_URL": url}, "K3XQ7M2A")
		if code != 1 || out != "" || !strings.Contains(errOut, "faros audit: read the audit trail: ") {
			t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and the error on stderr", code, out, errOut)
		}
	})
}

// TestAuditBinary: main dispatches "faros audit" before the service's own arguments.
func TestAuditBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	r := redistest.New(t)
	writeTrail(t, r, []any{"claimed", "K3XQ7M2A", "2026-11-30T19:03:12Z", "operator", "maria", "alias", "Μαρία"})
	bin := filepath.Join(t.TempDir(), "faros")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	environ := []string{"FAROS_REDIS_URL=" + r.URL(), "FAROS_REDIS_PREFIX=" + r.Prefix} // nothing of the test's own

	cmd := exec.Command(bin, "audit", "K3XQ7M2A")
	cmd.Env = environ
	out, err := cmd.Output()
	if err != nil || string(out) != "2026-11-30 21:03:12  claimed  operator=maria alias=Μαρία\n" {
		t.Errorf("faros audit K3XQ7M2A: %v, %q", err, out)
	}
	cmd = exec.Command(bin, "audit")
	cmd.Env = environ
	var exit *exec.ExitError
	if _, err := cmd.Output(); !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(exit.Stderr), "usage: faros audit") {
		t.Errorf("faros audit without a case: %v; want exit 2 and the usage", err)
	}
}
