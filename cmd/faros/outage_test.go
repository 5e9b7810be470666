package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/internal/redistest"
)

// The tests of this file try Faros as the issue "One channel down never takes the others with
// it" found it failing: Telegram unreachable, or the token revoked, when Faros starts.

// shortTelegramRetry makes the Telegram channel ask again within milliseconds, not seconds,
// for the rest of the test.
func shortTelegramRetry(t *testing.T) {
	telegramRetryBase = 10 * time.Millisecond // a refused token: every 600ms
	t.Cleanup(func() { telegramRetryBase = 0 })
}

// readyz returns the status and body of the ops listener's /readyz.
func readyz(t *testing.T, in *instance) (int, string) {
	t.Helper()
	return get(t, "http://"+in.ops+"/readyz")
}

// Telegram unreachable at start: Faros starts, the web chat answers, /readyz says Telegram is
// not connected; once Telegram is back, Faros serves a person there and is ready.
func TestTelegramDownAtStart(t *testing.T) {
	shortTelegramRetry(t)
	r := redistest.New(t)
	fake := telegramtest.New(t)
	fake.Break()
	in := start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL()}, "9301", token)

	if text := newWebPerson(t, in).send("/start", ""); !strings.Contains(text, "Choose your language") {
		t.Errorf("the web chat answered %q while Telegram is down; want the language question", text)
	}
	waitFor(t, "a failed attempt logged", func() bool { return strings.Contains(in.log.String(), "telegram: not connected") })
	code, body := readyz(t, in)
	// Said, but no 503: the web chat must stay in the balancer while Telegram is down.
	if code != http.StatusOK || !strings.HasPrefix(body, "telegram: not connected: ") || !strings.HasSuffix(body, "\nready\n") ||
		strings.Count(body, "\n") != 2 || strings.Contains(body, token) {
		t.Errorf("/readyz with Telegram down: %d %q; want 200, a line naming Telegram, then ready, no token", code, body)
	}
	if !strings.Contains(in.log.String(), `"retry_in_seconds":0.`) {
		t.Errorf("the wait is not logged in seconds:\n%s", in.log)
	}

	fake.Mend()
	waitFor(t, "ready", func() bool { code, body := readyz(t, in); return code == http.StatusOK && body == "ready\n" })
	c := &tgChat{t: t, fake: fake, id: 9301}
	if text := c.say("/start"); !strings.Contains(text, "Choose your language") {
		t.Errorf("Telegram, once back, answered %q; want the language question", text)
	}
}

// A revoked token: Faros starts and the web chat answers; one ERROR names the variable to fix,
// however often Telegram is asked again, and /readyz says why Telegram is not ready.
func TestTelegramTokenRefused(t *testing.T) {
	shortTelegramRetry(t)
	r := redistest.New(t)
	fake := telegramtest.New(t)
	fake.FailGetMe(1000, http.StatusUnauthorized, "Unauthorized")
	in := start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL()}, token)

	if text := newWebPerson(t, in).send("/start", ""); !strings.Contains(text, "Choose your language") {
		t.Errorf("the web chat answered %q with the token refused; want the language question", text)
	}
	fake.Wait("getMe", 3) // asked again, slowly
	var errors []string
	for _, line := range strings.Split(in.log.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			errors = append(errors, line)
		}
	}
	if len(errors) != 1 || !strings.Contains(errors[0], "FAROS_TELEGRAM_TOKEN") {
		t.Errorf("errors logged: %q; want one naming FAROS_TELEGRAM_TOKEN", errors)
	}
	want := "telegram: not connected: the bot token was refused (401 Unauthorized): check FAROS_TELEGRAM_TOKEN\nready\n"
	if code, body := readyz(t, in); code != http.StatusOK || body != want {
		t.Errorf("/readyz with the token refused: %d %q; want 200 %q", code, body, want)
	}
	if n := len(fake.Calls("getUpdates")); n != 0 {
		t.Errorf("%d getUpdates calls with the token refused; want none", n)
	}
}
