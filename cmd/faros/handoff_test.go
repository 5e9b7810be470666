package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/internal/redistest"
)

const e2eRoster = `timezone: Europe/Athens
operators:
  - {id: op1, telegram_id: 501, alias: {el: "Σύμβουλος ΕΚΚΑ 1", en: "EKKA counsellor 1", fr: "Conseiller EKKA 1", sq: "Këshilltar EKKA 1"}, languages: [el, en], max_cases: 3}
  - {id: op2, telegram_id: 502, alias: {el: "Σύμβουλος ΕΚΚΑ 2", en: "EKKA counsellor 2", fr: "Conseillère EKKA 2", sq: "Këshilltare EKKA 2"}, languages: [el, fr], max_cases: 3}
shifts:
  - {operator: op1, days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}
  - {operator: op2, days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}
`

// consent answers the screening (tier 2) and agrees to talk to a counsellor.
func (c *tgChat) consent(lang string) string {
	c.t.Helper()
	c.screening(lang)
	c.press("yes")                 // the offer
	c.press("yes")                 // consent
	c.press("ekka")                // scope
	return c.say("violet harbour") // the code word
}

var caseID = regexp.MustCompile(`\[([A-Z2-7]{8})\] επίπεδο`)

// deskFixture is a Faros with the operators of e2eRoster, on a fake Telegram in polling mode.
type deskFixture struct {
	in     *instance
	r      *redistest.Redis
	fake   *telegramtest.Server
	roster string // the roster's path
}

// startDesk starts a desk, checking at the end that neither Redis nor the log holds secrets.
func startDesk(t *testing.T, secrets ...string) deskFixture {
	t.Helper()
	d := deskFixture{r: redistest.New(t), fake: telegramtest.New(t), roster: filepath.Join(t.TempDir(), "roster.yaml")}
	if err := os.WriteFile(d.roster, []byte(e2eRoster), 0o644); err != nil {
		t.Fatal(err)
	}
	d.in = start(t, d.r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": d.fake.URL(), "FAROS_ROSTER": d.roster},
		append(secrets, token)...)
	return d
}

