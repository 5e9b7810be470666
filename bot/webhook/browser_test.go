package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/internal/browsertest"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/internal/testkit"
)

// TestBrowser drives the web chat in Chromium as a person would, then leaves it with Esc and
// with the quick exit button.
func TestBrowser(t *testing.T) {
	browserCtx := browsertest.Start(t, 45*time.Second)

	t.Run("Esc", func(t *testing.T) { testChat(t, browserCtx, chromedp.KeyEvent(kb.Escape)) })
	t.Run("QuickExitButton", func(t *testing.T) { testChat(t, browserCtx, chromedp.Click(chromedp.ID("exit"))) })
}

// flowHandler imitates the first steps of the real flows: the language question, the
// safety check and one screening question.
type flowHandler struct {
	mu  sync.Mutex
	got []bot.Message
}

func (h *flowHandler) Handle(_ context.Context, m bot.Message) ([]bot.Reply, error) {
	h.mu.Lock()
	h.got = append(h.got, m)
	h.mu.Unlock()
	switch {
	case m.Text == "/start":
		return []bot.Reply{{Text: "Choose your language.\nΕπιλέξτε γλώσσα.", Buttons: []bot.Button{
			{Data: "en", Label: "English"}, {Data: "el", Label: "Ελληνικά"}, {Data: "fr", Label: "Français"}, {Data: "sq", Label: "Shqip"},
		}}}, nil
	case m.Button == "en":
		return []bot.Reply{{Text: "Is it safe to chat now?\nDoes anyone else read messages on this phone?", Buttons: []bot.Button{
			{Data: "safe", Label: "Yes, it is safe"}, {Data: "unsafe", Label: "No"},
		}}}, nil
	case m.Button == "safe":
		return []bot.Reply{
			{Text: "Thank you. You can skip any question."},
			{Text: "Did someone promise you a job that was different when you arrived?", Buttons: []bot.Button{
				{Data: "yes", Label: "Yes"}, {Data: "no", Label: "No"}, {Data: "unsure", Label: "Not sure"}, {Data: "skip", Label: "Skip"},
			}},
		}, nil
	case m.Button == "yes":
		return []bot.Reply{{Text: "<b>Noted.</b> In danger, call 112.", Urgent: true}}, nil
	case m.Text == "/wipe":
		return []bot.Reply{{Text: "Deleted."}}, nil
	}
	return []bot.Reply{{Text: "You wrote: " + m.Text}}, nil
}

func (h *flowHandler) messages() []bot.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

// conversationWords are said in testChat's conversation and must not outlive it.
var conversationWords = []string{"language", "safe", "promise", "Noted", "hello there", "my boss", "counsellor"}

