package stats

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/internal/redistest"
)

// at is a time in Athens.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Athens)
	if err != nil {
		panic(err)
	}
	return t
}

// cells writes each row of t as "section/key: c1 c2 … | total", hidden cells as x.
func rowsOf(t Table) map[string]string {
	m := map[string]string{}
	for _, s := range t.Sections {
		for _, r := range s.published() {
			var cs []string
			for _, c := range r.Cells {
				cs = append(cs, c.text())
			}
			m[s.Name+"/"+r.Key] = strings.Join(cs, " ") + " | " + r.Total.text()
		}
	}
	return m
}

// TestCountsAfterScriptedEvents: screenings in four languages, three channels and every
// tier, handoffs, claims and closings over two weeks, with the week taken in Athens (a
// Sunday night and a Monday just after midnight there), read back as the expected table.
func TestCountsAfterScriptedEvents(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	c := New(r.Client, r.Prefix)
	record := func(when string, f func() error) {
		t.Helper()
		c.Now = func() time.Time { return at(when) }
		if err := f(); err != nil {
			t.Fatalf("%s: %v", when, err)
		}
	}
	screen := func(when string, s Screening) { t.Helper(); record(when, func() error { return c.Screened(ctx, s) }) }
	// 2026-W47: Monday 16 to Sunday 22 November.
	screen("2026-11-16 00:05", Screening{Lang: "el", Channel: "telegram", Tier: 2,
		Codes: []string{"debt_bondage", "retention_of_documents", "debt_bondage"}, Kinds: []string{"labour", "labour"}})
	screen("2026-11-17 10:00", Screening{Lang: "el", Channel: "telegram", Tier: 2, Codes: []string{"debt_bondage"}, Kinds: []string{"labour"}})
	screen("2026-11-18 23:00", Screening{Lang: "en", Channel: "web", Tier: 3,
		Codes: []string{"sexual_exploitation", "violence_threats"}, Kinds: []string{"sexual", "other"}, Minor: true})
	screen("2026-11-19 12:00", Screening{Lang: "sq", Channel: "telegram", Tier: 0})
	screen("2026-11-20 12:00", Screening{Lang: "fr", Channel: "api", Tier: 1, Codes: []string{"isolation"}, Kinds: []string{"other"}})
	screen("2026-11-22 23:59", Screening{Channel: "web", Tier: 0}) // no language yet: und
	for _, e := range []string{"offered", "offered", "offered", "accepted", "accepted"} {
		record("2026-11-18 23:01", func() error { return c.Handoff(ctx, e) })
	}
	record("2026-11-18 23:05", func() error { return c.Claimed(ctx, 3*time.Minute) })
	record("2026-11-19 01:00", func() error { return c.Claimed(ctx, 20*time.Minute) })
	record("2026-11-21 09:00", func() error { return c.Closed(ctx, "referred") })
	// 2026-W48: Monday 23 to Sunday 29 November. 23:30 on Sunday the 29th in Athens is 21:30
	// UTC; 00:30 on Monday the 30th in Athens is still Sunday in UTC, but W49 here.
	screen("2026-11-23 08:00", Screening{Lang: "el", Channel: "telegram", Tier: 2,
		Codes: []string{"debt_bondage", "sexual_exploitation"}, Kinds: []string{"labour", "sexual"}, Minor: true})
	screen("2026-11-29 23:30", Screening{Lang: "el", Channel: "web", Tier: 1, Codes: []string{"isolation"}, Kinds: []string{"other"}})
	record("2026-11-29 23:30", func() error { return c.Claimed(ctx, 5*time.Hour) })
	record("2026-11-29 23:31", func() error { return c.Closed(ctx, "no_contact") })
	screen("2026-11-30 00:30", Screening{Lang: "en", Channel: "telegram", Tier: 3})
	record("2026-11-30 00:30", func() error { return c.Handoff(ctx, "offered") })

	tab, err := c.Read(ctx, Week{2026, 47}, Week{2026, 49}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"tiers/el|telegram|2":               "2 1 0 | 3",
		"tiers/el|web|1":                    "0 1 0 | 1",
		"tiers/en|telegram|3":               "0 0 1 | 1",
		"tiers/en|web|3":                    "1 0 0 | 1",
		"tiers/fr|api|1":                    "1 0 0 | 1",
		"tiers/sq|telegram|0":               "1 0 0 | 1",
		"tiers/und|web|0":                   "1 0 0 | 1",
		"tiers/total":                       "6 2 1 | 9",
		"indicators/debt_bondage":           "2 1 0 | 3",
		"indicators/isolation":              "1 1 0 | 2",
		"indicators/retention_of_documents": "1 0 0 | 1",
		"indicators/sexual_exploitation":    "1 1 0 | 2",
		"indicators/violence_threats":       "1 0 0 | 1",
		"indicators/total":                  "6 3 0 | 9",
		"kinds/labour":                      "2 0 0 | 2",
		"kinds/sexual":                      "1 0 0 | 1",
		"kinds/both":                        "0 1 0 | 1",
		"kinds/unclear":                     "1 1 0 | 2",
		"kinds/total":                       "4 2 0 | 6",
		"minors/minor":                      "1 1 0 | 2",
		"handoffs/offered":                  "3 0 1 | 4",
		"handoffs/accepted":                 "2 0 0 | 2",
		"claims/lt5m":                       "1 0 0 | 1",
		"claims/5to15m":                     "0 0 0 | 0",
		"claims/15to60m":                    "1 0 0 | 1",
		"claims/1to4h":                      "0 0 0 | 0",
		"claims/gt4h":                       "0 1 0 | 1",
		"claims/total":                      "2 1 0 | 3",
		"closed/no_contact":                 "0 1 0 | 1",
		"closed/referred":                   "1 0 0 | 1",
		"closed/total":                      "1 1 0 | 2",
	}
	got := rowsOf(Suppress(tab, 1)) // k = 1 hides nothing: the raw counts, through the same path
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected row %s: %q", k, v)
		}
	}
	if strings.Join(tab.Periods, " ") != "2026-W47 2026-W48 2026-W49" {
		t.Errorf("periods %v", tab.Periods)
	}
	// By month: W47 and W48 have their Thursday in November, W49 (Thursday 3 December) not.
	months, err := c.Read(ctx, Week{2026, 47}, Week{2026, 49}, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsOf(Suppress(months, 1)); strings.Join(months.Periods, " ") != "2026-11 2026-12" ||
		got["tiers/el|telegram|2"] != "3 0 | 3" || got["handoffs/offered"] != "3 1 | 4" {
		t.Errorf("by month: %v %q %q", months.Periods, got["tiers/el|telegram|2"], got["handoffs/offered"])
	}
	checkKeys(t, r, 3)
}

