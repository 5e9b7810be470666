package handoff_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/locales"
	"github.com/faros-project/faros/stats"
)

const rosterYAML = `timezone: Europe/Athens
operators:
  - {id: op1, telegram_id: 501, alias: {el: "Σύμβουλος ΕΚΚΑ 1", en: "EKKA counsellor 1", fr: "Conseiller EKKA 1", sq: "Këshilltar EKKA 1"}, languages: [el, en], max_cases: 2}
  - {id: op2, telegram_id: 502, alias: {el: "Σύμβουλος ΕΚΚΑ 2", en: "EKKA counsellor 2", fr: "Conseillère EKKA 2", sq: "Këshilltare EKKA 2"}, languages: [el, fr], max_cases: 1}
  - {id: op3, telegram_id: 503, alias: {el: "Σύμβουλος ΕΚΚΑ 3", en: "EKKA counsellor 3"}, languages: [el], backup: true}
shifts:
  - {operator: op1, days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}
  - {operator: op2, days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}
`

// inbox records what a Sender delivered, by chat, numbering each message as Telegram would
// and reporting tagged ones to sent (the desk's Sent, as the service wires it).
type inbox struct {
	mu       sync.Mutex
	got      map[string][]bot.Reply
	ids      map[string][]string // message ids, parallel to got
	next     int
	copies   []string            // "to<-from:msg:tag"
	deleted  map[string][]string // by chat
	failCopy bool
	sent     func(chat, tag string, ids []string)
}

func (b *inbox) Send(_ context.Context, chat string, replies []bot.Reply) error {
	b.mu.Lock()
	if b.got == nil {
		b.got, b.ids, b.deleted = map[string][]bot.Reply{}, map[string][]string{}, map[string][]string{}
	}
	type report struct{ tag, id string }
	var reports []report
	for _, r := range replies {
		b.next++
		id := fmt.Sprint(b.next)
		b.got[chat] = append(b.got[chat], r)
		b.ids[chat] = append(b.ids[chat], id)
		if r.Tag != "" {
			reports = append(reports, report{r.Tag, id})
		}
	}
	sent := b.sent
	b.mu.Unlock()
	for _, r := range reports {
		if sent != nil {
			sent(chat, r.tag, []string{r.id})
		}
	}
	return nil
}

func (b *inbox) Copy(_ context.Context, to, from, msg, tag string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failCopy {
		return fmt.Errorf("copy refused")
	}
	b.copies = append(b.copies, to+"<-"+from+":"+msg+":"+tag)
	return nil
}

func (b *inbox) Delete(_ context.Context, chat string, ids []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.deleted == nil {
		b.deleted = map[string][]string{}
	}
	b.deleted[chat] = append(b.deleted[chat], ids...)
	return nil
}

// idOf returns the id of the last message to chat whose text contains s.
func (b *inbox) idOf(chat, s string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.got[chat]) - 1; i >= 0; i-- {
		if strings.Contains(b.got[chat][i].Text, s) {
			return b.ids[chat][i]
		}
	}
	return ""
}

func (b *inbox) texts(chat string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, r := range b.got[chat] {
		out = append(out, r.Text)
	}
	return strings.Join(out, "\n---\n")
}

func (b *inbox) last(chat string) bot.Reply {
	b.mu.Lock()
	defer b.mu.Unlock()
	rs := b.got[chat]
	if len(rs) == 0 {
		return bot.Reply{}
	}
	return rs[len(rs)-1]
}

type goTo struct{ flows []string }

func (g *goTo) Goto(_ context.Context, channel, chat, flow string) ([]bot.Reply, error) {
	g.flows = append(g.flows, channel+":"+chat+":"+flow)
	return []bot.Reply{{Text: "(the " + flow + " menu)"}}, nil
}

type fixture struct {
	r         *redistest.Redis
	desk      *handoff.Desk
	ops, ppl  *inbox
	convs     *goTo
	now       time.Time
	rosterPtr *roster.Roster
	counter   *stats.Counter
}

// stats is the desk's weekly statistics, on the fixture's clock: one for all its desks.
func (f *fixture) stats(r *redistest.Redis) *stats.Counter {
	if f.counter == nil {
		f.counter = stats.New(r.Client, r.Prefix)
		f.counter.Now = func() time.Time { return f.now }
	}
	return f.counter
}

