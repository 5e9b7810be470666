package webhook

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/maphash"
	"html/template"
	"log/slog"
	"mime"
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

// ErrNotConnected is returned by (*Chat).Send when the replies cannot reach the conversation:
// without an Inbox, no page of it is open on this instance; with one, the conversation no
// longer exists (wiped, ended or expired). Either way nobody got them.
var ErrNotConnected = errors.New("webhook: the web chat conversation cannot be reached")

// Conversations is what the chat asks the bot about conversations; *bot.Bot implements it.
type Conversations interface {
	// Live reports whether conversation chatID of channel exists: it has a session.
	Live(ctx context.Context, channel, chatID string) (bool, error)
	// Vital reports whether m must pass every limit: a call for help, leaving, wiping.
	Vital(m bot.Message) bool
}

// Inbox keeps replies for a page until the instance that holds its event stream takes them;
// *bot.Inbox implements it.
type Inbox interface {
	// Put keeps replies for conversation chatID and tells the listeners; bot.ErrGone if the
	// conversation no longer exists.
	Put(ctx context.Context, chatID string, replies []bot.Reply) error
	// Take removes and returns what waits for chatID, in order; one caller gets it.
	Take(ctx context.Context, chatID string) ([]bot.Reply, error)
	// Listen calls notify with the Tag of each conversation that got replies, and with "" when
	// notices may have been missed, until ctx ends.
	Listen(ctx context.Context, notify func(tag string)) error
	// Tag is the name by which Listen reports chatID.
	Tag(chatID string) string
}

var (
	_ Conversations = (*bot.Bot)(nil)
	_ Inbox         = (*bot.Inbox)(nil)
)

// ChatConfig configures a Chat.
type ChatConfig struct {
	// Handler handles each message. Required.
	Handler bot.Handler
	// Conversations tells whether a conversation exists and whether a message is vital: the
	// service's *bot.Bot. Event streams open only for conversations that exist, and only a
	// message that would start one counts against its source's budget (NewPerSource). Nil:
	// every conversation exists and no message is vital, so neither check applies.
	Conversations Conversations
	// Inbox keeps what Send gets for a page that is not connected to this instance, and tells
	// the instance that holds its event stream (see Run): the service's *bot.Inbox of channel
	// "web". Nil: Send reaches only the pages connected to this instance.
	Inbox Inbox
	// ExitURL is the neutral page that the quick exit loads in place of the chat. Empty:
	// https://www.google.com/.
	ExitURL string
	// KeepAlive is how often an idle event stream gets a comment, so that proxies do not
	// close it and the page knows it is still connected: the page reconnects a stream silent
	// for 70 seconds, so keep it well below. Zero: 25 seconds.
	KeepAlive time.Duration
	// MaxStreams caps the open event streams of all pages together: each holds a connection
	// and a goroutine. Beyond it a page gets 503 and tries again later; its messages still
	// get their replies. Zero: 10,000.
	MaxStreams int
	// StreamsPerSource caps the open event streams of one client address (see
	// ClientAddrHeader), so that one client cannot take the places of all. Beyond it: 429.
	// Zero: 16.
	StreamsPerSource int
	// NewPerSource is how many conversations one client address may start at once: a message
	// of a conversation that does not exist takes one, and one more comes back every
	// NewPerSourceEvery; beyond, 429 until then. Shelters and offices share one address: be
	// generous. Vital messages are never refused. Zero: 20.
	NewPerSource int
	// NewPerSourceEvery is how often a client address gets back one of NewPerSource. Zero: 6
	// seconds.
	NewPerSourceEvery time.Duration
	// ClientAddrHeader names the header in which Faros' own reverse proxy passes the client's
	// address: "X-Forwarded-For" (the last address counts, the one the proxy added) or a
	// single-value header such as "X-Real-IP". Set it only when every request comes through
	// that proxy: a client that reaches Faros directly could write any address there. Empty:
	// the connection's address.
	ClientAddrHeader string
	// Logger gets one line per request, without message content or conversation ids.
	// Nil: nothing is logged.
	Logger *slog.Logger
	// Registerer receives the metrics faros_webchat_requests_total, faros_webchat_pushes_total,
	// faros_webchat_refused_total, faros_webchat_streams and faros_webchat_sources. Nil: they
	// are not registered.
	Registerer prometheus.Registerer
}

// maxSources caps the client addresses whose budget the chat remembers: about 200 bytes each.
const maxSources = 50_000

