package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/internal/redistest"
)

func TestConfigReportsEveryProblem(t *testing.T) {
	env := map[string]string{
		"FAROS_SESSION_IDLE":   "two hours",
		"FAROS_TELEGRAM_MODE":  "hook",
		"FAROS_WEBHOOK_SECRET": "short",
		"FAROS_FLOWS_DIR":      "/tmp/flows",
		"FAROS_HTTP_ADDR":      "8080",
		"FAROS_PSEUDONYM_KEY":  "our pseudonym key 2026",
	}
	err := run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("run started with a broken configuration")
	}
	for _, want := range []string{
		`FAROS_SESSION_IDLE (--session-idle): "two hours" is not a positive duration`,
		`FAROS_TELEGRAM_MODE (--telegram-mode): "hook" is neither polling nor webhook`,
		"FAROS_WEBHOOK_SECRET (--webhook-secret): too weak: use at least 128 random bits; generate one with: openssl rand -hex 32",
		"FAROS_PSEUDONYM_KEY (--pseudonym-key): too weak: use at least 256 random bits; generate one with: openssl rand -hex 32",
		"FAROS_FLOWS_DIR (--flows-dir): goes with FAROS_LOCALES_DIR (--locales-dir)",
		`FAROS_HTTP_ADDR (--http-addr): "8080" is a port without a host: write :8080 (every interface) or 127.0.0.1:8080 (this machine only)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %s:\n%v", want, err)
		}
	}
	// The usage never shows a variable's value: it may be a secret. It names each flag's kind.
	var usage strings.Builder
	_, err = loadConfig([]string{"-h"}, func(k string) string { return map[string]string{"FAROS_TELEGRAM_TOKEN": "123:secret"}[k] }, &usage)
	if !errors.Is(err, flag.ErrHelp) || strings.Contains(usage.String(), "123:secret") || !strings.Contains(usage.String(), "-telegram-token text") ||
		!strings.Contains(usage.String(), "-session-idle duration") || !strings.Contains(usage.String(), "-telegram-rate number") {
		t.Errorf("-h: %v\n%s", err, usage.String())
	}
	// Secrets made as the messages say pass; patterned or short ones do not.
	for secret, bits := range map[string]float64{
		"9c1f3b0e7a5d2c4f8e6b1a3d5c7e9f0b2a4c6e8d0f1b3a5c7e9d2f4a6c8e0b1d": 256, // openssl rand -hex 32
		"q3Xv9Lk2Wm8Rt5Yp1Zc7Nb4Hd6Gf0Sj2Ke8Ua3Ow5Ix9=":                    270, // 45 characters of base64
		"abababababababababababababababababababababab":                     0,
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": 0, // repeats itself
		"abcdefghabcdefghabcdefghabcdefghabcdefghabcdefgh":                 0,
		"password1234567890password1234567890password1234567890":           0,
		"e2e-webhook-secret-0123456789":                                    174,
	} {
		if got := strength(secret); got != bits {
			t.Errorf("strength(%q) = %v; want %v", secret, got, bits)
		}
	}
	// A flag wins over its variable.
	cfg, err := loadConfig([]string{"--session-idle", "30m"}, func(k string) string { return map[string]string{"FAROS_SESSION_IDLE": "2h"}[k] }, io.Discard)
	if err != nil || cfg.SessionIdle != 30*time.Minute {
		t.Errorf("--session-idle 30m: %v, %v; want 30m", cfg, err)
	}
}

// TestREADMEListsEverySetting: the README's configuration table names every variable Faros
// reads, and each default there is the one in the code.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{} // variable → the default column
	row := regexp.MustCompile("(?m)^\\| (`FAROS_[^|]*) \\|[^|]*\\|\\s*([^|]*?)\\s*\\|$")
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		names := regexp.MustCompile("`(FAROS_[A-Z_]+)`").FindAllStringSubmatch(m[1], -1)
		defaults := strings.Split(m[2], ", ")
		for i, n := range names {
			def := ""
			if len(defaults) == len(names) {
				def = defaults[i]
			}
			documented[n[1]] = def
		}
	}
	for _, s := range settings {
		def, ok := documented[s.env]
		switch {
		case !ok:
			t.Errorf("%s is not in the README's configuration table", s.env)
		case s.def != "" && def != "`"+s.def+"`":
			t.Errorf("%s: the README gives the default %s; the code has %q", s.env, def, s.def)
		}
		delete(documented, s.env)
	}
	for name := range documented {
		t.Errorf("the README documents %s, which Faros does not read", name)
	}
}

