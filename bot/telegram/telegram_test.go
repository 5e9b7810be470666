package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/telegram/telegramtest"
)

func TestPollingDeliversTextAndButtonsAndSendsReplies(t *testing.T) {
	h := &handler{reply: func(m bot.Message) ([]bot.Reply, error) {
		if m.Button == "yes" {
			return []bot.Reply{{Text: "Thank you."}}, nil
		}
		return []bot.Reply{{Text: "Is it safe to chat now?", Buttons: []bot.Button{
			{Data: "yes", Label: "Yes"}, {Data: "no", Label: "No"}}}}, nil
	}}
	e := start(t, h, fast)
	first := e.srv.QueueUpdate(telegramtest.Text(42, "hello"))
	e.srv.QueueUpdate(telegramtest.Callback(42, "yes"))
	e.run(t)

	sends := e.srv.Wait("sendMessage", 2)
	answers := e.srv.Wait("answerCallbackQuery", 1)

	wantMessages := []bot.Message{
		{Channel: "telegram", ChatID: "42", ID: "1001", MsgID: "1", Text: "hello", Language: "en"},
		{Channel: "telegram", ChatID: "42", ID: "1002", Button: "yes", Language: "en"},
	}
	if first != 1001 {
		t.Fatalf("got update id %d; want 1001", first)
	}
	if diff := cmp.Diff(wantMessages, h.messages()); diff != "" {
		t.Errorf("handled messages (-want +got):\n%s", diff)
	}
	wantParams := []map[string]string{{
		"chat_id":              "42",
		"text":                 "Is it safe to chat now?",
		"protect_content":      "true",
		"disable_notification": "true",
		"reply_markup":         `{"inline_keyboard":[[{"text":"Yes","callback_data":"yes"}],[{"text":"No","callback_data":"no"}]]}`,
	}, {
		"chat_id":              "42",
		"text":                 "Thank you.",
		"protect_content":      "true",
		"disable_notification": "true",
	}}
	var gotParams []map[string]string
	for _, c := range sends {
		gotParams = append(gotParams, c.Params)
	}
	if diff := cmp.Diff(wantParams, gotParams); diff != "" {
		t.Errorf("sendMessage params (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"callback_query_id": "q42"}, answers[0].Params); diff != "" {
		t.Errorf("answerCallbackQuery params (-want +got):\n%s", diff)
	}

	// The next poll confirms both updates, and asks only for what Faros serves.
	polls := e.srv.Wait("getUpdates", 2)
	if got, want := polls[0].Params["allowed_updates"], `["message","edited_message","callback_query"]`; got != want {
		t.Errorf("got allowed_updates %s; want %s", got, want)
	}
	if got, want := polls[0].Params["timeout"], "30"; got != want {
		t.Errorf("got timeout %s; want %s", got, want)
	}
	if got, want := polls[len(polls)-1].Params["offset"], "1003"; got != want {
		t.Errorf("got offset %s; want %s", got, want)
	}
	if n := len(h.messages()); n != 2 {
		t.Errorf("handled %d messages; want each of the 2 once", n)
	}
	if n := len(e.srv.Calls("answerCallbackQuery")); n != 1 {
		t.Errorf("got %d answerCallbackQuery calls; want 1", n)
	}
}

func TestPollingKeepsEachChatInOrderAndChatsInParallel(t *testing.T) {
	secondChat := make(chan struct{})
	var mu sync.Mutex
	var order []string
	sawSecond := false
	h := &handler{reply: func(m bot.Message) ([]bot.Reply, error) {
		switch m.ChatID {
		case "1":
			if m.Text == "a" {
				// Chat 1 waits for chat 2: with chats handled one after the other this would time out.
				select {
				case <-secondChat:
					mu.Lock()
					sawSecond = true
					mu.Unlock()
				case <-time.After(2 * time.Second):
				}
			}
			mu.Lock()
			order = append(order, m.Text)
			mu.Unlock()
		case "2":
			close(secondChat)
		}
		return nil, nil
	}}
	e := start(t, h, fast)
	for _, u := range []tgbotapi.Update{telegramtest.Text(1, "a"), telegramtest.Text(2, "b"),
		telegramtest.Text(1, "c"), telegramtest.Text(1, "d")} {
		e.srv.QueueUpdate(u)
	}
	e.run(t)
	waitFor(t, "4 messages", func() bool { return len(h.messages()) == 4 })

	mu.Lock()
	defer mu.Unlock()
	if !sawSecond {
		t.Errorf("chat 2 was not handled while chat 1 was busy")
	}
	if diff := cmp.Diff([]string{"a", "c", "d"}, order); diff != "" {
		t.Errorf("chat 1's order (-want +got):\n%s", diff)
	}
}

func TestPollingIgnoresGroups(t *testing.T) {
	h := &handler{}
	e := start(t, h, fast)
	group := telegramtest.Text(-100, "hi all")
	group.Message.Chat.Type = "group"
	e.srv.QueueUpdate(group)
	e.srv.QueueUpdate(telegramtest.Text(42, "hello"))
	e.run(t)

	waitFor(t, "the private message", func() bool { return len(h.messages()) > 0 })
	e.srv.Wait("getUpdates", 2) // the batch is done
	if got := h.messages(); len(got) != 1 || got[0].ChatID != "42" {
		t.Errorf("handled %+v; want only the private message", got)
	}
}

const secret = "s3cret-Token_1"

func webhookEnv(t *testing.T, h bot.Handler) *env {
	return start(t, h, func(cfg *telegram.Config) {
		fast(cfg)
		cfg.Mode = "webhook"
		cfg.WebhookURL = "https://faros.example/telegram"
		cfg.WebhookSecret = secret
	})
}

func TestWebhookRegistersWithSecret(t *testing.T) {
	e := webhookEnv(t, &handler{})
	e.run(t)
	calls := e.srv.Wait("setWebhook", 1)
	want := map[string]string{
		"url":             "https://faros.example/telegram",
		"secret_token":    secret,
		"allowed_updates": `["message","edited_message","callback_query"]`,
	}
	if diff := cmp.Diff(want, calls[0].Params); diff != "" {
		t.Errorf("setWebhook params (-want +got):\n%s", diff)
	}
}

func TestWebhookServeHTTP(t *testing.T) {
	text := `{"update_id": 7, "message": {"message_id": 1, "date": 1, "text": "hi",
		"from": {"id": 42, "first_name": "Maria", "language_code": "fr"}, "chat": {"id": 42, "type": "private"}}}`
	group := strings.Replace(text, `"private"`, `"group"`, 1)
	tests := []struct {
		name        string
		method      string
		secret      string // "" sends no header
		body        string
		handlerErr  error
		wantStatus  int
		wantHandled int
	}{
		{"the right secret", "POST", secret, text, nil, 200, 1},
		{"no secret", "POST", "", text, nil, 401, 0},
		{"a wrong secret", "POST", "s3cret-Token_2", text, nil, 401, 0},
		{"a prefix of the secret", "POST", secret[:5], text, nil, 401, 0},
		{"not a POST", "GET", secret, "", nil, 405, 0},
		{"malformed JSON", "POST", secret, `{"update_id": `, nil, 400, 0},
		{"a body over 1 MiB", "POST", secret, `{"pad": "` + strings.Repeat("x", 1<<20) + `"}`, nil, 413, 0},
		{"a group message", "POST", secret, group, nil, 200, 0},
		{"a duplicate", "POST", secret, text, bot.ErrDuplicate, 200, 1},
		{"a failing handler", "POST", secret, text, errors.New("redis down"), 200, 1},
		{"an overloaded bot: Telegram is to bring it again", "POST", secret, text, bot.ErrOverloaded, 503, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &handler{reply: func(bot.Message) ([]bot.Reply, error) { return nil, tt.handlerErr }}
			e := webhookEnv(t, h)
			r := httptest.NewRequest(tt.method, "/telegram", strings.NewReader(tt.body))
			if tt.secret != "" {
				r.Header.Set("X-Telegram-Bot-Api-Secret-Token", tt.secret)
			}
			w := httptest.NewRecorder()
			e.ch.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Errorf("got status %d; want %d", w.Code, tt.wantStatus)
			}
			if w.Code == 503 && w.Header().Get("Retry-After") == "" {
				t.Error("a 503 without Retry-After")
			}
			got := h.messages()
			if len(got) != tt.wantHandled {
				t.Fatalf("handled %d messages; want %d", len(got), tt.wantHandled)
			}
			want := bot.Message{Channel: "telegram", ChatID: "42", ID: "7", MsgID: "1", Text: "hi", Language: "fr"}
			if tt.wantHandled == 1 && got[0] != want {
				t.Errorf("got message %+v; want %+v", got[0], want)
			}
		})
	}
}

