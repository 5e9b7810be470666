package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faros-project/faros/bot"
)

// APIPath is where the signed API takes messages.
const APIPath = "/api/v1/messages"

const (
	maxAPIBody = 1 << 20
	// maxSkew is how far a request's timestamp may be from the clock, either way: enough for
	// clocks that drift, short enough that a captured request soon stops working.
	maxSkew = 5 * time.Minute
	// sendAttempts and sendBackoff bound the retries of a callback: 0.1 s, 0.2 s, 0.4 s.
	sendAttempts = 4
	sendBackoff  = 100 * time.Millisecond
	// callbackConns is how many connections to CallbackURL stay open between callbacks.
	callbackConns = 64
)

// Config configures an API.
type Config struct {
	// Secret is the HMAC-SHA256 key that signs requests and callbacks. Required: New fails
	// without it, so that an unsigned API can never be started by mistake.
	Secret []byte
	// Handler handles each message. Required.
	Handler bot.Handler
	// CallbackURL receives the replies of Send, signed as requests are. Empty: Send fails, and
	// the caller knows the replies were not delivered.
	CallbackURL string
	// HTTPClient posts to CallbackURL. Nil: a client with a 10-second timeout that keeps up to
	// 64 connections open.
	HTTPClient *http.Client
	// Logger gets one line per request, without message content. Nil: nothing is logged.
	Logger *slog.Logger
	// Registerer receives the metrics faros_api_requests_total and faros_api_pushes_total.
	// Nil: they are not registered.
	Registerer prometheus.Registerer
	// Now is the clock that checks and makes timestamps. Nil: time.Now.
	Now func() time.Time
}

// API is the signed HTTP API of channel "api": it serves POST APIPath and, as a bot.Sender,
// pushes later replies to the callback URL.
type API struct {
	server
	secret      []byte
	handler     bot.Handler
	callbackURL string
	client      *http.Client
	now         func() time.Time
}

var _ bot.Sender = (*API)(nil)

// New checks cfg and returns the API; it reports every problem of cfg at once.
func New(cfg Config) (*API, error) {
	var errs []error
	if len(cfg.Secret) == 0 {
		errs = append(errs, errors.New("webhook: secret is required"))
	}
	if cfg.Handler == nil {
		errs = append(errs, errors.New("webhook: handler is required"))
	}
	if cfg.CallbackURL != "" {
		if err := checkURL(cfg.CallbackURL); err != nil {
			errs = append(errs, fmt.Errorf("webhook: callback URL: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer, "api", []string{pushDelivered, pushFailed}, nil)
	if err != nil {
		return nil, err
	}
	a := &API{
		server:      server{channel: "api", log: cfg.Logger, metrics: m},
		secret:      bytes.Clone(cfg.Secret),
		handler:     cfg.Handler,
		callbackURL: cfg.CallbackURL,
		client:      cfg.HTTPClient,
		now:         cfg.Now,
	}
	if a.client == nil {
		// Sends run side by side (counsellors' words to several conversations at once), all to
		// one host, where Go keeps two idle connections and closes the others: most callbacks
		// would open a new connection, with HTTPS a handshake. Keep one for each.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = callbackConns
		a.client = &http.Client{Timeout: 10 * time.Second, Transport: t}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

// checkURL accepts absolute http and https URLs only.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL") // url's error repeats the URL, which may hold a token
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("not an absolute http or https URL")
	}
	return nil
}

// ServeHTTP answers POST APIPath.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.URL.Path != APIPath {
		a.serve(w, r, routeUnknown, func(http.ResponseWriter, *http.Request) error { return errNotFound })
		return
	}
	a.serve(w, r, APIPath, a.message)
}

func (a *API) message(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return methodNotAllowed(http.MethodPost)
	}
	body, err := readBody(w, r, maxAPIBody)
	if err != nil {
		return err
	}
	if err := a.verify(r.Header, body); err != nil {
		return err
	}
	req, err := decodeRequest(body)
	if err != nil {
		return err
	}
	// The idempotency key is the signed body's only: an unsigned header could be changed by
	// whoever replays a captured request, which would then count as new.
	return handle(r.Context(), w, a.handler, bot.Message{
		Channel:  "api",
		ChatID:   req.Conversation,
		ID:       req.ID,
		Text:     req.Text,
		Button:   req.Choice,
		Language: req.Language,
		Replay:   true, // the replies travel in this response only
	})
}

// verify checks the signature headers of body.
func (a *API) verify(h http.Header, body []byte) error {
	ts, sig := h.Get("X-Faros-Timestamp"), h.Get("X-Faros-Signature")
	if ts == "" || sig == "" {
		return fmt.Errorf("missing signature header: %w", errUnauthorized)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp is not a number: %w", errUnauthorized)
	}
	if skew := a.now().Sub(time.Unix(sec, 0)); skew > maxSkew || skew < -maxSkew {
		return fmt.Errorf("timestamp is %v off: %w", skew.Round(time.Second), errUnauthorized)
	}
	if !validSignature(a.secret, ts, body, sig) {
		return fmt.Errorf("signature does not match: %w", errUnauthorized)
	}
	return nil
}

// Send posts replies for conversation chatID to the callback URL, signed like a request, and
// retries server errors and network errors a few times. All attempts carry the same
// Idempotency-Key, so that the receiver can drop a repeat.
func (a *API) Send(ctx context.Context, chatID string, replies []bot.Reply) error {
	err := a.send(ctx, chatID, replies)
	result := pushDelivered
	if err != nil {
		result = pushFailed
	}
	a.metrics.pushed(result)
	return err
}

func (a *API) send(ctx context.Context, chatID string, replies []bot.Reply) error {
	if a.callbackURL == "" {
		return errors.New("webhook: no callback URL to send to")
	}
	body, err := json.Marshal(push{Conversation: chatID, Replies: encodeReplies(replies)})
	if err != nil {
		return fmt.Errorf("webhook: encode callback: %w", err)
	}
	key := rand.Text()
	wait := sendBackoff
	for attempt := 1; ; attempt++ {
		retry, err := a.post(ctx, body, key)
		if err == nil {
			return nil
		}
		if !retry || attempt == sendAttempts {
			return fmt.Errorf("webhook: callback (attempt %d): %w", attempt, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("webhook: callback (attempt %d): %w", attempt, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// post makes one attempt of Send and says whether another may succeed.
func (a *API) post(ctx context.Context, body []byte, key string) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.callbackURL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	ts := strconv.FormatInt(a.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("X-Faros-Timestamp", ts)
	req.Header.Set("X-Faros-Signature", Sign(a.secret, ts, body))
	resp, err := a.client.Do(req)
	if err != nil {
		// url.Error repeats the URL, which may hold a token; keep only the cause.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return ctx.Err() == nil, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return true, fmt.Errorf("status %d", resp.StatusCode)
	default:
		return false, fmt.Errorf("status %d", resp.StatusCode)
	}
}
