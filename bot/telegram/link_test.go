package telegram_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
)

// New asks Telegram nothing; Run asks getMe until Telegram answers, waiting 1s, 2s, 4s (±20%),
// logging each failure with the wait in seconds, and polls only once it has.
func TestRunWaitsForTelegram(t *testing.T) {
	clock := newClock(true)
	e := start(t, &handler{}, func(cfg *telegram.Config) { fast(cfg); cfg.Clock = clock })
	if n := len(e.srv.Calls("")); n != 0 {
		t.Fatalf("New made %d calls; want none", n)
	}
	if err := e.ch.Ready(); err == nil || err.Error() != "not connected: not asked yet" {
		t.Errorf("Ready before Run: %v; want not connected", err)
	}
	e.srv.FailGetMe(3, 502, "Bad Gateway")
	e.run(t)
	waitFor(t, "connected", func() bool { return e.ch.Ready() == nil })
	// A batch not confirmed comes again whole: never more of a chat than a conversation's
	// memory of handled updates (ten).
	if polls := e.srv.Wait("getUpdates", 1); polls[0].Params["limit"] != "10" {
		t.Errorf("getUpdates asks for %q updates at most; want 10", polls[0].Params["limit"])
	}

	var methods []string
	for _, c := range e.srv.Calls("") {
		if c.Method != "getUpdates" || methods[len(methods)-1] != "getUpdates" {
			methods = append(methods, c.Method)
		}
	}
	want := "getMe getMe getMe getMe deleteWebhook getUpdates"
	if got := strings.Join(methods, " "); got != want {
		t.Errorf("calls %s; want %s", got, want)
	}
	waits := clock.Waits()
	if len(waits) < 3 {
		t.Fatalf("waits %v; want three", waits)
	}
	for i, base := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if d := waits[i]; d < base*8/10 || d > base*12/10 {
			t.Errorf("wait %d: %v; want %v ± 20%%", i+1, d, base)
		}
	}
	logs := e.logs.String()
	if n := strings.Count(logs, "level=WARN msg=\"telegram: not connected"); n != 3 {
		t.Errorf("%d warnings; want one per failed attempt:\n%s", n, logs)
	}
	if !regexp.MustCompile(`(?m)retry_in_seconds=[0-9.]+$`).MatchString(logs) || strings.Contains(logs, "retry_in=") {
		t.Errorf("the waits are not logged as seconds:\n%s", logs)
	}
}

