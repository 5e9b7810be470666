package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
)

// Answering a pressed button in place (Config.EditAnswers): the tests talk to the channel as
// Telegram does, through its webhook, and read the chat as the person's phone shows it
// (telegramtest's Screen). Say and Press number the person's messages and show the pressed
// message as Telegram does.

// question is a reply with two buttons whose data name it: "Q1/yes", "Q1/no".
func question(name string) bot.Reply {
	return bot.Reply{Text: name, Buttons: []bot.Button{{Data: name + "/yes", Label: "Yes"}, {Data: name + "/no", Label: "No"}}}
}

// script is a handler that answers a text or a button's data with the replies listed for it,
// anything else with none.
func script(replies map[string][]bot.Reply) *handler {
	return &handler{reply: func(m bot.Message) ([]bot.Reply, error) {
		if m.Button != "" {
			return replies[m.Button], nil
		}
		return replies[m.Text], nil
	}}
}

// pressEnv is a webhook Channel that answers presses in place, with its Sent calls logged;
// more changes its config further.
func pressEnv(t *testing.T, h bot.Handler, more ...func(*telegram.Config)) (*env, *sentLog) {
	t.Helper()
	log := &sentLog{}
	e := start(t, h, func(cfg *telegram.Config) {
		fast(cfg)
		cfg.Mode, cfg.WebhookURL, cfg.WebhookSecret = "webhook", "https://faros.example/telegram", secret
		cfg.EditAnswers = true
		cfg.Sent = log.sent
		for _, f := range more {
			f(cfg)
		}
	})
	return e, log
}

// updateIDs numbers the updates post hands over, as Telegram does.
var updateIDs atomic.Int64

// post hands u to the webhook as Telegram does, and returns once it is handled and its
// replies queued.
func (e *env) post(t *testing.T, u tgbotapi.Update) {
	t.Helper()
	if u.UpdateID == 0 {
		u.UpdateID = int(updateIDs.Add(1))
	}
	body, err := json.Marshal(u)
	if err != nil {
		t.Error(err)
		return
	}
	r := httptest.NewRequest(http.MethodPost, "/telegram", bytes.NewReader(body))
	r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	w := httptest.NewRecorder()
	e.ch.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("webhook answered %d; want 200", w.Code)
	}
}

// waitScreen waits up to 5 seconds for the chat to show want and for the channel to be done
// with what it sent (it learns a message's id once Telegram answers), and fails the test if
// they are not.
func (e *env) waitScreen(t *testing.T, chat int64, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(e.srv.Screen(chat), want) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if diff := cmp.Diff(want, e.srv.Screen(chat)); diff != "" {
		t.Errorf("the phone shows (-want +got):\n%s", diff)
	}
	waitFor(t, "the queue empty", func() bool { return e.metric(t, "faros_telegram_queue_depth") == 0 })
}

// statuses returns the HTTP statuses of the calls of method, in order.
func (e *env) statuses(method string) []int {
	var got []int
	for _, c := range e.srv.Calls(method) {
		got = append(got, c.Status)
	}
	return got
}

