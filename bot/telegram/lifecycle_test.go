package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/internal/redistest"
)

// heldHandler is a bot.Handler that, like bot.Handle once it has marked an update seen, must
// finish what it began: it tells entered, waits for release, and then fails if its context
// ended meanwhile (the reply of an update seen is then lost).
type heldHandler struct {
	entered chan struct{}
	release chan struct{}
}

func newHeldHandler() *heldHandler {
	return &heldHandler{entered: make(chan struct{}, 10), release: make(chan struct{})}
}

func (h *heldHandler) Handle(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
	h.entered <- struct{}{}
	select {
	case <-h.release:
	case <-ctx.Done():
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return []bot.Reply{{Text: "answer to " + m.Text}}, nil
}

// An update taken by polling is handled to the end, its reply sent, when the service stops
// (its context is cancelled, as SIGTERM does) while the update is being handled; Close waits
// for it. Before, the update's context was the one cancelled, and its reply was lost.
func TestStopFinishesAPolledUpdate(t *testing.T) {
	h := newHeldHandler()
	e := start(t, h, fast)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- e.ch.Run(ctx) }()
	e.srv.QueueUpdate(telegramtest.Text(42, "help"))
	<-h.entered

	cancel() // SIGTERM
	close(h.release)
	closeCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := e.ch.Close(closeCtx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
	if got := e.srv.Texts(42); len(got) != 1 || got[0] != "answer to help" {
		t.Errorf("sent %q; want the answer to the update being handled at the stop", got)
	}
}

// A button pressed in webhook mode is handled to the end when the service stops while it is
// being handled: Close waits for it, its callback query is answered in the webhook's 200, and
// its reply is sent.
func TestStopFinishesAWebhookUpdate(t *testing.T) {
	h := newHeldHandler()
	e := webhookEnv(t, h)
	body, err := json.Marshal(telegramtest.Callback(42, "help"))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	served := make(chan struct{})
	go func() {
		defer close(served)
		r := httptest.NewRequest("POST", "/telegram", bytes.NewReader(body))
		r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		e.ch.ServeHTTP(w, r)
	}()
	<-h.entered

	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		closed <- e.ch.Close(ctx) // SIGTERM
	}()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while an update was being handled", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(h.release)
	<-served
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if w.Code != 200 {
		t.Fatalf("the webhook answered %d; want 200", w.Code)
	}
	e.srv.WebhookAnswer(w.Result())
	if answers := e.srv.Calls("answerCallbackQuery"); len(answers) != 1 || !answers[0].Webhook {
		t.Errorf("got answers %+v; want one, in the webhook's answer", answers)
	}
	if got := e.srv.Texts(42); len(got) != 1 || got[0] != "answer to " {
		t.Errorf("sent %q; want the answer to the button being handled at the stop", got)
	}
}

// A message queued after Close (a late reply, a counsellor's words) is not deleted from the
// outbox: it stays there, and another instance sends it once the lease lapses.
func TestMessagesAfterCloseStayInTheOutbox(t *testing.T) {
	r := redistest.New(t)
	a := start(t, &handler{}, func(cfg *telegram.Config) { fast(cfg); cfg.Outbox = leasedOutbox(r) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.ch.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := a.ch.Send(ctx, "42", []bot.Reply{{Text: "late"}}); !errors.Is(err, telegram.ErrClosed) {
		t.Fatalf("Send after Close: got %v; want ErrClosed", err)
	}
	if n := r.Client.HLen(ctx, r.Prefix+":{outbox:telegram}:items").Val(); n != 1 {
		t.Fatalf("the outbox holds %d messages; want the one queued after Close", n)
	}
	if strings.Contains(a.logs.String(), "late") {
		t.Errorf("the log holds the text: %s", a.logs)
	}

	b := start(t, &handler{}, func(cfg *telegram.Config) { fast(cfg); cfg.Outbox = leasedOutbox(r) })
	b.srv.Wait("sendMessage", 1)
	if got := b.srv.Texts(42); len(got) != 1 || got[0] != "late" {
		t.Errorf("the other instance sent %q; want the message queued after Close", got)
	}
}
