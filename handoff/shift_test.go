package handoff_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/handoff/roster"
)

// A counsellor's shift, observation by observation (issue 10): nothing silent, nothing to the
// wrong person, nothing lost, no dead ends.

// act is an operator's message as Telegram delivers it: the replies land in the operator's chat
// (f.ops), numbered and reported to the desk as the channel does.
func (f *fixture) act(t *testing.T, tg int64, m bot.Message) []bot.Reply {
	t.Helper()
	m.Channel, m.ChatID = "telegram", fmt.Sprint(tg)
	replies, err := f.desk.Route(nobody{t}).Handle(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	_ = f.ops.Send(context.Background(), m.ChatID, replies)
	return replies
}

func texts(rs []bot.Reply) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Text)
	}
	return strings.Join(out, "\n")
}

// relay is a person's message in case id.
func (f *fixture) relay(t *testing.T, id string, m bot.Message, alert string) []bot.Reply {
	t.Helper()
	replies, ok, err := f.desk.Relay(context.Background(), id, m, alert)
	if err != nil || !ok {
		t.Fatalf("Relay: %v, %v", ok, err)
	}
	return replies
}

func (f *fixture) tick(d time.Duration) {
	f.now = f.now.Add(d)
	f.desk.Tick(context.Background())
}

// 1. Alerts ring, and tier 3, emergencies and the duress word stand out.
func TestOperatorsHearEveryAlert(t *testing.T) {
	f := setup(t)
	urgent := f.open(t, "9201", "el", 3)
	f.tick(4 * time.Minute) // the escalation notifies everyone on call
	packet := f.ops.last("501")
	if !packet.Ring || !packet.Urgent || !strings.HasPrefix(packet.Text, "🔴🔴 ΕΠΕΙΓΟΝ · URGENT ["+urgent+"]") {
		t.Errorf("a tier-3 packet: ring %v, urgent %v, %q; want it loud and first", packet.Ring, packet.Urgent, packet.Text)
	}
	f.act(t, 501, bot.Message{Button: "claim:" + urgent})
	for _, alert := range []string{"emergency", "duress", "help", ""} {
		f.relay(t, urgent, bot.Message{Text: "words"}, alert)
		got := f.ops.got["501"]
		for _, r := range got[len(got)-1-min(len(alert), 1):] {
			if !r.Ring || r.Tag != urgent {
				t.Errorf("alert %q: %+v; want it ringing, tagged with the case", alert, r)
			}
		}
	}
	if got := f.ops.texts("501"); !strings.Contains(got, "🔴🔴 ["+urgent+"] ⚠ ΚΙΝΔΥΝΟΣ") || !strings.Contains(got, "🔴🔴 ["+urgent+"] ⚠⚠ ΚΡΥΦΟ ΣΗΜΑ") {
		t.Errorf("the emergency and duress alerts do not stand out:\n%s", got)
	}
}

// A person who calls for help in a case is told a counsellor knows only when one was told,
// and never after the duress word.
func TestWordOfTheAlertOnlyWhenTrue(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9205", "en", 1)
	if r := f.relay(t, id, bot.Message{Text: "sos"}, "emergency"); len(r) != 1 || !strings.Contains(r[0].Text, "A counsellor has been told") {
		t.Errorf("an emergency word while waiting, two on call: %v", r)
	}
	if r := f.relay(t, id, bot.Message{Text: "ηλιοτρόπιο"}, "duress"); len(r) != 0 {
		t.Errorf("the duress word answered %v; want nothing the watcher could read", r)
	}
	f.act(t, 501, bot.Message{Button: "claim:" + id})
	if r := f.relay(t, id, bot.Message{Text: "help"}, "help"); len(r) != 1 || !strings.Contains(r[0].Text, "A counsellor has been told") {
		t.Errorf("help in a claimed case: %v", r)
	}
	// Nobody on call: nobody was told, and the person is not told otherwise.
	ros, err := roster.Parse("roster.yaml", []byte(strings.Split(rosterYAML, "shifts:")[0]))
	if err != nil {
		t.Fatal(err)
	}
	f.rosterPtr = ros
	alone := f.open(t, "9206", "fr", 1)
	if r := f.relay(t, alone, bot.Message{Text: "sos"}, "emergency"); len(r) != 0 {
		t.Errorf("an emergency word with nobody on call: %v; want no word of an alert", r)
	}
}

