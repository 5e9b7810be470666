package handoff

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/internal/redistest"
)

// TestAuditTrail: the entries are written by the desk's own audit, for many cases over more
// than two pages, with the asked case's entries on both sides of a page's edge; Trail returns
// that case's alone, in order, each field in the order written.
func TestAuditTrail(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 30, 19, 0, 0, 0, time.UTC)
	now := start
	d := &Desk{rdb: r.Client, prefix: r.Prefix, auditLife: time.Hour, log: slog.New(slog.DiscardHandler),
		now: func() time.Time { return now }}

	const a, b = "ABCD2345", "ZZZZ7777"
	// Entry i of the stream, for case a at these positions: the first, both sides of the edge
	// of the first page (entries 0–999), the first of the third page and the last.
	ofA := map[int][]any{ // the event, then its fields
		0:    {"created", "tier", 2, "reason", "screening", "lang", "el", "channel", "telegram"},
		999:  {"notified", "operators", "maria,nikos", "level", 0},
		1000: {"claimed", "operator", "maria", "alias", "Μαρία"},
		2000: {"relayed", "from", "person", "alert", false},
		2499: {"closed", "operator", "maria", "outcome", "referred"},
	}
	var bCount int
	for i := range 2500 {
		now = start.Add(time.Duration(i) * time.Second)
		switch {
		case ofA[i] != nil:
			d.audit(ctx, ofA[i][0].(string), a, ofA[i][1:]...)
		case i%100 == 7:
			d.audit(ctx, "relayed", b, "from", "operator", "operator", "nikos")
			bCount++
		case i%100 == 50:
			d.audit(ctx, "duty_on", "-", "operator", "nikos") // not of a case
		default:
			d.audit(ctx, "expired", newID())
		}
	}
	if n := r.Client.XLen(ctx, r.Prefix+":handoff:audit").Val(); n != 2500 {
		t.Fatalf("the stream holds %d entries; want 2500", n)
	}

	at := func(i int) time.Time { return start.Add(time.Duration(i) * time.Second) }
	want := []AuditEvent{
		{At: at(0), Event: "created", Fields: []AuditField{{"tier", "2"}, {"reason", "screening"}, {"lang", "el"}, {"channel", "telegram"}}},
		{At: at(999), Event: "notified", Fields: []AuditField{{"operators", "maria,nikos"}, {"level", "0"}}},
		{At: at(1000), Event: "claimed", Fields: []AuditField{{"operator", "maria"}, {"alias", "Μαρία"}}},
		{At: at(2000), Event: "relayed", Fields: []AuditField{{"from", "person"}, {"alert", "0"}}},
		{At: at(2499), Event: "closed", Fields: []AuditField{{"operator", "maria"}, {"outcome", "referred"}}},
	}
	got, err := Trail(ctx, r.Client, r.Prefix, strings.ToLower(a)) // typed in lower case
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Trail of %s (-want +got):\n%s", a, diff)
	}

	gotB, err := Trail(ctx, r.Client, r.Prefix, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotB) != bCount {
		t.Errorf("Trail of %s has %d events; want %d", b, len(gotB), bCount)
	}
	for i, ev := range gotB {
		if ev.Event != "relayed" || i > 0 && !ev.At.After(gotB[i-1].At) {
			t.Fatalf("Trail of %s: event %d is %+v after %+v; want relayed, in order", b, i, ev, gotB[max(i-1, 0)])
		}
	}

	// A case nobody wrote of, and a prefix with no stream at all: nothing, and no error.
	for _, prefix := range []string{r.Prefix, r.Prefix + "-other"} {
		if got, err := Trail(ctx, r.Client, prefix, "QQQQ2222"); err != nil || len(got) != 0 {
			t.Errorf("Trail of an unknown case under %s = %v, %v; want none, no error", prefix, got, err)
		}
	}
}

// TestAuditCaseID: ids are taken in any case and around spaces; anything else is refused
// before Redis is asked.
func TestAuditCaseID(t *testing.T) {
	for in, want := range map[string]string{"ABCD2345": "ABCD2345", "abcd2345": "ABCD2345", " k3xq7m2a\n": "K3XQ7M2A"} {
		if got, err := ParseCaseID(in); err != nil || got != want {
			t.Errorf("ParseCaseID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-", "ABCD234", "ABCD23456", "ABCD2341", "ABCD2380", "ABCD-345", "ABCD 345",
		"ΑΒΓΔ2345", // Greek capitals
		"ABCD2345\x00"} {
		_, err := ParseCaseID(in)
		if err == nil || !strings.Contains(err.Error(), "8 Latin letters A–Z and digits 2–7") {
			t.Errorf("ParseCaseID(%q): %v; want a clear refusal", in, err)
		}
		if _, err := Trail(context.Background(), nil, "", in); err == nil {
			t.Errorf("Trail(%q) took the id", in)
		}
	}
}