func TestEveryCallbackQueryIsAnsweredOnce(t *testing.T) {
	groupButton := telegramtest.Callback(-100, "yes")
	groupButton.CallbackQuery.Message.Chat.Type = "group"
	tests := []struct {
		name        string
		update      tgbotapi.Update
		deliveries  int
		handlerErr  func(call int) error
		wantHandled int
	}{
		{"handled", telegramtest.Callback(42, "yes"), 1, func(int) error { return nil }, 1},
		{"handling failed", telegramtest.Callback(42, "yes"), 1, func(int) error { return errors.New("boom") }, 1},
		{"delivered twice", telegramtest.Callback(42, "yes"), 2, func(call int) error {
			if call > 1 {
				return bot.ErrDuplicate
			}
			return nil
		}, 2},
		{"in a group", groupButton, 1, func(int) error { return nil }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &handler{}
			h.reply = func(bot.Message) ([]bot.Reply, error) { return nil, tt.handlerErr(len(h.messages())) }
			e := webhookEnv(t, h)
			tt.update.UpdateID = 5
			body, err := json.Marshal(tt.update)
			if err != nil {
				t.Fatal(err)
			}
			for range tt.deliveries {
				r := httptest.NewRequest("POST", "/telegram", bytes.NewReader(body))
				r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
				w := httptest.NewRecorder()
				e.ch.ServeHTTP(w, r)
				e.srv.WebhookAnswer(w.Result())
			}
			if got := len(h.messages()); got != tt.wantHandled {
				t.Errorf("handled %d times; want %d", got, tt.wantHandled)
			}
			answers := e.srv.Calls("answerCallbackQuery")
			if len(answers) != 1 || answers[0].Params["callback_query_id"] != tt.update.CallbackQuery.ID {
				t.Errorf("got answers %+v; want one for %s", answers, tt.update.CallbackQuery.ID)
			}
			if len(answers) == 1 && !answers[0].Webhook {
				t.Error("the callback query was answered by a request of its own; want the webhook's answer")
			}
		})
	}
}

