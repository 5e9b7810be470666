package stats

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Options are what the charts need besides the table.
type Options struct {
	Names Names  // the indicators' names, Greek and English
	Note  string // a line under the title, e.g. "test data"
}

// The charts are plain SVG: rectangles and text, each bar with a <title> (its number, which a
// screen reader and a hover show), no script, no font or image fetched, every text escaped.
const (
	width  = 960
	left   = 70  // the plot's left edge: room for the scale
	plotW  = 860 // the plot's width
	panelH = 110 // a bar panel's height
)

// palette: Okabe and Ito's colours, told apart with the common colour blindnesses.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"}

type svgDoc struct {
	b strings.Builder
	y float64 // where the next element starts
}

func (d *svgDoc) text(x, y float64, anchor, style, s string) {
	fmt.Fprintf(&d.b, `<text x="%.1f" y="%.1f" text-anchor="%s"%s>%s</text>`+"\n", x, y, anchor, style, html.EscapeString(s))
}

func (d *svgDoc) bar(x, y, w, h float64, fill, title string) {
	fmt.Fprintf(&d.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n",
		x, y, w, h, fill, html.EscapeString(title))
}

func (d *svgDoc) heading(b bi) {
	d.y += 34
	d.text(left, d.y, "start", ` font-size="16" font-weight="bold"`, b.el)
	d.y += 18
	d.text(left, d.y, "start", ` font-size="13" fill="#444"`, b.en)
	d.y += 10
}

