package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/deliver"
)

const (
	pollTimeout = 30      // seconds Telegram holds a getUpdates open
	maxBody     = 1 << 20 // bytes of one webhook update; real ones are a few KiB
	// pollBatch is the most updates one getUpdates returns. A batch whose instance died before
	// confirming it comes again whole: at most this many of a chat, within the last ten
	// delivery ids that each conversation remembers, so none is stepped twice.
	pollBatch = 10
)

// allowedUpdates are the only kinds of update Faros asks Telegram for.
var allowedUpdates = []string{"message", "edited_message", "callback_query"}

// poll runs getUpdates until ctx is done. Each batch is handled before the next request, whose
// offset confirms it: an update that was not handled is delivered again, and bot.Handle drops
// what was handled twice. A batch is handled to the end when ctx ends under it (see handling).
func (c *Channel) poll(ctx context.Context) error {
	api := c.bot(ctx)
	// A webhook left from webhook mode would make getUpdates fail with 409.
	if _, err := api.MakeRequest("deleteWebhook", nil); err != nil && ctx.Err() == nil {
		c.log.Warn("telegram: delete webhook", "error", redact(err, c.cfg.Token))
	}
	conf := tgbotapi.UpdateConfig{Timeout: pollTimeout, Limit: pollBatch, AllowedUpdates: allowedUpdates}
	failures := 0
	for {
		updates, err := api.GetUpdates(conf)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			failures++
			wait := deliver.Backoff(failures)
			c.log.Warn("telegram: get updates", "error", redact(err, c.cfg.Token), "retry_in_seconds", wait.Seconds())
			c.suspect() // Telegram down: sends wait for it
			select {
			case <-c.clock.At(c.clock.Now().Add(wait)):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		failures = 0
		c.handleBatch(ctx, updates)
		for _, u := range updates {
			conf.Offset = max(conf.Offset, u.UpdateID+1)
		}
	}
}

// handleBatch handles the updates of one chat one at a time and in order, and different chats in
// parallel. intake is the poll's context: its end does not cut the batch short.
func (c *Channel) handleBatch(intake context.Context, updates []tgbotapi.Update) {
	ctx, done := c.handling(intake)
	defer done()
	byChat := map[string][]tgbotapi.Update{}
	var order []string
	for _, u := range updates {
		m, _, ok := decode(u)
		if !ok {
			c.handlePolled(intake, ctx, u) // only answers a callback query
			continue
		}
		if byChat[m.ChatID] == nil {
			order = append(order, m.ChatID)
		}
		byChat[m.ChatID] = append(byChat[m.ChatID], u)
	}
	var wg sync.WaitGroup
	for _, chat := range order {
		wg.Go(func() {
			for _, u := range byChat[chat] {
				c.handlePolled(intake, ctx, u)
			}
		})
	}
	wg.Wait()
}

// handleUpdate hands one update to the handler and queues the replies. A callback query is
// answered once, with answer, also when handling fails, but not again when it was handled
// before. It returns bot.ErrOverloaded, and does nothing else, when the update must come again
// later.
func (c *Channel) handleUpdate(ctx context.Context, u tgbotapi.Update, answer func(queryID string)) error {
	m, queryID, ok := decode(u)
	if !ok {
		if queryID != "" {
			answer(queryID)
		}
		return nil
	}
	c.notePerson(m)
	replies, err := c.h.Handle(ctx, m)
	if errors.Is(err, bot.ErrOverloaded) {
		return err // its callback query is answered when it comes again
	}
	if queryID != "" && !errors.Is(err, bot.ErrDuplicate) {
		answer(queryID)
	}
	switch {
	case errors.Is(err, bot.ErrDuplicate):
	case err != nil:
		c.log.Error("telegram: handle update", "error", err)
	default:
		msgs := messages(m.ChatID, replies, time.Now(), c.inPlace(m.ChatID, u, replies))
		_ = c.out.Post(msgs) // after Close: given up, counted and logged
	}
	return nil
}

// handlePolled handles an update taken by polling under ctx. Nobody delivers it again while
// this instance polls: while the intake is full it waits its turn, a second at a time. Once
// intake ends it gives up instead: its offset was never confirmed, so Telegram delivers it to
// the next poller.
func (c *Channel) handlePolled(intake, ctx context.Context, u tgbotapi.Update) {
	answer := func(queryID string) { c.answer(ctx, queryID) }
	for c.handleUpdate(ctx, u, answer) != nil {
		select {
		case <-c.clock.At(c.clock.Now().Add(time.Second)):
		case <-intake.Done():
			return
		case <-ctx.Done():
			return
		}
	}
}

// answer stops the spinner Telegram shows on a pressed button until the bot answers: a call of
// its own in polling mode (in webhook mode, the webhook's answer holds it: ServeHTTP).
func (c *Channel) answer(ctx context.Context, queryID string) {
	if _, err := c.bot(ctx).Request(tgbotapi.NewCallback(queryID, "")); err != nil {
		c.log.Warn("telegram: answer callback query", "error", redact(err, c.cfg.Token))
	}
}

// decode turns an update into a bot.Message. ok is false for what Faros does not serve: anything
// but a message or callback query of a private chat. queryID is the callback query to answer,
// also when ok is false. Names, usernames and user ids are left out. Media are never fetched:
// a message with one has its kind as Media and its caption as Text; nothing else of it is
// passed on, neither a file's id or name nor a contact's phone number nor a place's coordinates.
func decode(u tgbotapi.Update) (m bot.Message, queryID string, ok bool) {
	var msg *tgbotapi.Message
	var from *tgbotapi.User
	switch {
	case u.EditedMessage != nil: // its text as now; the desk tells a counsellor edits do not reach
		msg, from = u.EditedMessage, u.EditedMessage.From
		m.Text, m.Edited = msg.Text, true
	case u.Message != nil:
		msg, from = u.Message, u.Message.From
		m.Text = msg.Text
		if m.Media = media(msg); m.Media != "" {
			m.Text = msg.Caption
		}
		if msg.MessageID != 0 {
			m.MsgID = strconv.Itoa(msg.MessageID)
		}
		if r := msg.ReplyToMessage; r != nil && r.MessageID != 0 {
			m.ReplyTo = strconv.Itoa(r.MessageID)
		}
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		queryID, msg, from = q.ID, q.Message, q.From
		m.Button = q.Data
	}
	if msg == nil || msg.Chat == nil || msg.Chat.Type != "private" {
		return bot.Message{}, queryID, false
	}
	m.Channel = "telegram"
	m.ChatID = strconv.FormatInt(msg.Chat.ID, 10)
	m.ID = strconv.Itoa(u.UpdateID)
	if from != nil {
		m.Language = from.LanguageCode
	}
	return m, queryID, true
}

// media returns the kind of what msg carries besides text, by the name of its field in the Bot
// API; "" for none. Telegram sends an animation also as a document and a venue also as a
// location: the more telling comes first.
func media(msg *tgbotapi.Message) string {
	switch {
	case msg.Animation != nil:
		return "animation"
	case len(msg.Photo) > 0:
		return "photo"
	case msg.Voice != nil:
		return "voice"
	case msg.Audio != nil:
		return "audio"
	case msg.Video != nil:
		return "video"
	case msg.VideoNote != nil:
		return "video_note"
	case msg.Document != nil:
		return "document"
	case msg.Sticker != nil:
		return "sticker"
	case msg.Venue != nil:
		return "venue"
	case msg.Location != nil:
		return "location"
	case msg.Contact != nil:
		return "contact"
	case msg.Poll != nil:
		return "poll"
	}
	return ""
}

// setWebhook points Telegram at WebhookURL. The library's WebhookConfig predates secret_token.
func (c *Channel) setWebhook(ctx context.Context) error {
	params := tgbotapi.Params{"url": c.cfg.WebhookURL, "secret_token": c.cfg.WebhookSecret}
	if err := params.AddInterface("allowed_updates", allowedUpdates); err != nil {
		return fmt.Errorf("telegram: set webhook: %w", err)
	}
	if _, err := c.bot(ctx).MakeRequest("setWebhook", params); err != nil {
		return fmt.Errorf("telegram: set webhook: %w", redact(err, c.cfg.Token))
	}
	return nil
}

// ServeHTTP serves the updates Telegram posts in webhook mode. It answers 200 once an update is
// handled, also when it was a duplicate or the handler failed: a non-2xx would make Telegram
// deliver it again and again. Only when the bot's intake is full does it answer 503, so that
// Telegram delivers the update again later.
//
// A pressed button's callback query is answered in the 200 itself: Telegram makes the call a
// webhook's answer names, which spares the bot a request of its own for each press. Whether
// that call succeeded is not known; a failed one leaves a spinner on the button a few seconds
// longer, as a failed request did.
func (c *Channel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	queryID, err := c.serveUpdate(w, r)
	if err == nil && queryID != "" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(webhookAnswer{Method: "answerCallbackQuery", CallbackQueryID: queryID})
		return
	}
	if err == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	status := http.StatusInternalServerError
	var se *statusError
	if errors.As(err, &se) {
		status = se.status
	}
	c.log.Warn("telegram: webhook request refused", "status", status, "error", err)
	http.Error(w, http.StatusText(status), status)
}