// testChat has a conversation in a new tab, then leaves it with exit and checks that nothing of
// it is left.
func testChat(t *testing.T, browserCtx context.Context, exit chromedp.Action[chromedp.Void]) {
	exitSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><title>Weather</title><p id="neutral">Sunny, 24 °C</p>`)
	}))
	defer exitSrv.Close()
	exitURL := exitSrv.URL + "/"

	h := &flowHandler{}
	chat, err := webhook.NewChat(webhook.ChatConfig{Handler: h, ExitURL: exitURL})
	if err != nil {
		t.Fatal(err)
	}
	defer chat.Close()
	// The test makes the page report to /test/leftovers what is on it when it is unloaded.
	leftovers := make(chan string, 1)
	mux := http.NewServeMux()
	requests := &requestLog{}
	mux.Handle("/", requests.wrap(chat))
	mux.HandleFunc("POST /test/leftovers", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		leftovers <- string(b)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// A browser context of its own, so that the runs share no storage.
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	console := collectConsole(ctx)

	converse(t, ctx, srv.URL)
	screenshots(t, ctx)("conversation")
	id := checkMessages(t, h)
	checkPage(t, ctx)
	requests.check(t, id)

	// A later message (an operator's) reaches the open page over Server-Sent Events.
	later := []bot.Reply{{Text: "A counsellor writes: hello"}}
	eventually(t, "Send to the page's event stream", func() bool { return chat.Send(ctx, id, later) == nil })
	if err := chromedp.Do(ctx, waitFor(t, logHas("A counsellor writes: hello"))); err != nil {
		t.Fatal(err)
	}

	noStorage := []string{
		`localStorage.length === 0 && sessionStorage.length === 0 && document.cookie === ''`,
		`indexedDB.databases().then(dbs => dbs.length === 0)`,
	}
	evalTrue(t, ctx, "before exit", noStorage...)
	historyBefore, err := chromedp.Run(ctx, chromedp.Evaluate[int]("history.length"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range console.messages() {
		t.Errorf("console: %s", m)
	}

	const report = `addEventListener('pagehide', () => navigator.sendBeacon('/test/leftovers', document.body.innerText + document.getElementById('text').value))`
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](report), exit); err != nil {
		t.Fatalf("exit: %v", err)
	}
	select {
	case left := <-leftovers:
		if found := wordsIn(left); len(found) > 0 {
			t.Errorf("as it was unloaded, the chat page held %q: %q", found, left)
		}
	case <-time.After(5 * time.Second):
		t.Error("the chat page never reported what was on it as it was unloaded")
	}

	eventually(t, "location "+exitURL, func() bool {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		return err == nil && loc == exitURL
	})
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("neutral"))); err != nil {
		t.Fatal(err)
	}
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.outerHTML"))
	if err != nil {
		t.Fatal(err)
	}
	if found := wordsIn(html); len(found) > 0 || strings.Contains(html, "Faros") {
		t.Errorf("the exit page holds %q: %s", found, html)
	}
	evalTrue(t, ctx, "after exit", noStorage...)
	// location.replace took the chat out of the history, so Back does not lead to it.
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int]("history.length")); err != nil || n != historyBefore {
		t.Errorf("history.length after exit = %d, %v; want %d as before", n, err, historyBefore)
	}

	eventually(t, "/wipe", func() bool {
		msgs := h.messages()
		return msgs[len(msgs)-1] == bot.Message{Channel: "web", ChatID: id, Text: "/wipe", Language: msgs[0].Language}
	})
}

// requestLog records the requests a page makes, in the order they come and end.
type requestLog struct {
	mu  sync.Mutex
	got []string // "METHOD URL" as they came, "done METHOD URL" as they were answered
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.add(r.Method + " " + r.URL.String())
		h.ServeHTTP(w, r)
		l.add("done " + r.Method + " " + r.URL.String())
	})
}

func (l *requestLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, s)
}

// check: the conversation id is in no URL, and the event stream was asked for only once the
// first message (/start) was answered, when the conversation exists.
func (l *requestLog) check(t *testing.T, id string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	started, streamed := -1, -1
	for i, r := range l.got {
		if strings.Contains(r, id) {
			t.Errorf("request %q holds the conversation id in its URL", r)
		}
		if r == "done POST /chat/messages" && started < 0 {
			started = i
		}
		if r == "POST /chat/events" && streamed < 0 {
			streamed = i
		}
	}
	if started < 0 || streamed < started {
		t.Errorf("requests %q: want POST /chat/events after the first answer to POST /chat/messages", l.got)
	}
}

// converse opens the page and goes through the first steps with the mouse and the keyboard.
func converse(t *testing.T, ctx context.Context, url string) {
	button := func(label string) chromedp.Search {
		return chromedp.Search(`//div[@id='log']//button[normalize-space()='` + label + `']`)
	}
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(320, 640),
		chromedp.Navigate(url),
		waitFor(t, logHas("Choose your language.")),
		chromedp.Click(button("English")),
		waitFor(t, logHas("Does anyone else read messages on this phone?")),
		chromedp.Click(button("Yes, it is safe")),
		waitFor(t, logHas("Did someone promise you a job")),
		// After a choice, focus moves to the next question's first answer.
		waitFor(t, `document.activeElement.textContent === 'Yes'`),
	)
	if err != nil {
		t.Fatalf("chat: %v", err)
	}

	// Tab goes from the quick exit through the answers to the text box, with a visible ring.
	var order []string
	const focused = `(e => (e.id || e.textContent) + (getComputedStyle(e).outlineStyle === 'none' ? ' (no focus ring)' : ''))(document.activeElement)`
	steps := []chromedp.Action[chromedp.Void]{chromedp.Focus(chromedp.ID("exit"))}
	for range 6 {
		steps = append(steps, chromedp.KeyEvent(kb.Tab), chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
			label, err := chromedp.Evaluate[string](focused)(ctx, tt)
			order = append(order, label)
			return err
		}))
	}
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"Yes", "No", "Not sure", "Skip", "text", "send"}, order); d != "" {
		t.Errorf("focus order after the quick exit (-want +got):\n%s", d)
	}

	err = chromedp.Do(ctx,
		chromedp.Focus(button("Yes")),
		chromedp.KeyEvent(kb.Enter),
		waitFor(t, logHas("<b>Noted.</b> In danger, call 112.")),
		chromedp.SendKeys(chromedp.ID("text"), "hello there"+kb.Enter),
		waitFor(t, logHas("You wrote: hello there")),
		// Words typed but not sent are on screen too.
		chromedp.SendKeys(chromedp.ID("text"), "my boss"),
	)
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
}

