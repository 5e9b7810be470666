// Package webhook connects Faros to other systems through a signed HTTP API and to browsers
// through an anonymous web chat page.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/faros-project/faros/bot"
)

// Limits of one message; Telegram's, so that every channel accepts the same messages.
const (
	maxText     = 4096 // characters
	maxChoice   = 64   // bytes, as bot.Button.Data
	maxID       = 256  // bytes, for conversation ids and idempotency keys
	maxLanguage = 256  // bytes: an Accept-Language value can be long
)

// Sign returns the value of the X-Faros-Signature header for a request body sent at timestamp
// (unix seconds, as in X-Faros-Timestamp): "sha256=" and the hex HMAC-SHA256 of
// timestamp + "." + body under secret.
func Sign(secret []byte, timestamp string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}

// validSignature reports whether header is Sign's value for timestamp and body, comparing in
// constant time so that a caller cannot find the signature byte by byte.
func validSignature(secret []byte, timestamp string, body []byte, header string) bool {
	digits, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(digits)
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(secret, timestamp, body))
}

// request is the JSON body of a message, from the API and from the web page.
type request struct {
	Conversation string `json:"conversation"`
	ID           string `json:"id"`
	Text         string `json:"text"`
	Choice       string `json:"choice"`
	Language     string `json:"language"`
	// After is the web page's acknowledgement: the id of the last batch of replies it showed
	// from its event stream, which it need not be sent again. The API has none.
	After string `json:"after"`
}

// response is the JSON answer to a message and the data of a Server-Sent Event.
type response struct {
	Replies   []reply `json:"replies"`
	Duplicate bool    `json:"duplicate,omitempty"`
}

// push is the JSON body of a callback: replies that answer no request.
type push struct {
	Conversation string  `json:"conversation"`
	Replies      []reply `json:"replies"`
}

type reply struct {
	Text    string   `json:"text"`
	Choices []choice `json:"choices,omitempty"`
	Urgent  bool     `json:"urgent,omitempty"`
	Lang    string   `json:"lang,omitempty"` // the language it is written in, when it is one
}

type choice struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// encodeReplies converts replies to their JSON form; never nil, so that none encodes as [].
func encodeReplies(replies []bot.Reply) []reply {
	out := make([]reply, 0, len(replies))
	for _, r := range replies {
		var choices []choice
		for _, b := range r.Buttons {
			choices = append(choices, choice{ID: b.Data, Label: b.Label})
		}
		out = append(out, reply{Text: r.Text, Choices: choices, Urgent: r.Urgent, Lang: r.Lang})
	}
	return out
}

// decodeJSON parses body into v, a struct of strings. encoding/json would silently replace
// invalid UTF-8, so that is checked first.
func decodeJSON(body []byte, v any) error {
	if !utf8.Valid(body) {
		return badRequest("body is not valid UTF-8")
	}
	if err := json.Unmarshal(body, v); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			return badRequest(te.Field + " must be a string")
		}
		return badRequest("body is not a JSON object")
	}
	return nil
}

// decodeRequest parses and checks a message body.
func decodeRequest(body []byte) (request, error) {
	var req request
	if err := decodeJSON(body, &req); err != nil {
		return req, err
	}
	switch {
	case req.Conversation == "":
		return req, badRequest("conversation is required")
	case len(req.Conversation) > maxID:
		return req, badRequest(fmt.Sprintf("conversation is longer than %d bytes", maxID))
	case len(req.ID) > maxID:
		return req, badRequest(fmt.Sprintf("id is longer than %d bytes", maxID))
	case utf8.RuneCountInString(req.Text) > maxText:
		return req, badRequest(fmt.Sprintf("text is longer than %d characters", maxText))
	case len(req.Choice) > maxChoice:
		return req, badRequest(fmt.Sprintf("choice is longer than %d bytes", maxChoice))
	case len(req.Language) > maxLanguage:
		return req, badRequest(fmt.Sprintf("language is longer than %d bytes", maxLanguage))
	case req.Text == "" && req.Choice == "":
		return req, badRequest("text or choice is required")
	}
	return req, nil
}

// readBody reads at most limit bytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, &httpError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("body is larger than %d bytes", limit)}
	}
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return body, nil
}

