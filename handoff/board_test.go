package handoff_test

// The desk in the browser, through its Go API (board.go): what each counsellor may see, one
// winner of a claim, words that reach only their person, transfers, releases with a reason,
// closing, the pokes that wake a desk up, and a counsellor who has no Telegram at all; tried
// as a frightened person in a hurry, a counsellor juggling several cases, and someone trying
// what they should not would use the desk.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/locales"
	"github.com/faros-project/faros/stats"
)

// Operators the desk's tests add to the test roster: a shift supervisor with no shift (off
// call, sees everything), and a counsellor with no telegram_id, at the desk only.
const (
	supervisorLine = `  - {id: sup, telegram_id: 504, alias: {el: "Υπεύθυνη βάρδιας", en: "Shift lead"}, languages: [el, en], supervisor: true}` + "\n"
	deskOnlyLine   = `  - {id: dora, alias: {el: "Δώρα", en: "Dora", fr: "Dora (EKKA)"}, languages: [el, fr], max_cases: 2}` + "\n"
	deskOnlyShift  = `  - {operator: dora, days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}` + "\n"
)

// boardRoster is the test roster with more operators (lines of its operators list), more
// shifts, and pairs of old, new replacements of its text.
func boardRoster(t *testing.T, ops, shifts string, replace ...string) *roster.Roster {
	t.Helper()
	src := strings.Replace(rosterYAML, "shifts:\n", ops+"shifts:\n", 1) + shifts
	if len(replace) > 0 {
		src = strings.NewReplacer(replace...).Replace(src)
	}
	ros, err := roster.Parse("roster.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return ros
}

// opOf is operator id of the roster in force.
func opOf(t *testing.T, f *fixture, id string) roster.Operator {
	t.Helper()
	o, ok := f.desk.Operator(id)
	if !ok {
		t.Fatalf("no operator %q on the roster", id)
	}
	return o
}

// openCoded opens a case whose person chose a code word.
func openCoded(t *testing.T, f *fixture, chat, lang string, tier int, codeword string) string {
	t.Helper()
	id, err := f.desk.Open(context.Background(), bot.Handoff{Pseudonym: "pseudo-coded-" + chat, Channel: "telegram", ChatID: chat,
		Tier: tier, Reason: "likely", Indicators: []string{"deception"},
		Answers: []dialog.Answer{{Question: "promise", Brief: "δουλειά όχι όπως την υποσχέθηκαν", Choice: "yes", Code: "deception", Positive: true}},
		State:   dialog.State{Lang: lang, Answers: map[string]string{"scope": "ekka", "safety": "unsafe"}},
		Secrets: map[string]string{"codeword": codeword}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// rendered is a message of the catalog as a person reads it.
func rendered(t *testing.T, lang, msg string, params map[string]any) string {
	t.Helper()
	return catalog(t)().Render(lang, msg, params)
}

// since is what chat got after its first n messages.
func (b *inbox) since(chat string, n int) []bot.Reply {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n >= len(b.got[chat]) {
		return nil
	}
	return slices.Clone(b.got[chat][n:])
}

// poke is one call of Config.Poke.
type poke struct {
	op, id       string
	ring, urgent bool
}

// pokeLog records the desk's pokes; they come from whichever goroutine acted.
type pokeLog struct {
	mu  sync.Mutex
	all []poke // every poke of the test
	got []poke // since the last take
}

func (p *pokeLog) record(op, id string, ring, urgent bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all = append(p.all, poke{op, id, ring, urgent})
	p.got = append(p.got, poke{op, id, ring, urgent})
}

// take returns the pokes since the last take, and forgets them.
func (p *pokeLog) take() []poke {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.got
	p.got = nil
	return out
}

// of returns the pokes since the last take of operator op about case id.
func (p *pokeLog) of(op, id string) []poke {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []poke
	for _, k := range p.got {
		if k.op == op && k.id == id {
			out = append(out, k)
		}
	}
	return out
}

func (p *pokeLog) every() []poke {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.all)
}

// rang reports whether pokes holds one that rings, and one that is urgent.
func rang(pokes []poke) (ring, urgent bool) {
	for _, k := range pokes {
		ring, urgent = ring || k.ring, urgent || k.urgent
	}
	return ring, urgent
}

// pokedDesk makes the fixture's desk one whose pokes are recorded, reaching operators by
// phones (nil: Telegram, the fixture's f.ops).
func pokedDesk(t *testing.T, f *fixture, phones map[string]handoff.Phones) *pokeLog {
	t.Helper()
	return deskReaching(t, f, phones, f.ppl)
}

// deskReaching makes the fixture's desk one that reaches operators by phones (nil: Telegram,
// f.ops) and people by people, its pokes recorded.
func deskReaching(t *testing.T, f *fixture, phones map[string]handoff.Phones, people bot.Sender) *pokeLog {
	t.Helper()
	if phones == nil {
		phones = map[string]handoff.Phones{"telegram": f.ops}
	}
	cat, err := locales.Load(locales.Files)
	if err != nil {
		t.Fatal(err)
	}
	pokes := &pokeLog{}
	d, err := handoff.New(handoff.Config{
		Redis: f.r.Client, Prefix: f.r.Prefix, Secret: []byte("desk test secret"),
		Roster: func() *roster.Roster { return f.rosterPtr }, Operators: phones,
		People: map[string]bot.Sender{"telegram": people, "web": people}, Conversations: f.convs,
		Catalog: func() *locales.Catalog { return cat }, Idle: 50 * time.Millisecond, Consumer: "poked",
		Stats: f.stats(f.r), StatsNames: func() stats.Names { return stats.Names{"deception": {"el": "εξαπάτηση"}} },
		Poke: pokes.record, Now: func() time.Time { return f.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.desk, f.ops.sent = d, sentOn(d, "telegram")
	return pokes
}

// runQueue runs the desk's queue reader until until holds and the queue is confirmed, and
// returns only once Run has returned: nothing of it reads the fake clock afterwards.
func runQueue(t *testing.T, f *fixture, until func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.desk.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	for {
		p, err := f.r.Client.XPending(ctx, f.r.Prefix+":handoff:queue", "desk").Result()
		if until() && err == nil && p.Count == 0 {
			return
		}
		if ctx.Err() != nil {
			t.Fatal("the queued cases were not handled")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// deskPhones is the desk in the browser as Faros reaches it: nothing is delivered (the desk
// reads the board), and nothing can be copied to it.
type deskPhones struct {
	mu     sync.Mutex
	sends  int
	copies []string
}

func (p *deskPhones) Send(context.Context, string, []bot.Reply) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sends++
	return nil
}

func (p *deskPhones) Copy(_ context.Context, to, from, msg, tag string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.copies = append(p.copies, to+"<-"+from+":"+msg+":"+tag)
	return errors.New("the desk cannot copy a message")
}

func (p *deskPhones) Delete(context.Context, string, []string) error { return nil }

func boardOf(t *testing.T, f *fixture, o roster.Operator) handoff.Board {
	t.Helper()
	b, err := f.desk.Board(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func idsOf(b handoff.Board) []string {
	var ids []string
	for _, c := range b.Cases {
		ids = append(ids, c.ID)
	}
	return ids
}

// summaryOf is case id on board b; ok false when it is not there.
func summaryOf(b handoff.Board, id string) (handoff.Summary, bool) {
	for _, c := range b.Cases {
		if c.ID == id {
			return c, true
		}
	}
	return handoff.Summary{}, false
}

func view(t *testing.T, f *fixture, o roster.Operator, id string) handoff.CaseView {
	t.Helper()
	v, err := f.desk.ViewCase(context.Background(), o, id)
	if err != nil {
		t.Fatalf("ViewCase(%s, %s): %v", o.ID, id, err)
	}
	return v
}

// invisible fails unless case id is hidden from o.
func invisible(t *testing.T, f *fixture, o roster.Operator, id, why string) {
	t.Helper()
	if v, err := f.desk.ViewCase(context.Background(), o, id); !errors.Is(err, handoff.ErrNotVisible) {
		t.Errorf("%s: ViewCase(%s, %s) = %+v, %v; want ErrNotVisible", why, o.ID, id, v.Summary, err)
	}
	if slices.Contains(idsOf(boardOf(t, f, o)), id) {
		t.Errorf("%s: case %s is on %s's board", why, id, o.ID)
	}
}

// lineTexts are a transcript's lines as "who|by|text".
func lineTexts(ls []handoff.Line) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Who+"|"+l.By+"|"+l.Text)
	}
	return out
}

// mustOK checks that an action was done: mustOK(t, what)(f.desk.Claim(...)).
func mustOK(t *testing.T, what string) func(handoff.Result, error) {
	return func(res handoff.Result, err error) {
		t.Helper()
		if err != nil || !res.OK {
			t.Fatalf("%s: %+v, %v; want it done", what, res, err)
		}
	}
}

// mustRefuse checks that an action was refused, with a word for the counsellor.
func mustRefuse(t *testing.T, what string) func(handoff.Result, error) {
	return func(res handoff.Result, err error) {
		t.Helper()
		if err != nil || res.OK || res.Message == "" {
			t.Errorf("%s: %+v, %v; want ok false with a message for the counsellor", what, res, err)
		}
	}
}

// trailOf is case id's audit trail as "event k=v k=v" lines.
func trailOf(t *testing.T, f *fixture, id string) []string {
	t.Helper()
	events, err := handoff.Trail(context.Background(), f.r.Client, f.r.Prefix, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		s := e.Event
		for _, kv := range e.Fields {
			s += " " + kv.Key + "=" + kv.Value
		}
		out = append(out, s)
	}
	return out
}

func countEvents(trail []string, event string) int {
	n := 0
	for _, e := range trail {
		if e == event || strings.HasPrefix(e, event+" ") {
			n++
		}
	}
	return n
}

// Who sees what: on call, every waiting case; off call, only the cases sent to them; a case
// another holds, nobody but its holder and a supervisor; a waiting case, its packet only,
// without the code word; its holder, the code word and both sides with the notes.
func TestBoardShowsEachCounsellorOnlyWhatTheyMaySee(t *testing.T) {
	f := setup(t)
	f.rosterPtr = boardRoster(t, supervisorLine, "")
	ctx := context.Background()
	op1, op2, op3, sup := opOf(t, f, "op1"), opOf(t, f, "op2"), opOf(t, f, "op3"), opOf(t, f, "sup")

	sent := openCoded(t, f, "9501", "en", 3, "violet harbour")
	f.tick(4 * time.Minute) // tier 3 escalates after 3 minutes: to everyone on call, op1 and op2
	mustOK(t, "op1 off duty")(f.desk.SetDuty(ctx, op1, false))
	later := f.open(t, "9502", "el", 1)

	if ids := idsOf(boardOf(t, f, op1)); !slices.Contains(ids, sent) || slices.Contains(ids, later) {
		t.Errorf("op1 off call sees %v; want %s (sent to them) and not %s (opened after)", ids, sent, later)
	}
	invisible(t, f, op1, later, "off call, a case never sent to them")
	mustRefuse(t, "Claim off call of a case never sent to them")(f.desk.Claim(ctx, op1, later))
	if ids := idsOf(boardOf(t, f, op3)); len(ids) != 0 {
		t.Errorf("the backup off call sees %v; want nothing: nothing was sent to them", ids)
	}
	invisible(t, f, op3, sent, "the backup off call, before the case reached them")
	mustRefuse(t, "Claim by the backup off call, before the case reached them")(f.desk.Claim(ctx, op3, sent))
	if ids := idsOf(boardOf(t, f, op2)); !slices.Contains(ids, sent) || !slices.Contains(ids, later) {
		t.Errorf("op2 on call sees %v; want both waiting cases", ids)
	}

	// A waiting case: the packet, no transcript, no code word, nothing to write to.
	w := view(t, f, op2, sent)
	if w.Summary.State != "waiting" || w.Summary.Holder != "" || w.CanWrite || w.Lines != nil {
		t.Errorf("a waiting case's view: state %q, holder %q, can write %v, lines %v; want waiting, packet only",
			w.Summary.State, w.Summary.Holder, w.CanWrite, w.Lines)
	}
	if !strings.Contains(w.Packet, "["+sent+"]") || strings.Contains(w.Packet, "Λέξη-κωδικός") || strings.Contains(w.Packet, "violet") {
		t.Errorf("a waiting case's packet, read before anyone claimed it:\n%s\nwant the case without its code word", w.Packet)
	}
	if strings.Contains(w.Packet, "9501") || strings.Contains(w.Packet, "pseudo-") {
		t.Errorf("the packet names the person:\n%s", w.Packet)
	}

	f.tick(4 * time.Minute) // the second step: the backups too
	if ids := idsOf(boardOf(t, f, op3)); !slices.Equal(ids, []string{sent}) {
		t.Errorf("the backup, once the case was sent to them, sees %v; want [%s] only", ids, sent)
	}

	mustOK(t, "op2 claims")(f.desk.Claim(ctx, op2, sent))
	f.relay(t, sent, bot.Message{Text: "I am in the car park behind the hotel"}, "")
	mustOK(t, "op2 writes")(f.desk.Write(ctx, op2, sent, "Are you safe now?"))
	mustOK(t, "op2 notes")(f.desk.Note(ctx, op2, sent, "white van, car park"))
	want := []string{"person||I am in the car park behind the hotel", "counsellor|Σύμβουλος ΕΚΚΑ 2|Are you safe now?", "note|Σύμβουλος ΕΚΚΑ 2|white van, car park"}

	h := view(t, f, op2, sent)
	if h.Summary.State != "mine" || !h.CanWrite || h.Summary.Holder != "Σύμβουλος ΕΚΚΑ 2" {
		t.Errorf("the holder's view: state %q, can write %v, holder %q", h.Summary.State, h.CanWrite, h.Summary.Holder)
	}
	if !strings.Contains(h.Packet, "Λέξη-κωδικός") || !strings.Contains(h.Packet, "violet harbour") {
		t.Errorf("the holder's packet lacks the code word:\n%s", h.Packet)
	}
	if got := lineTexts(h.Lines); !slices.Equal(got, want) {
		t.Errorf("the holder's transcript:\n%q\nwant\n%q", got, want)
	}

	// Nobody else sees it: not the others notified, on call or not; not the backup.
	invisible(t, f, op3, sent, "the backup, once another claimed the case")
	invisible(t, f, op1, sent, "off call, once another claimed the case")
	mustOK(t, "op1 on duty")(f.desk.SetDuty(ctx, op1, true))
	invisible(t, f, op1, sent, "on call, once another claimed the case")

	// The supervisor, off call and never notified, sees it, who holds it, and both sides.
	b := boardOf(t, f, sup)
	if s, ok := summaryOf(b, sent); !ok || s.State != "held" || s.Holder != "Σύμβουλος ΕΚΚΑ 2" {
		t.Errorf("the supervisor's board: %+v (there %v); want the case held by Σύμβουλος ΕΚΚΑ 2", s, ok)
	}
	if !slices.Contains(idsOf(b), later) {
		t.Errorf("the supervisor's board %v lacks the waiting case %s", idsOf(b), later)
	}
	s := view(t, f, sup, sent)
	if s.CanWrite || s.Summary.State != "held" {
		t.Errorf("the supervisor's view: state %q, can write %v; want held, not theirs to write", s.Summary.State, s.CanWrite)
	}
	if got := lineTexts(s.Lines); !slices.Equal(got, want) {
		t.Errorf("the supervisor's transcript:\n%q\nwant\n%q", got, want)
	}

	// No case, or no id at all, is just not visible: to a supervisor too.
	for _, id := range []string{"AAAAAAAA", "", "../" + sent, sent + "*", "*"} {
		for _, o := range []roster.Operator{op1, sup} {
			if _, err := f.desk.ViewCase(ctx, o, id); !errors.Is(err, handoff.ErrNotVisible) {
				t.Errorf("ViewCase(%s, %q): %v; want ErrNotVisible", o.ID, id, err)
			}
		}
	}
}

// A board lists tier 3 first, then the oldest; a case raised to tier 3 moves up. Its number
// for the tab is the waiting cases and the counsellor's own cases whose person waits.
func TestBoardOrderAndAttention(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	op1, op2 := opOf(t, f, "op1"), opOf(t, f, "op2")
	open := func(chat string, tier int) string {
		id := f.open(t, chat, "el", tier)
		f.now = f.now.Add(time.Minute) // no Tick: nothing escalates
		return id
	}
	oneA, twoA, threeA, oneB, threeB := open("9511", 1), open("9512", 2), open("9513", 3), open("9514", 1), open("9515", 3)

	b := boardOf(t, f, op2)
	if want := []string{threeA, threeB, oneA, twoA, oneB}; !slices.Equal(idsOf(b), want) {
		t.Errorf("the board's order %v; want %v (tier 3 first, then the oldest)", idsOf(b), want)
	}
	if b.Attention != 5 {
		t.Errorf("attention %d with five waiting cases; want 5", b.Attention)
	}
	if len(b.Colleagues) != 1 || b.Colleagues[0].ID != "op1" {
		t.Errorf("op2's colleagues %v; want op1 (on call; op3 is not)", b.Colleagues)
	}

	mustOK(t, "claim")(f.desk.Claim(ctx, op1, oneA))
	mustOK(t, "claim")(f.desk.Claim(ctx, op1, twoA))
	mustOK(t, "write")(f.desk.Write(ctx, op1, oneA, "Καλησπέρα, είμαι εδώ."))
	mustOK(t, "write")(f.desk.Write(ctx, op1, twoA, "Καλησπέρα."))
	f.relay(t, twoA, bot.Message{Text: "είστε εκεί;"}, "")
	f.relay(t, twoA, bot.Message{Text: "παρακαλώ"}, "")

	b = boardOf(t, f, op1)
	if want := []string{threeA, threeB, oneA, twoA, oneB}; !slices.Equal(idsOf(b), want) {
		t.Errorf("op1's board %v; want %v", idsOf(b), want)
	}
	if s, _ := summaryOf(b, twoA); s.State != "mine" || !s.NeedsAnswer || s.Waiting != 2 {
		t.Errorf("the case whose person wrote twice: state %q, needs answer %v, waiting %d; want mine, true, 2", s.State, s.NeedsAnswer, s.Waiting)
	}
	if s, _ := summaryOf(b, oneA); s.State != "mine" || s.NeedsAnswer || s.Waiting != 0 {
		t.Errorf("the case answered: state %q, needs answer %v, waiting %d; want mine, false, 0", s.State, s.NeedsAnswer, s.Waiting)
	}
	if b.Attention != 4 {
		t.Errorf("op1's attention %d; want 4: three waiting, and one of theirs whose person waits", b.Attention)
	}
	b = boardOf(t, f, op2)
	if want := []string{threeA, threeB, oneB}; !slices.Equal(idsOf(b), want) || b.Attention != 3 {
		t.Errorf("op2's board %v, attention %d; want %v, 3 (op1's cases are none of theirs)", idsOf(b), b.Attention, want)
	}

	// An emergency while waiting makes a tier 1 case tier 3: it goes up among the tier 3s, by age.
	f.relay(t, oneB, bot.Message{Text: "βοήθεια"}, "emergency")
	if want := []string{threeA, oneB, threeB}; !slices.Equal(idsOf(boardOf(t, f, op2)), want) {
		t.Errorf("after an emergency, op2's board %v; want %v", idsOf(boardOf(t, f, op2)), want)
	}
	if s, _ := summaryOf(boardOf(t, f, op2), oneB); s.Tier != 3 || s.Alert != "emergency" || s.Waiting != 1 {
		t.Errorf("the raised case: tier %d, alert %q, waiting %d; want 3, emergency, 1", s.Tier, s.Alert, s.Waiting)
	}
}

// A desk's Claim and a Telegram /claim pressed at the same moment, many times, on one instance
// or two: one wins each time, the other is told who has it, and the person hears of one.
func TestDeskClaimRacingTelegramHasOneWinner(t *testing.T) {
	f := setup(t)
	f.rosterPtr = boardRoster(t, "", "", "max_cases: 2}", "max_cases: 30}", "max_cases: 1}", "max_cases: 30}")
	ctx := context.Background()
	other := newDesk(t, f.r, f, "b")
	ops := []roster.Operator{opOf(t, f, "op1"), opOf(t, f, "op2")}
	tgOf := map[string]string{"op1": "501", "op2": "502"}
	wins := map[string]int{}
	for i := range 20 {
		chat := fmt.Sprint(9600 + i)
		id := f.open(t, chat, "en", 2)
		atDesk, onPhone := ops[i%2], ops[1-i%2]
		phoneDesk := f.desk
		if i%4 >= 2 {
			phoneDesk = other // the Telegram webhook reaches another instance
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		var res handoff.Result
		var resErr, tgErr error
		var tg []bot.Reply
		wg.Go(func() {
			<-start
			res, resErr = f.desk.Claim(ctx, atDesk, id)
		})
		wg.Go(func() {
			<-start
			tg, tgErr = phoneDesk.Route(nobody{t}).Handle(ctx, bot.Message{Channel: "telegram", ChatID: tgOf[onPhone.ID],
				ID: fmt.Sprint("race-", i), Text: "/claim " + id})
		})
		close(start)
		wg.Wait()
		if resErr != nil || tgErr != nil {
			t.Fatalf("run %d: desk %v, Telegram %v", i, resErr, tgErr)
		}
		phoneWon := strings.Contains(texts(tg), "Ανέλαβες την υπόθεση")
		winner, loser := atDesk, onPhone
		switch {
		case res.OK && phoneWon, !res.OK && !phoneWon:
			t.Fatalf("run %d: the desk won %v (%q), Telegram won %v (%q); want exactly one", i, res.OK, res.Message, phoneWon, texts(tg))
		case phoneWon:
			winner, loser = onPhone, atDesk
			if !strings.Contains(res.Message, "Την έχει ήδη αναλάβει: "+winner.AliasIn("el")) {
				t.Errorf("run %d: the desk's loser was told %q; want who has it", i, res.Message)
			}
		default:
			if !strings.Contains(texts(tg), "Την έχει ήδη αναλάβει: "+winner.AliasIn("el")) {
				t.Errorf("run %d: the phone's loser was told %q; want who has it", i, texts(tg))
			}
		}
		wins[winner.ID]++
		if !view(t, f, winner, id).CanWrite {
			t.Errorf("run %d: the winner %s cannot write to the case", i, winner.ID)
		}
		invisible(t, f, loser, id, fmt.Sprintf("run %d, the loser", i))
		if n := f.ppl.count(chat, "is here now"); n != 1 {
			t.Errorf("run %d: the person was told %d times that a counsellor is here; want once", i, n)
		}
		if n := countEvents(trailOf(t, f, id), "claimed"); n != 1 {
			t.Errorf("run %d: %d claims audited; want 1", i, n)
		}
	}
	t.Logf("wins: %v", wins)
}

// Holding two people's cases, each person gets only the words written to their case, signed in
// their language; words to a case not held, or no words, go nowhere and are kept nowhere.
func TestDeskWordsReachOnlyTheirPerson(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	op1, op2 := opOf(t, f, "op1"), opOf(t, f, "op2")
	a, b := f.open(t, "9521", "en", 2), f.open(t, "9522", "fr", 2)
	theirs, waiting := f.open(t, "9523", "el", 1), f.open(t, "9524", "en", 1)
	mustOK(t, "claim A")(f.desk.Claim(ctx, op1, a))
	mustOK(t, "claim B")(f.desk.Claim(ctx, op1, b))
	mustOK(t, "op2 claims")(f.desk.Claim(ctx, op2, theirs))

	for _, w := range []struct{ id, chat, text, want string }{
		{a, "9521", "Go to the pharmacy on the corner, it is open.", "EKKA counsellor 1:\nGo to the pharmacy on the corner, it is open."},
		{b, "9522", "Ne dites rien à votre employeur.", "Conseiller EKKA 1:\nNe dites rien à votre employeur."},
		{a, "9521", "Call 1109 when you can.", "EKKA counsellor 1:\nCall 1109 when you can."},
	} {
		res, err := f.desk.Write(ctx, op1, w.id, w.text)
		mustOK(t, "write to "+w.id)(res, err)
		if got := f.ppl.last(w.chat).Text; got != w.want {
			t.Errorf("person %s got %q; want %q", w.chat, got, w.want)
		}
	}
	if got := f.ppl.texts("9521"); strings.Contains(got, "employeur") || strings.Count(got, "EKKA counsellor 1:\n") != 2 {
		t.Errorf("A's person got:\n%s\nwant A's two messages only", got)
	}
	if got := f.ppl.texts("9522"); strings.Contains(got, "pharmacy") || strings.Contains(got, "1109 when") || strings.Count(got, "Conseiller EKKA 1:\n") != 1 {
		t.Errorf("B's person got:\n%s\nwant B's message only", got)
	}

	// Words to a case op1 does not hold, to no case, or empty: refused, delivered to nobody,
	// kept nowhere.
	before := map[string]string{}
	for _, chat := range []string{"9521", "9522", "9523", "9524"} {
		before[chat] = f.ppl.texts(chat)
	}
	for _, w := range []struct{ id, text, why string }{
		{theirs, "I know where you live", "a case another holds"},
		{waiting, "Hello from a counsellor who did not claim", "a waiting case"},
		{"AAAAAAAA", "Hello?", "no such case"},
		{"", "Hello?", "no case at all"},
		{a, "", "empty words"},
		{a, "  \n\t ", "blank words"},
	} {
		res, err := f.desk.Write(ctx, op1, w.id, w.text)
		mustRefuse(t, "Write to "+w.why)(res, err)
		res, err = f.desk.Note(ctx, op1, w.id, w.text)
		mustRefuse(t, "Note in "+w.why)(res, err)
	}
	for chat, was := range before {
		if now := f.ppl.texts(chat); now != was {
			t.Errorf("a refused write reached person %s:\n%s", chat, strings.TrimPrefix(now, was))
		}
	}
	if got := lineTexts(view(t, f, op2, theirs).Lines); len(got) != 0 {
		t.Errorf("op2's case holds what op1 was refused: %q", got)
	}
	if n := len(view(t, f, op1, a).Lines); n != 2 {
		t.Errorf("A's transcript holds %d lines; want the two messages (nothing of the refused ones)", n)
	}
	if _, ok := summaryOf(boardOf(t, f, op2), waiting); !ok {
		t.Error("the waiting case op1 wrote to is no longer waiting")
	}
	// The audit keeps that words went, never the words.
	if audit := auditTrail(t, f); strings.Contains(audit, "pharmacy") || strings.Contains(audit, "employeur") || strings.Contains(audit, "know where") {
		t.Errorf("the audit holds a counsellor's words:\n%s", audit)
	}
}

// A holder gives a case to a colleague on call with room: the colleague gets it loudly, with the
// packet and the conversation; the person learns who writes now; the old holder cannot write
// to it any more, at the desk or by a reply on Telegram. A colleague off call, unknown, full,
// or oneself is refused, and nothing changes; nor can anyone give away a case not theirs.
func TestDeskTransferByTheHolder(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	op1, op2, op3 := opOf(t, f, "op1"), opOf(t, f, "op2"), opOf(t, f, "op3")
	a := openCoded(t, f, "9531", "en", 2, "blue kite")
	full := f.open(t, "9532", "el", 1)
	mustOK(t, "claim")(f.desk.Claim(ctx, op1, a))
	mustOK(t, "op2 claims (max 1)")(f.desk.Claim(ctx, op2, full))
	f.relay(t, a, bot.Message{Text: "I am scared, he took my passport"}, "")
	mustOK(t, "write")(f.desk.Write(ctx, op1, a, "Hello, I am here."))
	mustOK(t, "note")(f.desk.Note(ctx, op1, a, "passport held by employer"))

	unchanged := func(why string) {
		t.Helper()
		if v := view(t, f, op1, a); !v.CanWrite {
			t.Errorf("%s: the holder lost the case", why)
		}
		if got := f.ppl.last("9531").Text; got != "EKKA counsellor 1:\nHello, I am here." {
			t.Errorf("%s: the person was told %q", why, got)
		}
		if n := countEvents(trailOf(t, f, a), "transferred"); n != 0 {
			t.Errorf("%s: a transfer was audited", why)
		}
	}
	to503, to502 := f.ops.len("503"), f.ops.len("502")
	for _, tt := range []struct {
		by       roster.Operator
		to, why  string
		moreSent bool
	}{
		{op1, "op3", "a colleague off call", false},
		{op1, "nobody", "an unknown colleague", false},
		{op1, "", "no colleague", false},
		{op1, "op1", "oneself", false},
		{op1, "op2", "a colleague who holds as many cases as allowed", false},
		{op2, "op1", "by a colleague who does not hold it, to its holder", false},
	} {
		res, err := f.desk.Transfer(ctx, tt.by, a, tt.to, "op1")
		mustRefuse(t, "Transfer to "+tt.why)(res, err)
		unchanged(tt.why)
	}
	if f.ops.len("503") != to503 || f.ops.len("502") != to502 {
		t.Errorf("refused transfers sent the colleagues %d, %d messages", f.ops.len("503")-to503, f.ops.len("502")-to502)
	}
	mustOK(t, "op3 on duty")(f.desk.SetDuty(ctx, op3, true))
	res, err := f.desk.Transfer(ctx, op2, a, "op3", "op1")
	mustRefuse(t, "Transfer by a colleague who does not hold it")(res, err)
	unchanged("a transfer by someone who does not hold it")

	mustOK(t, "Transfer to op3")(f.desk.Transfer(ctx, op1, a, "op3", "op1"))
	got := f.ops.since("503", to503)
	if len(got) == 0 || !got[0].Ring || !got[0].Urgent || !strings.Contains(got[0].Text, "["+a+"]") {
		t.Fatalf("the colleague got %+v; want a ringing, urgent message about the case first", got)
	}
	all := texts(got)
	for _, want := range []string{"EN: case " + a, "Λέξη-κωδικός", "blue kite", "I am scared, he took my passport", "Hello, I am here.", "passport held by employer"} {
		if !strings.Contains(all, want) {
			t.Errorf("the colleague's messages lack %q:\n%s", want, all)
		}
	}
	if got, want := f.ppl.last("9531").Text, rendered(t, "en", "handoff_claimed", map[string]any{"Alias": "EKKA counsellor 3"}); got != want {
		t.Errorf("the person was told %q; want %q", got, want)
	}
	v := view(t, f, op3, a)
	if v.Summary.State != "mine" || !v.CanWrite || v.Summary.Holder != "Σύμβουλος ΕΚΚΑ 3" {
		t.Errorf("the new holder's view: %+v, can write %v", v.Summary, v.CanWrite)
	}
	if !strings.Contains(v.Packet, "Σύμβουλος ΕΚΚΑ 3") {
		t.Errorf("the packet's history does not say who it went to:\n%s", v.Packet)
	}
	if got := lineTexts(v.Lines); len(got) != 3 {
		t.Errorf("the new holder's transcript %q; want the three lines so far", got)
	}

	// The old holder: nothing to read or write, at the desk or from Telegram.
	invisible(t, f, op1, a, "the old holder")
	before := f.ppl.texts("9531")
	res, err = f.desk.Write(ctx, op1, a, "it is still me")
	mustRefuse(t, "Write by the old holder")(res, err)
	heard := f.ops.idOf("501", "he took my passport")
	if heard == "" {
		t.Fatal("op1's Telegram never got the person's words")
	}
	if out := texts(f.act(t, 501, bot.Message{Text: "it is still me, by a reply", ReplyTo: heard})); !strings.Contains(out, "Δεν είναι δική σου") {
		t.Errorf("a reply on Telegram by the old holder: %q; want refused", out)
	}
	if out := texts(f.act(t, 501, bot.Message{Text: "and without a reply"})); !strings.Contains(out, "Δεν έχεις υπόθεση") {
		t.Errorf("words on Telegram by the old holder: %q; want refused", out)
	}
	if now := f.ppl.texts("9531"); now != before {
		t.Errorf("the old holder's words reached the person:\n%s", strings.TrimPrefix(now, before))
	}
	res, err = f.desk.Write(ctx, op3, a, "I am taking over.")
	mustOK(t, "Write by the new holder")(res, err)
	if got := f.ppl.last("9531").Text; got != "EKKA counsellor 3:\nI am taking over." {
		t.Errorf("the new holder's words reached the person as %q", got)
	}
	// And the person's words go to the new holder, not the old.
	to501 := f.ops.len("501")
	f.relay(t, a, bot.Message{Text: "ok thank you"}, "")
	if f.ops.len("501") != to501 || f.ops.last("503").Text != "["+a+"] ok thank you" {
		t.Errorf("the person's words went to op1 (%d more) / op3 got %q", f.ops.len("501")-to501, f.ops.last("503").Text)
	}
}

// A supervisor reassigns a case someone holds (that someone is told), and assigns a waiting
// case to a colleague, who has it claimed; not to a colleague who is full. A plain counsellor
// can do neither.
func TestDeskSupervisorReassignsAndAssigns(t *testing.T) {
	f := setup(t)
	f.rosterPtr = boardRoster(t, supervisorLine, "")
	ctx := context.Background()
	op1, op2, op3, sup := opOf(t, f, "op1"), opOf(t, f, "op2"), opOf(t, f, "op3"), opOf(t, f, "sup")
	mustOK(t, "op3 on duty")(f.desk.SetDuty(ctx, op3, true))
	held := f.open(t, "9541", "en", 2)
	waiting, another := f.open(t, "9542", "el", 1), f.open(t, "9543", "el", 3)
	mustOK(t, "claim")(f.desk.Claim(ctx, op1, held))
	f.relay(t, held, bot.Message{Text: "hello?"}, "")

	// A plain counsellor cannot reassign a colleague's case, nor assign a waiting one.
	res, err := f.desk.Transfer(ctx, op2, held, "op3", "op1")
	mustRefuse(t, "reassign by a plain counsellor")(res, err)
	res, err = f.desk.Transfer(ctx, op2, waiting, "op3", "")
	mustRefuse(t, "assign by a plain counsellor")(res, err)
	if s, ok := summaryOf(boardOf(t, f, op3), waiting); !ok || s.State != "waiting" {
		t.Errorf("after a plain counsellor's assign, the case is %+v; want still waiting", s)
	}

	to501 := f.ops.len("501")
	mustOK(t, "reassign")(f.desk.Transfer(ctx, sup, held, "op2", "op1"))
	if got := texts(f.ops.since("501", to501)); !strings.Contains(got, "↪ ["+held+"]") || !strings.Contains(got, "Υπεύθυνη βάρδιας") {
		t.Errorf("the old holder was told %q; want that the supervisor gave the case to a colleague", got)
	}
	if !view(t, f, op2, held).CanWrite {
		t.Error("after the reassign, op2 cannot write to the case")
	}
	invisible(t, f, op1, held, "the old holder after a reassign")
	if got, want := f.ppl.last("9541").Text, rendered(t, "en", "handoff_claimed", map[string]any{"Alias": "EKKA counsellor 2"}); got != want {
		t.Errorf("the person was told %q; want %q", got, want)
	}
	if got := f.ops.texts("502"); !strings.Contains(got, "Σου ανέθεσε") {
		t.Errorf("op2 was not told the case is theirs now:\n%s", got)
	}

	to503 := f.ops.len("503")
	mustOK(t, "assign")(f.desk.Transfer(ctx, sup, waiting, "op3", ""))
	if v := view(t, f, op3, waiting); !v.CanWrite || v.Summary.State != "mine" {
		t.Errorf("the assigned case, for op3: %+v, can write %v", v.Summary, v.CanWrite)
	}
	if got := f.ops.since("503", to503); len(got) == 0 || !got[0].Ring || !got[0].Urgent || !strings.Contains(texts(got), "Λέξη-κωδικός") {
		t.Errorf("op3 got %+v; want the case loudly, with its packet", got)
	}
	if got, want := f.ppl.last("9542").Text, rendered(t, "el", "handoff_claimed", map[string]any{"Alias": "Σύμβουλος ΕΚΚΑ 3"}); got != want {
		t.Errorf("the person of the assigned case was told %q; want %q", got, want)
	}
	if tr := trailOf(t, f, waiting); countEvents(tr, "claimed") != 1 || countEvents(tr, "assigned") != 1 {
		t.Errorf("the assigned case's trail %q; want it claimed and assigned once", tr)
	}

	// op2 holds as many as allowed (1): neither a reassign nor an assign reaches them.
	second := f.open(t, "9544", "en", 1)
	mustOK(t, "claim")(f.desk.Claim(ctx, op1, second))
	res, err = f.desk.Transfer(ctx, sup, second, "op2", "op1")
	mustRefuse(t, "reassign to a colleague who is full")(res, err)
	if !view(t, f, op1, second).CanWrite {
		t.Error("a refused reassign took the case from its holder")
	}
	res, err = f.desk.Transfer(ctx, sup, another, "op2", "")
	mustRefuse(t, "assign to a colleague who is full")(res, err)
	if s, ok := summaryOf(boardOf(t, f, op3), another); !ok || s.State != "waiting" {
		t.Errorf("after an assign to a full colleague, the case is %+v; want still waiting", s)
	}
	if s, ok := summaryOf(boardOf(t, f, sup), second); !ok || s.State != "held" || s.Holder != "Σύμβουλος ΕΚΚΑ 1" {
		t.Errorf("the supervisor's board shows %+v; want the case held by op1", s)
	}
}

// A supervisor's reassign to the colleague who already holds the case changes nothing: the
// person is not told again that someone new is here, and the holder is not rung for it.
func TestDeskReassignToTheHolderChangesNothing(t *testing.T) {
	f := setup(t)
	f.rosterPtr = boardRoster(t, supervisorLine, "")
	ctx := context.Background()
	op1, sup := opOf(t, f, "op1"), opOf(t, f, "sup")
	id := f.open(t, "9545", "en", 2)
	mustOK(t, "claim")(f.desk.Claim(ctx, op1, id))
	toPerson, toOp := f.ppl.texts("9545"), f.ops.len("501")
	res, err := f.desk.Transfer(ctx, sup, id, "op1", "op1")
	if err != nil || res.OK {
		t.Errorf("a reassign to the one who holds it: %+v, %v; want refused", res, err)
	}
	if now := f.ppl.texts("9545"); now != toPerson {
		t.Errorf("the person was told again:\n%s", strings.TrimPrefix(now, toPerson))
	}
	if got := f.ops.since("501", toOp); len(got) != 0 {
		t.Errorf("the holder was sent %q", texts(got))
	}
	if n := countEvents(trailOf(t, f, id), "transferred"); n != 0 {
		t.Errorf("%d transfers audited; want none", n)
	}
}

// A release needs one of the reasons; after it the case waits again for the others, its
// packet says why in Greek, and the audit keeps the reason's key: no words of anyone's.
func TestDeskReleaseNeedsAReason(t *testing.T) {
	names := map[string]string{"language": "χρειάζεται άλλη γλώσσα", "shift": "τέλος βάρδιας",
		"conflict": "δεν μπορούσε να την αναλάβει", "other": "άλλος λόγος"}
	if len(handoff.ReleaseReasons) != len(names) {
		t.Fatalf("release reasons %v; this test knows %v", handoff.ReleaseReasons, names)
	}
	for i, reason := range handoff.ReleaseReasons {
		t.Run(reason.Key, func(t *testing.T) {
			f := setup(t)
			f.rosterPtr = boardRoster(t, supervisorLine, "")
			ctx := context.Background()
			op1, op2, sup := opOf(t, f, "op1"), opOf(t, f, "op2"), opOf(t, f, "sup")
			chat := fmt.Sprint(9550 + i)
			id := f.open(t, chat, "en", 2)
			mustOK(t, "claim")(f.desk.Claim(ctx, op1, id))
			f.relay(t, id, bot.Message{Text: "my boss is back"}, "")
			mustOK(t, "write")(f.desk.Write(ctx, op1, id, "I understand."))

			for _, bad := range []string{"", "bored", "Language", "released_language", reason.Label} {
				res, err := f.desk.Release(ctx, op1, id, bad)
				mustRefuse(t, fmt.Sprintf("Release for %q", bad))(res, err)
			}
			res, err := f.desk.Release(ctx, op2, id, reason.Key)
			mustRefuse(t, "Release by someone who does not hold it")(res, err)
			if !view(t, f, op1, id).CanWrite {
				t.Fatal("a refused release gave the case back")
			}
			if n := countEvents(trailOf(t, f, id), "released"); n != 0 {
				t.Fatalf("a refused release was audited")
			}

			to501 := f.ops.len("501")
			mustOK(t, "release")(f.desk.Release(ctx, op1, id, reason.Key))
			v := view(t, f, op2, id)
			if v.Summary.State != "waiting" || v.CanWrite || v.Summary.Holder != "" {
				t.Errorf("after the release: %+v, can write %v; want it waiting", v.Summary, v.CanWrite)
			}
			if !strings.Contains(v.Packet, "ξανά σε αναμονή: Σύμβουλος ΕΚΚΑ 1 ("+names[reason.Key]+")") || strings.Contains(v.Packet, "released_") {
				t.Errorf("the packet's history does not say why in Greek (%s):\n%s", names[reason.Key], v.Packet)
			}
			if got := f.ops.last("502"); !strings.Contains(got.Text, "["+id+"]") || len(got.Buttons) != 1 {
				t.Errorf("op2 was not sent the case again: %+v", got)
			}
			for _, r := range f.ops.since("501", to501) {
				if len(r.Buttons) > 0 && r.Buttons[0].Data == "claim:"+id {
					t.Errorf("the one who released it was offered it again: %q", r.Text)
				}
			}
			if got, want := f.ppl.last(chat).Text, rendered(t, "en", "handoff_released", nil); got != want {
				t.Errorf("the person was told %q; want %q", got, want)
			}
			if res, err := f.desk.Write(ctx, op1, id, "one more thing"); err != nil || res.OK {
				t.Errorf("Write after the release: %+v, %v; want refused", res, err)
			}

			events, err := f.desk.AuditTrail(ctx, sup, id)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range events {
				if e.Event == "released" && slices.Contains(e.Fields, handoff.AuditField{Key: "reason", Value: "released_" + reason.Key}) {
					found = true
				}
				for _, kv := range e.Fields {
					if strings.Contains(kv.Value, "boss") || strings.Contains(kv.Value, "understand") {
						t.Errorf("the audit holds someone's words: %+v", e)
					}
				}
			}
			if !found {
				t.Errorf("the audit trail lacks the release for %s: %+v", reason.Key, events)
			}
			if _, err := f.desk.AuditTrail(ctx, op1, id); !errors.Is(err, handoff.ErrNotVisible) {
				t.Errorf("a plain counsellor read the audit trail: %v", err)
			}
		})
	}
}

// Closing needs an outcome, and for "referred" one of the referrals by name; then the case is
// gone for everyone, and nobody but its holder can close it.
func TestDeskCloseWithOutcomeAndReferral(t *testing.T) {
	f := setup(t)
	f.rosterPtr = boardRoster(t, supervisorLine, "")
	ctx := context.Background()
	op1, op2, sup := opOf(t, f, "op1"), opOf(t, f, "op2"), opOf(t, f, "sup")
	id := f.open(t, "9561", "en", 2)
	mustOK(t, "claim")(f.desk.Claim(ctx, op1, id))
	f.relay(t, id, bot.Message{Text: "yes please, the shelter"}, "")
	refs := f.desk.Referrals()
	if !slices.Contains(refs, "A21 (1109)") {
		t.Fatalf("referrals %q lack A21 (1109)", refs)
	}

	for _, tt := range []struct {
		by                roster.Operator
		outcome, ref, why string
	}{
		{op1, "referred", "", "referred without a referral"},
		{op1, "referred", "Nowhere", "referred to a service not on the list"},
		{op1, "referred", "2", "referred by index, not by name"},
		{op1, "referred", "a21 (1109)", "referred by a name not as written"},
		{op1, "finished", "", "an unknown outcome"},
		{op1, "", "", "no outcome"},
		{op2, "referred", "A21 (1109)", "by a colleague who does not hold it"},
		{sup, "other", "", "by a supervisor who does not hold it"},
	} {
		res, err := f.desk.Close(ctx, tt.by, id, tt.outcome, tt.ref)
		mustRefuse(t, "Close "+tt.why)(res, err)
		if !view(t, f, op1, id).CanWrite {
			t.Fatalf("Close %s: the case is no longer its holder's", tt.why)
		}
	}
	if got := f.ppl.last("9561").Text; strings.Contains(got, "ended the conversation") {
		t.Fatalf("a refused close said goodbye to the person: %q", got)
	}

	res, err := f.desk.Close(ctx, op1, id, "referred", "A21 (1109)")
	mustOK(t, "Close referred to A21")(res, err)
	if !strings.Contains(res.Message, "A21 (1109)") {
		t.Errorf("the counsellor was told %q; want the referral named", res.Message)
	}
	for _, o := range []roster.Operator{op1, op2, sup} {
		invisible(t, f, o, id, "a closed case")
	}
	if got, want := f.ppl.texts("9561"), rendered(t, "en", "handoff_closed_referred", nil); !strings.Contains(got, want) {
		t.Errorf("the person got:\n%s\nwant the referred goodbye", got)
	}
	if res, err := f.desk.Write(ctx, op1, id, "hello?"); err != nil || res.OK {
		t.Errorf("writing to it after: %+v, %v; want refused", res, err)
	}
	tr := trailOf(t, f, id)
	if !slices.ContainsFunc(tr, func(e string) bool {
		return strings.HasPrefix(e, "closed ") && strings.Contains(e, "outcome=referred") && strings.Contains(e, "referred_to=A21 (1109)")
	}) {
		t.Errorf("the trail lacks the close with its referral: %q", tr)
	}

	// Another outcome needs no referral.
	other := f.open(t, "9562", "el", 1)
	mustOK(t, "claim")(f.desk.Claim(ctx, op2, other))
	mustOK(t, "Close information_given")(f.desk.Close(ctx, op2, other, "information_given", ""))
	invisible(t, f, op2, other, "a case closed with information given")
}

// The desk is poked for every notification (ringing; urgent for tier 3), every message of the
// person to their counsellor (ringing), every watchdog reminder (urgent); and no poke carries
// anyone's words.
func TestDeskPokes(t *testing.T) {
	f := setup(t)
	pokes := pokedDesk(t, f, nil)
	ctx := context.Background()
	op1 := opOf(t, f, "op1")
	urgent, french := f.open(t, "9571", "el", 3), f.open(t, "9572", "fr", 1)
	runQueue(t, f, func() bool {
		return len(pokes.of("op1", urgent)) > 0 && len(pokes.of("op2", urgent)) > 0 && len(pokes.of("op2", french)) > 0
	})
	for _, op := range []string{"op1", "op2"} {
		if ring, urg := rang(pokes.of(op, urgent)); !ring || !urg {
			t.Errorf("%s's desk for a new tier 3 case: ring %v, urgent %v; want both", op, ring, urg)
		}
	}
	if ring, urg := rang(pokes.of("op2", french)); !ring || urg {
		t.Errorf("op2's desk for a new tier 1 case: ring %v, urgent %v; want ring only", ring, urg)
	}
	if got := pokes.of("op1", french); len(got) != 0 {
		t.Errorf("op1, who does not speak French and was not sent the case, was poked: %v", got)
	}
	for _, k := range pokes.take() {
		if k.op == "op3" {
			t.Errorf("the backup off call was poked: %+v", k)
		}
	}

	words := []string{"Γεια σας, είμαι εδώ.", "είστε εκεί; φοβάμαι", "έρχεται, βοήθεια", "σημείωση: κόκκινο αυτοκίνητο"}
	mustOK(t, "claim")(f.desk.Claim(ctx, op1, urgent))
	mustOK(t, "write")(f.desk.Write(ctx, op1, urgent, words[0]))
	mustOK(t, "note")(f.desk.Note(ctx, op1, urgent, words[3]))
	pokes.take()

	f.relay(t, urgent, bot.Message{Text: words[1]}, "")
	if ring, _ := rang(pokes.of("op1", urgent)); !ring {
		t.Errorf("the person's message did not ring their counsellor's desk: %v", pokes.take())
	}
	pokes.take()

	f.tick(6 * time.Minute) // tier 3: reminded after 5 minutes without an answer
	if ring, urg := rang(pokes.of("op1", urgent)); !ring || !urg {
		t.Errorf("the watchdog's reminder: ring %v, urgent %v; want both", ring, urg)
	}
	if s, _ := summaryOf(boardOf(t, f, op1), urgent); !s.Reminded || !s.NeedsAnswer {
		t.Errorf("after the reminder the board shows reminded %v, needs answer %v; want both", s.Reminded, s.NeedsAnswer)
	}
	pokes.take()

	f.relay(t, urgent, bot.Message{Text: words[2]}, "emergency")
	if ring, urg := rang(pokes.of("op1", urgent)); !ring || !urg {
		t.Errorf("an emergency in a claimed case: ring %v, urgent %v; want both", ring, urg)
	}

	pokes.take()

	mustOK(t, "transfer")(f.desk.Transfer(ctx, op1, urgent, "op2", "op1"))
	if ring, urg := rang(pokes.of("op2", urgent)); !ring || !urg {
		t.Errorf("a case transferred to op2: ring %v, urgent %v; want both", ring, urg)
	}

	known := map[string]bool{"": true, urgent: true, french: true}
	for _, k := range pokes.every() {
		if _, ok := f.desk.Operator(k.op); !ok && k.op != "" {
			t.Errorf("a poke names no operator: %+v", k)
		}
		if !known[k.id] {
			t.Errorf("a poke names no case: %+v", k)
		}
		for _, w := range append(words, "9571", "9572") {
			if strings.Contains(k.op, w) || strings.Contains(k.id, w) {
				t.Errorf("a poke carries %q: %+v", w, k)
			}
		}
	}
}

// A person's message while their case waits changes the boards that show it (how many
// messages wait): the desks are poked to read them again.
func TestDeskPokedWhenAWaitingPersonWrites(t *testing.T) {
	f := setup(t)
	pokes := pokedDesk(t, f, nil)
	op2 := opOf(t, f, "op2")
	id := f.open(t, "9581", "fr", 1)
	runQueue(t, f, func() bool { return len(pokes.of("op2", id)) > 0 })
	pokes.take()
	f.relay(t, id, bot.Message{Text: "allô ?"}, "")
	if s, _ := summaryOf(boardOf(t, f, op2), id); s.Waiting != 1 {
		t.Fatalf("the board shows %d messages waiting; want 1", s.Waiting)
	}
	if got := pokes.take(); !slices.ContainsFunc(got, func(k poke) bool { return k.id == id && (k.op == "" || k.op == "op2") }) {
		t.Errorf("a person's message while waiting changed op2's board, but the pokes were %v; want one about case %s", got, id)
	}
}

// A counsellor with no telegram_id works at the desk alone: notified there (poked), claims,
// writes; the person's photo cannot be copied to a desk, so it shows as a line of the
// transcript and the person is asked to write it in words.
func TestDeskOnlyCounsellor(t *testing.T) {
	f := setup(t)
	f.rosterPtr = boardRoster(t, deskOnlyLine, deskOnlyShift)
	dora := opOf(t, f, "dora")
	if dora.Address != (roster.Address{Channel: roster.Desk, ID: "dora"}) {
		t.Fatalf("the desk-only counsellor's address is %v; want the desk", dora.Address)
	}
	desk := &deskPhones{}
	pokes := pokedDesk(t, f, map[string]handoff.Phones{"telegram": f.ops, roster.Desk: desk})
	ctx := context.Background()

	id := f.open(t, "9591", "fr", 1)
	runQueue(t, f, func() bool { return len(pokes.of("dora", id)) > 0 })
	if ring, _ := rang(pokes.of("dora", id)); !ring {
		t.Errorf("the desk-only counsellor's desk was not rung for the new case: %v", pokes.of("dora", id))
	}
	if s, ok := summaryOf(boardOf(t, f, dora), id); !ok || s.State != "waiting" || s.Interpreter {
		t.Errorf("the desk-only counsellor's board: %+v (there %v); want the case waiting, no interpreter", s, ok)
	}
	mustOK(t, "claim at the desk")(f.desk.Claim(ctx, dora, id))
	if got, want := f.ppl.last("9591").Text, rendered(t, "fr", "handoff_claimed", map[string]any{"Alias": "Dora (EKKA)"}); got != want {
		t.Errorf("the person was told %q; want %q", got, want)
	}
	mustOK(t, "write")(f.desk.Write(ctx, dora, id, "Bonjour, je suis là."))
	if got := f.ppl.last("9591").Text; got != "Dora (EKKA):\nBonjour, je suis là." {
		t.Errorf("the person got %q", got)
	}
	pokes.take()

	f.relay(t, id, bot.Message{Text: "j'ai une photo du contrat"}, "")
	if ring, _ := rang(pokes.of("dora", id)); !ring {
		t.Errorf("the person's words did not ring the desk: %v", pokes.of("dora", id))
	}
	pokes.take()
	replies := f.relay(t, id, bot.Message{Media: "photo", Text: "mon contrat", ChatID: "9591", MsgID: "41"}, "")
	if want := rendered(t, "fr", "handoff_media_failed", nil); len(replies) != 1 || replies[0].Text != want {
		t.Errorf("the person was answered %v; want told it was not passed on: %q", replies, want)
	}
	if len(f.ops.copies) != 0 || len(desk.copies) != 0 {
		t.Errorf("the photo was copied: Telegram %v, desk %v; want nowhere", f.ops.copies, desk.copies)
	}
	v := view(t, f, dora, id)
	got := lineTexts(v.Lines)
	want := []string{"counsellor|Δώρα|Bonjour, je suis là.", "person||j'ai une photo du contrat", "media||📎 φωτογραφία · photo mon contrat"}
	if !slices.Equal(got, want) {
		t.Errorf("the transcript:\n%q\nwant\n%q", got, want)
	}
	if v.Summary.Waiting != 2 || !v.Summary.NeedsAnswer {
		t.Errorf("the case: waiting %d, needs answer %v; want 2, true", v.Summary.Waiting, v.Summary.NeedsAnswer)
	}
	if ring, _ := rang(pokes.of("dora", id)); !ring {
		t.Error("the photo did not ring the desk")
	}
	f.ops.mu.Lock()
	_, toTelegram := f.ops.got["dora"]
	f.ops.mu.Unlock()
	if toTelegram {
		t.Error("something for the desk-only counsellor went to a Telegram chat")
	}
	mustOK(t, "close at the desk")(f.desk.Close(ctx, dora, id, "other", ""))
	invisible(t, f, dora, id, "a case the desk-only counsellor closed")
}

// A close of a case that is not there (closed a moment ago, in another tab or by the person
// leaving; or an id made up) is not a close: the desk must not show it done.
func TestDeskCloseOfNoCaseIsRefused(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	op1 := opOf(t, f, "op1")
	id := f.open(t, "9563", "en", 2)
	mustOK(t, "claim")(f.desk.Claim(ctx, op1, id))
	mustOK(t, "close")(f.desk.Close(ctx, op1, id, "information_given", ""))
	for _, tt := range []struct{ id, why string }{{id, "a case closed already"}, {"AAAAAAAA", "an id of no case"}} {
		res, err := f.desk.Close(ctx, op1, tt.id, "other", "")
		if err != nil || res.OK {
			t.Errorf("Close of %s: %+v, %v; want ok false", tt.why, res, err)
		}
	}
}

// A case given back shows as waiting for no message: what its person wrote while it first
// waited was answered by the counsellor who had it.
func TestBoardWaitingCountsOnlyUnansweredMessages(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	op1, op2 := opOf(t, f, "op1"), opOf(t, f, "op2")
	id := f.open(t, "9516", "el", 1)
	f.relay(t, id, bot.Message{Text: "γεια"}, "")
	f.relay(t, id, bot.Message{Text: "υπάρχει κανείς;"}, "")
	if s, _ := summaryOf(boardOf(t, f, op2), id); s.Waiting != 2 {
		t.Fatalf("while waiting, the board shows %d messages; want 2", s.Waiting)
	}
	mustOK(t, "claim")(f.desk.Claim(ctx, op1, id))
	mustOK(t, "write")(f.desk.Write(ctx, op1, id, "Καλησπέρα, σας ακούω."))
	mustOK(t, "release")(f.desk.Release(ctx, op1, id, "shift"))
	b := boardOf(t, f, op2)
	if s, _ := summaryOf(b, id); s.State != "waiting" || s.Waiting != 0 {
		t.Errorf("the released case: state %q, waiting %d; want waiting, 0 (both messages were answered)", s.State, s.Waiting)
	}
	f.relay(t, id, bot.Message{Text: "πού πήγατε;"}, "")
	if s, _ := summaryOf(boardOf(t, f, op2), id); s.Waiting != 1 {
		t.Errorf("after one more message, the released case shows %d waiting; want 1", s.Waiting)
	}
}

// A supervisor's assign and a colleague's claim of the same waiting case at the same moment
// (the supervisor's board still showed it waiting): one of them has it in the end, the other
// cannot write to it, and a counsellor told "you have it" who does not is told it went on.
func TestDeskAssignRacingAClaim(t *testing.T) {
	f := setup(t)
	f.rosterPtr = boardRoster(t, supervisorLine, "", "max_cases: 1}", "max_cases: 60}")
	ctx := context.Background()
	op2, op3, sup := opOf(t, f, "op2"), opOf(t, f, "op3"), opOf(t, f, "sup")
	mustOK(t, "op3 on duty")(f.desk.SetDuty(ctx, op3, true))
	other := newDesk(t, f.r, f, "b")
	for i := range 30 {
		chat := fmt.Sprint(9700 + i)
		id := f.open(t, chat, "el", 2)
		start := make(chan struct{})
		var wg sync.WaitGroup
		var assigned, claimed handoff.Result
		var aErr, cErr error
		wg.Go(func() { <-start; assigned, aErr = f.desk.Transfer(ctx, sup, id, "op3", "") })
		wg.Go(func() { <-start; claimed, cErr = other.Claim(ctx, op2, id) })
		close(start)
		wg.Wait()
		if aErr != nil || cErr != nil {
			t.Fatalf("run %d: %v, %v", i, aErr, cErr)
		}
		if !assigned.OK && !claimed.OK {
			t.Errorf("run %d: neither the assign (%q) nor the claim (%q) was done", i, assigned.Message, claimed.Message)
			continue
		}
		holder, loser := op2, op3
		if v, err := f.desk.ViewCase(ctx, op3, id); err == nil && v.CanWrite {
			holder, loser = op3, op2
		}
		if !view(t, f, holder, id).CanWrite {
			t.Errorf("run %d: nobody holds the case", i)
		}
		invisible(t, f, loser, id, fmt.Sprintf("run %d, %s, who does not have it", i, loser.ID))
		if claimed.OK && holder.ID == "op3" && !strings.Contains(f.ops.texts("502"), "↪ ["+id+"]") {
			t.Errorf("run %d: op2 was told the case is theirs and never told it went to op3", i)
		}
		// (The order the person hears names in, and the claim's answer, are
		// TestDeskReassignDuringAClaim's: here the moment varies.)
		if names := namesTold(f, chat); holder.ID == "op2" && len(names) != 1 {
			t.Errorf("run %d: the claim won, and the person was told of %q", i, names)
		}
	}
}

// namesTold are the counsellors a Greek-speaking person was told are here now, in order.
func namesTold(f *fixture, chat string) (names []string) {
	f.ppl.mu.Lock()
	defer f.ppl.mu.Unlock()
	for _, r := range f.ppl.got[chat] {
		for _, n := range []string{"Σύμβουλος ΕΚΚΑ 1", "Σύμβουλος ΕΚΚΑ 2", "Σύμβουλος ΕΚΚΑ 3"} {
			if strings.Contains(r.Text, "«"+n+"», είναι τώρα εδώ") {
				names = append(names, n)
			}
		}
	}
	return names
}

// gate holds a message to people that contains hold until it is let go: the moment between
// a claim's win in Redis and its word to the person.
type gate struct {
	*inbox
	hold           string
	entered, letGo chan struct{}
	once           sync.Once
}

func (g *gate) Send(ctx context.Context, chat string, rs []bot.Reply) error {
	if strings.Contains(texts(rs), g.hold) {
		g.once.Do(func() { close(g.entered); <-g.letGo })
	}
	return g.inbox.Send(ctx, chat, rs)
}

// A supervisor reassigns a case at the moment a colleague's claim of it won, before that claim
// told the person who is here (their board still showed it waiting). Whoever has the case in
// the end, the last name the person was told is theirs, and a counsellor told "you have this
// case" has it.
func TestDeskReassignDuringAClaim(t *testing.T) {
	f := setup(t)
	f.rosterPtr = boardRoster(t, supervisorLine, "")
	g := &gate{inbox: f.ppl, hold: "«Σύμβουλος ΕΚΚΑ 2»", entered: make(chan struct{}), letGo: make(chan struct{})}
	deskReaching(t, f, nil, g)
	ctx := context.Background()
	op2, op3, sup := opOf(t, f, "op2"), opOf(t, f, "op3"), opOf(t, f, "sup")
	mustOK(t, "op3 on duty")(f.desk.SetDuty(ctx, op3, true))
	id := f.open(t, "9801", "el", 2)

	var claimed handoff.Result
	var claimErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		claimed, claimErr = f.desk.Claim(ctx, op2, id)
	}()
	select {
	case <-g.entered: // op2's claim won, and is telling the person
	case <-time.After(3 * time.Second):
		close(g.letGo)
		t.Fatal("the claim never told the person")
	}
	assigned, err := f.desk.Transfer(ctx, sup, id, "op3", "")
	close(g.letGo)
	<-done
	if err != nil || claimErr != nil {
		t.Fatal(err, claimErr)
	}
	holder := op2
	if v, err := f.desk.ViewCase(ctx, op3, id); err == nil && v.CanWrite {
		holder = op3
	}
	t.Logf("assign: %+v; claim: %+v; holder %s", assigned, claimed, holder.ID)
	if names := namesTold(f, "9801"); len(names) == 0 || names[len(names)-1] != holder.AliasIn("el") {
		t.Errorf("the person was told of %q, in this order; %s has the case and writes to them", names, holder.AliasIn("el"))
	}
	if holder.ID != op2.ID && claimed.OK {
		t.Errorf("op2's claim came back ok, but op3 has the case")
	}
	if !claimed.OK && strings.Contains(claimed.Message, "Ανέλαβες") {
		t.Errorf("op2's claim came back ok false, saying %q", claimed.Message)
	}
}

// A supervisor reassigns one of op1's two cases: op1's next words on Telegram, typed for the
// reassigned case's person without a reply, wait for op1 to say which case: they never go to
// the case op1 is left with.
func TestDeskReassignLeavesNoCaseToWriteToUnasked(t *testing.T) {
	f := setup(t)
	f.rosterPtr = boardRoster(t, supervisorLine, "")
	ctx := context.Background()
	sup := opOf(t, f, "sup")
	a, b := f.open(t, "9601", "en", 2), f.open(t, "9602", "en", 2)
	f.act(t, 501, bot.Message{Text: "/claim " + a})
	f.act(t, 501, bot.Message{Text: "/claim " + b})
	mustOK(t, "reassign")(f.desk.Transfer(ctx, sup, a, "op2", "op1"))
	before := f.ppl.texts("9602")
	f.act(t, 501, bot.Message{Text: "Are you safe? Is he near you? (meant for A)"})
	if now := f.ppl.texts("9602"); now != before {
		t.Errorf("op1's words meant for %s reached the person of %s:\n%s", a, b, strings.TrimPrefix(now, before))
	}
}

// op1's person stops; a supervisor assigns op1 another case at once. op1's next words, typed
// for the first person without a reply, do not reach the person of the case assigned.
func TestDeskAssignLeavesNoCaseToWriteToUnasked(t *testing.T) {
	f := setup(t)
	f.rosterPtr = boardRoster(t, supervisorLine, "")
	ctx := context.Background()
	sup := opOf(t, f, "sup")
	x, y := f.open(t, "9641", "en", 2), f.open(t, "9642", "en", 2)
	f.act(t, 501, bot.Message{Text: "/claim " + x})
	f.act(t, 501, bot.Message{Text: "hello X"})
	if err := f.desk.Leave(ctx, x, false); err != nil {
		t.Fatal(err)
	}
	mustOK(t, "assign")(f.desk.Transfer(ctx, sup, y, "op1", ""))
	before := f.ppl.texts("9642")
	f.act(t, 501, bot.Message{Text: "words typed for X"})
	if now := f.ppl.texts("9642"); now != before {
		t.Errorf("op1's words for X reached Y's person:\n%s", strings.TrimPrefix(now, before))
	}
}

// The duress word in a claimed case shows at the desk, and outweighs a later emergency word.
func TestDeskShowsTheDuressWord(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	op1 := opOf(t, f, "op1")
	id := f.open(t, "9621", "en", 1)
	mustOK(t, "claim")(f.desk.Claim(ctx, op1, id))
	f.relay(t, id, bot.Message{Text: "blue tulip"}, "duress")
	if v := view(t, f, op1, id); !v.Summary.Duress || v.Summary.Alert != "duress" {
		t.Errorf("after the duress word in a claimed case: duress %v, alert %q; want both", v.Summary.Duress, v.Summary.Alert)
	}
	f.now = f.now.Add(2 * time.Minute)
	f.relay(t, id, bot.Message{Text: "help"}, "emergency")
	if v := view(t, f, op1, id); !v.Summary.Duress || v.Summary.Alert != "duress" {
		t.Errorf("after an emergency word too: duress %v, alert %q; want the duress word still", v.Summary.Duress, v.Summary.Alert)
	}
}

// A close cut short (its instance died after the closing mark) is finished from the desk a
// minute later, as Telegram's confirmation can: no case stuck in "closing".
func TestDeskFinishesAHalfDoneClose(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	op1 := opOf(t, f, "op1")
	id := f.open(t, "9631", "en", 1)
	mustOK(t, "claim")(f.desk.Claim(ctx, op1, id))
	f.r.Client.HSet(ctx, f.r.Prefix+":{c:"+id+"}:case", "state", "closing", "closing", f.now.UnixMilli())
	f.now = f.now.Add(2 * time.Minute)
	mustOK(t, "close")(f.desk.Close(ctx, op1, id, "other", ""))
	if _, ok := summaryOf(boardOf(t, f, op1), id); ok {
		t.Error("the case is still on the board after the close")
	}
}

// A case read at the moment it closes (its key gone first) is "no such case", not a technical
// problem.
func TestDeskViewOfACaseClosing(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	op1 := opOf(t, f, "op1")
	id := f.open(t, "9661", "en", 1)
	mustOK(t, "claim")(f.desk.Claim(ctx, op1, id))
	f.r.Client.Del(ctx, f.r.Prefix+":{c:"+id+"}:key")
	if _, err := f.desk.ViewCase(ctx, op1, id); !errors.Is(err, handoff.ErrNotVisible) {
		t.Errorf("ViewCase: %v; want ErrNotVisible", err)
	}
}