// 2. Holding two cases, words go to the case replied to, and words that reply to nothing are
// held until the counsellor says which case.
func TestWordsGoToTheCaseRepliedTo(t *testing.T) {
	f := setup(t)
	first, second := f.open(t, "9211", "en", 2), f.open(t, "9212", "en", 2)
	f.act(t, 501, bot.Message{Button: "claim:" + first})
	f.act(t, 501, bot.Message{Button: "claim:" + second}) // the second claimed last
	f.relay(t, first, bot.Message{Text: "hello? I am hiding in the bathroom"}, "")
	asked := f.ops.idOf("501", "hiding in the bathroom")

	out := f.act(t, 501, bot.Message{Text: "Stay calm. Can you call 112 now?", ReplyTo: asked, MsgID: "77"})
	if got := f.ppl.last("9211").Text; !strings.HasSuffix(got, "Stay calm. Can you call 112 now?") {
		t.Fatalf("a reply to the first case's message reached %q; want the first person", got)
	}
	if strings.Contains(f.ppl.texts("9212"), "Stay calm") {
		t.Fatal("safety advice reached the other person")
	}
	if texts(out) != "→ ["+first+"]" {
		t.Errorf("the counsellor was told %q", texts(out))
	}

	// Not a reply: nothing goes until the counsellor chooses.
	out = f.act(t, 501, bot.Message{Text: "Are you safe?"})
	if len(out) != 1 || len(out[0].Buttons) != 2 || !strings.Contains(out[0].Text, "Δεν στάλθηκε ακόμα") {
		t.Fatalf("words that reply to nothing: %+v; want a question with a button per case", out)
	}
	if strings.Contains(f.ppl.texts("9211")+f.ppl.texts("9212"), "Are you safe?") {
		t.Fatal("held words were sent")
	}
	if b := out[0].Buttons[0]; !strings.Contains(b.Label, "["+first+"]") || !strings.Contains(b.Label, "Αγγλικά") || !strings.Contains(b.Label, "0′") {
		t.Errorf("the first button, the case heard last: %+v", b)
	}
	to := out[0].Buttons[1].Data // the second case
	f.act(t, 501, bot.Message{Button: to})
	if got := f.ppl.last("9212").Text; !strings.HasSuffix(got, "Are you safe?") {
		t.Errorf("the held words reached %q; want the second person", got)
	}
	if out := f.act(t, 501, bot.Message{Button: to}); !strings.Contains(texts(out), "δεν κρατιέται πια") {
		t.Errorf("pressing again: %q; want nothing sent twice", texts(out))
	}

	// A command without a case, holding two, asks which.
	for _, cmd := range []string{"/close", "/release", "/note she is safe now"} {
		if out := f.act(t, 501, bot.Message{Text: cmd}); !strings.Contains(texts(out), "Ποια υπόθεση;") {
			t.Errorf("%s holding two cases: %q", cmd, texts(out))
		}
	}

	// A reply to a message of a case that is not theirs sends nothing.
	third := f.open(t, "9213", "el", 1)
	f.act(t, 502, bot.Message{Button: "claim:" + third})
	f.relay(t, third, bot.Message{Text: "γεια"}, "")
	theirs := f.ops.idOf("502", "γεια")
	f.ops.mu.Lock()
	f.ops.ids["501"] = append(f.ops.ids["501"], theirs) // as if op1 could reply to it
	f.ops.mu.Unlock()
	f.desk.Sent("telegram", "501", third, []string{"9999"})
	if out := f.act(t, 501, bot.Message{Text: "hi", ReplyTo: "9999"}); !strings.Contains(texts(out), "Δεν είναι δική σου") {
		t.Errorf("a reply to another's case: %q", texts(out))
	}

	// After a release the remaining case takes the words, said in one line.
	out = f.act(t, 501, bot.Message{Text: "/release " + first})
	if !strings.Contains(texts(out), "Τώρα έχεις μία υπόθεση, την ["+second+"]") {
		t.Errorf("after /release: %q", texts(out))
	}
	if out := f.act(t, 501, bot.Message{Text: "still here"}); len(out) != 0 || !strings.HasSuffix(f.ppl.last("9212").Text, "still here") {
		t.Errorf("words after the release: %q; the person got %q", texts(out), f.ppl.last("9212").Text)
	}
}

