package handoff

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the service runs on a distroless image, which has no zoneinfo
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/faros-project/faros/internal/yamlpos"
)

// Operator is one EKKA operator of the roster.
type Operator struct {
	ID         string            // handle for the audit log and metrics; never shown to people
	TelegramID int64             // the operator's Telegram user id, always set
	Alias      map[string]string // language → name shown to people; nil: "EKKA" (see AliasIn)
	Languages  []string          // 2-letter codes of the languages they speak; may be empty
	MaxCases   int               // cases they handle at once, at least 1 (2 when the file omits it)
	Backup     bool              // called only when nobody on duty claims a case in time
}

// AliasIn returns the name to show people who speak lang: the alias in lang, else in English,
// else in Greek, else in any language, else "EKKA" (never the ID).
func (o Operator) AliasIn(lang string) string {
	for _, l := range []string{lang, "en", "el"} {
		if a := o.Alias[l]; a != "" {
			return a
		}
	}
	for _, l := range slices.Sorted(maps.Keys(o.Alias)) {
		if a := o.Alias[l]; a != "" {
			return a
		}
	}
	return "EKKA"
}

// Speaks reports whether lang is one of the operator's languages.
func (o Operator) Speaks(lang string) bool {
	return slices.Contains(o.Languages, lang)
}

// Roster is a parsed, checked roster file: who the operators are and when they are on duty.
// It is immutable and safe for concurrent use; a new file means a new Roster.
type Roster struct {
	loc       *time.Location
	ops       []Operator
	byID      map[string]int // → index in ops
	byTG      map[int64]int
	shifts    map[string][]rosterShift // by operator id
	overrides map[string][]rosterOverride
	referrals []string
}

// rosterShift is a weekly shift: from and to are minutes of the local day; when to <= from the
// shift runs past midnight into the next day.
type rosterShift struct {
	days     [7]bool // by time.Weekday
	from, to int
}

// rosterOverride is a dated override; without hours in the file it spans the whole day.
type rosterOverride struct {
	date     string // "2006-01-02"
	on       bool
	from, to int
}

// The documents as written in YAML: the strict decoder checks the file against them.
type rosterDoc struct {
	Timezone  string              `yaml:"timezone"`
	Operators []rosterOperatorDoc `yaml:"operators"`
	Shifts    []rosterShiftDoc    `yaml:"shifts"`
	Overrides []rosterOverrideDoc `yaml:"overrides"`
	Referrals []string            `yaml:"referrals"`
}

type rosterOperatorDoc struct {
	ID         string            `yaml:"id"`
	TelegramID int64             `yaml:"telegram_id"`
	Alias      map[string]string `yaml:"alias"`
	Languages  []string          `yaml:"languages"`
	MaxCases   *int              `yaml:"max_cases"`
	Backup     bool              `yaml:"backup"`
}

type rosterShiftDoc struct {
	Operator string   `yaml:"operator"`
	Days     []string `yaml:"days"`
	From     string   `yaml:"from"`
	To       string   `yaml:"to"`
}

type rosterOverrideDoc struct {
	Operator string `yaml:"operator"`
	Date     string `yaml:"date"`
	On       *bool  `yaml:"on"`
	From     string `yaml:"from"`
	To       string `yaml:"to"`
}

var (
	rosterLang  = regexp.MustCompile(`^[a-z]{2}$`)
	rosterClock = regexp.MustCompile(`^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$`)
	rosterDays  = map[string]time.Weekday{
		"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday,
		"fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
	}
	// A roster's problems go to the log, and its lines hold the operators' Telegram ids: no
	// problem quotes a number that long, whatever the line it quotes.
	rosterLongNumber = regexp.MustCompile(`[0-9]{6,}`)
)

// LoadRoster reads and parses the roster file at path (see ParseRoster).
func LoadRoster(path string) (*Roster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseRoster(path, data)
}

