// Package telegramtest is a fake Telegram Bot API for tests, to be used with the real client.
//
// A Server answers getMe (which FailGetMe can make fail), getUpdates, setWebhook,
// deleteWebhook, sendMessage, copyMessage, editMessageText, answerCallbackQuery and
// deleteMessages for any token, records every call, and can answer sendMessage, copyMessage,
// editMessageText and deleteMessages with errors and 429s like Telegram's flood control. It
// keeps each chat's messages as the person's phone shows them (Screen): those it sent, edited
// and deleted, and the person's made by Say, numbered in one sequence per chat as Telegram
// numbers a private chat's messages; Press presses a button under one of them. It also answers
// setMyDescription, setMyShortDescription, setMyCommands and deleteMyCommands, which
// FailSurface can make fail. WebhookAnswer makes the call a bot's webhook answered with, as
// Telegram does. Hold makes the calls of a method wait until released, so that a
// test can stop the service with requests in flight.
//
//	srv := telegramtest.New(t)
//	ch, err := telegram.New(telegram.Config{Token: "1:x", Endpoint: srv.URL()}, handler)
//	srv.QueueUpdate(telegramtest.Text(42, "hello"))
//	calls := srv.Wait("sendMessage", 1)
package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"strconv"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// LongPoll is the longest a getUpdates call waits for an update, whatever its timeout: short, so
// that tests do not wait on a poll.
const LongPoll = 100 * time.Millisecond

// Call is one request the Server received.
type Call struct {
	Method string
	// Params holds the form values; of a JSON body, strings as they are and other values as
	// JSON text, the way a form carries reply_markup.
	Params map[string]string
	Time   time.Time // when the Server answered: for getUpdates, after its long poll
	Status int       // the HTTP status the Server answered
	// MessageID is the id of the message a sendMessage or copyMessage made: what a reply to it
	// (Reply) names.
	MessageID int
	// Webhook tells a call made by a webhook's answer (WebhookAnswer), whose result the bot
	// never sees.
	Webhook bool
}

// JSON decodes the JSON text of the parameter key, such as reply_markup, into v.
func (c Call) JSON(key string, v any) error {
	return json.Unmarshal([]byte(c.Params[key]), v)
}

// Server is a fake Bot API. Its methods are safe for concurrent use.
type Server struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	calls     []Call
	updates   []tgbotapi.Update    // queued and not yet confirmed by an offset
	lastID    int                  // of the last queued update
	arrived   chan struct{}        // closed and replaced when an update is queued
	failures  map[string][]failure // by method and chat id
	perSecond int
	perChat   time.Duration
	accepted  []time.Time          // of the messages sent or edited (answered 200), for Limit
	lastSend  map[string]time.Time // by chat id, for Limit
	chats     map[string]*chat     // by chat id: its messages, as the person's phone shows them
	presses   int                  // callback queries made by Press
	holds     map[string]*Hold     // by method
	broken    bool
	limited   int        // 429s Limit gave
	conns     int        // connections opened to the Server
	stream    func(Call) // when set, gets every call instead of s.calls (Stream)
}

type failure struct {
	code        int
	description string
	retryAfter  int
}

// New starts a Server, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		t:        t,
		lastID:   1000,
		arrived:  make(chan struct{}),
		failures: map[string][]failure{},
		lastSend: map[string]time.Time{},
		chats:    map[string]*chat{},
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// Start starts a Server outside a test, for a benchmark or a load tool; Close stops it. Its Wait
// and Hold.Wait panic where they would fail a test.
func Start() *Server {
	s := New(noTest{})
	return s
}

// noTest stands for the testing.TB of a Server started by Start: Cleanup is left to Close, and
// a failure panics.
type noTest struct{ testing.TB }

func (noTest) Helper()                      {}
func (noTest) Cleanup(func())               {}
func (noTest) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

// Stream has every later call passed to f, just before it is answered, instead of recorded: Calls, Wait and
// Texts no longer see them. For long runs, whose calls would fill the memory. f is called from
// the Server's handlers, concurrently, and should return quickly.
func (s *Server) Stream(f func(Call)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stream = f
}

// URL returns the endpoint pattern to pass as telegram.Config.Endpoint.
func (s *Server) URL() string { return s.srv.URL + "/bot%s/%s" }

// Connections returns how many connections clients have opened to the Server.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Close stops the Server; New has it closed when the test ends.
func (s *Server) Close() { s.srv.Close() }

// Break makes every later call fail in the transport, as when the network fails: the Server cuts
// the connection without an answer.
func (s *Server) Break() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken = true
}

