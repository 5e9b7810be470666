package stats

import (
	"cmp"
	"strconv"
	"strings"
)

// Names are the indicators' names by code and language ("el", "en"), as triggers.yaml lists
// them; a code without a name is shown as its code.
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

var hiddenNote = bi{"x: κρυφό (λιγότερα από %d, ή θα φανέρωνε ένα τέτοιο κελί)", "x: hidden (under %d, or it would reveal such a cell)"}

var sectionTitles = map[string]bi{
	"tiers":      {"Ολοκληρωμένες αξιολογήσεις, ανά γλώσσα, κανάλι και βαθμίδα", "Screenings, by language, channel and tier"},
	"indicators": {"Θετικές απαντήσεις, ανά δείκτη", "Positive answers, by indicator"},
	"kinds":      {"Πιθανή μορφή εκμετάλλευσης", "Likely form of exploitation"},
	"minors":     {"Πιθανοί ανήλικοι", "Possible minors"},
	"handoffs":   {"Σύνδεση με σύμβουλο", "Handoffs to a counsellor"},
	"claims":     {"Αναλήψεις υποθέσεων, ανά χρόνο αναμονής", "Cases claimed, by time waited"},
	"closed":     {"Κλεισμένες υποθέσεις, ανά έκβαση", "Cases closed, by outcome"},
}

var rowNames = map[string]bi{
	"labour": {"εργασιακή", "labour"}, "sexual": {"σεξουαλική", "sexual"}, "both": {"και οι δύο", "both"},
	"unclear": {"ασαφής", "unclear"}, "minor": {"πιθανοί ανήλικοι", "possible minors"},
	"offered": {"προτάθηκε", "offered"}, "accepted": {"έγινε δεκτή", "accepted"},
	"lt5m": {"< 5 λεπτά", "< 5 min"}, "5to15m": {"5–15 λεπτά", "5–15 min"}, "15to60m": {"15–60 λεπτά", "15–60 min"},
	"1to4h": {"1–4 ώρες", "1–4 h"}, "gt4h": {"> 4 ώρες", "> 4 h"},
	"referred": {"παραπομπή", "referred"}, "information_given": {"δόθηκε πληροφόρηση", "information given"},
	"no_contact": {"το άτομο δεν απαντά", "no contact"}, "duplicate": {"διπλή υπόθεση", "duplicate"},
	"other": {"άλλο", "other"}, "person_left": {"το άτομο αποχώρησε", "person left"},
	"total": {"σύνολο", "total"},
}

var langNames = map[string]bi{
	"el": {"ελληνικά", "Greek"}, "en": {"αγγλικά", "English"}, "fr": {"γαλλικά", "French"},
	"sq": {"αλβανικά", "Albanian"}, "ur": {"ούρντου", "Urdu"}, "bn": {"μπενγκάλι", "Bengali"},
	"ar": {"αραβικά", "Arabic"}, "und": {"άγνωστη", "unknown"},
}

var channelNames = map[string]bi{"telegram": {"Telegram", "Telegram"}, "web": {"web chat", "web chat"}, "api": {"API", "API"}}

func langName(code string) bi {
	if b, ok := langNames[code]; ok {
		return b
	}
	return bi{code, code}
}

func tierName(t string) bi { return bi{"βαθμίδα " + t, "tier " + t} }

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
			l, t := langName(p[0]), tierName(p[2])
			return bi{l.el + ", " + ch.el + ", " + t.el, l.en + ", " + ch.en + ", " + t.en}
		}
	case "indicators":
		if n := names[key]; n["el"] != "" || n["en"] != "" {
			return bi{cmp.Or(n["el"], n["en"]), cmp.Or(n["en"], n["el"])}
		}
	}
	if b, ok := rowNames[key]; ok {
		return b
	}
	return bi{key, key}
}

// text is how a cell is written everywhere: its count, or the hidden mark.
func (c Cell) text() string {
	if c.Hidden {
		return Hidden
	}
	return strconv.Itoa(c.N)
}

// periodName is a period for people: "W48 2026", or "11/2026" for a month.
func periodName(p string) string {
	if y, w, ok := strings.Cut(p, "-W"); ok {
		return "W" + w + " " + y
	}
	if y, m, ok := strings.Cut(p, "-"); ok {
		return m + "/" + y
	}
	return p
}