const apiSecret = "e2e-api-secret-0123456789"

// api posts a signed message to the API and returns the status and the decoded answer.
func api(t *testing.T, in *instance, body string, signWith string) (int, map[string]any) {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest("POST", "http://"+in.addr+"/api/v1/messages", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Faros-Timestamp", ts)
	req.Header.Set("X-Faros-Signature", webhook.Sign([]byte(signWith), ts, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSignedAPIHealthAndMetrics(t *testing.T) {
	r := redistest.New(t)
	in := start(t, r, map[string]string{"FAROS_WEBHOOK_SECRET": apiSecret}, "conv-secret-77", "Choose your language", apiSecret)
	status, out := api(t, in, `{"conversation": "conv-secret-77", "text": "/start", "language": "fr"}`, apiSecret)
	replies, _ := out["replies"].([]any)
	if status != http.StatusOK || len(replies) != 1 {
		t.Fatalf("signed /start: status %d, %v", status, out)
	}
	first := replies[0].(map[string]any)
	if !strings.Contains(first["text"].(string), "Choose your language") || len(first["choices"].([]any)) != len(shippedScreen(t).Catalog.Languages())+1 {
		t.Errorf("the first reply %v; want the language question with every language and leave now", first)
	}
	if status, _ := api(t, in, `{"conversation": "conv-secret-77", "text": "/help"}`, "not the secret at all"); status != http.StatusUnauthorized {
		t.Errorf("a bad signature got %d; want 401", status)
	}
	if code, body := get(t, "http://"+in.addr+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, _ := get(t, "http://"+in.ops+"/readyz"); code != 200 {
		t.Errorf("/readyz: %d; want 200 with Redis up", code)
	}
	// Readiness and metrics are on the ops listener only: the public door has neither.
	for _, path := range []string{"/readyz", "/metrics"} {
		if code, _ := get(t, "http://"+in.addr+path); code != http.StatusNotFound {
			t.Errorf("%s on the public listener: %d; want 404", path, code)
		}
	}
	code, metrics := get(t, "http://"+in.ops+"/metrics")
	for _, want := range []string{`faros_messages_in_total{channel="api",language="fr"} 1`, "faros_handle_seconds_bucket", `faros_api_requests_total`} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestReadyzWithoutRedis(t *testing.T) {
	r := redistest.New(t)
	proxy, url := r.Proxy(t)
	in := start(t, r, map[string]string{"FAROS_REDIS_URL": url})
	proxy.Cut()
	if code, body := get(t, "http://"+in.ops+"/readyz"); code != http.StatusServiceUnavailable || body != "redis: unreachable\n" {
		t.Errorf("/readyz with Redis down: %d %q; want 503 naming Redis", code, body)
	}
	proxy.Restore()
}

// A port in use is a start error that names the variable to change.
func TestPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	r := redistest.New(t)
	env := map[string]string{"FAROS_HTTP_ADDR": "127.0.0.1:0", "FAROS_OPS_ADDR": busy.Addr().String(), "FAROS_REDIS_URL": r.URL(), "FAROS_REDIS_PREFIX": r.Prefix}
	err = run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "FAROS_OPS_ADDR (--ops-addr): "+busy.Addr().String()+" is in use") {
		t.Errorf("a port in use: %v; want an error naming FAROS_OPS_ADDR", err)
	}
}

// TestContentReload edits the content directories of a running Faros: a good change is
// served at once, a broken one is refused with file and line, and the last good content
// keeps serving.
func TestContentReload(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"flows", "locales"} {
		if err := os.CopyFS(filepath.Join(dir, sub), os.DirFS(filepath.Join("../..", sub))); err != nil {
			t.Fatal(err)
		}
	}
	r := redistest.New(t)
	in := start(t, r, map[string]string{"FAROS_WEBHOOK_SECRET": apiSecret,
		"FAROS_FLOWS_DIR": filepath.Join(dir, "flows"), "FAROS_LOCALES_DIR": filepath.Join(dir, "locales")})
	firstText := func() string {
		_, out := api(t, in, `{"conversation": "reload", "text": "/start"}`, apiSecret)
		replies, _ := out["replies"].([]any)
		if len(replies) == 0 {
			return ""
		}
		return replies[0].(map[string]any)["text"].(string)
	}
	en := filepath.Join(dir, "locales", "en.yaml")
	original, _ := os.ReadFile(en)
	edit := func(text string) {
		if err := os.WriteFile(en, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not happen", what)
			}
		}
	}
	edit(strings.Replace(string(original), `language_prompt: "Choose your language:"`, `language_prompt: "Pick a language:"`, 1))
	eventually("the reload", func() bool { return strings.Contains(firstText(), "Pick a language:") })

	edit(strings.Replace(string(original), "goodbye:", "goodbye_typo:", 1))
	eventually("the refusal", func() bool { return strings.Contains(in.log.String(), "content refused") })
	if !strings.Contains(in.log.String(), `en.yaml:`) || !strings.Contains(in.log.String(), `the message \"goodbye\" is missing in en`) {
		t.Errorf("the refusal does not name file, line and key:\n%s", in.log)
	}
	if text := firstText(); !strings.Contains(text, "Pick a language:") {
		t.Errorf("after a broken edit the service answers %q; want the last good content", text)
	}
}

// TestMalformedInputsKeepServing: every malformed input gets its status, and the service
// goes on answering.
func TestMalformedInputsKeepServing(t *testing.T) {
	r := redistest.New(t)
	fake := telegramtest.New(t)
	const secret = "e2e-webhook-secret-0123456789"
	in := start(t, r, map[string]string{"FAROS_WEBHOOK_SECRET": apiSecret,
		"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL(), "FAROS_TELEGRAM_MODE": "webhook",
		"FAROS_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg", "FAROS_TELEGRAM_WEBHOOK_SECRET": secret}, token)
	huge := `{"conversation": "c", "text": "` + strings.Repeat("a", 1<<20) + `"}`
	for _, tt := range []struct {
		name, body string
		want       int
	}{
		{"over 1 MiB", huge, http.StatusRequestEntityTooLarge},
		{"malformed JSON", `{"conversation": "c", "text": `, http.StatusBadRequest},
		{"invalid UTF-8", "{\"conversation\": \"c\", \"text\": \"\xff\xfe\"}", http.StatusBadRequest},
		{"text over 4096 characters", `{"conversation": "c", "text": "` + strings.Repeat("λ", 4097) + `"}`, http.StatusBadRequest},
	} {
		if got, _ := api(t, in, tt.body, apiSecret); got != tt.want {
			t.Errorf("API, %s: status %d; want %d", tt.name, got, tt.want)
		}
	}
	post := func(body string) int { return postUpdate(t, "http://"+in.addr+"/tg", secret, []byte(body)) }
	long, _ := json.Marshal(telegramtest.Text(8801, strings.Repeat("ω", 5000)))
	for _, tt := range []struct {
		name, body string
		want       int
	}{
		{"over 1 MiB", huge, http.StatusRequestEntityTooLarge},
		{"malformed JSON", `{"update_id": `, http.StatusBadRequest},
		{"an update type Faros does not serve", `{"update_id": 7, "poll": {"id": "1", "question": "?"}}`, http.StatusOK},
		{"invalid UTF-8", "{\"update_id\": 8, \"message\": {\"message_id\": 3, \"date\": 1, \"chat\": {\"id\": 8801, \"type\": \"private\"}, \"text\": \"\xff\xfe\"}}", http.StatusOK},
		{"a text of 5000 characters", string(long), http.StatusOK},
	} {
		if got := post(tt.body); got != tt.want {
			t.Errorf("Telegram, %s: status %d; want %d", tt.name, got, tt.want)
		}
	}
	if code, _ := get(t, "http://"+in.addr+"/healthz"); code != 200 {
		t.Errorf("/healthz after the malformed inputs: %d", code)
	}
	if status, out := api(t, in, `{"conversation": "still-here", "text": "/start"}`, apiSecret); status != 200 || len(out["replies"].([]any)) != 1 {
		t.Errorf("a good message after the malformed ones: %d %v", status, out)
	}
}

// TestTelegramLeaveNowDeletes: the leave-now button deletes the chat's messages as /wipe does:
// a person who leaves in a hurry does not leave the screening's questions on the screen.
func TestTelegramLeaveNowDeletes(t *testing.T) {
	r := redistest.New(t)
	fake := telegramtest.New(t)
	start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL()}, "8902", token)
	c := &tgChat{t: t, fake: fake, id: 8902}
	c.say("/start")
	c.press("en")
	c.press("safe")
	c.press("check")
	c.press("no") // the age question
	questions := len(c.sent())
	c.press("stop") // leave now, under the danger question
	if got := len(fake.Deleted(8902)); got < questions {
		t.Errorf("leave now deleted %d messages; want the bot's %d and the person's", got, questions)
	}
}