// WriteSVG writes the three charts as one SVG image.
func WriteSVG(w io.Writer, t Table, o Options) error {
	if t.K == 0 {
		return errRaw
	}
	body, h := charts(t, o)
	_, err := fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="sans-serif" font-size="11">`+"\n%s</svg>\n",
		width, h, width, h, body)
	return err
}

// charts draws the charts of t and returns them with their height.
func charts(t Table, o Options) (string, float64) {
	d := &svgDoc{}
	fmt.Fprintf(&d.b, `<rect width="%d" height="100%%" fill="#fff"/>`+"\n", width)
	d.y = 8
	d.heading(bi{"Faros: στατιστικά " + span(t), "Faros: statistics " + span(t)})
	if o.Note != "" {
		d.y += 16
		d.text(left, d.y, "start", ` font-size="13" fill="#b00" font-weight="bold"`, o.Note)
	}
	d.y += 16
	d.text(left, d.y, "start", ` fill="#444"`, fmt.Sprintf(hiddenNote.el+" · "+hiddenNote.en+"· όσα δεν εμφανίζονται δεν σχεδιάζονται · hidden counts are not drawn", t.K, t.K))
	tiersChart(d, t, o.Names)
	indicatorsChart(d, t, o.Names)
	handoffsChart(d, t)
	return d.b.String(), d.y + 20
}

func span(t Table) string {
	return t.From.Monday().Format("2/1/2006") + " – " + t.To.Monday().AddDate(0, 0, 6).Format("2/1/2006")
}

// stack is one segment series of a bar chart: a name and a value per period.
type stack struct {
	name bi
	vals []int
}

// tiersChart: for each tier a panel of the screenings per period, stacked by language. A
// segment is the shown cells of that language (all channels) added up.
func tiersChart(d *svgDoc, t Table, names Names) {
	d.heading(bi{"Ολοκληρωμένες αξιολογήσεις ανά επίπεδο και γλώσσα", "Screenings per tier, stacked by language"})
	var langs []string
	for _, r := range t.Section("tiers").Rows {
		if l, _, _ := strings.Cut(r.Key, "|"); !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	panels := make([][]stack, 4)
	top := 1
	for tier := range 4 {
		sums := make([]int, len(t.Periods))
		for _, l := range langs {
			s := stack{name: name(l, names), vals: make([]int, len(t.Periods))}
			for _, r := range t.Section("tiers").Rows {
				if p := strings.Split(r.Key, "|"); p[0] == l && p[2] == strconv.Itoa(tier) {
					for j, c := range r.Cells {
						s.vals[j] += c.N // hidden cells are 0
						sums[j] += c.N
					}
				}
			}
			panels[tier] = append(panels[tier], s)
		}
		top = max(top, slices.Max(append(sums, 0)))
	}
	legend(d, panels[0])
	for tier := range 4 {
		n := tierName(strconv.Itoa(tier))
		bars(d, t.Periods, panels[tier], top, n.String(), false)
	}
}

// indicatorsChart: the ten indicators with the most positive answers over the whole span.
func indicatorsChart(d *svgDoc, t Table, names Names) {
	d.heading(bi{"Οι συχνότεροι δείκτες (θετικές απαντήσεις, όλο το διάστημα)", "Top indicators (positive answers, whole span)"})
	rows := slices.Clone(t.Section("indicators").Rows)
	slices.SortStableFunc(rows, func(a, b Row) int {
		if a.Total.Hidden != b.Total.Hidden {
			return cmp.Compare(b2i(a.Total.Hidden), b2i(b.Total.Hidden))
		}
		return cmp.Compare(b.Total.N, a.Total.N)
	})
	var items []hbar
	for _, r := range rows[:min(10, len(rows))] {
		items = append(items, hbar{rowName("indicators", r.Key, names).String(), r.Total})
	}
	hbars(d, items)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// handoffsChart: handoffs offered, accepted and claimed per period, side by side; then the
// claims by time waited, over the whole span.
func handoffsChart(d *svgDoc, t Table) {
	d.heading(bi{"Σύνδεση με σύμβουλο ανά περίοδο", "Handoffs per period"})
	h, c := t.Section("handoffs"), t.Section("claims")
	var series []stack
	top := 1
	for _, r := range h.published() {
		series = append(series, stack{rowName("handoffs", r.Key, nil), vals(r)})
	}
	if c.Totals != nil {
		series = append(series, stack{bi{"αναλήφθηκε", "claimed"}, vals(*c.Totals)})
	}
	for _, s := range series {
		top = max(top, slices.Max(append(s.vals, 0)))
	}
	legend(d, series)
	bars(d, t.Periods, series, top, "", true)
	d.heading(bi{"Χρόνος αναμονής μέχρι την ανάληψη (όλο το διάστημα)", "Time to claim (whole span)"})
	var items []hbar
	for _, r := range c.Rows {
		items = append(items, hbar{rowName("claims", r.Key, nil).String(), r.Total})
	}
	hbars(d, items)
}

func vals(r Row) []int {
	v := make([]int, len(r.Cells))
	for i, c := range r.Cells {
		v[i] = c.N
	}
	return v
}

func legend(d *svgDoc, series []stack) {
	d.y += 14
	x := float64(left)
	for i, s := range series {
		fmt.Fprintf(&d.b, `<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>`+"\n", x, d.y-9, palette[i%len(palette)])
		d.text(x+14, d.y, "start", "", s.name.String())
		x += 24 + 7*float64(len([]rune(s.name.String())))
	}
}

// bars draws one panel: per period, the series stacked (or side by side when grouped), on a
// scale from 0 to top.
func bars(d *svgDoc, periods []string, series []stack, top int, label string, grouped bool) {
	y0 := d.y + 16
	if label != "" {
		d.text(left, y0, "start", ` font-weight="bold"`, label)
		y0 += 6
	}
	base := y0 + panelH
	fmt.Fprintf(&d.b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#888"/>`+"\n", left, base, left+plotW, base)
	d.text(left-6, base, "end", "", "0")
	d.text(left-6, y0+8, "end", "", strconv.Itoa(top))
	slot := float64(plotW) / float64(len(periods))
	step := (len(periods) + 12) / 13 // at most 13 labels under the axis
	for j, p := range periods {
		x := float64(left) + float64(j)*slot
		w := slot * 0.7
		if grouped {
			w /= float64(max(1, len(series)))
		}
		y := base
		for i, s := range series {
			v := s.vals[j]
			if v == 0 {
				continue
			}
			hgt := float64(panelH) * float64(v) / float64(top)
			title := fmt.Sprintf("%s · %s: %d", s.name, p, v)
			if label != "" {
				title = fmt.Sprintf("%s · %s · %s: %d", s.name, label, p, v)
			}
			if grouped {
				d.bar(x+slot*0.15+float64(i)*w, base-hgt, w, hgt, palette[i%len(palette)], title)
				continue
			}
			y -= hgt
			d.bar(x+slot*0.15, y, w, hgt, palette[i%len(palette)], title)
		}
		if j%step == 0 {
			d.text(x+slot/2, base+13, "middle", "", periodName(p))
		}
	}
	d.y = base + 18
}

// hbar is one horizontal bar: a name and a cell.
type hbar struct {
	name string
	cell Cell
}

// hbars draws names with bars of their counts, a hidden count as its mark and no bar.
func hbars(d *svgDoc, items []hbar) {
	top := 1
	for _, it := range items {
		top = max(top, it.cell.N)
	}
	const labelW, barMax = 330, 520
	for _, it := range items {
		d.y += 18
		d.text(left+labelW-8, d.y, "end", "", it.name)
		w := float64(barMax) * float64(it.cell.N) / float64(top)
		if !it.cell.Hidden && it.cell.N > 0 {
			d.bar(left+labelW, d.y-11, w, 13, palette[0], fmt.Sprintf("%s: %d", it.name, it.cell.N))
		}
		d.text(left+labelW+w+6, d.y, "start", "", it.cell.text())
	}
	if len(items) == 0 {
		d.y += 18
		d.text(left, d.y, "start", ` fill="#444"`, "—")
	}
	d.y += 6
}
