package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/telegram/telegramtest"
)

// FuzzDecodeUpdate posts any bytes to a Channel in webhook mode with the right secret, as
// Telegram would. The answer is 200, 400 or 413; the handler gets at most one message, and
// exactly the one the update's chat id, update id, message id, text (or a medium's kind and
// caption), replied-to message id or button data and language code make (never a name, a
// username, a user id, a file id, a phone number...); every callback query is answered once.
func FuzzDecodeUpdate(f *testing.F) {
	const (
		maria   = `"from": {"id": 42, "is_bot": false, "first_name": "Maria", "last_name": "K", "username": "maria_k", "language_code": "el"}`
		private = `"chat": {"id": 42, "type": "private", "first_name": "Maria", "username": "maria_k"}`
	)
	for _, update := range []string{
		`{"update_id": 7, "message": {"message_id": 1, "date": 1, ` + maria + `, ` + private + `, "text": "γεια σας"}}`,
		`{"update_id": 8, "callback_query": {"id": "q42", ` + maria + `, "chat_instance": "1", "data": "yes",
			"message": {"message_id": 2, "date": 1, "from": {"id": 1, "is_bot": true, "first_name": "Faros"}, ` + private + `, "text": "a question"}}}`,
		`{"update_id": 9, "message": {"message_id": 3, "date": 1, ` + maria + `, "chat": {"id": -100, "type": "group", "title": "Friends"}, "text": "hi all"}}`,
		`{"update_id": 10, "message": {"message_id": 4, "date": 1, ` + maria + `, ` + private + `,
			"photo": [{"file_id": "f", "file_unique_id": "u", "width": 90, "height": 60}], "caption": "my passport"}}`,
		`{"update_id": 11, "edited_message": {"message_id": 1, "date": 1, "edit_date": 2, ` + maria + `, ` + private + `, "text": "edited"}}`,
		`{"update_id": 12, "message_reaction": {"chat": {"id": 42, "type": "private"}, "message_id": 1, "date": 1, "new_reaction": []}}`,
		`{"update_id": 13, "callback_query": {"id": "q43", ` + maria + `, "chat_instance": "1", "inline_message_id": "i", "data": "yes"}}`,
		`{"update_id": 14, "message": {"message_id": 5, "date": 1, ` + maria + `, ` + private + `, "text": "` + strings.Repeat("ω", 5000) + `"}}`,
		"{\"update_id\": 15, \"message\": {\"message_id\": 6, \"date\": 1, \"from\": {\"id\": 42, \"first_name\": \"M\xffria\", \"language_code\": \"e\xc3\"}, " + private + ", \"text\": \"\xe2\x82 broken \xed\xa0\x80\"}}",
		`{"update_id": 16, "message": {"message_id": 7, "date": 1, ` + maria + `, "chat": {"id": 9223372036854775807, "type": "private"}, "text": "/start"}}`,
		`{"update_id": 17, "message": {"chat": {"id": "42", "type": "private"}, "text": "a chat id as a string"}}`,
		`{"update_id": 18, "message": {"chat": {"id": 42, "type": "private"}}, "callback_query": {"id": "q", "data": "both"}}`,
		`{"update_id": 19, "message": {"message_id": 8, "date": 1, ` + maria + `, ` + private + `,
			"contact": {"phone_number": "+306912345678", "first_name": "Eleni", "user_id": 77}, "reply_to_message": {"message_id": 2, "date": 1, ` + private + `}}}`,
		`{"update_id": 20, "message": {"message_id": 9, "date": 1, ` + maria + `, ` + private + `,
			"venue": {"location": {"latitude": 37.9, "longitude": 23.7}, "title": "Syntagma", "address": "Athens"}, "location": {"latitude": 37.9, "longitude": 23.7}}}`,
		`{"update_id": 21, "message": {"message_id": 10, "date": 1, ` + maria + `, ` + private + `, "caption": "the gif",
			"animation": {"file_id": "a", "file_unique_id": "u", "width": 1, "height": 1, "duration": 1, "file_name": "x.gif"},
			"document": {"file_id": "a", "file_unique_id": "u", "file_name": "x.gif"}}}`,
		`{"update_id": 22, "message": {"message_id": 11, "date": 1, ` + maria + `, ` + private + `, "photo": [], "voice": null, "text": "no media after all"}}`,
		`{"update_id": 1e3}`, `null`, `[]`, `{}`, ``,
	} {
		f.Add([]byte(update))
	}

	srv := telegramtest.New(f)
	answers := &answerRecorder{next: http.DefaultTransport}
	h := &handler{}
	ch, err := telegram.New(telegram.Config{
		Token:         token,
		Endpoint:      srv.URL(),
		HTTPClient:    &http.Client{Transport: answers, Timeout: 10 * time.Second},
		Mode:          "webhook",
		WebhookURL:    "https://faros.example/telegram",
		WebhookSecret: secret,
		Logger:        slog.New(slog.DiscardHandler),
	}, h)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = ch.Close(ctx)
	})

	f.Fuzz(func(t *testing.T, data []byte) {
		h.mu.Lock()
		h.got = nil
		h.mu.Unlock()
		answers.reset()

		r := httptest.NewRequest(http.MethodPost, "/telegram", bytes.NewReader(data))
		r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		w := httptest.NewRecorder()
		ch.ServeHTTP(w, r)
		got, answered := h.messages(), answers.ids() // answered by requests of its own: none in webhook mode
		if w.Code == http.StatusOK && w.Body.Len() > 0 {
			var call struct {
				Method string `json:"method"`
				ID     string `json:"callback_query_id"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &call); err != nil || call.Method != "answerCallbackQuery" {
				t.Fatalf("the webhook answered %q; want a call of answerCallbackQuery (%v)", w.Body, err)
			}
			answered = append(answered, call.ID)
		}

		for _, m := range got {
			if m.Channel != "telegram" {
				t.Errorf("handled a message of channel %q; want telegram", m.Channel)
			}
			if _, err := strconv.ParseInt(m.ChatID, 10, 64); err != nil {
				t.Errorf("handled a message of chat %q; want an integer", m.ChatID)
			}
		}
		var libUpdate tgbotapi.Update
		libErr := json.Unmarshal(data, &libUpdate)
		switch w.Code {
		case http.StatusOK:
			if libErr != nil {
				t.Fatalf("status 200 for a body that is no update (%v)", libErr)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if w.Code == http.StatusBadRequest && libErr == nil {
				t.Errorf("status 400 for an update")
			}
			if w.Code == http.StatusRequestEntityTooLarge && len(data) <= 1<<20 {
				t.Errorf("status 413 for a body of %d bytes", len(data))
			}
			if len(got) > 0 || len(answered) > 0 {
				t.Errorf("status %d, but handled %+v and answered %q", w.Code, got, answered)
			}
			return
		default:
			t.Fatalf("got status %d; want 200, 400 or 413", w.Code)
		}

		var u wireUpdate
		if err := json.Unmarshal(data, &u); err != nil {
			t.Fatalf("the library read the update, but not its fields that matter: %v", err)
		}
		want, query := u.message()
		if (want == nil && len(got) > 0) || (want != nil && (len(got) != 1 || got[0] != *want)) {
			t.Errorf("handled %+v; want %+v", got, want)
		}
		for _, m := range got {
			for _, v := range stringFields(m) {
				if v != "" && u.names()[v] && !u.sources()[v] {
					t.Errorf("handled %+v, which holds the name %q", m, v)
				}
			}
		}
		var wantAnswered []string
		if query != "" {
			wantAnswered = []string{query}
		}
		if !slices.Equal(answered, wantAnswered) {
			t.Errorf("answered callback queries %q; want %q", answered, wantAnswered)
		}
	})
}

// wireUpdate is the part of a Telegram update that decides what a Channel passes on, read on
// its own, as the Bot API documents it, to tell what the handler should get.
type wireUpdate struct {
	UpdateID      int          `json:"update_id"`
	Message       *wireMessage `json:"message"`
	EditedMessage *wireMessage `json:"edited_message"`
	CallbackQuery *struct {
		ID      string       `json:"id"`
		From    *wireUser    `json:"from"`
		Message *wireMessage `json:"message"`
		Data    string       `json:"data"`
	} `json:"callback_query"`
}

type wireMessage struct {
	MessageID int       `json:"message_id"`
	From      *wireUser `json:"from"`
	Chat      *struct {
		ID        int64  `json:"id"`
		Type      string `json:"type"`
		Title     string `json:"title"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		UserName  string `json:"username"`
	} `json:"chat"`
	Text           string `json:"text"`
	Caption        string `json:"caption"`
	ReplyToMessage *struct {
		MessageID int `json:"message_id"`
	} `json:"reply_to_message"`
	// The media, by their fields in the Bot API, with what of them must not be passed on.
	Photo     []wireFile `json:"photo"`
	Voice     *wireFile  `json:"voice"`
	Audio     *wireFile  `json:"audio"`
	Video     *wireFile  `json:"video"`
	VideoNote *wireFile  `json:"video_note"`
	Document  *wireFile  `json:"document"`
	Sticker   *wireFile  `json:"sticker"`
	Animation *wireFile  `json:"animation"`
	Location  *struct{}  `json:"location"`
	Venue     *struct {
		Title   string `json:"title"`
		Address string `json:"address"`
	} `json:"venue"`
	Contact *struct {
		PhoneNumber string `json:"phone_number"`
		FirstName   string `json:"first_name"`
		LastName    string `json:"last_name"`
	} `json:"contact"`
	Poll *struct {
		Question string `json:"question"`
	} `json:"poll"`
}

// wireFile is the part of a file that every kind of media has.
type wireFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
}

// media is the kind of medium msg carries, "" for none. Telegram sends an animation also as a
// document and a venue also as a location; the first is the one that counts.
func (msg *wireMessage) media() string {
	for _, medium := range []struct {
		kind  string
		there bool
	}{
		{"animation", msg.Animation != nil}, {"photo", len(msg.Photo) > 0}, {"voice", msg.Voice != nil},
		{"audio", msg.Audio != nil}, {"video", msg.Video != nil}, {"video_note", msg.VideoNote != nil},
		{"document", msg.Document != nil}, {"sticker", msg.Sticker != nil}, {"venue", msg.Venue != nil},
		{"location", msg.Location != nil}, {"contact", msg.Contact != nil}, {"poll", msg.Poll != nil},
	} {
		if medium.there {
			return medium.kind
		}
	}
	return ""
}

type wireUser struct {
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	UserName     string `json:"username"`
	LanguageCode string `json:"language_code"`
}

// message returns what the handler should get, nil for nothing, and the callback query to
// answer: a message or pressed button of a private chat, the message first.
func (u wireUpdate) message() (*bot.Message, string) {
	var msg *wireMessage
	var from *wireUser
	m := bot.Message{Channel: "telegram", ID: strconv.Itoa(u.UpdateID)}
	query := ""
	switch {
	case u.EditedMessage != nil:
		msg, from, m.Text, m.Edited = u.EditedMessage, u.EditedMessage.From, u.EditedMessage.Text, true
	case u.Message != nil:
		msg, from, m.Text = u.Message, u.Message.From, u.Message.Text
		if m.Media = msg.media(); m.Media != "" {
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
		msg, from, m.Button, query = q.Message, q.From, q.Data, q.ID
	}
	if msg == nil || msg.Chat == nil || msg.Chat.Type != "private" {
		return nil, query
	}
	m.ChatID = strconv.FormatInt(msg.Chat.ID, 10)
	if from != nil {
		m.Language = from.LanguageCode
	}
	return &m, query
}

// names returns every name, username and title in the update's messages and callback query,
// and what media hold besides their captions: file ids, a contact's phone number and names, a
// venue's title and address, a poll's question.
func (u wireUpdate) names() map[string]bool {
	names := map[string]bool{}
	addUser := func(p *wireUser) {
		if p != nil {
			names[p.FirstName], names[p.LastName], names[p.UserName] = true, true, true
		}
	}
	addMessage := func(m *wireMessage) {
		if m == nil {
			return
		}
		addUser(m.From)
		if c := m.Chat; c != nil {
			names[c.Title], names[c.FirstName], names[c.LastName], names[c.UserName] = true, true, true, true
		}
		for _, f := range append(slices.Clone(m.Photo), deref(m.Voice), deref(m.Audio), deref(m.Video), deref(m.VideoNote),
			deref(m.Document), deref(m.Sticker), deref(m.Animation)) {
			names[f.FileID], names[f.FileUniqueID] = true, true
		}
		if c := m.Contact; c != nil {
			names[c.PhoneNumber], names[c.FirstName], names[c.LastName] = true, true, true
		}
		if v := m.Venue; v != nil {
			names[v.Title], names[v.Address] = true, true
		}
		if p := m.Poll; p != nil {
			names[p.Question] = true
		}
	}
	addMessage(u.Message)
	addMessage(u.EditedMessage)
	if q := u.CallbackQuery; q != nil {
		addUser(q.From)
		addMessage(q.Message)
	}
	delete(names, "")
	return names
}

// deref returns *f, or nothing for nil.
func deref(f *wireFile) wireFile {
	if f == nil {
		return wireFile{}
	}
	return *f
}

// sources returns the values the handler may get: what the person wrote or pressed, the ids,
// the language code. A name that is also one of them is not a leak.
func (u wireUpdate) sources() map[string]bool {
	s := map[string]bool{}
	if m, _ := u.message(); m != nil {
		for _, v := range stringFields(*m) {
			s[v] = true
		}
	}
	return s
}

// stringFields returns the values of m's string fields, those there are now and any added.
func stringFields(m bot.Message) []string {
	var out []string
	v := reflect.ValueOf(m)
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.String {
			out = append(out, f.String())
		}
	}
	return out
}

// answerRecorder passes the Channel's requests on to the fake Bot API and keeps the ids of the
// callback queries it answers since the last reset: the fake's own record grows with every
// input, and fuzzing sends many.
type answerRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	got  []string
}

func (a *answerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if path.Base(r.URL.Path) == "answerCallbackQuery" && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		form, _ := url.ParseQuery(string(body))
		a.mu.Lock()
		a.got = append(a.got, form.Get("callback_query_id"))
		a.mu.Unlock()
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return a.next.RoundTrip(r)
}

func (a *answerRecorder) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = nil
}

func (a *answerRecorder) ids() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.got...)
}