// Hold makes every later call of method wait, before it is answered, until Release (or until
// its client gives up): a test can then stop the service while its requests are in flight.
func (s *Server) Hold(method string) *Hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holds == nil {
		s.holds = map[string]*Hold{}
	}
	h := &Hold{t: s.t, changed: make(chan struct{}), released: make(chan struct{})}
	s.holds[method] = h
	return h
}

// Hold holds the calls of one method; see Server.Hold.
type Hold struct {
	t        testing.TB
	mu       sync.Mutex
	n        int           // calls that arrived
	changed  chan struct{} // closed and replaced when a call arrives
	released chan struct{}
	once     sync.Once
}

// wait counts a call of r and holds it until Release. A nil Hold holds nothing.
func (h *Hold) wait(r *http.Request) {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.n++
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
	select {
	case <-h.released:
	case <-r.Context().Done():
	}
}

// Wait waits up to 5 seconds until n calls have arrived, held or since released; it fails the
// test if they have not, so call it from the test's goroutine.
func (h *Hold) Wait(n int) {
	h.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		h.mu.Lock()
		got, changed := h.n, h.changed
		h.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			h.t.Fatalf("telegramtest: %d calls held; want %d", got, n)
		}
	}
}

// Release answers the calls held, and lets later ones through.
func (h *Hold) Release() { h.once.Do(func() { close(h.released) }) }

// webhookHeader marks the request by which WebhookAnswer makes a call.
const webhookHeader = "X-Telegramtest-Webhook-Answer"

// WebhookAnswer makes the call that resp, a bot's answer to an update posted to its webhook,
// names in its "method" parameter (a JSON body), as Telegram does: recorded with Webhook set,
// held by Hold, answered to nobody. An answer that is not a 200 with a JSON body makes none,
// and neither does a Server that Break broke. It reads and closes resp's body.
func (s *Server) WebhookAnswer(resp *http.Response) {
	s.t.Helper()
	defer func() {
		_, _ = io.Copy(io.Discard, resp.Body) // read to the end, so the connection is kept
		resp.Body.Close()
	}()
	s.mu.Lock()
	broken := s.broken
	s.mu.Unlock()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if broken || resp.StatusCode != http.StatusOK || ct != "application/json" {
		return
	}
	var params map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&params); err != nil {
		s.t.Fatalf("telegramtest: a webhook's answer that is not JSON: %v", err)
	}
	var method string
	if err := json.Unmarshal(params["method"], &method); err != nil || method == "" {
		s.t.Fatalf("telegramtest: a webhook's answer without a method: %v", err)
	}
	delete(params, "method")
	body, _ := json.Marshal(params)
	r := httptest.NewRequest(http.MethodPost, "/botwebhook/"+method, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(webhookHeader, "1")
	s.serve(httptest.NewRecorder(), r)
}

// QueueUpdate queues an update for getUpdates and returns its update_id, which it sets when zero.
func (s *Server) QueueUpdate(u tgbotapi.Update) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.UpdateID == 0 {
		u.UpdateID = s.lastID + 1
	}
	s.lastID = max(s.lastID, u.UpdateID)
	s.updates = append(s.updates, u)
	close(s.arrived)
	s.arrived = make(chan struct{})
	return u.UpdateID
}

// Calls returns the calls of method so far, in order; all calls if method is "".
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var calls []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			calls = append(calls, c)
		}
	}
	return calls
}

