// Package stats keeps Faros' statistics as counters, never records: when something happens
// (a screening reaches its tier, a handoff is offered, accepted, claimed or closed), one is
// added to an aggregate counter of the ISO week (Athens time), and nothing names a person.
//
// Each week is one Redis hash, PREFIX:stats:{2026-W48}, whose fields are categories and whose
// values are counts (field names in fields.go). A week is one key, so on Redis Cluster it
// lives on one slot and each recording is one MULTI on one key. Every key expires Retention
// after its week began.
//
// Reading (Read) gives a Table of weeks or months; Suppress hides small cells and whatever
// would reveal them; the renderers write CSV, JSON, SVG, HTML and the operators' Greek text.
package stats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// Retention is how long a week's counters are kept, counted from the week's Monday: 400
// days, so a week can be set beside the same week a year before (52 weeks) with a month to
// spare, and nothing older lingers.
const Retention = 400 * 24 * time.Hour

// Counter records events into the weekly counters.
type Counter struct {
	rdb    redis.UniversalClient
	prefix string
	// Now is the clock, time.Now unless a test sets another.
	Now func() time.Time
}

// New returns a Counter writing under prefix (FAROS_REDIS_PREFIX).
func New(rdb redis.UniversalClient, prefix string) *Counter {
	return &Counter{rdb: rdb, prefix: prefix, Now: time.Now}
}

// Key is the Redis key of week w's counters. The braces are a hash tag: the week is the slot.
func Key(prefix string, w Week) string { return prefix + ":stats:{" + w.String() + "}" }

// Screening is one finished screening, as counted: no pseudonym, no time but the week.
type Screening struct {
	Lang    string   // the conversation's language: el, en, fr, sq… ("" counts as und)
	Channel string   // telegram, api, web
	Tier    int      // the highest tier reached, 0-3
	Codes   []string // the indicator codes answered positively (each counts once)
	Kinds   []string // the kinds of those indicators: labour, sexual, other
	Minor   bool     // the minor presumption holds ("yes" or "not sure" to "under 18?")
}

// Screened counts one screening. Call it once per screening, when it is done (its tier is
// final): a screening redone from the start is counted again, as it should be, but the same
// screening counted twice would be a person counted twice. The caller keeps that once (e.g.
// a flag in the session), since the counters know no one.
//
// A failure is returned, for the caller to log and go on: nobody is delayed or refused for a
// statistic.
func (c *Counter) Screened(ctx context.Context, s Screening) error {
	if s.Lang == "" {
		s.Lang = "und" // BCP 47's "undetermined": a screening before a language was chosen
	}
	if !isLang(s.Lang) || !isName(s.Channel) || s.Tier < 0 || s.Tier > 3 {
		return errors.New("stats: a screening needs a language of 2-3 letters a-z, a channel of letters, a tier 0-3")
	}
	fields := []string{TierField(s.Lang, s.Channel, s.Tier)}
	var codes []string
	for _, code := range s.Codes {
		if !isName(code) {
			return errors.New("stats: an indicator code is letters a-z and _ only")
		}
		if !slices.Contains(codes, code) {
			codes = append(codes, code)
			fields = append(fields, "code|"+code)
		}
	}
	kind, err := kindOf(s.Kinds)
	if err != nil {
		return err
	}
	if kind != "" {
		fields = append(fields, "kind|"+kind)
	}
	if s.Minor {
		fields = append(fields, "minor")
	}
	return c.add(ctx, fields...)
}

// Handoff counts a handoff offered to a person ("offered") or accepted by them ("accepted").
// A claim is counted by Claimed, a closing by Closed.
func (c *Counter) Handoff(ctx context.Context, event string) error {
	if event != "offered" && event != "accepted" {
		return fmt.Errorf("stats: handoff event %q is not offered or accepted", event)
	}
	return c.add(ctx, "handoff|"+event)
}

// Claimed counts a case claimed by a counsellor after wait (from the case's creation), in a
// coarse bucket (Buckets): exact waits with a week could single out a case in a busy log.
func (c *Counter) Claimed(ctx context.Context, wait time.Duration) error {
	return c.add(ctx, "claim|"+bucketOf(wait))
}

// Closed counts a case closed with outcome (referred, information_given, no_contact,
// duplicate, other, person_left…).
func (c *Counter) Closed(ctx context.Context, outcome string) error {
	if !isName(outcome) {
		return errors.New("stats: an outcome is letters a-z and _ only")
	}
	return c.add(ctx, "closed|"+outcome)
}

// add adds one to each field of this week's hash and sets the hash's expiry, in one round
// trip and one transaction on one key (one slot on a cluster): a screening is counted whole
// or not at all, and never without its TTL.
func (c *Counter) add(ctx context.Context, fields ...string) error {
	now := c.Now()
	w := WeekOf(now)
	ttl := w.Monday().Add(Retention).Sub(now)
	key := Key(c.prefix, w)
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, f := range fields {
			p.HIncrBy(ctx, key, f, 1)
		}
		p.Expire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("stats: count: %w", err)
	}
	return nil
}

// kindOf is the form of exploitation a screening's positive indicators point to: labour,
// sexual, both, or unclear (only indicators of kind other); "" without a positive answer, so
// that the kinds count screenings with something to say, not every screening.
func kindOf(kinds []string) (string, error) {
	var labour, sexual, any bool
	for _, k := range kinds {
		switch k {
		case "labour":
			labour = true
		case "sexual":
			sexual = true
		case "other":
		default:
			return "", fmt.Errorf("stats: kind %q is not labour, sexual or other", k)
		}
		any = true
	}
	switch {
	case labour && sexual:
		return "both", nil
	case labour:
		return "labour", nil
	case sexual:
		return "sexual", nil
	case any:
		return "unclear", nil
	}
	return "", nil
}
