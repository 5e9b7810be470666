package handoff_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/handoff/roster"
)

// backNotice is the English half of the line that heads a case whose counsellor left the roster.
const backNotice = "its counsellor left the roster"

// rosterWithout is the test roster without operator id, as its file would be edited.
func rosterWithout(t *testing.T, id string) *roster.Roster {
	t.Helper()
	src := regexp.MustCompile(`(?m)^.*(id|operator): `+id+`\b.*\n`).ReplaceAllString(rosterYAML, "")
	ros, err := roster.Parse("roster.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return ros
}

// count returns how many messages chat got that contain all of subs.
func (b *inbox) count(chat string, subs ...string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, r := range b.got[chat] {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(r.Text, s)
		}
		if all {
			n++
		}
	}
	return n
}

func (b *inbox) len(chat string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.got[chat])
}

// A removed operator's case goes back to everyone on call at once, urgent for tier 3, with a
// line saying why; the person is told; the next operator claims it and hears the person.
func TestRosterReloadedGivesBackARemovedOperatorsCases(t *testing.T) {
	for _, tier := range []int{2, 3} {
		t.Run(fmt.Sprint("tier ", tier), func(t *testing.T) {
			f := setup(t)
			ctx := context.Background()
			id := f.open(t, "9101", "en", tier)
			f.operator(t, 503, "/duty on", "") // two on call once op1 is gone: op2 and op3
			f.operator(t, 501, "/duty on", "")
			f.operator(t, 501, "/claim "+id, "")
			toOp1 := f.ops.len("501")

			previous := f.rosterPtr
			f.rosterPtr = rosterWithout(t, "op1")
			f.desk.RosterReloaded(ctx, previous)

			for _, tg := range []string{"502", "503"} {
				got := f.ops.last(tg)
				if !strings.Contains(got.Text, backNotice) || !strings.Contains(got.Text, "["+id+"]") {
					t.Errorf("operator %s got %q; want case %s with the notice %q", tg, got.Text, id, backNotice)
				}
				if got.Urgent != (tier >= 3) {
					t.Errorf("operator %s got it urgent %v; want %v for tier %d", tg, got.Urgent, tier >= 3, tier)
				}
				if len(got.Buttons) != 1 || got.Buttons[0].Data != "claim:"+id {
					t.Errorf("operator %s got buttons %v; want one Claim of %s", tg, got.Buttons, id)
				}
			}
			if got := f.ops.len("501"); got != toOp1 {
				t.Errorf("the removed operator got %d more messages; want none", got-toOp1)
			}
			if got := f.ppl.last("9101").Text; !strings.Contains(got, "The counsellor had to leave the conversation") {
				t.Errorf("the person was told %q; want handoff_released", got)
			}
			if out := f.operator(t, 502, "/cases", ""); !strings.Contains(out, fmt.Sprintf("[%s] επίπεδο/tier %d · Αγγλικά · αναμονή", id, tier)) {
				t.Errorf("/cases: got %q; want %s waiting", out, id)
			}
			for _, kind := range []string{"cases", "held", "duty:2026-11-26"} {
				if n := f.r.Client.Exists(ctx, f.r.Prefix+":op:op1:"+kind).Val(); n != 0 {
					t.Errorf("the removed operator's key %s remains", kind)
				}
			}
			if audit := auditTrail(t, f); !strings.Contains(audit, "reason:operator_removed") {
				t.Errorf("the audit lacks the release for operator_removed:\n%s", audit)
			}

			if out := f.operator(t, 502, "/claim "+id, ""); !strings.Contains(out, "["+id+"] Ανέλαβες την υπόθεση") {
				t.Fatalf("the next operator's claim: got %q; want it claimed", out)
			}
			if _, ok, err := f.desk.Relay(ctx, id, bot.Message{Text: "are you still there?"}, ""); !ok || err != nil {
				t.Fatalf("Relay: got %v, %v; want ok", ok, err)
			}
			if got := f.ops.last("502").Text; got != "["+id+"] are you still there?" {
				t.Errorf("the new operator got %q; want the person's words", got)
			}
			if got := f.ops.len("501"); got != toOp1 {
				t.Errorf("the removed operator got %d more messages; want none", got-toOp1)
			}
		})
	}
}

