package webhook

// The web chat: its configuration, NewChat, and how replies reach a conversation's page
// (Send, and Run for the inbox shared by instances). Serving the page is page.go's, a message
// the page posts message.go's, the event streams events.go's.

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
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

// ErrNotConnected is returned by (*Chat).Send when the replies cannot reach the conversation:
// without an Inbox, no page of it is open on this instance; with one, the conversation no
// longer exists (wiped, ended or expired). Either way nobody got them. (With an Inbox, replies
// kept for a page that is not open now get bot.ErrAway.)
var ErrNotConnected = errors.New("webhook: the web chat conversation cannot be reached")

// Conversations is what the chat asks the bot about conversations; *bot.Bot implements it.
type Conversations interface {
	// Live reports whether conversation chatID of channel exists (it has a session), and
	// whether it is in a case with a counsellor.
	Live(ctx context.Context, channel, chatID string) (live, inCase bool, err error)
	// Vital reports whether m must pass every limit: a call for help, leaving, wiping.
	Vital(m bot.Message) bool
	// Fresh is what a vital message gets when the chat must not hand it to the bot (its
	// address started too many conversations): the answer to it as a new conversation's first
	// message (the numbers, the innocent line, a goodbye). It reads and writes nothing.
	Fresh(m bot.Message) []bot.Reply
}

// Inbox keeps replies for a page until the page acknowledges them, whichever instance holds
// its event stream, and knows whether a page is online; *bot.Inbox implements it.
type Inbox interface {
	// Put keeps replies for conversation chatID, tells the listeners and reports whether a
	// page of it is online; bot.ErrGone if the conversation no longer exists.
	Put(ctx context.Context, chatID string, replies []bot.Reply) (online bool, err error)
	// Read returns the batches that wait for chatID after batch after ("": all), in order,
	// deleting nothing.
	Read(ctx context.Context, chatID, after string) ([]bot.Batch, error)
	// Ack deletes the batches of chatID up to batch id, which the page showed.
	Ack(ctx context.Context, chatID, id string) error
	// Online marks chatID's page online for ttl, on behalf of this instance (mark);
	// bot.ErrGone if the conversation no longer exists. Offline takes this instance's mark
	// away, not another's.
	Online(ctx context.Context, chatID string, ttl time.Duration, mark string) error
	Offline(ctx context.Context, chatID, mark string) error
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
	// Conversations tells whether a conversation exists and whether a message is vital, and
	// gives the phone numbers: the service's *bot.Bot. Event streams open only for
	// conversations that exist; a message that would start one counts against its source's
	// budget (NewPerSource), and one of a live conversation against its source's message rate
	// (MessagesPerSource) unless it is vital. Nil: every conversation exists and no message is
	// vital, so none of these checks applies.
	Conversations Conversations
	// Inbox keeps what Send gets for a page until the page acknowledges it, and tells the
	// instance that holds its event stream (see Run): the service's *bot.Inbox of channel
	// "web". Nil: Send reaches only the pages connected to this instance, once.
	Inbox Inbox
	// Page is what the page says itself (its buttons' labels, "not sent"), one entry per
	// language, from the locale files; nil: English only.
	Page []PageText
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
	// of a conversation that does not exist takes one, vital or not, and one more comes back
	// every NewPerSourceEvery; beyond, 429 until then, but a vital message is answered with
	// its answer as a new conversation's first message (Conversations.Fresh) without reaching
	// the bot. Shelters and offices share
	// one address: be generous. Zero: 20.
	NewPerSource int
	// NewPerSourceEvery is how often a client address gets back one of NewPerSource. Zero: 6
	// seconds.
	NewPerSourceEvery time.Duration
	// MessagesPerSource is how many messages of live conversations one client address may
	// send at once: each that is not vital takes one, and one more comes back every
	// MessagesPerSourceEvery; beyond, 429 with Retry-After, which the page waits for and
	// sends again. It keeps one address from spending the bot's intake for everyone; a
	// shelter's people share one address, so it is generous. Vital messages never count.
	// Zero: 20.
	MessagesPerSource int
	// MessagesPerSourceEvery is how often a client address gets back one of
	// MessagesPerSource. Zero: 200 ms (5 a second).
	MessagesPerSourceEvery time.Duration
	// ClientAddrHeader names the header in which Faros' own reverse proxy passes the client's
	// address: "X-Forwarded-For" (the last address counts, the one the proxy added) or a
	// single-value header such as "X-Real-IP". Set it only when every request comes through
	// that proxy: a client that reaches Faros directly could write any address there. Empty:
	// the connection's address. A request without it counts by its connection's address, and
	// is counted in faros_webchat_client_addr_missing_total (and logged, once).
	ClientAddrHeader string
	// Logger gets one line per request, without message content or conversation ids.
	// Nil: nothing is logged.
	Logger *slog.Logger
	// Registerer receives the metrics faros_webchat_requests_total, faros_webchat_pushes_total,
	// faros_webchat_refused_total, faros_webchat_streams, faros_webchat_sources and
	// faros_webchat_client_addr_missing_total. Nil: they are not registered.
	Registerer prometheus.Registerer
}