// TestTelegramWipe: /wipe deletes every message of the chat younger than 48 hours, the
// person's and the bot's, then sends one last line; no key of the conversation remains.
func TestTelegramWipe(t *testing.T) {
	r := redistest.New(t)
	fake := telegramtest.New(t)
	start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL()}, "8901", token)
	c := &tgChat{t: t, fake: fake, id: 8901}
	msgID := 100
	typed := func(text string) string {
		msgID++
		u := telegramtest.Text(8901, text)
		u.Message.MessageID = msgID
		return c.do(u)
	}
	typed("/start")
	c.press("en")
	typed("/help")
	before := len(c.sent())
	if got := typed("/wipe"); got != "OK, bye." {
		t.Errorf("after /wipe: %q", got)
	}
	deleted := fake.Deleted(8901)
	// The person's three messages and the bot's replies before the wipe, each once.
	for _, id := range []int{101, 102, 103} {
		if !slices.Contains(deleted, id) {
			t.Errorf("the person's message %d was not deleted (deleted: %v)", id, deleted)
		}
	}
	if got := len(deleted); got != 3+before {
		t.Errorf("%d messages deleted; want the person's 3 and the bot's %d", got, before)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		left := r.Conversations(context.Background()) // but the wipe's time, for replies on their way
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keys of the conversation after /wipe: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A reply still on its way to Telegram when the person wipes the chat gets its id only after
// the wipe read the chat's ids: it is deleted as soon as the id comes, and the last word of
// the wipe ("OK, bye.") is not.
func TestTelegramWipeWhileAReplyIsOnItsWay(t *testing.T) {
	r := redistest.New(t)
	fake := telegramtest.New(t)
	start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL()}, "8902", token)
	c := &tgChat{t: t, fake: fake, id: 8902}
	c.say("/start")
	c.press("en")
	hold := fake.Hold("sendMessage")
	defer hold.Release()
	c.send(telegramtest.Text(8902, "/help"))
	hold.Wait(1) // the reply to /help is on its way
	c.send(telegramtest.Text(8902, "/wipe"))
	waitFor(t, "the wipe to delete the chat's messages", func() bool { return len(fake.Deleted(8902)) > 0 })
	hold.Release()
	var onItsWay, bye int
	waitFor(t, "the reply on its way and the wipe's last word", func() bool {
		calls := c.sent()
		for i, call := range calls {
			if strings.Contains(call.Params["text"], "OK, bye.") && i > 0 {
				onItsWay, bye = calls[i-1].MessageID, call.MessageID
				return true
			}
		}
		return false
	})
	waitFor(t, "the reply on its way to be deleted", func() bool { return slices.Contains(fake.Deleted(8902), onItsWay) })
	if slices.Contains(fake.Deleted(8902), bye) {
		t.Errorf("the wipe's last word was deleted too")
	}
}

