package handoff_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/locales"
)

// A busy shift, as a review tried it: cases ending under a counsellor's hands, the duress word,
// an unreachable phone, Redis down, floods, races between instances.

// When a counsellor's second case ends without them doing it (the person stopped, the watchdog
// took it), words that reply to nothing are not sent to the case that is left: they may be
// meant for the one that ended.
func TestWordsAfterACaseEndsUnderTheCounsellorAsk(t *testing.T) {
	for _, how := range []string{"the person stops", "the watchdog takes it"} {
		t.Run(how, func(t *testing.T) {
			f := setup(t)
			a, b := f.open(t, "9911", "en", 2), f.open(t, "9912", "en", 2)
			f.act(t, 501, bot.Message{Button: "claim:" + a})
			f.act(t, 501, bot.Message{Button: "claim:" + b})
			switch how {
			case "the person stops":
				if err := f.desk.Leave(context.Background(), b, false); err != nil {
					t.Fatal(err)
				}
			default:
				f.relay(t, a, bot.Message{Text: "a writes"}, "")
				f.relay(t, b, bot.Message{Text: "b writes"}, "")
				for range 2 {
					f.act(t, 501, bot.Message{Text: "to A", ReplyTo: f.ops.idOf("501", "a writes")})
					f.tick(16 * time.Minute)
				}
			}
			out := f.act(t, 501, bot.Message{Text: "advice meant for B"})
			if strings.Contains(f.ppl.texts("9911"), "meant for B") {
				t.Fatalf("words meant for %s reached the person of %s", b, a)
			}
			if len(out) != 1 || len(out[0].Buttons) != 1 {
				t.Errorf("the counsellor was answered %+v; want a button for the case left", out)
			}
			// Once they choose, the one case takes their words.
			f.act(t, 501, bot.Message{Button: out[0].Buttons[0].Data})
			f.act(t, 501, bot.Message{Text: "now for A"})
			if !strings.HasSuffix(f.ppl.last("9911").Text, "now for A") {
				t.Errorf("after the choice, the words did not go to the case left: %q", f.ppl.last("9911").Text)
			}
		})
	}
}

// After the duress word, Faros never writes to the person first: not the watchdog's give-back,
// not the ladder's "nobody could answer", not a claim's "X is here".
func TestNothingFirstAfterTheDuressWord(t *testing.T) {
	f := setup(t)
	claimed, waiting := f.open(t, "9921", "en", 1), f.open(t, "9931", "en", 1)
	f.act(t, 501, bot.Message{Button: "claim:" + claimed})
	f.act(t, 501, bot.Message{Text: "hello, I'm here"})
	f.relay(t, claimed, bot.Message{Text: "sunflower"}, "duress")
	f.relay(t, waiting, bot.Message{Text: "sunflower"}, "duress")
	before := map[string]string{"9921": f.ppl.texts("9921"), "9931": f.ppl.texts("9931")}
	for range 8 {
		f.tick(5 * time.Minute)
	}
	f.act(t, 502, bot.Message{Button: "claim:" + waiting})
	for chat, was := range before {
		if now := f.ppl.texts(chat); now != was {
			t.Errorf("after the duress word, person %s got unprompted:\n%s", chat, strings.TrimPrefix(now, was))
		}
	}
	if got := f.ops.texts("501") + f.ops.texts("502"); !strings.Contains(got, "ΔΕΝ ενημερώθηκε") {
		t.Errorf("the counsellors were not told the person was not told:\n%s", got)
	}
}

// A case that expired while held does not count against the counsellor's limit.
func TestExpiredCasesDoNotFillTheLimit(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	a, b := f.open(t, "9941", "en", 2), f.open(t, "9942", "en", 2)
	f.act(t, 501, bot.Message{Button: "claim:" + a})
	f.act(t, 501, bot.Message{Button: "claim:" + b})
	for _, id := range []string{a, b} { // as Retention would
		f.r.Client.Del(ctx, f.r.Prefix+":{c:"+id+"}:case", f.r.Prefix+":{c:"+id+"}:key")
	}
	c := f.open(t, "9943", "en", 2)
	if out := texts(f.act(t, 501, bot.Message{Button: "claim:" + c})); !strings.Contains(out, "Ανέλαβες") {
		t.Errorf("a counsellor holding no live case was refused: %q", out)
	}
}