// An instance that has the new roster before anyone called RosterReloaded gives the case back
// when the person writes: the person is answered, not left in silence, and their words are
// shown to whoever claims it. An emergency or the duress word makes it urgent on the way.
func TestRelayGivesBackACaseOfARemovedOperator(t *testing.T) {
	tests := []struct {
		name, alert string
		tier        int
	}{
		{"words", "", 1},
		{"emergency", "emergency", 3},
		{"duress", "duress", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			ctx := context.Background()
			id := f.open(t, "9102", "el", 1)
			f.operator(t, 501, "/claim "+id, "")
			f.desk.Relay(ctx, id, bot.Message{Text: "καλημέρα"}, "")
			toOp1 := f.ops.len("501")
			toPerson := f.ppl.len("9102")

			f.rosterPtr = rosterWithout(t, "op1") // and nobody called RosterReloaded
			replies, ok, err := f.desk.Relay(ctx, id, bot.Message{Text: "είσαι εκεί;"}, tt.alert)
			if err != nil || !ok {
				t.Fatalf("Relay: got %v, %v; want ok", ok, err)
			}
			switch {
			case tt.alert == "duress" && len(replies) != 0:
				t.Errorf("after the duress word the person was answered %v; want nothing", replies)
			case tt.alert != "duress" && (len(replies) != 1 || !strings.Contains(replies[0].Text, "χρειάστηκε να φύγει")):
				t.Errorf("the person was answered %v; want handoff_released", replies)
			}
			// The answer is Relay's: the bot keeps it back after a duress word.
			if got := f.ppl.len("9102"); got != toPerson {
				t.Errorf("the person was sent %d messages besides Relay's answer; want none", got-toPerson)
			}
			if got := f.ops.len("501"); got != toOp1 {
				t.Errorf("the removed operator got %d more messages; want none", got-toOp1)
			}
			got := f.ops.last("502")
			if want := fmt.Sprintf("[%s] επίπεδο %d", id, tt.tier); !strings.Contains(got.Text, want) || !strings.Contains(got.Text, backNotice) {
				t.Errorf("op2 got %q; want %q with the notice", got.Text, want)
			}
			if got.Urgent != (tt.tier >= 3) {
				t.Errorf("op2 got it urgent %v; want %v", got.Urgent, tt.tier >= 3)
			}

			claim := f.operator(t, 502, "/claim "+id, "")
			if !strings.Contains(claim, "Ανέλαβες") || !strings.Contains(claim, "είσαι εκεί;") {
				t.Errorf("the claim: got %q; want it claimed, with what the person wrote", claim)
			}
			f.desk.Relay(ctx, id, bot.Message{Text: "ναι"}, "")
			if got := f.ops.last("502").Text; got != "["+id+"] ναι" {
				t.Errorf("after the claim op2 got %q; want the person's words", got)
			}
		})
	}
}

// An operator claiming a case its removed operator still holds gets it, before any instance
// gave it back.
func TestClaimACaseOfARemovedOperator(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	id := f.open(t, "9103", "en", 2)
	f.operator(t, 501, "/claim "+id, "")
	toOp1 := f.ops.len("501")
	f.rosterPtr = rosterWithout(t, "op1")

	if out := f.operator(t, 502, "/claim "+id, ""); !strings.Contains(out, "["+id+"] Ανέλαβες την υπόθεση") {
		t.Fatalf("the claim: got %q; want it claimed", out)
	}
	if got := f.ppl.texts("9103"); !strings.Contains(got, "had to leave") || !strings.HasSuffix(got, "EKKA counsellor 2 is here now and will write to you in this chat. You can write your messages here. Type /stop to end at any time.") {
		t.Errorf("the person was told %q; want the release, then op2's claim", got)
	}
	f.desk.Relay(ctx, id, bot.Message{Text: "hello"}, "")
	if got := f.ops.last("502").Text; got != "["+id+"] hello" {
		t.Errorf("op2 got %q; want the person's words", got)
	}
	if got := f.ops.len("501"); got != toOp1 {
		t.Errorf("the removed operator got %d more messages; want none", got-toOp1)
	}
}

// Every instance calls RosterReloaded for the same change, some at once: each case goes back
// once, and the person and the operators are told once.
func TestRosterReloadedOnEveryInstance(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	ids := []string{f.open(t, "9104", "en", 2), f.open(t, "9105", "en", 3)}
	for _, id := range ids {
		f.operator(t, 501, "/claim "+id, "")
	}
	instances := []*handoff.Desk{f.desk, newDesk(t, f.r, f, "b"), newDesk(t, f.r, f, "c")}
	previous := f.rosterPtr
	f.rosterPtr = rosterWithout(t, "op1")
	var wg sync.WaitGroup
	for _, d := range instances {
		wg.Go(func() { d.RosterReloaded(ctx, previous) })
	}
	wg.Wait()
	f.desk.RosterReloaded(ctx, previous) // late, again

	audit := auditTrail(t, f)
	for i, id := range ids {
		if got := f.ops.count("502", backNotice, "["+id+"]"); got != 1 {
			t.Errorf("op2 got case %s back %d times; want once", id, got)
		}
		chat := []string{"9104", "9105"}[i]
		if got := f.ppl.count(chat, "had to leave"); got != 1 {
			t.Errorf("the person of case %s was told %d times; want once", id, got)
		}
		if got := strings.Count(audit, "event=released case="+id); got != 1 {
			t.Errorf("case %s was released %d times in the audit; want once", id, got)
		}
	}
}

