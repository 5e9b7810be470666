package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// randomSection is a section of rows × periods, sparse and small as a week of a small
// language is (mostly 0 to 4, now and then more), with or without totals.
func randomSection(r *rand.Rand, totals bool) Section {
	rows, periods := 1+r.IntN(7), 1+r.IntN(7)
	s := Section{Name: "random"}
	for i := range rows {
		row := Row{Key: fmt.Sprint("r", i), Cells: make([]Cell, periods)}
		for j := range row.Cells {
			switch x := r.IntN(10); {
			case x < 4:
			case x < 8:
				row.Cells[j].N = 1 + r.IntN(4)
			default:
				row.Cells[j].N = 1 + r.IntN(40)
			}
		}
		s.Rows = append(s.Rows, row)
	}
	if totals {
		s.Totals = &Row{Key: "total", Cells: make([]Cell, periods)}
	}
	s.sum()
	return s
}

// line is one published equation: the cells add up to the total.
type line struct {
	cells []*Cell
	total *Cell
}

// lines are a section's equations: every row; and with totals every column and the totals.
func lines(s *Section) []line {
	var ls []line
	rows := s.published()
	for i := range rows {
		r := &rows[i]
		l := line{total: &r.Total}
		for j := range r.Cells {
			l.cells = append(l.cells, &r.Cells[j])
		}
		ls = append(ls, l)
	}
	if s.Totals == nil {
		return ls
	}
	for j := 0; j <= len(s.Totals.Cells); j++ {
		l := line{}
		for i := range rows {
			c := &rows[i].Total
			if j < len(s.Totals.Cells) {
				c = &rows[i].Cells[j]
			}
			if i == len(rows)-1 {
				l.total = c
			} else {
				l.cells = append(l.cells, c)
			}
		}
		ls = append(ls, l)
	}
	return ls
}

// determined is an oracle independent of Suppress's graph: by Gaussian elimination, which
// hidden cells (by index in the order met) the published equations fix. A hidden cell is
// fixed when its unit vector lies in the span of the equations restricted to hidden cells.
func determined(s *Section) []bool {
	idx := map[*Cell]int{}
	var eqs [][]float64
	ls := lines(s)
	for _, l := range ls {
		for _, c := range append(l.cells, l.total) {
			if _, ok := idx[c]; !ok && c.Hidden {
				idx[c] = len(idx)
			}
		}
	}
	for _, l := range ls {
		eq := make([]float64, len(idx))
		for _, c := range l.cells {
			if c.Hidden {
				eq[idx[c]]++
			}
		}
		if l.total.Hidden {
			eq[idx[l.total]]--
		}
		eqs = append(eqs, eq)
	}
	n := len(idx)
	pivotOf := make([]int, n) // the row of each pivot column, or -1
	for i := range pivotOf {
		pivotOf[i] = -1
	}
	row := 0
	for col := 0; col < n && row < len(eqs); col++ {
		p := -1
		for r := row; r < len(eqs); r++ {
			if math.Abs(eqs[r][col]) > 1e-9 && (p < 0 || math.Abs(eqs[r][col]) > math.Abs(eqs[p][col])) {
				p = r
			}
		}
		if p < 0 {
			continue
		}
		eqs[row], eqs[p] = eqs[p], eqs[row]
		f := eqs[row][col]
		for c := range eqs[row] {
			eqs[row][c] /= f
		}
		for r := range eqs {
			if r != row && math.Abs(eqs[r][col]) > 1e-9 {
				g := eqs[r][col]
				for c := range eqs[r] {
					eqs[r][c] -= g * eqs[row][c]
				}
			}
		}
		pivotOf[col] = row
		row++
	}
	fixed := make([]bool, n)
	for col, r := range pivotOf {
		if r < 0 {
			continue
		}
		fixed[col] = true
		for c := range n {
			if pivotOf[c] < 0 && math.Abs(eqs[r][c]) > 1e-9 {
				fixed[col] = false // a free cell moves it
			}
		}
	}
	return fixed
}

