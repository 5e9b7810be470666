package handoff

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/handoff/roster"
)

// packet is what the operator learns about a case when it opens (docs/OPERATORS.md, "A new
// case"): never a name, a username or an id of the person. It is sealed with the case; what
// changes while the case lives (tier, waiting, history, numbers given) is in the record.
type packet struct {
	Case       string          `json:"case"`
	Channel    string          `json:"channel"`
	Lang       string          `json:"lang"`
	Indicators []string        `json:"indicators"`
	Answers    []dialog.Answer `json:"answers"`
	Minor      bool            `json:"minor"`
	Scope      string          `json:"scope"`  // consent: ekka, ngo, police
	Safety     string          `json:"safety"` // the answer to the safety check: safe, unsure, unsafe
	Codeword   string          `json:"codeword,omitempty"`
	Time       time.Time       `json:"time"`
}

// noCodeword is what a person who pressed Skip at the code word question "typed".
const noCodeword = "skip"

func newPacket(id string, h bot.Handoff, now time.Time) packet {
	a := h.State.Answers
	p := packet{Case: id, Channel: h.Channel, Lang: h.State.Lang, Indicators: h.Indicators, Answers: h.Answers,
		Minor: h.State.Flags["minor"], Scope: a["scope"], Safety: a["safety"], Time: now}
	if w := strings.TrimSpace(h.Secrets["codeword"]); w != "" && w != noCodeword {
		p.Codeword = w
	}
	return p
}

// hotlines are the numbers the flows showed on the way to a handoff of tier, at least.
func hotlines(tier int, minor bool) []string {
	var numbers []string
	switch {
	case tier >= 3:
		numbers = numbersOf("emergency")
	case tier == 2:
		numbers = []string{"1109", "197"}
	}
	if minor { // every result shows a possible minor the children's line
		numbers = append(numbers, "1056")
	}
	return numbers
}

var (
	reasonNames = map[string]string{"urgent": "οι απαντήσεις δείχνουν κίνδυνο", "emergency": "λέξη κινδύνου", "likely": "πιθανή εκμετάλλευση",
		"possible": "κάποιες ενδείξεις", "asked": "ζήτησε σύμβουλο", "duress": "ΚΡΥΦΟ ΣΗΜΑ: ίσως κάποιος διαβάζει τα μηνύματα"}
	scopeNames = map[string]string{"ekka": "μόνο ΕΚΚΑ · EKKA only", "ngo": "ΕΚΚΑ και οργανώσεις · EKKA and NGOs", "police": "ΕΚΚΑ, οργανώσεις και αστυνομία (για καταγγελία) · also police, to report a crime",
		"later": "θα το αποφασίσει μαζί σου: μέχρι τότε μόνο ΕΚΚΑ · to decide with you; until then EKKA only"}
	safetyNames = map[string]string{"safe": "ασφαλές να μιλήσει · safe to chat", "unsure": "δεν ξέρει αν είναι ασφαλές · not sure",
		"unsafe": "κάποιος άλλος μπορεί να διαβάζει τα μηνύματα · someone else may read the messages"}
)

// kind is the likely form of exploitation, from the kinds the content gives the indicators
// answered positively (flows/triggers.yaml): the operator's first guess, to be confirmed.
func (p packet) kind() (el, en string) {
	has := func(kind string) bool {
		return slices.ContainsFunc(p.Answers, func(a dialog.Answer) bool { return a.Positive && a.Kind == kind })
	}
	switch {
	case has("sexual"):
		return "σεξουαλική", "sexual"
	case has("labour"):
		return "εργασιακή", "labour"
	case len(p.Indicators) > 0:
		return "άλλη", "other"
	}
	return "άγνωστη", "unknown"
}

// indicators are the names of the indicators answered positively, in lang, once each.
func (p packet) indicators(lang string) string {
	var names []string
	for _, a := range p.Answers {
		if n := cmp.Or(a.Names[lang], a.Code); a.Positive && a.Code != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, " · ")
}

