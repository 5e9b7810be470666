package telegramtest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot/telegram/telegramtest"
)

func client(t *testing.T, s *telegramtest.Server) *tgbotapi.BotAPI {
	t.Helper()
	api, err := tgbotapi.NewBotAPIWithClient("1:x", s.URL(), http.DefaultClient)
	if err != nil {
		t.Fatalf("getMe: %v", err)
	}
	return api
}

func TestGetUpdatesHonoursOffset(t *testing.T) {
	s := telegramtest.New(t)
	api := client(t, s)
	first := s.QueueUpdate(telegramtest.Text(1, "a"))
	s.QueueUpdate(telegramtest.Callback(1, "yes"))

	got, err := api.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(got) != 2 || got[0].Message.Text != "a" || got[1].CallbackQuery.Data != "yes" {
		t.Fatalf("got %+v, %v; want the text and the callback", got, err)
	}
	got, err = api.GetUpdates(tgbotapi.UpdateConfig{Offset: first + 1})
	if err != nil || len(got) != 1 || got[0].UpdateID != first+1 {
		t.Fatalf("after offset %d: got %+v, %v; want the callback only", first+1, got, err)
	}
	// A long poll returns as soon as an update is queued.
	go func() {
		time.Sleep(10 * time.Millisecond)
		s.QueueUpdate(telegramtest.Text(1, "b"))
	}()
	got, err = api.GetUpdates(tgbotapi.UpdateConfig{Offset: first + 2, Timeout: 30})
	if err != nil || len(got) != 1 || got[0].Message.Text != "b" {
		t.Fatalf("long poll: got %+v, %v; want the new text", got, err)
	}
}

func TestSendMessageFailures(t *testing.T) {
	s := telegramtest.New(t)
	api := client(t, s)
	s.Fail429(7, 1, 5)
	s.FailSend(7, 1, 403, "Forbidden: bot was blocked by the user")

	var tgErr *tgbotapi.Error
	_, err := api.Send(tgbotapi.NewMessage(7, "one"))
	if !errors.As(err, &tgErr) || tgErr.Code != 429 || tgErr.RetryAfter != 5 {
		t.Errorf("first send: got %v; want 429 with retry_after 5", err)
	}
	_, err = api.Send(tgbotapi.NewMessage(7, "two"))
	if !errors.As(err, &tgErr) || tgErr.Code != 403 {
		t.Errorf("second send: got %v; want 403", err)
	}
	if _, err := api.Send(tgbotapi.NewMessage(7, "three")); err != nil {
		t.Errorf("third send: %v", err)
	}
	if diff := cmp.Diff([]string{"three"}, s.Texts(7)); diff != "" {
		t.Errorf("texts (-want +got):\n%s", diff)
	}
	var statuses []int
	for _, c := range s.Calls("sendMessage") {
		statuses = append(statuses, c.Status)
	}
	if diff := cmp.Diff([]int{429, 403, 200}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestLimit(t *testing.T) {
	s := telegramtest.New(t)
	api := client(t, s)
	s.Limit(2, time.Hour)

	var codes []int
	for _, chat := range []int64{1, 1, 2, 3} {
		code := 200
		var tgErr *tgbotapi.Error
		if _, err := api.Send(tgbotapi.NewMessage(chat, "x")); errors.As(err, &tgErr) {
			code = tgErr.Code
		}
		codes = append(codes, code)
	}
	// Chat 1 again is too soon for it; chat 3 is the third in a second overall.
	if diff := cmp.Diff([]int{200, 429, 200, 429}, codes); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

// Under Telegram's limits, the 429 says how long to wait, as Telegram's does, and Limited
// counts them; a message waits no longer than that. Stream gets the calls instead of Calls.
func TestLimitRetryAfter(t *testing.T) {
	s := telegramtest.Start()
	defer s.Close()
	api := client(t, s)
	var streamed []int
	s.Stream(func(c telegramtest.Call) {
		if c.Method == "sendMessage" {
			streamed = append(streamed, c.Status) // the sends below are one at a time
		}
	})
	s.Limit(30, 1500*time.Millisecond)

	send := func(chat int64) (int, int) {
		t.Helper()
		var tgErr *tgbotapi.Error
		_, err := api.Send(tgbotapi.NewMessage(chat, "x"))
		switch {
		case err == nil:
			return 200, 0
		case errors.As(err, &tgErr):
			return tgErr.Code, tgErr.RetryAfter
		}
		t.Fatalf("send: %v", err)
		return 0, 0
	}
	send(1)
	if code, after := send(1); code != 429 || after != 2 {
		t.Errorf("a second message to a chat at once: %d, retry_after %d; want 429 after 2 (1.5s rounded up)", code, after)
	}
	for chat := int64(2); chat <= 30; chat++ {
		if code, _ := send(chat); code != 200 {
			t.Fatalf("message %d of the second: %d; want 200", chat, code)
		}
	}
	if code, after := send(31); code != 429 || after != 1 {
		t.Errorf("the 31st message in a second: %d, retry_after %d; want 429 after 1", code, after)
	}
	if got := s.Limited(); got != 2 {
		t.Errorf("Limited() = %d; want 2", got)
	}
	if got := len(s.Calls("sendMessage")); got != 0 {
		t.Errorf("%d calls recorded while streamed; want 0", got)
	}
	if len(streamed) != 32 || streamed[1] != 429 || streamed[31] != 429 {
		t.Errorf("streamed statuses %v; want 32, the 2nd and the last 429", streamed)
	}
	time.Sleep(time.Second)
	if code, _ := send(31); code != 200 {
		t.Errorf("after retry_after: %d; want 200", code)
	}
}

func TestCallsRecordParams(t *testing.T) {
	s := telegramtest.New(t)
	api := client(t, s)
	msg := tgbotapi.NewMessage(9, "hi")
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("Yes", "yes")))
	if _, err := api.Send(msg); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Request(tgbotapi.NewCallback("q9", "")); err != nil {
		t.Fatal(err)
	}
	call := s.Wait("sendMessage", 1)[0]
	var markup tgbotapi.InlineKeyboardMarkup
	if err := call.JSON("reply_markup", &markup); err != nil {
		t.Fatal(err)
	}
	if got := markup.InlineKeyboard[0][0]; got.Text != "Yes" || *got.CallbackData != "yes" {
		t.Errorf("got button %+v; want Yes/yes", got)
	}
	if got := s.Calls("answerCallbackQuery")[0].Params["callback_query_id"]; got != "q9" {
		t.Errorf("got callback_query_id %q; want q9", got)
	}
	if n := len(s.Calls("")); n != 3 {
		t.Errorf("got %d calls in all; want 3 (getMe, sendMessage, answerCallbackQuery)", n)
	}
}

// A webhook's answer that names a method is a call, as Telegram makes it; any other answer
// makes none.
func TestWebhookAnswer(t *testing.T) {
	s := telegramtest.New(t)
	answer := func(status int, contentType, body string) *http.Response {
		w := httptest.NewRecorder()
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		w.WriteString(body)
		return w.Result()
	}
	s.WebhookAnswer(answer(200, "application/json", `{"method":"answerCallbackQuery","callback_query_id":"q7"}`))
	s.WebhookAnswer(answer(200, "", ""))
	s.WebhookAnswer(answer(503, "text/plain", "Service Unavailable"))
	calls := s.Calls("")
	if len(calls) != 1 {
		t.Fatalf("got calls %+v; want one", calls)
	}
	if c := calls[0]; c.Method != "answerCallbackQuery" || c.Params["callback_query_id"] != "q7" || !c.Webhook || c.Status != 200 {
		t.Errorf("got %+v; want answerCallbackQuery of q7, made by a webhook's answer", c)
	}
}

func TestSendMessageGivesIncreasingIDsPerChat(t *testing.T) {
	s := telegramtest.New(t)
	api := client(t, s)
	var got []int
	for _, chat := range []int64{1, 1, 2, 1} {
		m, err := api.Send(tgbotapi.NewMessage(chat, "x"))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.MessageID)
	}
	if diff := cmp.Diff([]int{1, 2, 1, 3}, got); diff != "" {
		t.Errorf("message ids (-want +got):\n%s", diff)
	}
}