// checkKeys: every key under the test's prefix is a week's hash, with a TTL in (0,
// Retention], fields this package knows and counts for values: no pseudonym, no chat id,
// nothing finer than a week.
func checkKeys(t *testing.T, r *redistest.Redis, want int) {
	t.Helper()
	ctx := context.Background()
	keys, err := r.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != want {
		t.Errorf("%d keys, want %d: %v", len(keys), want, keys)
	}
	name := regexp.MustCompile(`^` + regexp.QuoteMeta(r.Prefix) + `:stats:\{(\d{4}-W\d{2})\}$`)
	for _, k := range keys {
		m := name.FindStringSubmatch(k)
		if m == nil {
			t.Errorf("key %q is not PREFIX:stats:{WEEK}", k)
			continue
		}
		if _, err := ParseWeek(m[1]); err != nil {
			t.Errorf("key %q: %v", k, err)
		}
		ttl, err := r.Client.TTL(ctx, k).Result()
		if err != nil || ttl <= 0 || ttl > Retention {
			t.Errorf("key %q: TTL %v (%v), want in (0, %v]", k, ttl, err, Retention)
		}
		h, err := r.Client.HGetAll(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		for f, v := range h {
			if _, _, ok := ParseField(f); !ok {
				t.Errorf("key %q: field %q is not one of ours", k, f)
			}
			if n, err := strconv.Atoi(v); err != nil || n < 1 {
				t.Errorf("key %q: field %q holds %q, not a count", k, f, v)
			}
		}
	}
}

// TestRefusesWhatIsNotACategory: a pseudonym, a chat id or a name passed by mistake where a
// category belongs is refused, and nothing is written.
func TestRefusesWhatIsNotACategory(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	c := New(r.Client, r.Prefix)
	for _, s := range []Screening{
		{Lang: "3f9a2c71e0b4", Channel: "telegram", Tier: 1},
		{Lang: "el", Channel: "123456789", Tier: 1},
		{Lang: "el", Channel: "telegram", Tier: 4},
		{Lang: "el", Channel: "telegram", Tier: -1},
		{Lang: "el", Channel: "telegram", Tier: 1, Codes: []string{"Μαρία"}},
		{Lang: "el", Channel: "telegram", Tier: 1, Codes: []string{"debt|x"}},
		{Lang: "el", Channel: "telegram", Tier: 1, Codes: []string{"isolation"}, Kinds: []string{"organ"}},
	} {
		if err := c.Screened(ctx, s); err == nil {
			t.Errorf("Screened(%+v) = nil, want an error", s)
		} else if strings.Contains(err.Error(), "3f9a2c") || strings.Contains(err.Error(), "123456789") || strings.Contains(err.Error(), "Μαρία") {
			t.Errorf("the error repeats what was refused: %v", err)
		}
	}
	if err := c.Handoff(ctx, "claimed"); err == nil {
		t.Error(`Handoff("claimed") = nil: a claim is counted by Claimed, with its wait`)
	}
	if err := c.Closed(ctx, "42"); err == nil {
		t.Error(`Closed("42") = nil`)
	}
	checkKeys(t, r, 0)
}

// TestReadSpans: a span backwards, or far too long, is refused; an empty span reads zeros.
func TestReadSpans(t *testing.T) {
	r := redistest.New(t)
	c := New(r.Client, r.Prefix)
	ctx := context.Background()
	if _, err := c.Read(ctx, Week{2026, 48}, Week{2026, 47}, false); err == nil {
		t.Error("a span backwards was read")
	}
	if _, err := c.Read(ctx, Week{2000, 1}, Week{2026, 1}, false); err == nil || !strings.Contains(err.Error(), fmt.Sprint(MaxWeeks)) {
		t.Errorf("26 years: %v", err)
	}
	tab, err := c.Read(ctx, Week{2026, 52}, Week{2027, 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tab.Periods, " "); got != "2026-W52 2026-W53 2027-W01 2027-W02" {
		t.Errorf("periods %s", got)
	}
	if got := rowsOf(Suppress(tab, 5))["tiers/total"]; got != "0 0 0 0 | 0" {
		t.Errorf("tiers/total %q", got)
	}
}
