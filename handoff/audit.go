package handoff

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// AuditEvent is one entry of a case's audit trail, as the desk wrote it.
type AuditEvent struct {
	At     time.Time    // when the desk wrote it (its "at"), in UTC
	Event  string       // created, notified, claimed, relayed, released, escalated, closed, ...
	Fields []AuditField // the entry's other fields but its case, in the order written
}

// AuditField is one key and value of an audit entry.
type AuditField struct{ Key, Value string }

// auditPage is how many entries Trail reads at a time: the stream holds up to ~100,000, of
// every case, and one reply of them all would hold Redis (and the reader's memory) at once.
const auditPage = 1000

// ParseCaseID returns s as a case id (8 of A–Z and 2–7, as newID makes them), upper-cased:
// operators read ids out and type them, in any case.
func ParseCaseID(s string) (string, error) {
	id := strings.ToUpper(strings.TrimSpace(s))
	if !isCaseID(id) {
		// Greek capitals look like Latin ones: say which are meant.
		return "", fmt.Errorf("%q is not a case id: a case id is 8 Latin letters A–Z and digits 2–7, such as K3XQ7M2A", s)
	}
	return id, nil
}

// Trail returns the audit trail of case caseID, oldest first, from the audit stream of the
// desk whose key prefix is prefix ("": "faros", as the desk's). A case with no entries left
// (a mistyped id, or a trail trimmed or expired) has none, without an error.
func Trail(ctx context.Context, rdb redis.UniversalClient, prefix, caseID string) ([]AuditEvent, error) {
	id, err := ParseCaseID(caseID)
	if err != nil {
		return nil, err
	}
	// The key as the desk names it, from the desk's own code: the two cannot drift apart.
	stream := (&Desk{prefix: cmp.Or(prefix, "faros")}).global("audit")
	var events []AuditEvent
	for start := "-"; ; {
		// XRANGE through the raw reply: go-redis gives an entry's fields as a map, which
		// loses the order they were written in.
		reply, err := rdb.Do(ctx, "XRANGE", stream, start, "+", "COUNT", auditPage).Slice()
		if err != nil {
			return nil, fmt.Errorf("read the audit trail: %w", err)
		}
		for _, e := range reply {
			entryID, fields, err := auditEntry(e)
			if err != nil {
				return nil, fmt.Errorf("read the audit trail: %w", err)
			}
			if ev, ok := auditEventOf(entryID, fields, id); ok {
				events = append(events, ev)
			}
			start = "(" + entryID // the next page starts after the last entry read
		}
		if len(reply) < auditPage {
			return events, nil
		}
	}
}

// auditEntry splits one entry of an XRANGE reply into its id and its fields, key and value
// alternating.
func auditEntry(e any) (string, []any, error) {
	pair, ok := e.([]any)
	if !ok || len(pair) != 2 {
		return "", nil, fmt.Errorf("unexpected stream entry %T", e)
	}
	id, ok := pair[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("unexpected stream entry id %T", pair[0])
	}
	fields, _ := pair[1].([]any) // nil: an entry without fields, of no case
	return id, fields, nil
}

// auditEventOf returns the entry as an event if it is of case id.
func auditEventOf(entryID string, fields []any, id string) (AuditEvent, bool) {
	var ev AuditEvent
	var of, at string
	for i := 0; i+1 < len(fields); i += 2 {
		k, v := fmt.Sprint(fields[i]), fmt.Sprint(fields[i+1])
		switch k {
		case "case":
			of = v
		case "event":
			ev.Event = v
		case "at":
			at = v
		default:
			ev.Fields = append(ev.Fields, AuditField{k, v})
		}
	}
	if of != id {
		return AuditEvent{}, false
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		// The desk always writes it; without it, the entry's id still tells when Redis took it.
		ms, _ := strconv.ParseInt(strings.SplitN(entryID, "-", 2)[0], 10, 64)
		t = time.UnixMilli(ms)
	}
	ev.At = t.UTC()
	return ev, true
}
