package stats

import (
	"cmp"
	"strconv"
	"strings"
)

// Names are the names of the indicators (by code, as triggers.yaml lists them) and of the
// languages (by language code, from each locale file's language_name_el and language_name_en),
// in Greek and English ("el", "en"); a code without a name is shown as its code.
type Names map[string]map[string]string

// bi is a text in Greek and English.
type bi struct{ el, en string }

func (b bi) String() string {
	if b.el == b.en {
		return b.el
	}
	return b.el + " · " + b.en
}

// Hidden is how every hidden cell is written, whether it is under k or hidden so that one
// under k cannot be worked out: one mark for both, since telling them apart would let a
// reader bound the ones under k by the others (a row of 6 split into "<5" and "≥5" is 1 and 5).
const Hidden = "x"

var hiddenNote = bi{"x: δεν εμφανίζεται (κάτω από %d, ή θα επέτρεπε να υπολογιστεί ένας τέτοιος αριθμός)", "x: hidden (under %d, or it would reveal such a count)"}

var sectionTitles = map[string]bi{
	"tiers":      {"Ολοκληρωμένες αξιολογήσεις ανά γλώσσα, κανάλι και επίπεδο", "Screenings, by language, channel and tier"},
	"indicators": {"Θετικές απαντήσεις ανά δείκτη", "Positive answers, by indicator"},
	"kinds":      {"Πιθανή μορφή εκμετάλλευσης", "Likely form of exploitation"},
	"minors":     {"Πιθανοί ανήλικοι", "Possible minors"},
	"handoffs":   {"Σύνδεση με σύμβουλο", "Handoffs to a counsellor"},
	"claims":     {"Αναλήψεις υποθέσεων ανά χρόνο αναμονής", "Cases claimed, by time waited"},
	"closed":     {"Υποθέσεις που έκλεισαν, ανά έκβαση", "Cases closed, by outcome"},
}

var rowNames = map[string]bi{
	"labour": {"εργασιακή", "labour"}, "sexual": {"σεξουαλική", "sexual"}, "both": {"εργασιακή και σεξουαλική", "both"},
	"unclear": {"άλλη ή ασαφής", "other or unclear"}, "minor": {"κάτω των 18 ή αβέβαιη ηλικία", "under 18 or unsure"},
	"offered": {"προτάθηκε", "offered"}, "accepted": {"έγινε δεκτή", "accepted"},
	"lt5m": {"< 5 λεπτά", "< 5 min"}, "5to15m": {"5–15 λεπτά", "5–15 min"}, "15to60m": {"15–60 λεπτά", "15–60 min"},
	"1to4h": {"1–4 ώρες", "1–4 h"}, "gt4h": {"> 4 ώρες", "> 4 h"},
	"referred": {"παραπομπή", "referred"}, "information_given": {"δόθηκε πληροφόρηση", "information given"},
	"no_contact": {"το άτομο δεν απαντά", "no contact"}, "duplicate": {"διπλή υπόθεση", "duplicate"},
	"other": {"άλλο", "other"}, "person_left": {"το άτομο τερμάτισε τη συνομιλία", "person left"},
	"person_wiped": {"το άτομο διέγραψε τη συνομιλία", "person wiped the chat"}, "und": {"άγνωστη", "unknown"},
	"total": {"σύνολο", "total"},
}

var channelNames = map[string]bi{"telegram": {"Telegram", "Telegram"}, "web": {"ιστοσελίδα", "web chat"}, "api": {"API", "API"}}

// name is code's name in names (an indicator or a language), else from rowNames, else code.
func name(code string, names Names) bi {
	if n := names[code]; n["el"] != "" || n["en"] != "" {
		return bi{cmp.Or(n["el"], n["en"]), cmp.Or(n["en"], n["el"])}
	}
	if b, ok := rowNames[code]; ok {
		return b
	}
	return bi{code, code}
}

func tierName(t string) bi { return bi{"επίπεδο " + t, "tier " + t} }

// rowName is a row's name in both languages.
func rowName(section, key string, names Names) bi {
	switch section {
	case "tiers":
		p := strings.Split(key, "|")
		if len(p) == 3 {
			ch, ok := channelNames[p[1]]
			if !ok {
				ch = bi{p[1], p[1]}
			}
			l, t := name(p[0], names), tierName(p[2])
			return bi{l.el + ", " + ch.el + ", " + t.el, l.en + ", " + ch.en + ", " + t.en}
		}
	}
	return name(key, names)
}

// text is how a cell is written everywhere: its count, or the hidden mark.
func (c Cell) text() string {
	if c.Hidden {
		return Hidden
	}
	return strconv.Itoa(c.N)
}

// periodName is a period for people: a week by the date of its Monday ("3/11"), a month as
// "11/2026". Counsellors do not count in ISO weeks; CSV and JSON keep them, for machines.
func periodName(p string) string {
	if w, err := ParseWeek(p); err == nil {
		return w.Monday().Format("2/1")
	}
	if y, m, ok := strings.Cut(p, "-"); ok {
		return m + "/" + y
	}
	return p
}