// Two presses of a close confirmation, on two instances: one goodbye.
func TestOneCloseOnly(t *testing.T) {
	for i := range 20 {
		f := setup(t)
		id := f.open(t, "9951", "en", 2)
		f.act(t, 501, bot.Message{Button: "claim:" + id})
		f.relay(t, id, bot.Message{Text: "hi"}, "")
		var wg sync.WaitGroup
		for j, d := range []*handoff.Desk{f.desk, newDesk(t, f.r, f, "b")} {
			wg.Go(func() {
				_, _ = d.Route(nobody{t}).Handle(context.Background(), bot.Message{Channel: "telegram", ChatID: "501",
					ID: fmt.Sprint(i, j), Button: "closeok:" + id + ":information_given"})
			})
		}
		wg.Wait()
		if n := strings.Count(f.ppl.texts("9951"), "Thank you for writing"); n != 1 {
			t.Fatalf("run %d: the person got %d goodbyes; want 1", i, n)
		}
	}
}

// An emergency in a claimed case makes it urgent: the watchdog keeps tier 3's time.
func TestAnEmergencyInAClaimedCaseIsUrgent(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9961", "en", 1)
	f.act(t, 501, bot.Message{Button: "claim:" + id})
	f.act(t, 501, bot.Message{Text: "hello"})
	f.relay(t, id, bot.Message{Text: "he is coming with a knife"}, "emergency")
	f.tick(6 * time.Minute)
	if !strings.Contains(f.ops.texts("501"), "⏰") {
		t.Error("six minutes after an emergency in a claimed case, no reminder: the case stayed tier 1")
	}
}

// phones fails every send to one chat, as Telegram does for a counsellor who blocked the bot.
type phones struct {
	*inbox
	fail string
}

func (p *phones) Send(ctx context.Context, chat string, rs []bot.Reply) error {
	if chat == p.fail {
		return fmt.Errorf("telegram: send: message given up (blocked): Forbidden")
	}
	return p.inbox.Send(ctx, chat, rs)
}

func catalog(t *testing.T) func() *locales.Catalog {
	cat, err := locales.Load(locales.Files)
	if err != nil {
		t.Fatal(err)
	}
	return func() *locales.Catalog { return cat }
}