// 3. A photo or a voice note is copied to the counsellor, never stored; when it cannot be,
// both sides are told.
func TestMediaReachTheCounsellor(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9221", "fr", 1)
	if r := f.relay(t, id, bot.Message{Media: "voice", MsgID: "40"}, ""); len(r) != 1 || !strings.Contains(r[0].Text, "n'a pas pu être transmis") && !strings.Contains(r[0].Text, "transmis") {
		t.Errorf("media while waiting: %v; want the person told it was not passed on", r)
	}
	f.act(t, 502, bot.Message{Button: "claim:" + id})
	if got := f.ops.texts("502"); !strings.Contains(got, "📎 φωνητικό μήνυμα") {
		t.Errorf("the transcript does not show the voice note sent while waiting:\n%s", got)
	}
	if r := f.relay(t, id, bot.Message{Media: "photo", Text: "my contract", ChatID: "9221", MsgID: "41"}, ""); len(r) != 0 {
		t.Errorf("a photo in a claimed case answered %v", r)
	}
	if want := "502<-9221:41:" + id; !slices.Contains(f.ops.copies, want) {
		t.Errorf("copies %v; want %s", f.ops.copies, want)
	}
	if got := f.ops.texts("502"); !strings.Contains(got, "["+id+"] 📎 φωτογραφία · photo ↓") {
		t.Errorf("the counsellor was not told which case the photo is for:\n%s", got)
	}
	f.ops.failCopy = true
	r := f.relay(t, id, bot.Message{Media: "document", ChatID: "9221", MsgID: "42"}, "")
	if len(r) != 1 || !strings.Contains(r[0].Text, "par écrit") && !strings.Contains(r[0].Text, "mots") {
		t.Errorf("a copy that failed: the person got %v", r)
	}
	if got := f.ops.last("502").Text; !strings.Contains(got, "δεν μπόρεσε να σου προωθηθεί") {
		t.Errorf("a copy that failed: the counsellor got %q", got)
	}
}

// 4. "Skip" is no code word, and the code word goes only to the one who claims.
func TestCodeWordOnlyForTheClaimer(t *testing.T) {
	for _, tt := range []struct{ typed, want string }{{"violet harbour", "violet harbour"}, {"skip", "δεν διάλεξε · none chosen"}} {
		f := setup(t)
		id, err := f.desk.Open(context.Background(), bot.Handoff{Channel: "telegram", ChatID: "9231", Tier: 3, Reason: "urgent",
			State: dialog.State{Lang: "el"}, Secrets: map[string]string{"codeword": tt.typed}})
		if err != nil {
			t.Fatal(err)
		}
		f.tick(4 * time.Minute)
		for _, tg := range []string{"501", "502", "503"} {
			if got := f.ops.texts(tg); strings.Contains(got, "Λέξη-κωδικός") || strings.Contains(got, "violet") {
				t.Errorf("operator %s was notified with the code word:\n%s", tg, got)
			}
		}
		claim := texts(f.act(t, 502, bot.Message{Button: "claim:" + id}))
		if !strings.Contains(claim, "Λέξη-κωδικός") || !strings.Contains(claim, tt.want) {
			t.Errorf("%q: the claimer read\n%s\nwant %q", tt.typed, claim, tt.want)
		}
		if tt.typed == "skip" && strings.Contains(claim, ": skip") {
			t.Errorf("the packet shows skip as a code word:\n%s", claim)
		}
	}
}

// 5. No dead ends: going off duty shows the cases still held, and a case whose counsellor
// stopped answering goes to the others.
func TestOffDutyWithCases(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9241", "fr", 2)
	f.act(t, 502, bot.Message{Button: "claim:" + id})
	out := f.act(t, 502, bot.Message{Text: "/duty off"})
	if len(out) != 2 || len(out[1].Buttons) != 1 || out[1].Buttons[0].Data != "release:"+id {
		t.Fatalf("/duty off holding a case: %+v; want the case with a Release button", out)
	}
	f.act(t, 502, bot.Message{Button: out[1].Buttons[0].Data})
	if got := f.ppl.texts("9241"); !strings.Contains(got, "Un autre conseiller") && !strings.Contains(got, "autre") {
		t.Errorf("after the release the person got %q", got)
	}
}