// TestARetiredSettingWarns: a deployment still setting a variable Faros no longer reads starts,
// and is told what replaced it.
func TestARetiredSettingWarns(t *testing.T) {
	env := map[string]string{"FAROS_RATE_PER_MINUTE": "20"}
	cfg, err := loadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("loadConfig: %v; want a warning, not a refusal", err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "FAROS_BUTTONS_PER_MINUTE") {
		t.Errorf("warnings %q; want one naming what replaced FAROS_RATE_PER_MINUTE", cfg.Warnings)
	}
}

// TestTelegramSurfaces: at start Faros sets what Telegram shows before Start and in the "/"
// menu, in every language of the content and a default, in words safe on a watched phone; a
// Bot API that refuses them does not stop the service.
func TestTelegramSurfaces(t *testing.T) {
	r := redistest.New(t)
	fake := telegramtest.New(t)
	fake.FailSurface("setMyShortDescription", "fr", 1, 404, "Not Found")
	start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL()}, token)
	every := append([]string{""}, shippedScreen(t).Catalog.Languages()...) // the default, and each language
	calls := fake.Wait("setMyCommands", len(every))
	langs := map[string]bool{}
	for _, c := range calls {
		langs[c.Params["language_code"]] = true
		var commands []struct{ Command, Description string }
		if err := c.JSON("commands", &commands); err != nil || len(commands) != 4 || commands[0].Command != "help" {
			t.Errorf("commands for %q: %v, %v", c.Params["language_code"], commands, err)
		}
	}
	for _, l := range every {
		if !langs[l] {
			t.Errorf("no commands for language %q (got %v)", l, langs)
		}
	}
	for _, c := range append(fake.Calls("setMyDescription"), fake.Calls("setMyShortDescription")...) {
		text := strings.ToLower(c.Params["description"] + c.Params["short_description"])
		for _, word := range []string{"traffick", "victim", "εμπορ", "θύμα", "traite", "victime", "trafik", "viktim"} {
			if strings.Contains(text, word) {
				t.Errorf("%s in %q says %q: not safe on a watched phone", c.Method, c.Params["language_code"], word)
			}
		}
	}
	// The service goes on: a person is answered.
	c := &tgChat{t: t, fake: fake, id: 8903}
	if c.say("/start"); c.buttons["English"] == "" {
		t.Errorf("after a refused surface, /start offered %v", c.buttons)
	}
}

