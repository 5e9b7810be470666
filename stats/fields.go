package stats

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// The fields of a week's hash. Each is a section and a row of the published table; none
// holds anything but category names and a tier digit:
//
//	tier|LANG|CHANNEL|TIER   screenings that ended at TIER (0-3), e.g. tier|el|telegram|2
//	code|CODE                screenings with a positive answer for indicator CODE
//	kind|KIND                screenings whose positive indicators are labour, sexual, both or unclear
//	minor                    screenings where the minor presumption holds
//	handoff|offered          a handoff offered; handoff|accepted: one accepted
//	claim|BUCKET             a case claimed, by how long it had waited (Buckets)
//	closed|OUTCOME           a case closed with OUTCOME
//
// Names are letters a-z and "_" only (languages 2-3 letters): a pseudonym (hex) or a chat id
// (digits) passed by mistake is refused, not stored.

// Sections are the published tables, in order.
var Sections = []string{"tiers", "indicators", "kinds", "minors", "handoffs", "claims", "closed"}

// Kinds are the rows of "kinds", in order.
var Kinds = []string{"labour", "sexual", "both", "unclear"}

// Buckets are the claim times counted, in order: under 5 minutes, 5-15, 15-60, 1-4 hours,
// over 4 hours. Coarse on purpose: they show whether people wait minutes or hours, which is
// what the desk needs to know, and no more.
var Buckets = []string{"lt5m", "5to15m", "15to60m", "1to4h", "gt4h"}

var bucketLimits = []time.Duration{5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour}

// HandoffEvents are the rows of "handoffs", in order.
var HandoffEvents = []string{"offered", "accepted"}

// withTotals says which sections' rows add up to something: their column totals (and grand
// total) are published. The handoffs' rows (offered, accepted) do not add up, and "minors"
// has one row, whose column totals would be its own cells.
var withTotals = map[string]bool{"tiers": true, "indicators": true, "kinds": true, "claims": true, "closed": true}

func bucketOf(wait time.Duration) string {
	for i, limit := range bucketLimits {
		if wait < limit {
			return Buckets[i]
		}
	}
	return Buckets[len(Buckets)-1]
}

// TierField is the field counting screenings of lang and channel ending at tier.
func TierField(lang, channel string, tier int) string {
	return "tier|" + lang + "|" + channel + "|" + strconv.Itoa(tier)
}

// ParseField says which section and row a field of a week's hash counts in; ok is false for
// anything that is not a field this package writes.
func ParseField(f string) (section, row string, ok bool) {
	parts := strings.Split(f, "|")
	switch {
	case len(parts) == 4 && parts[0] == "tier":
		if isLang(parts[1]) && isName(parts[2]) && len(parts[3]) == 1 && parts[3] >= "0" && parts[3] <= "3" {
			return "tiers", strings.Join(parts[1:], "|"), true
		}
	case len(parts) == 2 && parts[0] == "code" && isName(parts[1]):
		return "indicators", parts[1], true
	case len(parts) == 2 && parts[0] == "kind" && slices.Contains(Kinds, parts[1]):
		return "kinds", parts[1], true
	case f == "minor":
		return "minors", "minor", true
	case len(parts) == 2 && parts[0] == "handoff" && slices.Contains(HandoffEvents, parts[1]):
		return "handoffs", parts[1], true
	case len(parts) == 2 && parts[0] == "claim" && slices.Contains(Buckets, parts[1]):
		return "claims", parts[1], true
	case len(parts) == 2 && parts[0] == "closed" && isName(parts[1]):
		return "closed", parts[1], true
	}
	return "", "", false
}

// isName: a category name, 1-48 of a-z and "_", starting with a letter.
func isName(s string) bool {
	if s == "" || len(s) > 48 || s[0] == '_' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}

// isLang: a language code of 2 or 3 letters a-z.
func isLang(s string) bool {
	return len(s) >= 2 && len(s) <= 3 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz") == ""
}