func TestSendSplitsLongTexts(t *testing.T) {
	e := start(t, &handler{}, fast)
	long := strings.Repeat("Ναι, είσαι ασφαλής εδώ. ", 200) // 4,800 UTF-16 units
	err := e.ch.Send(context.Background(), "42", []bot.Reply{{Text: long, Buttons: []bot.Button{{Data: "ok", Label: "OK"}}}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	calls := e.srv.Calls("sendMessage")
	if len(calls) != 2 {
		t.Fatalf("got %d messages; want 2", len(calls))
	}
	if got := calls[0].Params["text"] + " " + calls[1].Params["text"]; got != long {
		t.Errorf("the parts do not make up the text")
	}
	if _, ok := calls[0].Params["reply_markup"]; ok {
		t.Errorf("the first part has buttons; want them on the last")
	}
	var markup tgbotapi.InlineKeyboardMarkup
	if err := calls[1].JSON("reply_markup", &markup); err != nil || len(markup.InlineKeyboard) != 1 {
		t.Errorf("got reply_markup %q on the last part; want the one button", calls[1].Params["reply_markup"])
	}
}

func TestUrgentRepliesGoFirst(t *testing.T) {
	clock := newClock(false)
	e := start(t, &handler{}, func(cfg *telegram.Config) {
		cfg.Clock = clock
		cfg.PerSecond = 1 // one send a second overall: the others queue up
	})
	ctx := context.Background()
	if err := e.ch.Send(ctx, "1", []bot.Reply{{Text: "a"}}); err != nil {
		t.Fatal(err)
	}
	var results []<-chan error
	for i, r := range []struct{ chat, text string }{{"2", "b"}, {"3", "c"}, {"4", "urgent"}} {
		results = append(results, e.send(r.chat, bot.Reply{Text: r.text, Urgent: r.text == "urgent"}))
		waitFor(t, "the reply queued", func() bool { return e.metric(t, "faros_telegram_queue_depth") == float64(i+1) })
	}
	for n := 2; n <= 4; n++ {
		clock.Advance(time.Second)
		e.srv.Wait("sendMessage", n)
	}
	var got []string
	for _, c := range e.srv.Calls("sendMessage") {
		got = append(got, c.Params["text"])
	}
	if diff := cmp.Diff([]string{"a", "urgent", "b", "c"}, got); diff != "" {
		t.Errorf("order of sends (-want +got):\n%s", diff)
	}
	for _, r := range results {
		if err := <-r; err != nil {
			t.Errorf("Send: %v", err)
		}
	}
}

func TestPacingHoldsAgainstTelegramsLimits(t *testing.T) {
	e := start(t, &handler{}, func(cfg *telegram.Config) {
		cfg.PerChat = 100 * time.Millisecond
		cfg.PerSecond = 50
	})
	// The fake refuses a chat's message sooner than half the gap, which leaves room for the
	// network's jitter; TestQueueOrderAndPacing checks the gaps exactly.
	e.srv.Limit(50, 50*time.Millisecond)
	var results []<-chan error
	for _, chat := range []string{"1", "2", "3"} {
		results = append(results, e.send(chat, bot.Reply{Text: "x"}, bot.Reply{Text: "y"}, bot.Reply{Text: "z"}))
	}
	for _, r := range results {
		if err := <-r; err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	calls := e.srv.Calls("sendMessage")
	if len(calls) != 9 {
		t.Errorf("got %d calls; want 9, none refused", len(calls))
	}
	last := map[string]time.Time{}
	for _, c := range calls {
		chat := c.Params["chat_id"]
		if prev, ok := last[chat]; ok && c.Time.Sub(prev) < 50*time.Millisecond {
			t.Errorf("chat %s: got a gap of %v; want about 100ms", chat, c.Time.Sub(prev))
		}
		last[chat] = c.Time
	}
	for _, chat := range []int64{1, 2, 3} {
		if diff := cmp.Diff([]string{"x", "y", "z"}, e.srv.Texts(chat)); diff != "" {
			t.Errorf("chat %d (-want +got):\n%s", chat, diff)
		}
	}
}

func TestA429DelaysThatChatByRetryAfter(t *testing.T) {
	clock := newClock(false)
	e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock, cfg.PerChat = clock, time.Second })
	e.srv.Fail429(42, 1, 3)
	result := e.send("42", bot.Reply{Text: "one"}, bot.Reply{Text: "two"})

	// Each step: the queue waits for exactly the deadline given, and sends when it comes.
	for i, want := range []time.Time{t0.Add(3 * time.Second), t0.Add(4 * time.Second)} {
		e.srv.Wait("sendMessage", i+1)
		waitFor(t, "the queue to wait", func() bool { return len(clock.Pending()) > 0 })
		if got := clock.Pending(); !got[0].Equal(want) {
			t.Fatalf("step %d: the queue waits until %v; want %v", i+1, got[0].Sub(t0), want.Sub(t0))
		}
		clock.Advance(want.Sub(clock.Now()) - time.Nanosecond)
		if n := len(clock.Pending()); n == 0 {
			t.Fatalf("step %d: the wait ended a nanosecond early", i+1)
		}
		clock.Advance(time.Nanosecond)
	}
	e.srv.Wait("sendMessage", 3)
	if err := <-result; err != nil {
		t.Fatalf("Send: %v", err)
	}

	var got []string
	for _, c := range e.srv.Calls("sendMessage") {
		got = append(got, c.Params["text"]+" "+http.StatusText(c.Status))
	}
	want := []string{"one Too Many Requests", "one OK", "two OK"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if got := e.metric(t, "faros_telegram_429_total"); got != 1 {
		t.Errorf("got %v 429s counted; want 1", got)
	}
}

func TestSendErrors(t *testing.T) {
	const chat = 987654321 // must not show in the logs
	tests := []struct {
		name       string
		fail       func(*telegramtest.Server)
		wantErr    string // "" for none
		wantCalls  int
		wantWaits  []time.Duration
		wantReason string
	}{{
		name:      "5xx is tried again with backoff",
		fail:      func(s *telegramtest.Server) { s.FailSend(chat, 2, 502, "Bad Gateway") },
		wantCalls: 3,
		wantWaits: []time.Duration{time.Second, 2 * time.Second},
	}, {
		name:       "5xx given up after the retries",
		fail:       func(s *telegramtest.Server) { s.FailSend(chat, 5, 500, "Internal Server Error") },
		wantErr:    "retries_exhausted",
		wantCalls:  4,
		wantWaits:  []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
		wantReason: "retries_exhausted",
	}, {
		name:       "a blocked bot is not tried again",
		fail:       func(s *telegramtest.Server) { s.FailSend(chat, 1, 403, "Forbidden: bot was blocked by the user") },
		wantErr:    "bot was blocked by the user",
		wantCalls:  1,
		wantReason: "blocked",
	}, {
		name:       "an unknown chat is not tried again",
		fail:       func(s *telegramtest.Server) { s.FailSend(chat, 1, 400, "Bad Request: chat not found") },
		wantErr:    "chat not found",
		wantCalls:  1,
		wantReason: "rejected",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock(true)
			e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock, cfg.PerChat = clock, time.Second })
			tt.fail(e.srv)
			err := e.ch.Send(context.Background(), strconv.Itoa(chat), []bot.Reply{{Text: "the private words"}})
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("got error %v; want one with %q", err, tt.wantErr)
			}
			if got := len(e.srv.Calls("sendMessage")); got != tt.wantCalls {
				t.Errorf("got %d calls; want %d", got, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantWaits, clock.Waits()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if tt.wantReason != "" {
				if got := e.metric(t, "faros_telegram_sends_given_up_total", "reason", tt.wantReason); got != 1 {
					t.Errorf("got %v given up for %s; want 1", got, tt.wantReason)
				}
				logs := e.logs.String()
				if !strings.Contains(logs, "reason="+tt.wantReason) || strings.Contains(logs, "private words") || strings.Contains(logs, strconv.Itoa(chat)) {
					t.Errorf("got logs %q; want the reason, without text or chat", logs)
				}
			}
		})
	}
}

