package stats

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// MaxWeeks is the longest range Read reads: five years, far beyond Retention, so a mistyped
// year is told rather than read as thousands of empty weeks.
const MaxWeeks = 5 * 53

// Cell is one number of a table.
type Cell struct {
	N      int  // the count; 0 when Hidden, so that no renderer can show what was hidden
	Hidden bool // suppressed: under k, or it would reveal one that is
}

// Row is one category across the periods, with its total.
type Row struct {
	Key   string // e.g. "el|telegram|2", "debt_bondage", "lt5m"; "total" for a section's totals
	Cells []Cell // one per period
	Total Cell   // across the periods
}

// Section is one published table: categories × periods, with row totals and, when the rows
// add up to something, column totals and a grand total.
type Section struct {
	Name   string // one of Sections
	Rows   []Row
	Totals *Row // column totals and (as its Total) the grand total; nil when the rows don't add up
}

// Table is every section over the same periods.
type Table struct {
	From, To Week
	ByMonth  bool     // periods are months (of each week's Thursday), not weeks
	Periods  []string // "2026-W48", or "2026-11" by month
	K        int      // the threshold Suppress applied; 0: raw counts, never to be published
	Sections []Section
}

// Section returns the section called name (every table has all of Sections).
func (t Table) Section(name string) Section {
	for _, s := range t.Sections {
		if s.Name == name {
			return s
		}
	}
	return Section{Name: name}
}

// Read reads the counters of the weeks from to to (both included), by week or merged into
// months, in one pipelined round trip (on a cluster, one per node). The counts are raw:
// Suppress them before showing them to anyone.
func (c *Counter) Read(ctx context.Context, from, to Week, byMonth bool) (Table, error) {
	if to.Before(from) {
		return Table{}, fmt.Errorf("stats: %s is before %s", to, from)
	}
	ws := weeks(from, to)
	if len(ws) > MaxWeeks {
		return Table{}, fmt.Errorf("stats: %s to %s is %d weeks; at most %d are read at once", from, to, len(ws), MaxWeeks)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ws))
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, w := range ws {
			cmds[i] = p.HGetAll(ctx, Key(c.prefix, w))
		}
		return nil
	})
	if err != nil {
		return Table{}, fmt.Errorf("stats: read: %w", err)
	}
	hashes := make([]map[string]string, len(ws))
	for i, cmd := range cmds {
		hashes[i] = cmd.Val()
	}
	return build(ws, hashes, byMonth), nil
}

// build makes the table of weeks ws from their hashes.
func build(ws []Week, hashes []map[string]string, byMonth bool) Table {
	t := Table{From: ws[0], To: ws[len(ws)-1], ByMonth: byMonth}
	col := make([]int, len(ws)) // each week's period
	for i, w := range ws {
		p := w.String()
		if byMonth {
			p = w.Month()
		}
		if len(t.Periods) == 0 || t.Periods[len(t.Periods)-1] != p {
			t.Periods = append(t.Periods, p)
		}
		col[i] = len(t.Periods) - 1
	}
	counts := map[string]map[string][]int{}
	for _, s := range Sections {
		counts[s] = map[string][]int{}
	}
	row := func(section, key string) []int {
		r := counts[section][key]
		if r == nil {
			r = make([]int, len(t.Periods))
			counts[section][key] = r
		}
		return r
	}
	// Rows that are always there, zero or not, so that every table has the same shape.
	for _, k := range Kinds {
		row("kinds", k)
	}
	row("minors", "minor")
	for _, e := range HandoffEvents {
		row("handoffs", e)
	}
	for _, b := range Buckets {
		row("claims", b)
	}
	for i, h := range hashes {
		for f, v := range h {
			section, key, ok := ParseField(f)
			n, err := strconv.Atoi(v)
			if !ok || err != nil || n <= 0 {
				continue // not ours (a later version's field): not guessed at
			}
			row(section, key)[col[i]] += n
		}
	}
	for _, name := range Sections {
		s := Section{Name: name}
		keys := make([]string, 0, len(counts[name]))
		for k := range counts[name] {
			keys = append(keys, k)
		}
		order(name, keys)
		for _, k := range keys {
			s.Rows = append(s.Rows, Row{Key: k, Cells: cells(counts[name][k])})
		}
		if withTotals[name] {
			s.Totals = &Row{Key: "total", Cells: make([]Cell, len(t.Periods))}
		}
		s.sum()
		t.Sections = append(t.Sections, s)
	}
	return t
}

// order sorts a section's rows: the fixed ones in their order, the others by name.
func order(section string, keys []string) {
	var fixed []string
	switch section {
	case "kinds":
		fixed = Kinds
	case "handoffs":
		fixed = HandoffEvents
	case "claims":
		fixed = Buckets
	}
	slices.SortFunc(keys, func(a, b string) int {
		if fixed != nil {
			return slices.Index(fixed, a) - slices.Index(fixed, b)
		}
		if a < b {
			return -1
		}
		return 1
	})
}

func cells(ns []int) []Cell {
	cs := make([]Cell, len(ns))
	for i, n := range ns {
		cs[i] = Cell{N: n}
	}
	return cs
}

// sum fills the row totals, the column totals and the grand total from the cells.
func (s *Section) sum() {
	if s.Totals != nil {
		s.Totals.Cells, s.Totals.Total = make([]Cell, len(s.Totals.Cells)), Cell{}
	}
	for i := range s.Rows {
		r := &s.Rows[i]
		r.Total = Cell{}
		for j, c := range r.Cells {
			r.Total.N += c.N
			if s.Totals != nil {
				s.Totals.Cells[j].N += c.N
			}
		}
		if s.Totals != nil {
			s.Totals.Total.N += r.Total.N
		}
	}
}