// Operators still on the roster keep their cases, whatever else the new roster changed.
func TestRosterReloadedKeepsTheCasesOfThoseStillOnIt(t *testing.T) {
	tests := []struct {
		name   string
		roster func(t *testing.T, previous *roster.Roster) *roster.Roster
	}{
		{"another removed", func(t *testing.T, _ *roster.Roster) *roster.Roster { return rosterWithout(t, "op1") }},
		{"the same roster", func(_ *testing.T, previous *roster.Roster) *roster.Roster { return previous }},
		{"the same file read again", func(t *testing.T, _ *roster.Roster) *roster.Roster { return rosterWithout(t, "nobody") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			ctx := context.Background()
			other, kept := f.open(t, "9106", "en", 2), f.open(t, "9107", "fr", 2)
			f.operator(t, 501, "/claim "+other, "")
			f.operator(t, 502, "/claim "+kept, "")
			toPerson := f.ppl.len("9107")

			previous := f.rosterPtr
			f.rosterPtr = tt.roster(t, previous)
			f.desk.RosterReloaded(ctx, previous)

			if got := f.ops.count("502", "Υπόθεση "+kept); got != 0 {
				t.Errorf("op2 got their own case %s again %d times; want none", kept, got)
			}
			if got := f.ppl.len("9107"); got != toPerson {
				t.Errorf("the person of the kept case got %d messages; want none", got-toPerson)
			}
			if out := f.operator(t, 502, "/cases", ""); !strings.Contains(out, "["+kept+"] επίπεδο/tier 2 · Γαλλικά · δική σου") {
				t.Errorf("/cases: got %q; want %s still op2's", out, kept)
			}
			f.desk.Relay(ctx, kept, bot.Message{Text: "merci"}, "")
			if got := f.ops.last("502").Text; got != "["+kept+"] merci" {
				t.Errorf("op2 got %q; want the person's words", got)
			}
			if out := f.operator(t, 502, "d'accord", ""); out != "" {
				t.Errorf("op2's words answered %q", out)
			}
			if got := f.ppl.last("9107").Text; got != "Conseillère EKKA 2:\nd'accord" {
				t.Errorf("the person got %q; want op2's words", got)
			}
		})
	}
}

// The operators on call follow a new roster at once, not after the few seconds they are kept.
func TestOnCallFollowsANewRoster(t *testing.T) {
	f := setup(t)
	if got := f.desk.OnDuty(context.Background(), "sq"); got != 2 {
		t.Fatalf("OnDuty(sq) = %d; want 2", got)
	}
	f.rosterPtr = rosterWithout(t, "op1")
	if got := f.desk.OnDuty(context.Background(), "sq"); got != 1 {
		t.Errorf("OnDuty(sq) just after op1 left the roster = %d; want 1", got)
	}
}

// A case claimed on an instance still on the old roster, by an operator the new one removed,
// before the claim took it out of the escalation schedule: Tick gives it back, and /cases
// calls it nobody else's.
func TestTickGivesBackACaseOfARemovedOperator(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	id := f.open(t, "9108", "en", 2)
	f.operator(t, 501, "/claim "+id, "")
	f.r.Client.ZAdd(ctx, f.r.Prefix+":handoff:waiting", redis.Z{Score: float64(f.now.UnixMilli()), Member: id})
	if out := f.operator(t, 502, "/cases", ""); strings.Contains(out, id) {
		t.Errorf("/cases of op2 lists op1's case: %q", out)
	}
	f.rosterPtr = rosterWithout(t, "op1")
	f.desk.Tick(ctx)
	if got := f.ops.last("502").Text; !strings.Contains(got, backNotice) || !strings.Contains(got, "["+id+"]") {
		t.Errorf("op2 got %q; want case %s back with the notice", got, id)
	}
	if out := f.operator(t, 502, "/claim "+id, ""); !strings.Contains(out, "Ανέλαβες") {
		t.Errorf("the claim: got %q; want it claimed", out)
	}
}
