package handoff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/stats"
)

// A claim and a close count in the week's statistics (the claim by the time the case waited),
// and /stats answers an operator with the last four weeks, in Greek, small counts hidden.
func TestClaimsAndClosingsAreCounted(t *testing.T) {
	f := setup(t)
	for i, chat := range []string{"9301", "9302", "9303", "9304", "9305", "9306"} {
		id := f.open(t, chat, "el", 2)
		f.now = f.now.Add(time.Minute)
		if out := f.operator(t, 501+int64(i%2), "/claim "+id, ""); !strings.Contains(out, "Ανέλαβες") {
			t.Fatalf("claim: %q", out)
		}
		f.act(t, 501+int64(i%2), bot.Message{Button: "closeok:" + id + ":information_given"})
		f.operator(t, 501+int64(i%2), "/release "+id, "") // nothing left to release: not counted again
	}
	week := stats.WeekOf(f.now)
	table, err := f.counter.Read(context.Background(), week, week, false)
	if err != nil {
		t.Fatal(err)
	}
	row := func(section, key string) int {
		for _, r := range table.Section(section).Rows {
			if r.Key == key {
				return r.Total.N
			}
		}
		return 0
	}
	if got := row("claims", "lt5m"); got != 6 {
		t.Errorf("claims within 5 minutes: %d; want 6", got)
	}
	if got := row("closed", "information_given"); got != 6 {
		t.Errorf("closed with information given: %d; want 6", got)
	}
	f.now = f.now.AddDate(0, 0, 7) // /stats shows whole weeks only
	out := f.operator(t, 501, "/stats", "")
	if !strings.Contains(out, "6") || strings.Contains(out, "9301") {
		t.Errorf("/stats: %q; want the week's counts and nothing of anyone", out)
	}
}