func name(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	if k == "" {
		return "—"
	}
	return k
}

// answerGroups are the packet's lines of screening answers, in this order.
var answerGroups = []struct{ choice, title string }{
	{"", "Ισχύει (ένδειξη) · applies (indicator)"}, {"unsure", "Δεν ξέρει · unsure"}, {"skip", "Δεν απάντησε · skipped"}, {"no", "Δεν ισχύει · does not apply"},
}

// answers renders the screening answers grouped: the positive ones first, then unsure,
// skipped and the rest (no, or a choice the content added). Each question shows as its brief
// (flows/screening.yaml).
func (p packet) answers() string {
	group := func(a dialog.Answer) string {
		switch {
		case a.Positive:
			return ""
		case a.Choice == "unsure", a.Choice == "skip":
			return a.Choice
		}
		return "no"
	}
	var b strings.Builder
	for _, g := range answerGroups {
		var names []string
		for _, a := range p.Answers {
			if group(a) == g.choice {
				names = append(names, cmp.Or(a.Brief, a.Code, a.Question))
			}
		}
		if len(names) > 0 {
			fmt.Fprintf(&b, "%s: %s\n", g.title, strings.Join(names, " · "))
		}
	}
	if b.Len() == 0 {
		return "Ερωτήσεις: καμία απάντηση · no screening answers\n"
	}
	return b.String()
}

// view is a case as one operator reads it now: the sealed packet and what the record adds.
type view struct {
	p        packet
	r        *record
	to       roster.Operator
	loc      *time.Location
	now      time.Time
	codeword bool   // the operator claimed the case: the code word is theirs to know
	lang     string // the person's language, named for counsellors
}

// render is the packet as the operator reads it: Greek, then one line of English. Tier 3
// comes first and stands out.
func (v view) render() string {
	p, r := v.p, v.r
	var b strings.Builder
	switch {
	case r.Tier >= 3:
		fmt.Fprintf(&b, "🔴🔴 ΕΠΕΙΓΟΝ · URGENT [%s] επίπεδο 3 (%s)\n", p.Case, name(reasonNames, r.Reason))
	case r.Tier == 2:
		fmt.Fprintf(&b, "🟠 [%s] επίπεδο 2 (%s)\n", p.Case, name(reasonNames, r.Reason))
	default:
		fmt.Fprintf(&b, "🟡 [%s] επίπεδο %d (%s)\n", p.Case, r.Tier, name(reasonNames, r.Reason))
	}
	fmt.Fprintf(&b, "Αναμονή · waiting: %s", minutes(v.now.Sub(r.Created)))
	if r.Waited > 0 {
		fmt.Fprintf(&b, " · μηνύματα στην αναμονή: %d · messages while waiting: %d", r.Waited, r.Waited)
	}
	interpreter := !v.to.Speaks(p.Lang) && p.Lang != "el"
	fmt.Fprintf(&b, "\nΓλώσσα: %s", cmp.Or(v.lang, p.Lang))
	if interpreter {
		b.WriteString(" — χρειάζεσαι διερμηνέα · you need an interpreter")
	}
	b.WriteString("\n")
	if p.Minor || v.ageUnsure() {
		b.WriteString("👶 ΚΑΤΩ ΤΩΝ 18 Ή ΑΒΕΒΑΙΗ ΗΛΙΚΙΑ · under 18 or unsure\n")
	}
	if r.Duress {
		b.WriteString("⚠⚠ ΚΡΥΦΟ ΣΗΜΑ: το άτομο το έγραψε· το Faros δεν του γράφει πια πρώτο. · The person typed the duress word; Faros no longer writes to them first.\n")
	}
	el, en := p.kind()
	fmt.Fprintf(&b, "Ενδείξεις: %s\nΠιθανή μορφή εκμετάλλευσης: %s\n%s", cmp.Or(p.indicators("el"), "καμία"), el, p.answers())
	fmt.Fprintf(&b, "Συναίνεση: %s\nΑσφάλεια: %s\n", name(scopeNames, p.Scope), name(safetyNames, p.Safety))
	if v.codeword {
		if p.Codeword != "" {
			fmt.Fprintf(&b, "Λέξη-κωδικός (ζήτησέ τη, αν αμφιβάλλεις ποιος γράφει · ask for it if unsure who writes): %s\n", p.Codeword)
		} else {
			b.WriteString("Λέξη-κωδικός: δεν διάλεξε · none chosen\n")
		}
	}
	fmt.Fprintf(&b, "Τηλέφωνα που είδε το άτομο: %s\n", cmp.Or(strings.Join(r.Given, ", "), "—"))
	for _, h := range r.History {
		fmt.Fprintf(&b, "• %s\n", historyLine(h, v.loc))
	}
	fmt.Fprintf(&b, "Κανάλι: %s · %s\n", p.Channel, p.Time.In(v.loc).Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "EN: case %s, tier %d (%s); language %s", p.Case, r.Tier, r.Reason, p.Lang)
	if interpreter {
		b.WriteString(", interpreter needed")
	}
	fmt.Fprintf(&b, "; indicators: %s; likely %s", cmp.Or(strings.Join(p.Indicators, ", "), "none stated"), en)
	if p.Minor || v.ageUnsure() {
		b.WriteString("; UNDER 18 OR UNSURE")
	}
	fmt.Fprintf(&b, "; consent: %s.", cmp.Or(p.Scope, "-"))
	return b.String()
}

