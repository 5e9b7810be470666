package roster

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// rosterWeek has weekly shifts only: by day, overnight, whole days, and 24 hours from 10:00.
const rosterWeek = `timezone: Europe/Athens
operators:
  - {id: day, telegram_id: 1, languages: [el, en]}
  - {id: night, telegram_id: 2, languages: [el]}
  - {id: weekend, telegram_id: 3, languages: [en, fr]}
  - {id: backup, telegram_id: 4, languages: [el, en, fr, sq], backup: true}
  - {id: early, telegram_id: 5}
  - {id: clock, telegram_id: 6}
shifts:
  - {operator: day, days: [mon, tue, wed, thu, fri], from: "08:00", to: "16:00"}
  - {operator: night, days: [fri, sat], from: "22:00", to: "06:00"}
  - {operator: weekend, days: [sat, sun], from: "00:00", to: "24:00"}
  - {operator: backup, days: [sun], from: "10:00", to: "10:00"}
  - {operator: early, days: [sun], from: "00:00", to: "08:00"}
  - {operator: clock, days: [sun], from: "03:00", to: "04:00"}
`

// rosterDated has dated overrides, whole days and with hours (all in December 2026:
// Thursday 24th, Friday 25th).
const rosterDated = `timezone: Europe/Athens
operators:
  - {id: off, telegram_id: 1}
  - {id: on, telegram_id: 2}
  - {id: extra, telegram_id: 3}
  - {id: lunch, telegram_id: 4}
  - {id: night, telegram_id: 5}
  - {id: late, telegram_id: 6}
  - {id: last, telegram_id: 7}
  - {id: evening, telegram_id: 8}
shifts:
  - {operator: off, days: [mon, tue, wed, thu, fri], from: "08:00", to: "16:00"}
  - {operator: extra, days: [mon, tue, wed, thu, fri], from: "08:00", to: "16:00"}
  - {operator: lunch, days: [mon, tue, wed, thu, fri], from: "08:00", to: "16:00"}
  - {operator: night, days: [thu], from: "22:00", to: "06:00"}
  - {operator: last, days: [mon, tue, wed, thu, fri], from: "08:00", to: "16:00"}
overrides:
  - {operator: off, date: 2026-12-24, on: false}
  - {operator: on, date: 2026-12-25, on: true}
  - {operator: extra, date: 2026-12-24, on: true, from: "18:00", to: "20:00"}
  - {operator: lunch, date: 2026-12-24, on: false, from: "12:00", to: "13:00"}
  - {operator: night, date: 2026-12-25, on: false}
  - {operator: late, date: 2026-12-31, on: true, from: "22:00", to: "02:00"}
  - {operator: last, date: 2026-12-24, on: false}
  - {operator: last, date: 2026-12-24, on: true, from: "10:00", to: "12:00"}
  - {operator: evening, date: 2026-12-26, on: true, from: "20:00"}
`

func rosterParse(t *testing.T, src string) *Roster {
	t.Helper()
	r, err := Parse("roster.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rosterLocal is a local time in Athens, "2006-01-02 15:04".
func rosterLocal(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Athens")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func rosterUTC(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse("2006-01-02 15:04Z", s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func rosterIDs(ops []Operator) []string {
	ids := []string{}
	for _, o := range ops {
		ids = append(ids, o.ID)
	}
	return ids
}

func TestLoadRosterDesign(t *testing.T) {
	r, err := Load("testdata/roster_design.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Operator{{
		ID:      "op1",
		Address: Address{Channel: "telegram", ID: "123456789"},
		Alias: map[string]string{
			"el": "Σύμβουλος ΕΚΚΑ 1", "en": "EKKA counsellor 1",
			"fr": "Conseiller EKKA 1", "sq": "Këshilltar EKKA 1",
		},
		Languages: []string{"el", "en"},
		MaxCases:  2,
	}}
	if diff := cmp.Diff(want, r.Operators()); diff != "" {
		t.Errorf("Operators() (-want +got):\n%s", diff)
	}
	if got := r.Timezone().String(); got != "Europe/Athens" {
		t.Errorf("Timezone() = %q; want Europe/Athens", got)
	}
	for _, c := range []struct {
		at   string
		want bool
	}{
		{"2026-12-23 08:00", true},  // Wednesday
		{"2026-12-24 10:00", false}, // the override
		{"2026-12-25 10:00", true},
		{"2026-12-26 10:00", false}, // Saturday
	} {
		if got := r.OnShift("op1", rosterLocal(t, c.at)); got != c.want {
			t.Errorf("OnShift(op1, %s) = %v; want %v", c.at, got, c.want)
		}
	}
}

func TestLoadRosterMissing(t *testing.T) {
	_, err := Load("testdata/no_such_roster.yaml")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v; want fs.ErrNotExist", err)
	}
}

