package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/internal/redistest"
)

// TestACounsellorsShift works a shift as a counsellor would, on Telegram (issue 10): three
// counsellors (one a backup), people in three languages, two cases at once, replies, a photo,
// an emergency word mid-case, a release, a note, a wipe, going off duty and closing with a
// referral. With FAROS_SHIFT_TRANSCRIPT=file it writes the shift as docs/OPERATORS.md shows it.
func TestACounsellorsShift(t *testing.T) {
	roster := strings.Replace(e2eRoster, "shifts:", `  - {id: op3, telegram_id: 503, alias: {el: "Σύμβουλος ΕΚΚΑ 3", en: "EKKA counsellor 3", sq: "Këshilltar EKKA 3"}, languages: [el, sq], backup: true}
shifts:`, 1)
	d := deskFixture{r: redistest.New(t), fake: telegramtest.New(t), roster: filepath.Join(t.TempDir(), "roster.yaml")}
	if err := os.WriteFile(d.roster, []byte(roster), 0o644); err != nil {
		t.Fatal(err)
	}
	d.in = start(t, d.r, map[string]string{"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": d.fake.URL(), "FAROS_ROSTER": d.roster},
		token, "bukuri", "salle de bain", "mon contrat")
	fake := d.fake
	rec := &shiftLog{start: time.Now()}
	chat := func(id int64, name string, counsellor bool) *tgChat {
		rec.names = append(rec.names, shiftName{id, name})
		return &tgChat{t: t, fake: fake, id: id, counsellor: counsellor, rec: rec}
	}
	op1, op2, op3 := chat(501, "Σύμβουλος 1 (el, en)", true), chat(502, "Σύμβουλος 2 (el, fr)", true), chat(503, "Σύμβουλος 3, backup (el, sq)", true)
	amira, besnik, john := chat(7501, "Amira (fr)", false), chat(7502, "Besnik (sq)", false), chat(7503, "John (en)", false)

	// Amira, in French, skips the code word: only op2 speaks French.
	rec.quietly(amira.id, "(answers the screening in French, agrees to talk to a counsellor, skips the code word)", func() {
		amira.screening("fr")
		amira.press("yes")
		amira.press("yes")
		amira.press("ekka")
	})
	amira.press("skip")
	a := op2.until(caseID)[1]
	if call := lastTo(fake, 502); call.Params["disable_notification"] == "true" {
		t.Error("a new case reached the counsellor's phone silently")
	}
	if claim := op2.tap("Ανάληψη · Claim [" + a + "]"); !strings.Contains(claim, "Ανέλαβες") {
		t.Fatalf("op2's claim: %q", claim)
	}
	if got := op2.until(regexp.MustCompile(`Λέξη-κωδικός.*`))[0]; !strings.Contains(got, "δεν διάλεξε") {
		t.Errorf("Skip shows as %q; want none chosen", got)
	}
	amira.next() // "a counsellor is here"

	// Besnik, in Albanian, chooses a code word: nobody on call speaks Albanian, so the backup
	// who does is reached at once; only the one who claims reads the code word.
	rec.quietly(besnik.id, "(answers the screening in Albanian, agrees to talk to a counsellor)", func() {
		besnik.screening("sq")
		besnik.press("yes")
		besnik.press("yes")
		besnik.press("ekka")
	})
	besnik.say("bukuri")
	b := op3.until(caseID)[1]
	if packet := op3.lastText; strings.Contains(packet, "διερμηνέα") || strings.Contains(packet, "bukuri") {
		t.Errorf("the Albanian-speaking backup's packet:\n%s", packet)
	}
	if packet := op2.until(regexp.MustCompile(`\[` + b + `\] επίπεδο`)); !strings.Contains(op2.lastText, "Αλβανικά — χρειάζεσαι διερμηνέα") || strings.Contains(op2.lastText, "bukuri") {
		t.Errorf("op2's packet for the Albanian case (%v):\n%s", packet, op2.lastText)
	}
	op2.tap("Ανάληψη · Claim [" + b + "]")
	if got := op2.until(regexp.MustCompile(`Λέξη-κωδικός.*`))[0]; !strings.Contains(got, "bukuri") {
		t.Errorf("the claimer's code word line: %q", got)
	}
	besnik.next()

	// Two cases: a reply goes to the case replied to; words that reply to nothing wait.
	amira.tell("allô ? je me cache dans la salle de bain")
	op2.until(regexp.MustCompile(`\[` + a + `\] allô`))
	op2.reply(op2.lastID, "Restez calme. Pouvez-vous appeler le 112 ?")
	if got := amira.next(); !strings.HasSuffix(got, "Pouvez-vous appeler le 112 ?") {
		t.Errorf("Amira got %q", got)
	}
	op2.tell("A jeni i sigurt tani?")
	op2.until(regexp.MustCompile(`Σε ποια υπόθεση`))
	op2.tap("→ [" + b + "]")
	if got := besnik.next(); !strings.HasSuffix(got, "A jeni i sigurt tani?") {
		t.Errorf("Besnik got %q", got)
	}
	if slices.ContainsFunc(fake.Texts(7501), func(s string) bool { return strings.Contains(s, "sigurt") }) {
		t.Error("words for Besnik reached Amira")
	}

	// A photo: copied to the counsellor, protected; nothing kept.
	amira.send(telegramtest.Media(7501, "photo", "mon contrat"))
	op2.until(regexp.MustCompile(`\[` + a + `\] 📎 φωτογραφία`))
	copies := fake.Wait("copyMessage", 1)
	if c := copies[0]; c.Params["chat_id"] != "502" || c.Params["from_chat_id"] != "7501" || c.Params["protect_content"] != "true" {
		t.Errorf("the photo's copy: %v", c.Params)
	}

	// An emergency word mid-case: the numbers and word of the alert; never consent again.
	if got := amira.say("au secours"); !strings.Contains(got, "112") || !strings.Contains(got, "prévenu") || strings.Contains(got, "Voulez-vous") {
		t.Errorf("an emergency word in a case: %q", got)
	}
	op2.until(regexp.MustCompile(`🔴🔴 \[` + a + `\] ⚠ ΚΙΝΔΥΝΟΣ`))

	// Release one of two: the other takes the words, said in one line.
	op2.say("/release " + b)
	op2.until(regexp.MustCompile(`Τώρα έχεις μία υπόθεση, την \[` + a + `\]`))
	op2.tell("Vous êtes toujours là ?")
	if got := amira.next(); !strings.Contains(got, "Vous êtes toujours là ?") {
		t.Errorf("after the release Amira got %q", got)
	}
	besnik.next() // told another counsellor will write

	// The next counsellor reads both sides, and notes.
	op3.until(regexp.MustCompile(`\[` + b + `\] επίπεδο`))
	op3.tap("Ανάληψη · Claim [" + b + "]")
	op3.until(regexp.MustCompile(`Η συνομιλία ως τώρα`))
	if !strings.Contains(op3.lastText, "Σύμβουλος ΕΚΚΑ 2: A jeni i sigurt tani?") {
		t.Errorf("the next claimer's transcript:\n%s", op3.lastText)
	}
	op3.say("/note " + b + " punon në serra, Manolada")
	besnik.next() // "a counsellor is here"

	// John, in English, wipes the conversation mid-case: a possible danger sign.
	rec.quietly(john.id, "(answers the screening in English, agrees, chooses a code word)", func() { john.consent("en") })
	c := op1.until(caseID)[1]
	for c == a || c == b { // op1 was told of the others too
		c = op1.until(caseID)[1]
	}
	op1.tap("Ανάληψη · Claim [" + c + "]")
	john.next()
	john.say("/wipe")
	op1.until(regexp.MustCompile(`⚠ \[` + c + `\] Το άτομο ΔΙΕΓΡΑΨΕ`))

	// Off duty with a case: the case and a Release button. Then close with a referral.
	op2.say("/duty off")
	op2.until(regexp.MustCompile(`Έχεις ακόμα ανοιχτές υποθέσεις`))
	if _, ok := op2.buttons["↩ Άφησε · release ["+a+"] Γαλλικά"]; !ok {
		t.Errorf("/duty off holding a case: buttons %v", op2.buttons)
	}
	op2.say("/close " + a)
	op2.tap("παραπομπή")
	op2.tap("A21 (1109)")
	if got := op2.tap("✔ Κλείσιμο"); !strings.Contains(got, "Έκλεισε (παραπομπή: A21 (1109))") {
		t.Errorf("the close: %q", got)
	}
	if got := amira.next(); !strings.Contains(got, "transmet votre demande") {
		t.Errorf("Amira's goodbye: %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(fake.Deleted(502)) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(fake.Deleted(502)) == 0 {
		t.Error("the closed case's messages stay in op2's chat")
	}
	if path := os.Getenv("FAROS_SHIFT_TRANSCRIPT"); path != "" {
		if err := os.WriteFile(path, rec.render(fake), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// lastTo returns the last message sent to a chat.
func lastTo(fake *telegramtest.Server, chat int64) telegramtest.Call {
	var last telegramtest.Call
	for _, c := range fake.Calls("sendMessage") {
		if c.Params["chat_id"] == fmt.Sprint(chat) && c.Status == 200 {
			last = c
		}
	}
	return last
}

// shiftLog records what the people and counsellors of a test did, to show the shift as it
// reads: their inputs, and every message Faros sent them, in order.
type shiftLog struct {
	start  time.Time
	names  []shiftName
	inputs []shiftLine
	quiet  []shiftLine // a chat's stretch left out: from at, for text's duration
}

// quietly runs fn, whose stretch of chat's conversation the transcript shows as summary.
func (l *shiftLog) quietly(chat int64, summary string, fn func()) {
	from := time.Now()
	fn()
	l.quiet = append(l.quiet, shiftLine{from, chat, time.Since(from).String()})
	l.inputs = append(l.inputs, shiftLine{from, chat, summary})
}

func (l *shiftLog) muted(ln shiftLine) bool {
	for _, q := range l.quiet {
		d, _ := time.ParseDuration(q.text)
		if q.chat == ln.chat && !ln.at.Before(q.at) && ln.at.Before(q.at.Add(d)) {
			return true
		}
	}
	return false
}

type shiftName struct {
	id   int64
	name string
}

type shiftLine struct {
	at   time.Time
	chat int64
	text string
}

func (l *shiftLog) input(chat int64, text string) {
	if l != nil {
		l.inputs = append(l.inputs, shiftLine{time.Now(), chat, text})
	}
}

func (l *shiftLog) render(fake *telegramtest.Server) []byte {
	lines := slices.DeleteFunc(slices.Clone(l.inputs), func(ln shiftLine) bool {
		return l.muted(ln) && !strings.HasPrefix(ln.text, "(")
	})
	for _, c := range append(fake.Calls("sendMessage"), fake.Calls("copyMessage")...) {
		var chat int64
		fmt.Sscan(c.Params["chat_id"], &chat)
		if c.Status != 200 || !slices.ContainsFunc(l.names, func(n shiftName) bool { return n.id == chat }) {
			continue
		}
		text := "Faros: " + c.Params["text"]
		if c.Method == "copyMessage" {
			text = "Faros: (a copy of the person's photo, protected)"
		}
		var markup struct {
			InlineKeyboard [][]struct {
				Text string `json:"text"`
			} `json:"inline_keyboard"`
		}
		if c.JSON("reply_markup", &markup) == nil {
			for _, row := range markup.InlineKeyboard {
				for _, b := range row {
					text += "\n[" + b.Text + "]"
				}
			}
		}
		if ln := (shiftLine{c.Time, chat, text}); !l.muted(ln) {
			lines = append(lines, ln)
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	var b strings.Builder
	shown := map[string]bool{} // cases whose packet was shown in full
	for _, ln := range lines {
		if m := caseID.FindStringSubmatch(ln.text); m != nil && strings.Contains(ln.text, "\nΑναμονή · waiting") {
			if shown[m[1]] { // the same packet again: its head and what changed
				var keep []string
				for _, l := range strings.Split(ln.text, "\n") {
					if strings.HasPrefix(l, "Faros:") || strings.HasPrefix(l, "Γλώσσα") || strings.HasPrefix(l, "Λέξη") || strings.HasPrefix(l, "• ") || strings.HasPrefix(l, "[") {
						keep = append(keep, l)
					}
				}
				ln.text = strings.Join(slices.Insert(keep, 2, "(… the rest of the packet as above …)"), "\n")
			}
			shown[m[1]] = true
		}
		name := ""
		for _, n := range l.names {
			if n.id == ln.chat {
				name = n.name
			}
		}
		fmt.Fprintf(&b, "── %s\n%s\n\n", name, ln.text)
	}
	return []byte(b.String())
}
