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
		name: "a photo: its kind, and its caption as the text",
		update: tgbotapi.Update{UpdateID: 10, Message: &tgbotapi.Message{MessageID: 32, From: maria, Chat: private,
			Photo: []tgbotapi.PhotoSize{{FileID: "f"}}, Caption: "my passport"}},
		want:   bot.Message{Channel: "telegram", ChatID: "42", ID: "10", MsgID: "32", Text: "my passport", Media: "photo", Language: "el"},
		wantOK: true,
	}, {
		name: "a voice note without caption: its kind, no text",
		update: tgbotapi.Update{UpdateID: 11, Message: &tgbotapi.Message{MessageID: 2147483647, From: maria, Chat: private,
			Voice: &tgbotapi.Voice{FileID: "v"}}},
		want:   bot.Message{Channel: "telegram", ChatID: "42", ID: "11", MsgID: "2147483647", Media: "voice", Language: "el"},
		wantOK: true,
	}, {
		name: "a reply: the id of the message it answers",
		update: tgbotapi.Update{UpdateID: 20, Message: &tgbotapi.Message{MessageID: 33, From: maria, Chat: private,
			Text: "yes, this one", ReplyToMessage: botsQuestion}},
		want:   bot.Message{Channel: "telegram", ChatID: "42", ID: "20", MsgID: "33", Text: "yes, this one", ReplyTo: "7", Language: "el"},
		wantOK: true,
	}, {
		name: "a reply with a document: both",
		update: tgbotapi.Update{UpdateID: 21, Message: &tgbotapi.Message{MessageID: 34, From: maria, Chat: private,
			Document: &tgbotapi.Document{FileID: "d", FileName: "contract.pdf"}, Caption: "the contract", ReplyToMessage: botsQuestion}},
		want: bot.Message{Channel: "telegram", ChatID: "42", ID: "21", MsgID: "34", Text: "the contract", Media: "document",
			ReplyTo: "7", Language: "el"},
		wantOK: true,
	}, {
		name:   "a reply to a message without message_id has no ReplyTo",
		update: tgbotapi.Update{UpdateID: 22, Message: &tgbotapi.Message{MessageID: 35, From: maria, Chat: private, Text: "hm", ReplyToMessage: &tgbotapi.Message{}}},
		want:   bot.Message{Channel: "telegram", ChatID: "42", ID: "22", MsgID: "35", Text: "hm", Language: "el"},
		wantOK: true,
	}, {
		name: "a pressed button under a photo that replies to something: the button only",
		update: tgbotapi.Update{UpdateID: 23, CallbackQuery: &tgbotapi.CallbackQuery{ID: "q4", From: maria, Data: "yes",
			Message: &tgbotapi.Message{MessageID: 8, Chat: private, Photo: []tgbotapi.PhotoSize{{FileID: "f"}}, Caption: "c", ReplyToMessage: botsQuestion}}},
		want:      bot.Message{Channel: "telegram", ChatID: "42", ID: "23", Button: "yes", Language: "el"},
		wantQuery: "q4",
		wantOK:    true,
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
		name:   "an edited message: marked as an edit, for the desk to tell a counsellor",
		update: tgbotapi.Update{UpdateID: 16, EditedMessage: &tgbotapi.Message{From: maria, Chat: private, Text: "edit"}},
		want:   bot.Message{Channel: "telegram", ChatID: "42", ID: "16", Text: "edit", Edited: true, Language: "el"},
		wantOK: true,
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

// TestDecodeMedia: every kind of media is named by its field, its caption is the text, and
// nothing else of it (a file's id or name, a phone number, coordinates, a poll's question) is
// passed on.
func TestDecodeMedia(t *testing.T) {
	private := &tgbotapi.Chat{ID: 42, Type: "private"}
	athens := &tgbotapi.Location{Latitude: 37.98381, Longitude: 23.727539}
	file := tgbotapi.Document{FileID: "file-id-secret", FileUniqueID: "unique-secret", FileName: "name-secret.pdf"}
	tests := []struct {
		want string
		msg  tgbotapi.Message
	}{
		{"photo", tgbotapi.Message{Photo: []tgbotapi.PhotoSize{{FileID: "file-id-secret", FileUniqueID: "unique-secret"}}}},
		{"voice", tgbotapi.Message{Voice: &tgbotapi.Voice{FileID: "file-id-secret", FileUniqueID: "unique-secret"}}},
		{"audio", tgbotapi.Message{Audio: &tgbotapi.Audio{FileID: "file-id-secret", Title: "title-secret", FileName: "name-secret.mp3"}}},
		{"video", tgbotapi.Message{Video: &tgbotapi.Video{FileID: "file-id-secret", FileName: "name-secret.mp4"}}},
		{"video_note", tgbotapi.Message{VideoNote: &tgbotapi.VideoNote{FileID: "file-id-secret"}}},
		{"document", tgbotapi.Message{Document: &file}},
		{"sticker", tgbotapi.Message{Sticker: &tgbotapi.Sticker{FileID: "file-id-secret", Emoji: "😀", SetName: "set-secret"}}},
		// Telegram sends an animation also as a document.
		{"animation", tgbotapi.Message{Animation: &tgbotapi.Animation{FileID: "file-id-secret", FileName: "name-secret.gif"}, Document: &file}},
		{"location", tgbotapi.Message{Location: athens}},
		// Telegram sends a venue also as a location.
		{"venue", tgbotapi.Message{Venue: &tgbotapi.Venue{Location: *athens, Title: "title-secret", Address: "address-secret"}, Location: athens}},
		{"contact", tgbotapi.Message{Contact: &tgbotapi.Contact{PhoneNumber: "+306912345678", FirstName: "name-secret", UserID: 77, VCard: "vcard-secret"}}},
		{"poll", tgbotapi.Message{Poll: &tgbotapi.Poll{ID: "poll-secret", Question: "question-secret", Options: []tgbotapi.PollOption{{Text: "option-secret"}}}}},
	}
	for _, tt := range tests {
		for _, caption := range []string{"", "look at this"} {
			t.Run(tt.want+" "+caption, func(t *testing.T) {
				msg := tt.msg
				msg.MessageID, msg.Chat, msg.Caption = 5, private, caption
				m, _, ok := decode(tgbotapi.Update{UpdateID: 1, Message: &msg})
				want := bot.Message{Channel: "telegram", ChatID: "42", ID: "1", MsgID: "5", Text: caption, Media: tt.want}
				if diff := cmp.Diff(want, m); diff != "" || !ok {
					t.Errorf("ok %v; message (-want +got):\n%s", ok, diff)
				}
			})
		}
	}
}
