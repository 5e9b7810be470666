package handoff

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/dialog"
)

// packet is what the operator learns about a case when it opens (DOMAIN.md, "What an operator
// receives"): never a name, a username or an id of the person. It is sealed with the case;
// what changes while the case lives (tier, waiting, history, numbers given) is in the record.
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
	switch {
	case tier >= 3 && minor:
		return []string{"112", "100", "1109", "1056"}
	case tier >= 3:
		return []string{"112", "100", "1109"}
	case tier == 2:
		return []string{"1109", "197"}
	}
	return nil
}

var (
	langNames   = map[string]string{"el": "Ελληνικά", "en": "Αγγλικά", "fr": "Γαλλικά", "sq": "Αλβανικά"}
	reasonNames = map[string]string{"urgent": "επείγον", "emergency": "έκτακτη ανάγκη", "likely": "πιθανή εκμετάλλευση",
		"possible": "ενδείξεις", "asked": "ζήτησε σύμβουλο", "duress": "ΛΕΞΗ ΠΙΕΣΗΣ: ίσως την/τον παρακολουθούν"}
	scopeNames  = map[string]string{"ekka": "μόνο ΕΚΚΑ · EKKA only", "ngo": "ΕΚΚΑ και οργανώσεις · EKKA and NGOs", "police": "ΕΚΚΑ, οργανώσεις και αστυνομία · also police"}
	safetyNames = map[string]string{"safe": "ασφαλές να μιλήσει · safe to chat", "unsure": "δεν είναι σίγουρο · not sure",
		"unsafe": "το κινητό μπορεί να το διαβάζει άλλος · the phone may be read by someone else"}
	// questionNames say, for each screening question, what a "yes" would mean, in a few words:
	// the packet groups the questions by the answer given. A question of the content without a
	// name here shows its indicator's code (a test checks that every question has one).
	questionNames = map[string]string{
		"minor": "κάτω των 18", "danger": "σε κίνδυνο τώρα", "promise": "άλλη δουλειά ή αμοιβή από ό,τι υποσχέθηκαν",
		"not_agreed": "δουλειά ή πράξεις που δεν δέχτηκε", "sex_money": "σεξ ενώ άλλος παίρνει τα χρήματα",
		"can_leave": "δεν μπορεί να σταματήσει ή να φύγει", "documents": "κρατούν το διαβατήριο ή την ταυτότητα",
		"debt": "χρέος που μεγαλώνει", "journey": "δουλεύει για να ξεπληρώσει το ταξίδι",
		"hurt": "χτύπημα, βία ή εξαναγκασμός σε σεξ", "hurt_now": "η βία συμβαίνει τώρα ή ίσως σήμερα",
		"threats": "απειλές (αστυνομία, απέλαση, όρκος/juju)", "afraid": "φοβάται τι θα γίνει αν φύγει",
		"wages": "απλήρωτη δουλειά ή του παίρνουν τα χρήματα", "hours": "πολύ μεγάλα ωράρια χωρίς ρεπό",
		"isolation": "δεν το αφήνουν να έχει τηλέφωνο, να βγει, να μιλήσει", "housing": "μένει όπου ορίζει το αφεντικό, σε κακές συνθήκες",
		"locked": "κλειδωμένο: δεν μπορεί να βγει", "dependence": "εξαρτάται από αυτόν για στέγη, χαρτιά, φαγητό",
	}
	labourCodes = []string{"withholding_of_wages", "excessive_overtime", "retention_of_documents", "debt_bondage", "restriction_of_movement"}
)

// kind is the likely form of exploitation: the operator's first guess, to be confirmed.
func (p packet) kind() (el, en string) {
	switch {
	case slices.Contains(p.Indicators, "sexual_exploitation"):
		return "σεξουαλική", "sexual"
	case slices.ContainsFunc(p.Indicators, func(c string) bool { return slices.Contains(labourCodes, c) }):
		return "εργασιακή", "labour"
	case len(p.Indicators) > 0:
		return "άλλη", "other"
	}
	return "άγνωστη", "unknown"
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
	{"", "Ναι (ένδειξη) · yes"}, {"unsure", "Δεν ξέρει · unsure"}, {"skip", "Δεν απάντησε · skipped"}, {"no", "Όχι · no"},
}

