// Package roster reads the operators' roster (docs/OPERATORS.md §1): who the EKKA operators
// are, where each is reached, the languages they speak, and when they are on call by weekly
// shifts and dated overrides. It knows nothing of cases, Redis or channels' delivery: package
// handoff, the desk, uses it.
package roster

import (
	"errors"
	"fmt"
	"log/slog"
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

// Telegram is the channel of the addresses the roster's telegram_id gives: the channel name
// package telegram puts in every bot.Message, and under which the desk reaches Telegram.
const Telegram = "telegram"

// Address is where an operator is reached, and how the desk recognises their messages: a
// channel, and the operator's chat id on it, as that channel names chats (Telegram: the
// operator's user id, which is the id of their private chat with the bot). An ID is as secret
// as a person's chat id: never logged, never in an error or a Redis key.
//
// An operator's messages get their powers (claim, read a case, write to a person) from their
// address alone, so an address may only be on a channel that proves who sends (Telegram's
// secret token, a desk's sign-in), never the web chat or the API, whose chat ids anyone picks.
// A new channel of operators adds its own key to the file (see addressKeys).
type Address struct {
	Channel string
	ID      string
}

// String names the channel only: an address's id is never printed, not even in a %v of an
// Operator.
func (a Address) String() string { return a.Channel + ":…" }

// GoString is String, for %#v.
func (a Address) GoString() string { return a.String() }

// LogValue is String, for slog.
func (a Address) LogValue() slog.Value { return slog.StringValue(a.String()) }

// Operator is one EKKA operator of the roster.
type Operator struct {
	ID        string            // handle for the audit log and metrics; never shown to people
	Address   Address           // where they are reached, always set
	Alias     map[string]string // language → name shown to people; nil: "EKKA" (see AliasIn)
	Languages []string          // 2-letter codes of the languages they speak; may be empty
	MaxCases  int               // cases they handle at once, at least 1 (2 when the file omits it)
	Backup    bool              // called only when nobody on duty claims a case in time
}

// LogValue is the operator's handle: a log names an operator by it, never by address.
func (o Operator) LogValue() slog.Value { return slog.StringValue(o.ID) }

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
	byAddress map[Address]int
	shifts    map[string][]shift // by operator id
	overrides map[string][]override
	referrals []string
}

// shift is a weekly shift: from and to are minutes of the local day; when to <= from the
// shift runs past midnight into the next day.
type shift struct {
	days     [7]bool // by time.Weekday
	from, to int
}

// override is a dated override; without hours in the file it spans the whole day.
type override struct {
	date     string // "2006-01-02"
	on       bool
	from, to int
}

// The documents as written in YAML: the strict decoder checks the file against them.
type doc struct {
	Timezone  string        `yaml:"timezone"`
	Operators []operatorDoc `yaml:"operators"`
	Shifts    []shiftDoc    `yaml:"shifts"`
	Overrides []overrideDoc `yaml:"overrides"`
	Referrals []string      `yaml:"referrals"`
}

type operatorDoc struct {
	ID         string            `yaml:"id"`
	Alias      map[string]string `yaml:"alias"`
	Languages  []string          `yaml:"languages"`
	MaxCases   *int              `yaml:"max_cases"`
	Backup     bool              `yaml:"backup"`
	addressDoc `yaml:",inline"`
}

// addressDoc holds the keys that give an operator's address, one per channel of operators;
// addressKeys reads them.
type addressDoc struct {
	TelegramID int64 `yaml:"telegram_id"`
}

// addressKeys are the keys of the file that give an operator's address, and how each is read;
// an operator has exactly one. A channel of operators adds its key here and in addressDoc.
var addressKeys = []struct {
	key, channel string
	// read returns the address id the key gives, or the problem with it; set is false when
	// the operator does not have the key.
	read func(d addressDoc) (id string, set bool, problem string)
}{{
	key: "telegram_id", channel: Telegram,
	read: func(d addressDoc) (string, bool, string) {
		switch {
		case d.TelegramID == 0:
			return "", false, ""
		case d.TelegramID < 0:
			return "", true, "telegram_id must be the operator's Telegram user id, a number above 0"
		}
		return strconv.FormatInt(d.TelegramID, 10), true, ""
	},
}}

type shiftDoc struct {
	Operator string   `yaml:"operator"`
	Days     []string `yaml:"days"`
	From     string   `yaml:"from"`
	To       string   `yaml:"to"`
}

