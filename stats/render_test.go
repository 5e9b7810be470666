package stats

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/seeded.svg, the chart the README shows")

// seeded is twelve weeks of made-up counts, the shape of a small service: much Greek, some
// English, little French and Albanian, few high tiers.
func seeded() Table {
	r := rand.New(rand.NewPCG(48, 2026))
	ws := weeks(Week{2026, 37}, Week{2026, 48})
	hashes := make([]map[string]string, len(ws))
	codes := []string{"abuse_of_vulnerability", "debt_bondage", "deception", "excessive_overtime", "intimidation_threats",
		"isolation", "restriction_of_movement", "retention_of_documents", "sexual_exploitation", "violence_threats", "withholding_of_wages"}
	for i := range ws {
		h := map[string]int{}
		for _, l := range []struct {
			lang  string
			scale int
		}{{"el", 40}, {"en", 24}, {"fr", 10}, {"sq", 12}} {
			for _, ch := range []string{"telegram", "web"} {
				for tier := range 4 {
					h[TierField(l.lang, ch, tier)] = r.IntN(l.scale+1) / (tier + 1)
				}
			}
		}
		for j, c := range codes {
			h["code|"+c] = r.IntN(4 + 2*j)
		}
		h["kind|labour"], h["kind|sexual"], h["kind|both"], h["kind|unclear"] = 3+r.IntN(10), r.IntN(6), r.IntN(3), r.IntN(8)
		h["minor"] = r.IntN(4)
		h["handoff|offered"] = 6 + r.IntN(10)
		h["handoff|accepted"] = h["handoff|offered"] - r.IntN(5)
		for _, b := range Buckets {
			h["claim|"+b] = r.IntN(6)
		}
		h["closed|referred"], h["closed|information_given"], h["closed|no_contact"] = r.IntN(6), r.IntN(8), r.IntN(3)
		hashes[i] = map[string]string{}
		for f, n := range h {
			hashes[i][f] = strconv.Itoa(n)
		}
	}
	return build(ws, hashes, false)
}

// TestOutputsAgree: from the same suppressed table, CSV, JSON and the HTML's tables hold the
// same cells, hidden the same; every bar of the SVG (alone and in the HTML) is a number the
// table shows, or a sum of shown ones, and every shown number the tiers and handoffs charts
// draw has its bar.
func TestOutputsAgree(t *testing.T) {
	for _, byMonth := range []bool{false, true} {
		raw := seeded()
		if byMonth {
			raw = build(weeks(raw.From, raw.To), hashesOf(raw), true)
		}
		tab := Suppress(raw, 5)
		want := rowsOf(tab)
		if !slices.ContainsFunc(slices.Collect(mapValues(want)), func(s string) bool { return strings.Contains(s, "x") }) {
			t.Fatal("the seeded table has no hidden cell: the test would prove little")
		}
		var csvOut, jsonOut, svgOut, htmlOut bytes.Buffer
		names := Names{"debt_bondage": {"el": "χρέος που δεσμεύει", "en": "debt bondage"}}
		for _, err := range []error{WriteCSV(&csvOut, tab), WriteJSON(&jsonOut, tab),
			WriteSVG(&svgOut, tab, Options{Names: names}), WriteHTML(&htmlOut, tab, Options{Names: names})} {
			if err != nil {
				t.Fatal(err)
			}
		}
		for what, got := range map[string]map[string]string{"CSV": fromCSV(t, csvOut.String(), tab.Periods),
			"JSON": fromJSON(t, jsonOut.Bytes()), "HTML": fromHTML(htmlOut.String())} {
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("by month %v: the %s differs from the table:\n%v\nwant\n%v", byMonth, what, got, want)
			}
		}
		bars := titles(svgOut.String())
		if inPage := titles(htmlOut.String()[strings.Index(htmlOut.String(), "<svg"):]); fmt.Sprint(inPage) != fmt.Sprint(bars) {
			t.Errorf("the HTML's charts differ from the SVG's")
		}
		drawn := expectedBars(tab, names)
		for _, b := range bars {
			if _, ok := drawn[b]; !ok {
				t.Errorf("bar %q is no number the table shows", b)
			}
		}
		for b, must := range drawn {
			if must && !slices.Contains(bars, b) {
				t.Errorf("no bar %q", b)
			}
		}
		checkSelfContained(t, "SVG", svgOut.String())
		checkSelfContained(t, "HTML", htmlOut.String())
		if err := wellFormed(svgOut.Bytes()); err != nil {
			t.Errorf("the SVG is not well-formed XML: %v", err)
		}
	}
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// hashesOf turns a raw weekly table back into the weeks' hashes (for merging by month).
func hashesOf(t Table) []map[string]string {
	hs := make([]map[string]string, len(t.Periods))
	field := map[string]string{"indicators": "code|", "kinds": "kind|", "handoffs": "handoff|", "claims": "claim|", "closed": "closed|", "tiers": "tier|"}
	for j := range hs {
		hs[j] = map[string]string{}
		for _, s := range t.Sections {
			for _, r := range s.Rows {
				f := field[s.Name] + r.Key
				if s.Name == "minors" {
					f = "minor"
				}
				hs[j][f] = strconv.Itoa(r.Cells[j].N)
			}
		}
	}
	return hs
}

