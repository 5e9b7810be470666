package telegramtest_test

import (
	"errors"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot/telegram/telegramtest"
)

// edit makes one editMessageText call and returns its HTTP status and, on success, the
// message as edited.
func edit(t *testing.T, api *tgbotapi.BotAPI, chat int64, msgID int, text string, markup *tgbotapi.InlineKeyboardMarkup) (int, tgbotapi.Message) {
	t.Helper()
	e := tgbotapi.NewEditMessageText(chat, msgID, text)
	e.ReplyMarkup = markup
	m, err := api.Send(e)
	var tgErr *tgbotapi.Error
	switch {
	case errors.As(err, &tgErr):
		return tgErr.Code, m
	case err != nil:
		t.Fatal(err)
	}
	return 200, m
}

func keyboard(data ...string) *tgbotapi.InlineKeyboardMarkup {
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, d := range data {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(d, d)))
	}
	m := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return &m
}

// TestEditMessageText: an edit replaces a bot's text and its keyboard, keeps the id, and is
// refused as Telegram refuses it: a message gone or never sent, the person's, a copy, the same
// content, an empty text. The phone shows each chat's messages as they are now; Press shows the
// message pressed as it is, Say numbers the person's message after the bot's.
func TestEditMessageText(t *testing.T) {
	s := telegramtest.New(t)
	api := client(t, s)
	s.Say(7, "hello") // message 1, then the question 2 and a copy 3
	q := tgbotapi.NewMessage(7, "Safe?")
	q.ReplyMarkup = keyboard("safe/yes", "safe/no")
	if _, err := api.Send(q); err != nil {
		t.Fatal(err)
	}
	_, _ = api.MakeRequest("copyMessage", tgbotapi.Params{"chat_id": "7", "from_chat_id": "9", "message_id": "1"})
	if press := s.Press(7, 2, "safe/yes").CallbackQuery; press.Message.Text != "Safe?" || press.Message.ReplyMarkup == nil {
		t.Errorf("the press shows %+v; want the question and its keyboard", press.Message)
	}

	code, m := edit(t, api, 7, 2, "Thanks", nil)
	if code != 200 || m.MessageID != 2 || m.Text != "Thanks" || m.ReplyMarkup != nil || m.EditDate == 0 {
		t.Errorf("edit: %d %+v; want message 2 as edited, without its keyboard", code, m)
	}
	var codes []int
	for _, c := range []struct {
		msgID int
		text  string
	}{{2, "Thanks"}, {1, "hi"}, {3, "hi"}, {4, "hi"}, {2, ""}} { // not modified, the person's, a copy, none, empty
		code, _ := edit(t, api, 7, c.msgID, c.text, nil)
		codes = append(codes, code)
	}
	if diff := cmp.Diff([]int{400, 400, 400, 400, 400}, codes); diff != "" {
		t.Errorf("refused edits (-want +got):\n%s", diff)
	}
	if code, _ := edit(t, api, 7, 2, "Thanks", keyboard("next/ok")); code != 200 {
		t.Errorf("the same text with a keyboard: %d; want 200", code)
	}
	if diff := cmp.Diff([]string{"next/ok"}, s.Keyboard(7, 2)); diff != "" {
		t.Errorf("keyboard (-want +got):\n%s", diff)
	}
	if _, err := api.MakeRequest("deleteMessages", tgbotapi.Params{"chat_id": "7", "message_ids": "[2]"}); err != nil {
		t.Fatal(err)
	}
	if code, _ := edit(t, api, 7, 2, "again", nil); code != 400 {
		t.Errorf("an edit of a deleted message: %d; want 400", code)
	}
	s.FailEdit(7, 1, 403, "Forbidden: bot was blocked by the user")
	if code, _ := edit(t, api, 7, 1, "x", nil); code != 403 {
		t.Errorf("FailEdit: %d; want 403", code)
	}
	if diff := cmp.Diff([]string{"hello", "(copy)"}, s.Screen(7)); diff != "" {
		t.Errorf("the phone shows (-want +got):\n%s", diff)
	}
	if u := s.Say(7, "bye"); u.Message.MessageID != 4 {
		t.Errorf("the person's next message is %d; want 4", u.Message.MessageID)
	}
}

// TestLimitCountsEdits: Telegram counts an edit under the same limits as a message sent.
func TestLimitCountsEdits(t *testing.T) {
	s := telegramtest.New(t)
	api := client(t, s)
	s.Limit(30, time.Hour)
	if _, err := api.Send(tgbotapi.NewMessage(7, "one")); err != nil {
		t.Fatal(err)
	}
	if code, _ := edit(t, api, 7, 1, "two", nil); code != 429 {
		t.Errorf("an edit right after a message to the chat: %d; want 429", code)
	}
	if got := s.Limited(); got != 1 {
		t.Errorf("Limited() = %d; want 1", got)
	}
}