// An operator without a phone works at the desk in the browser only; a supervisor is marked.
func TestParseRosterDeskOnly(t *testing.T) {
	r := rosterParse(t, "timezone: UTC\noperators:\n  - {id: desk1, supervisor: true}\n  - {id: phone1, telegram_id: 7}\n")
	want := []Operator{
		{ID: "desk1", Address: Address{Desk, "desk1"}, MaxCases: 2, Supervisor: true},
		{ID: "phone1", Address: Address{Telegram, "7"}, MaxCases: 2},
	}
	if diff := cmp.Diff(want, r.Operators()); diff != "" {
		t.Errorf("Operators() (-want +got):\n%s", diff)
	}
	if o, ok := r.ByAddress(Desk, "desk1"); !ok || o.ID != "desk1" {
		t.Errorf("ByAddress(desk, desk1) = %v, %v; want desk1", o, ok)
	}
}

func TestParseRosterDefaults(t *testing.T) {
	r := rosterParse(t, "timezone: UTC\noperators:\n  - {id: op1, telegram_id: 7}\n")
	want := []Operator{{ID: "op1", Address: Address{"telegram", "7"}, MaxCases: 2}}
	if diff := cmp.Diff(want, r.Operators()); diff != "" {
		t.Errorf("Operators() (-want +got):\n%s", diff)
	}
	if got := r.OnShift("op1", time.Now()); got {
		t.Errorf("OnShift without shifts = %v; want false", got)
	}
	// Without referrals, the default list; each fits the rule a roster's own must pass.
	if got := r.Referrals(); len(got) < 5 || got[2] != "A21 (1109)" {
		t.Errorf("default referrals %q", got)
	}
	for _, ref := range r.Referrals() {
		if utf8.RuneCountInString(ref) > 40 {
			t.Errorf("default referral %q is longer than a roster may list", ref)
		}
	}
}

