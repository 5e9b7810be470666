package telegram_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
)

// copyMsg calls Copy in the background, since it waits for delivery, and returns its outcome.
func (e *env) copyMsg(toChat, fromChat, msgID, tag string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- e.ch.Copy(context.Background(), toChat, fromChat, msgID, tag) }()
	return done
}

// TestRingLetsTheCounsellorsPhoneSound: a person's messages are sent without notification,
// since someone else may hold the phone; a reply with Ring is not, every part of it.
func TestRingLetsTheCounsellorsPhoneSound(t *testing.T) {
	e := start(t, &handler{}, fast)
	long := strings.Repeat("Νέα υπόθεση. ", 400) // two parts
	err := e.ch.Send(context.Background(), "42", []bot.Reply{{Text: "quiet"}, {Text: long, Ring: true}, {Text: "quiet again"}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	var got []string
	for _, c := range e.srv.Calls("sendMessage") {
		_, quiet := c.Params["disable_notification"]
		got = append(got, "quiet="+strconv.FormatBool(quiet)+" protected="+c.Params["protect_content"])
	}
	want := []string{"quiet=true protected=true", "quiet=false protected=true", "quiet=false protected=true", "quiet=true protected=true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sendMessage calls (-want +got):\n%s", diff)
	}
}

// TestCopyGoesInOrderWithTheChatsMessages: a copy waits its turn in the chat it goes to, rings,
// is protected, and its id is reported with its tag.
func TestCopyGoesInOrderWithTheChatsMessages(t *testing.T) {
	clock := newClock(false)
	log := &sentLog{}
	e := start(t, &handler{}, func(cfg *telegram.Config) {
		cfg.Clock, cfg.PerChat = clock, time.Second
		cfg.Sent = log.sent
	})
	if err := e.ch.Send(context.Background(), "7", []bot.Reply{{Text: "before"}}); err != nil {
		t.Fatal(err)
	}
	copied := e.copyMsg("7", "42", "31", "case-1")
	waitFor(t, "the copy queued", func() bool { return e.metric(t, "faros_telegram_queue_depth") == 1 })
	after := e.send("7", bot.Reply{Text: "after", Tag: "case-1"})
	waitFor(t, "after queued", func() bool { return e.metric(t, "faros_telegram_queue_depth") == 2 })
	if n := len(e.srv.Calls("copyMessage")); n != 0 {
		t.Fatalf("got %d copyMessage calls within a second of the chat's last message; want 0", n)
	}
	for n := 2; n <= 3; n++ {
		clock.Advance(time.Second)
		waitFor(t, "the next message", func() bool { return len(e.srv.Calls("")) == n })
	}
	for _, r := range []<-chan error{copied, after} {
		if err := <-r; err != nil {
			t.Errorf("got %v; want nil", err)
		}
	}

	var methods []string
	for _, c := range e.srv.Calls("") {
		methods = append(methods, c.Method)
	}
	if diff := cmp.Diff([]string{"sendMessage", "copyMessage", "sendMessage"}, methods); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	wantParams := map[string]string{"chat_id": "7", "from_chat_id": "42", "message_id": "31", "protect_content": "true"}
	if diff := cmp.Diff(wantParams, e.srv.Calls("copyMessage")[0].Params); diff != "" {
		t.Errorf("copyMessage params (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"7: 1", "7: 2 #case-1", "7: 3 #case-1"}, log.calls()); diff != "" {
		t.Errorf("Sent calls (-want +got):\n%s", diff)
	}
	if got := e.metric(t, "faros_telegram_sends_total"); got != 3 {
		t.Errorf("got %v sends counted; want 3", got)
	}
}

func TestCopyErrors(t *testing.T) {
	const (
		to   = 987654321 // no id may show in errors or logs
		from = 123456789
		msg  = 4815162
	)
	tests := []struct {
		name          string
		to, from, msg string
		fail          func(*env)
		wantErr       string
		wantCalls     int
		wantWaits     []time.Duration
		wantGivenUp   string
	}{{
		name: "a chat id that is not a number", to: "@ops", from: strconv.Itoa(from), msg: strconv.Itoa(msg),
		wantErr: "chat id is not a number",
	}, {
		name: "a source chat id that is not a number", to: strconv.Itoa(to), from: "x" + strconv.Itoa(from), msg: strconv.Itoa(msg),
		wantErr: "chat id is not a number",
	}, {
		name: "a message id that is not a number", to: strconv.Itoa(to), from: strconv.Itoa(from), msg: strconv.Itoa(msg) + "a",
		wantErr: "message id is not a positive number",
	}, {
		name: "a message id of zero", to: strconv.Itoa(to), from: strconv.Itoa(from), msg: "0",
		wantErr: "message id is not a positive number",
	}, {
		name: "a message id below zero", to: strconv.Itoa(to), from: strconv.Itoa(from), msg: "-" + strconv.Itoa(msg),
		wantErr: "message id is not a positive number",
	}, {
		name: "a message Telegram cannot copy", to: strconv.Itoa(to), from: strconv.Itoa(from), msg: strconv.Itoa(msg),
		fail:      func(e *env) { e.srv.FailCopy(to, 1, 400, "Bad Request: message to copy not found") },
		wantErr:   "telegram: copy: message given up (rejected): Bad Request: message to copy not found",
		wantCalls: 1, wantGivenUp: "rejected",
	}, {
		name: "a 5xx is tried again with backoff", to: strconv.Itoa(to), from: strconv.Itoa(from), msg: strconv.Itoa(msg),
		fail:      func(e *env) { e.srv.FailCopy(to, 2, 502, "Bad Gateway") },
		wantCalls: 3, wantWaits: []time.Duration{time.Second, 2 * time.Second},
	}, {
		name: "a 429 is waited out", to: strconv.Itoa(to), from: strconv.Itoa(from), msg: strconv.Itoa(msg),
		fail: func(e *env) {
			e.srv.FailCopy(to, 1, 429, "Too Many Requests: retry after 1") // without retry_after: a second
		},
		wantCalls: 2, wantWaits: []time.Duration{time.Second},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock(true)
			e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock, cfg.PerChat = clock, time.Second })
			if tt.fail != nil {
				tt.fail(e)
			}
			err := e.ch.Copy(context.Background(), tt.to, tt.from, tt.msg, "case-1")
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("got error %v; want one with %q", err, tt.wantErr)
			}
			if got := len(e.srv.Calls("copyMessage")); got != tt.wantCalls {
				t.Errorf("got %d calls; want %d", got, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantWaits, clock.Waits()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if tt.wantGivenUp != "" {
				if got := e.metric(t, "faros_telegram_sends_given_up_total", "reason", tt.wantGivenUp); got != 1 {
					t.Errorf("got %v given up for %s; want 1", got, tt.wantGivenUp)
				}
			}
			for what, text := range map[string]string{"logs": e.logs.String(), "error": errText(err)} {
				for _, id := range []int{to, from, msg} {
					if strings.Contains(text, strconv.Itoa(id)) {
						t.Errorf("got %s %q; want no chat or message id", what, text)
					}
				}
			}
		})
	}
}

