package stats

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Athens must load on the distroless image, which has no zoneinfo
)

// Athens is the time zone of every week: a week is an ISO week of Greek local time, so that
// Sunday night in Athens counts in the week people lived it.
var Athens = mustZone("Europe/Athens")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is linked in: this cannot happen
	}
	return loc
}

// Week is an ISO 8601 week, e.g. 2026-W48: the finest grain any counter has.
type Week struct {
	Year, Num int
}

// WeekOf is the ISO week t falls in, in Athens.
func WeekOf(t time.Time) Week {
	y, w := t.In(Athens).ISOWeek()
	return Week{y, w}
}

// ParseWeek reads "2026-W48" (also "2026-w48" and "2026W48").
func ParseWeek(s string) (Week, error) {
	bad := fmt.Errorf("%q is not an ISO week such as 2026-W48", s)
	rest := strings.TrimPrefix(strings.ToUpper(s[min(4, len(s)):]), "-")
	rest, ok := strings.CutPrefix(rest, "W")
	if len(s) < 4 || !ok || !digits(s[:4]) || len(rest) != 2 || !digits(rest) {
		return Week{}, bad
	}
	y, _ := strconv.Atoi(s[:4])
	n, _ := strconv.Atoi(rest)
	if y < 2000 {
		return Week{}, bad
	}
	if n < 1 || n > weeksIn(y) {
		return Week{}, fmt.Errorf("%q: %d has %d ISO weeks", s, y, weeksIn(y))
	}
	return Week{y, n}, nil
}

func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// weeksIn is the number of ISO weeks of year: 53 when 28 December falls in week 53.
func weeksIn(year int) int {
	_, w := time.Date(year, 12, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Num) }

// Monday is when the week begins: its Monday at 00:00 in Athens.
func (w Week) Monday() time.Time {
	// 4 January is always in week 1; go back to its Monday, then forward.
	jan4 := time.Date(w.Year, 1, 4, 0, 0, 0, 0, Athens)
	back := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	return jan4.AddDate(0, 0, 7*(w.Num-1)-back)
}

// Next is the week after w.
func (w Week) Next() Week { return WeekOf(w.Monday().AddDate(0, 0, 7).Add(12 * time.Hour)) }

// Prev is the week before w.
func (w Week) Prev() Week { return WeekOf(w.Monday().AddDate(0, 0, -7).Add(12 * time.Hour)) }

// Before reports whether w comes before v.
func (w Week) Before(v Week) bool { return w.Year < v.Year || w.Year == v.Year && w.Num < v.Num }

// Month is the month a week is counted in when weeks are merged into months: the month of
// its Thursday, as ISO puts a week in the year of its Thursday. Every week is in exactly one
// month, so merged counts add up with no week counted twice or split.
func (w Week) Month() string {
	return w.Monday().AddDate(0, 0, 3).Format("2006-01")
}

// weeks lists from to to, both included.
func weeks(from, to Week) []Week {
	var ws []Week
	for w := from; !to.Before(w); w = w.Next() {
		ws = append(ws, w)
	}
	return ws
}
