package webhook_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/webhook"
)

// FuzzAPIRequest sends any body with any timestamp and signature headers to the API. A
// signature that is not the body's is refused with 401 and reaches no handler. Signed with
// webhook.Sign, the same body is answered 200, 400 or 413; 200 exactly when it is a valid
// message (a JSON object of valid UTF-8 with a conversation, and text of at most 4096
// characters or a choice), and then the handler gets exactly that message; with the fuzzed
// timestamp signed, 401 exactly when the timestamp is not within five minutes of the clock.
func FuzzAPIRequest(f *testing.F) {
	ts := strconv.FormatInt(now.Unix(), 10)
	for _, c := range []struct{ body, timestamp, signature string }{
		{`{"conversation": "c1", "id": "m1", "text": "/start", "language": "el"}`, ts, "sha256=00"},
		{`{"conversation": "c1", "choice": "yes"}`, ts, webhook.Sign(secret, ts, []byte(`{"conversation": "c1", "choice": "yes"}`))},
		{`{"conversation": "c1", "text": "` + strings.Repeat("ω", 4096) + `"}`, ts, ""},
		{`{"conversation": "c1", "text": "` + strings.Repeat("a", 4097) + `"}`, ts, ""},
		{`{"conversation": "", "text": "hi"}`, ts, ""},
		{`{"conversation": 7, "text": "hi"}`, ts, ""},
		{`{"conversation": "c1"}`, ts, ""},
		{`{"conversation": "c1", "text": "hi", "Conversation": ""}`, ts, ""},
		{`{"conversation": "c1", "text": "\ud800 lone surrogate"}`, ts, ""},
		{"{\"conversation\": \"c1\", \"text\": \"\xff\"}", ts, ""},
		{`{"conversation": "c1", "text": "hi"} trailing`, ts, ""},
		{`[]`, "", ""},
		{`null`, "+" + ts, "sha256=zz"},
		{``, "soon", "sha256="},
		{`{"conversation": "c1", "text": "hi"}`, strconv.FormatInt(now.Unix()-300, 10), "SHA256=00"},
		{`{"conversation": "c1", "text": "hi"}`, strconv.FormatInt(now.Unix()+301, 10), ""},
		{`{"conversation": "c1", "text": "hi"}`, "-9223372036854775808", ""},
	} {
		f.Add([]byte(c.body), c.timestamp, c.signature)
	}

	f.Fuzz(func(t *testing.T, body []byte, timestamp, signature string) {
		good := webhook.Sign(secret, timestamp, body)
		hexDigits, isSHA := strings.CutPrefix(signature, "sha256=")
		if !isSHA || !strings.EqualFold(hexDigits, strings.TrimPrefix(good, "sha256=")) {
			w, got := serveAPI(t, body, timestamp, signature)
			if w.Code != http.StatusUnauthorized && !(w.Code == http.StatusRequestEntityTooLarge && len(body) > 1<<20) {
				t.Errorf("a wrong signature %q: got status %d; want 401", signature, w.Code)
			}
			if len(got) > 0 {
				t.Errorf("a wrong signature %q: the handler got %+v", signature, got)
			}
		}

		// Signed at the API's clock: only the body decides.
		w, got := serveAPI(t, body, ts, webhook.Sign(secret, ts, body))
		want, ok := wantMessage(body)
		switch {
		case len(body) > 1<<20:
			if w.Code != http.StatusRequestEntityTooLarge {
				t.Errorf("a body of %d bytes: got status %d; want 413", len(body), w.Code)
			}
		case ok:
			if w.Code != http.StatusOK {
				t.Errorf("a valid message %+v: got status %d (%s); want 200", want, w.Code, w.Body)
			}
			if len(got) != 1 || got[0] != want {
				t.Errorf("the handler got %+v; want %+v", got, want)
			}
			if d := diffJSON(t, w.Body.String(), sampleJSON); d != "" {
				t.Errorf("answer (-want +got):\n%s", d)
			}
		default:
			if w.Code != http.StatusBadRequest {
				t.Errorf("an invalid message: got status %d; want 400", w.Code)
			}
			var answer struct{ Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil || answer.Error == "" {
				t.Errorf("a 400 answered %q; want a JSON error", w.Body)
			}
		}
		if w.Code != http.StatusOK && len(got) > 0 {
			t.Errorf("status %d, but the handler got %+v", w.Code, got)
		}

		// Signed at the fuzzed timestamp: refused exactly when it is not a time near the clock.
		signed := w.Code
		w, got = serveAPI(t, body, timestamp, good)
		sec, err := strconv.ParseInt(timestamp, 10, 64)
		fresh := err == nil && sec >= now.Unix()-300 && sec <= now.Unix()+300
		switch {
		case len(body) > 1<<20:
		case !fresh && (w.Code != http.StatusUnauthorized || len(got) > 0):
			t.Errorf("timestamp %q: got status %d, handled %d; want 401, none", timestamp, w.Code, len(got))
		case fresh && w.Code != signed:
			t.Errorf("timestamp %q: got status %d; want %d, as at the clock's time", timestamp, w.Code, signed)
		}
	})
}

// FuzzSign checks that the API accepts what Sign makes and nothing near it: the signature of
// another secret, body or timestamp, or the signature cut or changed in one digit.
func FuzzSign(f *testing.F) {
	f.Add([]byte("test secret"), int64(0), []byte(`{"conversation": "c1", "text": "hi"}`))
	f.Add([]byte("s"), int64(-300), []byte(`{"conversation": "c1", "choice": "yes"}`))
	f.Add([]byte(strings.Repeat("k", 100)), int64(300), []byte(`{}`))
	f.Add([]byte("\x00"), int64(1), []byte(""))

	f.Fuzz(func(t *testing.T, key []byte, offset int64, body []byte) {
		ts := strconv.FormatInt(now.Unix()+offset%301, 10)
		sig := webhook.Sign(key, ts, body)
		hexDigits, ok := strings.CutPrefix(sig, "sha256=")
		if !ok || len(hexDigits) != 64 || strings.Trim(hexDigits, "0123456789abcdef") != "" {
			t.Fatalf("Sign = %q; want sha256= and 64 lower-case hex digits", sig)
		}
		if again := webhook.Sign(key, ts, body); again != sig {
			t.Fatalf("Sign gave %q, then %q", sig, again)
		}
		if len(key) == 0 || len(body) > 1<<20 {
			return // New refuses an empty secret; a body too large is refused unread
		}
		api, err := webhook.New(webhook.Config{Secret: key, Handler: &fakeHandler{}, Now: nowFunc})
		if err != nil {
			t.Fatal(err)
		}
		status := func(body []byte, ts, sig string) int {
			r := httptest.NewRequest(http.MethodPost, webhook.APIPath, bytes.NewReader(body))
			r.Header.Set("X-Faros-Timestamp", ts)
			r.Header.Set("X-Faros-Signature", sig)
			w := httptest.NewRecorder()
			api.ServeHTTP(w, r)
			return w.Code
		}
		if got := status(body, ts, sig); got == http.StatusUnauthorized {
			t.Errorf("Sign's signature was refused")
		}
		otherKey := bytes.Clone(key)
		otherKey[0] ^= 1
		flipped := []byte(sig)
		flipped[len(flipped)-1] = "1032547698badcfe"[strings.IndexByte("0123456789abcdef", flipped[len(flipped)-1])]
		nextTS := strconv.FormatInt(now.Unix()+offset%301+1, 10)
		for name, c := range map[string]struct {
			body    []byte
			ts, sig string
		}{
			"another secret":    {body, ts, webhook.Sign(otherKey, ts, body)},
			"another body":      {append(bytes.Clone(body), ' '), ts, sig},
			"another timestamp": {body, nextTS, sig},
			"one digit changed": {body, ts, string(flipped)},
			"cut short":         {body, ts, sig[:len(sig)-2]},
			"without sha256=":   {body, ts, hexDigits},
		} {
			if got := status(c.body, c.ts, c.sig); got != http.StatusUnauthorized {
				t.Errorf("%s: got status %d; want 401", name, got)
			}
		}
	})
}

func nowFunc() time.Time { return now }

// serveAPI posts body with the signature headers (each left out when empty) to a new API
// whose handler answers sampleReplies, and returns the answer and the messages handled.
func serveAPI(t *testing.T, body []byte, timestamp, signature string) (*httptest.ResponseRecorder, []bot.Message) {
	t.Helper()
	h := &fakeHandler{replies: sampleReplies}
	api, err := webhook.New(webhook.Config{Secret: secret, Handler: h, Now: nowFunc})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, webhook.APIPath, bytes.NewReader(body))
	if timestamp != "" {
		r.Header.Set("X-Faros-Timestamp", timestamp)
	}
	if signature != "" {
		r.Header.Set("X-Faros-Signature", signature)
	}
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	return w, h.messages()
}

// wantMessage reads body as the README documents the API's requests, and returns the message
// it carries and whether it is a valid one.
func wantMessage(body []byte) (bot.Message, bool) {
	var req struct {
		Conversation string `json:"conversation"`
		ID           string `json:"id"`
		Text         string `json:"text"`
		Choice       string `json:"choice"`
		Language     string `json:"language"`
	}
	if !utf8.Valid(body) || json.Unmarshal(body, &req) != nil {
		return bot.Message{}, false
	}
	ok := req.Conversation != "" && len(req.Conversation) <= 256 && len(req.ID) <= 256 &&
		utf8.RuneCountInString(req.Text) <= 4096 && len(req.Choice) <= 64 && len(req.Language) <= 256 &&
		(req.Text != "" || req.Choice != "")
	return bot.Message{Channel: "api", ChatID: req.Conversation, ID: req.ID, Text: req.Text,
		Button: req.Choice, Language: req.Language, Replay: true}, ok
}