// ageUnsure reports whether the person did not say they are 18 or over.
func (v view) ageUnsure() bool {
	i := slices.IndexFunc(v.p.Answers, func(a dialog.Answer) bool { return a.Question == "minor" })
	return i >= 0 && v.p.Answers[i].Choice != "no"
}

// langName is a language's name for counsellors, in Greek: its locale file's language_name_el,
// or its code for a language the content no longer has.
func (d *Desk) langName(lang string) string {
	if c := d.catalog(); c != nil && slices.Contains(c.Languages(), lang) {
		return c.Render(lang, "language_name_el", nil)
	}
	return lang
}

// brief renders case r's packet for operator to.
func (d *Desk) brief(ctx context.Context, r *record, to roster.Operator, codeword bool) (string, error) {
	p, err := d.packetOf(ctx, r)
	if err != nil {
		return "", err
	}
	return d.render(p, r, to, codeword), nil
}

// packetOf opens case r's sealed packet.
func (d *Desk) packetOf(ctx context.Context, r *record) (packet, error) {
	var p packet
	key, err := d.caseKey(ctx, r.ID)
	if err != nil {
		return p, err
	}
	data, err := openData(key, r.Packet, "packet")
	if err == nil {
		err = json.Unmarshal(data, &p)
	}
	return p, err
}

// render is packet p of case r as operator to reads it now.
func (d *Desk) render(p packet, r *record, to roster.Operator, codeword bool) string {
	return view{p: p, r: r, to: to, loc: d.location(), now: d.now(), codeword: codeword, lang: d.langName(p.Lang)}.render()
}

// minutes is a duration as an operator reads it: "4′", "1 ώρ. 05′".
func minutes(d time.Duration) string {
	m := int(max(d, 0).Minutes())
	if m < 60 {
		return fmt.Sprintf("%d′", m)
	}
	return fmt.Sprintf("%d ώρ. %02d′", m/60, m%60)
}

// A case's history: one line per event, "event|unix ms|detail".
const (
	histEscalated   = "escalated"   // detail: the level reached
	histRaised      = "raised"      // detail: the alert that made it tier 3
	histReleased    = "released"    // detail: the operator's alias and why
	histTransferred = "transferred" // detail: the alias of the operator it went to
)

func historyEntry(event string, at time.Time, detail string) string {
	return fmt.Sprintf("%s|%d|%s", event, at.UnixMilli(), detail)
}