func fromCSV(t *testing.T, s string, periods []string) map[string]string {
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if head := strings.Join(recs[0], ","); head != "section,row,"+strings.Join(periods, ",")+",total" {
		t.Errorf("CSV header %s", head)
	}
	m := map[string]string{}
	for _, r := range recs[1:] {
		m[r[0]+"/"+r[1]] = strings.Join(r[2:len(r)-1], " ") + " | " + r[len(r)-1]
	}
	return m
}

func fromJSON(t *testing.T, b []byte) map[string]string {
	var j jsonTable
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	text := func(n *int) string {
		if n == nil {
			return Hidden
		}
		return strconv.Itoa(*n)
	}
	m := map[string]string{}
	for _, s := range j.Sections {
		rows := s.Rows
		if s.Totals != nil {
			rows = append(rows, *s.Totals)
		}
		for _, r := range rows {
			var cs []string
			for _, c := range r.Cells {
				cs = append(cs, text(c))
			}
			m[s.Name+"/"+r.Key] = strings.Join(cs, " ") + " | " + text(r.Total)
		}
	}
	return m
}

var (
	htmlSection = regexp.MustCompile(`<h2 id="([a-z]+)">`)
	htmlRow     = regexp.MustCompile(`<tr(?: class="total")? data-key="([^"]*)"><th>[^<]*</th>(.*?)</tr>`)
	htmlCell    = regexp.MustCompile(`<td[^>]*>([^<]*)</td>`)
	svgTitle    = regexp.MustCompile(`<title>([^<]*)</title>`)
)

func fromHTML(s string) map[string]string {
	m := map[string]string{}
	parts := htmlSection.Split(s, -1)
	for i, name := range htmlSection.FindAllStringSubmatch(s, -1) {
		for _, row := range htmlRow.FindAllStringSubmatch(parts[i+1], -1) {
			var cs []string
			for _, c := range htmlCell.FindAllStringSubmatch(row[2], -1) {
				cs = append(cs, c[1])
			}
			m[name[1]+"/"+html.UnescapeString(row[1])] = strings.Join(cs[:len(cs)-1], " ") + " | " + cs[len(cs)-1]
		}
	}
	return m
}

func titles(s string) []string {
	var ts []string
	for _, m := range svgTitle.FindAllStringSubmatch(s, -1) {
		ts = append(ts, html.UnescapeString(m[1]))
	}
	return ts
}

// expectedBars are the bars the charts may draw, from the table, each with whether it must
// be drawn: the tiers' segments (shown cells of a language, tier and period added up), the
// handoffs' bars, the claim times; the top indicators may be drawn (which ten depends on ties).
func expectedBars(t Table, names Names) map[string]bool {
	bars := map[string]bool{}
	sums := map[string]int{}
	for _, r := range t.Section("tiers").Rows {
		p := strings.Split(r.Key, "|")
		for j, c := range r.Cells {
			sums[p[0]+"|"+p[2]+"|"+t.Periods[j]] += c.N // language, tier, period
		}
	}
	for k, n := range sums {
		if p := strings.Split(k, "|"); n > 0 {
			bars[fmt.Sprintf("%s · %s · %s: %d", name(p[0], names), tierName(p[1]), p[2], n)] = true
		}
	}
	series := t.Section("handoffs").Rows
	names2 := []bi{rowNames["offered"], rowNames["accepted"]}
	if c := t.Section("claims"); c.Totals != nil {
		series, names2 = append(slices.Clone(series), *c.Totals), append(names2, bi{"αναλήφθηκε", "claimed"})
	}
	for i, r := range series {
		for j, c := range r.Cells {
			if !c.Hidden && c.N > 0 {
				bars[fmt.Sprintf("%s · %s: %d", names2[i], t.Periods[j], c.N)] = true
			}
		}
	}
	for _, s := range []string{"indicators", "claims"} {
		for _, r := range t.Section(s).Rows {
			if !r.Total.Hidden && r.Total.N > 0 {
				bars[fmt.Sprintf("%s: %d", rowName(s, r.Key, names), r.Total.N)] = s == "claims"
			}
		}
	}
	return bars
}