// answers renders the screening answers grouped: the positive ones first, then unsure,
// skipped and the rest (no, or a choice the content added).
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
				names = append(names, cmp.Or(questionNames[a.Question], a.Code, a.Question))
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
	to       Operator
	loc      *time.Location
	now      time.Time
	codeword bool // the operator claimed the case: the code word is theirs to know
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
		fmt.Fprintf(&b, " · έγραψε %d μηνύματα στην αναμονή · %d messages while waiting", r.Waited, r.Waited)
	}
	interpreter := !v.to.Speaks(p.Lang) && p.Lang != "el"
	fmt.Fprintf(&b, "\nΓλώσσα: %s", name(langNames, p.Lang))
	if interpreter {
		b.WriteString(" — χρειάζεσαι διερμηνέα · you need an interpreter")
	}
	b.WriteString("\n")
	if p.Minor || v.ageUnsure() {
		b.WriteString("👶 ΚΑΤΩ ΤΩΝ 18 Ή ΑΒΕΒΑΙΗ ΗΛΙΚΙΑ · under 18 or unsure\n")
	}
	el, en := p.kind()
	fmt.Fprintf(&b, "Πιθανή μορφή: %s\n%s", el, p.answers())
	fmt.Fprintf(&b, "Συναίνεση: %s\nΑσφάλεια: %s\n", name(scopeNames, p.Scope), name(safetyNames, p.Safety))
	if v.codeword {
		if p.Codeword != "" {
			fmt.Fprintf(&b, "Λέξη-κωδικός (ρώτα τη, αν αμφιβάλλεις ποιος γράφει · ask for it if unsure who writes): %s\n", p.Codeword)
		} else {
			b.WriteString("Λέξη-κωδικός: δεν διάλεξε · none chosen\n")
		}
	}
	fmt.Fprintf(&b, "Τηλέφωνα που δόθηκαν: %s\n", cmp.Or(strings.Join(r.Given, ", "), "—"))
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

// minutes is a duration as an operator reads it: "4′", "1 ώ 05′".
func minutes(d time.Duration) string {
	m := int(max(d, 0).Minutes())
	if m < 60 {
		return fmt.Sprintf("%d′", m)
	}
	return fmt.Sprintf("%d ώ %02d′", m/60, m%60)
}

// A case's history: one line per event, "event|unix ms|detail".
const (
	histEscalated  = "escalated"  // detail: the level reached
	histRaised     = "raised"     // detail: the alert that made it tier 3
	histReleased   = "released"   // detail: the operator's alias and why
	histUnanswered = "unanswered" // detail: the operator's alias
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
		what = "κλιμάκωση: στάλθηκε σε περισσότερους (επίπεδο " + detail + ") · escalated"
	case histRaised:
		what = "έγινε επείγουσα (" + name(reasonNames, detail) + ") · raised to tier 3"
	case histReleased:
		alias, why, _ := strings.Cut(detail, "|")
		what = fmt.Sprintf("την άφησε: %s (%s) · released by %s", alias, name(releaseNames, why), alias)
	case histUnanswered:
		what = fmt.Sprintf("δεν απάντησε εγκαίρως: %s · not answered in time", detail)
	default:
		what = event
	}
	return at.Format("15:04") + " " + what
}

