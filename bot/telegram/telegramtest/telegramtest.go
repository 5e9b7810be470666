// Package telegramtest is a fake Telegram Bot API for tests, to be used with the real client.
//
// A Server answers getMe (which FailGetMe can make fail), getUpdates, setWebhook, deleteWebhook, sendMessage, copyMessage,
// answerCallbackQuery and deleteMessages for any token, records every call, and can answer
// sendMessage, copyMessage and deleteMessages with errors and 429s like Telegram's flood
// control. It also answers setMyDescription, setMyShortDescription, setMyCommands and
// deleteMyCommands, which FailSurface can make fail. Hold makes the calls of a method wait
// until released, so that a test can stop the service with requests in flight.
//
//	srv := telegramtest.New(t)
//	ch, err := telegram.New(telegram.Config{Token: "1:x", Endpoint: srv.URL()}, handler)
//	srv.QueueUpdate(telegramtest.Text(42, "hello"))
//	calls := srv.Wait("sendMessage", 1)
package telegramtest

import (
	"encoding/json"
	"fmt"
	"mime"
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
	accepted  []time.Time          // of the sendMessage and copyMessage calls answered 200, for Limit
	lastSend  map[string]time.Time // by chat id, for Limit
	messageID map[string]int       // by chat id: the last one sendMessage or copyMessage gave
	holds     map[string]*Hold     // by method
	broken    bool
	limited   int        // 429s Limit gave
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
		t:         t,
		lastID:    1000,
		arrived:   make(chan struct{}),
		failures:  map[string][]failure{},
		lastSend:  map[string]time.Time{},
		messageID: map[string]int{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
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

// Texts returns the texts of the messages sent to the chat and answered 200, in order.
func (s *Server) Texts(chatID int64) []string {
	var texts []string
	for _, c := range s.Calls("sendMessage") {
		if c.Status == http.StatusOK && c.Params["chat_id"] == strconv.FormatInt(chatID, 10) {
			texts = append(texts, c.Params["text"])
		}
	}
	return texts
}

// Deleted returns the message ids that deleteMessages calls for the chat asked to delete and
// that were answered 200, in order.
func (s *Server) Deleted(chatID int64) []int {
	var ids []int
	for _, c := range s.Calls("deleteMessages") {
		if c.Status != http.StatusOK || c.Params["chat_id"] != strconv.FormatInt(chatID, 10) {
			continue
		}
		var batch []int
		_ = c.JSON("message_ids", &batch) // a call answered 200 has them
		ids = append(ids, batch...)
	}
	return ids
}

// FailGetMe answers the next n getMe calls with the error code and description, such as 502
// "Bad Gateway" (Telegram unreachable) or 401 "Unauthorized" (a revoked token); code 0 cuts
// the connection without an answer, as Break does.
func (s *Server) FailGetMe(n, code int, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures["getMe "] = append(s.failures["getMe "], failure{code: code, description: description})
	}
}

// Mend undoes Break: later calls are answered again.
func (s *Server) Mend() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken = false
}

// Fail429 answers the next n sendMessage calls for the chat with 429 Too Many Requests and
// retry_after seconds.
func (s *Server) Fail429(chatID int64, n, retryAfter int) {
	s.fail("sendMessage", chatID, n, tooMany(retryAfter))
}

// FailSend answers the next n sendMessage calls for the chat with the error code and
// description, such as 403 "Forbidden: bot was blocked by the user" or 502 "Bad Gateway".
func (s *Server) FailSend(chatID int64, n, code int, description string) {
	s.fail("sendMessage", chatID, n, failure{code: code, description: description})
}

// FailCopy answers the next n copyMessage calls into the chat with the error code and
// description, such as 400 "Bad Request: message to copy not found".
func (s *Server) FailCopy(chatID int64, n, code int, description string) {
	s.fail("copyMessage", chatID, n, failure{code: code, description: description})
}

// Fail429Delete answers the next n deleteMessages calls for the chat with 429 Too Many
// Requests and retry_after seconds.
func (s *Server) Fail429Delete(chatID int64, n, retryAfter int) {
	s.fail("deleteMessages", chatID, n, tooMany(retryAfter))
}

// FailDelete answers the next n deleteMessages calls for the chat with the error code and
// description, such as 400 "Bad Request: message can't be deleted" or 502 "Bad Gateway".
func (s *Server) FailDelete(chatID int64, n, code int, description string) {
	s.fail("deleteMessages", chatID, n, failure{code: code, description: description})
}