func TestParseRosterErrors(t *testing.T) {
	const tz = "timezone: Europe/Athens\n"
	for _, c := range []struct {
		name, src string
		want      []string
	}{
		{"empty", "", []string{"roster.yaml: the file is empty"}},
		{"null", "~\n", []string{"roster.yaml:1:1: the file is empty"}},
		{"syntax", tz + "operators: [\n", []string{"roster.yaml:2:1: YAML syntax: did not find expected node content"}},
		{"not a mapping", "- op1\n", []string{
			"roster.yaml:1:1: the file must be a set of keys and values",
		}},
		{"operator not a mapping", tz + "operators:\n  - op1\n", []string{
			`roster.yaml:3:5: each item of "operators" must be a set of keys and values`,
		}},
		{"unknown top key", tz + "operator: []\n", []string{`roster.yaml:2:1: unknown key "operator" (did you mean "operators"?)`}},
		{"unknown operator key", tz + "operators:\n  - id: op1\n    telegram_id: 1\n    colour: red\n",
			[]string{`roster.yaml:5:5: unknown key "colour" (known keys: alias, backup, id, languages, max_cases, supervisor, telegram_id)`}},
		{"unknown shift key", tz + "operators: [{id: op1, telegram_id: 1}]\nshifts:\n  - {operator: op1, days: [mon], from: \"08:00\", until: \"16:00\"}\n",
			[]string{"roster.yaml:4:5: missing to", `roster.yaml:4:49: unknown key "until" (known keys: days, from, operator, to)`}},
		{"repeated key", tz + "operators:\n  - id: op1\n    id: op2\n    telegram_id: 1\n",
			[]string{`roster.yaml:4:5: the key "id" is already defined on line 3: keep one of the two`}},
		{"empty referrals", tz + "referrals: []\n", []string{"roster.yaml:2:12: referrals is empty: list at least one service, or leave referrals out for the default list"}},
		{"referrals", tz + "referrals:\n  - A21 (1109)\n  - A21 (1109)\n  - \"\"\n  - Ένας πολύ μακρύς τίτλος υπηρεσίας που δεν χωράει σε κουμπί\n", []string{
			`roster.yaml:4:5: referral "A21 (1109)" is listed twice`,
			`roster.yaml:5:5: a referral is the name of a service, such as "A21 (1109)"`,
			`roster.yaml:6:5: referral "Ένας πολύ μακρύς τίτλος υπηρεσίας που δεν χωράει σε κουμπί" is longer than 40 characters: it must fit on a button`,
		}},
		{"missing timezone", "operators: []\n", []string{"roster.yaml:1:1: missing timezone, such as Europe/Athens"}},
		{"unknown timezone", "timezone: Europe/Atlantis\n", []string{`roster.yaml:1:11: unknown timezone "Europe/Atlantis"`}},
		{"local timezone", "timezone: Local\n", []string{`roster.yaml:1:11: unknown timezone "Local"`}},
		{"missing id", tz + "operators:\n  - telegram_id: 1\n", []string{"roster.yaml:3:5: operator without an id"}},
		{"repeated id", tz + "operators:\n  - {id: op1, telegram_id: 1}\n  - {id: op1, telegram_id: 2}\n",
			[]string{`roster.yaml:4:10: operator id "op1" is already used on line 3`}},
		{"negative telegram_id", tz + "operators:\n  - id: op1\n    telegram_id: -5\n",
			[]string{"roster.yaml:4:18: telegram_id must be the operator's Telegram user id, a number above 0"}},
		{"telegram_id not a number", tz + "operators:\n  - id: op1\n    telegram_id: abc\n",
			[]string{`roster.yaml:4:18: "telegram_id" must be a whole number`}},
		{"repeated telegram_id", tz + "operators:\n  - {id: op1, telegram_id: 1}\n  - {id: op2, telegram_id: 1}\n",
			[]string{"roster.yaml:4:28: this telegram_id is already used on line 3"}},
		{"max_cases", tz + "operators:\n  - id: op1\n    telegram_id: 1\n    max_cases: 0\n",
			[]string{"roster.yaml:5:16: max_cases is 0; it must be at least 1"}},
		{"languages", tz + "operators:\n  - id: op1\n    telegram_id: 1\n    languages:\n      - el\n      - eng\n      - EN\n", []string{
			`roster.yaml:7:9: language "eng" is not a 2-letter code such as el`,
			`roster.yaml:8:9: language "EN" is not a 2-letter code such as el`,
		}},
		{"alias language", tz + "operators:\n  - id: op1\n    telegram_id: 1\n    alias:\n      english: EKKA 1\n",
			[]string{`roster.yaml:6:7: alias language "english" is not a 2-letter code such as el`}},
		{"shift of an unknown operator", tz + "operators: [{id: op1, telegram_id: 1}]\nshifts:\n  - {operator: op2, days: [mon], from: \"08:00\", to: \"16:00\"}\n",
			[]string{`roster.yaml:4:16: unknown operator "op2"`}},
		{"shift without operator", tz + "shifts:\n  - {days: [mon], from: \"08:00\", to: \"16:00\"}\n",
			[]string{"roster.yaml:3:5: missing operator"}},
		{"days", tz + "operators: [{id: op1, telegram_id: 1}]\nshifts:\n  - operator: op1\n    days:\n      - mon\n      - Tuesday\n      - dim\n    from: \"08:00\"\n    to: \"16:00\"\n", []string{
			`roster.yaml:7:9: day "Tuesday" is not one of mon tue wed thu fri sat sun`,
			`roster.yaml:8:9: day "dim" is not one of mon tue wed thu fri sat sun`,
		}},
		{"no days", tz + "operators: [{id: op1, telegram_id: 1}]\nshifts:\n  - {operator: op1, days: [], from: \"08:00\", to: \"16:00\"}\n",
			[]string{"roster.yaml:4:27: shift without days"}},
		{"times", tz + "operators: [{id: op1, telegram_id: 1}]\nshifts:\n  - operator: op1\n    days: [mon]\n    from: \"8:00\"\n    to: \"24:01\"\n  - {operator: op1, days: [tue], from: \"25:00\", to: \"12:60\"}\n", []string{
			`roster.yaml:6:11: from "8:00" is not a time from 00:00 to 24:00 such as 08:30`,
			`roster.yaml:7:9: to "24:01" is not a time from 00:00 to 24:00 such as 08:30`,
			`roster.yaml:8:40: from "25:00" is not a time from 00:00 to 24:00 such as 08:30`,
			`roster.yaml:8:53: to "12:60" is not a time from 00:00 to 24:00 such as 08:30`,
		}},
		{"missing times", tz + "operators: [{id: op1, telegram_id: 1}]\nshifts:\n  - {operator: op1, days: [mon]}\n",
			[]string{"roster.yaml:4:5: missing from", "roster.yaml:4:5: missing to"}},
		{"override of an unknown operator", tz + "overrides:\n  - {operator: op9, date: 2026-12-24, on: false}\n",
			[]string{`roster.yaml:3:16: unknown operator "op9"`}},
		{"dates", tz + "operators: [{id: op1, telegram_id: 1}]\noverrides:\n  - {operator: op1, date: 2026-02-30, on: false}\n  - {operator: op1, date: 24/12/2026, on: false}\n  - {operator: op1, on: false}\n", []string{
			`roster.yaml:4:27: date "2026-02-30" is not a date such as 2026-12-24`,
			`roster.yaml:5:27: date "24/12/2026" is not a date such as 2026-12-24`,
			"roster.yaml:6:5: override without a date",
		}},
		{"override without on", tz + "operators: [{id: op1, telegram_id: 1}]\noverrides:\n  - {operator: op1, date: 2026-12-24}\n",
			[]string{"roster.yaml:4:5: override without on: true or false"}},
		{"override hours", tz + "operators: [{id: op1, telegram_id: 1}]\noverrides:\n  - {operator: op1, date: 2026-12-24, on: true, from: noon}\n",
			[]string{`roster.yaml:4:55: from "noon" is not a time from 00:00 to 24:00 such as 08:30`}},
		{"all at once", `timezone: Mars/Olympus
operators:
  - id: op1
    telegram_id: 1
    languages: [greek]
  - id: op1
    telegram_id: 1
    max_cases: -1
    pager: true
shifts:
  - {operator: op3, days: [mon], from: "08:00", to: "16:00"}
overrides:
  - {operator: op1, date: 2026-13-01, on: false}
`, []string{
			`roster.yaml:1:11: unknown timezone "Mars/Olympus"`,
			`roster.yaml:5:17: language "greek" is not a 2-letter code such as el`,
			`roster.yaml:6:9: operator id "op1" is already used on line 3`,
			"roster.yaml:7:18: this telegram_id is already used on line 4",
			"roster.yaml:8:16: max_cases is -1; it must be at least 1",
			`roster.yaml:9:5: unknown key "pager" (known keys: alias, backup, id, languages, max_cases, supervisor, telegram_id)`,
			`roster.yaml:11:16: unknown operator "op3"`,
			`roster.yaml:13:27: date "2026-13-01" is not a date such as 2026-12-24`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Parse("roster.yaml", []byte(c.src))
			if err == nil {
				t.Fatalf("got roster %v; want an error", r)
			}
			if r != nil {
				t.Errorf("got roster %v with the error; want nil", r)
			}
			if diff := cmp.Diff(c.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("error lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRosterProblemsNeverQuoteTelegramIDs: a roster's problems go to the log, and a line of it
// may hold a counsellor's Telegram id, in the right key or by mistake in another.
func TestRosterProblemsNeverQuoteTelegramIDs(t *testing.T) {
	const id = "987654321"
	for _, src := range []string{
		"timezone: UTC\noperators:\n  - {id: a, telegram_id: " + id + "}\n  - {id: b, telegram_id: " + id + "}\n",
		"timezone: UTC\noperators:\n  - {id: a, telegram_id: -" + id + "}\n",
		"timezone: UTC\noperators:\n  - {id: a, telegram_id: \"" + id + "\"}\n",
		"timezone: UTC\noperators:\n  - {id: a, telegram_id: " + id + "0000000000000000}\n",
		"timezone: UTC\noperators:\n  - {id: \"" + id + "\", telegram_id: 1, languages: [\"" + id + "\"]}\nshifts:\n  - {operator: x" + id + "}\n",
		"timezone: UTC\noperators:\n  - id: a\n    " + id + ": 1\n",
	} {
		_, err := Parse("roster.yaml", []byte(src))
		if err == nil || strings.Contains(err.Error(), id[:6]) {
			t.Errorf("problems of\n%s\n%v\nwant problems that never quote the id", src, err)
		}
	}
}

func TestShiftWeek(t *testing.T) {
	r := rosterParse(t, rosterWeek)
	// June 2026 (summer time): Monday 1st to Monday 8th.
	for _, c := range []struct {
		op, at string
		want   bool
	}{
		{"day", "2026-06-01 07:59", false},
		{"day", "2026-06-01 08:00", true},
		{"day", "2026-06-05 15:59", true},
		{"day", "2026-06-05 16:00", false},
		{"day", "2026-06-06 12:00", false}, // Saturday
		{"day", "2026-06-07 12:00", false}, // Sunday
		{"weekend", "2026-06-05 23:59", false},
		{"weekend", "2026-06-06 00:00", true},
		{"weekend", "2026-06-07 23:59", true},
		{"weekend", "2026-06-08 00:00", false},
		{"ghost", "2026-06-01 12:00", false},
	} {
		if got := r.OnShift(c.op, rosterLocal(t, c.at)); got != c.want {
			t.Errorf("OnShift(%s, %s) = %v; want %v", c.op, c.at, got, c.want)
		}
	}
}

func TestShiftMidnight(t *testing.T) {
	r := rosterParse(t, rosterWeek)
	for _, c := range []struct {
		op, at string
		want   bool
	}{
		{"night", "2026-06-05 00:30", false}, // Friday, after a Thursday without a shift
		{"night", "2026-06-05 21:59", false},
		{"night", "2026-06-05 22:00", true},
		{"night", "2026-06-06 03:00", true}, // Saturday, Friday's shift
		{"night", "2026-06-06 06:00", false},
		{"night", "2026-06-06 23:00", true},
		{"night", "2026-06-07 05:59", true}, // Sunday, Saturday's shift
		{"night", "2026-06-07 22:00", false},
		{"night", "2026-06-08 03:00", false},
		// to = from: 24 hours.
		{"backup", "2026-06-07 09:59", false},
		{"backup", "2026-06-07 10:00", true},
		{"backup", "2026-06-08 09:59", true},
		{"backup", "2026-06-08 10:00", false},
	} {
		if got := r.OnShift(c.op, rosterLocal(t, c.at)); got != c.want {
			t.Errorf("OnShift(%s, %s) = %v; want %v", c.op, c.at, got, c.want)
		}
	}
}

// In Europe/Athens clocks go from 03:00 to 04:00 on the last Sunday of March (01:00 UTC) and
// back from 04:00 to 03:00 on the last Sunday of October (01:00 UTC); shifts keep their local
// hours, so they last an hour less or more.
func TestShiftDST(t *testing.T) {
	r := rosterParse(t, rosterWeek)
	for _, c := range []struct {
		op, at string // at in UTC
		want   bool
	}{
		// Sunday 29 March 2026: 00:00-08:00 local is 22:00-05:00 UTC.
		{"early", "2026-03-28 21:59Z", false},
		{"early", "2026-03-28 22:00Z", true},
		{"early", "2026-03-29 00:30Z", true}, // 02:30 EET
		{"early", "2026-03-29 04:59Z", true}, // 07:59 EEST
		{"early", "2026-03-29 05:00Z", false},
		// 03:00-04:00 does not exist that day.
		{"clock", "2026-03-29 00:59Z", false}, // 02:59 EET
		{"clock", "2026-03-29 01:00Z", false}, // 04:00 EEST
		// Saturday 22:00 EET to Sunday 06:00 EEST.
		{"night", "2026-03-28 19:59Z", false},
		{"night", "2026-03-28 20:00Z", true},
		{"night", "2026-03-29 02:59Z", true},
		{"night", "2026-03-29 03:00Z", false},
		// Sunday 25 October 2026: 00:00-08:00 local is 21:00-06:00 UTC.
		{"early", "2026-10-24 20:59Z", false},
		{"early", "2026-10-24 21:00Z", true},
		{"early", "2026-10-25 05:30Z", true}, // 07:30 EET
		{"early", "2026-10-25 06:00Z", false},
		// 03:00-04:00 happens twice.
		{"clock", "2026-10-24 23:59Z", false}, // 02:59 EEST
		{"clock", "2026-10-25 00:30Z", true},  // 03:30 EEST
		{"clock", "2026-10-25 01:30Z", true},  // 03:30 EET
		{"clock", "2026-10-25 02:00Z", false}, // 04:00 EET
		// Saturday 22:00 EEST to Sunday 06:00 EET.
		{"night", "2026-10-24 18:59Z", false},
		{"night", "2026-10-24 19:00Z", true},
		{"night", "2026-10-25 03:59Z", true},
		{"night", "2026-10-25 04:00Z", false},
	} {
		if got := r.OnShift(c.op, rosterUTC(t, c.at)); got != c.want {
			t.Errorf("OnShift(%s, %s) = %v; want %v", c.op, c.at, got, c.want)
		}
	}
}

func TestRosterDay(t *testing.T) {
	r := rosterParse(t, rosterWeek)
	for _, c := range []struct{ at, want string }{
		{"2026-03-28 21:59Z", "2026-03-28"}, // 23:59 EET
		{"2026-03-28 22:00Z", "2026-03-29"}, // 00:00 EET
		{"2026-03-29 21:59Z", "2026-03-30"}, // 00:59 EEST
		{"2026-10-24 20:59Z", "2026-10-24"}, // 23:59 EEST
		{"2026-10-24 21:00Z", "2026-10-25"}, // 00:00 EEST
		{"2026-10-25 21:59Z", "2026-10-25"}, // 23:59 EET
		{"2026-10-25 22:00Z", "2026-10-26"}, // 00:00 EET
	} {
		if got := r.Day(rosterUTC(t, c.at)); got != c.want {
			t.Errorf("Day(%s) = %s; want %s", c.at, got, c.want)
		}
	}
}

func TestShiftOverrides(t *testing.T) {
	r := rosterParse(t, rosterDated)
	for _, c := range []struct {
		op, at string
		want   bool
	}{
		// on: false, the whole day.
		{"off", "2026-12-23 12:00", true},
		{"off", "2026-12-24 08:00", false},
		{"off", "2026-12-24 12:00", false},
		{"off", "2026-12-25 12:00", true},
		// on: true, the whole day, without shifts.
		{"on", "2026-12-24 23:59", false},
		{"on", "2026-12-25 00:00", true},
		{"on", "2026-12-25 23:59", true},
		{"on", "2026-12-26 00:00", false},
		// on: true with hours: extra hours, the shift stays.
		{"extra", "2026-12-24 12:00", true},
		{"extra", "2026-12-24 17:00", false},
		{"extra", "2026-12-24 18:00", true},
		{"extra", "2026-12-24 19:59", true},
		{"extra", "2026-12-24 20:00", false},
		{"extra", "2026-12-23 19:00", false},
		// on: false with hours: a break in the shift.
		{"lunch", "2026-12-24 11:59", true},
		{"lunch", "2026-12-24 12:00", false},
		{"lunch", "2026-12-24 12:59", false},
		{"lunch", "2026-12-24 13:00", true},
		{"lunch", "2026-12-23 12:30", true},
		// An override for the 25th takes off the end of the shift begun on the 24th.
		{"night", "2026-12-24 23:00", true},
		{"night", "2026-12-25 02:00", false},
		{"night", "2026-12-31 23:00", true},
		{"night", "2027-01-01 05:59", true},
		// Hours past midnight.
		{"late", "2026-12-31 21:59", false},
		{"late", "2026-12-31 22:00", true},
		{"late", "2027-01-01 01:59", true},
		{"late", "2027-01-01 02:00", false},
		// Of two overrides, the later in the file wins.
		{"last", "2026-12-24 09:00", false},
		{"last", "2026-12-24 11:00", true},
		{"last", "2026-12-24 13:00", false},
		// from without to: until midnight.
		{"evening", "2026-12-26 19:59", false},
		{"evening", "2026-12-26 20:00", true},
		{"evening", "2026-12-26 23:59", true},
		{"evening", "2026-12-27 00:00", false},
	} {
		if got := r.OnShift(c.op, rosterLocal(t, c.at)); got != c.want {
			t.Errorf("OnShift(%s, %s) = %v; want %v", c.op, c.at, got, c.want)
		}
	}
}

func TestOnCall(t *testing.T) {
	r := rosterParse(t, rosterWeek)
	for _, c := range []struct {
		name, at string
		duty     map[string]bool
		want     []string
	}{
		{"Saturday night", "2026-06-06 03:00", nil, []string{"night", "weekend"}},
		{"duty off wins over a shift", "2026-06-06 03:00", map[string]bool{"night": false}, []string{"weekend"}},
		{"duty on wins", "2026-06-06 03:00", map[string]bool{"day": true}, []string{"day", "night", "weekend"}},
		{"unknown ids are ignored", "2026-06-06 03:00", map[string]bool{"ghost": true}, []string{"night", "weekend"}},
		{"a backup on shift", "2026-06-07 12:00", nil, []string{"weekend", "backup"}},
		{"a backup on duty", "2026-06-01 12:00", map[string]bool{"backup": true}, []string{"day", "backup"}},
		{"a backup off duty", "2026-06-07 12:00", map[string]bool{"backup": false}, []string{"weekend"}},
		{"nobody", "2026-06-03 20:00", map[string]bool{"day": false}, []string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := rosterIDs(r.OnCall(rosterLocal(t, c.at), c.duty))
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("OnCall(%s, %v) (-want +got):\n%s", c.at, c.duty, diff)
			}
		})
	}
}

func TestOnCallOverride(t *testing.T) {
	r := rosterParse(t, rosterDated)
	at := rosterLocal(t, "2026-12-24 11:00")
	if got, want := rosterIDs(r.OnCall(at, nil)), []string{"extra", "lunch", "last"}; !cmp.Equal(got, want) {
		t.Errorf("OnCall(%v) = %v; want %v", at, got, want)
	}
	if got, want := rosterIDs(r.OnCall(at, map[string]bool{"off": true, "last": false})), []string{"off", "extra", "lunch"}; !cmp.Equal(got, want) {
		t.Errorf("OnCall(%v, off on duty) = %v; want %v", at, got, want)
	}
}

func TestRosterLookup(t *testing.T) {
	r := rosterParse(t, rosterWeek)
	for _, c := range []struct {
		channel, id string
		want        string
		wantOK      bool
	}{
		{"telegram", "1", "day", true},
		{"telegram", "4", "backup", true},
		{"telegram", "99", "", false},
		{"telegram", "0", "", false},
		{"telegram", "", "", false},
		{"web", "1", "", false}, // the same id on another channel is somebody else
		{"api", "4", "", false},
	} {
		got, ok := r.ByAddress(c.channel, c.id)
		if got.ID != c.want || ok != c.wantOK {
			t.Errorf("ByAddress(%s, %s) = %q, %v; want %q, %v", c.channel, c.id, got.ID, ok, c.want, c.wantOK)
		}
	}
	if got, ok := r.Operator("night"); !ok || got.Address != (Address{Telegram, "2"}) {
		t.Errorf("Operator(night) = %+v, %v; want telegram_id 2, true", got, ok)
	}
	if got, ok := r.Operator("ghost"); ok {
		t.Errorf("Operator(ghost) = %+v, %v; want false", got, ok)
	}
	if got, want := rosterIDs(r.Backups()), []string{"backup"}; !cmp.Equal(got, want) {
		t.Errorf("Backups() = %v; want %v", got, want)
	}
	if got, want := rosterIDs(r.Operators()), []string{"day", "night", "weekend", "backup", "early", "clock"}; !cmp.Equal(got, want) {
		t.Errorf("Operators() = %v; want %v", got, want)
	}
}

// The Roster is shared by every conversation: what it returns must not change it.
func TestRosterCopies(t *testing.T) {
	r := rosterParse(t, "timezone: UTC\noperators:\n  - {id: op1, telegram_id: 1, languages: [el], alias: {en: EKKA 1}}\n")
	ops := r.Operators()
	ops[0].Languages[0] = "xx"
	ops[0].Alias["en"] = "changed"
	op, _ := r.ByAddress(Telegram, "1")
	op.Languages[0] = "yy"
	got, _ := r.Operator("op1")
	if got.Languages[0] != "el" || got.Alias["en"] != "EKKA 1" {
		t.Errorf("got %+v after changing copies; want languages [el], alias EKKA 1", got)
	}
}

func TestRosterSpeaks(t *testing.T) {
	o := Operator{ID: "op1", Languages: []string{"el", "en"}}
	for _, c := range []struct {
		lang string
		want bool
	}{{"el", true}, {"en", true}, {"fr", false}, {"", false}} {
		if got := o.Speaks(c.lang); got != c.want {
			t.Errorf("Speaks(%q) = %v; want %v", c.lang, got, c.want)
		}
	}
}

func TestAliasIn(t *testing.T) {
	all := map[string]string{"el": "Σύμβουλος 1", "en": "Counsellor 1", "fr": "Conseiller 1", "sq": "Këshilltar 1"}
	for _, c := range []struct {
		name  string
		alias map[string]string
		lang  string
		want  string
	}{
		{"in the language", all, "fr", "Conseiller 1"},
		{"else English", all, "de", "Counsellor 1"},
		{"else Greek", map[string]string{"el": "Σύμβουλος 1", "sq": "Këshilltar 1"}, "fr", "Σύμβουλος 1"},
		{"else any, the same every time", map[string]string{"sq": "Këshilltar 1", "fr": "Conseiller 1"}, "de", "Conseiller 1"},
		{"empty ones skipped", map[string]string{"fr": "", "en": "Counsellor 1"}, "fr", "Counsellor 1"},
		{"never the id", nil, "el", "EKKA"},
		{"only empty ones", map[string]string{"en": ""}, "en", "EKKA"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := Operator{ID: "op1", Alias: c.alias}
			if got := o.AliasIn(c.lang); got != c.want {
				t.Errorf("AliasIn(%q) = %q; want %q", c.lang, got, c.want)
			}
		})
	}
}

// An operator's address is as secret as a person's chat id: printing an operator, as a
// careless log line or error might, shows the channel and never the id.
func TestAnAddressIsNeverPrinted(t *testing.T) {
	r := rosterParse(t, "timezone: UTC\noperators:\n  - {id: op1, telegram_id: 987654321}\n")
	o, _ := r.Operator("op1")
	var log strings.Builder
	slog.New(slog.NewJSONHandler(&log, nil)).Info("operator", "address", o.Address, "operator", o)
	for _, s := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), fmt.Sprint(o.Address), log.String()} {
		if strings.Contains(s, "987654321") || !strings.Contains(s, "telegram") {
			t.Errorf("%s: want the channel and never the id", s)
		}
	}
}

func TestNew(t *testing.T) {
	desk := Address{Channel: "desk-test", ID: "a"}
	r, err := New(nil, []Operator{
		{ID: "op1", Address: Address{Telegram, "1"}, Languages: []string{"el"}},
		{ID: "op2", Address: desk, MaxCases: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := r.ByAddress("desk-test", "a"); !ok || o.ID != "op2" || o.MaxCases != 1 {
		t.Errorf("ByAddress(desk-test, a) = %+v, %v; want op2", o, ok)
	}
	if o, _ := r.Operator("op1"); o.MaxCases != 2 {
		t.Errorf("MaxCases = %d; want the file's default, 2", o.MaxCases)
	}
	if got := rosterIDs(r.OnCall(time.Now(), map[string]bool{"op2": true})); !cmp.Equal(got, []string{"op2"}) {
		t.Errorf("OnCall with op2 on duty = %v; want [op2]: no shifts", got)
	}
	if r.Timezone() != time.UTC || len(r.Referrals()) == 0 {
		t.Errorf("Timezone() = %v, Referrals() = %v; want UTC and the default referrals", r.Timezone(), r.Referrals())
	}
	for _, ops := range [][]Operator{
		{{Address: desk}},
		{{ID: "op1"}},
		{{ID: "op1", Address: Address{Channel: "desk-test"}}},
		{{ID: "op1", Address: desk}, {ID: "op1", Address: Address{Telegram, "1"}}},
		{{ID: "op1", Address: desk}, {ID: "op2", Address: desk}},
		{{ID: "op1", Address: desk, MaxCases: -1}},
	} {
		if r, err := New(time.UTC, ops); err == nil || r != nil || strings.Contains(err.Error(), `"a"`) {
			t.Errorf("New(%+v) = %v, %v; want an error that does not quote the address", ops, r, err)
		}
	}
}

// A channel whose ids anyone chooses (the web chat, the API) holds no operator.
func TestNewRefusesUnprovenChannels(t *testing.T) {
	for _, ch := range []string{"web", "api"} {
		if _, err := New(nil, []Operator{{ID: "op1", Address: Address{Channel: ch, ID: "x"}}}); err == nil || !strings.Contains(err.Error(), "cannot prove who writes") {
			t.Errorf("an operator on %s: %v; want refused", ch, err)
		}
	}
}
