package handoff

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faros-project/faros/bot"
)

// packet is what the operator learns about a case (DOMAIN.md, "What an operator receives"):
// never a name, a username or an id of the person.
type packet struct {
	Case       string    `json:"case"`
	Channel    string    `json:"channel"`
	Lang       string    `json:"lang"`
	Tier       int       `json:"tier"`
	Reason     string    `json:"reason"`
	Indicators []string  `json:"indicators"`
	Minor      bool      `json:"minor"`
	Scope      string    `json:"scope"`   // consent: ekka, ngo, police
	Contact    string    `json:"contact"` // may the operator write again later: yes, no
	Safety     string    `json:"safety"`  // the answer to the safety check: safe, unsure, unsafe
	Hotlines   []string  `json:"hotlines"`
	Codeword   string    `json:"codeword,omitempty"` // the person's, for the operator to ask for
	Time       time.Time `json:"time"`
}

func newPacket(id string, h bot.Handoff, now time.Time) packet {
	a := h.State.Answers
	p := packet{Case: id, Channel: h.Channel, Lang: h.State.Lang, Tier: h.Tier, Reason: h.Reason,
		Indicators: h.Indicators, Minor: h.State.Flags["minor"], Scope: a["scope"], Contact: a["contact"],
		Safety: a["safety"], Codeword: h.Secrets["codeword"], Time: now}
	// The numbers the flows showed on the way to this handoff, at least.
	switch {
	case h.Tier >= 3:
		p.Hotlines = []string{"112", "100", "1109"}
		if p.Minor {
			p.Hotlines = append(p.Hotlines, "1056")
		}
	case h.Tier == 2:
		p.Hotlines = []string{"1109", "197"}
	}
	return p
}

