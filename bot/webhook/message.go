package webhook

// A message the page posts: only the page's own (checkPost), within its client address's
// limits (admit), then to the bot; what the page has shown is dropped from the inbox (ack).

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/internal/clientaddr"
)

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
	freshOnly, err := c.admit(r, m)
	if err != nil {
		return err
	}
	if freshOnly {
		return writeJSON(w, http.StatusOK, response{Replies: encodeReplies(c.conversations.Fresh(m))})
	}
	c.ack(r.Context(), m.ChatID, req.After)
	err = handle(r.Context(), w, c.handler, m)
	if errors.Is(err, bot.ErrOverloaded) {
		return c.metrics.refuse(refusedOverloaded, err)
	}
	return err
}

// admit applies its client address's limits to a message before the bot sees it.
//
// A message of a conversation that does not exist would make a session: it costs a token of
// the address's budget of new conversations, vital or not, so that made-up conversations
// cannot fill Redis under cover of a help word. Beyond the budget a vital message is answered
// by the chat with the numbers (numbersOnly), the bot never called and nothing stored; the
// quick exit of a conversation that does not exist has nothing to wipe. Any other gets 429.
//
// A message of a live conversation that is not vital costs a token of the address's message
// rate, so that one address cannot spend the bot's intake for everyone; beyond it, 429. The
// bot limits each conversation besides. Vital messages never count, and are never refused.
func (c *Chat) admit(r *http.Request, m bot.Message) (freshOnly bool, err error) {
	if c.conversations == nil {
		return false, nil
	}
	// Live first: a made-up conversation with budget left costs no folding of its text.
	live, inCase, err := c.conversations.Live(r.Context(), m.Channel, m.ChatID)
	if err != nil {
		return false, nil // Redis is down: the bot answers with the numbers, storing nothing, within its intake
	}
	addr := c.sourceOf(r)
	if live {
		if inCase || c.conversations.Vital(m) {
			return false, nil // what is written to a counsellor is never refused
		}
		if wait, ok := c.sources.allow(addr, messages); !ok {
			return false, c.metrics.refuse(refusedSourceRate, &httpError{status: http.StatusTooManyRequests,
				msg: "too many messages from this address; try again in a moment", retryAfter: seconds(wait)})
		}
		return false, nil
	}
	wait, ok := c.sources.allow(addr, newConversations)
	switch {
	case ok:
		return false, nil
	case c.conversations.Vital(m):
		c.metrics.count(refusedSourceVital)
		return true, nil
	}
	return false, c.metrics.refuse(refusedSource, &httpError{status: http.StatusTooManyRequests,
		msg: "too many new conversations from this address; try again later", retryAfter: seconds(wait)})
}

// sourceOf is the client address that request r counts by (see clientAddr). A configured
// header that is missing is counted, and logged once: behind a proxy that does not set it,
// every person counts as the proxy, and the limits of one address fall on all of them.
func (c *Chat) sourceOf(r *http.Request) string {
	addr, missing := clientaddr.Of(r, c.addrHeader)
	if missing {
		c.addrMissing.Inc()
		c.warnMissing.Do(func() {
			c.log.Warn("webchat: a request lacks the client address header; it counts by its connection's address, the proxy's if there is one",
				"header", c.addrHeader)
		})
	}
	return addr
}

// ack deletes from the inbox what the page says it has shown (after, from its request),
// which it will not be sent again. It is best effort: what stays is sent again, and the page
// drops what it has shown.
func (c *Chat) ack(ctx context.Context, id, after string) {
	if c.inbox == nil || !validBatch(after) {
		return
	}
	if err := c.inbox.Ack(ctx, id, after); err != nil {
		c.log.Warn("webchat: the inbox was not trimmed", "err", err)
	}
}

// validBatch accepts the ids the inbox gives batches: decimal digits.
func validBatch(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
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
