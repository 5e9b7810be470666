package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/internal/redistest"
)

// The tests of this file try Faros as the issue "Never silenced, never exposed" found it
// failing: a person at human speed, a person leaving after a flood, junk sent by anyone,
// a flood of event streams, and a counsellor's case whose counsellor leaves the roster.

const slowDown = "You are sending many messages quickly"

// randomConversation is a web chat conversation id as the page makes one.
func randomConversation() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tap presses what a hurried person would: "no" where there is one, else the first button
// that neither leaves nor asks for a counsellor.
func (w *webPerson) tap() string {
	w.t.Helper()
	pick := ""
	for id, data := range w.buttons {
		switch {
		case id == "no" || id == "en":
			pick = data
		case pick == "" && !slices.Contains([]string{"stop", "person", "now", "wipe", "yes"}, id):
			pick = data
		}
	}
	if pick == "" {
		w.t.Fatalf("no button to press among %v", w.buttons)
	}
	return w.send("", pick)
}

// TestHumanSpeedOnTheDefaultConfiguration: `go run ./cmd/faros` as it comes (the embedded
// store, the default limits) and a person pressing a button every second through a whole
// screening and on, past the 30 buttons a conversation may press at once: every message is
// answered, none is told to slow down. Before, the 21st message of a conversation was its
// last (the embedded store never let the minute's count expire). bot's
// TestHumanSpeedIsNeverLimited does the same for 200 taps on an injected clock.
func TestHumanSpeedOnTheDefaultConfiguration(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 40 seconds: a person's pace")
	}
	t.Parallel()
	in := start(t, redistest.New(t), map[string]string{"FAROS_REDIS_URL": ""})
	w := newWebPerson(t, in)
	w.send("/start", "")
	for i := range 40 { // a screening is 22 messages
		time.Sleep(time.Second)
		if text := w.tap(); text == "" || strings.Contains(text, slowDown) {
			t.Fatalf("tap %d got %q; want an answer", i+1, text)
		}
	}
}

// TestSlowAndHugeRequests: a client that sends its headers or body slowly is cut off, and a
// huge request line gets 431 and stays out of the log. Before, 8,000 slow-body POSTs held
// 164 MB, and a GET with a 1 MB path was logged whole (50 MB of logs in 2 s).
func TestSlowAndHugeRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 16 seconds: the server's read deadline")
	}
	t.Parallel()
	in := start(t, redistest.New(t), nil)
	huge := "/" + strings.Repeat("a", 20<<10)
	if status, _ := get(t, "http://"+in.addr+huge); status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 20 KiB path: status %d; want 431", status)
	}
	if strings.Contains(in.log.String(), strings.Repeat("a", 100)) {
		t.Error("the log holds the huge path")
	}
	cutAfter := func(first string, then func(c net.Conn)) time.Duration {
		c, err := net.Dial("tcp", in.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		began := time.Now()
		_, _ = io.WriteString(c, first)
		go then(c)
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, _ = io.Copy(io.Discard, c) // until the server closes the connection
		return time.Since(began)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		// Headers that never end.
		if took := cutAfter("GET / HTTP/1.1\r\nHost: faros\r\n", func(net.Conn) {}); took > 7*time.Second {
			t.Errorf("a client that never finished its headers was held %v; want about 5 s", took)
		}
	})
	wg.Go(func() {
		// A body of 100 bytes, one byte a second.
		head := "POST /chat/messages HTTP/1.1\r\nHost: faros\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
		took := cutAfter(head, func(c net.Conn) {
			for range 100 {
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
				time.Sleep(time.Second)
			}
		})
		if took > 17*time.Second {
			t.Errorf("a client sending its body a byte a second was held %v; want about 15 s", took)
		}
	})
	wg.Wait()
}