func TestCopyWaitsAsSendDoes(t *testing.T) {
	t.Run("until its context is done, leaving the copy queued", func(t *testing.T) {
		clock := newClock(false)
		e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock, cfg.PerChat = clock, time.Second })
		if err := e.ch.Send(context.Background(), "7", []bot.Reply{{Text: "first"}}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if err := e.ch.Copy(ctx, "7", "42", "31", ""); !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "telegram: copy:") {
			t.Errorf("got %v; want the context's deadline", err)
		}
		clock.Advance(time.Second)
		e.srv.Wait("copyMessage", 1)
	})
	t.Run("after Close", func(t *testing.T) {
		e := start(t, &handler{}, fast)
		if err := e.ch.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := e.ch.Copy(context.Background(), "7", "42", "31", ""); !errors.Is(err, telegram.ErrClosed) {
			t.Errorf("got %v; want ErrClosed", err)
		}
	})
	t.Run("a wipe of the chat it goes to drops it", func(t *testing.T) {
		clock := newClock(false)
		e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock, cfg.PerChat = clock, time.Second })
		if err := e.ch.Send(context.Background(), "7", []bot.Reply{{Text: "first"}}); err != nil {
			t.Fatal(err)
		}
		copied := e.copyMsg("7", "42", "31", "")
		waitFor(t, "the copy queued", func() bool { return e.metric(t, "faros_telegram_queue_depth") == 1 })
		if err := e.ch.Wipe(context.Background(), "7", nil); err != nil {
			t.Fatal(err)
		}
		if err := <-copied; !errors.Is(err, telegram.ErrWiped) || !strings.HasPrefix(err.Error(), "telegram: copy:") {
			t.Errorf("got %v; want ErrWiped", err)
		}
	})
}
