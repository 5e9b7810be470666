package roster

// Reading a roster file: the documents as written in YAML, Load and Parse, and the checks
// that report every problem of a file at its line and column (never with a long number in it:
// the lines hold Telegram ids).

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/faros-project/faros/internal/yamlpos"
)

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
	Supervisor bool              `yaml:"supervisor"`
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

// Parse parses and checks a roster file (docs/OPERATORS.md, "The roster file"); the error is
// a yamlpos.Problems listing every problem found, one per line, as "name:line:column: problem".
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
			MaxCases: maxCases, Backup: d.Backup, Supervisor: d.Supervisor,
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
	if key == "" && d.ID != "" {
		addr = Address{Channel: Desk, ID: d.ID} // no phone: the desk in the browser only
	}
	return addr
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