func TestAnUnansweredCaseGoesToTheOthers(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9251", "el", 3)
	f.act(t, 501, bot.Message{Button: "claim:" + id})
	f.act(t, 501, bot.Message{Text: "Γεια σου, είμαι εδώ."})
	f.relay(t, id, bot.Message{Text: "είστε εκεί;"}, "")
	f.tick(4 * time.Minute)
	if strings.Contains(f.ops.texts("501"), "⏰") {
		t.Fatal("reminded before the time")
	}
	f.tick(2 * time.Minute) // tier 3: 5 minutes
	if got := f.ops.last("501"); !strings.HasPrefix(got.Text, "⏰ ["+id+"]") || !got.Ring {
		t.Fatalf("the counsellor was not reminded: %+v", got)
	}
	f.tick(5 * time.Minute)
	if got := f.ops.last("501").Text; !strings.Contains(got, "Δεν απάντησες για") {
		t.Errorf("the silent counsellor was told %q", got)
	}
	if got := f.ops.last("502").Text; !strings.Contains(got, "δεν απάντησε για") || !strings.Contains(got, "Claim") && !strings.Contains(got, "["+id+"]") {
		t.Errorf("the others got %q; want the case offered again", got)
	}
	if claim := texts(f.act(t, 502, bot.Message{Button: "claim:" + id})); !strings.Contains(claim, "Ανέλαβες") {
		t.Errorf("another counsellor could not claim it: %q", claim)
	}
	audit := auditTrail(t, f)
	for _, want := range []string{"event=reminded case=" + id, "reason:unanswered"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit lacks %q", want)
		}
	}
}

// A counsellor who answers in time is never reminded.
func TestAnAnsweredCaseIsLeftAlone(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9252", "el", 1)
	f.act(t, 501, bot.Message{Button: "claim:" + id})
	for range 6 {
		f.relay(t, id, bot.Message{Text: "ερώτηση"}, "")
		f.tick(10 * time.Minute)
		f.act(t, 501, bot.Message{Text: "απάντηση"})
	}
	if strings.Contains(f.ops.texts("501"), "⏰") {
		t.Error("a counsellor who answered was reminded")
	}
}

// The ladder's end reaches everyone, backups included, and a tier-3 person gets 112.
func TestTheLadderEnds(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9261", "en", 3)
	for range 4 {
		f.tick(4 * time.Minute)
	}
	if got := f.ppl.texts("9261"); !strings.Contains(got, "call 112") {
		t.Errorf("a tier-3 person nobody answered got %q; want 112", got)
	}
	for _, tg := range []string{"501", "502", "503"} {
		if got := f.ops.texts(tg); !strings.Contains(got, "⚠ ["+id+"] Κανείς δεν ανέλαβε") {
			t.Errorf("operator %s was not told nobody claimed it:\n%s", tg, got)
		}
	}
}

// A backup who speaks the person's language is reached at the first step, when nobody on call
// does.
func TestBackupsWhoSpeakTheLanguageAtOnce(t *testing.T) {
	f := setup(t)
	ros, err := roster.Parse("roster.yaml", []byte(strings.Replace(rosterYAML, "languages: [el], backup: true", "languages: [el, sq], backup: true", 1)))
	if err != nil {
		t.Fatal(err)
	}
	f.rosterPtr = ros
	f.open(t, "9271", "sq", 2)
	consume(t, f, f.desk, func() bool { return f.ops.last("503").Text != "" })
	if got := f.ops.last("503").Text; strings.Contains(got, "διερμηνέα") {
		t.Errorf("the backup who speaks Albanian was told to find an interpreter:\n%s", got)
	}
	if got := f.ops.last("501").Text; !strings.Contains(got, "Αλβανικά — χρειάζεσαι διερμηνέα") {
		t.Errorf("op1, who does not speak Albanian, was not told of the interpreter:\n%s", got)
	}
}

// 6 is the bot's (package bot); 7. the packet is kept current.
func TestThePacketIsKeptCurrent(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9281", "en", 1)
	f.relay(t, id, bot.Message{Text: "hello"}, "")
	f.relay(t, id, bot.Message{Text: "anyone?"}, "")
	f.tick(11 * time.Minute) // escalation
	f.relay(t, id, bot.Message{Text: "help"}, "emergency")
	got := f.ops.last("501").Text
	for _, want := range []string{"🔴🔴 ΕΠΕΙΓΟΝ", "Αναμονή · waiting: 11′ · μηνύματα στην αναμονή: 3", "κλιμάκωση", "έγινε επείγουσα", "Τηλέφωνα που είδε το άτομο: 112, 100, 1109"} {
		if !strings.Contains(got, want) {
			t.Errorf("the packet lacks %q:\n%s", want, got)
		}
	}
	f.act(t, 501, bot.Message{Button: "claim:" + id})
	f.act(t, 501, bot.Message{Text: "/release"})
	if got := f.ops.last("502").Text; !strings.Contains(got, "ξανά σε αναμονή: Σύμβουλος ΕΚΚΑ 1 (με /release)") {
		t.Errorf("the packet after a release lacks who released it:\n%s", got)
	}
}

