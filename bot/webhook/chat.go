package webhook

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faros-project/faros/bot"
)

const (
	messagesPath = "/chat/messages"
	eventsPath   = "/chat/events"
	// The page's own files; CSP forbids inline script and style, so they are separate files.
	staticPrefix = "/chat/static/"
	maxChatBody  = 64 << 10
)

//go:embed static
var static embed.FS

// staticTypes lists the files served under staticPrefix, with their types. index.html is not
// among them: it is served at "/" with the exit URL filled in.
var staticTypes = map[string]string{
	"chat.css": "text/css; charset=utf-8",
	"chat.js":  "text/javascript; charset=utf-8",
	"icon.svg": "image/svg+xml",
}

// ErrNotConnected is returned by (*Chat).Send when the conversation has no open page: the
// replies were not delivered.
var ErrNotConnected = errors.New("webhook: no web chat page open for the conversation")

// ChatConfig configures a Chat.
type ChatConfig struct {
	// Handler handles each message. Required.
	Handler bot.Handler
	// ExitURL is the neutral page that the quick exit loads in place of the chat. Empty:
	// https://www.google.com/.
	ExitURL string
	// KeepAlive is how often an idle event stream gets a comment, so that proxies do not
	// close it. Zero: 25 seconds.
	KeepAlive time.Duration
	// MaxStreams caps the open event streams of all pages together: each holds a connection
	// and a goroutine. Beyond it a page gets 503 and tries again later; its messages still
	// get their replies. Zero: 10,000.
	MaxStreams int
	// Logger gets one line per request, without message content or conversation ids.
	// Nil: nothing is logged.
	Logger *slog.Logger
	// Registerer receives the metrics faros_webchat_requests_total, faros_webchat_pushes_total
	// and faros_webchat_streams. Nil: they are not registered.
	Registerer prometheus.Registerer
}

// Chat is the web chat of channel "web", an http.Handler to mount at "/". It serves the page
// at "/", its files under /chat/static/, messages at POST /chat/messages and later replies as
// Server-Sent Events at GET /chat/events?conversation=ID. As a bot.Sender it pushes replies
// to the open pages of a conversation.
//
// The page holds no secret, so messages are not signed: a conversation is known only by a
// random id of at least 128 bits that the page makes, which is what keeps one person's
// conversation from another.
type Chat struct {
	server
	handler   bot.Handler
	keepAlive time.Duration
	maxOpen   int    // streams, all conversations together
	page      []byte // index.html with the exit URL filled in

	mu        sync.Mutex
	streams   map[string]map[*stream]bool // by conversation id
	open      int                         // streams, all conversations together
	seq       uint64                      // streams opened so far
	done      chan struct{}               // closed by Close
	closeOnce sync.Once
}

var _ bot.Sender = (*Chat)(nil)

// stream is one open event stream.
type stream struct {
	replies chan []bot.Reply
	seq     uint64        // order of opening
	evicted chan struct{} // closed when a newer stream of the conversation took its place
}

// NewChat checks cfg and returns the Chat; it reports every problem of cfg at once.
func NewChat(cfg ChatConfig) (*Chat, error) {
	var errs []error
	if cfg.Handler == nil {
		errs = append(errs, errors.New("webhook: handler is required"))
	}
	exitURL := cfg.ExitURL
	if exitURL == "" {
		exitURL = "https://www.google.com/"
	}
	if err := checkURL(exitURL); err != nil {
		errs = append(errs, fmt.Errorf("webhook: exit URL: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	page, err := renderPage(exitURL)
	if err != nil {
		return nil, err
	}
	c := &Chat{
		server:    server{channel: "web", log: cfg.Logger},
		handler:   cfg.Handler,
		keepAlive: cfg.KeepAlive,
		maxOpen:   cmp.Or(cfg.MaxStreams, 10_000),
		page:      page,
		streams:   make(map[string]map[*stream]bool),
		done:      make(chan struct{}),
	}
	streams := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "faros_webchat_streams",
		Help: "Open event streams of web chat pages."}, c.openStreams)
	if c.metrics, err = newMetrics(cfg.Registerer, "webchat", streams); err != nil {
		return nil, err
	}
	if c.keepAlive <= 0 {
		c.keepAlive = 25 * time.Second
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// renderPage puts the exit URL in a data attribute: the script reads it there, because the
// Content-Security-Policy allows no inline script.
func renderPage(exitURL string) ([]byte, error) {
	t, err := template.ParseFS(static, "static/index.html")
	if err != nil {
		return nil, fmt.Errorf("webhook: page: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, struct{ ExitURL string }{exitURL}); err != nil {
		return nil, fmt.Errorf("webhook: page: %w", err)
	}
	return b.Bytes(), nil
}

// Close ends every open event stream, which http.Server.Shutdown would otherwise wait for:
// register it with RegisterOnShutdown. Send fails from then on.
func (c *Chat) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	return nil
}

// ServeHTTP answers the page, its files, its messages and its event streams.
func (c *Chat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Nothing of a conversation may stay in a cache, leak to another site or run from
	// elsewhere; the page loads only its own files and talks only to this server.
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	c.serve(w, r, c.route)
}

func (c *Chat) route(w http.ResponseWriter, r *http.Request) error {
	switch p := r.URL.Path; {
	case p == "/":
		return c.file(w, r, "text/html; charset=utf-8", c.page)
	case p == messagesPath:
		return c.message(w, r)
	case p == eventsPath:
		return c.events(w, r)
	case strings.HasPrefix(p, staticPrefix):
		name := strings.TrimPrefix(p, staticPrefix)
		contentType, ok := staticTypes[name]
		if !ok {
			return errNotFound
		}
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			return err
		}
		return c.file(w, r, contentType, b)
	}
	return errNotFound
}

func (c *Chat) file(w http.ResponseWriter, r *http.Request, contentType string, b []byte) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed("GET, HEAD")
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(b)
	return err
}

func (c *Chat) message(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return methodNotAllowed(http.MethodPost)
	}
	body, err := readBody(w, r, maxChatBody)
	if err != nil {
		return err
	}
	req, err := decodeRequest(body)
	if err != nil {
		return err
	}
	if !validConversation(req.Conversation) {
		return errConversation
	}
	// Accept-Language lists all the person's languages; navigator.language only the first.
	lang := r.Header.Get("Accept-Language")
	if lang == "" || len(lang) > maxLanguage {
		lang = req.Language
	}
	return handle(r.Context(), w, c.handler, bot.Message{
		Channel:  "web",
		ChatID:   req.Conversation,
		Text:     req.Text,
		Button:   req.Choice,
		Language: lang,
	})
}