func TestDeleteMessages(t *testing.T) {
	s := telegramtest.New(t)
	api := client(t, s)
	s.Fail429Delete(7, 1, 3)
	s.FailDelete(7, 1, 400, "Bad Request: message can't be deleted")
	del := func(chat, ids string) int {
		_, err := api.MakeRequest("deleteMessages", tgbotapi.Params{"chat_id": chat, "message_ids": ids})
		var tgErr *tgbotapi.Error
		switch {
		case errors.As(err, &tgErr):
			return tgErr.Code
		case err != nil:
			t.Fatal(err)
		}
		return 200
	}
	var codes []int
	for _, ids := range []string{"[1]", "[2]", "[3,4]", "[]", "5", "[" + strings.Repeat("1,", 100) + "1]"} {
		codes = append(codes, del("7", ids))
	}
	codes = append(codes, del("8", "[9]"))
	if diff := cmp.Diff([]int{429, 400, 200, 400, 400, 400, 200}, codes); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{3, 4}, s.Deleted(7)); diff != "" {
		t.Errorf("deleted in chat 7 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{9}, s.Deleted(8)); diff != "" {
		t.Errorf("deleted in chat 8 (-want +got):\n%s", diff)
	}
}

func TestCopyMessage(t *testing.T) {
	s := telegramtest.New(t)
	api := client(t, s)
	s.FailCopy(7, 1, 400, "Bad Request: message to copy not found")
	if _, err := api.Send(tgbotapi.NewMessage(7, "x")); err != nil {
		t.Fatal(err)
	}
	copyInto := func(chat, from, id string) (int, int) {
		resp, err := api.MakeRequest("copyMessage", tgbotapi.Params{"chat_id": chat, "from_chat_id": from, "message_id": id})
		var tgErr *tgbotapi.Error
		switch {
		case errors.As(err, &tgErr):
			return tgErr.Code, 0
		case err != nil:
			t.Fatal(err)
		}
		var m tgbotapi.MessageID
		if err := json.Unmarshal(resp.Result, &m); err != nil {
			t.Fatal(err)
		}
		return 200, m.MessageID
	}
	var got []string
	for _, c := range [][3]string{{"7", "42", "5"}, {"7", "42", "5"}, {"7", "@maria", "5"}, {"7", "42", "x"}, {"8", "42", "5"}} {
		code, id := copyInto(c[0], c[1], c[2])
		got = append(got, fmt.Sprint(code, " ", id))
	}
	// The copy into chat 7 gets the id after the message sent there; each chat counts its own.
	if diff := cmp.Diff([]string{"400 0", "200 2", "400 0", "400 0", "200 1"}, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"x"}, s.Texts(7)); diff != "" {
		t.Errorf("texts (-want +got):\n%s", diff)
	}
}