// handle passes m to h and writes the JSON answer. A redelivered message is a success, so
// that the sender stops retrying it, marked duplicate; it carries the replies it had the
// first time if they may not have reached the sender (it was the conversation's last message).
func handle(ctx context.Context, w http.ResponseWriter, h bot.Handler, m bot.Message) error {
	replies, err := h.Handle(ctx, m)
	if errors.Is(err, bot.ErrDuplicate) {
		return writeJSON(w, http.StatusOK, response{Replies: encodeReplies(replies), Duplicate: true})
	}
	if err != nil {
		return fmt.Errorf("handle message: %w", err)
	}
	return writeJSON(w, http.StatusOK, response{Replies: encodeReplies(replies)})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

// httpError is an error whose status and message the client may see. Any other error is
// the server's fault and answers 500 without details.
type httpError struct {
	status     int
	msg        string
	allow      string // the Allow header of a 405
	retryAfter int    // seconds, the Retry-After header of a 429 or 503; 0: none
	cause      error  // logged, never shown to the client; nil: none
}

func (e *httpError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *httpError) Unwrap() error { return e.cause }

func badRequest(msg string) error { return &httpError{status: http.StatusBadRequest, msg: msg} }

func methodNotAllowed(allow string) error {
	return &httpError{status: http.StatusMethodNotAllowed, msg: "method not allowed", allow: allow}
}

// unavailable is the answer to a request that failed for a moment (Redis did not answer): the
// client tries again later; cause is logged.
func unavailable(cause error) error {
	return &httpError{status: http.StatusServiceUnavailable, msg: "unavailable; try again later", retryAfter: 10, cause: cause}
}

var (
	errNotFound = &httpError{status: http.StatusNotFound, msg: "not found"}
	// Every signature problem gets the same answer, so that it teaches a caller nothing.
	errUnauthorized = &httpError{status: http.StatusUnauthorized, msg: "bad signature or timestamp"}
	errInternal     = &httpError{status: http.StatusInternalServerError, msg: "internal error"}
	// errOverloaded answers bot.ErrOverloaded: the message was not handled, and the sender
	// sends it again in a second.
	errOverloaded = &httpError{status: http.StatusServiceUnavailable, msg: "too many messages at once; try again in a second", retryAfter: 1}
)

// statusOf maps an error to what the client sees.
func statusOf(err error) *httpError {
	if e, ok := errors.AsType[*httpError](err); ok {
		return e
	}
	if errors.Is(err, bot.ErrOverloaded) {
		return errOverloaded
	}
	return errInternal
}

// route handles one request; its error is mapped and logged by serve.
type route func(w http.ResponseWriter, r *http.Request) error

// routeUnknown names a request for no route in the log, which holds route names, never
// paths: a path is whatever a client sent, of any length, and may carry what the log must not.
const routeUnknown = "unknown"

// server is what the API and the web chat share: answering errors, logging, counting.
type server struct {
	channel string
	log     *slog.Logger
	metrics *metrics
}

// serve runs h, answers its error as JSON, and logs the request once: method, route (name),
// status, duration and error, never the path, the body, the query or a header.
func (s *server) serve(w http.ResponseWriter, r *http.Request, name string, h route) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	err := h(sw, r)
	if err != nil && sw.status == 0 {
		e := statusOf(err)
		if e.allow != "" {
			sw.Header().Set("Allow", e.allow)
		}
		if e.retryAfter > 0 {
			sw.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
		}
		writeJSON(sw, e.status, map[string]string{"error": e.msg})
	}
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	s.metrics.request(sw.status)
	attrs := []slog.Attr{
		slog.String("channel", s.channel),
		slog.String("method", methodOf(r)),
		slog.String("route", name),
		slog.Int("status", sw.status),
		slog.Duration("duration", time.Since(start)),
	}
	level := slog.LevelInfo
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		level = slog.LevelWarn
		if statusOf(err).status == http.StatusInternalServerError {
			level = slog.LevelError // the server's fault; a 503 is a moment's load or outage
		}
	}
	s.log.LogAttrs(r.Context(), level, "http request", attrs...)
}

// methodOf names the request's method for the log: a client may send any token, of any length.
func methodOf(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return r.Method
	}
	return "other"
}

// statusWriter remembers the status, so that serve logs it and knows whether an error can
// still be answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and SetWriteDeadline for the event stream.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
