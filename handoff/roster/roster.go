// Package roster reads the operators' roster (docs/OPERATORS.md §1): who the EKKA operators
// are, where each is reached, the languages they speak, and when they are on call by weekly
// shifts and dated overrides. It knows nothing of cases, Redis or channels' delivery: package
// handoff, the desk, uses it.
package roster

// The roster in force: operators, their addresses and languages, and who is on call when.
// Reading the file is parse.go's.

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"
	_ "time/tzdata" // the service runs on a distroless image, which has no zoneinfo
)

// Telegram is the channel of the addresses the roster's telegram_id gives: the channel name
// package telegram puts in every bot.Message, and under which the desk reaches Telegram.
const Telegram = "telegram"

// Desk is the channel of an operator the file gives no other address: they work only at the
// desk in the browser (package desk), where they sign in; their address id is their roster id.
// No person's message ever comes on it.
const Desk = "desk"

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
	// Supervisor sees every open case at the desk, who holds it and for how long, reads its
	// audit trail, and can reassign it.
	Supervisor bool
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
		case o.Address.Channel == "web" || o.Address.Channel == "api":
			// Anyone chooses the ids there: an operator's address would be anyone's.
			errs = append(errs, fmt.Errorf("operator %q: the %s channel cannot prove who writes, so it holds no operator", o.ID, o.Address.Channel))
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