// checkMessages checks what the handler got and returns the conversation id.
func checkMessages(t *testing.T, h *flowHandler) string {
	msgs := h.messages()
	id, lang := msgs[0].ChatID, msgs[0].Language
	if len(id) != 32 || lang == "" {
		t.Errorf("first message %+v; want a 32-digit conversation id and a language", msgs[0])
	}
	want := []bot.Message{
		{Channel: "web", ChatID: id, Text: "/start", Language: lang},
		{Channel: "web", ChatID: id, Button: "en", Language: lang},
		{Channel: "web", ChatID: id, Button: "safe", Language: lang},
		{Channel: "web", ChatID: id, Button: "yes", Language: lang},
		{Channel: "web", ChatID: id, Text: "hello there", Language: lang},
	}
	if d := cmp.Diff(want, msgs); d != "" {
		t.Errorf("handler got (-want +got):\n%s", d)
	}
	return id
}

// checkPage checks how the conversation shows.
func checkPage(t *testing.T, ctx context.Context) {
	evalTrue(t, ctx, "page",
		// line breaks kept
		`[...document.querySelectorAll('#log .bot')].some(e => e.innerText.includes('now?\nDoes anyone'))`,
		// reply text is text, not markup
		`document.querySelector('#log b') === null`,
		`document.querySelectorAll('#log .urgent').length === 1`,
		// the person's answers, each sent, and no answered choices left
		`[...document.querySelectorAll('#log .me')].map(e => e.textContent).join('|') === 'English|Yes, it is safe|Yes|hello there'`,
		`document.querySelectorAll('#log .pending, #log .failed').length === 0`,
		`document.querySelectorAll('#log .choices').length === 0`,
		// a 320-px phone: nothing sideways, the quick exit in view and large enough to tap
		`window.innerWidth === 320 && document.documentElement.scrollWidth <= 320`,
		`(r => r.top >= 0 && r.right <= 320 && r.width >= 44 && r.height >= 44)(document.getElementById('exit').getBoundingClientRect())`,
	)
}

// waitFor is an action that waits until js is true. It fails after 15 seconds, within the
// test's time, so that the test says what it waited for. (5 were too few once: the first
// Urdu reply of a Chromium installed minutes before, beside go test's other packages on two
// cores, 2026-12-02.)
func waitFor(t *testing.T, js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second))(ctx, tt)
		if err != nil {
			t.Errorf("waiting for %s: %v", js, err)
		}
		return err
	})
}

func logHas(s string) string {
	quoted := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
	return `document.getElementById('log').textContent.includes(` + quoted + `)`
}

// evalTrue checks that each JavaScript expression (or promise) is true.
func evalTrue(t *testing.T, ctx context.Context, when string, exprs ...string) {
	t.Helper()
	for _, js := range exprs {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise)); err != nil || !ok {
			t.Errorf("%s, %s: got %v, %v; want true", when, js, ok, err)
		}
	}
}

// eventually waits up to 5 seconds for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wordsIn(s string) []string {
	var found []string
	for _, w := range conversationWords {
		if strings.Contains(s, w) {
			found = append(found, w)
		}
	}
	return found
}

// consoleLog gathers the page's problems: uncaught exceptions, errors and warnings, among
// them the browser's reports of failed or blocked requests (a CSP violation).
type consoleLog struct {
	mu   sync.Mutex
	msgs []string
}

func collectConsole(ctx context.Context) *consoleLog {
	c := &consoleLog{}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
				c.mu.Lock()
				c.msgs = append(c.msgs, m.String())
				c.mu.Unlock()
			}
		}
	}()
	return c
}

