package stats

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/internal/redistest"
)

// TestForOperators: /stats in an operator's chat is the last four weeks, suppressed the same
// way as faros stats, in Greek, row by row as the table has them.
func TestForOperators(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	c := New(r.Client, r.Prefix)
	count := func(when string, n int, s Screening) {
		c.Now = func() time.Time { return at(when) }
		for range n {
			if err := c.Screened(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	count("2026-10-27 12:00", 9, Screening{Lang: "el", Channel: "telegram", Tier: 1}) // W44: older than four weeks
	count("2026-11-03 12:00", 6, Screening{Lang: "el", Channel: "telegram", Tier: 1}) // W45
	count("2026-11-24 12:00", 8, Screening{Lang: "el", Channel: "telegram", Tier: 2, Codes: []string{"debt_bondage"}, Kinds: []string{"labour"}})
	count("2026-11-24 12:00", 3, Screening{Lang: "sq", Channel: "web", Tier: 3, Minor: true})
	c.Now = func() time.Time { return at("2026-11-26 09:00") } // W48
	if err := c.Handoff(ctx, "offered"); err != nil {
		t.Fatal(err)
	}

	names := Names{"debt_bondage": {"el": "χρέος που δεσμεύει", "en": "debt bondage"},
		"el": {"el": "Ελληνικά", "en": "Greek"}, "sq": {"el": "Αλβανικά", "en": "Albanian"}}
	c.Now = func() time.Time { return at("2026-12-01 09:00") } // W49: the four whole weeks before it
	got, err := c.ForOperators(ctx, 5, names)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := c.Read(ctx, Week{2026, 45}, Week{2026, 48}, false)
	if err != nil {
		t.Fatal(err)
	}
	tab = Suppress(tab, 5)
	for _, want := range []string{
		"📊 Στατιστικά 2/11/2026 – 29/11/2026\n", // weeks by their Mondays: nobody counts in ISO weeks
		"Στήλες: 2/11 | 9/11 | 16/11 | 23/11\n",
		"x: δεν εμφανίζεται (κάτω από 5",
		"Ολοκληρωμένες αξιολογήσεις ανά γλώσσα, κανάλι και επίπεδο\n",
		"• Ελληνικά, Telegram, επίπεδο 1: 6 | 0 | 0 | 0\n",
		// The 3 is hidden, and with it the cheapest cells that keep it from being 11 - 8.
		"• Ελληνικά, Telegram, επίπεδο 2: 0 | 0 | 0 | x\n",
		"• Αλβανικά, ιστοσελίδα, επίπεδο 3: 0 | 0 | 0 | x\n",
		"• σύνολο: 6 | 0 | 0 | 11\n",
		"• χρέος που δεσμεύει: 0 | 0 | 0 | 8\n",
		"• προτάθηκε: 0 | 0 | 0 | x\n",
		"• κάτω των 18 ή αβέβαιη ηλικία: 0 | 0 | 0 | x\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	// Nothing from W44, nothing in English.
	for _, line := range strings.Split(got, "\n")[2:] { // after the dates
		if strings.Contains(line, "9") || strings.Contains(line, "Screenings") || strings.Contains(line, "tier") || strings.Contains(line, "debt") {
			t.Errorf("line %q: an older week, or English", line)
		}
	}
	if got != OperatorTable(tab, names) {
		t.Error("ForOperators is not OperatorTable of the suppressed last four weeks")
	}
}

// A screening during the week under way changes nothing /stats shows: asked before and after
// it, the answer is the same, so no one is timed.
func TestForOperatorsTimesNoOne(t *testing.T) {
	r := redistest.New(t)
	c := New(r.Client, r.Prefix)
	ctx := context.Background()
	c.Now = func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) }
	before, err := c.ForOperators(ctx, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Screened(ctx, Screening{Lang: "sq", Channel: "web", Tier: 3, Minor: true}); err != nil {
		t.Fatal(err)
	}
	after, err := c.ForOperators(ctx, 5, nil)
	if err != nil || after != before {
		t.Errorf("/stats changed with a screening of this week (%v):\n%s\n--- then ---\n%s", err, before, after)
	}
}
