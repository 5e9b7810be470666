package telegram_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/internal/content"
	"github.com/faros-project/faros/internal/redistest"
)

// An answer in place survives an instance that stops, and leaves nothing a wipe misses.

// TestATakenOverEditIsMade: an answer queued to replace the question, left in the outbox by an
// instance that stopped, is made by the instance that takes it over: in place, or as a new
// message if the question is gone meanwhile. Its id is reported there.
func TestATakenOverEditIsMade(t *testing.T) {
	tests := []struct {
		name   string
		gone   bool
		screen []string
		sent   []string
	}{
		{"in place", false, []string{"/start", "Q2"}, []string{"42: 2"}},
		{"the question gone meanwhile", true, []string{"/start", "Q2"}, []string{"42: 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := redistest.New(t)
			steps := map[string][]bot.Reply{"/start": {question("Q1")}, "Q1/yes": {question("Q2")}}
			// The first instance sends the question at once; its clock never moves, so the
			// answer waits for the chat's gap until it stops.
			a, _ := pressEnv(t, script(steps), func(cfg *telegram.Config) {
				cfg.Clock, cfg.PerChat, cfg.Outbox = newClock(false), time.Second, leasedOutbox(r)
			})
			a.post(t, a.srv.Say(42, "/start"))
			a.waitScreen(t, 42, "/start", "Q1")
			a.post(t, a.srv.Press(42, 2, "Q1/yes"))
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := a.ch.Close(ctx); err == nil {
				t.Fatal("Close with no time left reported nothing left unsent")
			}
			if tt.gone {
				if err := a.ch.Delete(t.Context(), "42", []string{"2"}); err != nil {
					t.Fatal(err)
				}
			}

			// The second instance talks to the same Telegram, and knows nothing of the chat.
			b, log := pressEnv(t, &handler{}, func(cfg *telegram.Config) {
				cfg.Endpoint, cfg.Outbox = a.srv.URL(), leasedOutbox(r)
			})
			a.waitScreen(t, 42, tt.screen...)
			waitFor(t, "the id reported", func() bool { return len(log.calls()) == len(tt.sent) })
			if diff := cmp.Diff(tt.sent, log.calls()); diff != "" {
				t.Errorf("Sent by the second instance (-want +got):\n%s", diff)
			}
			wantEdits := []int{200}
			if tt.gone {
				wantEdits = []int{400}
			}
			if diff := cmp.Diff(wantEdits, a.statuses("editMessageText")); diff != "" {
				t.Errorf("edits (-want +got):\n%s", diff)
			}
			if v := b.metric(t, "faros_telegram_outbox_taken_over_total"); v != 1 {
				t.Errorf("taken over: %v; want 1", v)
			}
		})
	}
}

// TestAWipeAfterEditsDeletesEverything: with the real bot, a screening answered in place and
// then wiped leaves nothing on the phone but the last word: every message edited kept its id,
// which the bot remembered when it was sent (and again when edited).
func TestAWipeAfterEditsDeletesEverything(t *testing.T) {
	r := redistest.New(t)
	engine, catalog, err := content.Load(content.Built())
	if err != nil {
		t.Fatal(err)
	}
	wipers := map[string]bot.Wiper{}
	b, err := bot.New(bot.Config{Redis: r.Client, Content: &bot.Content{Engine: engine, Catalog: catalog},
		PseudonymKey: []byte("k"), Prefix: r.Prefix, Wipers: wipers})
	if err != nil {
		t.Fatal(err)
	}
	remember := func(chatID, _ string, msgIDs []string, queued time.Time) { // as cmd/faros does
		if stale, err := b.Remember(context.Background(), "telegram", chatID, msgIDs, queued); err != nil || stale {
			t.Errorf("Remember: stale %v, %v", stale, err)
		}
	}
	e, _ := pressEnv(t, b, func(cfg *telegram.Config) { cfg.Sent = remember })
	wipers["telegram"] = e.ch

	e.post(t, e.srv.Say(42, "/start"))
	for i := range 8 {
		waitFor(t, "the replies sent", func() bool { return e.metric(t, "faros_telegram_queue_depth") == 0 })
		if i == 3 { // a word typed halfway: the question is asked again below it
			e.post(t, e.srv.Say(42, "hello?"))
			waitFor(t, "the replies sent", func() bool { return e.metric(t, "faros_telegram_queue_depth") == 0 })
		}
		latest := len(e.srv.Screen(42)) // nothing was deleted: ids run from 1
		data := choose(e.srv.Keyboard(42, latest))
		if data == "" {
			break
		}
		e.post(t, e.srv.Press(42, latest, data))
	}
	waitFor(t, "the replies sent", func() bool { return e.metric(t, "faros_telegram_queue_depth") == 0 })
	edits := len(e.srv.Calls("editMessageText"))
	if edits < 3 {
		t.Fatalf("%d answers in place; want at least 3 for this test to mean something (the phone shows %q)", edits, e.srv.Screen(42))
	}
	before := len(e.srv.Screen(42))

	e.post(t, e.srv.Say(42, "/wipe"))
	waitFor(t, "the last word sent", func() bool { return e.metric(t, "faros_telegram_queue_depth") == 0 })
	sends := e.srv.Texts(42)
	if diff := cmp.Diff(sends[len(sends)-1:], e.srv.Screen(42)); diff != "" {
		t.Errorf("after the wipe the phone shows (-want +got):\n%s", diff)
	}
	t.Logf("%d answers in place; %d messages on the phone before the wipe, %d sent in all", edits, before, len(sends))
	if err := r.WipedOnly(context.Background()); err != nil {
		t.Errorf("Redis after the wipe: %v", err)
	}
}

// choose returns the button a person walking the screening presses among data: their
// language, safe, the check, no; "" if none of these.
func choose(data []string) string {
	for _, want := range []string{"/en", "/safe", "/check", "/no"} {
		if i := slices.IndexFunc(data, func(d string) bool { return strings.HasSuffix(d, want) }); i >= 0 {
			return data[i]
		}
	}
	return ""
}