// TestNoCounsellorsNoPromise: a Faros without a roster never tells a person a counsellor will
// write: asking for one gives the numbers.
func TestNoCounsellorsNoPromise(t *testing.T) {
	r := redistest.New(t)
	fake := telegramtest.New(t)
	start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL()}, token)
	c := &tgChat{t: t, fake: fake, id: 8904}
	c.say("/start")
	c.press("en")
	c.press("safe")
	got := c.press("person")
	if !strings.Contains(got, "Right now nobody can write to you") || !strings.Contains(got, "1109") {
		t.Errorf("asking for a counsellor with none configured: %q", got)
	}
	for _, promise := range []string{"will write to you", "stays open", "Do you agree"} {
		if strings.Contains(got, promise) {
			t.Errorf("with no counsellors, the person was told %q: %q", promise, got)
		}
	}
}

// The desk's settings: its own address, an https address for passkeys (http only for
// localhost), a roster to sign in from; a roster needs Telegram or the desk.
func TestDeskConfig(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string // "" when the desk's settings are right
	}{
		{map[string]string{"FAROS_ROSTER": "r.yaml", "FAROS_DESK_URL": "http://desk.example.org"}, `FAROS_DESK_URL (--desk-url): "http://desk.example.org" is not an https:// address`},
		{map[string]string{"FAROS_ROSTER": "r.yaml", "FAROS_DESK_URL": "https://example.org/desk"}, `FAROS_DESK_URL (--desk-url): "https://example.org/desk" is not an https:// address without a path`},
		{map[string]string{"FAROS_ROSTER": "r.yaml", "FAROS_DESK_URL": "https://desk.example.org", "FAROS_DESK_ADDR": "127.0.0.1:8080"}, "FAROS_DESK_ADDR (--desk-addr): is the address of another listener: the desk needs its own port, never the web chat's"},
		{map[string]string{"FAROS_DESK_URL": "https://desk.example.org"}, "FAROS_DESK_URL (--desk-url): the desk is for the roster's operators, and FAROS_ROSTER is empty"},
		{map[string]string{"FAROS_ROSTER": "r.yaml"}, "FAROS_ROSTER (--roster): operators work on Telegram or at the desk, and both FAROS_TELEGRAM_TOKEN and FAROS_DESK_URL are empty"},
		{map[string]string{"FAROS_ROSTER": "r.yaml", "FAROS_DESK_URL": "https://desk.example.org:443"}, `FAROS_DESK_URL (--desk-url): write "https://desk.example.org:443" without :443`},
		{map[string]string{"FAROS_ROSTER": "r.yaml", "FAROS_DESK_URL": "https://desk.example.org"}, ""},
		{map[string]string{"FAROS_ROSTER": "r.yaml", "FAROS_DESK_URL": "http://localhost:8081/"}, ""},
	} {
		_, err := loadConfig(nil, func(k string) string { return tt.env[k] }, io.Discard)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%v: %v; want no problem", tt.env, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%v: %v; want %q", tt.env, err, tt.want)
		}
	}
}

// Without a Telegram token (a roster for the desk alone), a counsellor with a telegram_id is
// not reachable, so not on call: nobody is promised them.
func TestNoTelegramNoTelegramCounsellors(t *testing.T) {
	var tg *telegram.Channel
	var p handoff.Presence = latePhones{&tg}
	if p.Present(context.Background(), "501") {
		t.Error("a Telegram counsellor is present with Telegram off")
	}
}