// Chat is the web chat of channel "web", an http.Handler to mount at "/". It serves the page
// at "/", its files under /chat/static/, messages at POST /chat/messages and later replies as
// Server-Sent Events in the answer to POST /chat/events. As a bot.Sender it delivers replies
// to the open pages of a conversation.
//
// The page holds no secret, so messages are not signed: a conversation is known only by a
// random id of at least 128 bits that the page makes, which is what keeps one person's
// conversation from another. The id travels only in request bodies, never in a URL.
type Chat struct {
	server
	handler       bot.Handler
	conversations Conversations // nil: every conversation exists, none vital
	inbox         Inbox         // nil: Send reaches this instance's pages only
	origin        *http.CrossOriginProtection
	sources       *sources
	addrHeader    string
	keepAlive     time.Duration
	maxOpen       int    // streams, all conversations together
	perSource     int    // streams of one client address
	page          []byte // index.html with the exit URL filled in
	// taking serializes, per conversation (by a hash of its id), taking its inbox and pushing
	// it to the streams: two takers at once could push in the wrong order.
	taking [64]sync.Mutex
	seed   maphash.Seed

	mu        sync.Mutex
	streams   map[string]map[*stream]bool // by conversation id
	tags      map[string]string           // the inbox's tag → conversation id, of those in streams
	bySource  map[string]int              // open streams by client address
	open      int                         // streams, all conversations together
	seq       uint64                      // streams opened so far
	done      chan struct{}               // closed by Close
	closeOnce sync.Once
}

var _ bot.Sender = (*Chat)(nil)

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
	for _, v := range []struct {
		name  string
		value int64
	}{
		{"keep-alive", int64(cfg.KeepAlive)},
		{"max streams", int64(cfg.MaxStreams)},
		{"streams per source", int64(cfg.StreamsPerSource)},
		{"new conversations per source", int64(cfg.NewPerSource)},
		{"new conversation interval", int64(cfg.NewPerSourceEvery)},
	} {
		if v.value < 0 {
			errs = append(errs, fmt.Errorf("webhook: %s is negative", v.name))
		}
	}
	if h := cfg.ClientAddrHeader; h != "" && strings.ContainsAny(h, " \t\r\n:,") {
		errs = append(errs, fmt.Errorf("webhook: client address header %q is not a header name", h))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	page, err := renderPage(exitURL)
	if err != nil {
		return nil, err
	}
	c := &Chat{
		server:        server{channel: "web", log: cfg.Logger},
		handler:       cfg.Handler,
		conversations: cfg.Conversations,
		inbox:         cfg.Inbox,
		origin:        http.NewCrossOriginProtection(),
		sources:       newSources(cmp.Or(cfg.NewPerSource, 20), cmp.Or(cfg.NewPerSourceEvery, 6*time.Second), maxSources, time.Now),
		addrHeader:    cfg.ClientAddrHeader,
		keepAlive:     cmp.Or(cfg.KeepAlive, 25*time.Second),
		maxOpen:       cmp.Or(cfg.MaxStreams, 10_000),
		perSource:     cmp.Or(cfg.StreamsPerSource, 16),
		page:          page,
		seed:          maphash.MakeSeed(),
		streams:       make(map[string]map[*stream]bool),
		tags:          make(map[string]string),
		bySource:      make(map[string]int),
		done:          make(chan struct{}),
	}
	gauges := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "faros_webchat_streams",
			Help: "Open event streams of web chat pages."}, c.openStreams),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "faros_webchat_sources",
			Help: "Client addresses whose budget of new conversations is remembered."}, c.sources.size),
	}
	results := []string{pushDelivered, pushStored, pushFailed}
	reasons := []string{refusedSource, refusedSourceStreams, refusedStreams, refusedNotLive, refusedCrossOrigin, refusedOverloaded}
	if c.metrics, err = newMetrics(cfg.Registerer, "webchat", results, reasons, gauges...); err != nil {
		return nil, err
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
// register it with RegisterOnShutdown. From then on Send reaches no page of this instance
// (with an Inbox, it still keeps the replies for the page's next stream, on another instance).
func (c *Chat) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	return nil
}

func (c *Chat) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
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
	name := chatRoute(r.URL.Path)
	c.serve(w, r, name, func(w http.ResponseWriter, r *http.Request) error { return c.route(w, r, name) })
}

// routeStatic is the name of the routes of the page's files.
const routeStatic = "/chat/static"

// chatRoute names the route of path, for routing and for the log.
func chatRoute(path string) string {
	switch {
	case path == "/" || path == messagesPath || path == eventsPath:
		return path
	case strings.HasPrefix(path, staticPrefix):
		return routeStatic
	}
	return routeUnknown
}

