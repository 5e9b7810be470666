package telegramtest

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// A chat's messages, as the Server keeps them: what the person's phone shows.

// chat is one chat's messages. Telegram numbers a private chat's messages in one sequence,
// the person's and the bot's.
type chat struct {
	last int              // the last message id given
	msgs map[int]*message // by id; a deleted one is gone
}

type message struct {
	bot    bool
	text   string // "" for a copy: Faros copies media
	markup string // the inline keyboard, normalized (keyboard); "" for none
	date   time.Time
}

// chat returns the chat's messages, made if needed. The caller holds s.mu.
func (s *Server) chat(id string) *chat {
	c := s.chats[id]
	if c == nil {
		c = &chat{msgs: map[int]*message{}}
		s.chats[id] = c
	}
	return c
}

// add gives m the chat's next message id. The caller holds s.mu.
func (s *Server) add(chatID string, m *message) int {
	c := s.chat(chatID)
	c.last++
	m.date = time.Now()
	c.msgs[c.last] = m
	return c.last
}

// keyboard normalizes a reply_markup parameter, so that two equal keyboards compare equal
// whatever their spacing; "" for none or one that is not an inline keyboard.
func keyboard(param string) string {
	var markup tgbotapi.InlineKeyboardMarkup
	if param == "" || json.Unmarshal([]byte(param), &markup) != nil || len(markup.InlineKeyboard) == 0 {
		return ""
	}
	b, _ := json.Marshal(markup)
	return string(b)
}

// Texts returns the texts of the messages sent to the chat and answered 200, in order. Edits
// are not among them: see Screen.
func (s *Server) Texts(chatID int64) []string {
	var texts []string
	for _, c := range s.Calls("sendMessage") {
		if c.Status == http.StatusOK && c.Params["chat_id"] == strconv.FormatInt(chatID, 10) {
			texts = append(texts, c.Params["text"])
		}
	}
	return texts
}

// Screen returns what the person's phone shows of the chat, in order: the text of each message
// not deleted, as last edited, the person's (made by Say) and the bot's; "(copy)" for a copy.
func (s *Server) Screen(chatID int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[strconv.FormatInt(chatID, 10)]
	if c == nil {
		return nil
	}
	var texts []string
	for _, id := range slices.Sorted(maps.Keys(c.msgs)) {
		m := c.msgs[id]
		switch {
		case m.bot && m.text == "":
			texts = append(texts, "(copy)")
		default:
			texts = append(texts, m.text)
		}
	}
	return texts
}

// Keyboard returns the callback data of the buttons under message msgID of the chat, as it is
// now; nil if it has none or is gone.
func (s *Server) Keyboard(chatID int64, msgID int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[strconv.FormatInt(chatID, 10)]
	if c == nil || c.msgs[msgID] == nil || c.msgs[msgID].markup == "" {
		return nil
	}
	var markup tgbotapi.InlineKeyboardMarkup
	_ = json.Unmarshal([]byte(c.msgs[msgID].markup), &markup) // normalized: it parses
	var data []string
	for _, row := range markup.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData != nil {
				data = append(data, *b.CallbackData)
			}
		}
	}
	return data
}

// Deleted returns the message ids that deleteMessages calls for the chat asked to delete and
// that were answered 200, in order.
func (s *Server) Deleted(chatID int64) []int {
	var ids []int
	for _, c := range s.Calls("deleteMessages") {
		if c.Status != http.StatusOK || c.Params["chat_id"] != strconv.FormatInt(chatID, 10) {
			continue
		}
		var batch []int
		_ = c.JSON("message_ids", &batch) // a call answered 200 has them
		ids = append(ids, batch...)
	}
	return ids
}

func (s *Server) sendMessage(params map[string]string) (any, failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat := params["chat_id"]
	id, err := strconv.ParseInt(chat, 10, 64)
	if err != nil {
		return nil, failure{http.StatusBadRequest, "Bad Request: chat not found", 0}
	}
	if f := s.accept("sendMessage", chat); f.code != 0 {
		return nil, f
	}
	m := &message{bot: true, text: params["text"], markup: keyboard(params["reply_markup"])}
	return s.result(id, s.add(chat, m), m), failure{}
}

// copyMessage answers, as Telegram does, with the new message's id only.
func (s *Server) copyMessage(params map[string]string) (any, failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat := params["chat_id"]
	_, toErr := strconv.ParseInt(chat, 10, 64)
	_, fromErr := strconv.ParseInt(params["from_chat_id"], 10, 64)
	_, idErr := strconv.Atoi(params["message_id"])
	switch {
	case toErr != nil || fromErr != nil:
		return nil, failure{http.StatusBadRequest, "Bad Request: chat not found", 0}
	case idErr != nil:
		return nil, failure{http.StatusBadRequest, "Bad Request: message to copy not found", 0}
	}
	if f := s.accept("copyMessage", chat); f.code != 0 {
		return nil, f
	}
	return tgbotapi.MessageID{MessageID: s.add(chat, &message{bot: true})}, failure{}
}

