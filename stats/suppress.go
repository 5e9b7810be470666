package stats

import "math"

// Suppress returns t with every cell under k hidden, and with enough other cells hidden that
// none of those can be worked out from what is shown. Hidden cells carry no number.
//
// Each section is read as its published equations: every row adds up to its total and, in a
// section with totals, every column (the column totals too) to its total. The rules:
//
//   - Primary: a cell (totals included) of 1 to k-1 is hidden. Zeros are shown: a zero says
//     that nobody is in the cell, which singles no one out, and hiding zeros would hide
//     most of a sparse table.
//   - Complementary: no hidden cell may follow from the shown numbers by adding and
//     subtracting. With cells as edges between their row and their column (a section
//     without column totals ties its cells to one free "ground" instead), a hidden cell
//     follows from the rest exactly when it lies on no cycle of hidden cells. So while a
//     hidden cell lies on none, the cheapest path of cells closing a cycle through it is
//     hidden too: hidden cells cost nothing, a shown cell its count (the least information
//     lost), a zero is never used (a hidden cell is then never a zero, as a reader knows
//     already).
//   - All ones: since hidden cells are never zero, a line whose hidden cells add up to their
//     number gives each of them away as 1. Such a line gets one more cell hidden: its
//     smallest shown cell of 2 or more, or else its total.
//
// The two last rules repeat until neither hides anything more. What is left is protected
// against subtraction, not against every inference: hidden cells of at least 1 bound each
// other, and a reader may still narrow one down (never to one value by subtraction).
func Suppress(t Table, k int) Table {
	out := t
	out.K = k
	out.Sections = make([]Section, len(t.Sections))
	for i, s := range t.Sections {
		g := newGrid(s) // copies the section
		g.suppress(k)
		out.Sections[i] = g.s
	}
	return out
}

// grid is a section as a graph: vertices are its lines (rows, columns; or ground), edges its
// cells. Cell (i, j) of the extended grid (row R is the totals, column P the row totals).
type grid struct {
	s      Section
	R, P   int // rows and periods, without totals
	nv     int // vertices: R(+1) row lines, then P+1 column lines or one ground
	ends   [][2]int
	adj    [][]int
	cells  []*Cell
	totals []int // per vertex: the edge of the line's total; -1 for ground
}

func newGrid(s Section) *grid {
	c := Section{Name: s.Name, Rows: make([]Row, len(s.Rows))}
	for i, r := range s.Rows {
		c.Rows[i] = Row{Key: r.Key, Cells: append([]Cell(nil), r.Cells...), Total: r.Total}
	}
	g := &grid{s: c, R: len(s.Rows)}
	if len(s.Rows) > 0 {
		g.P = len(s.Rows[0].Cells)
	}
	rows := g.R
	if s.Totals != nil {
		t := Row{Key: s.Totals.Key, Cells: append([]Cell(nil), s.Totals.Cells...), Total: s.Totals.Total}
		g.s.Totals = &t
		g.P = len(t.Cells)
		rows++
	}
	col := func(j int) int { return rows + j }
	if g.s.Totals == nil {
		g.nv = rows + 1 // ground
		col = func(int) int { return rows }
	} else {
		g.nv = rows + g.P + 1
	}
	g.adj = make([][]int, g.nv)
	g.totals = make([]int, g.nv)
	for v := range g.totals {
		g.totals[v] = -1
	}
	for i := 0; i < rows; i++ {
		r := g.row(i)
		for j := 0; j <= g.P; j++ {
			cell := &r.Total
			if j < g.P {
				cell = &r.Cells[j]
			}
			e := len(g.cells)
			g.cells = append(g.cells, cell)
			g.ends = append(g.ends, [2]int{i, col(j)})
			g.adj[i] = append(g.adj[i], e)
			g.adj[col(j)] = append(g.adj[col(j)], e)
			if j == g.P {
				g.totals[i] = e
			}
			if i == g.R && g.s.Totals != nil {
				g.totals[col(j)] = e // the totals row holds every column's total
			}
		}
	}
	return g
}

