package stats

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// errRaw: every renderer refuses a table that was not suppressed, so raw counts can only be
// published by writing code that goes around this package.
var errRaw = errors.New("stats: the table is not suppressed: call Suppress first")

// WriteCSV writes t as one CSV table: section, row, one column per period, total. Each
// section's column totals are the row "total". A hidden cell is "x".
func WriteCSV(w io.Writer, t Table) error {
	if t.K == 0 {
		return errRaw
	}
	cw := csv.NewWriter(w)
	head := append([]string{"section", "row"}, t.Periods...)
	if err := cw.Write(append(head, "total")); err != nil {
		return err
	}
	for _, s := range t.Sections {
		for _, r := range s.published() {
			rec := []string{s.Name, r.Key}
			for _, c := range r.Cells {
				rec = append(rec, c.text())
			}
			if err := cw.Write(append(rec, r.Total.text())); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// published is a section's rows, then its totals row when it has one.
func (s Section) published() []Row {
	if s.Totals == nil {
		return s.Rows
	}
	return append(append([]Row(nil), s.Rows...), *s.Totals)
}

type jsonTable struct {
	From     string        `json:"from"`
	To       string        `json:"to"`
	By       string        `json:"by"`
	K        int           `json:"k"`
	Hidden   string        `json:"hidden"`
	Periods  []string      `json:"periods"`
	Sections []jsonSection `json:"sections"`
}

type jsonSection struct {
	Name   string    `json:"name"`
	Rows   []jsonRow `json:"rows"`
	Totals *jsonRow  `json:"totals"` // null when the rows do not add up
}

type jsonRow struct {
	Key   string `json:"key"`
	Cells []*int `json:"cells"` // null: hidden
	Total *int   `json:"total"`
}

// WriteJSON writes t as JSON; a hidden cell is null.
func WriteJSON(w io.Writer, t Table) error {
	if t.K == 0 {
		return errRaw
	}
	j := jsonTable{From: t.From.String(), To: t.To.String(), By: "week", K: t.K, Periods: t.Periods,
		Hidden: fmt.Sprintf("null: hidden (under %d, or it would reveal such a cell)", t.K)}
	if t.ByMonth {
		j.By = "month"
	}
	for _, s := range t.Sections {
		js := jsonSection{Name: s.Name, Rows: []jsonRow{}}
		for _, r := range s.Rows {
			js.Rows = append(js.Rows, toJSON(r))
		}
		if s.Totals != nil {
			tr := toJSON(*s.Totals)
			js.Totals = &tr
		}
		j.Sections = append(j.Sections, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}

func toJSON(r Row) jsonRow {
	num := func(c Cell) *int {
		if c.Hidden {
			return nil
		}
		n := c.N
		return &n
	}
	jr := jsonRow{Key: r.Key, Total: num(r.Total)}
	for _, c := range r.Cells {
		jr.Cells = append(jr.Cells, num(c))
	}
	return jr
}