// What operators read, in Greek and English. Every message about a case starts with its id in
// brackets.
const (
	opHelp = "Εντολές · Commands:\n" +
		"/duty on, /duty off — εφημερία σήμερα · on or off duty today\n" +
		"/cases — ανοιχτές υποθέσεις · open cases\n" +
		"/claim ID — ανάληψη · take a case\n" +
		"/note ID κείμενο — εσωτερική σημείωση, δεν τη βλέπει το άτομο · internal note, never shown to the person\n" +
		"/release ID — επιστροφή στην αναμονή · give a case back\n" +
		"/close ID — κλείσιμο, με έκβαση · close, with its outcome\n" +
		"Για να γράψεις στο άτομο: απάντησε (reply) σε μήνυμα της υπόθεσης, ή απλώς γράψε αν έχεις μία υπόθεση. · To write to the person, reply to a message of the case, or just write if you hold one case."
	opClaimed    = "[%s] Ανέλαβες την υπόθεση. Ό,τι γράφεις φτάνει στο άτομο με την υπογραφή «%s». · You have this case; what you write reaches the person, signed %q."
	opTaken      = "[%s] Την έχει ήδη αναλάβει: %s. · Already taken."
	opTakenBy    = "[%s] Την ανέλαβε: %s. · Claimed by %s."
	opFull       = "Έχεις ήδη %d υποθέσεις, το όριό σου. · You hold %d cases, your limit."
	opGone       = "[%s] Δεν υπάρχει ανοιχτή υπόθεση με αυτόν τον κωδικό. · There is no open case %s."
	opNotYours   = "[%s] Δεν είναι δική σου υπόθεση· τίποτα δεν στάλθηκε. · Not your case; nothing was sent."
	opAway       = "[%s] Το μήνυμά σου φυλάχτηκε, αλλά δεν έχει φτάσει ακόμα: η σελίδα του ατόμου δεν είναι ανοιχτή. Θα το δει μόνο αν επιστρέψει στην ίδια σελίδα. · Kept but not delivered: the person's page is closed."
	opRemoved    = "↩ [%s] Επιστρέφει σε όσους εφημερεύουν: ο/η σύμβουλος που την είχε δεν είναι πια στη λίστα. · Back with those on call: its counsellor left the roster."
	opReleased   = "[%s] Την άφησες· στάλθηκε ξανά σε όσους εφημερεύουν. · Given back to those on call."
	opClosed     = "[%s] Έκλεισε (%s). Τα στοιχεία της διαγράφηκαν, και τα μηνύματά της σβήνονται από αυτή τη συνομιλία όπου το επιτρέπει το Telegram (48 ώρες). · Closed (%s); its data is deleted and its messages are removed from this chat where Telegram allows."
	opDutyOn     = "Είσαι σε εφημερία για σήμερα. · You are on duty today."
	opDutyOff    = "Είσαι εκτός εφημερίας για σήμερα. · You are off duty today."
	opStillHeld  = "Έχεις ακόμα ανοιχτές υποθέσεις: τα μηνύματά τους θα συνεχίσουν να έρχονται σε σένα. Άφησέ τες, για να πάνε σε όσους εφημερεύουν: · You still hold cases; their messages keep coming to you. Give them back:"
	opNoCase     = "Δεν έχεις υπόθεση· τίποτα δεν στάλθηκε. /cases για τις ανοιχτές. · You hold no case; nothing was sent. /cases lists the open ones."
	opNoCases    = "Καμία ανοιχτή υπόθεση. · No open cases."
	opWhich      = "Σε ποια υπόθεση πηγαίνει αυτό το μήνυμα; Δεν στάλθηκε ακόμα. (Την επόμενη φορά απάντησε με reply στο μήνυμα του ατόμου.) · Which case is this for? Not sent yet. (Next time, reply to the person's message.)"
	opHeldGone   = "Το μήνυμα αυτό δεν κρατιέται πια· γράψ' το ξανά. · That message is no longer held; write it again."
	opSentTo     = "→ [%s]"
	opNowTo      = "Τώρα έχεις μία υπόθεση, την [%s]: ό,τι γράφεις πηγαίνει σε αυτήν. · You now hold one case, %s: your words go to it."
	opPersonLeft = "[%s] Το άτομο τερμάτισε τη συνομιλία· η υπόθεση έκλεισε. · The person ended the conversation; the case is closed."
	opPersonWipe = "⚠ [%s] Το άτομο ΔΙΕΓΡΑΨΕ τη συνομιλία· η υπόθεση έκλεισε. Μπορεί να είναι σημάδι κινδύνου: κάποιος ίσως πήρε το κινητό. Μη γράψεις ξανά εδώ. · The person WIPED the conversation; the case is closed. This may be a danger sign."
	opPersonGone = "[%s] Το μήνυμα δεν μπορεί να φτάσει στο άτομο. · The person cannot be reached."
	opOnlyText   = "Στο άτομο φτάνει μόνο κείμενο· τίποτα δεν στάλθηκε. · Only text reaches the person; nothing was sent."
	opNote       = "[%s] 📝 Η σημείωση φυλάχτηκε· δεν τη βλέπει το άτομο. · Note kept; the person never sees it."
	opNoteHow    = "Γράψε: /note ID κείμενο (ή απάντησε με reply σε μήνυμα της υπόθεσης). · Write /note ID text."
	opOutcomeQ   = "[%s] Πώς κλείνει η υπόθεση; · How does the case close?"
	opReferQ     = "[%s] Σε ποια υπηρεσία παραπέμφθηκε; · Referred to which service?"
	opConfirm    = "[%s] Κλείσιμο με έκβαση «%s»; Το άτομο θα πάρει μήνυμα αποχαιρετισμού και τα στοιχεία θα διαγραφούν. · Close as %q? The data will be deleted."
	opCancelled  = "Ακυρώθηκε· τίποτα δεν άλλαξε. · Cancelled; nothing changed."
	opRemind     = "⏰ [%s] Το άτομο περιμένει απάντησή σου εδώ και %s. Γράψε του, ή /release %s για να την πάρει άλλος. Αλλιώς σε %s θα δοθεί σε όσους εφημερεύουν. · The person has waited %s for your answer; write, or release it. It goes to the others in %s."
	opTakenAway  = "↩ [%s] Δεν απάντησες για %s· η υπόθεση δόθηκε σε όσους εφημερεύουν. · Not answered for %s; the case went to the others on call."
	opUnanswered = "↩ [%s] Ο/η σύμβουλος δεν απάντησε για %s· ξαναδίνεται. · Its counsellor did not answer for %s; offered again."
	opLadderEnd  = "⚠ [%s] Κανείς δεν ανέλαβε εδώ και %s. Το άτομο ενημερώθηκε ότι δεν απάντησε ακόμα κανείς%s. · Nobody claimed it for %s; the person was told nobody could answer yet."
	opMedia      = "[%s] 📎 %s ↓"
	opMediaLost  = "[%s] 📎 Το άτομο έστειλε %s, που δεν μπόρεσε να σου προωθηθεί· του ζητήθηκε να το γράψει. · The person sent %s, which could not be passed on; they were asked to write it."
	opTranscript = "[%s] Η συνομιλία ως τώρα · The conversation so far:"
)