// maxSources caps the client addresses whose budgets the chat remembers: about 300 bytes each.
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
	mark          string        // this instance's token in the inbox's presence marks
	origin        *http.CrossOriginProtection
	sources       *sources
	addrHeader    string
	addrMissing   prometheus.Counter // requests without addrHeader
	warnMissing   sync.Once
	keepAlive     time.Duration
	maxOpen       int    // streams, all conversations together
	perSource     int    // streams of one client address
	page          []byte // index.html with the exit URL filled in

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
		{"messages per source", int64(cfg.MessagesPerSource)},
		{"message interval", int64(cfg.MessagesPerSourceEvery)},
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
	page, err := renderPage(exitURL, cfg.Page)
	if err != nil {
		return nil, err
	}
	budgets := [budgetKinds]budget{
		newConversations: {burst: cmp.Or(cfg.NewPerSource, 20), every: cmp.Or(cfg.NewPerSourceEvery, 6*time.Second)},
		messages:         {burst: cmp.Or(cfg.MessagesPerSource, 20), every: cmp.Or(cfg.MessagesPerSourceEvery, 200*time.Millisecond)},
	}
	c := &Chat{
		server:        server{channel: "web", log: cfg.Logger},
		handler:       cfg.Handler,
		conversations: cfg.Conversations,
		inbox:         cfg.Inbox,
		mark:          rand.Text(),
		origin:        http.NewCrossOriginProtection(),
		sources:       newSources(budgets, maxSources, time.Now),
		addrHeader:    cfg.ClientAddrHeader,
		addrMissing: prometheus.NewCounter(prometheus.CounterOpts{Name: "faros_webchat_client_addr_missing_total",
			Help: "Web chat requests without a readable client address header (ClientAddrHeader), counted by their connection's address."}),
		keepAlive: cmp.Or(cfg.KeepAlive, 25*time.Second),
		maxOpen:   cmp.Or(cfg.MaxStreams, 10_000),
		perSource: cmp.Or(cfg.StreamsPerSource, 16),
		page:      page,
		streams:   make(map[string]map[*stream]bool),
		tags:      make(map[string]string),
		bySource:  make(map[string]int),
		done:      make(chan struct{}),
	}
	more := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "faros_webchat_streams",
			Help: "Open event streams of web chat pages."}, c.openStreams),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "faros_webchat_sources",
			Help: "Client addresses whose budgets (new conversations, messages) are remembered."}, c.sources.size),
		c.addrMissing,
	}
	results := []string{pushDelivered, pushStored, pushFailed}
	reasons := []string{refusedSource, refusedSourceVital, refusedSourceRate, refusedSourceStreams, refusedStreams,
		refusedNotLive, refusedCrossOrigin, refusedOverloaded}
	if c.metrics, err = newMetrics(cfg.Registerer, "webchat", results, reasons, more...); err != nil {
		return nil, err
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
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

// Send delivers replies to the page of conversation chatID.
//
// Without an Inbox it pushes them to the pages of the conversation open on this instance, and
// returns ErrNotConnected when there is none (or none can take more). With one, it keeps them
// there, after what waits already, until the page acknowledges them: every event stream of
// the page, on this instance or another (Run), sends them, and so does the page's next one.
// It returns nil when a page of the conversation is open, bot.ErrAway when none is (they show
// if it comes back), and ErrNotConnected when the conversation no longer exists, so that the
// operator is told what became of their words.
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
	online, err := c.inbox.Put(ctx, chatID, replies)
	switch {
	case errors.Is(err, bot.ErrGone):
		return pushFailed, ErrNotConnected
	case err != nil:
		// Redis did not answer: a page open here still gets them, once.
		if !c.closed() && c.push(chatID, replies) {
			return pushDelivered, nil
		}
		return pushFailed, fmt.Errorf("webhook: keep replies for the page: %w", err)
	}
	// A stream here reads them at once, without waiting for Run's notice.
	if c.wake(chatID) || online {
		return pushDelivered, nil
	}
	return pushStored, bot.ErrAway
}

// Run has the event streams open here send what any instance puts in the inbox, until ctx
// ends; the service starts it with the chat and waits for it. Without an Inbox it only waits.
func (c *Chat) Run(ctx context.Context) error {
	if c.inbox == nil {
		<-ctx.Done()
		return nil
	}
	return c.inbox.Listen(ctx, func(tag string) {
		if tag == "" { // notices may have been missed: every conversation open here
			c.wakeAll()
			return
		}
		c.mu.Lock()
		id, ok := c.tags[tag]
		c.mu.Unlock()
		if ok {
			c.wake(id)
		}
	})
}
