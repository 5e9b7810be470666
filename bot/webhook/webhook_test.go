package webhook_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot"
)

// fakeHandler records the messages it gets and answers every one the same way.
type fakeHandler struct {
	replies []bot.Reply
	err     error

	mu  sync.Mutex
	got []bot.Message
}

func (h *fakeHandler) Handle(_ context.Context, m bot.Message) ([]bot.Reply, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, m)
	return h.replies, h.err
}

func (h *fakeHandler) messages() []bot.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Message(nil), h.got...)
}

// sampleReplies has every field of a reply set once.
var sampleReplies = []bot.Reply{
	{Text: "Which language?\nΠοια γλώσσα;", Buttons: []bot.Button{{Data: "en", Label: "English"}, {Data: "el", Label: "Ελληνικά"}}},
	{Text: "Call 112", Urgent: true},
}

// sampleJSON is sampleReplies as the API and the web chat answer them.
const sampleJSON = `{"replies": [
	{"text": "Which language?\nΠοια γλώσσα;", "choices": [{"id": "en", "label": "English"}, {"id": "el", "label": "Ελληνικά"}]},
	{"text": "Call 112", "urgent": true}
]}`

// diffJSON compares two JSON documents by value.
func diffJSON(t *testing.T, got, want string) string {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got invalid JSON %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want invalid JSON %q: %v", want, err)
	}
	return cmp.Diff(w, g)
}

func errorBody(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return string(b)
}
