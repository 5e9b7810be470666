package telegramtest

import (
	"encoding/json"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Updates as Telegram sends them, for QueueUpdate or a webhook.

// Text returns an update with a text message from a person in a private chat. The person has a
// name and username, which a channel must not pass on.
func Text(chatID int64, text string) tgbotapi.Update {
	return tgbotapi.Update{Message: &tgbotapi.Message{
		MessageID: 1,
		From:      person(chatID),
		Date:      int(time.Now().Unix()),
		Chat:      &tgbotapi.Chat{ID: chatID, Type: "private", FirstName: "Maria", UserName: "maria_k"},
		Text:      text,
	}}
}

// Reply returns an update with a text message that replies to message msgID of the chat.
func Reply(chatID int64, msgID int, text string) tgbotapi.Update {
	u := Text(chatID, text)
	u.Message.ReplyToMessage = &tgbotapi.Message{MessageID: msgID, Chat: u.Message.Chat, Date: u.Message.Date}
	return u
}

// Media returns an update with a message carrying media (a photo or a voice note) and caption.
func Media(chatID int64, kind, caption string) tgbotapi.Update {
	u := Text(chatID, "")
	u.Message.Caption = caption
	switch kind {
	case "photo":
		u.Message.Photo = []tgbotapi.PhotoSize{{FileID: "photo-file", Width: 90, Height: 90}}
	case "voice":
		u.Message.Voice = &tgbotapi.Voice{FileID: "voice-file", Duration: 3}
	default:
		u.Message.Document = &tgbotapi.Document{FileID: "doc-file", FileName: "contract.pdf"}
	}
	return u
}

// Callback returns an update with a callback query: the person pressed the button with data
// under a message of the bot in a private chat. Its query id is "q" and the chat id.
func Callback(chatID int64, data string) tgbotapi.Update {
	return tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{
		ID:   "q" + strconv.FormatInt(chatID, 10),
		From: person(chatID),
		Message: &tgbotapi.Message{
			MessageID: 2,
			From:      &tgbotapi.User{ID: 1, IsBot: true, FirstName: "Faros", UserName: "faros_bot"},
			Date:      int(time.Now().Unix()),
			Chat:      &tgbotapi.Chat{ID: chatID, Type: "private", FirstName: "Maria", UserName: "maria_k"},
			Text:      "a question",
		},
		ChatInstance: "1",
		Data:         data,
	}}
}

func person(id int64) *tgbotapi.User {
	return &tgbotapi.User{ID: id, FirstName: "Maria", LastName: "K", UserName: "maria_k", LanguageCode: "en"}
}

// Say returns an update with a text message from the person, numbered after the chat's last
// message as Telegram numbers a private chat's messages, and keeps it in the chat (Screen).
func (s *Server) Say(chatID int64, text string) tgbotapi.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := Text(chatID, text)
	u.Message.MessageID = s.add(strconv.FormatInt(chatID, 10), &message{text: text})
	return u
}

// Press returns an update with a callback query: the person pressed the button with data under
// message msgID of the chat, which the query shows as the person saw it, as Telegram does: its
// text, its keyboard, its date. Each query has an id of its own.
func (s *Server) Press(chatID int64, msgID int, data string) tgbotapi.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.presses++
	u := Callback(chatID, data)
	q := u.CallbackQuery
	q.ID = "q" + strconv.FormatInt(chatID, 10) + "-" + strconv.Itoa(s.presses)
	q.Message.MessageID = msgID
	if c := s.chats[strconv.FormatInt(chatID, 10)]; c != nil && c.msgs[msgID] != nil {
		m := c.msgs[msgID]
		q.Message.Text, q.Message.Date = m.text, int(m.date.Unix())
		if m.markup != "" {
			q.Message.ReplyMarkup = &tgbotapi.InlineKeyboardMarkup{}
			_ = json.Unmarshal([]byte(m.markup), q.Message.ReplyMarkup) // normalized: it parses
		}
	}
	return u
}