// ParseRoster parses and checks a roster file (DESIGN.md, "Operators' roster"); the error is
// a yamlpos.Problems listing every problem found, one per line, as "name:line:column: problem".
func ParseRoster(name string, data []byte) (*Roster, error) {
	top, ps := yamlpos.Parse(name, data)
	if ps != nil {
		return nil, rosterErr(ps)
	}
	// Unknown keys and values of the wrong type; the checks below skip the items that fail.
	p := &rosterProblems{name: name, list: yamlpos.Decode(name, top, new(rosterDoc))}
	r := p.roster(top)
	if len(p.list) > 0 {
		return nil, rosterErr(p.list)
	}
	return r, nil
}

// rosterErr returns ps in file order, without long numbers (rosterLongNumber).
func rosterErr(ps yamlpos.Problems) yamlpos.Problems {
	for i := range ps {
		ps[i].Msg = rosterLongNumber.ReplaceAllString(ps[i].Msg, "…")
	}
	ps.Sort()
	return ps
}

// defaultReferrals are where a counsellor may say a case was referred, when the roster names
// none: EKKA's own services, the anti-trafficking line, the children's line, the police.
var defaultReferrals = []string{"ΕΚΚΑ: φιλοξενία (197)", "ΕΚΚΑ: κοινωνική υπηρεσία", "A21 (1109)",
	"Χαμόγελο του Παιδιού (1056)", "Αστυνομία (100)", "Εισαγγελία", "Άλλη οργάνωση"}

// Referrals lists the services a case can be referred to, for /close: the roster's referrals,
// or a default list.
func (r *Roster) Referrals() []string { return r.referrals }

// Operators returns every operator, in roster order.
func (r *Roster) Operators() []Operator {
	return rosterCopies(r.ops, func(Operator) bool { return true })
}

// Operator returns the operator with the given id.
func (r *Roster) Operator(id string) (Operator, bool) {
	i, ok := r.byID[id]
	if !ok {
		return Operator{}, false
	}
	return rosterCopy(r.ops[i]), true
}

// ByTelegramID returns the operator with the given Telegram user id.
func (r *Roster) ByTelegramID(id int64) (Operator, bool) {
	i, ok := r.byTG[id]
	if !ok {
		return Operator{}, false
	}
	return rosterCopy(r.ops[i]), true
}

// Backups returns the operators with backup: true, in roster order.
func (r *Roster) Backups() []Operator {
	return rosterCopies(r.ops, func(o Operator) bool { return o.Backup })
}

// Timezone returns the location of the roster's shifts and dates.
func (r *Roster) Timezone() *time.Location { return r.loc }

// Day returns the local date of t, "2006-01-02": the key of a day's /duty.
func (r *Roster) Day(t time.Time) string { return t.In(r.loc).Format(time.DateOnly) }

// OnShift reports whether operator op is on duty at t by the weekly shifts and the dated
// overrides. An override covering t wins over the shifts, and of several the last in the file.
// Times are wall-clock times: on the day clocks change, a shift keeps its local hours.
func (r *Roster) OnShift(op string, t time.Time) bool {
	local := t.In(r.loc)
	now := local.Hour()*60 + local.Minute()
	wd := local.Weekday()
	on := false
	for _, s := range r.shifts[op] {
		if rosterCovers(s.from, s.to, s.days[wd], s.days[(wd+6)%7], now) {
			on = true
			break
		}
	}
	y, m, d := local.Date()
	today := local.Format(time.DateOnly)
	yesterday := time.Date(y, m, d-1, 12, 0, 0, 0, time.UTC).Format(time.DateOnly)
	for _, o := range r.overrides[op] {
		if rosterCovers(o.from, o.to, o.date == today, o.date == yesterday, now) {
			on = o.on
		}
	}
	return on
}

// OnCall returns the operators on duty at t, in roster order. duty holds the day's /duty on
// (true) and /duty off (false) by operator id; an entry there wins over shifts and overrides.
// Backups are among them only when on duty too.
func (r *Roster) OnCall(t time.Time, duty map[string]bool) []Operator {
	return rosterCopies(r.ops, func(o Operator) bool {
		if on, ok := duty[o.ID]; ok {
			return on
		}
		return r.OnShift(o.ID, t)
	})
}