// Wait waits up to 5 seconds until there are at least n calls of method and returns them; it
// fails the test if there are not, so call it from the test's goroutine.
func (s *Server) Wait(method string, n int) []Call {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		calls := s.Calls(method)
		if len(calls) >= n {
			return calls
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("telegramtest: got %d %s calls; want %d", len(calls), method, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Mend undoes Break: later calls are answered again.
func (s *Server) Mend() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken = false
}

// Limit makes the Server enforce Telegram's flood limits: beyond perSecond messages in any
// second, or a message to a chat sooner than perChat after the last one it accepted, it answers
// 429 Too Many Requests with retry_after the whole seconds until the message would be accepted
// (at least 1), as Telegram does. A message is a sendMessage, a copyMessage or an
// editMessageText: Telegram counts an edit under the same limits as a message sent. Zero turns
// a limit off; both are off until Limit is called. Telegram's own limits are Limit(30,
// time.Second). Limited counts the 429s.
func (s *Server) Limit(perSecond int, perChat time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perSecond, s.perChat = perSecond, perChat
}

// Limited returns how many sendMessage, copyMessage and editMessageText calls Limit refused
// with a 429.
func (s *Server) Limited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	broken := s.broken
	s.mu.Unlock()
	if broken {
		panic(http.ErrAbortHandler) // net/http cuts the connection and logs nothing
	}
	method := path.Base(r.URL.Path)
	s.mu.Lock()
	hold := s.holds[method]
	s.mu.Unlock()
	hold.wait(r)
	s.mu.Lock()
	meFailure, meFailed := s.failure(method, "") // getMe's (FailGetMe)
	if meFailed && meFailure.code == 0 {
		s.calls = append(s.calls, Call{Method: method, Time: time.Now()})
		s.mu.Unlock()
		panic(http.ErrAbortHandler) // the connection cut
	}
	s.mu.Unlock()
	var result any = true
	var f failure
	params, err := decodeParams(r)
	switch {
	case err != nil:
		f = failure{http.StatusBadRequest, "Bad Request: " + err.Error(), 0}
	case method == "getMe" && meFailed:
		f = meFailure
	case method == "getMe":
		result = tgbotapi.User{ID: 1, IsBot: true, FirstName: "Faros", UserName: "faros_bot"}
	case method == "getUpdates":
		result = s.getUpdates(r, params)
	case method == "sendMessage":
		result, f = s.sendMessage(params)
	case method == "copyMessage":
		result, f = s.copyMessage(params)
	case method == "editMessageText":
		result, f = s.editMessageText(params)
	case method == "deleteMessages":
		f = s.deleteMessages(params)
	case method == "setMyDescription", method == "setMyShortDescription", method == "setMyCommands",
		method == "deleteMyCommands":
		f = s.surface(method, params)
	case method == "setWebhook", method == "deleteWebhook", method == "answerCallbackQuery":
	default:
		f = failure{http.StatusNotFound, "Not Found", 0}
	}
	status := http.StatusOK
	if f.code != 0 {
		status = f.code
	}
	msgID := 0
	switch m := result.(type) {
	case tgbotapi.Message:
		msgID = m.MessageID
	case tgbotapi.MessageID:
		msgID = m.MessageID
	}
	call := Call{Method: method, Params: params, Time: time.Now(), Status: status, MessageID: msgID,
		Webhook: r.Header.Get(webhookHeader) != ""}
	s.mu.Lock()
	stream := s.stream
	if stream == nil {
		s.calls = append(s.calls, call)
	}
	s.mu.Unlock()
	if stream != nil {
		stream(call)
	}
	s.answer(w, status, result, f)
}

func (s *Server) answer(w http.ResponseWriter, status int, result any, f failure) {
	resp := map[string]any{"ok": status == http.StatusOK}
	if status == http.StatusOK {
		resp["result"] = result
	} else {
		resp["error_code"] = f.code
		resp["description"] = f.description
		if f.retryAfter > 0 {
			resp["parameters"] = map[string]int{"retry_after": f.retryAfter}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

// getUpdates forgets the updates below offset, as Telegram does, and returns the rest, waiting
// for one up to the timeout or LongPoll.
func (s *Server) getUpdates(r *http.Request, params map[string]string) []tgbotapi.Update {
	offset, _ := strconv.Atoi(params["offset"])
	limit, _ := strconv.Atoi(params["limit"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(params["timeout"])
	deadline := time.After(min(time.Duration(timeout)*time.Second, LongPoll))
	for {
		s.mu.Lock()
		var pending []tgbotapi.Update
		for _, u := range s.updates {
			if u.UpdateID >= offset {
				pending = append(pending, u)
			}
		}
		s.updates = pending
		arrived := s.arrived
		s.mu.Unlock()
		if len(pending) > 0 {
			return pending[:min(limit, len(pending))]
		}
		select {
		case <-arrived:
		case <-deadline:
			return []tgbotapi.Update{}
		case <-r.Context().Done():
			return []tgbotapi.Update{}
		}
	}
}

// decodeParams reads a form, multipart or JSON body.
func decodeParams(r *http.Request) (map[string]string, error) {
	params := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var raw map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			return params, err
		}
		for k, v := range raw {
			var str string
			if json.Unmarshal(v, &str) == nil {
				params[k] = str
			} else {
				params[k] = string(v)
			}
		}
		return params, nil
	case "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return params, err
		}
	default:
		if err := r.ParseForm(); err != nil {
			return params, err
		}
	}
	for k, v := range r.Form {
		params[k] = v[0]
	}
	return params, nil
}