type overrideDoc struct {
	Operator string `yaml:"operator"`
	Date     string `yaml:"date"`
	On       *bool  `yaml:"on"`
	From     string `yaml:"from"`
	To       string `yaml:"to"`
}

var (
	langCode  = regexp.MustCompile(`^[a-z]{2}$`)
	clockTime = regexp.MustCompile(`^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$`)
	weekdays  = map[string]time.Weekday{
		"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday,
		"fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
	}
	// A roster's problems go to the log, and its lines hold the operators' Telegram ids: no
	// problem quotes a number that long, whatever the line it quotes.
	longNumber = regexp.MustCompile(`[0-9]{6,}`)
)

// Load reads and parses the roster file at path (see Parse).
func Load(path string) (*Roster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses and checks a roster file (DESIGN.md, "Operators' roster"); the error is a
// yamlpos.Problems listing every problem found, one per line, as "name:line:column: problem".
func Parse(name string, data []byte) (*Roster, error) {
	top, ps := yamlpos.Parse(name, data)
	if ps != nil {
		return nil, problemsOf(ps)
	}
	// Unknown keys and values of the wrong type; the checks below skip the items that fail.
	p := &problems{name: name, list: yamlpos.Decode(name, top, new(doc))}
	r := p.roster(top)
	if len(p.list) > 0 {
		return nil, problemsOf(p.list)
	}
	return r, nil
}

// problemsOf returns ps in file order, without long numbers (longNumber).
func problemsOf(ps yamlpos.Problems) yamlpos.Problems {
	for i := range ps {
		ps[i].Msg = longNumber.ReplaceAllString(ps[i].Msg, "…")
	}
	ps.Sort()
	return ps
}

// New returns a roster of ops in time zone loc (nil: UTC), with the default referrals and no
// shifts or overrides: who is on call is decided by /duty alone. It is for operators who do not
// come from a file, tests among them; Parse reads a file. The operators are checked as a file's
// are: each has an id and an address, neither used twice, and MaxCases is at least 1 (0: 2).
// An error names operators by id, never by address.
func New(loc *time.Location, ops []Operator) (*Roster, error) {
	r := &Roster{loc: loc, byID: map[string]int{}, byAddress: map[Address]int{},
		shifts: map[string][]shift{}, overrides: map[string][]override{}, referrals: defaultReferrals}
	if r.loc == nil {
		r.loc = time.UTC
	}
	var errs []error
	for i, o := range ops {
		_, dupID := r.byID[o.ID]
		_, dupAddr := r.byAddress[o.Address]
		switch {
		case o.ID == "":
			errs = append(errs, fmt.Errorf("operator %d without an id", i+1))
		case o.Address.Channel == "" || o.Address.ID == "":
			errs = append(errs, fmt.Errorf("operator %q without an address", o.ID))
		case dupID:
			errs = append(errs, fmt.Errorf("operator id %q is used twice", o.ID))
		case dupAddr:
			errs = append(errs, fmt.Errorf("operator %q has the address of another", o.ID))
		case o.MaxCases < 0:
			errs = append(errs, fmt.Errorf("operator %q: MaxCases is %d; it must be at least 1", o.ID, o.MaxCases))
		}
		if o.MaxCases == 0 {
			o.MaxCases = 2
		}
		r.byID[o.ID], r.byAddress[o.Address] = len(r.ops), len(r.ops)
		r.ops = append(r.ops, copyOf(o))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// defaultReferrals are where a counsellor may say a case was referred, when the roster names
// none: EKKA's own services, the anti-trafficking line, the children's line, the police.
var defaultReferrals = []string{"ΕΚΚΑ: φιλοξενία (197)", "ΕΚΚΑ: κοινωνική υπηρεσία", "A21 (1109)",
	"Χαμόγελο του Παιδιού (1056)", "Αστυνομία (100)", "Εισαγγελία", "Άλλη οργάνωση"}

// DefaultReferrals lists the services a case can be referred to when the roster names none.
func DefaultReferrals() []string { return slices.Clone(defaultReferrals) }

// Referrals lists the services a case can be referred to, for /close: the roster's referrals,
// or the default list.
func (r *Roster) Referrals() []string { return slices.Clone(r.referrals) }

// Operators returns every operator, in roster order.
func (r *Roster) Operators() []Operator {
	return copies(r.ops, func(Operator) bool { return true })
}

// Operator returns the operator with the given id.
func (r *Roster) Operator(id string) (Operator, bool) {
	i, ok := r.byID[id]
	if !ok {
		return Operator{}, false
	}
	return copyOf(r.ops[i]), true
}

// ByAddress returns the operator reached at chat id of channel: the one whose messages these
// are. Every channel the roster has addresses on is looked up alike.
func (r *Roster) ByAddress(channel, id string) (Operator, bool) {
	i, ok := r.byAddress[Address{channel, id}]
	if !ok {
		return Operator{}, false
	}
	return copyOf(r.ops[i]), true
}

// Backups returns the operators with backup: true, in roster order.
func (r *Roster) Backups() []Operator {
	return copies(r.ops, func(o Operator) bool { return o.Backup })
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
		if covers(s.from, s.to, s.days[wd], s.days[(wd+6)%7], now) {
			on = true
			break
		}
	}
	y, m, d := local.Date()
	today := local.Format(time.DateOnly)
	yesterday := time.Date(y, m, d-1, 12, 0, 0, 0, time.UTC).Format(time.DateOnly)
	for _, o := range r.overrides[op] {
		if covers(o.from, o.to, o.date == today, o.date == yesterday, now) {
			on = o.on
		}
	}
	return on
}

// OnCall returns the operators on duty at t, in roster order. duty holds the day's /duty on
// (true) and /duty off (false) by operator id; an entry there wins over shifts and overrides.
// Backups are among them only when on duty too.
func (r *Roster) OnCall(t time.Time, duty map[string]bool) []Operator {
	return copies(r.ops, func(o Operator) bool {
		if on, ok := duty[o.ID]; ok {
			return on
		}
		return r.OnShift(o.ID, t)
	})
}

// covers reports whether minute now of today falls in [from, to), a span that starts
// today when startsToday, and started yesterday, running past midnight, when startedYesterday.
func covers(from, to int, startsToday, startedYesterday bool, now int) bool {
	if from < to {
		return startsToday && from <= now && now < to
	}
	return startsToday && now >= from || startedYesterday && now < to
}

// copyOf returns o with its own map and slice, so that callers cannot change the Roster.
func copyOf(o Operator) Operator {
	o.Alias = maps.Clone(o.Alias)
	o.Languages = slices.Clone(o.Languages)
	return o
}

func copies(ops []Operator, keep func(Operator) bool) []Operator {
	var out []Operator
	for _, o := range ops {
		if keep(o) {
			out = append(out, copyOf(o))
		}
	}
	return out
}

// problems collects the problems of one file.
type problems struct {
	name string
	list yamlpos.Problems
}

func (p *problems) add(n *yaml.Node, format string, args ...any) {
	p.list = append(p.list, yamlpos.At(p.name, n, format, args...))
}

// roster builds the Roster from the document's top mapping, checking it. Items that did not
// decode were reported by the strict decoder and are skipped.
func (p *problems) roster(top *yaml.Node) *Roster {
	r := &Roster{
		byID:      map[string]int{},
		byAddress: map[Address]int{},
		shifts:    map[string][]shift{},
		overrides: map[string][]override{},
	}
	if top.Kind != yaml.MappingNode {
		return r // Decode said what it must be
	}
	vals, _ := yamlpos.Keyed(top)
	if tz := vals["timezone"]; tz == nil || tz.Value == "" {
		p.add(valueAt(top, "timezone"), "missing timezone, such as Europe/Athens")
	} else if loc, err := time.LoadLocation(tz.Value); err != nil || tz.Value == "Local" {
		p.add(tz, "unknown timezone %q", tz.Value)
	} else {
		r.loc = loc
	}

	known := map[string]bool{} // operator ids, also of operators that did not decode
	idLines := map[string]int{}
	addressLines := map[Address]int{}
	for _, item := range yamlpos.Items(vals["operators"]) {
		var d operatorDoc
		err := item.Decode(&d)
		if d.ID != "" {
			known[d.ID] = true
		}
		if err != nil {
			continue
		}
		switch idAt := valueAt(item, "id"); {
		case d.ID == "":
			p.add(item, "operator without an id")
		case idLines[d.ID] > 0:
			p.add(idAt, "operator id %q is already used on line %d", d.ID, idLines[d.ID])
		default:
			idLines[d.ID] = idAt.Line
			r.byID[d.ID] = len(r.ops)
		}
		addr := p.address(item, d, addressLines)
		if addr != (Address{}) {
			r.byAddress[addr] = len(r.ops)
		}
		for i, l := range d.Languages {
			if !langCode.MatchString(l) {
				p.add(elemAt(valueAt(item, "languages"), i), "language %q is not a 2-letter code such as el", l)
			}
		}
		iv, _ := yamlpos.Keyed(item)
		_, aliases := yamlpos.Keyed(iv["alias"])
		for l, at := range aliases {
			if !langCode.MatchString(l) {
				p.add(at, "alias language %q is not a 2-letter code such as el", l)
			}
		}
		maxCases := 2
		if d.MaxCases != nil {
			maxCases = *d.MaxCases
			if maxCases < 1 {
				p.add(valueAt(item, "max_cases"), "max_cases is %d; it must be at least 1", maxCases)
			}
		}
		r.ops = append(r.ops, Operator{
			ID: d.ID, Address: addr, Alias: d.Alias, Languages: d.Languages,
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
		var d shiftDoc
		if err := item.Decode(&d); err != nil {
			continue
		}
		p.operator(item, d.Operator, known)
		s := shift{from: p.clock(item, "from", d.From, -1), to: p.clock(item, "to", d.To, -1)}
		if len(d.Days) == 0 {
			p.add(valueAt(item, "days"), "shift without days")
		}
		for i, day := range d.Days {
			wd, ok := weekdays[day]
			if !ok {
				p.add(elemAt(valueAt(item, "days"), i), "day %q is not one of mon tue wed thu fri sat sun", day)
				continue
			}
			s.days[wd] = true
		}
		r.shifts[d.Operator] = append(r.shifts[d.Operator], s)
	}

	for _, item := range yamlpos.Items(vals["overrides"]) {
		var d overrideDoc
		if err := item.Decode(&d); err != nil {
			continue
		}
		p.operator(item, d.Operator, known)
		o := override{date: d.Date, from: p.clock(item, "from", d.From, 0), to: p.clock(item, "to", d.To, 24*60)}
		if d.Date == "" {
			p.add(item, "override without a date")
		} else if _, err := time.Parse(time.DateOnly, d.Date); err != nil {
			p.add(valueAt(item, "date"), "date %q is not a date such as 2026-12-24", d.Date)
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

// address returns the address an operator's item gives, checking it: exactly one address key,
// an id not used by another operator (lines holds the line of each address so far). It returns
// the zero Address when there is a problem.
func (p *problems) address(item *yaml.Node, d operatorDoc, lines map[Address]int) Address {
	var addr Address
	var key string
	for _, k := range addressKeys {
		id, set, problem := k.read(d.addressDoc)
		switch at := valueAt(item, k.key); {
		case !set:
		case problem != "":
			p.add(at, "%s", problem)
			return Address{}
		case key != "":
			p.add(at, "operator %q has both %s and %s: an operator is reached at one address", d.ID, key, k.key)
			return Address{}
		default:
			a := Address{Channel: k.channel, ID: id}
			if line := lines[a]; line > 0 {
				p.add(at, "this %s is already used on line %d", k.key, line)
				return Address{}
			}
			lines[a] = at.Line
			addr, key = a, k.key
		}
	}
	if key == "" {
		p.add(item, "operator %q without a %s", d.ID, addressKeyNames())
	}
	return addr
}

// addressKeyNames is "telegram_id", or with more channels "telegram_id or web_id".
func addressKeyNames() string {
	names := make([]string, len(addressKeys))
	for i, k := range addressKeys {
		names[i] = k.key
	}
	return strings.Join(names, " or ")
}

// operator checks a shift's or an override's operator.
func (p *problems) operator(item *yaml.Node, id string, known map[string]bool) {
	if id == "" {
		p.add(item, "missing operator")
	} else if !known[id] {
		p.add(valueAt(item, "operator"), "unknown operator %q", id)
	}
}

// clock returns time s, at key of item, in minutes of the day; when s is absent it returns
// def, and def < 0 means that s is required.
func (p *problems) clock(item *yaml.Node, key, s string, def int) int {
	if s == "" {
		if def < 0 {
			p.add(item, "missing %s", key)
		}
		return def
	}
	if !clockTime.MatchString(s) {
		p.add(valueAt(item, key), "%s %q is not a time from 00:00 to 24:00 such as 08:30", key, s)
		return 0
	}
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	return h*60 + m
}

// valueAt returns the value of key in mapping m for a problem's place, or m itself when key
// is absent.
func valueAt(m *yaml.Node, key string) *yaml.Node {
	if vals, _ := yamlpos.Keyed(m); vals[key] != nil {
		return vals[key]
	}
	return m
}

// elemAt returns item i of sequence n, or n.
func elemAt(n *yaml.Node, i int) *yaml.Node {
	if items := yamlpos.Items(n); i < len(items) {
		return items[i]
	}
	return n
}