func (c *consoleLog) messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// liveHandler is flowHandler with sessions, as the bot keeps them: a message makes its
// conversation live. It cannot take "busy now" (bot.ErrOverloaded), nor "busy once" the first
// time; it holds "wait" until release is closed.
type liveHandler struct {
	*flowHandler
	sessions sessions
	release  chan struct{}
	freed    sync.Once

	mu       sync.Mutex
	busyOnce bool // "busy once" was refused
	inFlight int
	most     int // messages handled at once, at most
}

func (h *liveHandler) Handle(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
	h.mu.Lock()
	h.inFlight++
	h.most = max(h.most, h.inFlight)
	refuse := m.Text == "busy now" || m.Text == "busy once" && !h.busyOnce
	h.busyOnce = h.busyOnce || m.Text == "busy once"
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.inFlight--
		h.mu.Unlock()
	}()
	if refuse {
		h.flowHandler.Handle(ctx, m) // recorded: it was tried
		return nil, bot.ErrOverloaded
	}
	if err := h.sessions.live(ctx, m.ChatID); err != nil {
		return nil, err
	}
	replies, err := h.flowHandler.Handle(ctx, m)
	if m.Text == "wait" {
		<-h.release
	}
	return replies, err
}

// free lets "wait" through.
func (h *liveHandler) free() { h.freed.Do(func() { close(h.release) }) }

// texts returns the texts the handler got, in order.
func (h *liveHandler) texts() []string {
	var out []string
	for _, m := range h.messages() {
		if m.Text != "" {
			out = append(out, m.Text)
		}
	}
	return out
}

// livePage serves a chat with sessions and an inbox, and opens it in a new browser context.
type livePage struct {
	t    *testing.T
	ctx  context.Context
	chat *webhook.Chat
	h    *liveHandler
	r    *redistest.Redis
	reg  *prometheus.Registry
	down atomic.Bool // the network drops every request for an event stream
	srv  *httptest.Server
}

