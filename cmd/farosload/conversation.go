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

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/bot/webhook"
)

// conversation plays one person: a complete screening in its language, again and again.
type conversation struct {
	id, lang, url, via string
	chat               int64
	client             *http.Client
	telegram           *fakeBotAPI // makes the calls of the webhook's answers
	seq, step          int         // step: where in route a Telegram person is; 0: "/start" next
	route              []string    // Telegram only: the presses after "/start"
	buttons            []string    // of the last reply; Telegram's are not read, see update
	screened           bool        // a screening question was answered since "/start"
}

// presses is what the person presses, by question ("flow.node"): a language question is
// answered with their language, any other screening question "no". Two yeses (a broken
// promise and threats) make it tier 2; without a counsellor the screening ends at the menu.
var presses = map[string]string{
	"welcome.safety":    "safe",
	"menu.menu":         "check",
	"screening.promise": "yes",
	"screening.threats": "yes",
	"screening.offer":   "no",
}

// press returns the callback data of the button the person presses among buttons (each
// "flow.node/choice"), or "" when the walk is over (the menu again after a screening, or a
// question the walk does not know) and it begins again with "/start".
func press(buttons []string, lang string, screened bool) string {
	if len(buttons) == 0 {
		return ""
	}
	question, _, _ := strings.Cut(buttons[0], "/")
	want, ok := presses[question]
	switch {
	case strings.HasSuffix(question, ".language"):
		want = lang
	case question == "menu.menu" && screened:
		return ""
	case !ok && strings.HasPrefix(question, "screening."):
		want = "no"
	}
	for _, b := range buttons {
		if b == question+"/"+want {
			return b
		}
	}
	return ""
}

// route is the walk press makes through engine's flows in lang, for a Faros without
// counsellors: the callback data pressed after "/start", in order. Telegram's synthetic people
// follow it, since they do not read their replies.
func route(engine *dialog.Engine, lang string) ([]string, error) {
	var (
		s        dialog.State
		in       = dialog.Input{Command: "start", NoDesk: true}
		pressed  []string
		screened bool
	)
	for len(pressed) < 100 {
		next, outs, err := engine.Step(s, in)
		if err != nil {
			return nil, err
		}
		s = next
		var buttons []string
		for _, o := range outs {
			if o.Kind == dialog.Ask {
				buttons = buttons[:0]
				for _, c := range o.Choices {
					buttons = append(buttons, o.Question+"/"+c.ID)
				}
			}
		}
		data := press(buttons, lang, screened)
		if data == "" {
			if !screened {
				return nil, fmt.Errorf("the walk in %s stopped before the screening, at %v", lang, buttons)
			}
			return pressed, nil
		}
		screened = screened || strings.HasPrefix(data, "screening.")
		pressed = append(pressed, data)
		question, choice, _ := strings.Cut(data, "/")
		in = dialog.Input{Question: question, Choice: choice, NoDesk: true}
	}
	return nil, fmt.Errorf("the walk in %s does not end", lang)
}

func (c *conversation) next() (time.Duration, error) {
	c.seq++
	want := c.press()
	var body []byte
	header := http.Header{"Content-Type": {"application/json"}}
	if c.via == "telegram" {
		body = c.update(want)
		header.Set("X-Telegram-Bot-Api-Secret-Token", hookSecret)
	} else {
		req := map[string]string{"conversation": c.id, "id": strconv.Itoa(c.seq), "text": "/start"}
		if want != "" {
			req["text"], req["choice"] = "", want
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
		var hook []byte
		if hook, err = io.ReadAll(resp.Body); len(hook) > 0 {
			c.telegram.webhookAnswer(hook)
		}
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
	return d, nil
}

// press is the next button's data, or "" for "/start": on the API, chosen among the last
// reply's buttons; on Telegram, whose replies go to the fake Bot API, the next of c.route.
func (c *conversation) press() string {
	if c.via == "telegram" {
		want := ""
		if c.step > 0 {
			want = c.route[c.step-1]
		}
		c.step = (c.step + 1) % (len(c.route) + 1)
		return want
	}
	want := press(c.buttons, c.lang, c.screened)
	c.screened = want != "" && (c.screened || strings.HasPrefix(want, "screening."))
	return want
}

// update is the Telegram update for the next step: "/start" typed, or a button pressed.
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
