package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/deliver"
)

// maxText is the longest text of one message, in UTF-16 code units as Telegram counts.
const maxText = 4096

// Send queues replies for the chat and waits until Telegram has taken them all or a message is
// given up, whose error it returns. When ctx is done first, Send returns its error and the
// replies stay queued: do not send them again.
func (c *Channel) Send(ctx context.Context, chatID string, replies []bot.Reply) error {
	// The chat id is left out of errors, which get logged.
	if !isInt(chatID) {
		return errors.New("telegram: send: chat id is not a number")
	}
	return c.out.Send(ctx, "send", messages(chatID, replies, time.Now(), 0))
}

// messages turns replies into sendMessage calls: a text too long for one message becomes
// several, and the buttons go with the last. Every part rings, is forgotten and is tagged as
// its reply says. If edit is not 0, the first part replaces that message in place instead, if
// it still may when it goes (see edit.go).
func messages(chatID string, replies []bot.Reply, now time.Time, edit int64) []deliver.Message {
	var msgs []deliver.Message
	for _, r := range replies {
		parts := split(r.Text, maxText)
		for i, text := range parts {
			var buttons []bot.Button
			if i == len(parts)-1 {
				buttons = r.Buttons
			}
			msgs = append(msgs, outgoing{
				Chat:   chatID,
				Params: sendParams(chatID, text, buttons, r.Ring),
				Urgent: r.Urgent,
				Forget: r.Forget,
				Tag:    r.Tag,
				Queued: now.UnixMilli(),
				Edit:   edit,
			}.message())
			edit = 0
		}
	}
	return msgs
}

// sendParams are the parameters of sendMessage. protect_content keeps the messages from being
// forwarded or saved. disable_notification keeps the phone quiet, since someone else may hold
// it, unless the message is to ring: a counsellor must hear an alert. The library's
// MessageConfig predates protect_content.
func sendParams(chatID, text string, buttons []bot.Button, ring bool) tgbotapi.Params {
	p := tgbotapi.Params{
		"chat_id":         chatID,
		"text":            text,
		"protect_content": "true",
	}
	if !ring {
		p["disable_notification"] = "true"
	}
	if len(buttons) > 0 {
		rows := make([][]tgbotapi.InlineKeyboardButton, len(buttons))
		for i, b := range buttons {
			rows[i] = tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(b.Label, b.Data))
		}
		markup, _ := json.Marshal(tgbotapi.NewInlineKeyboardMarkup(rows...)) // strings only: never fails
		p["reply_markup"] = string(markup)
	}
	return p
}

// split cuts text into parts of at most max UTF-16 code units, at the last line break before
// the limit, else at the last space, else anywhere; the line break or space is dropped.
func split(text string, max int) []string {
	var parts []string
	for {
		cut, units, lastBreak, lastSpace := -1, 0, -1, -1
		for i, r := range text {
			switch r { // before the limit check: a break right at the limit is dropped, so it fits
			case '\n':
				lastBreak = i
			case ' ':
				lastSpace = i
			}
			units += utf16.RuneLen(r)
			if units > max {
				cut = i
				break
			}
		}
		if cut < 0 {
			return append(parts, text)
		}
		next := cut
		if lastBreak > 0 {
			cut, next = lastBreak, lastBreak+1
		} else if lastSpace > 0 {
			cut, next = lastSpace, lastSpace+1
		}
		parts = append(parts, text[:cut])
		text = text[next:]
	}
}
