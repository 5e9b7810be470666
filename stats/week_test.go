package stats

import (
	"testing"
	"time"
)

func TestWeeks(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"2026-W48", "2026-W48"}, {"2026-w01", "2026-W01"}, {"2026W53", "2026-W53"}, {"2020-W53", "2020-W53"},
	} {
		w, err := ParseWeek(c.in)
		if err != nil || w.String() != c.want {
			t.Errorf("ParseWeek(%q) = %v, %v; want %s", c.in, w, err, c.want)
		}
	}
	for _, bad := range []string{"", "2026", "2026-W", "2026-W4", "2026-W4a", "2026-W00", "2027-W53", "2026-48", "+026-W01", "1999-W10", "2026-W048"} {
		if w, err := ParseWeek(bad); err == nil {
			t.Errorf("ParseWeek(%q) = %v, want an error", bad, w)
		}
	}
	// Weeks in Athens: 00:30 on Monday there is still Sunday in UTC.
	if got := WeekOf(time.Date(2026, 11, 29, 22, 30, 0, 0, time.UTC)); got != (Week{2026, 49}) {
		t.Errorf("Sunday 22:30 UTC = Monday 00:30 Athens: %v, want 2026-W49", got)
	}
	if got := WeekOf(time.Date(2027, 1, 1, 12, 0, 0, 0, Athens)); got != (Week{2026, 53}) {
		t.Errorf("1 January 2027: %v, want 2026-W53", got)
	}
	if m := (Week{2026, 48}).Monday(); m.Format("2006-01-02 15:04 Mon") != "2026-11-23 00:00 Mon" || m.Location() != Athens {
		t.Errorf("Monday of 2026-W48: %v", m)
	}
	if n := (Week{2026, 53}).Next(); n != (Week{2027, 1}) {
		t.Errorf("after 2026-W53: %v", n)
	}
	// Across the change to winter time (25 October 2026) a week is still a week.
	if n := (Week{2026, 43}).Next(); n != (Week{2026, 44}) {
		t.Errorf("after 2026-W43: %v", n)
	}
	for w, m := range map[Week]string{{2026, 1}: "2026-01", {2026, 44}: "2026-10", {2026, 45}: "2026-11", {2026, 53}: "2026-12", {2027, 1}: "2027-01"} {
		if w.Month() != m {
			t.Errorf("%v is counted in %s, want %s", w, w.Month(), m)
		}
	}
	if from, to := LastWeeks(at("2026-11-30 00:10"), 4); from != (Week{2026, 45}) || to != (Week{2026, 48}) {
		t.Errorf("last four weeks: %v to %v", from, to)
	}
	if n := len(weeks(Week{2026, 1}, Week{2026, 53})); n != 53 {
		t.Errorf("2026 has %d weeks", n)
	}
}