func TestTheTokenNeverShows(t *testing.T) {
	check := func(t *testing.T, what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: got no error; want one", what)
		}
		if msg := err.Error(); strings.Contains(msg, token) || !strings.Contains(msg, "<token>") {
			t.Errorf("%s: got %q; want the URL with <token> for the token", what, msg)
		}
	}

	t.Run("getMe", func(t *testing.T) {
		e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock = newClock(false) })
		e.srv.Break()
		e.run(t)
		waitFor(t, "a failed getMe logged", func() bool { return strings.Contains(e.logs.String(), "not connected") })
		check(t, "Ready", e.ch.Ready())
		if !strings.Contains(e.logs.String(), "<token>") {
			t.Errorf("got logs %q; want the failed getMe with <token>", e.logs)
		}
	})
	t.Run("Send", func(t *testing.T) {
		e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock = newClock(true) })
		e.srv.Break()
		err := e.ch.Send(context.Background(), "42", []bot.Reply{{Text: "hi"}})
		check(t, "Send", err)
		if !strings.Contains(e.logs.String(), "<token>") {
			t.Errorf("got logs %q; want the failed send with <token>", e.logs)
		}
	})
	t.Run("Wipe", func(t *testing.T) {
		e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock = newClock(true) })
		e.srv.Break()
		err := e.ch.Wipe(context.Background(), "42", []string{"1", "2"})
		check(t, "Wipe", err)
		if !strings.Contains(e.logs.String(), "<token>") {
			t.Errorf("got logs %q; want the failed deletion with <token>", e.logs)
		}
	})
	t.Run("Copy", func(t *testing.T) {
		e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock = newClock(true) })
		e.srv.Break()
		check(t, "Copy", e.ch.Copy(context.Background(), "7", "42", "31", "case-1"))
	})
	t.Run("Delete", func(t *testing.T) {
		e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock = newClock(true) })
		e.srv.Break()
		check(t, "Delete", e.ch.Delete(context.Background(), "42", []string{"1", "2"}))
	})
	t.Run("webhook Run", func(t *testing.T) {
		e := start(t, &handler{}, func(cfg *telegram.Config) {
			fast(cfg)
			cfg.Mode, cfg.WebhookURL, cfg.WebhookSecret = "webhook", "https://faros.example/telegram", secret
			cfg.Clock = newClock(false)
		})
		e.srv.FailGetMe(1, 0, "") // the connection cut
		e.run(t)
		waitFor(t, "a failed getMe logged", func() bool { return strings.Contains(e.logs.String(), "not connected") })
		check(t, "Ready", e.ch.Ready())
	})
	t.Run("polling", func(t *testing.T) {
		e := start(t, &handler{}, nil)
		e.run(t)
		waitFor(t, "connected", func() bool { return e.ch.Ready() == nil })
		e.srv.Break()
		waitFor(t, "a failed poll logged", func() bool { return strings.Contains(e.logs.String(), "get updates") })
		if !strings.Contains(e.logs.String(), "<token>") {
			t.Errorf("got logs %q; want the failed poll with <token>", e.logs)
		}
	})
}