func newDesk(t *testing.T, r *redistest.Redis, f *fixture, consumer string) *handoff.Desk {
	t.Helper()
	cat, err := locales.Load(locales.Files)
	if err != nil {
		t.Fatal(err)
	}
	d, err := handoff.New(handoff.Config{
		Redis: r.Client, Prefix: r.Prefix, Secret: []byte("desk test secret"),
		Roster: func() *roster.Roster { return f.rosterPtr }, Operators: map[string]handoff.Phones{"telegram": f.ops},
		People: map[string]bot.Sender{"telegram": f.ppl, "web": f.ppl}, Conversations: f.convs,
		Catalog: func() *locales.Catalog { return cat }, Idle: 50 * time.Millisecond, Consumer: consumer,
		Stats: f.stats(r), StatsNames: func() stats.Names { return stats.Names{"deception": {"el": "εξαπάτηση"}} },
		Now: func() time.Time { return f.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ros, err := roster.Parse("roster.yaml", []byte(rosterYAML))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{r: redistest.New(t), ops: &inbox{}, ppl: &inbox{}, convs: &goTo{},
		now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), rosterPtr: ros}
	f.desk = newDesk(t, f.r, f, "a")
	f.ops.sent = sentOn(f.desk, "telegram")
	return f
}

func (f *fixture) open(t *testing.T, chat, lang string, tier int) string {
	t.Helper()
	id, err := f.desk.Open(context.Background(), bot.Handoff{
		Pseudonym: "pseudo-" + strings.Map(func(r rune) rune { return r - '0' + 'a' }, chat), Channel: "telegram", ChatID: chat, Tier: tier, Reason: "likely",
		Indicators: []string{"deception", "intimidation_threats"},
		Answers: []dialog.Answer{{Question: "minor", Brief: "κάτω των 18", Choice: "unsure"},
			{Question: "promise", Brief: "δουλειά, αμοιβή ή συνθήκες όχι όπως τα υποσχέθηκαν", Choice: "yes", Code: "deception", Positive: true},
			{Question: "threats", Brief: "απειλές, και στην οικογένεια", Choice: "no", Code: "intimidation_threats"},
			{Question: "afraid", Brief: "φοβάται τι θα γίνει αν σταματήσει ή φύγει", Choice: "yes", Code: "intimidation_threats", Positive: true},
			{Question: "wages", Brief: "απλήρωτη δουλειά", Choice: "skip", Code: "withholding_of_wages"}},
		State: dialog.State{Lang: lang, Answers: map[string]string{"scope": "ekka", "safety": "unsafe"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// operator sends a message as an operator, through the router, as Telegram would.
func (f *fixture) operator(t *testing.T, tg int64, text, button string) string {
	t.Helper()
	route := f.desk.Route(nobody{t})
	replies, err := route.Handle(context.Background(), bot.Message{Channel: "telegram", ChatID: fmt.Sprint(tg), Text: text, Button: button})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range replies {
		out = append(out, r.Text)
	}
	return strings.Join(out, "\n")
}

// nobody is the people's handler in these tests: operators' messages must never reach it.
type nobody struct{ t *testing.T }

func (n nobody) Handle(_ context.Context, m bot.Message) ([]bot.Reply, error) {
	n.t.Errorf("a message reached the flows: %+v", m)
	return nil, nil
}

// consume runs one instance's queue reader until the operators were told (or a second).
func consume(t *testing.T, f *fixture, d *handoff.Desk, until func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	go d.Run(ctx)
	// Until the condition holds and the desk has confirmed the entry: it saves and audits the
	// notification after sending it, and stopping Run before would cut that short.
	handled := func() bool {
		p, err := f.r.Client.XPending(ctx, f.r.Prefix+":handoff:queue", "desk").Result()
		return until() && err == nil && p.Count == 0
	}
	for !handled() {
		if ctx.Err() != nil {
			t.Fatal("the queued case was not handled")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNotifyByLanguageAndClaimOnce(t *testing.T) {
	f := setup(t)
	if got := f.desk.OnDuty(context.Background(), "fr"); got != 1 {
		t.Errorf("OnDuty(fr) = %d; want 1 (op2 speaks French)", got)
	}
	if got := f.desk.OnDuty(context.Background(), "sq"); got != 2 {
		t.Errorf("OnDuty(sq) = %d; want 2 (nobody speaks Albanian: everyone on call)", got)
	}
	id := f.open(t, "9001", "sq", 2)
	consume(t, f, f.desk, func() bool { return f.ops.last("501").Text != "" && f.ops.last("502").Text != "" })
	packet := f.ops.last("501")
	for _, want := range []string{"🟠 [" + id + "] επίπεδο 2", "Αλβανικά — χρειάζεσαι διερμηνέα", "ΚΑΤΩ ΤΩΝ 18 Ή ΑΒΕΒΑΙΗ ΗΛΙΚΙΑ",
		"Ισχύει (ένδειξη) · applies (indicator): δουλειά, αμοιβή ή συνθήκες όχι όπως τα υποσχέθηκαν · φοβάται τι θα γίνει αν σταματήσει ή φύγει\n",
		"Δεν ξέρει · unsure: κάτω των 18\n", "Δεν απάντησε · skipped: απλήρωτη δουλειά", "Δεν ισχύει · does not apply: απειλές, και στην οικογένεια", "μόνο ΕΚΚΑ",
		"κάποιος άλλος μπορεί να διαβάζει τα μηνύματα", "Τηλέφωνα που είδε το άτομο: 1109, 197", "EN: case " + id} {
		if !strings.Contains(packet.Text, want) {
			t.Errorf("the packet lacks %q:\n%s", want, packet.Text)
		}
	}
	if strings.Contains(packet.Text, "9001") || strings.Contains(packet.Text, "pseudo-") {
		t.Errorf("the packet names the person:\n%s", packet.Text)
	}
	if len(packet.Buttons) != 1 || packet.Buttons[0].Data != "claim:"+id {
		t.Errorf("the packet's buttons %v; want one Claim", packet.Buttons)
	}

	// Both press Claim at the same moment: exactly one wins.
	var wg sync.WaitGroup
	answers := make([]string, 2)
	for i, tg := range []int64{501, 502} {
		wg.Go(func() { answers[i] = f.operator(t, tg, "", "claim:"+id) })
	}
	wg.Wait()
	won := 0
	for _, a := range answers {
		if strings.Contains(a, "Ανέλαβες την υπόθεση") {
			won++
		} else if !strings.Contains(a, "Την έχει ήδη αναλάβει") {
			t.Errorf("the loser was told %q", a)
		}
	}
	if won != 1 {
		t.Fatalf("%d operators won the claim: %q", won, answers)
	}
	if got := f.ppl.texts("9001"); !strings.Contains(got, "Këshilltar") || !strings.Contains(got, "është këtu tani") {
		t.Errorf("the person was told %q; want the operator's Albanian alias", got)
	}
}

func TestRelayBothWaysAndClose(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9002", "fr", 1)
	consume(t, f, f.desk, func() bool { return f.ops.last("502").Text != "" })
	replies, ok, err := f.desk.Relay(context.Background(), id, bot.Message{Text: "je suis là"}, "")
	if err != nil || !ok || len(replies) != 0 {
		t.Fatalf("Relay while waiting just after the reassurance of Open: %v %v %v", replies, ok, err)
	}
	f.now = f.now.Add(4 * time.Minute)
	if replies, _, _ := f.desk.Relay(context.Background(), id, bot.Message{Text: "vous êtes là ?"}, ""); len(replies) != 1 || !strings.Contains(replies[0].Text, "Un conseiller va vous répondre") {
		t.Errorf("after 4 minutes the person is reassured: %v", replies)
	}
	claim := f.operator(t, 502, "/claim "+id, "")
	if !strings.Contains(claim, "je suis là") || !strings.Contains(claim, "vous êtes là ?") {
		t.Errorf("the claim does not show what the person wrote while waiting:\n%s", claim)
	}
	if _, ok, _ := f.desk.Relay(context.Background(), id, bot.Message{Text: "j'ai peur"}, ""); !ok || !strings.Contains(f.ops.last("502").Text, "["+id+"] j'ai peur") {
		t.Errorf("person → operator: %q", f.ops.last("502").Text)
	}
	if out := f.operator(t, 502, "Bonjour, je m'appelle conseillère. Êtes-vous en sécurité ?", ""); out != "" {
		t.Errorf("relaying an operator's words answered %q", out)
	}
	if got := f.ppl.last("9002").Text; got != "Conseillère EKKA 2:\nBonjour, je m'appelle conseillère. Êtes-vous en sécurité ?" {
		t.Errorf("operator → person: %q", got)
	}

	if out := f.operator(t, 501, "/close "+id+" referred", ""); !strings.Contains(out, "Δεν είναι δική σου") {
		t.Errorf("another operator closed the case: %q", out)
	}
	if out := f.operator(t, 501, "", "closeok:"+id+":other"); !strings.Contains(out, "Δεν είναι δική σου") {
		t.Errorf("another operator closed the case with a button: %q", out)
	}
	if out := f.operator(t, 502, "/close "+id+" finished", ""); !strings.Contains(out, "Πώς κλείνει") {
		t.Errorf("an unknown outcome: %q", out)
	}
	if out := f.operator(t, 502, "/close "+id+" referred", ""); !strings.Contains(out, "Σε ποια υπηρεσία") {
		t.Errorf("referred asks to whom: %q", out)
	}
	if out := f.operator(t, 502, "", "ref:"+id+":2"); !strings.Contains(out, "«παραπομπή: A21 (1109)»") {
		t.Errorf("the referral is confirmed first: %q", out)
	}
	if _, ok, _ := f.desk.Relay(context.Background(), id, bot.Message{Text: "encore là"}, ""); !ok {
		t.Error("asking to confirm closed the case")
	}
	if out := f.operator(t, 502, "", "closeok:"+id+":referred:2"); !strings.Contains(out, "Έκλεισε (παραπομπή: A21 (1109))") {
		t.Errorf("close: %q", out)
	}
	if got := f.ppl.texts("9002"); !strings.Contains(got, "Le conseiller a terminé la conversation") || !strings.Contains(got, "(the info menu)") {
		t.Errorf("after close the person got %q", got)
	}
	if _, ok, _ := f.desk.Relay(context.Background(), id, bot.Message{Text: "merci"}, ""); ok {
		t.Error("a closed case still relays")
	}
	// Nothing of the case is left but its audit trail, and that holds no id of the person.
	keys, _ := f.r.Keys(context.Background())
	for _, k := range keys {
		if strings.Contains(k, id) {
			t.Errorf("key %s remains after close", k)
		}
	}
	audit := auditTrail(t, f)
	for _, event := range []string{"created", "notified", "claimed", "relayed", "closed"} {
		if !strings.Contains(audit, "event="+event+" case="+id) {
			t.Errorf("the audit lacks %s:\n%s", event, audit)
		}
	}
	if strings.Contains(audit, "9002") {
		t.Errorf("the audit holds the chat id:\n%s", audit)
	}
}

func auditTrail(t *testing.T, f *fixture) string {
	t.Helper()
	entries, err := f.r.Client.XRange(context.Background(), f.r.Prefix+":handoff:audit", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "event=%v case=%v %v\n", e.Values["event"], e.Values["case"], e.Values)
	}
	return b.String()
}

func TestSealedAfterClose(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9003", "el", 1)
	ctx := context.Background()
	sealed, err := f.r.Client.HGet(ctx, f.r.Prefix+":{c:"+id+"}:case", "packet").Result()
	if err != nil || strings.Contains(sealed, "deception") || strings.Contains(sealed, "ekka") {
		t.Fatalf("the packet at rest: %q, %v; want it sealed", sealed, err)
	}
	wrapped, _ := f.r.Client.Get(ctx, f.r.Prefix+":{c:"+id+"}:key").Result()
	f.operator(t, 501, "/claim "+id, "")
	f.operator(t, 501, "", "closeok:"+id+":information_given")
	if n := f.r.Client.Exists(ctx, f.r.Prefix+":{c:"+id+"}:key").Val(); n != 0 {
		t.Fatal("the case key outlived the case")
	}
	// A copy made before the close (a backup, an AOF) is of no use without the key: put the
	// sealed packet back and ask the desk to use it.
	f.r.Client.HSet(ctx, f.r.Prefix+":{c:"+id+"}:case", "state", "claimed", "operator", "op1", "packet", sealed)
	if _, _, err := f.desk.Relay(ctx, id, bot.Message{Text: "x"}, ""); err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Errorf("a restored packet without its key: %v; want it unreadable", err)
	}
	if wrapped == "" || strings.Contains(wrapped, sealed) {
		t.Error("the case key was not stored wrapped")
	}
	f.r.Client.Del(ctx, f.r.Prefix+":{c:"+id+"}:case")
}

// A process dies after the case was queued and read, before any operator was told: another
// instance takes it from the queue and tells them.
func TestCaseSurvivesACrash(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	queue := f.r.Prefix + ":handoff:queue"
	if err := f.r.Client.XGroupCreateMkStream(ctx, queue, "desk", "0").Err(); err != nil {
		t.Fatal(err)
	}
	id := f.open(t, "9004", "el", 2)
	// Instance "a" reads the entry and dies without confirming it.
	if _, err := f.r.Client.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "desk", Consumer: "a", Streams: []string{queue, ">"}, Count: 1}).Result(); err != nil {
		t.Fatal(err)
	}
	if f.ops.last("501").Text != "" {
		t.Fatal("an operator was told before the crash was over")
	}
	b := newDesk(t, f.r, f, "b")
	consume(t, f, b, func() bool { return strings.Contains(f.ops.last("501").Text, id) })
}

// Unclaimed cases escalate: first to everyone on call, then to the backups, then the person
// is told, once, that nobody could answer yet; tier 3 waits 3 minutes, the others 10.
func TestEscalation(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	id := f.open(t, "9005", "fr", 3)
	step := func(d time.Duration) { f.now = f.now.Add(d); f.desk.Tick(ctx) }
	step(2 * time.Minute)
	if f.ops.last("501").Text != "" {
		t.Error("escalated before 3 minutes")
	}
	step(90 * time.Second)
	if !strings.Contains(f.ops.last("501").Text, id) || !strings.Contains(f.ops.last("502").Text, id) {
		t.Error("after 3 minutes a tier 3 case is not with everyone on call")
	}
	if f.ops.last("503").Text != "" {
		t.Error("the backup was called at the first escalation")
	}
	step(3 * time.Minute)
	if !strings.Contains(f.ops.last("503").Text, id) {
		t.Error("the backup was not called at the second escalation")
	}
	if strings.Contains(f.ppl.texts("9005"), "aucun conseiller n'a encore pu") {
		t.Error("the person was told too early")
	}
	step(3 * time.Minute)
	step(3 * time.Minute)
	if got := f.ppl.texts("9005"); strings.Count(got, "aucun conseiller n'a encore pu") != 1 {
		t.Errorf("the person was told %d times that nobody could answer; want once:\n%s", strings.Count(got, "aucun conseiller"), got)
	}
	// A tier 1 case waits ten minutes.
	f.ops.got = nil
	other := f.open(t, "9006", "el", 1)
	step(9 * time.Minute)
	if strings.Contains(f.ops.last("501").Text, other) {
		t.Error("a tier 1 case escalated before 10 minutes")
	}
	step(2 * time.Minute)
	if !strings.Contains(f.ops.last("501").Text, other) {
		t.Error("a tier 1 case did not escalate after 10 minutes")
	}
}

// With nobody on call the flows tell the person at once (OnDuty is 0); /duty on puts an
// operator on for the day.
func TestDuty(t *testing.T) {
	f := setup(t)
	ros, err := roster.Parse("roster.yaml", []byte(strings.Split(rosterYAML, "shifts:")[0]))
	if err != nil {
		t.Fatal(err)
	}
	f.rosterPtr = ros
	if got := f.desk.OnDuty(context.Background(), "el"); got != 0 {
		t.Fatalf("OnDuty without shifts = %d; want 0", got)
	}
	if out := f.operator(t, 503, "/duty on", ""); !strings.Contains(out, "σε εφημερία") {
		t.Errorf("/duty on: %q", out)
	}
	if got := f.desk.OnDuty(context.Background(), "el"); got != 1 {
		t.Errorf("OnDuty after /duty on = %d; want 1", got)
	}
	f.operator(t, 503, "/duty off", "")
	if got := f.desk.OnDuty(context.Background(), "el"); got != 0 {
		t.Errorf("OnDuty after /duty off = %d; want 0", got)
	}
}

func TestEmergencyWhileWaitingAlertsEveryone(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9007", "fr", 1)
	consume(t, f, f.desk, func() bool { return f.ops.last("502").Text != "" })
	if f.ops.last("501").Text != "" {
		t.Fatal("a French tier 1 case went to an operator who does not speak French")
	}
	f.desk.Relay(context.Background(), id, bot.Message{Text: "au secours"}, "emergency")
	if !strings.Contains(f.ops.last("501").Text, "επίπεδο 3") {
		t.Errorf("an emergency while waiting did not reach everyone on call at tier 3: %q", f.ops.last("501").Text)
	}
}

func TestOperatorCommands(t *testing.T) {
	f := setup(t)
	if out := f.operator(t, 501, "/cases", ""); !strings.Contains(out, "Καμία ανοιχτή υπόθεση") {
		t.Errorf("/cases with none: %q", out)
	}
	id := f.open(t, "9008", "el", 2)
	if out := f.operator(t, 501, "/cases", ""); !strings.Contains(out, "["+id+"] επίπεδο/tier 2 · Ελληνικά · αναμονή") {
		t.Errorf("/cases: %q", out)
	}
	if out := f.operator(t, 501, "hello?", ""); !strings.Contains(out, "Δεν έχεις υπόθεση· τίποτα δεν στάλθηκε") {
		t.Errorf("words without a case: %q", out)
	}
	f.operator(t, 501, "/claim "+id, "")
	if out := f.operator(t, 501, "/release "+id, ""); !strings.Contains(out, "Την άφησες") {
		t.Errorf("/release: %q", out)
	}
	if got := f.ppl.texts("9008"); !strings.Contains(got, "χρειάστηκε να φύγει") {
		t.Errorf("the person was not told of the release: %q", got)
	}
	if !strings.Contains(f.ops.last("502").Text, id) {
		t.Error("a released case did not go back to those on call")
	}
	if out := f.operator(t, 502, "/claim NOSUCHID", ""); !strings.Contains(out, "There is no open case NOSUCHID") {
		t.Errorf("/claim of nothing: %q", out)
	}
	if out := f.operator(t, 502, "/whatever", ""); !strings.Contains(out, "/duty on") {
		t.Errorf("an unknown command: %q", out)
	}
}

func TestPersonLeaves(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9009", "en", 2)
	f.operator(t, 501, "/claim "+id, "")
	if err := f.desk.Leave(context.Background(), id, false); err != nil {
		t.Fatal(err)
	}
	f.desk.Wait()
	if !strings.Contains(f.ops.last("501").Text, "The person ended the conversation") {
		t.Errorf("the operator was not told: %q", f.ops.last("501").Text)
	}
	if out := f.operator(t, 501, "are you there?", ""); !strings.Contains(out, "Δεν έχεις υπόθεση· τίποτα δεν στάλθηκε") {
		t.Errorf("words to a closed case: %q", out)
	}
}

// The duress word in a case: the operator is warned that someone may be watching; while the
// case waits, it becomes tier 3 for everyone on call.
func TestDuressInACase(t *testing.T) {
	f := setup(t)
	waiting := f.open(t, "9012", "el", 1)
	f.desk.Relay(context.Background(), waiting, bot.Message{Text: "ηλιοτρόπιο"}, "duress")
	for _, tg := range []string{"501", "502"} {
		if got := f.ops.last(tg).Text; !strings.Contains(got, "επίπεδο 3 (ΚΡΥΦΟ ΣΗΜΑ") {
			t.Errorf("operator %s got %q; want the case at tier 3 for duress", tg, got)
		}
	}
	f.operator(t, 501, "/claim "+waiting, "")
	f.desk.Relay(context.Background(), waiting, bot.Message{Text: "ηλιοτρόπιο"}, "duress")
	if got := f.ops.texts("501"); !strings.Contains(got, "DURESS word: someone may be watching") || !strings.HasSuffix(got, "---\n["+waiting+"] ηλιοτρόπιο") {
		t.Errorf("the operator got %q; want the duress warning, then the words", got)
	}
}

// away is a person's channel that keeps what it gets for a page that is not open.
type away struct{}

func (away) Send(context.Context, string, []bot.Reply) error { return bot.ErrAway }

// TestWordsToAPersonAway: the operator's words to a person whose page is closed are kept for
// them, and the operator is told so, not that the person cannot be reached.
func TestWordsToAPersonAway(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9010", "en", 2)
	f.operator(t, 501, "/claim "+id, "")
	cat, err := locales.Load(locales.Files)
	if err != nil {
		t.Fatal(err)
	}
	d, err := handoff.New(handoff.Config{Redis: f.r.Client, Prefix: f.r.Prefix, Secret: []byte("desk test secret"),
		Roster: func() *roster.Roster { return f.rosterPtr }, Operators: map[string]handoff.Phones{"telegram": f.ops},
		People: map[string]bot.Sender{"telegram": away{}}, Catalog: func() *locales.Catalog { return cat }, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.Route(nobody{t}).Handle(context.Background(), bot.Message{Channel: "telegram", ChatID: "501", Text: "are you there?"})
	if err != nil || len(out) != 1 || !strings.Contains(out[0].Text, "Kept but not delivered: the person's page is closed") {
		t.Errorf("words to a person away: %v, %v; want the operator told they are kept", out, err)
	}
}

// sentOn is the desk's Sent for the operators' messages of channel, as the service wires it.
func sentOn(d *handoff.Desk, channel string) func(chat, tag string, ids []string) {
	return func(chat, tag string, ids []string) { d.Sent(channel, chat, tag, ids) }
}