func historyLine(h string, loc *time.Location) string {
	event, rest, _ := strings.Cut(h, "|")
	ms, detail, _ := strings.Cut(rest, "|")
	n, _ := strconv.ParseInt(ms, 10, 64)
	at := time.UnixMilli(n).In(loc)
	var what string
	switch event {
	case histEscalated:
		what = "κλιμάκωση: στάλθηκε σε περισσότερους (βήμα " + detail + ") · escalated (step " + detail + ")"
	case histRaised:
		what = "έγινε επείγουσα (" + name(reasonNames, detail) + ") · raised to tier 3"
	case histReleased:
		alias, why, _ := strings.Cut(detail, "|")
		what = fmt.Sprintf("ξανά σε αναμονή: %s (%s) · back in the queue from %s", alias, name(releaseNames, why), alias)
	case histTransferred:
		what = "δόθηκε σε: " + detail + " · transferred to " + detail
	default:
		what = event
	}
	return at.Format("15:04") + " " + what
}

// What operators read, in Greek and English. Every message about a case starts with its id in
// brackets.
const (
	opHelp = "Εντολές · Commands:\n" +
		"/duty on, /duty off — σε εφημερία ή εκτός, για σήμερα · on or off duty today\n" +
		"/cases — ανοιχτές υποθέσεις · open cases\n" +
		"/claim ID — ανάληψη · take a case\n" +
		"/note ID κείμενο — εσωτερική σημείωση, δεν τη βλέπει το άτομο · internal note, never shown to the person\n" +
		"/release ID — επιστροφή στην αναμονή · give a case back\n" +
		"/close ID — κλείσιμο, με έκβαση · close, with its outcome\n" +
		"/stats — στατιστικά των τελευταίων 4 εβδομάδων (μόνο αριθμοί, χωρίς προσωπικά στοιχεία) · the last four weeks' counts, about no one\n" +
		"Για να γράψεις στο άτομο: κάνε reply σε μήνυμα της υπόθεσης ή, αν έχεις μόνο μία υπόθεση, απλώς γράψε. · To write to the person, reply to a message of the case, or, if you hold only one case, just write."
	opClaimed        = "[%s] Ανέλαβες την υπόθεση. Ό,τι γράφεις φτάνει στο άτομο με την υπογραφή «%s». · You have this case; what you write reaches the person, signed %q."
	opTaken          = "[%s] Την έχει ήδη αναλάβει: %s. · Already taken."
	opTakenBy        = "[%s] Την ανέλαβε: %s. · Claimed by %s."
	opFull           = "Έχεις ήδη όσες υποθέσεις επιτρέπεται (όριο: %d). · You hold as many cases as allowed (limit: %d)."
	opGone           = "[%s] Δεν υπάρχει ανοιχτή υπόθεση με αυτόν τον κωδικό. · There is no open case %s."
	opNotYours       = "[%s] Δεν είναι δική σου υπόθεση· τίποτα δεν στάλθηκε. · Not your case; nothing was sent."
	opNoStats        = "Σε αυτό το σύστημα δεν τηρούνται στατιστικά. · This Faros keeps no statistics."
	opOffDuty        = "[%s] Δεν εφημερεύεις τώρα: μπορείς να αναλάβεις μόνο υποθέσεις που στάλθηκαν σε σένα. Γράψε /duty on για να αναλαμβάνεις κι άλλες. · You are off duty: you can claim only cases sent to you. /duty on to take others."
	opAway           = "[%s] Το μήνυμά σου φυλάχτηκε, αλλά δεν έχει φτάσει ακόμα: η σελίδα του ατόμου δεν είναι ανοιχτή. Θα το δει μόνο αν επιστρέψει στην ίδια σελίδα. · Kept but not delivered: the person's page is closed."
	opRemoved        = "↩ [%s] Η υπόθεση επιστρέφει σε όσους εφημερεύουν: ο/η σύμβουλος που την είχε αναλάβει δεν είναι πια στη λίστα συμβούλων. · Back with those on call: its counsellor left the roster."
	opReleased       = "[%s] Την άφησες· στάλθηκε ξανά σε όσους εφημερεύουν. · Given back to those on call."
	opClosed         = "[%s] Έκλεισε (%s). Τα στοιχεία της διαγράφηκαν. Τα μηνύματά της σβήνονται από αυτή τη συνομιλία, εκτός από όσα είναι παλαιότερα από 48 ώρες (όριο του Telegram). · Closed (%s); its data is deleted, and its messages are removed from this chat, except those older than 48 hours (a Telegram limit)."
	opDutyOn         = "Είσαι σε εφημερία για σήμερα. · You are on duty today."
	opDutyOff        = "Είσαι εκτός εφημερίας για σήμερα. · You are off duty today."
	opStillHeld      = "Έχεις ακόμα ανοιχτές υποθέσεις και τα μηνύματά τους θα συνεχίσουν να έρχονται σε σένα. Αν δεν θα τις συνεχίσεις, άφησέ τες για να πάνε σε όσους εφημερεύουν: · You still hold cases; their messages keep coming to you. If you will not go on with them, give them back:"
	opNoCase         = "Δεν έχεις υπόθεση· τίποτα δεν στάλθηκε. /cases για τις ανοιχτές. · You hold no case; nothing was sent. /cases lists the open ones."
	opNoCases        = "Καμία ανοιχτή υπόθεση. · No open cases."
	opWhich          = "Σε ποια υπόθεση πηγαίνει αυτό το μήνυμα; Δεν στάλθηκε ακόμα. (Την επόμενη φορά κάνε reply στο μήνυμα του ατόμου.) · Which case is this for? Not sent yet. (Next time, reply to the person's message.)"
	opReplyUnknown   = "Το μήνυμα στο οποίο έκανες reply δεν ανήκει σε ανοιχτή υπόθεση· δεν στάλθηκε τίποτα. Σε ποια υπόθεση πηγαίνει; · The message you replied to belongs to no open case; nothing was sent. Which case is it for?"
	opEdited         = "Οι αλλαγές σε μήνυμα που έστειλες ΔΕΝ φτάνουν στο άτομο· γράψε τη διόρθωση σε νέο μήνυμα. · Edits do not reach the person; send the correction as a new message."
	opClosing        = "[%s] Η υπόθεση κλείνει ήδη. · The case is closing already."
	opConfirmDuress  = "[%s] Κλείσιμο με έκβαση «%s»; Το άτομο έγραψε το κρυφό σήμα, οπότε δεν θα πάρει μήνυμα· τα στοιχεία της υπόθεσης θα διαγραφούν οριστικά. · Close as %q? The person typed the duress word, so gets no message; the data is deleted for good."
	opRemindDuress   = "⏰ [%s] Το άτομο έγραψε το κρυφό σήμα και δεν έχει απάντηση εδώ και %s. Αποφάσισε με τον/την υπεύθυνο/η βάρδιας αν και πότε θα γράψεις· η υπόθεση μένει σε σένα. · The person typed the duress word and has had no answer for %s. Decide with your shift supervisor whether and when to write; the case stays with you."
	opTechnical      = "⚠ Τεχνικό πρόβλημα: το μήνυμα ή η εντολή σου ΔΕΝ πέρασε. Δοκίμασε ξανά σε λίγο. · Technical problem: your message or command did NOT go through. Try again shortly."
	opHeldGone       = "Το μήνυμα αυτό δεν κρατιέται πια· γράψ' το ξανά. · That message is no longer held; write it again."
	opSentTo         = "→ [%s]"
	opNowTo          = "Τώρα έχεις μία υπόθεση, την [%s]: ό,τι γράφεις πηγαίνει σε αυτήν. · You now hold one case, %s: your words go to it."
	opPersonLeft     = "[%s] Το άτομο τερμάτισε τη συνομιλία· η υπόθεση έκλεισε. · The person ended the conversation; the case is closed."
	opPersonWipe     = "⚠ [%s] Το άτομο ΔΙΕΓΡΑΨΕ τη συνομιλία· η υπόθεση έκλεισε. Μπορεί να είναι σημάδι κινδύνου: κάποιος ίσως πήρε το κινητό. · The person WIPED the conversation; the case is closed. This may be a danger sign: someone may have taken the phone."
	opPersonGone     = "[%s] Το μήνυμά σου δεν μπορεί να φτάσει στο άτομο. · The person cannot be reached."
	opOnlyText       = "Στο άτομο φτάνει μόνο κείμενο· τίποτα δεν στάλθηκε. · Only text reaches the person; nothing was sent."
	opNote           = "[%s] 📝 Η σημείωση φυλάχτηκε· δεν τη βλέπει το άτομο. · Note kept; the person never sees it."
	opNoteHow        = "Γράψε: /note ID κείμενο, ή κάνε reply σε μήνυμα της υπόθεσης και γράψε /note κείμενο. · Write /note ID text, or reply to a message of the case with /note text."
	opWhichCase      = "Ποια υπόθεση; Γράψε την εντολή με τον κωδικό της (π.χ. /close ABCD2345) ή κάνε reply σε μήνυμα της υπόθεσης. · Which case? Add its id, or reply to one of its messages."
	opOutcomeQ       = "[%s] Πώς κλείνει η υπόθεση; · How does the case close?"
	opReferQ         = "[%s] Σε ποια υπηρεσία παραπέμφθηκε; · Referred to which service?"
	opConfirm        = "[%s] Κλείσιμο με έκβαση «%s»; Το άτομο θα πάρει μήνυμα αποχαιρετισμού και τα στοιχεία της υπόθεσης θα διαγραφούν οριστικά. · Close as %q? The person gets a goodbye message and the data is deleted for good."
	opConfirmQuiet   = "[%s] Κλείσιμο με έκβαση «%s»; Το άτομο δεν έγραψε ποτέ, οπότε δεν θα πάρει μήνυμα· τα στοιχεία της υπόθεσης θα διαγραφούν οριστικά. · Close as %q? The person never wrote, so gets no message; the data is deleted for good."
	opCancelled      = "Ακυρώθηκε· τίποτα δεν άλλαξε. · Cancelled; nothing changed."
	opRemind         = "⏰ [%s] Το άτομο περιμένει απάντησή σου εδώ και %s. Γράψε του ή άφησε την υπόθεση με /release %s. Αλλιώς σε %s θα πάει σε όσους εφημερεύουν. · The person has waited %s for your answer; write, or release it. It goes to the others in %s."
	opTakenAway      = "↩ [%s] Δεν απάντησες για %s· η υπόθεση δόθηκε σε όσους εφημερεύουν. · Not answered for %s; the case went to the others on call."
	opUnanswered     = "↩ [%s] Ο/η σύμβουλος που την είχε αναλάβει δεν απάντησε για %s· μπορείς να την αναλάβεις. · Its counsellor did not answer for %s; you can claim it."
	opUnreachable    = "↩ [%s] Ο/η σύμβουλος που την είχε αναλάβει δεν ήταν διαθέσιμος/η (το Telegram του/της ή το γραφείο του/της στο Faros)· μπορείς να την αναλάβεις. · Its counsellor could not be reached (their Telegram, or their desk page was closed); you can claim it."
	opLadderEndQuiet = "⚠ [%s] Κανείς δεν ανέλαβε την υπόθεση εδώ και %s. Το άτομο ΔΕΝ ενημερώθηκε, γιατί έγραψε το κρυφό σήμα. Η υπόθεση μένει ανοιχτή. · Nobody claimed it for %s; the person was not told, after the duress word. The case stays open."
	opLadderEnd      = "⚠ [%s] Κανείς δεν ανέλαβε την υπόθεση εδώ και %s. Το άτομο ενημερώθηκε ότι δεν μπόρεσε ακόμα να απαντήσει κανείς%s. Η υπόθεση μένει ανοιχτή. · Nobody claimed it for %s; the person was told nobody could answer yet. The case stays open."
	opMedia          = "[%s] 📎 %s ↓"
	opMediaLost      = "[%s] 📎 Το άτομο έστειλε %s, αλλά δεν μπόρεσε να σου προωθηθεί. Του ζητήθηκε να γράψει με λόγια τι ήθελε να πει. · The person sent %s, which could not be passed on; they were asked to write it in words."
	opEarlier        = "(… %d παλαιότερα μηνύματα δεν εμφανίζονται · %d earlier messages not shown)"
	opTranscript     = "[%s] Η συνομιλία ως τώρα · The conversation so far:"
	opAssigned       = "🔔 [%s] Σου ανέθεσε την υπόθεση: %s. Είναι τώρα δική σου. · %s gave you this case; it is yours now."
	opTransferred    = "[%s] Η υπόθεση δόθηκε σε: %s. · The case went to %s."
	opTakenFrom      = "↪ [%s] Η υπόθεση δόθηκε σε: %s (από: %s). Δεν είναι πια δική σου· μη γράψεις στο άτομο. · Given to a colleague; no longer yours."
	opChanged        = "[%s] Η υπόθεση άλλαξε στο μεταξύ (την ανέλαβε ή τη μετέφερε κάποιος)· δες την ξανά. · The case changed meanwhile; look again."
	opColleagueFull  = "[%s] Ο/η %s έχει ήδη όσες υποθέσεις επιτρέπεται· διάλεξε άλλον/άλλη. · That colleague holds as many cases as allowed."
)

