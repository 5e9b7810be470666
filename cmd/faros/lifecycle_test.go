package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/internal/testkit"
)

// TestStopInTheMiddleOfATelegramBurst stops Faros (as SIGTERM does: main cancels run's
// context) while a burst of Telegram updates is being handled, in polling and in webhook
// mode: every update was marked seen, so Telegram's redelivery to the next instance would be
// a duplicate, and its reply must be sent or left in the outbox for another instance.
// Before, in polling mode, the stop cancelled the updates' context and closed the queue without
// waiting for them, and what was queued after the close was deleted from the outbox.
func TestStopInTheMiddleOfATelegramBurst(t *testing.T) {
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			r := redistest.New(t)
			fake := telegramtest.New(t)
			roster := filepath.Join(t.TempDir(), "roster.yaml")
			if err := os.WriteFile(roster, []byte(e2eRoster), 0o644); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL(), "FAROS_ROSTER": roster}
			if mode == "webhook" {
				env = webhookMode(fake, env)
			}
			// Polling: each update is handled (and marked seen) up to its callback query's
			// answer, which the fake Bot API holds until the stop has begun. Webhook: the answer
			// rides on the webhook's 200 (the channel's own tests stop in the middle of one), so
			// the updates are all handled first and the fake holds their replies' sends.
			held := fake.Hold("answerCallbackQuery")
			if mode == "webhook" {
				held = fake.Hold("sendMessage")
			}
			defer held.Release()
			const n = 10 // one getUpdates batch at most
			var chats []int64
			for i := range n {
				chats = append(chats, int64(9301+i))
			}
			var posts sync.WaitGroup
			var in *running
			if mode == "polling" {
				for _, chat := range chats { // queued first: one batch
					fake.QueueUpdate(telegramtest.Callback(chat, "language/en"))
				}
				in = launch(t, r, env)
			} else {
				in = launch(t, r, env)
				for i, chat := range chats {
					u := telegramtest.Callback(chat, "language/en")
					u.UpdateID = 5000 + i
					posts.Go(func() { in.postUpdate(t, "/tg/hook", u) })
				}
			}
			if mode == "webhook" {
				posts.Wait()
				held.Wait(1)
			} else {
				held.Wait(n)
			}

			in.stop() // SIGTERM
			held.Release()
			if err := in.wait(); err != nil {
				t.Errorf("faros stopped with %v", err)
			}
			posts.Wait()

			left := leftInOutbox(t, r, lifecycleKey)
			for _, chat := range chats {
				if len(fake.Texts(chat)) == 0 && left[strconv.FormatInt(chat, 10)] == 0 {
					t.Errorf("chat %d: no reply sent and none left in the outbox", chat)
				}
			}
			var secrets []string
			for _, chat := range chats {
				secrets = append(secrets, strconv.FormatInt(chat, 10))
			}
			in.checkPrivacy(t, append(secrets, token, secret))
		})
	}
}

const lifecycleKey = "3f9a6c1e8b2d4f70a5c3e9b1d7f2a4c6e8b0d2f4a6c8e1b3d5f7a9c2e4b6d8f0"

// running is a Faros started by launch, which the test stops.
type running struct {
	*instance
	cancel context.CancelFunc
	done   chan error
}

// launch runs Faros as start does, but leaves the stop to the test (stop, then wait).
func launch(t *testing.T, r *redistest.Redis, env map[string]string) *running {
	t.Helper()
	vars := map[string]string{
		"FAROS_HTTP_ADDR": "127.0.0.1:0", "FAROS_REDIS_URL": r.URL(), "FAROS_REDIS_PREFIX": r.Prefix,
		"FAROS_PSEUDONYM_KEY": lifecycleKey, "FAROS_TELEGRAM_CHAT_GAP": "1ms", "FAROS_TELEGRAM_RATE": "1000",
	}
	for k, v := range env {
		vars[k] = v
	}
	log := &listenLog{addr: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	in := &running{instance: &instance{log: &log.LogBuffer, r: r}, cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- run(ctx, nil, func(k string) string { return vars[k] }, log, log) }()
	select {
	case in.addr = <-log.addr:
	case err := <-in.done:
		t.Fatalf("faros stopped at start: %v\n%s", err, log)
	case <-time.After(10 * time.Second):
		t.Fatalf("faros did not start:\n%s", log)
	}
	t.Cleanup(func() { // also when the test failed before it stopped Faros
		cancel()
		<-in.done
	})
	return in
}

func (in *running) stop() { in.cancel() }

// wait waits for run to return, and returns its error.
func (in *running) wait() error {
	err := <-in.done
	in.done <- err // for the cleanup
	return err
}

// postUpdate posts an update to Telegram's webhook, as Telegram does, and wants a 200.
func (in *running) postUpdate(t *testing.T, path string, u tgbotapi.Update) {
	body, _ := json.Marshal(u)
	req, _ := http.NewRequest("POST", "http://"+in.addr+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("post update %d: %v", u.UpdateID, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("post update %d: status %d; want 200", u.UpdateID, resp.StatusCode)
	}
}

// listenLog is a log that tells the address once Faros listens.
type listenLog struct {
	testkit.LogBuffer
	addr chan string
	once sync.Once
}

func (l *listenLog) Write(p []byte) (int, error) {
	if m := listening.FindSubmatch(p); m != nil {
		l.once.Do(func() { l.addr <- string(m[1]) })
	}
	return l.LogBuffer.Write(p)
}

// leftInOutbox counts the Telegram messages left in the outbox, by chat, reading them as an
// instance that takes them over would (their leases made to lapse).
func leftInOutbox(t *testing.T, r *redistest.Redis, key string) map[string]int {
	t.Helper()
	ctx := context.Background()
	leases := r.Prefix + ":{outbox:telegram}:lease"
	ids, err := r.Client.ZRange(ctx, leases, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		r.Client.ZAdd(ctx, leases, redis.Z{Score: 0, Member: id})
	}
	taken, err := bot.NewOutbox(r.Client, r.Prefix, "telegram", []byte(key)).Take(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]int{}
	for _, p := range taken {
		var m struct {
			Chat string `json:"c"`
		}
		if err := json.Unmarshal(p.Message, &m); err != nil {
			t.Fatal(err)
		}
		left[m.Chat]++
	}
	return left
}
