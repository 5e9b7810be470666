package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/internal/testkit"
	"github.com/faros-project/faros/stats"
)

// instance is one Faros started by run, as the binary would be.
type instance struct {
	addr string
	ops  string // the ops listener: /readyz, /metrics
	log  *testkit.LogBuffer
	r    *redistest.Redis
}

var listening = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)".*"ops":"([^"]+)"`)

// start runs Faros with the test's Redis and env on a free port, and stops it when the test
// ends, checking that it stopped cleanly and that neither Redis nor the log holds anything
// that identifies a person or any of the texts in secrets.
func start(t *testing.T, r *redistest.Redis, env map[string]string, secrets ...string) *instance {
	t.Helper()
	vars := map[string]string{
		"FAROS_HTTP_ADDR":         "127.0.0.1:0",
		"FAROS_OPS_ADDR":          "127.0.0.1:0",
		"FAROS_REDIS_URL":         r.URL(),
		"FAROS_REDIS_PREFIX":      r.Prefix,
		"FAROS_PSEUDONYM_KEY":     "5d1e8a3c9f027b64e1c8d3a5f7092b4e6c1d8a3f5e7092b4c6d1e8a3f5c7092b",
		"FAROS_TELEGRAM_CHAT_GAP": "1ms",
		"FAROS_TELEGRAM_RATE":     "1000",
	}
	for k, v := range env {
		vars[k] = v
	}
	in := &instance{log: &testkit.LogBuffer{}, r: r}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return vars[k] }, in.log, in.log) }()
	deadline := time.Now().Add(5 * time.Second)
	for in.addr == "" {
		if m := listening.FindStringSubmatch(in.log.String()); m != nil {
			in.addr, in.ops = m[1], m[2]
		}
		select {
		case err := <-done:
			t.Fatalf("faros stopped at start: %v\n%s", err, in.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("faros did not start:\n%s", in.log)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("faros stopped with %v", err)
		}
		in.checkPrivacy(t, secrets)
	})
	return in
}

// checkPrivacy scans every key and value of the instance's Redis and its whole log for the
// given secrets (chat ids, names, message texts) and for the Telegram token.
func (in *instance) checkPrivacy(t *testing.T, secrets []string) {
	t.Helper()
	ctx := context.Background()
	keys, err := in.r.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	patterns := inventory(t, in.r.Prefix)
	var dump strings.Builder
	for _, k := range keys {
		if !slices.ContainsFunc(patterns, func(p *regexp.Regexp) bool { return p.MatchString(k) }) {
			t.Errorf("key %s is not in the inventory of docs/PRIVACY.md", k)
		}
		dump.WriteString(k + "\n")
		if ttl := in.r.Client.TTL(ctx, k).Val(); ttl < 0 {
			t.Errorf("key %s has no TTL", k)
		}
		dump.WriteString(in.r.Value(ctx, k) + "\n")
	}
	log := in.log.String()
	if strings.Contains(log, "CROSSSLOT") {
		t.Error("a Redis command spanned hash slots (CROSSSLOT): it would fail on a cluster")
	}
	for _, s := range secrets {
		// A number is found alone, not inside another number or a random token (a duration in
		// the log may hold "7302", a lock's random token "ab8001cd").
		re := regexp.MustCompile(regexp.QuoteMeta(s))
		if _, err := strconv.Atoi(s); err == nil {
			re = regexp.MustCompile(`(^|[^0-9A-Za-z])` + s + `([^0-9A-Za-z]|$)`)
		}
		if re.MatchString(dump.String()) {
			t.Errorf("Redis holds %q", s)
		}
		if re.MatchString(log) {
			t.Errorf("the log holds %q", s)
		}
	}
}

// inventory reads the key patterns of the table in docs/PRIVACY.md as regular expressions.
func inventory(t *testing.T, prefix string) []*regexp.Regexp {
	t.Helper()
	doc, err := os.ReadFile("../../docs/PRIVACY.md")
	if err != nil {
		t.Fatal(err)
	}
	placeholders := strings.NewReplacer("PREFIX", regexp.QuoteMeta(prefix), `\{p:P\}`, `\{p:[A-Za-z0-9_-]+\}`,
		`\{c:CASE\}`, `\{c:[A-Z2-7]+\}`, ":OP:", ":[a-z0-9_-]+:", ":OP", ":[a-z0-9_-]+", ":DAY", `:\d{4}-\d{2}-\d{2}`, ":UPDATE", `:\d+`,
		`\{WEEK\}`, `\{\d{4}-W\d{2}\}`, `\{desk:OP\}`, `\{desk:[A-Za-z0-9._~-]+\}`, ":HASH", `:[0-9a-f]+`)
	var out []*regexp.Regexp
	for _, m := range regexp.MustCompile("(?m)^\\| `(PREFIX:[^`]+)`").FindAllStringSubmatch(string(doc), -1) {
		out = append(out, regexp.MustCompile("^"+placeholders.Replace(regexp.QuoteMeta(m[1]))+"$"))
	}
	if len(out) < 10 {
		t.Fatalf("docs/PRIVACY.md lists %d key patterns; the inventory table is missing", len(out))
	}
	return out
}

// postUpdate posts a Telegram update to a webhook URL as Telegram does, and returns the status.
func postUpdate(t *testing.T, url, secret string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// tgChat is one person on the fake Telegram.
type tgChat struct {
	t        *testing.T
	fake     *telegramtest.Server
	id       int64
	replies  int
	buttons  map[string]string       // label → callback data of the last reply
	post     func(u tgbotapi.Update) // webhook mode: deliver the update; nil: polling
	nextID   int
	lastText string
	// counsellor: an operator's chat, where alerts ring; a person's phone never does.
	counsellor bool
	lastID     int            // the message id of the last message read
	rec        *shiftLog      // records what the chat's person or counsellor did; nil: nothing
	sc         *screenContent // the content its Faros runs; nil: the shipped content
	asked      []string       // the screening questions answered, "flow.node"
}

// do delivers an update and waits for the one reply every step gets.
func (c *tgChat) do(u tgbotapi.Update) string {
	c.t.Helper()
	c.send(u)
	deadline := time.Now().Add(5 * time.Second)
	for {
		calls := c.sent()
		if len(calls) > c.replies {
			c.replies++
			return c.read(calls[c.replies-1])
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("chat %d: no reply after %q", c.id, c.lastText)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// send delivers an update without waiting for an answer.
func (c *tgChat) send(u tgbotapi.Update) {
	c.t.Helper()
	switch {
	case u.Message != nil && u.Message.ReplyToMessage != nil:
		c.rec.input(c.id, "> (a reply to the person's message) "+u.Message.Text)
	case u.Message != nil && u.Message.Text != "":
		c.rec.input(c.id, "> "+u.Message.Text)
	case u.Message != nil:
		c.rec.input(c.id, "> (a photo or voice note) "+u.Message.Caption)
	case u.CallbackQuery != nil:
		for label, data := range c.buttons {
			if data == u.CallbackQuery.Data {
				c.rec.input(c.id, "> presses ["+label+"]")
			}
		}
	}
	if c.post != nil {
		c.nextID++
		u.UpdateID = int(c.id)*1000 + c.nextID
		c.post(u)
	} else {
		c.fake.QueueUpdate(u)
	}
}

// reply sends words that reply to message msgID of the chat (Telegram's reply-to).
func (c *tgChat) reply(msgID int, text string) { c.send(telegramtest.Reply(c.id, msgID, text)) }

func (c *tgChat) sent() []telegramtest.Call {
	var out []telegramtest.Call
	for _, call := range c.fake.Calls("sendMessage") {
		if call.Params["chat_id"] == strconv.FormatInt(c.id, 10) && call.Status == http.StatusOK {
			out = append(out, call)
		}
	}
	return out
}

func (c *tgChat) read(call telegramtest.Call) string {
	c.t.Helper()
	if call.Params["protect_content"] != "true" || !c.counsellor && call.Params["disable_notification"] != "true" {
		c.t.Errorf("sendMessage without protect_content and disable_notification: %v", call.Params)
	}
	c.buttons = map[string]string{}
	var markup struct {
		InlineKeyboard [][]struct {
			Text string `json:"text"`
			Data string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if call.Params["reply_markup"] != "" {
		if err := json.Unmarshal([]byte(call.Params["reply_markup"]), &markup); err != nil {
			c.t.Fatalf("reply_markup: %v", err)
		}
	}
	for _, row := range markup.InlineKeyboard {
		for _, b := range row {
			c.buttons[b.Text] = b.Data
		}
	}
	c.lastText, c.lastID = call.Params["text"], call.MessageID
	return c.lastText
}

func (c *tgChat) say(text string) string { c.t.Helper(); return c.do(telegramtest.Text(c.id, text)) }

// press presses the button whose callback data ends in "/"+id.
func (c *tgChat) press(id string) string {
	c.t.Helper()
	for _, data := range c.buttons {
		if strings.HasSuffix(data, "/"+id) {
			return c.do(telegramtest.Callback(c.id, data))
		}
	}
	c.t.Fatalf("chat %d: no button %q after %q (buttons %v)", c.id, id, c.lastText, c.buttons)
	return ""
}

// tap presses the button of the last message read whose label starts with label (an
// operator's buttons).
func (c *tgChat) tap(label string) string {
	c.t.Helper()
	data, ok := c.buttons[label]
	for l, d := range c.buttons {
		if strings.HasPrefix(l, label) {
			data, ok = d, true
		}
	}
	if !ok {
		c.t.Fatalf("chat %d: no button labelled %q after %q (buttons %v)", c.id, label, c.lastText, c.buttons)
	}
	return c.do(telegramtest.Callback(c.id, data))
}

// screening answers the welcome and every question, and returns the closing text; the
// answers make tier 2 (a broken promise and threats, as docs/SCREENING.md describes), every
// other answer counts for nothing (whatever questions the content asks).
func (c *tgChat) screening(lang string) string {
	c.t.Helper()
	return c.screenTo(lang, tierAnswers[2])
}

// screenTo answers the welcome, then the screening with answers, and returns the closing text.
func (c *tgChat) screenTo(lang string, answers map[string]string) string {
	c.t.Helper()
	c.say("/start")
	c.press(lang)
	c.press("safe")
	c.press("check")
	return c.answer(answers)
}

// tierAnswers make each tier, every other answer counting for nothing; tierResults are the
// messages that say each result.
var (
	tierAnswers = []map[string]string{{}, {"documents": "yes"}, {"promise": "yes", "threats": "yes"}, {"danger": "yes"}}
	tierResults = []string{"result_info", "result_possible", "result_likely", "result_urgent"}
)

const token = "123456:e2e-token-never-logged"

// Every language reaches every tier over Telegram: Urdu and Bengali came as content only.
func TestTelegramPollingScreeningInEveryLanguage(t *testing.T) {
	r := redistest.New(t)
	fake := telegramtest.New(t)
	sc := shippedScreen(t)
	langs := sc.Catalog.Languages()
	var secrets []string
	for i, lang := range langs {
		for tier := range tierAnswers {
			secrets = append(secrets, strconv.Itoa(7001+i+100*tier))
		}
		secrets = append(secrets, sc.likelyLine(lang)) // what the bot says is not logged either
	}
	start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL()},
		append(secrets, "Maria", "maria_k", token)...)
	var wg sync.WaitGroup
	for i, lang := range langs {
		for tier := range tierAnswers {
			wg.Go(func() {
				c := &tgChat{t: t, fake: fake, id: int64(7001 + i + 100*tier)}
				want, _, _ := strings.Cut(sc.Catalog.Render(lang, tierResults[tier], nil), "\n")
				if text := c.screenTo(lang, tierAnswers[tier]); !strings.Contains(text, want) {
					t.Errorf("%s, tier %d: the screening ended with %q; want %q", lang, tier, text, want)
				}
			})
		}
	}
	wg.Wait()

	// Each screening counted once in the week's statistics, by language, channel and tier.
	week := stats.WeekOf(time.Now())
	table, err := stats.New(r.Client, r.Prefix).Read(context.Background(), week, week, false)
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]int{}
	for _, row := range table.Section("tiers").Rows {
		counted[row.Key] = row.Total.N
	}
	for _, lang := range langs {
		for tier := range tierAnswers {
			if key := fmt.Sprintf("%s|telegram|%d", lang, tier); counted[key] != 1 {
				t.Errorf("the statistics count %d screenings of %s; want 1 (%v)", counted[key], key, counted)
			}
		}
	}
}

// secret is the Telegram webhook's secret token in webhook mode.
const secret = "e2e-webhook-secret-0123456789"

// webhookMode is the environment of Telegram's webhook mode, at /tg/hook, and more.
func webhookMode(fake *telegramtest.Server, more map[string]string) map[string]string {
	env := map[string]string{
		"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL(), "FAROS_TELEGRAM_MODE": "webhook",
		"FAROS_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg/hook", "FAROS_TELEGRAM_WEBHOOK_SECRET": secret,
	}
	maps.Copy(env, more)
	return env
}

func TestTelegramWebhook(t *testing.T) {
	r := redistest.New(t)
	fake := telegramtest.New(t)
	sc := shippedScreen(t)
	langs := sc.Catalog.Languages()
	secrets := []string{"8101", "Maria", "maria_k", token, secret}
	for i, lang := range langs {
		secrets = append(secrets, strconv.Itoa(8001+i), sc.likelyLine(lang))
	}
	in := start(t, r, webhookMode(fake, nil), secrets...)
	set := fake.Wait("setWebhook", 1)
	if got := set[0].Params; got["url"] != "https://bot.example.org/tg/hook" || got["secret_token"] != secret {
		t.Errorf("setWebhook(%v); want the URL and the secret_token", got)
	}
	post := func(u tgbotapi.Update, secret string) int {
		body, _ := json.Marshal(u)
		return postUpdate(t, "http://"+in.addr+"/tg/hook", secret, body)
	}

	t.Run("wrong or missing secret", func(t *testing.T) {
		u := telegramtest.Text(8101, "/start")
		u.UpdateID = 1
		for _, s := range []string{"", "not-the-secret-0123456789"} {
			if got := post(u, s); got != http.StatusUnauthorized {
				t.Errorf("secret %q: status %d; want 401", s, got)
			}
		}
		if n := len(fake.Calls("sendMessage")); n != 0 {
			t.Errorf("%d messages sent after rejected updates; want none", n)
		}
	})
	t.Run("screening in every language", func(t *testing.T) {
		var wg sync.WaitGroup
		for i, lang := range langs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &tgChat{t: t, fake: fake, id: int64(8001 + i)}
				c.post = func(u tgbotapi.Update) {
					if got := post(u, secret); got != http.StatusOK {
						t.Errorf("status %d; want 200", got)
					}
				}
				if text := c.screening(lang); !strings.Contains(text, sc.likelyLine(lang)) {
					t.Errorf("%s: the screening ended with %q; want the tier 2 message", lang, text)
				}
			}()
		}
		wg.Wait()
	})
	t.Run("duplicate answered once", func(t *testing.T) {
		u := telegramtest.Text(8101, "/help")
		u.UpdateID = 99001
		before := len(fake.Calls("sendMessage"))
		for range 2 {
			if got := post(u, secret); got != http.StatusOK {
				t.Errorf("status %d; want 200", got)
			}
		}
		time.Sleep(100 * time.Millisecond)
		if n := len(fake.Calls("sendMessage")) - before; n != 1 {
			t.Errorf("an update delivered twice was answered %d times; want once", n)
		}
	})
}

// Two updates of one chat in one batch: the second is handled after the first, and both
// replies leave in that order.
func TestTelegramOrderWithinAChat(t *testing.T) {
	r := redistest.New(t)
	fake := telegramtest.New(t)
	start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL()}, "9001", token)
	c := &tgChat{t: t, fake: fake, id: 9001}
	c.say("/start")
	c.press("en")
	c.press("safe")
	c.press("check")
	// The first two questions answered in one batch: the second and the third are asked.
	sc := shippedScreen(t)
	asks := sc.asks(t, "en")
	if len(asks) < 3 || c.question() != asks[0].Question {
		t.Fatalf("the screening asks %d questions, first %q; want three or more, the first %q", len(asks), c.question(), asks[0].Question)
	}
	fake.QueueUpdate(telegramtest.Callback(9001, asks[0].Question+"/"+sc.calm[asks[0].Question]))
	fake.QueueUpdate(telegramtest.Callback(9001, asks[1].Question+"/"+sc.calm[asks[1].Question]))
	deadline := time.Now().Add(5 * time.Second)
	for len(c.sent()) < c.replies+2 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	calls := c.sent()
	if len(calls) != c.replies+2 {
		t.Fatalf("%d replies; want 2", len(calls)-c.replies)
	}
	first, second := calls[c.replies].Params["text"], calls[c.replies+1].Params["text"]
	if !strings.Contains(first, sc.text(asks[1])) || !strings.Contains(second, sc.text(asks[2])) {
		t.Errorf("replies in order %q, %q; want the %s question, then the %s question", first, second, asks[1].Question, asks[2].Question)
	}
}

// A 429 with retry_after 2 makes that chat's next send wait two seconds.
func TestTelegram429(t *testing.T) {
	r := redistest.New(t)
	fake := telegramtest.New(t)
	start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL()}, "9101", token)
	fake.Fail429(9101, 1, 2)
	c := &tgChat{t: t, fake: fake, id: 9101}
	c.say("/start")
	var tries []time.Time
	for _, call := range fake.Calls("sendMessage") {
		if call.Params["chat_id"] == "9101" {
			tries = append(tries, call.Time)
		}
	}
	if len(tries) != 2 {
		t.Fatalf("%d attempts; want a 429, then the send", len(tries))
	}
	if d := tries[1].Sub(tries[0]); d < 2*time.Second || d > 2500*time.Millisecond {
		t.Errorf("the retry came %v after the 429; want 2s", d)
	}
}

// Redis stops in the middle of a conversation: the person gets the numbers at once, and the
// conversation goes on where it was when Redis is back.
func TestRedisOutage(t *testing.T) {
	r := redistest.New(t)
	proxy, url := r.Proxy(t)
	fake := telegramtest.New(t)
	start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL(), "FAROS_REDIS_URL": url}, "9201", token, "përshëndetje")
	c := &tgChat{t: t, fake: fake, id: 9201}
	c.say("/start")
	c.press("sq")
	c.press("safe")
	menu := c.buttons
	proxy.Cut()
	text := c.say("përshëndetje")
	for _, want := range []string{"112", "1109", "197", "Na vjen keq"} {
		if !strings.Contains(text, want) {
			t.Errorf("while Redis is down: %q lacks %q", text, want)
		}
	}
	proxy.Restore()
	c.buttons = menu
	if text := c.press("check"); !strings.Contains(text, shippedScreen(t).text(shippedScreen(t).asks(t, "sq")[0])) {
		t.Errorf("after Redis is back: %q; want the first question", text)
	}
}