// 8. Handover: the next counsellor reads both sides and the notes; endings say what happened.
func TestTheNextCounsellorReadsBothSides(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9291", "en", 2)
	f.relay(t, id, bot.Message{Text: "I work on a farm"}, "")
	f.act(t, 501, bot.Message{Button: "claim:" + id})
	f.now = f.now.Add(time.Minute)
	f.act(t, 501, bot.Message{Text: "Which town?"})
	f.relay(t, id, bot.Message{Text: "Manolada"}, "")
	if out := f.act(t, 501, bot.Message{Text: "/note " + id + " strawberry fields, 12 workers"}); !strings.Contains(texts(out), "Η σημείωση φυλάχτηκε") {
		t.Errorf("/note: %q", texts(out))
	}
	if strings.Contains(f.ppl.texts("9291"), "strawberry") {
		t.Fatal("a note reached the person")
	}
	f.act(t, 501, bot.Message{Text: "/release " + id})
	claim := texts(f.act(t, 502, bot.Message{Button: "claim:" + id}))
	for _, want := range []string{"14:00 Άτομο: I work on a farm", "14:01 Σύμβουλος ΕΚΚΑ 1: Which town?", "14:01 Άτομο: Manolada", "📝 Σύμβουλος ΕΚΚΑ 1 (σημείωση · note): strawberry fields"} {
		if !strings.Contains(claim, want) {
			t.Errorf("the next claimer does not read %q:\n%s", want, claim)
		}
	}
}

func TestStopAndWipeAreTold(t *testing.T) {
	for _, wiped := range []bool{false, true} {
		f := setup(t)
		id := f.open(t, "9301", "en", 2)
		f.act(t, 501, bot.Message{Button: "claim:" + id})
		if err := f.desk.Leave(context.Background(), id, wiped); err != nil {
			t.Fatal(err)
		}
		f.desk.Wait()
		got := f.ops.last("501")
		if wiped != strings.Contains(got.Text, "ΔΙΕΓΡΑΨΕ") || wiped != got.Urgent || !got.Ring {
			t.Errorf("wiped %v: the counsellor got %+v", wiped, got)
		}
		want := map[bool]string{false: "event=person_left", true: "event=person_wiped"}[wiped]
		if !strings.Contains(auditTrail(t, f), want+" case="+id) {
			t.Errorf("the audit lacks %s", want)
		}
	}
}

func TestClosingSaysGoodbyeAsItHappened(t *testing.T) {
	f := setup(t)
	silent, spoke := f.open(t, "9311", "en", 2), f.open(t, "9312", "en", 2)
	for _, id := range []string{silent, spoke} {
		f.act(t, 501, bot.Message{Button: "claim:" + id})
	}
	f.relay(t, spoke, bot.Message{Text: "hello"}, "")
	f.act(t, 501, bot.Message{Text: "Are you there?", ReplyTo: f.ops.idOf("501", "hello")})
	out := f.act(t, 501, bot.Message{Text: "/close " + spoke})
	if len(out) != 1 || len(out[0].Buttons) != 5 || out[0].Buttons[2].Label != "το άτομο δεν απαντά · no_contact" {
		t.Fatalf("/close without an outcome: %+v; want the outcomes in Greek", out)
	}
	confirm := f.act(t, 501, bot.Message{Button: out[0].Buttons[2].Data})
	if strings.Contains(f.ppl.texts("9312"), "closed") {
		t.Fatal("closed before the confirmation")
	}
	f.act(t, 501, bot.Message{Button: confirm[0].Buttons[0].Data})
	if got := f.ppl.last("9312").Text; !strings.Contains(got, "because there was no answer") {
		t.Errorf("no_contact's goodbye: %q", got)
	}
	before := f.ppl.texts("9311")
	f.act(t, 501, bot.Message{Button: "closeok:" + silent + ":duplicate"})
	if f.ppl.texts("9311") != before {
		t.Errorf("a person who never wrote got a goodbye: %q", f.ppl.texts("9311"))
	}
}