// A claimer whose phone cannot be reached does not keep the case: it goes to the others at
// once, with the person's words in it, and the person is told.
func TestAnUnreachableCounsellorsCaseGoesOn(t *testing.T) {
	f := setup(t)
	p := &phones{inbox: f.ops}
	d, err := handoff.New(handoff.Config{Redis: f.r.Client, Prefix: f.r.Prefix, Secret: []byte("desk test secret"),
		Roster: func() *roster.Roster { return f.rosterPtr }, Operators: map[string]handoff.Phones{"telegram": p}, People: map[string]bot.Sender{"telegram": f.ppl},
		Conversations: f.convs, Catalog: catalog(t), Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.desk, f.ops.sent = d, sentOn(d, "telegram")
	id := f.open(t, "9971", "en", 1)
	f.act(t, 501, bot.Message{Button: "claim:" + id})
	p.fail = "501"
	r := f.relay(t, id, bot.Message{Text: "are you there?"}, "")
	if len(r) != 1 || !strings.Contains(r[0].Text, "had to leave") {
		t.Errorf("the person was answered %v; want told another counsellor will write", r)
	}
	if got := f.ops.texts("502"); !strings.Contains(got, "δεν ήταν διαθέσιμος/η (το Telegram του/της") {
		t.Fatalf("op2 was not given the case:\n%s", got)
	}
	if claim := texts(f.act(t, 502, bot.Message{Button: "claim:" + id})); !strings.Contains(claim, "are you there?") {
		t.Errorf("the next claimer does not read the words:\n%s", claim)
	}
}

// With Redis down, a counsellor's words or command are answered: they did not go through.
func TestRedisDownTheCounsellorIsTold(t *testing.T) {
	f := setup(t)
	if f.r.Cluster {
		t.Skip("the proxy that cuts Redis serves a single node")
	}
	p, c := f.r.ProxyClient(t)
	d, err := handoff.New(handoff.Config{Redis: c, Prefix: f.r.Prefix, Secret: []byte("desk test secret"),
		Roster: func() *roster.Roster { return f.rosterPtr }, Operators: map[string]handoff.Phones{"telegram": f.ops}, People: map[string]bot.Sender{"telegram": f.ppl},
		Conversations: f.convs, Catalog: catalog(t), Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.desk = d
	id := f.open(t, "9981", "en", 1)
	f.act(t, 501, bot.Message{Button: "claim:" + id})
	p.Cut()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rs, err := d.Route(nobody{t}).Handle(ctx, bot.Message{Channel: "telegram", ChatID: "501", ID: "x1", Text: "Are you safe?"})
	if err != nil || len(rs) != 1 || !strings.Contains(rs[0].Text, "did NOT go through") {
		t.Errorf("words with Redis down: %v, %v; want the counsellor told", rs, err)
	}
}

// A flood while waiting reaches the claimer as the newest lines, not hundreds of messages.
func TestTheTranscriptIsCapped(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9991", "en", 1)
	for i := range 300 {
		f.relay(t, id, bot.Message{Text: fmt.Sprint(i, " ", strings.Repeat("x", 1000))}, "")
	}
	rs := f.act(t, 501, bot.Message{Button: "claim:" + id})
	last := rs[len(rs)-1].Text
	if len(last) > 16_000 || !strings.Contains(last, "299 x") || !strings.Contains(last, "παλαιότερα μηνύματα") {
		t.Errorf("the transcript: %d bytes, newest line there %v, earlier ones counted %v", len(last),
			strings.Contains(last, "299 x"), strings.Contains(last, "παλαιότερα"))
	}
}

// A command sent as a reply to a message of a case that closed acts on no other case.
func TestACommandRepliedToAClosedCaseAsks(t *testing.T) {
	f := setup(t)
	a, b := f.open(t, "9995", "en", 1), f.open(t, "9996", "en", 1)
	f.act(t, 501, bot.Message{Button: "claim:" + a})
	f.act(t, 501, bot.Message{Button: "claim:" + b})
	f.relay(t, b, bot.Message{Text: "B speaks"}, "")
	said := f.ops.idOf("501", "B speaks")
	if err := f.desk.Leave(context.Background(), b, false); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"/release", "/note B's trafficker has a red car"} {
		if out := texts(f.act(t, 501, bot.Message{Text: cmd, ReplyTo: said})); !strings.Contains(out, "Ποια υπόθεση;") {
			t.Errorf("%s replying to a closed case: %q", cmd, out)
		}
	}
	if strings.Contains(f.ppl.texts("9995"), "had to leave") {
		t.Error("the other case was released")
	}
}

// A release racing a Claim button on another instance: the case ends up with one counsellor,
// in the right schedule, and its person is never told "had to leave" after "is here now".
func TestAReleaseRacingAClaim(t *testing.T) {
	for i := range 30 {
		f := setup(t)
		id := f.open(t, "9997", "en", 1)
		f.act(t, 501, bot.Message{Button: "claim:" + id})
		other := newDesk(t, f.r, f, "b")
		var wg sync.WaitGroup
		wg.Go(func() {
			_, _ = f.desk.Route(nobody{t}).Handle(context.Background(), bot.Message{Channel: "telegram", ChatID: "501", ID: "r", Text: "/release " + id})
		})
		wg.Go(func() {
			for k := range 50 {
				rs, _ := other.Route(nobody{t}).Handle(context.Background(), bot.Message{Channel: "telegram", ChatID: "502", ID: fmt.Sprint("c", k), Button: "claim:" + id})
				if strings.Contains(texts(rs), "Ανέλαβες") {
					return
				}
			}
		})
		wg.Wait()
		ctx := context.Background()
		state, _ := f.r.Client.HGet(ctx, f.r.Prefix+":{c:"+id+"}:case", "state").Result()
		waiting := f.r.Client.ZScore(ctx, f.r.Prefix+":handoff:waiting", id).Err() == nil
		watched := f.r.Client.ZScore(ctx, f.r.Prefix+":handoff:silent", id).Err() == nil
		if state == "claimed" && (waiting || !watched) {
			t.Fatalf("run %d: claimed, but waiting %v, watched %v", i, waiting, watched)
		}
	}
}

// A frightened person repeating "sos" while waiting rings each counsellor once a minute, not
// once a message.
func TestRepeatedCallsDoNotFloodThePhones(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9998", "en", 1)
	for range 10 {
		f.relay(t, id, bot.Message{Text: "sos"}, "emergency")
	}
	packets := slices.DeleteFunc(slices.Clone(f.ops.got["501"]), func(r bot.Reply) bool { return !strings.Contains(r.Text, "Αναμονή") })
	if len(packets) > 2 {
		t.Errorf("10 calls in a minute sent op1 %d packets; want the first alert only", len(packets))
	}
}

// Messages about a case that the channel sends after the case closed are deleted at once, and
// leave nothing in Redis.
func TestMessagesSentAfterACaseClosedGo(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	id := f.open(t, "9999", "en", 1)
	rs, err := f.desk.Route(nobody{t}).Handle(ctx, bot.Message{Channel: "telegram", ChatID: "501", Button: "claim:" + id})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.desk.Leave(ctx, id, true); err != nil { // the person wipes while the claim's replies wait
		t.Fatal(err)
	}
	_ = f.ops.Send(ctx, "501", rs) // now Telegram takes them; the channel reports their ids
	f.desk.Wait()
	if n := f.r.Client.Exists(ctx, f.r.Prefix+":{c:"+id+"}:phones").Val(); n != 0 {
		t.Error("a closed case's key came back")
	}
	if len(f.ops.deleted["501"]) < len(rs) {
		t.Errorf("deleted %v; want the %d late messages", f.ops.deleted["501"], len(rs))
	}
}

// A counsellor who edits a message is told the edit does not reach the person.
func TestEditsAreToldToNotReach(t *testing.T) {
	f := setup(t)
	out := f.act(t, 501, bot.Message{Text: "the corrected address", Edited: true})
	if len(out) != 1 || !strings.Contains(out[0].Text, "Edits do not reach the person") {
		t.Errorf("an edit: %+v", out)
	}
}

// A case being closed cannot be claimed; a close that stopped halfway can be done again by its
// counsellor a minute later, and shows in their /cases meanwhile.
func TestAClosingCase(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	id := f.open(t, "9401", "en", 1)
	f.act(t, 501, bot.Message{Button: "claim:" + id})
	f.relay(t, id, bot.Message{Text: "hi"}, "")
	f.r.Client.HSet(ctx, f.r.Prefix+":{c:"+id+"}:case", "state", "closing", "closing", f.now.UnixMilli()) // as if the instance died mid-close
	if out := texts(f.act(t, 502, bot.Message{Button: "claim:" + id})); !strings.Contains(out, "There is no open case") {
		t.Errorf("an old Claim button on a closing case: %q", out)
	}
	if out := texts(f.act(t, 501, bot.Message{Text: "/cases"})); !strings.Contains(out, "["+id+"]") {
		t.Errorf("/cases hides the case that did not finish closing: %q", out)
	}
	if out := texts(f.act(t, 501, bot.Message{Button: "closeok:" + id + ":other"})); !strings.Contains(out, "κλείνει ήδη") {
		t.Errorf("a second press at once: %q", out)
	}
	f.now = f.now.Add(2 * time.Minute)
	if out := texts(f.act(t, 501, bot.Message{Button: "closeok:" + id + ":other"})); !strings.Contains(out, "Έκλεισε") {
		t.Errorf("closing again after the close stopped halfway: %q", out)
	}
}

// A graver call is sent even right after a lesser one.
func TestAGraverCallIsNeverHeldBack(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9402", "fr", 1)
	f.relay(t, id, bot.Message{Text: "aide"}, "help")
	f.now = f.now.Add(20 * time.Second)
	f.relay(t, id, bot.Message{Text: "tournesol"}, "duress")
	if got := f.ops.texts("502"); !strings.Contains(got, "ΚΡΥΦΟ ΣΗΜΑ") {
		t.Errorf("the duress word 20 s after a call for help did not reach the counsellor:\n%s", got)
	}
}

// After the duress word: the packet says so to whoever reads it; the close confirmation says
// no goodbye goes; the watchdog reminds once and never takes the case away.
func TestAfterTheDuressWordTheCounsellorKnows(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9403", "en", 3)
	f.act(t, 501, bot.Message{Button: "claim:" + id})
	f.relay(t, id, bot.Message{Text: "sunflower"}, "duress")
	for range 6 {
		f.tick(5 * time.Minute)
	}
	if got := strings.Count(f.ops.texts("501"), "⏰"); got != 1 || !strings.Contains(f.ops.texts("501"), "η υπόθεση μένει σε σένα") {
		t.Errorf("%d reminders after the duress word; want one, saying the case stays", got)
	}
	if out := texts(f.act(t, 501, bot.Message{Text: "/close " + id + " other"})); !strings.Contains(out, "έγραψε το κρυφό σήμα, οπότε δεν θα πάρει μήνυμα") {
		t.Errorf("the confirmation after the duress word: %q", out)
	}
	f.act(t, 501, bot.Message{Text: "/release " + id})
	if claim := texts(f.act(t, 502, bot.Message{Button: "claim:" + id})); !strings.Contains(claim, "⚠⚠ ΚΡΥΦΟ ΣΗΜΑ: το άτομο το έγραψε") {
		t.Errorf("the next claimer is not told of the duress word:\n%s", claim)
	}
}