func TestCloseFlushesTheQueue(t *testing.T) {
	clock := newClock(false)
	e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock, cfg.PerChat = clock, time.Second })
	result := e.send("42", bot.Reply{Text: "a"}, bot.Reply{Text: "b"}, bot.Reply{Text: "c"})
	e.srv.Wait("sendMessage", 1)

	closed := make(chan error, 1)
	go func() { closed <- e.ch.Close(context.Background()) }()
	for n := 2; n <= 3; n++ {
		select {
		case err := <-closed:
			t.Fatalf("Close returned %v with %d messages queued; want it to wait", err, 4-n)
		case <-time.After(5 * time.Millisecond):
		}
		clock.Advance(time.Second)
		e.srv.Wait("sendMessage", n)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-result; err != nil {
		t.Errorf("Send: %v", err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, e.srv.Texts(42)); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	if err := e.ch.Send(context.Background(), "42", []bot.Reply{{Text: "d"}}); !errors.Is(err, telegram.ErrClosed) {
		t.Errorf("Send after Close: got %v; want ErrClosed", err)
	}
	if got := e.metric(t, "faros_telegram_sends_given_up_total", "reason", "closed"); got != 1 {
		t.Errorf("got %v given up after Close; want 1", got)
	}
}

func TestCloseGivesUpWhenItRunsOutOfTime(t *testing.T) {
	clock := newClock(false)
	e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock, cfg.PerChat = clock, time.Second })
	result := e.send("42", bot.Reply{Text: "a"}, bot.Reply{Text: "secret b"}, bot.Reply{Text: "secret c"})
	e.srv.Wait("sendMessage", 1)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := e.ch.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: got %v; want the context's deadline", err)
	}
	if err := <-result; err == nil {
		t.Errorf("Send: got no error; want the messages given up")
	}
	if got := e.metric(t, "faros_telegram_sends_given_up_total", "reason", "shutdown"); got != 2 {
		t.Errorf("got %v given up at shutdown; want 2", got)
	}
	if got := e.metric(t, "faros_telegram_queue_depth"); got != 0 {
		t.Errorf("got queue depth %v; want 0", got)
	}
	if logs := e.logs.String(); strings.Count(logs, "reason=shutdown") != 2 || strings.Contains(logs, "secret") {
		t.Errorf("got logs %q; want two shutdown lines without text", logs)
	}
}