// outcomes are the ways a case can close, with their Greek names.
var (
	outcomes     = []string{"referred", "information_given", "no_contact", "duplicate", "other"}
	outcomeNames = map[string]string{"referred": "παραπομπή", "information_given": "δόθηκε πληροφόρηση",
		"no_contact": "το άτομο δεν απαντά", "duplicate": "διπλή υπόθεση", "other": "άλλο"}
	releaseNames = map[string]string{byOperator: "με /release", operatorRemoved: "βγήκε από τη λίστα συμβούλων",
		unanswered: "δεν απάντησε εγκαίρως", unreachable: "δεν ήταν διαθέσιμος/η",
		"released_language": "χρειάζεται άλλη γλώσσα", "released_shift": "τέλος βάρδιας",
		"released_conflict": "δεν μπορούσε να την αναλάβει", "released_other": "άλλος λόγος"}
	mediaNames = map[string]string{"photo": "φωτογραφία · photo", "voice": "φωνητικό μήνυμα · voice note", "audio": "αρχείο ήχου · audio",
		"video": "βίντεο · video", "video_note": "βιντεομήνυμα · video note", "document": "αρχείο · file", "sticker": "αυτοκόλλητο · sticker",
		"animation": "GIF", "location": "τοποθεσία · location", "venue": "τοποθεσία · place", "contact": "επαφή · contact", "poll": "ψηφοφορία · poll"}
)

func alertText(id, alert string) string {
	switch alert {
	case "duress":
		return fmt.Sprintf("🔴🔴 [%s] ⚠⚠ ΚΡΥΦΟ ΣΗΜΑ: κάποιος ίσως διαβάζει τα μηνύματα του ατόμου. Το bot του απάντησε κάτι αθώο. Μη γράψεις τίποτα που μπορεί να το εκθέσει. · DURESS word: someone may be watching; the bot gave an innocent reply. Write nothing that would expose the person.", id)
	case "emergency":
		return fmt.Sprintf("🔴🔴 [%s] ⚠ ΚΙΝΔΥΝΟΣ: το άτομο έγραψε λέξη κινδύνου και είδε τα τηλέφωνα έκτακτης ανάγκης (112, 100, 1109). · EMERGENCY word: the person was shown the emergency numbers.", id)
	}
	return fmt.Sprintf("⚠ [%s] Το άτομο ζήτησε τα τηλέφωνα βοήθειας και τα είδε. · The person asked for the help numbers and was shown them.", id)
}