var errConversation = badRequest("conversation must be 32 to 128 lowercase hexadecimal digits")

// validConversation accepts the ids the page makes: hex of 16 or more random bytes. Anything
// shorter could be guessed, and whoever knows the id reads the conversation.
func validConversation(id string) bool {
	if len(id) < 32 || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// events streams the replies that Send gets for the conversation until the page goes away.
func (c *Chat) events(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return methodNotAllowed(http.MethodGet)
	}
	id := r.URL.Query().Get("conversation")
	if !validConversation(id) {
		return errConversation
	}
	s, err := c.add(id)
	if err != nil {
		return err
	}
	defer c.remove(id, s)
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a server's WriteTimeout would cut the stream

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no") // nginx would hold the events back
	w.WriteHeader(http.StatusOK)
	// The comment sends the headers at once, so the page knows it is connected.
	_, err = io.WriteString(w, "retry: 3000\n: open\n\n")
	tick := time.NewTicker(c.keepAlive)
	defer tick.Stop()
	for err == nil {
		if err = rc.Flush(); err != nil {
			break
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-c.done:
			return nil
		case <-s.evicted:
			return nil
		case <-tick.C:
			_, err = io.WriteString(w, ": keep-alive\n\n")
		case replies := <-s.replies:
			var data []byte
			data, err = json.Marshal(response{Replies: encodeReplies(replies)})
			if err == nil {
				_, err = fmt.Fprintf(w, "event: replies\ndata: %s\n\n", data)
			}
		}
	}
	if r.Context().Err() != nil {
		return nil // the page went away while we wrote: a normal end
	}
	return fmt.Errorf("event stream: %w", err)
}

// maxPerConversation: one page has one stream, a second or third for a moment while it
// reconnects over a connection that died without a word. A further one takes the place of
// the oldest: the page that connects last is the one the person holds.
const maxPerConversation = 4

var errTooManyStreams = &httpError{status: http.StatusServiceUnavailable, msg: "too many open event streams; try again later"}

// add registers a stream for conversation id, if the cap allows it.
func (c *Chat) add(id string) (*stream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.streams[id]) >= maxPerConversation {
		var oldest *stream
		for s := range c.streams[id] {
			if oldest == nil || s.seq < oldest.seq {
				oldest = s
			}
		}
		close(oldest.evicted)
		c.forget(id, oldest)
	}
	if c.open >= c.maxOpen {
		return nil, errTooManyStreams
	}
	c.seq++
	s := &stream{replies: make(chan []bot.Reply, 16), seq: c.seq, evicted: make(chan struct{})}
	if c.streams[id] == nil {
		c.streams[id] = make(map[*stream]bool)
	}
	c.streams[id][s] = true
	c.open++
	return s, nil
}

// remove forgets a stream that ended.
func (c *Chat) remove(id string, s *stream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forget(id, s)
}

// forget unregisters a stream, if it still is registered; under c.mu.
func (c *Chat) forget(id string, s *stream) {
	if !c.streams[id][s] {
		return // evicted before
	}
	c.open--
	delete(c.streams[id], s)
	if len(c.streams[id]) == 0 {
		delete(c.streams, id)
	}
}

func (c *Chat) openStreams() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return float64(c.open)
}

// Send pushes replies to every open page of conversation chatID. It returns ErrNotConnected
// when none is open (or none can take more), so that the caller knows nobody got them.
func (c *Chat) Send(ctx context.Context, chatID string, replies []bot.Reply) error {
	err := c.push(chatID, replies)
	c.metrics.pushed(err)
	return err
}

func (c *Chat) push(chatID string, replies []bot.Reply) error {
	select {
	case <-c.done:
		return ErrNotConnected
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sent := false
	for s := range c.streams[chatID] {
		// A stream that is this far behind is stuck; blocking here would hold up every Send.
		select {
		case s.replies <- replies:
			sent = true
		default:
		}
	}
	if !sent {
		return ErrNotConnected
	}
	return nil
}