// TestSuppressProperties: over random tables, every cell under k is hidden; no zero is
// hidden; shown cells keep their counts and hidden ones carry none; no hidden cell follows
// from the shown numbers by any adding and subtracting (the elimination oracle); and no line
// gives its hidden cells away as all ones.
func TestSuppressProperties(t *testing.T) {
	hiddenSeen := 0
	for seed := range uint64(3000) {
		r := rand.New(rand.NewPCG(seed, 16))
		orig := randomSection(r, seed%4 != 0)
		k := 2 + r.IntN(5)
		tab := Suppress(Table{Periods: make([]string, len(orig.Rows[0].Cells)), Sections: []Section{orig}}, k)
		got := tab.Sections[0]
		before, after := orig.published(), got.published()
		for i := range before {
			for j, c := range append(before[i].Cells, before[i].Total) {
				a := append(after[i].Cells, after[i].Total)[j]
				switch {
				case c.N >= 1 && c.N < k && !a.Hidden:
					t.Fatalf("seed %d, k %d: cell %d,%d = %d is shown", seed, k, i, j, c.N)
				case c.N == 0 && a.Hidden:
					t.Fatalf("seed %d: a zero is hidden at %d,%d", seed, i, j)
				case a.Hidden && a.N != 0:
					t.Fatalf("seed %d: hidden cell %d,%d carries %d", seed, i, j, a.N)
				case !a.Hidden && a.N != c.N:
					t.Fatalf("seed %d: cell %d,%d shows %d, was %d", seed, i, j, a.N, c.N)
				case a.Hidden:
					hiddenSeen++
				}
			}
		}
		// The oracle works on the counts with the hiding applied: put them back.
		check := newGrid(orig).s
		for i, row := range check.published() {
			for j := range append(row.Cells, row.Total) {
				hid := append(after[i].Cells, after[i].Total)[j].Hidden
				if j < len(row.Cells) {
					row.Cells[j].Hidden = hid
				} else if i < len(check.Rows) {
					check.Rows[i].Total.Hidden = hid
				} else {
					check.Totals.Total.Hidden = hid
				}
			}
		}
		for i, f := range determined(&check) {
			if f {
				t.Fatalf("seed %d, k %d: hidden cell #%d can be worked out:\n%v\n%v", seed, k, i, orig, got)
			}
		}
		for _, l := range lines(&check) {
			if l.total.Hidden {
				continue
			}
			n, hsum := 0, 0
			for _, c := range l.cells {
				if c.Hidden {
					n, hsum = n+1, hsum+c.N
				}
			}
			if n > 0 && hsum == n {
				t.Fatalf("seed %d, k %d: a line's %d hidden cells are all 1", seed, k, n)
			}
		}
	}
	if hiddenSeen == 0 {
		t.Fatal("no table had a hidden cell: the test tested nothing")
	}
}

// TestSuppressExample: the classic case. One small cell in a row needs a partner in its row
// and in its column, and the partners a fourth cell, or subtraction gives it back.
func TestSuppressExample(t *testing.T) {
	s := Section{Name: "x", Rows: []Row{
		{Key: "a", Cells: []Cell{{N: 2}, {N: 20}, {N: 30}}},
		{Key: "b", Cells: []Cell{{N: 10}, {N: 9}, {N: 40}}},
		{Key: "c", Cells: []Cell{{N: 12}, {N: 50}, {N: 60}}},
	}, Totals: &Row{Key: "total", Cells: make([]Cell, 3)}}
	s.sum()
	got := Suppress(Table{Periods: []string{"1", "2", "3"}, Sections: []Section{s}}, 5).Sections[0]
	var hidden []string
	for _, r := range got.published() {
		for j, c := range append(r.Cells, r.Total) {
			if c.Hidden {
				hidden = append(hidden, fmt.Sprint(r.Key, j))
			}
		}
	}
	// 2 is hidden; the cheapest cycle through it: b's 10 and 9 and a's 20.
	want := fmt.Sprint([]string{"a0", "a1", "b0", "b1"})
	if fmt.Sprint(hidden) != want {
		t.Errorf("hidden %v, want %s", hidden, want)
	}
}

// TestSuppressLargeTable: the largest table Read gives (five years of weeks, a hundred rows,
// sparse) is suppressed in seconds, not minutes.
func TestSuppressLargeTable(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	r := rand.New(rand.NewPCG(1, 2))
	s := Section{Name: "tiers", Totals: &Row{Key: "total", Cells: make([]Cell, MaxWeeks)}}
	for i := range 96 {
		row := Row{Key: string(rune('a' + i%26)), Cells: make([]Cell, MaxWeeks)}
		for j := range row.Cells {
			if r.IntN(3) > 0 {
				row.Cells[j].N = r.IntN(8)
			}
		}
		s.Rows = append(s.Rows, row)
	}
	s.sum()
	start := time.Now()
	Suppress(Table{Periods: make([]string, MaxWeeks), Sections: []Section{s}}, 5)
	t.Logf("%d × %d: %v", len(s.Rows), MaxWeeks, time.Since(start))
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
}
