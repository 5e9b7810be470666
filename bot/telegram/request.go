package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/faros-project/faros/bot/deliver"
)

// outgoing is one Bot API call that sends a message, as the queue carries it (the Payload of a
// deliver.Message) and the outbox keeps it. Fields are only ever added, with omitempty, so
// that an instance reads what one of an older version put: a request without a method is a
// sendMessage, one without a tag has none.
type outgoing struct {
	Chat   string          `json:"c"`
	Method string          `json:"m,omitempty"` // "" means sendMessage
	Params tgbotapi.Params `json:"p"`           // disable_notification among them: whether it rings
	Urgent bool            `json:"u,omitempty"`
	Forget bool            `json:"f,omitempty"` // its id is not reported to Config.Sent
	Tag    string          `json:"t,omitempty"` // the bot.Reply's Tag (or Copy's), reported to Config.Sent with the id
	Queued int64           `json:"q,omitempty"` // when it was queued, Unix milliseconds, reported to Config.Sent; 0 from an older version
	// Edit is the id of the chat's message that this sendMessage replaces in place
	// (editMessageText), if it still may when it goes (see edit.go); 0 for none. An older
	// version sends it as a new message.
	Edit int64 `json:"e,omitempty"`
}

// methodEdit is the Bot API method of a reply that replaces the question pressed.
const methodEdit = "editMessageText"

// apiMethod returns the Bot API method that sends r.
func (r outgoing) apiMethod() string {
	switch {
	case r.Method != "":
		return r.Method
	case r.Edit != 0:
		return methodEdit
	}
	return "sendMessage"
}

// params are the parameters of r's call. An edit takes the text and the keyboard (none takes
// the old one away); the message keeps protect_content from when it was sent, and an edit
// never makes a sound.
func (r outgoing) params() tgbotapi.Params {
	if r.apiMethod() != methodEdit {
		return r.Params
	}
	p := tgbotapi.Params{"chat_id": r.Chat, "message_id": strconv.FormatInt(r.Edit, 10), "text": r.Params["text"]}
	if markup := r.Params["reply_markup"]; markup != "" {
		p["reply_markup"] = markup
	}
	return p
}

// asNew is r sent as a new message, not in place.
func (r outgoing) asNew() outgoing {
	r.Edit = 0
	return r
}

// message is r as the queue carries it.
func (r outgoing) message() deliver.Message {
	payload, _ := json.Marshal(r) // strings and bools: never fails
	return deliver.Message{Chat: r.Chat, Urgent: r.Urgent, Kind: r.apiMethod(), Payload: payload}
}

// courier is how the queue sends: one Bot API call per message.
type courier struct{ c *Channel }

var _ deliver.Sender = courier{}

// Decode reads back a request the outbox kept.
func (courier) Decode(payload []byte) (deliver.Message, error) {
	var r outgoing
	if err := json.Unmarshal(payload, &r); err != nil {
		return deliver.Message{}, err
	}
	return deliver.Message{Chat: r.Chat, Urgent: r.Urgent, Kind: r.apiMethod(), Payload: payload}, nil
}

// Send makes one sendMessage, editMessageText or copyMessage call and tells Config.Sent the id
// of the message sent or edited. A 429 is to be tried again after its retry_after, a 403 (the
// bot blocked) and any other 4xx never, but for an edit, whose text then goes as a new message
// (deliver.Instead); a 5xx or a network error is transient, and has Run check Telegram. While
// Run finds Telegram down, Send waits for it instead (waitForLink).
func (s courier) Send(ctx context.Context, m deliver.Message) error {
	c := s.c
	var r outgoing
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		return deliver.Refused(deliver.ReasonRejected, err)
	}
	if err := c.waitForLink(ctx); err != nil {
		return err
	}
	if r.Edit != 0 && c.screens.newer(r.Chat, r.Edit) {
		r = r.asNew() // the person or the bot said more since the question: the answer goes below
	}
	resp, err := c.bot(ctx).MakeRequest(r.apiMethod(), r.params())
	err = redact(err, c.cfg.Token)
	if err == nil {
		c.sent(r, resp.Result) // the chat is still busy: its next message waits for this
		return nil
	}
	var apiErr *tgbotapi.Error
	switch {
	case !errors.As(err, &apiErr) || apiErr.Code >= 500:
		if ctx.Err() == nil {
			c.suspect() // is Telegram down? Then the next attempts wait for it
		}
	case apiErr.Code == http.StatusTooManyRequests:
		return deliver.RetryAfter(retryAfter(apiErr), err)
	case apiErr.Code == http.StatusForbidden:
		return deliver.Refused(deliver.ReasonBlocked, err)
	case apiErr.Code >= 400 && apiErr.Code < 500 && r.Edit != 0: // never lost: sent as a new message
		c.log.Info("telegram: answer in place refused; sent as a new message", "error", err)
		return deliver.Instead(r.asNew().message(), err)
	case apiErr.Code >= 400 && apiErr.Code < 500:
		return deliver.Refused(deliver.ReasonRejected, err)
	}
	return err
}

// sent handles a message Telegram accepted: its id, which the result holds (the Message that
// sendMessage and editMessageText return or the MessageId that copyMessage does, all with a
// message_id), goes to Config.Sent, and to what this instance knows of the chat.
func (c *Channel) sent(r outgoing, result json.RawMessage) {
	var m struct {
		MessageID int64 `json:"message_id"`
	}
	if err := json.Unmarshal(result, &m); err != nil || m.MessageID == 0 {
		c.log.Warn("telegram: sent message has no message_id", "method", r.apiMethod(), "error", err)
		return
	}
	c.noteShown(r, m.MessageID)
	if r.Forget || c.cfg.Sent == nil {
		return
	}
	var queued time.Time
	if r.Queued > 0 {
		queued = time.UnixMilli(r.Queued)
	}
	c.cfg.Sent(r.Chat, r.Tag, []string{strconv.FormatInt(m.MessageID, 10)}, queued)
}

// retryAfter is how long a 429 says to wait. Telegram always gives retry_after with a 429; a
// second is a guess should it not.
func retryAfter(err *tgbotapi.Error) time.Duration {
	return max(time.Duration(err.RetryAfter)*time.Second, time.Second)
}

// request makes one call of a method the library predates, outside the queue, and tries it again
// after a 429 (once its retry_after has passed), a 5xx or a network error, up to
// Config.Retries times. Its error never carries the token.
func (c *Channel) request(ctx context.Context, method string, params tgbotapi.Params) error {
	for tries := 1; ; tries++ {
		_, err := c.bot(ctx).MakeRequest(method, params)
		err = redact(err, c.cfg.Token)
		var apiErr *tgbotapi.Error
		isAPI := errors.As(err, &apiErr)
		wait := deliver.Backoff(tries)
		switch {
		case err == nil || tries > c.cfg.Retries || ctx.Err() != nil:
			return err
		case isAPI && apiErr.Code == http.StatusTooManyRequests:
			wait = retryAfter(apiErr)
		case isAPI && apiErr.Code < 500:
			return err
		}
		select {
		case <-c.clock.At(c.clock.Now().Add(wait)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