// checkSelfContained: no script, no request of any kind, Greek and English.
func checkSelfContained(t *testing.T, what, s string) {
	t.Helper()
	low := strings.ToLower(s)
	for _, bad := range []string{"<script", "javascript:", "href", "src=", "url(", "@import", "<iframe", "<object", "<embed", "<foreignobject", " on"} {
		if bad == " on" {
			if regexp.MustCompile(`\son[a-z]+\s*=`).MatchString(low) {
				t.Errorf("%s has an event handler", what)
			}
			continue
		}
		if strings.Contains(low, bad) {
			t.Errorf("%s contains %q", what, bad)
		}
	}
	for _, u := range regexp.MustCompile(`[a-z]+://[^"'\s<>]*`).FindAllString(low, -1) {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("%s names %s", what, u)
		}
	}
	for _, word := range []string{"Ολοκληρωμένες αξιολογήσεις", "Screenings", "επίπεδο 3", "tier 3", "Time to claim", "αναμονής"} {
		if !strings.Contains(s, word) {
			t.Errorf("%s lacks %q", what, word)
		}
	}
}

func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := d.Token(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// TestSeededChart writes (with -update) or checks testdata/seeded.svg, the chart the README
// shows, marked as test data in the image itself.
func TestSeededChart(t *testing.T) {
	var b bytes.Buffer
	names := Names{"debt_bondage": {"el": "χρέος που δεσμεύει", "en": "debt bondage"},
		"sexual_exploitation":  {"el": "σεξουαλική εκμετάλλευση", "en": "sexual exploitation"},
		"withholding_of_wages": {"el": "παρακράτηση μισθού", "en": "wages withheld"},
		"el":                   {"el": "Ελληνικά", "en": "Greek"}, "en": {"el": "Αγγλικά", "en": "English"}, "fr": {"el": "Γαλλικά", "en": "French"},
		"sq": {"el": "Αλβανικά", "en": "Albanian"}, "ur": {"el": "Ούρντου", "en": "Urdu"}, "bn": {"el": "Βεγγαλικά", "en": "Bengali"}}
	if err := WriteSVG(&b, Suppress(seeded(), 5), Options{Names: names, Note: "Δεδομένα δοκιμής, όχι πραγματικά · test data, not real"}); err != nil {
		t.Fatal(err)
	}
	const path = "testdata/seeded.svg"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(old, b.Bytes()) {
		t.Errorf("%s is not what the charts draw now (%v): go test ./stats -run SeededChart -update", path, err)
	}
	if !strings.Contains(b.String(), "test data") {
		t.Error("the chart does not say it is test data")
	}
}

// TestEscapedAndRefused: names from the content are escaped; a raw table is refused.
func TestEscapedAndRefused(t *testing.T) {
	tab := Suppress(seeded(), 5)
	names := Names{"debt_bondage": {"el": `<script>alert("x")</script> & co`, "en": "a\"b"}}
	var b bytes.Buffer
	if err := WriteSVG(&b, tab, Options{Names: names, Note: "<b>&"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script") || strings.Contains(b.String(), "<b>") || wellFormed(b.Bytes()) != nil {
		t.Error("a name was written unescaped")
	}
	b.Reset()
	if err := WriteHTML(&b, tab, Options{Names: names}); err != nil || strings.Contains(b.String(), "<script") {
		t.Errorf("HTML: %v, or a name unescaped", err)
	}
	raw := seeded()
	for name, err := range map[string]error{"CSV": WriteCSV(io.Discard, raw), "JSON": WriteJSON(io.Discard, raw),
		"SVG": WriteSVG(io.Discard, raw, Options{}), "HTML": WriteHTML(io.Discard, raw, Options{})} {
		if err == nil {
			t.Errorf("%s wrote a table that was not suppressed", name)
		}
	}
	if s := OperatorTable(raw, nil); strings.Contains(s, "Στατιστικά") {
		t.Error("OperatorTable wrote a table that was not suppressed")
	}
}