// outcomes are the ways a case can close, with their Greek names.
var (
	outcomes     = []string{"referred", "information_given", "no_contact", "duplicate", "other"}
	outcomeNames = map[string]string{"referred": "παραπομπή", "information_given": "δόθηκε πληροφόρηση",
		"no_contact": "δεν υπήρξε επικοινωνία", "duplicate": "διπλή υπόθεση", "other": "άλλο"}
	releaseNames = map[string]string{byOperator: "την άφησε", operatorRemoved: "βγήκε από τη λίστα", unanswered: "δεν απάντησε εγκαίρως"}
	mediaNames   = map[string]string{"photo": "φωτογραφία · photo", "voice": "φωνητικό μήνυμα · voice note", "audio": "ήχο · audio",
		"video": "βίντεο · video", "video_note": "βίντεο · video note", "document": "αρχείο · file", "sticker": "αυτοκόλλητο · sticker",
		"animation": "GIF", "location": "τοποθεσία · location", "venue": "τοποθεσία · place", "contact": "επαφή · contact", "poll": "ψηφοφορία · poll"}
)

func alertText(id, alert string) string {
	switch alert {
	case "duress":
		return fmt.Sprintf("🔴🔴 [%s] ⚠⚠ ΛΕΞΗ ΠΙΕΣΗΣ: κάποιος ίσως παρακολουθεί το άτομο. Μη γράψεις τίποτα που θα το εκθέσει. · DURESS word: someone may be watching; write nothing that would expose the person.", id)
	case "emergency":
		return fmt.Sprintf("🔴🔴 [%s] ⚠ ΚΙΝΔΥΝΟΣ: το άτομο έγραψε λέξη κινδύνου και είδε τα τηλέφωνα έκτακτης ανάγκης (112, 100, 1109). · EMERGENCY word: the person was shown the emergency numbers.", id)
	}
	return fmt.Sprintf("⚠ [%s] Το άτομο ζήτησε τα τηλέφωνα βοήθειας και τα είδε. · The person asked for the help numbers and was shown them.", id)
}
