package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/internal/redistest"
)

// sentLog records the calls of Config.Sent as "chat: id,id", followed by " #tag" if there is
// a tag.
type sentLog struct {
	mu  sync.Mutex
	got []string
}

func (l *sentLog) sent(chatID, tag string, msgIDs []string, _ time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	call := chatID + ": " + strings.Join(msgIDs, ",")
	if tag != "" {
		call += " #" + tag
	}
	l.got = append(l.got, call)
}

func (l *sentLog) calls() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
}

func TestSentReportsTheIDOfEveryMessageSent(t *testing.T) {
	long := strings.Repeat("Ναι, είσαι ασφαλής εδώ. ", 200) // two parts
	tests := []struct {
		name    string
		fail    func(*telegramtest.Server)
		replies []bot.Reply
		want    []string
	}{{
		name:    "one id per reply",
		replies: []bot.Reply{{Text: "a"}, {Text: "b", Urgent: true}},
		want:    []string{"42: 1", "42: 2"},
	}, {
		name:    "one id per part of a split text",
		replies: []bot.Reply{{Text: long}, {Text: "b"}},
		want:    []string{"42: 1", "42: 2", "42: 3"},
	}, {
		name:    "not for a reply to forget, nor its parts",
		replies: []bot.Reply{{Text: "a"}, {Text: long, Forget: true}},
		want:    []string{"42: 1"},
	}, {
		name:    "with the tag of its reply, on every part",
		replies: []bot.Reply{{Text: "a", Tag: "case-1"}, {Text: long, Tag: "case-2"}, {Text: "c"}},
		want:    []string{"42: 1 #case-1", "42: 2 #case-2", "42: 3 #case-2", "42: 4"},
	}, {
		name:    "not for a reply to forget, whatever its tag",
		replies: []bot.Reply{{Text: "a", Forget: true, Tag: "case-1"}, {Text: "b", Tag: "case-1"}},
		want:    []string{"42: 2 #case-1"},
	}, {
		name:    "once for a message sent after a 429",
		fail:    func(s *telegramtest.Server) { s.Fail429(42, 1, 1) },
		replies: []bot.Reply{{Text: "a"}},
		want:    []string{"42: 1"},
	}, {
		name:    "not for a message rejected",
		fail:    func(s *telegramtest.Server) { s.FailSend(42, 1, 403, "Forbidden: bot was blocked by the user") },
		replies: []bot.Reply{{Text: "a"}, {Text: "b"}},
		want:    []string{"42: 1"}, // b's: the fake counts only the messages it took
	}, {
		name:    "not for a message given up after the retries",
		fail:    func(s *telegramtest.Server) { s.FailSend(42, 4, 502, "Bad Gateway") },
		replies: []bot.Reply{{Text: "a"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &sentLog{}
			e := start(t, &handler{}, func(cfg *telegram.Config) {
				cfg.Clock = newClock(true)
				cfg.Sent = log.sent
			})
			if tt.fail != nil {
				tt.fail(e.srv)
			}
			_ = e.ch.Send(context.Background(), "42", tt.replies) // Sent is called before Send returns
			if diff := cmp.Diff(tt.want, log.calls()); diff != "" {
				t.Errorf("Sent calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSentIsNotNeeded(t *testing.T) {
	e := start(t, &handler{}, fast)
	if err := e.ch.Send(context.Background(), "42", []bot.Reply{{Text: "a"}}); err != nil {
		t.Errorf("Send without Config.Sent: %v", err)
	}
}

// ids returns n message ids from first on, as the bot passes them to Wipe and as the fake
// records them.
func ids(first, n int) ([]string, []int) {
	var strs []string
	var ints []int
	for id := first; id < first+n; id++ {
		strs = append(strs, strconv.Itoa(id))
		ints = append(ints, id)
	}
	return strs, ints
}

// deleters are the two ways to delete messages, which share the batches, the retries and the
// privacy of errors and logs.
var deleters = []struct {
	name string
	do   func(ch *telegram.Channel, ctx context.Context, chatID string, msgIDs []string) error
}{
	{"Wipe", (*telegram.Channel).Wipe},
	{"Delete", (*telegram.Channel).Delete},
}

func TestWipeAndDeleteDeleteInBatches(t *testing.T) {
	const chat = 987654321 // must not show in logs or errors
	const first = 4815162  // no message id may show either
	all, allInts := ids(first, 250)
	few, fewInts := ids(first, 150)
	tests := []struct {
		name        string
		fail        func(*telegramtest.Server)
		ids         []string
		wantBatches []int // the number of ids of each call, failed ones included
		wantDeleted []int
		wantWaits   []time.Duration
		wantErr     string
	}{{
		name:        "250 ids in three batches, in order",
		ids:         all,
		wantBatches: []int{100, 100, 50},
		wantDeleted: allInts,
	}, {
		name:        "ids that are not positive decimal integers are skipped",
		ids:         []string{"4815162", "x", "", "-3", "0", "1e3", " 5", "0x10", "4815163", "99999999999999999999"},
		wantBatches: []int{2},
		wantDeleted: []int{first, first + 1},
	}, {
		name: "no ids, no call",
	}, {
		name:        "a 429 is waited out and the batch tried again",
		fail:        func(s *telegramtest.Server) { s.Fail429Delete(chat, 1, 7) },
		ids:         few,
		wantBatches: []int{100, 100, 50},
		wantDeleted: fewInts,
		wantWaits:   []time.Duration{7 * time.Second},
	}, {
		name:        "429s beyond the retries give the batch up, not the next",
		fail:        func(s *telegramtest.Server) { s.Fail429Delete(chat, 4, 2) },
		ids:         few,
		wantBatches: []int{100, 100, 100, 100, 50},
		wantDeleted: fewInts[100:],
		wantWaits:   []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second},
		wantErr:     "delete 100 messages: Too Many Requests",
	}, {
		name:        "a 5xx is tried again with backoff",
		fail:        func(s *telegramtest.Server) { s.FailDelete(chat, 2, 502, "Bad Gateway") },
		ids:         few,
		wantBatches: []int{100, 100, 100, 50},
		wantDeleted: fewInts,
		wantWaits:   []time.Duration{time.Second, 2 * time.Second},
	}, {
		name:        "a batch rejected is not tried again, and the next still is",
		fail:        func(s *telegramtest.Server) { s.FailDelete(chat, 1, 400, "Bad Request: message can't be deleted") },
		ids:         few,
		wantBatches: []int{100, 50},
		wantDeleted: fewInts[100:],
		wantErr:     "delete 100 messages: Bad Request: message can't be deleted",
	}}
	for _, d := range deleters {
		for _, tt := range tests {
			t.Run(d.name+"/"+tt.name, func(t *testing.T) {
				clock := newClock(true)
				e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock = clock })
				if tt.fail != nil {
					tt.fail(e.srv)
				}
				err := d.do(e.ch, context.Background(), strconv.Itoa(chat), tt.ids)
				if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
					t.Errorf("got error %v; want one with %q", err, tt.wantErr)
				}
				var batches []int
				for _, c := range e.srv.Calls("deleteMessages") {
					var batch []int
					if err := c.JSON("message_ids", &batch); err != nil {
						t.Fatalf("message_ids %q: %v", c.Params["message_ids"], err)
					}
					batches = append(batches, len(batch))
				}
				if diff := cmp.Diff(tt.wantBatches, batches); diff != "" {
					t.Errorf("batches (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.wantDeleted, e.srv.Deleted(chat)); diff != "" {
					t.Errorf("deleted (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.wantWaits, clock.Waits()); diff != "" {
					t.Errorf("waits (-want +got):\n%s", diff)
				}
				for what, text := range map[string]string{"logs": e.logs.String(), "error": errText(err)} {
					if strings.Contains(text, strconv.Itoa(chat)) || strings.Contains(text, "48151") {
						t.Errorf("got %s %q; want no chat or message id", what, text)
					}
				}
			})
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestWipeAndDeleteRefuseAChatIDThatIsNotANumber(t *testing.T) {
	for _, d := range deleters {
		t.Run(d.name, func(t *testing.T) {
			e := start(t, &handler{}, fast)
			if err := d.do(e.ch, context.Background(), "@maria", []string{"1"}); err == nil || strings.Contains(err.Error(), "maria") {
				t.Errorf("got %v; want an error without the chat id", err)
			}
			if n := len(e.srv.Calls("deleteMessages")); n != 0 {
				t.Errorf("got %d deleteMessages calls; want 0", n)
			}
		})
	}
}

// TestDeleteLeavesTheChatGoingOn: unlike Wipe, Delete drops nothing queued, neither here nor,
// through the outbox, on other instances, and the chat's next messages are sent.
func TestDeleteLeavesTheChatGoingOn(t *testing.T) {
	r := redistest.New(t)
	clock := newClock(false)
	log := &sentLog{}
	e := start(t, &handler{}, func(cfg *telegram.Config) {
		cfg.Clock, cfg.PerChat = clock, time.Second
		cfg.Sent = log.sent
		cfg.Outbox = bot.NewOutbox(r.Client, r.Prefix, "telegram", []byte("service secret"))
	})
	queued := e.send("42", bot.Reply{Text: "a", Tag: "case-1"}, bot.Reply{Text: "b"}, bot.Reply{Text: "c"})
	e.srv.Wait("sendMessage", 1)
	waitFor(t, "a reported", func() bool { return len(log.calls()) == 1 })

	if err := e.ch.Delete(context.Background(), "42", []string{"1"}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := e.metric(t, "faros_telegram_queue_depth"); got != 2 {
		t.Errorf("got queue depth %v; want 2, b and c still queued", got)
	}
	after := e.send("42", bot.Reply{Text: "after"})
	waitFor(t, "after queued", func() bool { return e.metric(t, "faros_telegram_queue_depth") == 3 })
	for n := 2; n <= 4; n++ {
		clock.Advance(time.Second)
		e.srv.Wait("sendMessage", n)
	}
	for _, r := range []<-chan error{queued, after} {
		if err := <-r; err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "after"}, e.srv.Texts(42)); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1}, e.srv.Deleted(42)); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	if got := e.metric(t, "faros_telegram_sends_given_up_total", "reason", "wiped"); got != 0 {
		t.Errorf("got %v given up as wiped; want 0", got)
	}
	ks, err := r.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if strings.HasSuffix(k, ":wiped") {
			t.Errorf("Delete recorded a wipe in the outbox (%s)", k)
		}
	}
}

func TestWipeDropsWhatIsQueuedForTheChat(t *testing.T) {
	clock := newClock(false)
	log := &sentLog{}
	e := start(t, &handler{}, func(cfg *telegram.Config) {
		cfg.Clock = clock
		cfg.Sent = log.sent
	})
	wiped := e.send("42", bot.Reply{Text: "a"}, bot.Reply{Text: "b"}, bot.Reply{Text: "c", Urgent: true})
	e.srv.Wait("sendMessage", 1)
	waitFor(t, "a reported", func() bool { return len(log.calls()) == 1 })
	other := e.send("7", bot.Reply{Text: "x"})
	waitFor(t, "x queued", func() bool { return e.metric(t, "faros_telegram_queue_depth") == 3 })

	if err := e.ch.Wipe(context.Background(), "42", []string{"1"}); err != nil {
		t.Fatalf("Wipe: %v", err)
	}
	if err := <-wiped; !errors.Is(err, telegram.ErrWiped) {
		t.Errorf("Send: got %v; want ErrWiped", err)
	}
	if got := e.metric(t, "faros_telegram_sends_given_up_total", "reason", "wiped"); got != 2 {
		t.Errorf("got %v given up as wiped; want 2", got)
	}
	if got := e.metric(t, "faros_telegram_queue_depth"); got != 1 {
		t.Errorf("got queue depth %v; want 1, the other chat's", got)
	}

	// The chat takes new messages, and the other chat was left alone.
	after := e.send("42", bot.Reply{Text: "after", Forget: true})
	waitFor(t, "after queued", func() bool { return e.metric(t, "faros_telegram_queue_depth") == 2 })
	for n := 2; n <= 3; n++ {
		clock.Advance(time.Second)
		e.srv.Wait("sendMessage", n)
	}
	for _, r := range []<-chan error{other, after} {
		if err := <-r; err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	if diff := cmp.Diff([]string{"a", "after"}, e.srv.Texts(42)); diff != "" {
		t.Errorf("sent to the wiped chat (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"x"}, e.srv.Texts(7)); diff != "" {
		t.Errorf("sent to the other chat (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1}, e.srv.Deleted(42)); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
}

// holdSends is an http.RoundTripper that holds every sendMessage request until release is closed,
// telling held of each.
type holdSends struct {
	held    chan struct{}
	release chan struct{}
}

func (h holdSends) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/sendMessage") {
		h.held <- struct{}{}
		<-h.release
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestWipeKeepsAMessageInFlightFromBeingTriedAgain(t *testing.T) {
	hold := holdSends{held: make(chan struct{}, 10), release: make(chan struct{})}
	log := &sentLog{}
	e := start(t, &handler{}, func(cfg *telegram.Config) {
		cfg.Clock = newClock(true)
		cfg.HTTPClient = &http.Client{Transport: hold}
		cfg.Sent = log.sent
	})
	e.srv.FailSend(42, 1, 502, "Bad Gateway") // would be tried again after a second
	result := e.send("42", bot.Reply{Text: "a"})
	<-hold.held

	if err := e.ch.Wipe(context.Background(), "42", nil); err != nil {
		t.Fatalf("Wipe: %v", err)
	}
	close(hold.release)
	if err := <-result; !strings.Contains(errText(err), "given up (wiped)") {
		t.Errorf("Send: got %v; want the message given up as wiped", err)
	}
	if n := len(e.srv.Calls("sendMessage")); n != 1 {
		t.Errorf("got %d sendMessage calls; want 1, not tried again", n)
	}
	if got := log.calls(); len(got) != 0 {
		t.Errorf("got Sent calls %q; want none", got)
	}
}