// post sends body to url and returns the status, or 0 when the request failed.
func post(client *http.Client, url, body string, header http.Header) int {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

// TestLeavingAfterAFlood: after far more messages than the limits allow, /stop, /wipe and the
// web chat's quick exit still do what they say. Before, the limit swallowed them: no
// deleteMessages, every key kept, the exit answered with nothing.
func TestLeavingAfterAFlood(t *testing.T) {
	r := redistest.New(t)
	fake := telegramtest.New(t)
	in := start(t, r, webhookMode(fake, nil), "9001", token)
	// (The wipe's time stays two minutes, for replies on their way: it holds nothing else.)
	conversationKeys := func() []string { return r.Conversations(context.Background()) }

	person := &tgChat{t: t, fake: fake, id: 9001}
	person.post = func(u tgbotapi.Update) {
		body, _ := json.Marshal(u)
		if status := postUpdate(t, "http://"+in.addr+"/tg/hook", secret, body); status != http.StatusOK {
			t.Errorf("update %d: status %d; want 200", u.UpdateID, status)
		}
	}
	person.say("/start")
	person.press("en")
	for i := range 40 {
		u := telegramtest.Text(9001, "spam")
		u.UpdateID = 900_100 + i
		u.Message.MessageID = 100 + i
		person.post(u)
	}
	// The flood's answers (a few, then the notice, then silence) are read and skipped.
	for n := -1; n != len(person.sent()); time.Sleep(300 * time.Millisecond) {
		n = len(person.sent())
	}
	person.replies = len(person.sent())
	if got := person.say("/stop"); !strings.Contains(got, "Goodbye") {
		t.Errorf("/stop after a flood: %q; want goodbye", got)
	}
	if got := person.say("/wipe"); !strings.Contains(got, "OK, bye.") {
		t.Errorf("/wipe after a flood: %q", got)
	}
	if deleted := fake.Deleted(9001); !slices.Contains(deleted, 139) {
		t.Errorf("the flood's messages were not deleted (deleted %v)", deleted)
	}
	waitFor(t, "the Telegram conversation's keys to go", func() bool { return len(conversationKeys()) == 0 })

	// The web chat: a flood, then the quick exit, exactly as the page sends it.
	w := newWebPerson(t, in)
	w.send("/start", "")
	w.press("en")
	for range 40 {
		post(http.DefaultClient, "http://"+in.addr+"/chat/messages", `{"conversation": "`+w.id+`", "text": "spam"}`, jsonHeader())
	}

	if got := w.send("/wipe", ""); !strings.Contains(got, "OK, bye.") {
		t.Errorf("the quick exit after a flood: %q", got)
	}
	waitFor(t, "the web conversation's keys to go", func() bool { return len(conversationKeys()) == 0 })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
	}
}

// heapMiB is the heap in use, after a collection.
func heapMiB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