func (g *grid) row(i int) *Row {
	if i < g.R {
		return &g.s.Rows[i]
	}
	return g.s.Totals
}

func (g *grid) suppress(k int) {
	for _, c := range g.cells {
		c.Hidden = c.N >= 1 && c.N < k
	}
	for {
		for {
			b := g.bridges()
			if len(b) == 0 {
				break
			}
			g.cover(b[0])
		}
		if !g.allOnes() {
			break
		}
	}
	for _, c := range g.cells {
		if c.Hidden {
			c.N = 0
		}
	}
}

// bridges are the hidden cells on no cycle of hidden cells (Tarjan's bridges, multigraph).
func (g *grid) bridges() []int {
	disc, low := make([]int, g.nv), make([]int, g.nv)
	clock := 0
	var out []int
	var visit func(v, from int)
	visit = func(v, from int) {
		clock++
		disc[v], low[v] = clock, clock
		for _, e := range g.adj[v] {
			if !g.cells[e].Hidden || e == from {
				continue
			}
			w := g.other(e, v)
			if disc[w] == 0 {
				visit(w, e)
				low[v] = min(low[v], low[w])
				if low[w] > disc[v] {
					out = append(out, e)
				}
			} else {
				low[v] = min(low[v], disc[w])
			}
		}
	}
	for v := range g.nv {
		if disc[v] == 0 {
			visit(v, -1)
		}
	}
	return out
}

func (g *grid) other(e, v int) int {
	if g.ends[e][0] == v {
		return g.ends[e][1]
	}
	return g.ends[e][0]
}

// cover hides the cheapest path that closes a cycle through hidden cell b (Dijkstra: few
// vertices, so the plain quadratic form).
func (g *grid) cover(b int) {
	const unreached = math.MaxInt64
	cost := func(e int) int64 {
		switch c := g.cells[e]; {
		case c.Hidden:
			return 0
		case c.N == 0:
			return -1 // never: zeros stay shown
		default:
			return int64(c.N)<<20 + 1 // the least counted first, then the fewest cells
		}
	}
	from, to := g.ends[b][0], g.ends[b][1]
	dist, via, done := make([]int64, g.nv), make([]int, g.nv), make([]bool, g.nv)
	for v := range dist {
		dist[v], via[v] = unreached, -1
	}
	dist[from] = 0
	for {
		v := -1
		for w := range g.nv {
			if !done[w] && dist[w] != unreached && (v < 0 || dist[w] < dist[v]) {
				v = w
			}
		}
		if v < 0 || v == to {
			break
		}
		done[v] = true
		for _, e := range g.adj[v] {
			c := cost(e)
			if e == b || c < 0 {
				continue
			}
			if w := g.other(e, v); dist[v]+c < dist[w] {
				dist[w], via[w] = dist[v]+c, e
			}
		}
	}
	if dist[to] == unreached {
		// Cannot happen (a hidden cell's row total and column total are at least it), but
		// if it did: hide the whole section rather than publish a cell that gives one away.
		for _, c := range g.cells {
			c.Hidden = c.N > 0
		}
		return
	}
	for v := to; v != from; v = g.other(via[v], v) {
		g.cells[via[v]].Hidden = true
	}
}

// allOnes hides one more cell in the first line whose hidden cells must all be 1, and says
// whether it did.
func (g *grid) allOnes() bool {
	for v, t := range g.totals {
		if t < 0 || g.cells[t].Hidden {
			continue // ground, or a total that is itself hidden: the line tells no sum
		}
		sum, hidden, best := g.cells[t].N, 0, -1
		for _, e := range g.adj[v] {
			c := g.cells[e]
			switch {
			case e == t:
			case c.Hidden:
				hidden++
			default:
				sum -= c.N
				if c.N >= 2 && (best < 0 || c.N < g.cells[best].N) {
					best = e
				}
			}
		}
		if hidden == 0 || sum != hidden {
			continue
		}
		if best < 0 {
			best = t
		}
		g.cells[best].Hidden = true
		return true
	}
	return false
}
