package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/internal/redistest"
)

// process is one Faros started as its own process.
type process struct {
	cmd  *exec.Cmd
	addr string
	log  *bytes.Buffer
	mu   *sync.Mutex
}

// TestSeveralInstances runs three Faros processes on one Redis behind a round-robin of
// requests: every conversation goes on in order whichever instance takes its messages, a
// redelivery is answered once, a case is claimed once though two operators press at the same
// moment on two instances, and killing an instance loses no message it had answered.
func TestSeveralInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three processes")
	}
	t.Parallel() // most of its time is waiting for a dead instance's lock to lapse
	dir := t.TempDir()
	bin := filepath.Join(dir, "faros")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	roster := filepath.Join(dir, "roster.yaml")
	if err := os.WriteFile(roster, []byte(e2eRoster), 0o644); err != nil {
		t.Fatal(err)
	}
	r := redistest.New(t)
	if !r.Real {
		t.Skip("needs a real Redis (FAROS_TEST_REDIS_URL): miniredis does not expire a dead instance's lock by itself")
	}
	fake := telegramtest.New(t)
	const hookSecret = "multi-webhook-secret-0123456789"
	env := []string{
		"FAROS_HTTP_ADDR=127.0.0.1:0", "FAROS_OPS_ADDR=127.0.0.1:0", "FAROS_REDIS_URL=" + r.URL(), "FAROS_REDIS_PREFIX=" + r.Prefix,
		"FAROS_PSEUDONYM_KEY=8b2e4f6a1c3d5e7f9a0b2c4d6e8f1a3b5c7d9e0f2a4b6c8d1e3f5a7b9c0d2e4f", "FAROS_WEBHOOK_SECRET=" + apiSecret, "FAROS_BUTTONS_PER_MINUTE=10000", "FAROS_TEXTS_PER_MINUTE=10000",
		"FAROS_TELEGRAM_TOKEN=" + token, "FAROS_TELEGRAM_API=" + fake.URL(), "FAROS_TELEGRAM_MODE=webhook",
		"FAROS_TELEGRAM_WEBHOOK_URL=https://bot.example.org/tg", "FAROS_TELEGRAM_WEBHOOK_SECRET=" + hookSecret,
		"FAROS_TELEGRAM_CHAT_GAP=1ms", "FAROS_TELEGRAM_RATE=1000", "FAROS_ROSTER=" + roster, "PATH=" + os.Getenv("PATH"),
	}
	var procs []*process
	for range 3 {
		procs = append(procs, startProcess(t, bin, env))
	}

	// Round-robin over the instances alive; a request to an instance that is gone goes to the
	// next one, with the same idempotency id.
	var alive sync.Map
	for i := range procs {
		alive.Store(i, true)
	}
	var turn int
	var turnMu sync.Mutex
	send := func(conversation, id, text, choice string) map[string]any {
		body, _ := json.Marshal(map[string]string{"conversation": conversation, "id": id, "text": text, "choice": choice})
		for try := 0; try < 6; try++ {
			turnMu.Lock()
			i := turn % len(procs)
			turn++
			turnMu.Unlock()
			if up, _ := alive.Load(i); up != true {
				continue
			}
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			req, _ := http.NewRequest("POST", "http://"+procs[i].addr+"/api/v1/messages", bytes.NewReader(body))
			req.Header.Set("X-Faros-Timestamp", ts)
			req.Header.Set("X-Faros-Signature", webhook.Sign([]byte(apiSecret), ts, body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				continue
			}
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return out
			}
		}
		t.Errorf("%s/%s: no instance answered", conversation, id)
		return nil
	}
	texts := func(out map[string]any) (string, map[string]string) {
		var b strings.Builder
		buttons := map[string]string{}
		replies, _ := out["replies"].([]any)
		for _, r := range replies {
			m := r.(map[string]any)
			b.WriteString(m["text"].(string))
			choices, _ := m["choices"].([]any)
			for _, c := range choices {
				id := c.(map[string]any)["id"].(string)
				buttons[id[strings.LastIndex(id, "/")+1:]] = id
			}
		}
		return b.String(), buttons
	}

	// Twenty people screen themselves at once; every message is also delivered twice. One
	// instance is killed in the middle.
	// A broken promise (I), being unable to leave and threats (C): tier 2; every other question
	// the content asks gets an answer that counts for nothing.
	welcome := []string{"/start", "en", "safe", "check"}
	answers := map[string]string{"promise": "yes", "can_leave": "no", "threats": "yes"}
	sc := shippedScreen(t)
	var wg sync.WaitGroup
	var killOnce sync.Once
	for c := range 20 {
		wg.Go(func() {
			conv := fmt.Sprint("multi-", c)
			var buttons map[string]string
			var text string
			for i := 0; ; i++ {
				step := ""
				if i < len(welcome) {
					step = welcome[i]
				} else {
					// The question the last reply asks, from its buttons' data "flow.node/choice".
					q := ""
					for _, data := range buttons {
						q, _, _ = strings.Cut(data, "/")
					}
					if !sc.isScreening(q) {
						break
					}
					step = sc.answer(q, answers)
				}
				if c == 0 && i == 10 { // in the middle of the screening
					killOnce.Do(func() {
						alive.Store(2, false)
						_ = procs[2].cmd.Process.Signal(syscall.SIGKILL)
					})
				}
				id := fmt.Sprint(i)
				var out map[string]any
				if step == "/start" {
					out = send(conv, id, step, "")
				} else {
					if buttons[step] == "" {
						t.Errorf("%s, step %d: no button %q after %q", conv, i, step, text)
						return
					}
					out = send(conv, id, "", buttons[step])
				}
				text, buttons = texts(out)
				// The same message again, to whichever instance comes next: a duplicate.
				if again := send(conv, id, "", "x"); again["duplicate"] != true {
					t.Errorf("%s, step %d: a redelivery was answered again: %v", conv, i, again)
				}
			}
			if !strings.Contains(text, "the law protects people") {
				t.Errorf("%s ended with %q; want the tier 2 message", conv, text)
			}
		})
	}
	wg.Wait()

	// Two people ask for a counsellor; both operators press Claim at the same moment, on two
	// different instances (the instance killed above is gone).
	for c, conv := range []string{"multi-0", "multi-1"} {
		buttons := map[string]string{}
		for i, step := range []string{"yes", "yes", "ekka", "skip"} {
			choice := ""
			if i > 0 {
				choice = buttons[step]
			} else {
				// The offer question's buttons, from the conversation's last answer.
				choice = "screening.offer/yes"
			}
			_, buttons = texts(send(conv, fmt.Sprint("consent-", c, "-", i), "", choice))
		}
	}
	caseRe := regexp.MustCompile(`\[([A-Z2-7]{8})\] επίπεδο`)
	var ids []string
	deadline := time.Now().Add(10 * time.Second)
	for len(ids) < 2 && time.Now().Before(deadline) {
		ids = nil
		for _, call := range fake.Calls("sendMessage") {
			if m := caseRe.FindStringSubmatch(call.Params["text"]); m != nil && call.Params["chat_id"] == "501" && !slices.Contains(ids, m[1]) {
				ids = append(ids, m[1])
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(ids) != 2 {
		t.Fatalf("op1 was told of %d cases; want 2", len(ids))
	}
	var update atomic.Int64
	update.Store(500000)
	post := func(p *process, from int64, text string) { // from two goroutines at once
		u := telegramtest.Text(from, text)
		u.UpdateID = int(update.Add(1))
		body, _ := json.Marshal(u)
		postUpdate(t, "http://"+p.addr+"/tg", hookSecret, body)
	}
	for _, id := range ids {
		var race sync.WaitGroup
		race.Go(func() { post(procs[0], 501, "/claim "+id) })
		race.Go(func() { post(procs[1], 502, "/claim "+id) })
		race.Wait()
	}
	time.Sleep(300 * time.Millisecond)
	for _, id := range ids {
		wins := 0
		for _, call := range fake.Calls("sendMessage") {
			if strings.Contains(call.Params["text"], "["+id+"] Ανέλαβες την υπόθεση") {
				wins++
			}
		}
		if wins != 1 {
			t.Errorf("case %s was claimed %d times; want once", id, wins)
		}
	}

	// An instance sending two messages a second takes twenty Telegram updates and is killed
	// with its replies still queued: the others send them once its hold on them lapses.
	slow := startProcess(t, bin, append(slices.Clone(env), "FAROS_TELEGRAM_RATE=2"))
	chats := map[string]bool{}
	for i := range 20 {
		chat := int64(9100 + i)
		chats[fmt.Sprint(chat)] = true
		post(slow, chat, "/start")
	}
	_ = slow.cmd.Process.Signal(syscall.SIGKILL)
	answered := func() (int, int) {
		got, sends := map[string]bool{}, 0
		for _, call := range fake.Calls("sendMessage") {
			if chats[call.Params["chat_id"]] {
				got[call.Params["chat_id"]] = true
				sends++
			}
		}
		return len(got), sends
	}
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if n, _ := answered(); n == len(chats) || time.Now().After(deadline) {
			break
		}
	}
	if n, sends := answered(); n != len(chats) || sends > len(chats)+1 {
		t.Errorf("after the instance was killed, %d of %d chats got their reply (%d sends; at most one twice)", n, len(chats), sends)
	}
}

func startProcess(t *testing.T, bin string, env []string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin), log: &bytes.Buffer{}, mu: &sync.Mutex{}}
	p.cmd.Env = env
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case p.addr = <-addrc:
	case <-time.After(10 * time.Second):
		t.Fatalf("an instance did not start:\n%s", p.log)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
	})
	return p
}
