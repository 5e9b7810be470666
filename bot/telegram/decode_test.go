package telegram

import (
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot"
)

func TestDecode(t *testing.T) {
	maria := &tgbotapi.User{ID: 42, FirstName: "Maria", LastName: "K", UserName: "maria_k", LanguageCode: "el"}
	private := &tgbotapi.Chat{ID: 42, Type: "private", FirstName: "Maria", UserName: "maria_k"}
	group := &tgbotapi.Chat{ID: -100, Type: "group", Title: "Friends"}
	botsQuestion := &tgbotapi.Message{MessageID: 7, From: &tgbotapi.User{ID: 1, IsBot: true}, Chat: private, Text: "Are you safe?"}

	tests := []struct {
		name      string
		update    tgbotapi.Update
		want      bot.Message
		wantQuery string
		wantOK    bool
	}{{
		name:   "text in a private chat",
		update: tgbotapi.Update{UpdateID: 9, Message: &tgbotapi.Message{MessageID: 31, From: maria, Chat: private, Text: "γεια"}},
		want:   bot.Message{Channel: "telegram", ChatID: "42", ID: "9", MsgID: "31", Text: "γεια", Language: "el"},
		wantOK: true,
	}, {
		name: "a photo becomes a message without text",
		update: tgbotapi.Update{UpdateID: 10, Message: &tgbotapi.Message{MessageID: 32, From: maria, Chat: private,
			Photo: []tgbotapi.PhotoSize{{FileID: "f"}}, Caption: "my passport"}},
		want:   bot.Message{Channel: "telegram", ChatID: "42", ID: "10", MsgID: "32", Language: "el"},
		wantOK: true,
	}, {
		name: "a voice note becomes a message without text",
		update: tgbotapi.Update{UpdateID: 11, Message: &tgbotapi.Message{MessageID: 2147483647, From: maria, Chat: private,
			Voice: &tgbotapi.Voice{FileID: "v"}}},
		want:   bot.Message{Channel: "telegram", ChatID: "42", ID: "11", MsgID: "2147483647", Language: "el"},
		wantOK: true,
	}, {
		name:      "a pressed button has no MsgID: the message is the bot's",
		update:    tgbotapi.Update{UpdateID: 12, CallbackQuery: &tgbotapi.CallbackQuery{ID: "q1", From: maria, Message: botsQuestion, Data: "yes"}},
		want:      bot.Message{Channel: "telegram", ChatID: "42", ID: "12", Button: "yes", Language: "el"},
		wantQuery: "q1",
		wantOK:    true,
	}, {
		name:   "a message without message_id has no MsgID",
		update: tgbotapi.Update{UpdateID: 19, Message: &tgbotapi.Message{From: maria, Chat: private, Text: "hi"}},
		want:   bot.Message{Channel: "telegram", ChatID: "42", ID: "19", Text: "hi", Language: "el"},
		wantOK: true,
	}, {
		name:   "a group message is ignored",
		update: tgbotapi.Update{UpdateID: 13, Message: &tgbotapi.Message{From: maria, Chat: group, Text: "hi"}},
	}, {
		name:   "a supergroup message is ignored",
		update: tgbotapi.Update{UpdateID: 14, Message: &tgbotapi.Message{From: maria, Chat: &tgbotapi.Chat{ID: -1001, Type: "supergroup"}, Text: "hi"}},
	}, {
		name:   "a channel post is ignored",
		update: tgbotapi.Update{UpdateID: 15, ChannelPost: &tgbotapi.Message{Chat: &tgbotapi.Chat{ID: -1002, Type: "channel"}, Text: "news"}},
	}, {
		name:   "an edited message is ignored",
		update: tgbotapi.Update{UpdateID: 16, EditedMessage: &tgbotapi.Message{From: maria, Chat: private, Text: "edit"}},
	}, {
		name: "a button in a group is ignored but still answered",
		update: tgbotapi.Update{UpdateID: 17, CallbackQuery: &tgbotapi.CallbackQuery{ID: "q2", From: maria,
			Message: &tgbotapi.Message{Chat: group}, Data: "yes"}},
		wantQuery: "q2",
	}, {
		name:      "a button under an inline message is ignored but still answered",
		update:    tgbotapi.Update{UpdateID: 18, CallbackQuery: &tgbotapi.CallbackQuery{ID: "q3", From: maria, InlineMessageID: "i", Data: "yes"}},
		wantQuery: "q3",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, query, ok := decode(tt.update)
			if diff := cmp.Diff(tt.want, m); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if query != tt.wantQuery || ok != tt.wantOK {
				t.Errorf("got query %q, ok %v; want %q, %v", query, ok, tt.wantQuery, tt.wantOK)
			}
		})
	}
}