var (
	langNames    = map[string]string{"el": "Ελληνικά", "en": "Αγγλικά", "fr": "Γαλλικά", "sq": "Αλβανικά"}
	reasonNames  = map[string]string{"urgent": "επείγον", "emergency": "έκτακτη ανάγκη", "likely": "πιθανή εκμετάλλευση", "possible": "ενδείξεις", "asked": "ζήτησε σύμβουλο", "duress": "ΛΕΞΗ ΠΙΕΣΗΣ: ίσως την παρακολουθούν"}
	scopeNames   = map[string]string{"ekka": "μόνο ΕΚΚΑ · EKKA only", "ngo": "ΕΚΚΑ και οργανώσεις · EKKA and NGOs", "police": "και αστυνομία · also police"}
	safetyNames  = map[string]string{"safe": "ασφαλές να μιλήσει · safe to chat", "unsure": "δεν είναι σίγουρο · not sure", "unsafe": "το κινητό μπορεί να το διαβάζει άλλος · the phone may be read by someone else"}
	contactNames = map[string]string{"yes": "ναι · yes", "no": "όχι · no"}
	codeNames    = map[string]string{
		"violence_threats": "κίνδυνος τώρα", "deception": "εξαπάτηση", "sexual_exploitation": "σεξουαλική εκμετάλλευση",
		"restriction_of_movement": "περιορισμός κίνησης", "retention_of_documents": "παρακράτηση εγγράφων",
		"debt_bondage": "χρέος που δεσμεύει", "physical_sexual_violence": "σωματική ή σεξουαλική βία",
		"intimidation_threats": "εκφοβισμός, απειλές", "withholding_of_wages": "παρακράτηση μισθού",
		"excessive_overtime": "υπερβολικές ώρες", "isolation": "απομόνωση",
		"abusive_living_conditions": "καταχρηστικές συνθήκες διαμονής", "abuse_of_vulnerability": "κατάχρηση ευαλωτότητας",
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

// render is the packet as the operator reads it: Greek, then one line of English.
func (p packet) render(r *Roster) string {
	loc := time.UTC
	if r != nil {
		loc = r.Timezone()
	}
	interpreter := p.Lang != "el" && p.Lang != "en"
	var b strings.Builder
	fmt.Fprintf(&b, "Υπόθεση %s · επίπεδο %d (%s)\n", p.Case, p.Tier, name(reasonNames, p.Reason))
	fmt.Fprintf(&b, "Γλώσσα: %s", name(langNames, p.Lang))
	if interpreter {
		b.WriteString(" — χρειάζεται διερμηνέας")
	}
	var codes []string
	for _, c := range p.Indicators {
		codes = append(codes, name(codeNames, c))
	}
	el, en := p.kind()
	fmt.Fprintf(&b, "\nΕνδείξεις: %s\nΠιθανή μορφή: %s\n", cmp.Or(strings.Join(codes, " · "), "καμία δηλωμένη"), el)
	if p.Minor {
		b.WriteString("ΑΝΗΛΙΚΟΣ/Η: ναι\n")
	}
	fmt.Fprintf(&b, "Συναίνεση: %s\nΕπικοινωνία αργότερα: %s\nΑσφάλεια: %s\n", name(scopeNames, p.Scope), name(contactNames, p.Contact), name(safetyNames, p.Safety))
	if p.Codeword != "" {
		fmt.Fprintf(&b, "Λέξη-κωδικός (ρώτα τη, αν αμφιβάλλεις ποιος γράφει · ask for it if unsure who writes): %s\n", p.Codeword)
	}
	fmt.Fprintf(&b, "Τηλέφωνα που δόθηκαν: %s\nΚανάλι: %s · %s\n", cmp.Or(strings.Join(p.Hotlines, ", "), "—"), p.Channel, p.Time.In(loc).Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "EN: case %s, tier %d (%s); language %s", p.Case, p.Tier, p.Reason, p.Lang)
	if interpreter {
		b.WriteString(", interpreter needed")
	}
	fmt.Fprintf(&b, "; indicators: %s; likely %s", cmp.Or(strings.Join(p.Indicators, ", "), "none stated"), en)
	if p.Minor {
		b.WriteString("; MINOR")
	}
	fmt.Fprintf(&b, "; consent: %s; later contact: %s.", cmp.Or(p.Scope, "-"), cmp.Or(p.Contact, "-"))
	return b.String()
}

// What operators read, in Greek and English.
const (
	opHelp = "Εντολές · Commands:\n" +
		"/duty on, /duty off — εφημερία σήμερα · on or off duty today\n" +
		"/cases — ανοιχτές υποθέσεις · open cases\n" +
		"/claim ID — ανάληψη, ή ενεργή υπόθεση αν είναι ήδη δική σου · take a case, or make one of yours active\n" +
		"/release ID — επιστροφή στην αναμονή · give a case back\n" +
		"/close ID ΕΚΒΑΣΗ — κλείσιμο · close (referred, information_given, no_contact, duplicate, other)\n" +
		"Ό,τι άλλο γράφεις πηγαίνει στο άτομο της ενεργής υπόθεσης. · Anything else goes to the person of your active case."
	opClaimed    = "Ανέλαβες την υπόθεση %s. Ό,τι γράφεις εδώ φτάνει στο άτομο με την υπογραφή «%s». Κλείσιμο: /close %s ΕΚΒΑΣΗ.\nEN: you have case %s; what you write here reaches the person, signed %q."
	opTaken      = "Η υπόθεση %s έχει ήδη αναληφθεί (%s). · Case %s is already taken."
	opTakenBy    = "Η υπόθεση %s αναλήφθηκε από %s. · Case %s was claimed by %s."
	opFull       = "Έχεις ήδη %d υποθέσεις, το όριό σου. · You hold %d cases, your limit."
	opGone       = "Δεν υπάρχει ανοιχτή υπόθεση %s. · There is no open case %s."
	opNotYours   = "Η υπόθεση %s δεν είναι δική σου. · Case %s is not yours."
	opAway       = "Υπόθεση %s: το μήνυμά σου φυλάχτηκε, αλλά δεν έχει φτάσει ακόμα. Η σελίδα του ατόμου δεν είναι ανοιχτή τώρα· θα το δει μόνο αν επιστρέψει στην ίδια σελίδα. · Case %s: your message is kept but not yet delivered. The person's page is not open now; they will see it only if they return to that same page."
	opRemoved    = "↩ Η υπόθεση %s επιστρέφει σε όσους εφημερεύουν: ο/η σύμβουλος που την είχε αναλάβει δεν είναι πια στη λίστα συμβούλων. · Case %s is back with those on call: its counsellor is no longer on the roster."
	opReleased   = "Άφησες την υπόθεση %s· στάλθηκε ξανά σε όσους εφημερεύουν. · Case %s is back with those on call."
	opClosed     = "Η υπόθεση %s έκλεισε (%s) και τα στοιχεία της διαγράφηκαν. · Case %s is closed (%s); its data is deleted."
	opOutcome    = "Γράψε: /close ID ΕΚΒΑΣΗ, με έκβαση referred, information_given, no_contact, duplicate ή other. · Write /close ID OUTCOME."
	opDutyOn     = "Είσαι σε εφημερία για σήμερα. · You are on duty today."
	opDutyOff    = "Είσαι εκτός εφημερίας για σήμερα. · You are off duty today."
	opNoActive   = "Δεν έχεις ενεργή υπόθεση· /cases για τις ανοιχτές. · You have no active case; /cases lists the open ones."
	opNoCases    = "Καμία ανοιχτή υπόθεση. · No open cases."
	opSentTo     = "→ %s"
	opActive     = "Ό,τι γράφεις τώρα πηγαίνει στην υπόθεση %s. · Your words now go to case %s."
	personLeft   = "[%s] Το άτομο τερμάτισε τη συνομιλία· η υπόθεση %s έκλεισε. · The person ended the conversation; the case is closed."
	opPersonGone = "Η συνομιλία της υπόθεσης %s δεν μπορεί να φτάσει στο άτομο. · The person of case %s cannot be reached."
)

// outcomes are the ways a case can close.
var outcomes = []string{"referred", "information_given", "no_contact", "duplicate", "other"}

func alertText(id, alert string) string {
	switch alert {
	case "duress":
		return fmt.Sprintf("[%s] ⚠⚠ ΛΕΞΗ ΠΙΕΣΗΣ: κάποιος ίσως παρακολουθεί το άτομο. Μη γράψεις τίποτα που θα το εκθέσει. · DURESS word: someone may be watching; write nothing that would expose the person.", id)
	case "emergency":
		return fmt.Sprintf("[%s] ⚠ Το άτομο έγραψε λέξη κινδύνου και είδε τα τηλέφωνα έκτακτης ανάγκης. · The person typed an emergency word and was shown the emergency numbers.", id)
	}
	return fmt.Sprintf("[%s] ⚠ Το άτομο ζήτησε τα τηλέφωνα βοήθειας. · The person asked for the help numbers.", id)
}