// TestAPressedButtonsAnswerReplacesTheQuestion: the answer to a press replaces the question it
// was under, its keyboard too (none takes it away); of several replies, only the first. The
// message keeps its id, which Sent reports again. Without EditAnswers, every reply is a new
// message.
func TestAPressedButtonsAnswerReplacesTheQuestion(t *testing.T) {
	steps := map[string][]bot.Reply{
		"/start": {question("Q1")},
		"Q1/yes": {question("Q2")},
		"Q2/yes": {{Text: "Thank you."}, question("Q3")},
	}
	tests := []struct {
		name       string
		on         bool
		afterOne   []string // the phone after the first press
		wantScreen []string
		wantSent   []string
		wantEdits  int
	}{
		{"in place", true, []string{"/start", "Q2"}, []string{"/start", "Thank you.", "Q3"},
			[]string{"42: 2", "42: 2", "42: 2", "42: 3"}, 2},
		{"off", false, []string{"/start", "Q1", "Q2"}, []string{"/start", "Q1", "Q2", "Thank you.", "Q3"},
			[]string{"42: 2", "42: 3", "42: 4", "42: 5"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, log := pressEnv(t, script(steps), func(cfg *telegram.Config) { cfg.EditAnswers = tt.on })
			e.post(t, e.srv.Say(42, "/start"))
			e.waitScreen(t, 42, "/start", "Q1")
			e.post(t, e.srv.Press(42, 2, "Q1/yes"))
			e.waitScreen(t, 42, tt.afterOne...)
			e.post(t, e.srv.Press(42, len(e.srv.Screen(42)), "Q2/yes")) // the latest question
			e.waitScreen(t, 42, tt.wantScreen...)
			waitFor(t, "every id reported", func() bool { return len(log.calls()) == len(tt.wantSent) })
			if diff := cmp.Diff(tt.wantSent, log.calls()); diff != "" {
				t.Errorf("Sent (-want +got):\n%s", diff)
			}
			edits := e.srv.Calls("editMessageText")
			if len(edits) != tt.wantEdits {
				t.Fatalf("got %d edits; want %d", len(edits), tt.wantEdits)
			}
			if !tt.on {
				return
			}
			want := []map[string]string{{"chat_id": "42", "message_id": "2", "text": "Q2",
				"reply_markup": `{"inline_keyboard":[[{"text":"Yes","callback_data":"Q2/yes"}],[{"text":"No","callback_data":"Q2/no"}]]}`},
				{"chat_id": "42", "message_id": "2", "text": "Thank you."}}
			if diff := cmp.Diff(want, []map[string]string{edits[0].Params, edits[1].Params}); diff != "" {
				t.Errorf("editMessageText params (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAFailedEditIsSentAsANewMessage: whatever Telegram refuses an edit for, the answer comes
// as a new message, once, and nothing is given up.
func TestAFailedEditIsSentAsANewMessage(t *testing.T) {
	tests := []struct {
		name   string
		answer bot.Reply                    // the answer to "Q1/yes"
		before func(t *testing.T, e *env)   // before the press
		during func(t *testing.T, e *env)   // while the edit is on its way
		screen func(answer string) []string // what the phone shows at the end
	}{{
		name:   "not found",
		answer: question("Q2"),
		before: func(_ *testing.T, e *env) { e.srv.FailEdit(42, 1, 400, "Bad Request: message to edit not found") },
		screen: func(a string) []string { return []string{"/start", "Q1", a} },
	}, {
		name:   "can't be edited",
		answer: question("Q2"),
		before: func(_ *testing.T, e *env) { e.srv.FailEdit(42, 1, 400, "Bad Request: message can't be edited") },
		screen: func(a string) []string { return []string{"/start", "Q1", a} },
	}, {
		name:   "not modified",
		answer: question("Q1"), // asked again, as it was
		screen: func(a string) []string { return []string{"/start", "Q1", a} },
	}, {
		name:   "deleted meanwhile",
		answer: question("Q2"),
		during: func(t *testing.T, e *env) {
			if err := e.ch.Delete(context.Background(), "42", []string{"2"}); err != nil {
				t.Error(err)
			}
		},
		screen: func(a string) []string { return []string{"/start", a} },
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := map[string][]bot.Reply{"/start": {question("Q1")}, "Q1/yes": {tt.answer}}
			e, log := pressEnv(t, script(steps))
			e.post(t, e.srv.Say(42, "/start"))
			e.waitScreen(t, 42, "/start", "Q1")
			if tt.before != nil {
				tt.before(t, e)
			}
			hold := e.srv.Hold("editMessageText")
			e.post(t, e.srv.Press(42, 2, "Q1/yes"))
			hold.Wait(1)
			if tt.during != nil {
				tt.during(t, e)
			}
			hold.Release()
			e.waitScreen(t, 42, tt.screen(tt.answer.Text)...)
			if diff := cmp.Diff([]int{400}, e.statuses("editMessageText")); diff != "" {
				t.Errorf("edits (-want +got):\n%s", diff)
			}
			if got := e.srv.Texts(42); !slices.Equal(got, []string{"Q1", tt.answer.Text}) {
				t.Errorf("sent %q; want the question, then the answer once", got)
			}
			waitFor(t, "the new message reported", func() bool { return slices.Contains(log.calls(), "42: 3") })
			for _, reason := range []string{"rejected", "retries_exhausted"} {
				if got := e.metric(t, "faros_telegram_sends_given_up_total", "reason", reason); got != 0 {
					t.Errorf("given up (%s): %v", reason, got)
				}
			}
		})
	}
}

// TestAFailedEditWaitsItsTurn: a refused edit was a call like any other; the new message that
// follows waits the chat's gap after it, as a second message would.
func TestAFailedEditWaitsItsTurn(t *testing.T) {
	clock := newClock(true)
	steps := map[string][]bot.Reply{"/start": {question("Q1")}, "Q1/yes": {question("Q2")}}
	e, _ := pressEnv(t, script(steps), func(cfg *telegram.Config) { cfg.PerChat, cfg.Clock = 1100*time.Millisecond, clock })
	e.post(t, e.srv.Say(42, "/start"))
	e.waitScreen(t, 42, "/start", "Q1")
	e.srv.FailEdit(42, 1, 400, "Bad Request: message to edit not found")
	before := len(clock.Waits())
	e.post(t, e.srv.Press(42, 2, "Q1/yes"))
	e.waitScreen(t, 42, "/start", "Q1", "Q2")
	gaps := 0
	for _, w := range clock.Waits()[before:] {
		if w == 1100*time.Millisecond {
			gaps++
		}
	}
	if gaps != 2 {
		t.Errorf("waits %v: %d of the chat's gap; want 2, before the edit and before the new message", clock.Waits()[before:], gaps)
	}
}

// TestEditsArePacedAsMessages: Telegram counts an edit under the same limits as a message sent
// (one a second in a chat); the channel's pacing does too, and the fake, enforcing them,
// refuses nothing.
func TestEditsArePacedAsMessages(t *testing.T) {
	steps := map[string][]bot.Reply{"/start": {question("Q1")}, "Q1/yes": {question("Q2")}}
	e, _ := pressEnv(t, script(steps), func(cfg *telegram.Config) { cfg.PerChat, cfg.PerSecond = 0, 0 }) // the defaults
	e.srv.Limit(30, time.Second)
	e.post(t, e.srv.Say(42, "/start"))
	e.waitScreen(t, 42, "/start", "Q1")
	e.post(t, e.srv.Press(42, 2, "Q1/yes"))
	edit := e.srv.Wait("editMessageText", 1)[0]
	send := e.srv.Calls("sendMessage")[0]
	if gap := edit.Time.Sub(send.Time); gap < time.Second {
		t.Errorf("the edit came %v after the question; want at least a second", gap)
	}
	if n := e.srv.Limited(); n != 0 {
		t.Errorf("the fake Bot API refused %d calls", n)
	}
}