// FailSurface answers the next n calls of method (setMyDescription, setMyShortDescription,
// setMyCommands or deleteMyCommands) for the language_code lang ("" for none) with the error
// code and description, such as 400 "Bad Request: ..." or 404 "Not Found" of a server that
// predates the method.
func (s *Server) FailSurface(method, lang string, n, code int, description string) {
	s.failLang(method, lang, n, failure{code: code, description: description})
}

// Fail429Surface answers the next n calls of method for the language_code lang ("" for none)
// with 429 Too Many Requests and retry_after seconds.
func (s *Server) Fail429Surface(method, lang string, n, retryAfter int) {
	s.failLang(method, lang, n, tooMany(retryAfter))
}

func (s *Server) failLang(method, lang string, n int, f failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[method+" lang:"+lang] = append(s.failures[method+" lang:"+lang], f)
	}
}

// surface answers a call that sets what Telegram shows of the bot: a 400 for a setMyCommands
// without a JSON array of commands, else the failure queued, if any. The caller does not hold
// s.mu.
func (s *Server) surface(method string, params map[string]string) failure {
	var commands []tgbotapi.BotCommand
	if method == "setMyCommands" {
		if err := json.Unmarshal([]byte(params["commands"]), &commands); err != nil || commands == nil {
			return failure{http.StatusBadRequest, "Bad Request: can't parse commands JSON array", 0}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, _ := s.failure(method, "lang:"+params["language_code"])
	return f
}

func tooMany(retryAfter int) failure {
	return failure{http.StatusTooManyRequests, fmt.Sprintf("Too Many Requests: retry after %d", retryAfter), retryAfter}
}

func (s *Server) fail(method string, chatID int64, n int, f failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := method + " " + strconv.FormatInt(chatID, 10)
	for range n {
		s.failures[key] = append(s.failures[key], f)
	}
}

// failure takes the next failure queued for the method and chat; ok is false if there is none.
// The caller holds s.mu.
func (s *Server) failure(method, chat string) (f failure, ok bool) {
	key := method + " " + chat
	fs := s.failures[key]
	if len(fs) == 0 {
		return failure{}, false
	}
	s.failures[key] = fs[1:]
	return fs[0], true
}

// Limit makes the Server enforce Telegram's flood limits: beyond perSecond messages (sendMessage
// or copyMessage) in any second, or a message to a chat sooner than perChat after the last one
// it accepted, it answers 429 Too Many Requests with retry_after the whole seconds until the
// message would be accepted (at least 1), as Telegram does. Zero turns a limit off; both are
// off until Limit is called. Telegram's own limits are Limit(30, time.Second). Limited counts
// the 429s.
func (s *Server) Limit(perSecond int, perChat time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perSecond, s.perChat = perSecond, perChat
}

// Limited returns how many sendMessage and copyMessage calls Limit refused with a 429.
func (s *Server) Limited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// Text returns an update with a text message from a person in a private chat. The person has a
// name and username, which a channel must not pass on.
func Text(chatID int64, text string) tgbotapi.Update {
	return tgbotapi.Update{Message: &tgbotapi.Message{
		MessageID: 1,
		From:      person(chatID),
		Date:      int(time.Now().Unix()),
		Chat:      &tgbotapi.Chat{ID: chatID, Type: "private", FirstName: "Maria", UserName: "maria_k"},
		Text:      text,
	}}
}

// Reply returns an update with a text message that replies to message msgID of the chat.
func Reply(chatID int64, msgID int, text string) tgbotapi.Update {
	u := Text(chatID, text)
	u.Message.ReplyToMessage = &tgbotapi.Message{MessageID: msgID, Chat: u.Message.Chat, Date: u.Message.Date}
	return u
}

// Media returns an update with a message carrying media (a photo or a voice note) and caption.
func Media(chatID int64, kind, caption string) tgbotapi.Update {
	u := Text(chatID, "")
	u.Message.Caption = caption
	switch kind {
	case "photo":
		u.Message.Photo = []tgbotapi.PhotoSize{{FileID: "photo-file", Width: 90, Height: 90}}
	case "voice":
		u.Message.Voice = &tgbotapi.Voice{FileID: "voice-file", Duration: 3}
	default:
		u.Message.Document = &tgbotapi.Document{FileID: "doc-file", FileName: "contract.pdf"}
	}
	return u
}

// Callback returns an update with a callback query: the person pressed the button with data
// under a message of the bot in a private chat. Its query id is "q" and the chat id.
func Callback(chatID int64, data string) tgbotapi.Update {
	return tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{
		ID:   "q" + strconv.FormatInt(chatID, 10),
		From: person(chatID),
		Message: &tgbotapi.Message{
			MessageID: 2,
			From:      &tgbotapi.User{ID: 1, IsBot: true, FirstName: "Faros", UserName: "faros_bot"},
			Date:      int(time.Now().Unix()),
			Chat:      &tgbotapi.Chat{ID: chatID, Type: "private", FirstName: "Maria", UserName: "maria_k"},
			Text:      "a question",
		},
		ChatInstance: "1",
		Data:         data,
	}}
}

func person(id int64) *tgbotapi.User {
	return &tgbotapi.User{ID: id, FirstName: "Maria", LastName: "K", UserName: "maria_k", LanguageCode: "en"}
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
	call := Call{Method: method, Params: params, Time: time.Now(), Status: status, MessageID: msgID}
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

func (s *Server) sendMessage(params map[string]string) (any, failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat := params["chat_id"]
	id, err := strconv.ParseInt(chat, 10, 64)
	if err != nil {
		return nil, failure{http.StatusBadRequest, "Bad Request: chat not found", 0}
	}
	msgID, f := s.accept("sendMessage", chat)
	if f.code != 0 {
		return nil, f
	}
	return tgbotapi.Message{
		MessageID: msgID,
		Date:      int(time.Now().Unix()),
		Chat:      &tgbotapi.Chat{ID: id, Type: "private"},
		Text:      params["text"],
	}, failure{}
}

// copyMessage answers, as Telegram does, with the new message's id only.
func (s *Server) copyMessage(params map[string]string) (any, failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat := params["chat_id"]
	_, toErr := strconv.ParseInt(chat, 10, 64)
	_, fromErr := strconv.ParseInt(params["from_chat_id"], 10, 64)
	_, idErr := strconv.Atoi(params["message_id"])
	switch {
	case toErr != nil || fromErr != nil:
		return nil, failure{http.StatusBadRequest, "Bad Request: chat not found", 0}
	case idErr != nil:
		return nil, failure{http.StatusBadRequest, "Bad Request: message to copy not found", 0}
	}
	msgID, f := s.accept("copyMessage", chat)
	if f.code != 0 {
		return nil, f
	}
	return tgbotapi.MessageID{MessageID: msgID}, failure{}
}

// accept takes a message to the chat, unless a failure is queued for the method and chat or
// Limit refuses it, and returns its message id. The caller holds s.mu.
func (s *Server) accept(method, chat string) (int, failure) {
	if f, ok := s.failure(method, chat); ok {
		return 0, f
	}
	now := time.Now()
	for len(s.accepted) > 0 && now.Sub(s.accepted[0]) >= time.Second {
		s.accepted = s.accepted[1:]
	}
	var wait time.Duration // until the message would be accepted
	if s.perSecond > 0 && len(s.accepted) >= s.perSecond {
		wait = s.accepted[len(s.accepted)-s.perSecond].Add(time.Second).Sub(now)
	}
	if last, seen := s.lastSend[chat]; s.perChat > 0 && seen && now.Sub(last) < s.perChat {
		wait = max(wait, last.Add(s.perChat).Sub(now))
	}
	if wait > 0 {
		s.limited++
		return 0, tooMany(max(1, int((wait+time.Second-1)/time.Second)))
	}
	s.accepted = append(s.accepted, now)
	s.lastSend[chat] = now
	s.messageID[chat]++
	return s.messageID[chat], failure{}
}

// deleteMessages checks the parameters as Telegram does: a chat and 1-100 message ids. Like
// Telegram it answers true also for ids that are gone or never were.
func (s *Server) deleteMessages(params map[string]string) failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat := params["chat_id"]
	var ids []int
	switch {
	case chat == "":
		return failure{http.StatusBadRequest, "Bad Request: chat_id is empty", 0}
	case json.Unmarshal([]byte(params["message_ids"]), &ids) != nil || len(ids) == 0 || len(ids) > 100:
		return failure{http.StatusBadRequest, "Bad Request: message_ids must be an array of 1-100 integers", 0}
	}
	f, _ := s.failure("deleteMessages", chat)
	return f
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