// On close, the case's messages leave the counsellors' chats, the notified ones' too.
func TestClosingDeletesTheCaseFromThePhones(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9321", "el", 3)
	f.tick(4 * time.Minute) // to op1 and op2
	f.act(t, 501, bot.Message{Button: "claim:" + id})
	f.relay(t, id, bot.Message{Text: "τα χαρτιά μου τα κρατάει"}, "")
	f.act(t, 501, bot.Message{Text: "Πού είσαι τώρα;", MsgID: "501001"})
	mine := []string{f.ops.idOf("501", "ΕΠΕΙΓΟΝ"), f.ops.idOf("501", "τα χαρτιά μου"), "501001"}
	theirs := f.ops.idOf("502", "ΕΠΕΙΓΟΝ")
	f.act(t, 501, bot.Message{Button: "closeok:" + id + ":information_given"})
	f.desk.Wait()
	for _, m := range mine {
		if !slices.Contains(f.ops.deleted["501"], m) {
			t.Errorf("message %s stays in the claimer's chat (deleted %v)", m, f.ops.deleted["501"])
		}
	}
	if !slices.Contains(f.ops.deleted["502"], theirs) {
		t.Errorf("the packet stays in the other counsellor's chat (deleted %v)", f.ops.deleted["502"])
	}
	if got := f.ops.last("501").Text; !strings.Contains(got, "Έκλεισε (δόθηκε πληροφόρηση)") {
		t.Errorf("the closing line, which stays: %q", got)
	}
}

// A reply to a message that belongs to no open case (a closed case's, a notice) sends nothing,
// even to the operator's only case: it asks which case.
func TestAReplyToNoCaseAsks(t *testing.T) {
	f := setup(t)
	gone, kept := f.open(t, "9331", "en", 2), f.open(t, "9332", "en", 2)
	f.act(t, 501, bot.Message{Button: "claim:" + gone})
	f.act(t, 501, bot.Message{Button: "claim:" + kept})
	if err := f.desk.Leave(context.Background(), gone, true); err != nil {
		t.Fatal(err)
	}
	f.desk.Wait()
	f.ops.Send(context.Background(), "501", []bot.Reply{{Text: "the wipe notice, as the channel numbers it"}})
	notice := f.ops.idOf("501", "the wipe notice")
	out := f.act(t, 501, bot.Message{Text: "Are you OK? Write to me", ReplyTo: notice})
	if len(out) != 1 || !strings.Contains(out[0].Text, "δεν ανήκει σε ανοιχτή υπόθεση") || len(out[0].Buttons) != 1 {
		t.Fatalf("a reply to the wipe notice: %+v; want nothing sent and a button for the one case", out)
	}
	if strings.Contains(f.ppl.texts("9332"), "Are you OK") {
		t.Error("a reply to another case's notice reached the person of the only case")
	}
}

// Words after a command that look like a case id but are not one stay words.
func TestCommandWordsThatAreNotCaseIDs(t *testing.T) {
	f := setup(t)
	id := f.open(t, "9341", "en", 2)
	f.act(t, 501, bot.Message{Button: "claim:" + id})
	if out := texts(f.act(t, 501, bot.Message{Text: "/close referred"})); !strings.Contains(out, "Σε ποια υπηρεσία") {
		t.Errorf("/close referred: %q; want the referral question of the only case", out)
	}
	if out := texts(f.act(t, 501, bot.Message{Text: "/note Employer takes passports"})); !strings.Contains(out, "Η σημείωση φυλάχτηκε") {
		t.Errorf("/note Employer ...: %q", out)
	}
	if out := texts(f.act(t, 501, bot.Message{Text: "/close ABCDEFGH"})); !strings.Contains(out, "There is no open case ABCDEFGH") {
		t.Errorf("/close with a mistyped id: %q; want no open case, never the only case", out)
	}
	if out := texts(f.act(t, 501, bot.Message{Text: "/close " + id + " duplicate"})); !strings.Contains(out, "δεν έγραψε ποτέ") {
		t.Errorf("the confirmation for a person who never wrote: %q", out)
	}
}
