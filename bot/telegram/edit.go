package telegram

import (
	"encoding/json"
	"hash/maphash"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/faros-project/faros/bot"
)

// Answering in place (Config.EditAnswers): when the person presses a button under the bot's
// latest question, the first reply replaces that question (editMessageText) instead of coming
// as a new message, so that a screening leaves one message on the phone, not one per answer.
// Where it is not sure to be right, the reply comes as a new message, as without it:
//
//   - only the first reply to a press, and only a reply that is none of urgent (it must not
//     wait behind nor hide in an older message), Forget (the last word after a wipe keeps its
//     own path), Ring or Tag (a counsellor's messages: an edit never rings, and the desk keeps
//     their ids);
//   - only the message pressed, a text of the bot's with buttons, sent under editWithin ago;
//   - only while that message is the latest of the chat that this instance knows of (the
//     person wrote nothing since, the bot sent nothing since), and shows the very keyboard the
//     person pressed (not a press on what it showed before an edit); and only once: of two
//     presses at once, one answer replaces the question and the other comes below;
//   - when it is sent: if anything came after the question meanwhile, it goes as a new message;
//     if Telegram refuses the edit (the message is gone, not modified...), it goes as a new
//     message once the chat's pacing allows (deliver.Instead). Nothing is lost.
//
// What this instance knows of a chat lives in its memory only. A press under a question that
// another instance sent (or this one before a restart) is answered by a new message. What the
// person wrote to another instance in between is not known here: with several instances taking
// webhook updates in turn, a press under a question that is no longer the latest may, rarely,
// still be answered in place. The bot, which keeps every id of the chat, could tell for sure.

// editWithin is how old a message may be and still be replaced: a wipe deletes a message only
// under 48 hours old, counted from when it was first sent, so an old message edited would take
// its new words out of the wipe's reach sooner. Also how long a chat is remembered.
const editWithin = time.Hour

// screens remembers, for each chat, the latest message this instance saw and whether the bot
// may replace it. Chats are known by a keyed hash, never by their id.
type screens struct {
	seed  maphash.Seed
	mu    sync.Mutex
	chats map[uint64]*screen
	ops   int // since chats was last pruned
}

// screen is what is known of one chat.
type screen struct {
	last     int64     // the latest message id seen, the person's or the bot's
	keyboard uint64    // the keyboard message last shows (keyboardOf), if the bot may replace it; 0 if not
	seen     time.Time // when last changed: the chat is forgotten editWithin after
}

func newScreens() *screens {
	return &screens{seed: maphash.MakeSeed(), chats: map[uint64]*screen{}}
}

// A nil *screens (Config.EditAnswers off) knows nothing and lets nothing be replaced.

// person notes a message of the person: nothing before it is to be replaced.
func (s *screens) person(chat string, msgID int64) {
	s.note(chat, msgID, 0)
}

// shown notes a message of the bot, sent or edited; keyboard is keyboardOf its buttons if a
// press under it may be answered in place, else 0.
func (s *screens) shown(chat string, msgID int64, keyboard uint64) {
	s.note(chat, msgID, keyboard)
}

func (s *screens) note(chat string, msgID int64, keyboard uint64) {
	if s == nil || msgID <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.prune(now)
	k := maphash.String(s.seed, chat)
	sc := s.chats[k]
	if sc == nil {
		sc = &screen{}
		s.chats[k] = sc
	}
	if msgID >= sc.last { // an edit of an older message changes nothing of what is latest
		sc.last, sc.keyboard, sc.seen = msgID, keyboard, now
	}
}

// claim says whether the answer to a press under message msgID, which showed keyboard, may
// replace it; if so, no other answer may until the bot shows a keyboard there again.
func (s *screens) claim(chat string, msgID int64, keyboard uint64) bool {
	if s == nil || keyboard == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.chats[maphash.String(s.seed, chat)]
	if sc == nil || sc.last != msgID || sc.keyboard != keyboard || time.Since(sc.seen) > editWithin {
		return false
	}
	sc.keyboard = 0
	return true
}

