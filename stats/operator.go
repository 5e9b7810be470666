package stats

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// OperatorWeeks is how many weeks an operator's /stats shows: the current one and the three
// before it.
const OperatorWeeks = 4

// LastWeeks is the span of the n whole weeks before the week of now. The week under way is
// never shown: asked twice an hour apart, its growing counts would time single screenings.
func LastWeeks(now time.Time, n int) (from, to Week) {
	to = WeekOf(now).Prev()
	from = to
	for range n - 1 {
		from = from.Prev()
	}
	return from, to
}

// ForOperators is the answer to /stats in an operator's chat: the last four weeks, suppressed
// with k, in Greek (OperatorTable).
func (c *Counter) ForOperators(ctx context.Context, k int, names Names) (string, error) {
	from, to := LastWeeks(c.Now(), OperatorWeeks)
	t, err := c.Read(ctx, from, to, false)
	if err != nil {
		return "", err
	}
	return OperatorTable(Suppress(t, k), names), nil
}

// OperatorTable writes a suppressed table as plain text for a chat, in Greek (indicators by
// their Greek names): each section
// with one line per row, "name: week | week | … | total". Rows that are zero throughout are
// left out (and said to be), so that the answer stays short. It shows what the table shows
// and nothing finer.
func OperatorTable(t Table, names Names) string {
	if t.K == 0 {
		return errRaw.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "📊 Στατιστικά %s\n", span(t))
	var ps []string
	for _, p := range t.Periods {
		ps = append(ps, periodName(p))
	}
	// No totals across the weeks: windows that slide a week at a time would let one be
	// subtracted from the next.
	fmt.Fprintf(&b, "Στήλες: %s\n", strings.Join(ps, " | "))
	fmt.Fprintf(&b, hiddenNote.el+". Γραμμές μόνο με μηδενικά δεν εμφανίζονται.\n", t.K)
	for _, s := range t.Sections {
		fmt.Fprintf(&b, "\n%s\n", sectionTitles[s.Name].el)
		shown := 0
		for _, r := range s.published() {
			if zero(r) && r.Key != "total" {
				continue
			}
			cs := make([]string, 0, len(r.Cells)+1)
			for _, c := range r.Cells {
				cs = append(cs, c.text())
			}
			fmt.Fprintf(&b, "• %s: %s\n", rowName(s.Name, r.Key, names).el, strings.Join(cs, " | "))
			shown++
		}
		if shown == 0 {
			b.WriteString("• —\n")
		}
	}
	return b.String()
}

// zero: a row whose every cell, total included, is a shown 0.
func zero(r Row) bool {
	for _, c := range append(r.Cells[:len(r.Cells):len(r.Cells)], r.Total) {
		if c.Hidden || c.N != 0 {
			return false
		}
	}
	return true
}