// rosterCovers reports whether minute now of today falls in [from, to), a span that starts
// today when startsToday, and started yesterday, running past midnight, when startedYesterday.
func rosterCovers(from, to int, startsToday, startedYesterday bool, now int) bool {
	if from < to {
		return startsToday && from <= now && now < to
	}
	return startsToday && now >= from || startedYesterday && now < to
}

// rosterCopy returns o with its own map and slice, so that callers cannot change the Roster.
func rosterCopy(o Operator) Operator {
	o.Alias = maps.Clone(o.Alias)
	o.Languages = slices.Clone(o.Languages)
	return o
}

func rosterCopies(ops []Operator, keep func(Operator) bool) []Operator {
	var out []Operator
	for _, o := range ops {
		if keep(o) {
			out = append(out, rosterCopy(o))
		}
	}
	return out
}

// rosterProblems collects the problems of one file.
type rosterProblems struct {
	name string
	list yamlpos.Problems
}

func (p *rosterProblems) add(n *yaml.Node, format string, args ...any) {
	p.list = append(p.list, yamlpos.At(p.name, n, format, args...))
}

// roster builds the Roster from the document's top mapping, checking it. Items that did not
// decode were reported by the strict decoder and are skipped.
func (p *rosterProblems) roster(top *yaml.Node) *Roster {
	r := &Roster{
		byID:      map[string]int{},
		byTG:      map[int64]int{},
		shifts:    map[string][]rosterShift{},
		overrides: map[string][]rosterOverride{},
	}
	if top.Kind != yaml.MappingNode {
		return r // Decode said what it must be
	}
	vals, _ := yamlpos.Keyed(top)
	if tz := vals["timezone"]; tz == nil || tz.Value == "" {
		p.add(rosterAt(top, "timezone"), "missing timezone, such as Europe/Athens")
	} else if loc, err := time.LoadLocation(tz.Value); err != nil || tz.Value == "Local" {
		p.add(tz, "unknown timezone %q", tz.Value)
	} else {
		r.loc = loc
	}

	known := map[string]bool{} // operator ids, also of operators that did not decode
	idLines := map[string]int{}
	tgLines := map[int64]int{}
	for _, item := range yamlpos.Items(vals["operators"]) {
		var d rosterOperatorDoc
		err := item.Decode(&d)
		if d.ID != "" {
			known[d.ID] = true
		}
		if err != nil {
			continue
		}
		switch idAt := rosterAt(item, "id"); {
		case d.ID == "":
			p.add(item, "operator without an id")
		case idLines[d.ID] > 0:
			p.add(idAt, "operator id %q is already used on line %d", d.ID, idLines[d.ID])
		default:
			idLines[d.ID] = idAt.Line
			r.byID[d.ID] = len(r.ops)
		}
		switch tgAt := rosterAt(item, "telegram_id"); {
		case d.TelegramID == 0:
			p.add(item, "operator %q without a telegram_id", d.ID)
		case d.TelegramID <= 0:
			p.add(tgAt, "telegram_id must be the operator's Telegram user id, a number above 0")
		case tgLines[d.TelegramID] > 0:
			p.add(tgAt, "this telegram_id is already used on line %d", tgLines[d.TelegramID])
		default:
			tgLines[d.TelegramID] = tgAt.Line
			r.byTG[d.TelegramID] = len(r.ops)
		}
		for i, l := range d.Languages {
			if !rosterLang.MatchString(l) {
				p.add(rosterElem(rosterAt(item, "languages"), i), "language %q is not a 2-letter code such as el", l)
			}
		}
		iv, _ := yamlpos.Keyed(item)
		_, aliases := yamlpos.Keyed(iv["alias"])
		for l, at := range aliases {
			if !rosterLang.MatchString(l) {
				p.add(at, "alias language %q is not a 2-letter code such as el", l)
			}
		}
		maxCases := 2
		if d.MaxCases != nil {
			maxCases = *d.MaxCases
			if maxCases < 1 {
				p.add(rosterAt(item, "max_cases"), "max_cases is %d; it must be at least 1", maxCases)
			}
		}
		r.ops = append(r.ops, Operator{
			ID: d.ID, TelegramID: d.TelegramID, Alias: d.Alias, Languages: d.Languages,
			MaxCases: maxCases, Backup: d.Backup,
		})
	}

	r.referrals = defaultReferrals
	if n := vals["referrals"]; n != nil && n.Kind == yaml.SequenceNode {
		r.referrals = nil
		for _, item := range yamlpos.Items(n) {
			switch {
			case item.Kind != yaml.ScalarNode || strings.TrimSpace(item.Value) == "":
				p.add(item, "a referral is the name of a service, such as \"A21 (1109)\"")
			case utf8.RuneCountInString(item.Value) > 40:
				p.add(item, "referral %q is longer than 40 characters: it must fit on a button", item.Value)
			case slices.Contains(r.referrals, item.Value):
				p.add(item, "referral %q is listed twice", item.Value)
			default:
				r.referrals = append(r.referrals, item.Value)
			}
		}
		switch {
		case len(n.Content) == 0:
			p.add(n, "referrals is empty: list at least one service, or leave referrals out for the default list")
		case len(r.referrals) > 12:
			p.add(n, "%d referrals: at most 12 fit under one message", len(r.referrals))
		}
	}

	for _, item := range yamlpos.Items(vals["shifts"]) {
		var d rosterShiftDoc
		if err := item.Decode(&d); err != nil {
			continue
		}
		p.operator(item, d.Operator, known)
		s := rosterShift{from: p.clock(item, "from", d.From, -1), to: p.clock(item, "to", d.To, -1)}
		if len(d.Days) == 0 {
			p.add(rosterAt(item, "days"), "shift without days")
		}
		for i, day := range d.Days {
			wd, ok := rosterDays[day]
			if !ok {
				p.add(rosterElem(rosterAt(item, "days"), i), "day %q is not one of mon tue wed thu fri sat sun", day)
				continue
			}
			s.days[wd] = true
		}
		r.shifts[d.Operator] = append(r.shifts[d.Operator], s)
	}

	for _, item := range yamlpos.Items(vals["overrides"]) {
		var d rosterOverrideDoc
		if err := item.Decode(&d); err != nil {
			continue
		}
		p.operator(item, d.Operator, known)
		o := rosterOverride{date: d.Date, from: p.clock(item, "from", d.From, 0), to: p.clock(item, "to", d.To, 24*60)}
		if d.Date == "" {
			p.add(item, "override without a date")
		} else if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
			p.add(rosterAt(item, "date"), "date %q is not a date such as 2026-12-24", d.Date)
		}
		if d.On == nil {
			p.add(item, "override without on: true or false")
		} else {
			o.on = *d.On
		}
		r.overrides[d.Operator] = append(r.overrides[d.Operator], o)
	}
	return r
}