// newer says whether a message later than msgID is known in the chat. An edit queued by
// another instance that stopped was claimed there: unknown here, it goes ahead.
func (s *screens) newer(chat string, msgID int64) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.chats[maphash.String(s.seed, chat)]
	return sc != nil && sc.last > msgID
}

// forget forgets the chat: it was wiped.
func (s *screens) forget(chat string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.chats, maphash.String(s.seed, chat))
}

// prune forgets, every thousand notes, the chats unchanged for editWithin. Under s.mu.
func (s *screens) prune(now time.Time) {
	if s.ops++; s.ops < 1000 {
		return
	}
	s.ops = 0
	for k, sc := range s.chats {
		if now.Sub(sc.seen) > editWithin {
			delete(s.chats, k)
		}
	}
}

// keyboardOf is a digest of an inline keyboard's buttons, labels and data, in order; 0 for
// none. The same keyboard gives the same digest whether Faros sent it or a callback query
// shows it.
func (s *screens) keyboardOf(markup *tgbotapi.InlineKeyboardMarkup) uint64 {
	if s == nil || markup == nil {
		return 0
	}
	var h maphash.Hash
	h.SetSeed(s.seed)
	n := 0
	for _, row := range markup.InlineKeyboard {
		for _, b := range row {
			data := ""
			if b.CallbackData != nil {
				data = *b.CallbackData
			}
			h.WriteString(b.Text + "\x00" + data + "\x00")
			n++
		}
		h.WriteString("\x01")
	}
	if n == 0 {
		return 0
	}
	return h.Sum64() | 1 // never 0
}

// pressed returns the message whose button update u pressed, if the answer may replace it:
// a text message with buttons in a private chat, sent under editWithin before now. Telegram
// shows it as it was when pressed; one it can no longer show has no date.
func pressed(u tgbotapi.Update, now time.Time) (msg *tgbotapi.Message, ok bool) {
	q := u.CallbackQuery
	if q == nil || q.Message == nil {
		return nil, false
	}
	msg = q.Message
	switch {
	case msg.Chat == nil || msg.Chat.Type != "private", msg.MessageID <= 0, msg.Text == "", msg.ReplyMarkup == nil:
		return nil, false
	case msg.From != nil && !msg.From.IsBot:
		return nil, false
	case msg.Date <= 0 || now.Sub(time.Unix(int64(msg.Date), 0)) > editWithin:
		return nil, false
	}
	return msg, true
}

// replaces says whether reply r may replace the question pressed: see the top of this file.
func replaces(r bot.Reply) bool {
	return r.Text != "" && !r.Urgent && !r.Forget && !r.Ring && r.Tag == ""
}

// inPlace returns the id of the message that the first of the replies to update u replaces,
// claimed for it; 0 if they all come as new messages.
func (c *Channel) inPlace(chatID string, u tgbotapi.Update, replies []bot.Reply) int64 {
	if c.screens == nil || len(replies) == 0 || !replaces(replies[0]) {
		return 0
	}
	msg, ok := pressed(u, time.Now())
	if !ok || !c.screens.claim(chatID, int64(msg.MessageID), c.screens.keyboardOf(msg.ReplyMarkup)) {
		return 0
	}
	return int64(msg.MessageID)
}

// notePerson notes the person's message of update u, before it is handled: a press handled at
// the same time must not replace what came before it.
func (c *Channel) notePerson(m bot.Message) {
	if m.Edited || m.MsgID == "" {
		return
	}
	if id, err := strconv.ParseInt(m.MsgID, 10, 64); err == nil {
		c.screens.person(m.ChatID, id)
	}
}

// noteShown notes a message Telegram took from r with this id: the bot's question, which a
// press may have answered in place, or anything else, which only comes after what was before.
func (c *Channel) noteShown(r outgoing, msgID int64) {
	if c.screens == nil {
		return
	}
	var keyboard uint64
	if r.Method == "" && r.Tag == "" && !r.Forget && r.Params["disable_notification"] == "true" {
		var markup tgbotapi.InlineKeyboardMarkup
		if json.Unmarshal([]byte(r.Params["reply_markup"]), &markup) == nil {
			keyboard = c.screens.keyboardOf(&markup)
		}
	}
	c.screens.shown(r.Chat, msgID, keyboard)
}