// TestHandoffEndToEnd: two operators and two people, on Telegram and in the web chat.
func TestHandoffEndToEnd(t *testing.T) {
	d := startDesk(t, "7301", "7302", "Maria", "maria_k", "χαρτιά μου", "είσαι ασφαλής", "violet harbour")
	in, r, fake := d.in, d.r, d.fake
	op1 := &tgChat{t: t, fake: fake, id: 501, counsellor: true}
	op2 := &tgChat{t: t, fake: fake, id: 502, counsellor: true}
	person := &tgChat{t: t, fake: fake, id: 7301}

	if text := person.consent("el"); !strings.Contains(text, "Ένας σύμβουλος του ΕΚΚΑ θα σου γράψει εδώ") {
		t.Fatalf("after consent the person reads %q; want the handoff message", text)
	}
	// The code word leaves the person's chat at once (the fake numbers every message 1).
	if deleted := fake.Deleted(7301); len(deleted) != 1 || deleted[0] != 1 {
		t.Errorf("the person's chat after the code word: deleted %v; want the code word's message", deleted)
	}
	// Both operators speak Greek: both get the packet with a Claim button.
	packet1, packet2 := op1.next(), op2.next()
	m := caseID.FindStringSubmatch(packet1)
	if m == nil || !strings.Contains(packet2, m[1]) {
		t.Fatalf("packets %q and %q; want the same case for both", packet1, packet2)
	}
	id := m[1]
	if strings.Contains(packet1+packet2, "violet harbour") {
		t.Errorf("the code word went to every operator notified:\n%s", packet1)
	}
	for _, secret := range []string{"7301", "Maria", "maria_k"} {
		if strings.Contains(packet1, secret) {
			t.Errorf("the packet names the person: %q in\n%s", secret, packet1)
		}
	}
	// Both press Claim in the same batch of updates: exactly one wins.
	fake.QueueUpdate(telegramtest.Callback(501, op1.buttons["Ανάληψη · Claim ["+id+"]"]))
	fake.QueueUpdate(telegramtest.Callback(502, op2.buttons["Ανάληψη · Claim ["+id+"]"]))
	a1, a2 := op1.next(), op2.next()
	if wins := strings.Count(a1+a2, "Ανέλαβες την υπόθεση"); wins != 1 {
		t.Fatalf("%d operators won the claim:\n%s\n%s", wins, a1, a2)
	}
	winner, loser, alias := op1, op2, "Σύμβουλος ΕΚΚΑ 1"
	if strings.Contains(a2, "Ανέλαβες") {
		winner, loser, alias = op2, op1, "Σύμβουλος ΕΚΚΑ 2"
	}
	_ = loser
	if got := winner.next(); !strings.Contains(got, "Λέξη-κωδικός") || !strings.Contains(got, "violet harbour") {
		t.Errorf("the claimer's packet lacks the person's code word:\n%s", got)
	}
	if got, want := person.next(), shippedScreen(t).Catalog.Render("el", "handoff_claimed", map[string]any{"Alias": alias}); !strings.Contains(got, want) || !strings.Contains(want, alias) {
		t.Errorf("the person was told %q; want the alias only", got)
	}

	// The relay, both ways.
	person.tell("Χρειάζομαι βοήθεια με τα χαρτιά μου")
	if got := winner.next(); got != "["+id+"] Χρειάζομαι βοήθεια με τα χαρτιά μου" {
		t.Errorf("the operator got %q", got)
	}
	winner.tell("Γεια σου, είσαι ασφαλής τώρα;")
	if got := person.next(); got != alias+":\nΓεια σου, είσαι ασφαλής τώρα;" {
		t.Errorf("the person got %q", got)
	}
	// /help in a case: the numbers for the person, a warning for the operator.
	if got := person.say("/help"); !strings.Contains(got, "112") {
		t.Errorf("/help in a case: %q", got)
	}
	if got := winner.next(); !strings.Contains(got, "ζήτησε τα τηλέφωνα") {
		t.Errorf("the operator was not alerted to /help: %q", got)
	}

	// Someone who is not an operator learns nothing of operator commands.
	other := &tgChat{t: t, fake: fake, id: 7302}
	other.say("/start")
	other.press("el")
	other.press("safe")
	for _, command := range []string{"/duty on", "/cases", "/claim " + id, "/release " + id, "/close " + id + " referred"} {
		if got := other.say(command); !strings.Contains(got, "δεν κατάλαβα") || strings.Contains(got, id) {
			t.Errorf("a non-operator's %s was answered %q", command, got)
		}
	}

	// The web chat person: a case on French, claimed by op2, whose reply arrives over SSE.
	web := newWebPerson(t, in)
	web.send(`/start`, "")
	web.press("fr")
	web.press("safe")
	web.press("person")
	web.press("yes")
	web.press("ngo")
	if got := web.press("skip"); !strings.Contains(got, "Un conseiller de l'EKKA va vous écrire ici") {
		t.Fatalf("the web person reads %q", got)
	}
	webCase := op2.until(caseID)
	if webCase == nil {
		t.Fatal("op2 (who speaks French) got no packet for the web case")
	}
	events := web.listen()
	op2.say("/claim " + webCase[1])
	op2.tell("Bonjour, je suis là.")
	if winner == op2 { // holding two cases, op2 says which case the words are for
		op2.until(regexp.MustCompile(`Σε ποια υπόθεση`))
		op2.tap("→ [" + webCase[1] + "]") // its answer, "→ [ID]", is read here
	}
	if got := events.next(); !strings.Contains(got, "Conseillère EKKA 2 est là") {
		t.Errorf("first event %q; want the claim", got)
	}
	if got := events.next(); got != "Conseillère EKKA 2:\nBonjour, je suis là." {
		t.Errorf("the operator's reply over SSE: %q", got)
	}

	// The web person stops: the operator is told, and the case is over.
	if got := web.send("/stop", ""); !strings.Contains(got, "Au revoir") {
		t.Errorf("/stop in a case: %q", got)
	}
	op2.until(regexp.MustCompile(`\[` + webCase[1] + `\].*The person ended the conversation`))

	// Close: the person gets the closing message and the information menu.
	winner.tell("/close " + id + " referred")
	winner.until(regexp.MustCompile(`Σε ποια υπηρεσία`))
	if got := winner.tap("A21 (1109)"); !strings.Contains(got, "Κλείσιμο με έκβαση «παραπομπή: A21 (1109)»") {
		t.Errorf("the referral was not confirmed first: %q", got)
	}
	if got := winner.tap("✔ Κλείσιμο · close [" + id + "]"); !strings.Contains(got, "Έκλεισε (παραπομπή: A21 (1109))") {
		t.Errorf("the close: %q", got)
	}
	if got := person.next(); !strings.Contains(got, "στέλνει το αίτημά σου στην υπηρεσία") || !strings.Contains(got, "Τι θέλεις να μάθεις;") {
		t.Errorf("after close the person got %q", got)
	}
	ctx := context.Background()
	keys, _ := r.Keys(ctx)
	for _, k := range keys {
		if strings.Contains(k, "{c:"+id+"}") {
			t.Errorf("the closed case's key %s remains", k)
		}
	}
	audit, _ := r.Client.XRange(ctx, r.Prefix+":handoff:audit", "-", "+").Result()
	var events1 []string
	for _, e := range audit {
		if e.Values["case"] == id {
			events1 = append(events1, e.Values["event"].(string))
		}
	}
	// The notification's entry is written once every operator has it: a fast claim may come
	// first.
	got := strings.Join(events1, " ")
	if !strings.HasPrefix(got, "created") || !strings.Contains(got, "notified") || !strings.Contains(got, "claimed") ||
		strings.Count(got, "relayed") < 2 || !strings.HasSuffix(got, "closed") {
		t.Errorf("the audit of the case: %s; want created, notified, claimed, relayed twice or more, closed", got)
	}
}