// operator checks a shift's or an override's operator.
func (p *rosterProblems) operator(item *yaml.Node, id string, known map[string]bool) {
	if id == "" {
		p.add(item, "missing operator")
	} else if !known[id] {
		p.add(rosterAt(item, "operator"), "unknown operator %q", id)
	}
}

// clock returns time s, at key of item, in minutes of the day; when s is absent it returns
// def, and def < 0 means that s is required.
func (p *rosterProblems) clock(item *yaml.Node, key, s string, def int) int {
	if s == "" {
		if def < 0 {
			p.add(item, "missing %s", key)
		}
		return def
	}
	if !rosterClock.MatchString(s) {
		p.add(rosterAt(item, key), "%s %q is not a time from 00:00 to 24:00 such as 08:30", key, s)
		return 0
	}
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	return h*60 + m
}

// rosterAt returns the value of key in mapping m for a problem's place, or m itself when key
// is absent.
func rosterAt(m *yaml.Node, key string) *yaml.Node {
	if vals, _ := yamlpos.Keyed(m); vals[key] != nil {
		return vals[key]
	}
	return m
}

// rosterElem returns item i of sequence n, or n.
func rosterElem(n *yaml.Node, i int) *yaml.Node {
	if items := yamlpos.Items(n); i < len(items) {
		return items[i]
	}
	return n
}
