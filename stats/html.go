package stats

import (
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
)

// WriteHTML writes one self-contained page: the charts inline, then every section's table.
// No script, no style sheet, font or image fetched: its Content-Security-Policy forbids all of
// them, so the page can be mailed or opened offline without calling anywhere.
func WriteHTML(w io.Writer, t Table, o Options) error {
	if t.K == 0 {
		return errRaw
	}
	var b strings.Builder
	esc := html.EscapeString
	title := "Faros: στατιστικά · statistics " + span(t)
	fmt.Fprintf(&b, `<!doctype html>
<html lang="el">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>%s</title>
<style>
body { font-family: sans-serif; margin: 1em auto; max-width: 1000px; padding: 0 1em; color: #111 }
table { border-collapse: collapse; margin: .5em 0 1.5em; font-size: 13px }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right }
th:first-child { text-align: left }
tr.total { font-weight: bold; background: #f3f3f3 }
td.x { color: #888 }
.en { color: #444; font-weight: normal }
svg { max-width: 100%%; height: auto }
</style>
</head>
<body>
<h1>%s</h1>
`, esc(title), esc(title))
	if o.Note != "" {
		fmt.Fprintf(&b, "<p><strong>%s</strong></p>\n", esc(o.Note))
	}
	fmt.Fprintf(&b, "<p>%s<br><span class=en>%s</span></p>\n",
		esc(fmt.Sprintf(hiddenNote.el, t.K)), esc(fmt.Sprintf(hiddenNote.en, t.K)))
	body, h := charts(t, Options{Names: o.Names}) // the note is already in the page
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="sans-serif" font-size="11" role="img" aria-label="%s">`+"\n%s</svg>\n",
		width, h, width, h, esc(title), body)
	for _, s := range t.Sections {
		st := sectionTitles[s.Name]
		fmt.Fprintf(&b, "<h2 id=%q>%s<br><span class=en>%s</span></h2>\n", s.Name, esc(st.el), esc(st.en))
		b.WriteString("<table>\n<tr><th></th>")
		for _, p := range t.Periods {
			fmt.Fprintf(&b, "<th>%s</th>", esc(p))
		}
		b.WriteString("<th>σύνολο · total</th></tr>\n")
		for _, r := range s.published() {
			class := ""
			if r.Key == "total" {
				class = ` class="total"`
			}
			fmt.Fprintf(&b, "<tr%s data-key=\"%s\"><th>%s</th>", class, esc(r.Key), esc(rowName(s.Name, r.Key, o.Names).String()))
			for _, c := range append(slices.Clip(r.Cells), r.Total) {
				if c.Hidden {
					fmt.Fprintf(&b, `<td class="x">%s</td>`, Hidden)
				} else {
					fmt.Fprintf(&b, "<td>%d</td>", c.N)
				}
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("</body>\n</html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