func TestNewReportsEveryConfigProblem(t *testing.T) {
	_, err := telegram.New(telegram.Config{Mode: "webhook", WebhookSecret: "no spaces", PerChat: -1,
		Endpoint: "https://example.org/%s"}, nil)
	if err == nil {
		t.Fatal("got no error; want one")
	}
	for _, want := range []string{"no handler", "token is empty", "endpoint", "webhook URL", "webhook secret", "per-chat"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q; want it to mention %q", err, want)
		}
	}
}

func TestMetricsAreRegistered(t *testing.T) {
	e := start(t, &handler{}, fast)
	if err := e.ch.Send(context.Background(), "42", []bot.Reply{{Text: "hi"}}); err != nil {
		t.Fatal(err)
	}
	if got := e.metric(t, "faros_telegram_sends_total"); got != 1 {
		t.Errorf("got %v sends; want 1", got)
	}
	_, err := telegram.New(telegram.Config{Token: token, Endpoint: e.srv.URL(), Registerer: e.reg,
		Logger: slog.New(slog.DiscardHandler)}, &handler{})
	if err == nil {
		t.Errorf("a second Channel on the same registry: got no error; want one")
	}
}

// TestPollingWaitsWhileTheBotIsOverloaded: an update taken by polling is never delivered again,
// so while the bot's intake is full the channel brings it again a second later, and its
// callback query is answered once, when it is handled.
func TestPollingWaitsWhileTheBotIsOverloaded(t *testing.T) {
	refusals := 2
	var mu sync.Mutex
	h := &handler{reply: func(bot.Message) ([]bot.Reply, error) {
		mu.Lock()
		defer mu.Unlock()
		if refusals > 0 {
			refusals--
			return nil, bot.ErrOverloaded
		}
		return []bot.Reply{{Text: "numbers"}}, nil
	}}
	clock := newClock(true)
	e := start(t, h, func(cfg *telegram.Config) { fast(cfg); cfg.Clock = clock })
	e.run(t)
	e.srv.QueueUpdate(telegramtest.Callback(42, "q/yes"))
	e.srv.Wait("sendMessage", 1)
	if got := len(h.messages()); got != 3 {
		t.Errorf("the update was handed over %d times; want 3 (two refusals, then handled)", got)
	}
	if got := len(e.srv.Calls("answerCallbackQuery")); got != 1 {
		t.Errorf("the callback query was answered %d times; want once", got)
	}
	if waits := clock.Waits(); !slices.Contains(waits, time.Second) {
		t.Errorf("waits %v; want a second between tries", waits)
	}
}
