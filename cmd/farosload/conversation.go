package main

// The synthetic person: a complete screening in their language, again and again, through the
// signed API or as Telegram updates.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/faros-project/faros/bot/webhook"
)

// conversation plays one person: a complete screening in its language, again and again.
type conversation struct {
	id, lang, url, via string
	chat               int64
	client             *http.Client
	step, seq          int
	buttons            []string
}

// script is what the person presses, by choice id, after "/start": language, safety check,
// the menu, seventeen answers (a broken promise and threats: tier 2), then "not now".
var script = append([]string{"LANG", "safe", "check"},
	"no", "no", "yes", "no", "no", "yes", "no", "no", "no", "no", "yes", "no", "no", "no", "no", "no", "no", "no")

func (c *conversation) next() (time.Duration, error) {
	c.seq++
	want := ""
	if c.step > 0 {
		if want = script[c.step-1]; want == "LANG" {
			want = c.lang
		}
	}
	var body []byte
	header := http.Header{"Content-Type": {"application/json"}}
	if c.via == "telegram" {
		body = c.update(want)
		header.Set("X-Telegram-Bot-Api-Secret-Token", hookSecret)
	} else {
		req := map[string]string{"conversation": c.id, "id": strconv.Itoa(c.seq), "text": "/start"}
		if c.step > 0 {
			req["text"] = ""
			for _, b := range c.buttons {
				if strings.HasSuffix(b, "/"+want) {
					req["choice"] = b
				}
			}
			if req["choice"] == "" {
				c.step = 0
				return 0, fmt.Errorf("no button %q", want)
			}
		}
		body, _ = json.Marshal(req)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		header.Set("X-Faros-Timestamp", ts)
		header.Set("X-Faros-Signature", webhook.Sign(secret, ts, body))
	}
	r, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	r.Header = header
	start := time.Now()
	resp, err := c.client.Do(r)
	if err != nil {
		return 0, err
	}
	var answer struct {
		Replies []struct {
			Choices []struct {
				ID string `json:"id"`
			} `json:"choices"`
		} `json:"replies"`
	}
	if c.via == "api" {
		err = json.NewDecoder(resp.Body).Decode(&answer)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	d := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %v", resp.StatusCode, err)
	}
	c.buttons = c.buttons[:0]
	if len(answer.Replies) > 0 {
		for _, ch := range answer.Replies[len(answer.Replies)-1].Choices {
			c.buttons = append(c.buttons, ch.ID)
		}
	}
	c.step = (c.step + 1) % (len(script) + 1)
	return d, nil
}

// update is the Telegram update for the next step: "/start" typed, or a button pressed. The
// data names only the choice: the question waiting takes it.
func (c *conversation) update(choice string) []byte {
	from := map[string]any{"id": c.chat, "is_bot": false, "first_name": "Load", "language_code": c.lang}
	chat := map[string]any{"id": c.chat, "type": "private"}
	u := map[string]any{"update_id": c.seq}
	if choice == "" {
		u["message"] = map[string]any{"message_id": c.seq, "date": 0, "chat": chat, "from": from, "text": "/start"}
	} else {
		u["callback_query"] = map[string]any{"id": strconv.Itoa(c.seq), "from": from, "chat_instance": "1", "data": choice,
			"message": map[string]any{"message_id": c.seq, "date": 0, "chat": chat}}
	}
	body, _ := json.Marshal(u)
	return body
}