// While Telegram is down, a message waits for it, for minutes if need be, in the queue (and
// the outbox): it is not given up, and uses none of its retries. It goes once Telegram is back.
func TestSendsWaitForTelegram(t *testing.T) {
	clock := newClock(false)
	e := start(t, &handler{}, func(cfg *telegram.Config) {
		fast(cfg)
		cfg.Clock, cfg.Retries = clock, -1 // a single failure would give the message up
	})
	e.srv.FailGetMe(10, 0, "") // unreachable
	e.run(t)
	e.srv.Wait("getMe", 1)
	waitFor(t, "not connected", func() bool { return e.ch.Ready() != nil && strings.Contains(e.logs.String(), "not connected") })
	sent := e.send("42", bot.Reply{Text: "call 112", Urgent: true})
	for i := 2; i <= 11; i++ { // ten minutes or more without Telegram
		// More than the longest wait (a minute + 20%), again until Run has asked: an advance
		// made before Run set its timer would be lost on a busy machine.
		waitFor(t, "getMe again", func() bool {
			if len(e.srv.Calls("getMe")) >= i {
				return true
			}
			clock.Advance(73 * time.Second)
			time.Sleep(time.Millisecond)
			return len(e.srv.Calls("getMe")) >= i
		})
	}
	select {
	case err := <-sent:
		if err != nil {
			t.Fatalf("Send: %v; want the message sent once Telegram is back", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the message was not sent once Telegram was back")
	}
	if got := e.srv.Texts(42); len(got) != 1 || got[0] != "call 112" {
		t.Errorf("sent %q; want the message, once", got)
	}
	var methods []string
	for _, c := range e.srv.Calls("") {
		methods = append(methods, c.Method)
	}
	if got := strings.Join(methods, " "); !strings.HasPrefix(got, strings.Repeat("getMe ", 11)) {
		t.Errorf("calls %s; want the message sent after the eleventh getMe, the first answered", got)
	}
	if n := e.metric(t, "faros_telegram_sends_given_up_total", "reason", "retries_exhausted"); n != 0 {
		t.Errorf("%v messages given up; want none", n)
	}
	if err := e.ch.Ready(); err != nil {
		t.Errorf("Ready: %v; want nil", err)
	}
}

// A refused token stops nothing: Run logs one ERROR naming where the token is set, asks again
// every minute, is not ready meanwhile, and connects once the token is accepted.
func TestRefusedToken(t *testing.T) {
	clock := newClock(false)
	e := start(t, &handler{}, func(cfg *telegram.Config) {
		fast(cfg)
		cfg.Clock, cfg.TokenName = clock, "FAROS_TELEGRAM_TOKEN"
	})
	e.srv.FailGetMe(3, 401, "Unauthorized")
	e.run(t)
	const want = "not connected: the bot token was refused (401 Unauthorized): check FAROS_TELEGRAM_TOKEN"
	waitFor(t, "refused", func() bool { err := e.ch.Ready(); return err != nil && err.Error() == want })
	for i := 2; i <= 4; i++ {
		// Run sets its timer just after it marks itself not ready: wait for it.
		waitFor(t, "Run's wait", func() bool { return len(clock.Pending()) > 0 })
		pending := clock.Pending()
		if len(pending) != 1 {
			t.Fatalf("pending waits %v; want Run's", pending)
		}
		if d := pending[0].Sub(clock.Now()); d < 48*time.Second || d > 72*time.Second {
			t.Errorf("Run waits %v after a refusal; want a minute ± 20%%", d)
		}
		clock.Advance(pending[0].Sub(clock.Now()))
		e.srv.Wait("getMe", i)
	}
	waitFor(t, "connected", func() bool { return e.ch.Ready() == nil })
	logs := e.logs.String()
	if n := strings.Count(logs, "level=ERROR"); n != 1 || !strings.Contains(logs, "check FAROS_TELEGRAM_TOKEN") {
		t.Errorf("%d errors logged; want one naming FAROS_TELEGRAM_TOKEN:\n%s", n, logs)
	}
}

// In webhook mode, Ready waits for the webhook too, which is set once getMe succeeded.
func TestWebhookReadyOnceSet(t *testing.T) {
	clock := newClock(true)
	e := start(t, &handler{}, func(cfg *telegram.Config) {
		fast(cfg)
		cfg.Mode, cfg.WebhookURL, cfg.WebhookSecret = "webhook", "https://faros.example/telegram", secret
		cfg.Clock = clock
	})
	e.srv.FailGetMe(2, 502, "Bad Gateway")
	e.run(t)
	waitFor(t, "connected", func() bool { return e.ch.Ready() == nil })
	var methods []string
	for _, c := range e.srv.Calls("") {
		methods = append(methods, c.Method+" "+strconv.Itoa(c.Status))
	}
	if got, want := strings.Join(methods, ", "), "getMe 502, getMe 502, getMe 200, setWebhook 200"; got != want {
		t.Errorf("calls %s; want %s", got, want)
	}
}

// A send that fails on the network has Run check Telegram: when getMe fails too, the message
// waits for Telegram instead of using up its retries.
func TestAFailedSendChecksTelegram(t *testing.T) {
	e := start(t, &handler{}, func(cfg *telegram.Config) {
		fast(cfg)
		cfg.RetryBase, cfg.Retries = 10*time.Millisecond, 1
	})
	e.run(t)
	waitFor(t, "connected", func() bool { return e.ch.Ready() == nil })
	e.srv.FailSend(42, 1, 502, "Bad Gateway")
	e.srv.FailGetMe(5, 502, "Bad Gateway")
	if err := e.ch.Send(context.Background(), "42", []bot.Reply{{Text: "a"}}); err != nil {
		t.Fatalf("Send: %v; want it sent once Telegram is back", err)
	}
	if n := len(e.srv.Calls("getMe")); n != 7 {
		t.Errorf("%d getMe calls; want 7: at start, then 5 failed and one that succeeded", n)
	}
}