// TestJunkRefusesNoRealMessage: 128 connections send junk to every door (unknown paths, long
// paths, unsigned API calls, Telegram updates without the secret, web messages of made-up
// conversations) while people use all three channels: not one real message is refused.
// Before, junk spent the one global intake budget: 13 of 30 web messages, 13 of 30 API calls,
// 18 of 30 quick exits and 15 of 20 Telegram updates got 503.
func TestJunkRefusesNoRealMessage(t *testing.T) {
	r := redistest.New(t)
	fake := telegramtest.New(t)
	in := start(t, r, webhookMode(fake, map[string]string{
		"FAROS_WEBHOOK_SECRET": apiSecret, "FAROS_CLIENT_ADDR_HEADER": "X-Forwarded-For", // behind a proxy
	}))
	base := "http://" + in.addr
	// People whose conversations exist before the junk comes, each from their own address.
	var people []*webPerson
	for i := range 40 {
		w := &webPerson{t: t, in: in, id: randomConversation(), from: fmt.Sprintf("198.51.100.%d", i+1)}
		w.send("/start", "")
		people = append(people, w)
	}
	exits, talkers := people[:30], people[30:]

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	heapBefore := heapMiB()
	stop := make(chan struct{})
	var junk, junkRefused atomic.Int64
	var wg sync.WaitGroup
	long := "/" + strings.Repeat("a", 8<<10)
	for g := range 128 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var status int
				switch (g + i) % 5 {
				case 0:
					status = post(client, base+"/no/such/path", strings.Repeat("x", 1024), jsonHeader())
				case 1:
					status = post(client, base+"/api/v1/messages", `{"conversation": "x", "text": "hi"}`,
						http.Header{"Content-Type": {"application/json"}, "X-Faros-Timestamp": {"1"}, "X-Faros-Signature": {"sha256=00"}})
				case 2:
					status = post(client, base+"/tg/hook", `{"update_id": 1}`, http.Header{"X-Telegram-Bot-Api-Secret-Token": {"wrong-secret-0123456789"}})
				case 3: // new conversations, from one address
					status = post(client, base+"/chat/messages", `{"conversation": "`+randomConversation()+`", "text": "/start"}`,
						http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {"203.0.113.66"}})
				case 4:
					status = post(client, base+long, "", nil)
				}
				junk.Add(1)
				if status == http.StatusServiceUnavailable {
					junkRefused.Add(1)
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond) // the junk is flowing

	type result struct {
		what   string
		status int
		took   time.Duration
	}
	var mu sync.Mutex
	var results []result
	real := func(what string, do func() int) {
		wg.Go(func() {
			start := time.Now()
			status := do()
			mu.Lock()
			results = append(results, result{what, status, time.Since(start)})
			mu.Unlock()
		})
	}
	var talking sync.WaitGroup
	for _, w := range talkers {
		talking.Go(func() {
			for _, text := range []string{"hello", "I need to talk", "/language"} {
				real("web message", func() int {
					return post(client, base+"/chat/messages", `{"conversation": "`+w.id+`", "text": "`+text+`"}`,
						http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {w.from}})
				})
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	for _, w := range exits {
		real("quick exit", func() int {
			return post(client, base+"/chat/messages", `{"conversation": "`+w.id+`", "text": "/wipe"}`,
				http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {w.from}})
		})
	}
	for i := range 30 {
		real("signed API call", func() int {
			body := fmt.Sprintf(`{"conversation": "api-%d", "id": "m-%d", "text": "/start"}`, i, i)
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			return post(client, base+"/api/v1/messages", body, http.Header{"Content-Type": {"application/json"},
				"X-Faros-Timestamp": {ts}, "X-Faros-Signature": {webhook.Sign([]byte(apiSecret), ts, []byte(body))}})
		})
	}
	for i := range 20 {
		real("Telegram update", func() int {
			u := telegramtest.Text(int64(9100+i), "/start")
			u.UpdateID = 910_000 + i
			body, _ := json.Marshal(u)
			return post(client, base+"/tg/hook", string(body), http.Header{"Content-Type": {"application/json"}, "X-Telegram-Bot-Api-Secret-Token": {secret}})
		})
	}
	talking.Wait()
	for { // until every real request is answered
		mu.Lock()
		n := len(results)
		mu.Unlock()
		if n == 30+30+30+20 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	heapDuring := heapMiB()
	close(stop)
	wg.Wait()

	var took []time.Duration
	for _, res := range results {
		took = append(took, res.took)
		if res.status != http.StatusOK {
			t.Errorf("a %s got %d under the junk; want 200", res.what, res.status)
		}
	}
	slices.Sort(took)
	t.Logf("junk: %d requests (%d answered 503); real messages: p50 %v, p99 %v; heap %.1f MiB before, %.1f MiB during",
		junk.Load(), junkRefused.Load(), took[len(took)/2].Round(time.Millisecond), took[len(took)*99/100].Round(time.Millisecond),
		heapBefore, heapDuring)
	if strings.Contains(in.log.String(), strings.Repeat("a", 100)) {
		t.Error("the log holds the long path")
	}
	for i := range 20 {
		if len(fake.Texts(int64(9100+i))) == 0 {
			t.Errorf("Telegram chat %d got no reply", 9100+i)
		}
	}
}

// TestStreamFlood: 10,000 event streams asked for with made-up conversation ids open none and
// hold nothing; then a real page connects, and a counsellor's words reach it, also those
// written while its connection was down. Before, such a flood filled every place (30 → 347
// MB), real pages got 503, and the counsellor's next message was lost.
func TestStreamFlood(t *testing.T) {
	d := startDesk(t, "Vous êtes là", "Bonjour, je suis là")
	in, fake := d.in, d.fake
	base := "http://" + in.addr

	heapBefore := heapMiB()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	statuses := make([]int, 10_000)
	began := time.Now()
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := g; i < len(statuses); i += 64 {
				statuses[i] = post(client, base+"/chat/events", `{"conversation": "`+randomConversation()+`"}`, jsonHeader())
			}
		})
	}
	wg.Wait()
	took := time.Since(began)
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[http.StatusNotFound] != len(statuses) {
		t.Errorf("10,000 streams of made-up conversations: %v; want all 404", counts)
	}
	_, metrics := get(t, "http://"+in.ops+"/metrics")
	if !regexp.MustCompile(`(?m)^faros_webchat_streams 0$`).MatchString(metrics) {
		t.Errorf("streams open after the flood:\n%s", regexp.MustCompile(`(?m)^faros_webchat_streams .*$`).FindString(metrics))
	}
	t.Logf("stream flood: 10,000 attempts in %v; heap %.1f MiB before, %.1f MiB after", took.Round(time.Millisecond), heapBefore, heapMiB())

	// A real page: a case in French, claimed by op2, whose words arrive over the stream.
	op2 := &tgChat{t: t, fake: fake, id: 502, counsellor: true}
	web := newWebPerson(t, in)
	web.send("/start", "")
	for _, id := range []string{"fr", "safe", "person", "yes", "ngo"} {
		web.press(id)
	}
	web.press("skip")
	id := op2.until(caseID)[1]
	events, hangUp := web.listenUntil()
	op2.say("/claim " + id)
	if got := events.next(); !strings.Contains(got, "Conseillère EKKA 2 est là") {
		t.Errorf("first event %q; want the claim", got)
	}
	op2.tell("Bonjour, je suis là.")
	if got := events.next(); got != "Conseillère EKKA 2:\nBonjour, je suis là." {
		t.Errorf("the counsellor's words over the stream: %q", got)
	}

	// The page's connection drops; the counsellor writes; the page connects again.
	hangUp()
	time.Sleep(100 * time.Millisecond)
	op2.tell("Vous êtes là ?")
	time.Sleep(300 * time.Millisecond)
	for _, text := range fake.Texts(502) {
		if strings.Contains(text, "δεν") && strings.Contains(text, id) && strings.Contains(text, "cannot") {
			t.Errorf("the counsellor was told the person cannot be reached: %q", text)
		}
	}
	events.mu.Lock()
	shown := events.last
	events.mu.Unlock()
	events, _ = web.listenAfter(shown)
	if got := events.next(); got != "Conseillère EKKA 2:\nVous êtes là ?" {
		t.Errorf("after reconnecting the page got %q; want the words written meanwhile", got)
	}
}

