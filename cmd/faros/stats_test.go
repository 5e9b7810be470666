package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/locales"
	"github.com/faros-project/faros/stats"
)

// runStats runs "faros stats" with args and the variables of env only.
func runStats(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = statsCommand(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestStatsCommand: counters written by the service's Counter come out of "faros stats" in
// each format, suppressed, with the indicators named from triggers.yaml.
func TestStatsCommand(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	c := stats.New(r.Client, r.Prefix)
	c.Now = func() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 0, stats.Athens) } // 2026-W48
	for range 7 {
		if err := c.Screened(ctx, stats.Screening{Lang: "el", Channel: "telegram", Tier: 2, Codes: []string{"debt_bondage"}, Kinds: []string{"labour"}}); err != nil {
			t.Fatal(err)
		}
	}
	// Two and one under 5, hidden; not two ones, which the total minus the 7 would give away.
	for _, s := range []stats.Screening{{Lang: "sq", Channel: "web", Tier: 3}, {Lang: "sq", Channel: "web", Tier: 3}, {Lang: "en", Channel: "web", Tier: 1}} {
		if err := c.Screened(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"FAROS_REDIS_URL": r.URL(), "FAROS_REDIS_PREFIX": r.Prefix}
	week := []string{"--from", "2026-W47", "--to", "2026-W48"}

	code, out, errOut := runStats(t, env, week...)
	if code != 0 || errOut != "" {
		t.Fatalf("csv: exit %d, stderr %q", code, errOut)
	}
	for _, line := range []string{
		"section,row,2026-W47,2026-W48,total",
		"tiers,el|telegram|2,0,7,7",
		"tiers,en|web|1,0,x,x",
		"tiers,sq|web|3,0,x,x",
		"tiers,total,0,10,10",
		"indicators,debt_bondage,0,7,7",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("csv lacks %q:\n%s", line, out)
		}
	}

	code, out, _ = runStats(t, env, append(week, "--format", "json", "--k", "10")...)
	var j struct {
		K        int
		Sections []struct {
			Name string
			Rows []struct {
				Key   string
				Cells []*int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &j); code != 0 || err != nil || j.K != 10 || j.Sections[0].Rows[0].Cells[1] != nil {
		t.Errorf("json with --k 10: exit %d, %v, %s", code, err, out)
	}

	code, out, _ = runStats(t, env, append(week, "--format", "svg")...)
	if code != 0 || !strings.HasPrefix(out, "<svg") || !strings.Contains(out, "χρέος που δεσμεύει · debt bondage") {
		t.Errorf("svg: exit %d, no chart or no indicator names:\n%.300s", code, out)
	}
	code, out, _ = runStats(t, env, "--from", "2026-W45", "--to", "2026-W48", "--by", "month", "--format", "html")
	if code != 0 || !strings.Contains(out, "<th>2026-11</th>") || strings.Contains(out, "<script") {
		t.Errorf("html by month: exit %d:\n%.300s", code, out)
	}

	// Content directories: the names come from FAROS_FLOWS_DIR's triggers.yaml.
	dir, localesDir := filepath.Join(t.TempDir(), "flows"), filepath.Join(t.TempDir(), "locales")
	copyDir(t, flows.Files, dir)
	copyDir(t, locales.Files, localesDir)
	triggers := filepath.Join(dir, "triggers.yaml")
	data, err := os.ReadFile(triggers)
	if err != nil {
		t.Fatal(err)
	}
	data = regexp.MustCompile(`(?m)^  debt_bondage: .*$`).ReplaceAll(data, []byte(`  debt_bondage: {kind: labour, el: "χρέος Χ", en: "debt X"}`))
	if err := os.WriteFile(triggers, data, 0o644); err != nil {
		t.Fatal(err)
	}
	env["FAROS_FLOWS_DIR"], env["FAROS_LOCALES_DIR"] = dir, localesDir
	if code, out, errOut = runStats(t, env, append(week, "--format", "svg")...); code != 0 || !strings.Contains(out, "χρέος Χ · debt X") {
		t.Errorf("names from FAROS_FLOWS_DIR: exit %d, %s", code, errOut)
	}
}

// TestStatsUsage: a wrong command line is told, with the usage, and exits 2 before any
// Redis is looked for; no store to read is exit 1.
func TestStatsUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"--from", "2026-48"}, 2, `--from: "2026-48" is not an ISO week such as 2026-W48`},
		{[]string{"--to", "2027-W53"}, 2, "2027 has 52 ISO weeks"},
		{[]string{"--from", "2026-W10", "--to", "2026-W09"}, 2, "--from 2026-W10 is after --to 2026-W09"},
		{[]string{"--format", "pdf"}, 2, `--format: "pdf" is not csv, json, svg or html`},
		{[]string{"--by", "day"}, 2, `--by: "day" is not week or month`},
		{[]string{"--k", "1"}, 2, "--k: 1 hides nothing"},
		{[]string{"2026-W01"}, 2, "unexpected arguments"},
		{[]string{"-h"}, 0, ""},
	} {
		code, out, errOut := runStats(t, nil, c.args...)
		if code != c.code || out != "" || !strings.Contains(errOut, c.says) || !strings.Contains(errOut, "usage: faros stats") {
			t.Errorf("faros stats %q: exit %d, stdout %q, stderr:\n%s\nwant exit %d and %q", c.args, code, out, errOut, c.code, c.says)
		}
	}
	code, out, errOut := runStats(t, nil)
	if code != 1 || out != "" || !strings.Contains(errOut, "there are no counters to read") {
		t.Errorf("embedded store: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
