package desk

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/locales"
)

// A counsellor of the desk only is reached while a page of theirs is open: otherwise Send
// fails, so that the handoff desk gives their case to the others and counts them as not told.
// What Faros tells them is kept for the page, sealed, without the person's relayed words.
func TestDeskPhonesReachOnlyAnOpenPage(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	p := NewPhones(r.Client, r.Prefix, []byte("desk test secret"))
	notice := bot.Reply{Text: "⚠ [ABCDEFGH] Το άτομο ΔΙΕΓΡΑΨΕ τη συνομιλία", Urgent: true}
	if err := p.Send(ctx, "nikos", []bot.Reply{notice}); !errors.Is(err, ErrAway) {
		t.Fatalf("Send with no page open: %v; want ErrAway", err)
	}
	if p.Present(ctx, "nikos") {
		t.Fatal("present before any page opened")
	}
	if arrived, err := p.here(ctx, "nikos"); err != nil || !arrived {
		t.Fatal(arrived, err)
	}
	if arrived, err := p.here(ctx, "nikos"); err != nil || arrived {
		t.Errorf("here again: arrived %v, %v; want false: they were there", arrived, err)
	}
	relayed := bot.Reply{Text: "[ABCDEFGH] my boss took my passport", Tag: "ABCDEFGH", Shown: true}
	later := bot.Reply{Text: "↩ [QRSTUVWX] Δεν απάντησες για 15′", Tag: "QRSTUVWX"}
	if err := p.Send(ctx, "nikos", []bot.Reply{notice, relayed}); err != nil {
		t.Fatal(err)
	}
	if err := p.Send(ctx, "nikos", []bot.Reply{later}); err != nil {
		t.Fatal(err)
	}
	got, err := p.Notices(ctx, "nikos")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Text != later.Text || got[0].Case != "QRSTUVWX" || got[1].Text != notice.Text || !got[1].Urgent {
		t.Errorf("notices %+v; want the two notices, newest first, without the relayed words", got)
	}
	keys, _ := r.Keys(ctx)
	for _, k := range keys {
		if ttl := r.Client.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("%s has no TTL", k)
		}
		v, _ := r.Client.Dump(ctx, k).Result()
		if strings.Contains(v, "ΔΙΕΓΡΑΨΕ") || strings.Contains(k, "ABCDEFGH") {
			t.Errorf("%s holds a notice in clear", k)
		}
	}
	if other, _ := p.Notices(ctx, "maria"); len(other) != 0 {
		t.Errorf("another counsellor reads %+v", other)
	}
}

// Nobody is promised a counsellor of the desk only who has no page open: they are not on call.
func TestDeskOnlyCounsellorOnCallOnlyAtTheDesk(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	ros, err := roster.Parse("roster.yaml", []byte("timezone: Europe/Athens\noperators:\n  - {id: nikos, languages: [el]}\n"+
		"shifts:\n  - {operator: nikos, days: [mon, tue, wed, thu, fri, sat, sun], from: \"00:00\", to: \"24:00\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.Load(locales.Files)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPhones(r.Client, r.Prefix, []byte("desk test secret"))
	desk := func() *handoff.Desk {
		d, err := handoff.New(handoff.Config{Redis: r.Client, Prefix: r.Prefix, Secret: []byte("desk test secret"),
			Roster: func() *roster.Roster { return ros }, Operators: map[string]handoff.Phones{roster.Desk: p},
			Catalog: func() *locales.Catalog { return cat }})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if n := desk().OnDuty(ctx, "el"); n != 0 {
		t.Errorf("on call with no page open: %d; want 0", n)
	}
	if _, err := p.here(ctx, "nikos"); err != nil {
		t.Fatal(err)
	}
	if n := desk().OnDuty(ctx, "el"); n != 1 {
		t.Errorf("on call with a page open: %d; want 1", n)
	}
}