// webhookAnswer is a call made by the webhook's answer.
type webhookAnswer struct {
	Method          string `json:"method"`
	CallbackQueryID string `json:"callback_query_id"`
}

// serveUpdate handles the update r posts, and returns the callback query it leaves to the
// webhook's answer, if any.
func (c *Channel) serveUpdate(w http.ResponseWriter, r *http.Request) (queryID string, err error) {
	if r.Method != http.MethodPost {
		return "", &statusError{http.StatusMethodNotAllowed, errors.New("method is not POST")}
	}
	got := []byte(r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
	if c.cfg.WebhookSecret == "" || subtle.ConstantTimeCompare(got, []byte(c.cfg.WebhookSecret)) != 1 {
		return "", &statusError{http.StatusUnauthorized, errors.New("wrong secret token")}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return "", &statusError{http.StatusRequestEntityTooLarge, err}
	case err != nil:
		return "", &statusError{http.StatusBadRequest, fmt.Errorf("read update: %w", err)}
	}
	var u tgbotapi.Update
	if err := json.Unmarshal(body, &u); err != nil {
		return "", &statusError{http.StatusBadRequest, fmt.Errorf("decode update: %w", err)}
	}
	if !c.receiving.enter() { // stopping: Telegram delivers it again, to an instance that runs
		w.Header().Set("Retry-After", "1")
		return "", &statusError{http.StatusServiceUnavailable, errStopping}
	}
	defer c.receiving.leave()
	ctx, done := c.handling(r.Context())
	defer done()
	if err := c.handleUpdate(ctx, u, func(id string) { queryID = id }); err != nil {
		w.Header().Set("Retry-After", "1")
		return "", &statusError{http.StatusServiceUnavailable, err} // Telegram delivers it again
	}
	return queryID, nil
}

var errStopping = errors.New("telegram: stopping")

type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }
