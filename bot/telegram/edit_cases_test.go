package telegram_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
)

// When an answer must not replace the question pressed, it comes as a new message.

// TestAnOldQuestionsButtonIsAnsweredBelow: a press under a message that is no longer the
// latest of the chat (the person wrote since, and was asked again), or under what a question
// showed before it was replaced, is answered by a new message: what the person scrolled past
// is not rewritten. A press under the latest question still replaces it.
func TestAnOldQuestionsButtonIsAnsweredBelow(t *testing.T) {
	steps := map[string][]bot.Reply{
		"/start": {question("Q1")},
		"hm":     {question("Q1")},
		"Q1/yes": {question("Q2")},
		"Q2/yes": {question("Q3")},
	}
	e, _ := pressEnv(t, script(steps))
	e.post(t, e.srv.Say(42, "/start"))
	e.waitScreen(t, 42, "/start", "Q1")
	e.post(t, e.srv.Say(42, "hm"))
	e.waitScreen(t, 42, "/start", "Q1", "hm", "Q1")

	e.post(t, e.srv.Press(42, 2, "Q1/yes")) // the first Q1, above what came since
	e.waitScreen(t, 42, "/start", "Q1", "hm", "Q1", "Q2")
	stale := e.srv.Press(42, 5, "Q2/yes") // pressed under Q2, arrives after Q2 was replaced
	e.post(t, e.srv.Press(42, 5, "Q2/yes"))
	e.waitScreen(t, 42, "/start", "Q1", "hm", "Q1", "Q3")
	e.post(t, stale)
	e.waitScreen(t, 42, "/start", "Q1", "hm", "Q1", "Q3", "Q3")
	if n := len(e.srv.Calls("editMessageText")); n != 1 {
		t.Errorf("got %d edits; want 1, of the latest question", n)
	}
}

// TestAnAnswerGoesBelowWhatCameSinceThePress: an answer waiting its turn to replace the question
// goes as a new message if the person wrote something meanwhile.
func TestAnAnswerGoesBelowWhatCameSinceThePress(t *testing.T) {
	clock := newClock(false) // the chat's gap after the question never passes until told
	steps := map[string][]bot.Reply{"/start": {question("Q1")}, "Q1/yes": {question("Q2")}}
	e, _ := pressEnv(t, script(steps), func(cfg *telegram.Config) { cfg.PerChat, cfg.Clock = time.Second, clock })
	e.post(t, e.srv.Say(42, "/start"))
	e.waitScreen(t, 42, "/start", "Q1")
	e.post(t, e.srv.Press(42, 2, "Q1/yes"))
	e.post(t, e.srv.Say(42, "wait"))
	clock.Advance(time.Second)
	e.waitScreen(t, 42, "/start", "Q1", "wait", "Q2")
	if n := len(e.srv.Calls("editMessageText")); n != 0 {
		t.Errorf("got %d edits; want none", n)
	}
}

// TestWhatIsNeverAnsweredInPlace: an urgent answer, the last word after a wipe (Forget), a
// counsellor's messages (Ring, Tag), and the answer to a press under a message older than an
// hour or without the keyboard pressed, all come as new messages.
func TestWhatIsNeverAnsweredInPlace(t *testing.T) {
	q := question("Q2")
	tests := []struct {
		name   string
		answer bot.Reply
		press  func(*tgbotapi.Message) // changes the pressed message, as the press shows it
	}{
		{"urgent", bot.Reply{Text: "112", Urgent: true}, nil},
		{"forget", bot.Reply{Text: "bye", Forget: true}, nil},
		{"ring", bot.Reply{Text: "case", Ring: true}, nil},
		{"tag", bot.Reply{Text: "case", Tag: "c1"}, nil},
		{"sent over an hour ago", q, func(m *tgbotapi.Message) { m.Date -= 3660 }},
		{"no longer shown (Telegram gives no date)", q, func(m *tgbotapi.Message) { m.Date = 0 }},
		{"without a keyboard", q, func(m *tgbotapi.Message) { m.ReplyMarkup = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := map[string][]bot.Reply{"/start": {question("Q1")}, "Q1/yes": {tt.answer}}
			e, _ := pressEnv(t, script(steps))
			e.post(t, e.srv.Say(42, "/start"))
			e.waitScreen(t, 42, "/start", "Q1")
			press := e.srv.Press(42, 2, "Q1/yes")
			if tt.press != nil {
				tt.press(press.CallbackQuery.Message)
			}
			e.post(t, press)
			e.waitScreen(t, 42, "/start", "Q1", tt.answer.Text)
			if n := len(e.srv.Calls("editMessageText")); n != 0 {
				t.Errorf("got %d edits; want none", n)
			}
		})
	}
}

// TestTwoPressesAtOnceReplaceTheQuestionOnce: two presses under one question, handled at the
// same time, are both answered, each once: one in place of the question and the other below
// it; or both below, when the other answer went first (then something came after the
// question). Never two in place.
func TestTwoPressesAtOnceReplaceTheQuestionOnce(t *testing.T) {
	inPlace := 0
	for i := range 20 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var both sync.WaitGroup // each press is answered once both are being handled
			both.Add(2)
			h := &handler{reply: func(m bot.Message) ([]bot.Reply, error) {
				if m.Button == "" {
					return []bot.Reply{question("Q1")}, nil
				}
				both.Done()
				both.Wait()
				return []bot.Reply{question("after " + m.Button)}, nil
			}}
			e, _ := pressEnv(t, h)
			e.post(t, e.srv.Say(42, "/start"))
			e.waitScreen(t, 42, "/start", "Q1")
			yes, no := e.srv.Press(42, 2, "Q1/yes"), e.srv.Press(42, 2, "Q1/no")
			var posting sync.WaitGroup
			posting.Go(func() { e.post(t, yes) })
			posting.Go(func() { e.post(t, no) })
			posting.Wait()
			answered := func() int { return len(e.srv.Calls("editMessageText")) + len(e.srv.Calls("sendMessage")) - 1 }
			waitFor(t, "both answers", func() bool { return answered() == 2 })
			e.waitScreen(t, 42, e.srv.Screen(42)...)
			edits := len(e.srv.Calls("editMessageText"))
			inPlace += edits
			got := e.srv.Screen(42)
			want := map[int][]string{1: {"/start", "after Q1/no", "after Q1/yes"}, 0: {"/start", "Q1", "after Q1/no", "after Q1/yes"}}[edits]
			if slices.Sort(got[1:]); !slices.Equal(got, want) || answered() != 2 { // in any order
				t.Errorf("%d in place; the phone shows %q; want %q", edits, got, want)
			}
		})
	}
	if inPlace == 0 {
		t.Error("no press of the 20 was answered in place")
	}
}