func (c *Chat) route(w http.ResponseWriter, r *http.Request, name string) error {
	switch name {
	case "/":
		return c.file(w, r, "text/html; charset=utf-8", c.page)
	case messagesPath:
		return c.message(w, r)
	case eventsPath:
		return c.events(w, r)
	case routeStatic:
		file := strings.TrimPrefix(r.URL.Path, staticPrefix)
		contentType, ok := staticTypes[file]
		if !ok {
			return errNotFound
		}
		b, err := static.ReadFile("static/" + file)
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

var (
	errContentType = &httpError{status: http.StatusUnsupportedMediaType, msg: "Content-Type must be application/json"}
	errCrossOrigin = &httpError{status: http.StatusForbidden, msg: "cross-origin request refused"}
)

// checkPost admits the page's own POSTs only: from the page's origin (Sec-Fetch-Site, or
// Origin against Host; a request with neither is not a browser's, and passes) and with
// Content-Type application/json, which another site's form or beacon cannot send, nor its
// script without a CORS preflight that this server never grants.
func (c *Chat) checkPost(r *http.Request) error {
	if r.Method != http.MethodPost {
		return methodNotAllowed(http.MethodPost)
	}
	if err := c.origin.Check(r); err != nil {
		return c.metrics.refuse(refusedCrossOrigin, errCrossOrigin)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return errContentType
	}
	return nil
}

func (c *Chat) message(w http.ResponseWriter, r *http.Request) error {
	if err := c.checkPost(r); err != nil {
		return err
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
	m := bot.Message{
		Channel:  "web",
		ChatID:   req.Conversation,
		Text:     req.Text,
		Button:   req.Choice,
		Language: lang,
	}
	if err := c.admit(r, m); err != nil {
		return err
	}
	err = handle(r.Context(), w, c.handler, m)
	if errors.Is(err, bot.ErrOverloaded) {
		return c.metrics.refuse(refusedOverloaded, err)
	}
	return err
}

// admit refuses a message that would start a conversation when its source has started too
// many lately. A message of a conversation that exists costs nothing here (the bot limits
// each conversation), and a vital one always passes: the quick exit of a flooded address
// still wipes.
func (c *Chat) admit(r *http.Request, m bot.Message) error {
	if c.conversations == nil || c.conversations.Vital(m) {
		return nil
	}
	live, err := c.conversations.Live(r.Context(), m.Channel, m.ChatID)
	if err != nil || live {
		return nil // Redis is down: the bot still answers with the numbers, within its intake limit
	}
	wait, ok := c.sources.allow(clientAddr(r, c.addrHeader))
	if ok {
		return nil
	}
	return c.metrics.refuse(refusedSource, &httpError{status: http.StatusTooManyRequests,
		msg: "too many new conversations from this address; try again later", retryAfter: seconds(wait)})
}

// seconds rounds d up to whole seconds, at least one, for a Retry-After header.
func seconds(d time.Duration) int { return max(1, int((d+time.Second-1)/time.Second)) }

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

// Send delivers replies to the page of conversation chatID.
//
// Without an Inbox it pushes them to the pages of the conversation open on this instance, and
// returns ErrNotConnected when there is none (or none can take more). With one, it keeps them
// there, after what waits already, and the instance that holds the page's event stream (this
// one at once, another when Run tells it) or the page's next stream takes them: it returns
// ErrNotConnected only when the conversation no longer exists, so that the operator is told
// only what truly cannot be delivered.
func (c *Chat) Send(ctx context.Context, chatID string, replies []bot.Reply) error {
	result, err := c.send(ctx, chatID, replies)
	c.metrics.pushed(result)
	return err
}

func (c *Chat) send(ctx context.Context, chatID string, replies []bot.Reply) (result string, err error) {
	if c.inbox == nil {
		if c.closed() || !c.push(chatID, replies) {
			return pushFailed, ErrNotConnected
		}
		return pushDelivered, nil
	}
	err = c.inbox.Put(ctx, chatID, replies)
	if errors.Is(err, bot.ErrGone) {
		return pushFailed, ErrNotConnected
	}
	if err != nil {
		// Redis did not answer: a page open here still gets them.
		if !c.closed() && c.push(chatID, replies) {
			return pushDelivered, nil
		}
		return pushFailed, fmt.Errorf("webhook: keep replies for the page: %w", err)
	}
	// A page connected here gets them now, from this call or from Run's notice, whichever
	// takes them first; otherwise the inbox keeps them for the instance that has the page.
	here := !c.closed() && c.reachable(chatID)
	if _, err := c.deliver(ctx, chatID); err != nil || !here {
		return pushStored, nil
	}
	return pushDelivered, nil
}

// Run hands what any instance puts in the inbox to the event streams open here, until ctx
// ends; the service starts it with the chat and waits for it. Without an Inbox it only waits.
func (c *Chat) Run(ctx context.Context) error {
	if c.inbox == nil {
		<-ctx.Done()
		return nil
	}
	return c.inbox.Listen(ctx, func(tag string) {
		var ids []string
		c.mu.Lock()
		if tag == "" { // notices may have been missed: every conversation open here
			for id := range c.streams {
				ids = append(ids, id)
			}
		} else if id, ok := c.tags[tag]; ok {
			ids = append(ids, id)
		}
		c.mu.Unlock()
		for _, id := range ids {
			tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if _, err := c.deliver(tctx, id); err != nil && ctx.Err() == nil {
				c.log.Warn("webchat: replies left in the inbox", "err", err)
			}
			cancel()
		}
	})
}