// TestARemovedCounsellorsCase: a person writes thirty short messages in a few seconds to the
// counsellor who claimed the case, and all thirty arrive, in order; then the counsellor is
// taken off the roster, and the case goes to the other one, whom the person's next words
// reach. Before, the limit dropped the person's words after twenty, and a removed
// counsellor's case reached nobody for a week.
func TestARemovedCounsellorsCase(t *testing.T) {
	d := startDesk(t, "7401", "είσαι εκεί")
	fake := d.fake
	op1 := &tgChat{t: t, fake: fake, id: 501, counsellor: true}
	op2 := &tgChat{t: t, fake: fake, id: 502, counsellor: true}
	person := &tgChat{t: t, fake: fake, id: 7401}
	person.consent("el")
	id := op1.until(caseID)[1]
	op2.until(caseID)
	op1.say("/claim " + id)
	op1.next()    // the packet
	person.next() // "a counsellor is here"

	var want []string
	for i := range 30 {
		text := fmt.Sprintf("είσαι εκεί %d;", i)
		want = append(want, "["+id+"] "+text)
		person.tell(text)
	}
	var got []string
	for range 30 {
		got = append(got, op1.next())
	}
	if !slices.Equal(got, want) {
		t.Errorf("the counsellor got %q; want all 30 in order", got)
	}
	if texts := fake.Texts(7401); slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, "πολλά μηνύματα") }) {
		t.Errorf("the person was told to slow down in a case: %q", texts)
	}

	withoutOp1 := regexp.MustCompile(`(?m)^.*(id: op1|operator: op1).*\n`).ReplaceAllString(e2eRoster, "")
	if err := os.WriteFile(d.roster, []byte(withoutOp1), 0o644); err != nil {
		t.Fatal(err)
	}
	notice := op2.until(regexp.MustCompile(`↩ \[` + id + `\][\s\S]*left the roster`))
	if notice == nil {
		t.Fatal("op2 was not given the case")
	}
	op2.say("/claim " + id)
	person.tell("είσαι εκεί;")
	op2.until(regexp.MustCompile(regexp.QuoteMeta("[" + id + "] είσαι εκεί;")))
}

// listenUntil opens the page's event stream and returns it with the function that drops its
// connection.
func (w *webPerson) listenUntil() (*stream, func()) {
	w.t.Helper()
	return w.listenAfter("")
}

func (w *webPerson) listenAfter(after string) (*stream, func()) {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+w.in.addr+"/chat/events",
		bytes.NewReader([]byte(`{"conversation": "`+w.id+`", "after": "`+after+`"}`)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("event stream: status %d", resp.StatusCode)
	}
	return readEvents(w.t, resp.Body), cancel
}