// editMessageText replaces a text of the bot's and its keyboard (none takes it away), refusing
// as Telegram does what cannot be edited, and counts under Limit as a message sent. It answers
// with the message as edited, which keeps its id and date.
func (s *Server) editMessageText(params map[string]string) (any, failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat := params["chat_id"]
	id, err := strconv.ParseInt(chat, 10, 64)
	if err != nil {
		return nil, failure{http.StatusBadRequest, "Bad Request: chat not found", 0}
	}
	if f, ok := s.failure("editMessageText", chat); ok {
		return nil, f
	}
	msgID, _ := strconv.Atoi(params["message_id"])
	m := s.chat(chat).msgs[msgID]
	markup := keyboard(params["reply_markup"])
	if f := refuseEdit(m, params["text"], markup); f.code != 0 {
		return nil, f
	}
	if f := s.flood(chat); f.code != 0 {
		return nil, f
	}
	m.text, m.markup = params["text"], markup
	msg := s.result(id, msgID, m)
	msg.EditDate = int(time.Now().Unix())
	return msg, failure{}
}

// refuseEdit is Telegram's answer to an edit of m that it refuses; no code if it takes it.
func refuseEdit(m *message, text, markup string) failure {
	bad := func(d string) failure { return failure{http.StatusBadRequest, "Bad Request: " + d, 0} }
	switch {
	case m == nil:
		return bad("message to edit not found")
	case !m.bot:
		return bad("message can't be edited")
	case m.text == "":
		return bad("there is no text in the message to edit")
	case text == "":
		return bad("message text is empty")
	case text == m.text && markup == m.markup:
		return bad("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	return failure{}
}

// result is the Message that sendMessage and editMessageText answer with.
func (s *Server) result(chatID int64, msgID int, m *message) tgbotapi.Message {
	msg := tgbotapi.Message{
		MessageID: msgID,
		From:      &tgbotapi.User{ID: 1, IsBot: true, FirstName: "Faros", UserName: "faros_bot"},
		Date:      int(m.date.Unix()),
		Chat:      &tgbotapi.Chat{ID: chatID, Type: "private"},
		Text:      m.text,
	}
	if m.markup != "" {
		msg.ReplyMarkup = &tgbotapi.InlineKeyboardMarkup{}
		_ = json.Unmarshal([]byte(m.markup), msg.ReplyMarkup) // normalized: it parses
	}
	return msg
}

// accept takes a message to the chat, unless a failure is queued for the method and chat or
// Limit refuses it. The caller holds s.mu.
func (s *Server) accept(method, chat string) failure {
	if f, ok := s.failure(method, chat); ok {
		return f
	}
	return s.flood(chat)
}

// flood counts one more message to the chat under Limit, or refuses it with a 429. The caller
// holds s.mu.
func (s *Server) flood(chat string) failure {
	now := time.Now()
	for len(s.accepted) > 0 && now.Sub(s.accepted[0]) >= time.Second {
		s.accepted = s.accepted[1:]
	}
	var wait time.Duration // until the message would be accepted
	if s.perSecond > 0 && len(s.accepted) >= s.perSecond {
		wait = s.accepted[len(s.accepted)-s.perSecond].Add(time.Second).Sub(now)
	}
	if last, seen := s.lastSend[chat]; s.perChat > 0 && seen && now.Sub(last) < s.perChat {
		wait = max(wait, last.Add(s.perChat).Sub(now))
	}
	if wait > 0 {
		s.limited++
		return tooMany(max(1, int((wait+time.Second-1)/time.Second)))
	}
	s.accepted = append(s.accepted, now)
	s.lastSend[chat] = now
	return failure{}
}

// deleteMessages checks the parameters as Telegram does: a chat and 1-100 message ids. Like
// Telegram it answers true also for ids that are gone or never were.
func (s *Server) deleteMessages(params map[string]string) failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat := params["chat_id"]
	var ids []int
	switch {
	case chat == "":
		return failure{http.StatusBadRequest, "Bad Request: chat_id is empty", 0}
	case json.Unmarshal([]byte(params["message_ids"]), &ids) != nil || len(ids) == 0 || len(ids) > 100:
		return failure{http.StatusBadRequest, "Bad Request: message_ids must be an array of 1-100 integers", 0}
	}
	if f, failed := s.failure("deleteMessages", chat); failed {
		return f
	}
	for _, id := range ids {
		delete(s.chat(chat).msgs, id)
	}
	return failure{}
}
