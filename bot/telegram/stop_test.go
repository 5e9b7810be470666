package telegram_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/telegram/telegramtest"
)

// New starts nothing: what is queued waits until Deliver runs.
func TestNothingIsSentBeforeDeliver(t *testing.T) {
	srv := telegramtest.New(t)
	ch, err := telegram.New(telegram.Config{Token: token, Endpoint: srv.URL(), Logger: slog.New(slog.DiscardHandler),
		PerChat: 1, PerSecond: 1000}, &handler{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ch.Send(ctx, "42", []bot.Reply{{Text: "waits"}}); err == nil {
		t.Fatal("Send with its context done reported the message sent")
	}
	if n := len(srv.Calls("sendMessage")); n != 0 {
		t.Fatalf("%d messages sent before Deliver; want none", n)
	}
	delivered := make(chan error, 1)
	go func() { delivered <- ch.Deliver(context.Background()) }()
	srv.Wait("sendMessage", 1)
	if err := ch.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-delivered; err != nil {
		t.Errorf("Deliver: %v", err)
	}
}

// Stop cuts off, once its context is done, an update still being handled, and Run returns.
func TestStopCutsOffWhenItsTimeRunsOut(t *testing.T) {
	h := newHeldHandler()
	e := start(t, h, fast)
	ran := make(chan error, 1)
	go func() { ran <- e.ch.Run(context.Background()) }()
	e.srv.QueueUpdate(telegramtest.Text(42, "help"))
	<-h.entered

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.ch.Stop(ctx) // returns once the handler gave up
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
	if !strings.Contains(e.logs.String(), "handle update") {
		t.Errorf("logs %q; want the update that was cut off", e.logs)
	}
}

// After Stop, an update posted to the webhook is refused with 503 and Retry-After, for
// Telegram to deliver it again (to an instance that runs).
func TestWebhookRefusesUpdatesOnceStopped(t *testing.T) {
	h := &handler{}
	e := webhookEnv(t, h)
	e.ch.Stop(context.Background())
	body := `{"update_id": 7, "message": {"message_id": 1, "date": 1, "text": "hi",
		"from": {"id": 42, "first_name": "Maria"}, "chat": {"id": 42, "type": "private"}}}`
	r := httptest.NewRequest("POST", "/telegram", strings.NewReader(body))
	r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	w := httptest.NewRecorder()
	e.ch.ServeHTTP(w, r)
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("got %d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if n := len(h.messages()); n != 0 {
		t.Errorf("%d updates handled after Stop; want none", n)
	}
}