func openLivePage(t *testing.T, browserCtx context.Context) *livePage {
	t.Helper()
	p := &livePage{t: t, r: redistest.New(t), reg: prometheus.NewRegistry()}
	inbox := bot.NewInbox(p.r.Client, p.r.Prefix, "web", pseudonymKey)
	s := sessions{r: p.r, inbox: inbox}
	p.h = &liveHandler{flowHandler: &flowHandler{}, sessions: s, release: make(chan struct{})}
	chat, err := webhook.NewChat(webhook.ChatConfig{Handler: p.h, Conversations: s, Inbox: inbox, Registerer: p.reg})
	if err != nil {
		t.Fatal(err)
	}
	p.chat = chat
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- chat.Run(runCtx) }()
	t.Cleanup(func() { chat.Close(); stop(); <-done })
	// While down, the network drops every request for an event stream, as a phone that lost
	// its connection would; Chrome itself retries a request whose connection closed at once.
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() && r.URL.Path == "/chat/events" {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		chat.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	t.Cleanup(p.h.free) // first: a test that failed while "wait" was held must not hang in Close

	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p.ctx = ctx
	if err := chromedp.Do(ctx, chromedp.Navigate(p.srv.URL), waitFor(t, logHas("Choose your language."))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the page's event stream", func() bool { return p.streams() == 1 })
	return p
}

func (p *livePage) streams() float64 { return testkit.Metric(p.t, p.reg, "faros_webchat_streams") }

// TestBrowserReconnects: the page's event stream comes back after its connection drops, and
// what a counsellor wrote meanwhile arrives, once, and what came before does not come again;
// the page's next message acknowledges it, and the inbox lets it go.
func TestBrowserReconnects(t *testing.T) {
	p := openLivePage(t, browsertest.Start(t, 30*time.Second))
	id := p.h.messages()[0].ChatID

	if err := p.chat.Send(p.ctx, id, []bot.Reply{{Text: "A counsellor writes: hello"}}); err != nil {
		t.Fatalf("Send to the open page = %v; want nil", err)
	}
	if err := chromedp.Do(p.ctx, waitFor(t, logHas("A counsellor writes: hello"))); err != nil {
		t.Fatal(err)
	}
	p.down.Store(true)
	p.srv.CloseClientConnections()
	eventually(t, "the stream to drop", func() bool { return p.streams() == 0 })
	if err := p.chat.Send(p.ctx, id, []bot.Reply{{Text: "A counsellor writes: are you there?"}}); !errors.Is(err, bot.ErrAway) {
		t.Fatalf("Send while the page is away = %v; want bot.ErrAway", err)
	}
	if got := testkit.Metric(t, p.reg, "faros_webchat_pushes_total", "result", "stored"); got != 1 {
		t.Errorf("faros_webchat_pushes_total{result=stored} = %v; want 1", got)
	}
	p.down.Store(false)
	count := func(s string) string {
		return `document.getElementById('log').textContent.split('` + s + `').length - 1`
	}
	err := chromedp.Do(p.ctx,
		waitFor(t, logHas("A counsellor writes: are you there?")),
		chromedp.SendKeys(chromedp.ID("text"), "yes I am"+kb.Enter),
		waitFor(t, logHas("You wrote: yes I am")),
	)
	if err != nil {
		t.Fatal(err)
	}
	evalTrue(t, p.ctx, "after reconnecting", count("are you there?")+` === 1`, count("writes: hello")+` === 1`)
	keys, _ := p.r.Keys(t.Context())
	if slices.ContainsFunc(keys, func(k string) bool { return strings.HasSuffix(k, ":inbox") }) {
		t.Errorf("keys %q: want no inbox, the page having shown everything", keys)
	}
}

// TestBrowserSendsInOrder: messages typed quickly show at once, pending, and reach the bot one
// at a time, in the order typed; a message the server cannot take at the moment (503) is
// sent again when it says; one it never takes is marked not sent and goes back to the text
// box; every refusal shows the emergency numbers.
func TestBrowserSendsInOrder(t *testing.T) {
	p := openLivePage(t, browsertest.Start(t, 40*time.Second))
	const statusShows112 = `!document.getElementById('status').hidden && document.getElementById('status').textContent.includes('112')`

	err := chromedp.Do(p.ctx,
		chromedp.SendKeys(chromedp.ID("text"), "wait"+kb.Enter+"two"+kb.Enter+"three"+kb.Enter),
		waitFor(t, `[...document.querySelectorAll('#log .me.pending')].map(e => e.textContent).join('|') === 'wait|two|three'`),
	)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // time for "two" to overtake "wait", were they not queued
	if d := cmp.Diff([]string{"/start", "wait"}, p.h.texts()); d != "" {
		t.Errorf("while the first is handled, the bot got (-want +got):\n%s", d)
	}
	p.h.free()
	if err := chromedp.Do(p.ctx, waitFor(t, logHas("You wrote: three"))); err != nil {
		t.Fatal(err)
	}
	evalTrue(t, p.ctx, "sent", `document.querySelectorAll('#log .pending, #log .failed').length === 0`)
	if d := cmp.Diff([]string{"/start", "wait", "two", "three"}, p.h.texts()); d != "" {
		t.Errorf("the bot got (-want +got):\n%s", d)
	}
	if p.h.most != 1 {
		t.Errorf("the bot handled %d messages at once; want 1", p.h.most)
	}

	err = chromedp.Do(p.ctx,
		chromedp.SendKeys(chromedp.ID("text"), "busy once"+kb.Enter),
		waitFor(t, statusShows112), // refused, and to be sent again
		waitFor(t, logHas("You wrote: busy once")),
		waitFor(t, `document.getElementById('status').hidden`),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.h.texts(); !slices.Equal(got[len(got)-2:], []string{"busy once", "busy once"}) {
		t.Errorf("the bot got %q; want \"busy once\" twice: refused, then sent again", got)
	}

	err = chromedp.Do(p.ctx,
		chromedp.SendKeys(chromedp.ID("text"), "busy now"+kb.Enter),
		waitFor(t, statusShows112),
		chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error { // four tries: 3 s
			_, err := chromedp.Poll[bool](`document.getElementById('text').value === 'busy now'`, chromedp.WithPollingTimeout(10*time.Second))(ctx, tt)
			return err
		}),
	)
	if err != nil {
		t.Fatalf("a message never taken: %v", err)
	}
	evalTrue(t, p.ctx, "not sent", statusShows112,
		`document.querySelector('#log .me:last-of-type').classList.contains('failed')`,
		`document.querySelectorAll('#log .pending').length === 0`)
	if got := p.h.texts(); len(got) < 4 || !slices.Equal(got[len(got)-4:], []string{"busy now", "busy now", "busy now", "busy now"}) {
		t.Errorf("the bot got %q; want \"busy now\" four times", got)
	}
}
