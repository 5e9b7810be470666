// Package bot is Faros' core: it takes one Message from a channel, runs it through the
// dialogue engine with the conversation's state from Redis, and returns the Replies. Channel
// adapters (bot/telegram, bot/webhook) decode and deliver; this package decides.
package bot

import (
	"context"
	"errors"
)

// Message is one thing a person did in a channel, as its adapter decoded it.
type Message struct {
	Channel string // "telegram", "api" or "web"; part of the pseudonym
	ChatID  string // the channel's id of the conversation: secret, never logged or stored in clear
	ID      string // the channel's id of this delivery (update id, idempotency key); "" if none
	MsgID   string // the channel's id of the person's message in the chat, for deleting it; "" if none
	Text    string // typed text; "/help" and the like are commands
	Button  string // the Data of a pressed Button
	// Media is what the person sent that is not text ("photo", "voice", "document", "sticker",
	// ...); its caption, if any, is in Text. Faros never fetches or keeps it: a counsellor's
	// channel may copy it (see handoff).
	Media string
	// ReplyTo is the channel's id of the message this one answers (Telegram's reply-to); "" if none.
	ReplyTo string
	// Edited: an earlier message, changed. A person's edits are not handled (the bot answered
	// the message as it was); a counsellor is told that edits do not reach the person.
	Edited   bool
	Language string // the channel's hint: a language code ("en-US") or an Accept-Language value
	// Replay: the channel delivers the replies in its answer to this delivery, which dies with
	// a crashed instance; Faros keeps them, sealed, for a redelivery of the same ID.
	Replay bool
}

// Reply is one message for the person. Its JSON form is what Redis keeps, sealed, for a
// redelivery.
type Reply struct {
	Text    string   `json:"t"`
	Buttons []Button `json:"b,omitempty"`
	Urgent  bool     `json:"u,omitempty"` // emergency and safety messages: delivered before others
	Lang    string   `json:"g,omitempty"` // the language it is written in; "" for several at once
	Forget  bool     `json:"-"`           // do not report its message id: the last word after a wipe must leave no trace
	// Ring lets the phone make a sound: for counsellors, whose alerts must be heard. A person's
	// messages never ring: someone else may hold the phone.
	Ring bool `json:"-"`
	// Tag says what the message is about (a case id); the channel reports it with the message's
	// id (Telegram's Config.Sent), so that the case's messages can be deleted when it closes.
	Tag string `json:"-"`
	// Shown marks what a counsellor's desk in the browser shows from the case itself: the
	// person's words passed on, the case's log, its packet. A channel that shows cases (the
	// desk) keeps no copy of it: nothing of a case outlives the case there.
	Shown bool `json:"-"`
}

// Button is one answer offered with a Reply.
type Button struct {
	Data  string `json:"d"` // comes back as Message.Button; at most 64 bytes
	Label string `json:"l"`
}

// Handler handles one message and returns the replies to it. *Bot implements it; channel
// adapters depend on this interface only.
type Handler interface {
	Handle(ctx context.Context, m Message) ([]Reply, error)
}

// Sender delivers replies that do not answer a message of the person (an operator's words, a
// closing note) to a conversation of its channel. Each channel adapter implements it.
type Sender interface {
	Send(ctx context.Context, chatID string, replies []Reply) error
}

// Wiper deletes a conversation's messages from the person's device, where the channel can
// (Telegram: messages younger than 48 hours), and drops what is still queued for it.
type Wiper interface {
	Wipe(ctx context.Context, chatID string, msgIDs []string) error
}

// ErrDuplicate is returned by Handle for a message whose ID was handled already (a channel's
// redelivery): there is nothing to answer.
var ErrDuplicate = errors.New("bot: message already handled")

// ErrAway is returned by a Sender that kept the replies for the person but could not deliver
// them now: their page is not open. They are shown if it comes back; the one who wrote them
// should know.
var ErrAway = errors.New("bot: kept for the person, whose page is not open now")

// ErrOverloaded is returned by Handle when the channel has taken all the messages it may this
// second: the message was not handled, and the channel has it brought again (HTTP 503 with
// Retry-After, which the web page and Telegram follow; polling waits a second). A message in a
// case with a counsellor, a call for help, leaving and wiping never get it.
var ErrOverloaded = errors.New("bot: too many messages at once; try again in a second")
