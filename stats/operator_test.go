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

	got, err := c.ForOperators(ctx, 5, Names{"debt_bondage": {"el": "χρέος που δεσμεύει", "en": "debt bondage"}})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := c.Read(ctx, Week{2026, 45}, Week{2026, 48}, false)
	if err != nil {
		t.Fatal(err)
	}
	tab = Suppress(tab, 5)
	for _, want := range []string{
		"📊 Στατιστικά 2026-W45 – 2026-W48\n",
		"Στήλες: W45 2026 | W46 2026 | W47 2026 | W48 2026 | σύνολο\n",
		"x: κρυφό (λιγότερα από 5",
		"Ολοκληρωμένες αξιολογήσεις, ανά γλώσσα, κανάλι και βαθμίδα\n",
		"• ελληνικά, Telegram, βαθμίδα 1: 6 | 0 | 0 | 0 | 6\n",
		// The 3 is hidden, and with it the cheapest cells that keep it from being 11 - 8.
		"• ελληνικά, Telegram, βαθμίδα 2: 0 | 0 | 0 | x | x\n",
		"• αλβανικά, web chat, βαθμίδα 3: 0 | 0 | 0 | x | x\n",
		"• σύνολο: 6 | 0 | 0 | 11 | 17\n",
		"• χρέος που δεσμεύει: 0 | 0 | 0 | 8 | 8\n",
		"• προτάθηκε: 0 | 0 | 0 | x | x\n",
		"• πιθανοί ανήλικοι: 0 | 0 | 0 | x | x\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	// Nothing from W44, nothing in English.
	for _, line := range strings.Split(got, "\n") {
		if strings.Contains(line, "9") || strings.Contains(line, "Screenings") || strings.Contains(line, "tier") || strings.Contains(line, "debt") {
			t.Errorf("line %q: an older week, or English", line)
		}
	}
	if got != OperatorTable(tab, Names{"debt_bondage": {"el": "χρέος που δεσμεύει"}}) {
		t.Error("ForOperators is not OperatorTable of the suppressed last four weeks")
	}
}