// until skips the chat's messages until one matches re, and returns its submatches.
func (c *tgChat) until(re *regexp.Regexp) []string {
	c.t.Helper()
	for {
		if m := re.FindStringSubmatch(c.next()); m != nil {
			return m
		}
	}
}

// tell sends a text that gets no answer (an operator's words for the person).
func (c *tgChat) tell(text string) { c.send(telegramtest.Text(c.id, text)) }

// next waits for the chat's next message and returns its text.
func (c *tgChat) next() string {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if calls := c.sent(); len(calls) > c.replies {
			c.replies++
			return c.read(calls[c.replies-1])
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("chat %d: no message", c.id)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// webPerson is someone in the web chat, over its HTTP routes.
type webPerson struct {
	t       *testing.T
	in      *instance
	id      string
	from    string // the client address a proxy passes in X-Forwarded-For; "": none
	buttons map[string]string
}

func newWebPerson(t *testing.T, in *instance) *webPerson {
	return &webPerson{t: t, in: in, id: strings.Repeat("ab12", 8)}
}

func (w *webPerson) send(text, choice string) string {
	w.t.Helper()
	body, _ := json.Marshal(map[string]string{"conversation": w.id, "text": text, "choice": choice})
	req, _ := http.NewRequest("POST", "http://"+w.in.addr+"/chat/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if w.from != "" {
		req.Header.Set("X-Forwarded-For", w.from)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Replies []struct {
			Text    string `json:"text"`
			Choices []struct{ ID, Label string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		w.t.Fatalf("web chat: %d %v", resp.StatusCode, err)
	}
	w.buttons = map[string]string{}
	var texts []string
	for _, r := range out.Replies {
		texts = append(texts, r.Text)
		for _, c := range r.Choices {
			w.buttons[c.ID[strings.LastIndex(c.ID, "/")+1:]] = c.ID
		}
	}
	return strings.Join(texts, "\n")
}

func (w *webPerson) press(id string) string {
	w.t.Helper()
	data, ok := w.buttons[id]
	if !ok {
		w.t.Fatalf("no button %q among %v", id, w.buttons)
	}
	return w.send("", data)
}

type stream struct {
	t     *testing.T
	lines chan string
	mu    sync.Mutex
	last  string // the id of the last batch read: what the page acknowledges
}

// listen opens the page's event stream, as the page does once its conversation exists.
func (w *webPerson) listen() *stream {
	w.t.Helper()
	s, _ := w.listenUntil()
	time.Sleep(100 * time.Millisecond) // the stream is open before anything is sent
	return s
}

// readEvents reads the texts of a stream's replies, as they come.
func readEvents(t *testing.T, body io.ReadCloser) *stream {
	s := &stream{t: t, lines: make(chan string, 16)}
	go func() {
		defer body.Close()
		sc := bufio.NewScanner(body)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
				s.mu.Lock()
				s.last = id
				s.mu.Unlock()
			}
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev struct{ Replies []struct{ Text string } }
				if json.Unmarshal([]byte(data), &ev) == nil {
					for _, r := range ev.Replies {
						s.lines <- r.Text
					}
				}
			}
		}
	}()
	return s
}

func (s *stream) next() string {
	s.t.Helper()
	select {
	case l := <-s.lines:
		return l
	case <-time.After(5 * time.Second):
		s.t.Fatal("no event")
		return ""
	}
}

// TestRosterReload edits the roster of a running Faros: a new operator is one at once, a
// broken roster is refused with its problem in the log and the last good one stays, and
// SIGHUP reloads it too.
func TestRosterReload(t *testing.T) {
	// This process takes SIGHUP from here on: without a listener the signal would end it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	t.Cleanup(func() { signal.Stop(hup) })

	dir := t.TempDir()
	path := filepath.Join(dir, "roster.yaml")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	withoutOp2 := regexp.MustCompile(`(?m)^.*(id: op2|operator: op2).*\n`).ReplaceAllString(e2eRoster, "")
	write(withoutOp2)
	r := redistest.New(t)
	fake := telegramtest.New(t)
	in := start(t, r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": fake.URL(), "FAROS_ROSTER": path})
	op2 := &tgChat{t: t, fake: fake, id: 502, counsellor: true}
	isOperator := func() bool { return strings.Contains(op2.say("/cases"), "No open cases") }
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not happen:\n%s", what, in.log)
			}
		}
	}
	if isOperator() {
		t.Fatal("op2 is an operator before the roster names them")
	}

	write(e2eRoster)
	eventually("op2 becoming an operator", isOperator)

	write(strings.Replace(withoutOp2, "max_cases: 3", "max_cases: many", 1))
	eventually("the refusal", func() bool { return strings.Contains(in.log.String(), "roster refused") })
	if !strings.Contains(in.log.String(), `roster.yaml:3:173: \"max_cases\" must be a whole number`) {
		t.Errorf("the refusal does not name the line and the problem:\n%s", in.log)
	}
	if !isOperator() {
		t.Error("after a broken roster op2 is no operator; want the last good roster in force")
	}

	write(withoutOp2)
	eventually("op2 ceasing to be an operator", func() bool { return !isOperator() })

	// A file mounted alone into a container may change where the watcher cannot see it, as
	// does the target of a symbolic link: SIGHUP reloads it.
	target := filepath.Join(dir, "mounted", "roster.yaml")
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, []byte(withoutOp2), 0o644); err != nil {
		t.Fatal(err)
	}
	reloads := strings.Count(in.log.String(), "roster reloaded")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(link, path); err != nil {
		t.Fatal(err)
	}
	eventually("the reload of the link", func() bool { return strings.Count(in.log.String(), "roster reloaded") > reloads })
	if err := os.WriteFile(target, []byte(e2eRoster), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if isOperator() {
		t.Fatal("the watcher saw the change behind the link; this test cannot tell SIGHUP's work")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually("the reload on SIGHUP", isOperator)
	if !strings.Contains(in.log.String(), `"msg":"roster reloaded","why":"SIGHUP"`) {
		t.Errorf("the log does not say SIGHUP reloaded the roster:\n%s", in.log)
	}
}
