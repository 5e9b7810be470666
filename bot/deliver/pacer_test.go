package deliver

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sent is one send of a simulated queue: which text went when.
type sent struct {
	Text string
	At   time.Duration
}

// msg is a message for the pacer; its payload names it.
func msg(chat, text string, urgent bool) *item {
	return &item{Message: Message{Chat: chat, Urgent: urgent, Payload: []byte(text)}}
}

// simulate sends everything in q, each send succeeding at once, jumping the time forward to
// each wait the queue asks for.
func simulate(t *testing.T, q *pacer) []sent {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	var got []sent
	for q.n > 0 {
		o, wait := q.take(now)
		if o == nil {
			if wait <= 0 {
				t.Fatalf("queue of %d waits for nothing", q.n)
			}
			now = now.Add(wait)
			continue
		}
		got = append(got, sent{string(o.Payload), now.Sub(start)})
		q.done(o)
	}
	return got
}

func TestQueueOrderAndPacing(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		perChat time.Duration
		gap     time.Duration
		push    []*item
		want    []sent
	}{{
		name:    "one chat gets one message per perChat",
		perChat: time.Second, gap: 100 * ms,
		push: []*item{msg("A", "a1", false), msg("A", "a2", false), msg("A", "a3", false)},
		want: []sent{{"a1", 0}, {"a2", time.Second}, {"a3", 2 * time.Second}},
	}, {
		name:    "chats interleave, one send per gap overall",
		perChat: time.Second, gap: 100 * ms,
		push: []*item{msg("A", "a1", false), msg("A", "a2", false), msg("B", "b1", false),
			msg("B", "b2", false), msg("C", "c1", false)},
		want: []sent{{"a1", 0}, {"b1", 100 * ms}, {"c1", 200 * ms}, {"a2", time.Second}, {"b2", 1100 * ms}},
	}, {
		name:    "the overall rate holds when many chats wait",
		perChat: time.Second, gap: 250 * ms,
		push: []*item{msg("A", "a", false), msg("B", "b", false), msg("C", "c", false),
			msg("D", "d", false), msg("E", "e", false)},
		want: []sent{{"a", 0}, {"b", 250 * ms}, {"c", 500 * ms}, {"d", 750 * ms}, {"e", time.Second}},
	}, {
		name:    "urgent messages of any chat go first",
		perChat: time.Second, gap: time.Second,
		push: []*item{msg("A", "a", false), msg("B", "b", false), msg("C", "c!", true),
			msg("D", "d!", true)},
		want: []sent{{"c!", 0}, {"d!", time.Second}, {"a", 2 * time.Second}, {"b", 3 * time.Second}},
	}, {
		name:    "an urgent message waits for its chat's earlier ones, which go ahead of other chats",
		perChat: time.Second, gap: 100 * ms,
		push: []*item{msg("B", "b1", false), msg("A", "a1", false), msg("A", "a2!", true)},
		want: []sent{{"a1", 0}, {"b1", 100 * ms}, {"a2!", time.Second}},
	}, {
		name:    "without urgency the oldest message goes first",
		perChat: time.Second, gap: 100 * ms,
		push: []*item{msg("B", "b1", false), msg("A", "a1", false), msg("C", "c1", false)},
		want: []sent{{"b1", 0}, {"a1", 100 * ms}, {"c1", 200 * ms}},
	}, {
		// A launch-day spike: a person's first reply must not wait behind others' later ones.
		name:    "a chat not yet served goes before a served chat's next message, however old",
		perChat: 100 * ms, gap: 100 * ms,
		push: []*item{msg("A", "a1", false), msg("A", "a2", false), msg("A", "a3", false),
			msg("B", "b1", false), msg("C", "c1", false)},
		want: []sent{{"a1", 0}, {"b1", 100 * ms}, {"c1", 200 * ms}, {"a2", 300 * ms}, {"a3", 400 * ms}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newPacer(tt.perChat, tt.gap)
			for _, o := range tt.push {
				q.push(o)
			}
			if diff := cmp.Diff(tt.want, simulate(t, q)); diff != "" {
				t.Errorf("sends (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQueueRetry(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q := newPacer(time.Second, 100*time.Millisecond)
	q.push(msg("A", "a1", false))
	q.push(msg("A", "a2", false))

	o, _ := q.take(t0)
	q.retry(o, t0.Add(3*time.Second)) // a 429 with retry_after 3
	if o, wait := q.take(t0); o != nil || wait != 3*time.Second {
		t.Fatalf("take after a 429 = %v, %v; want nothing, 3s", o, wait)
	}
	o, _ = q.take(t0.Add(3 * time.Second))
	if got := string(o.Payload); got != "a1" {
		t.Fatalf("got %q after the wait; want a1 again", got)
	}
	q.done(o)

	// A retry sooner than the chat's gap still waits for the gap.
	o, wait := q.take(t0.Add(3 * time.Second))
	if o != nil || wait != time.Second {
		t.Fatalf("take after a1 = %v, %v; want nothing, 1s", o, wait)
	}
	o, _ = q.take(t0.Add(4 * time.Second))
	q.retry(o, t0.Add(4*time.Second+time.Millisecond))
	if _, wait := q.take(t0.Add(4 * time.Second)); wait != time.Second {
		t.Errorf("got a wait of %v after a quick retry; want the chat's 1s", wait)
	}
}

func TestQueueDrainKeepsWhatIsInFlight(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q := newPacer(time.Second, time.Millisecond)
	q.push(msg("A", "a1", true))
	q.push(msg("A", "a2", true))
	q.push(msg("B", "b1", false))
	inFlight, _ := q.take(t0)

	var left []string
	for _, o := range q.drain() {
		left = append(left, string(o.Payload))
	}
	if len(left) != 2 || q.n != 1 {
		t.Fatalf("drain took %q and left %d; want 2 taken, 1 left", left, q.n)
	}
	q.done(inFlight)
	if q.n != 0 || q.chats["A"].urgent != 0 {
		t.Errorf("after done: %d messages, %d urgent; want 0, 0", q.n, q.chats["A"].urgent)
	}
}

func TestQueueDropTakesOnlyThatChat(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q := newPacer(time.Second, time.Millisecond)
	q.push(msg("A", "a1", false))
	q.push(msg("A", "a2", true))
	q.push(msg("B", "b1", false))
	inFlight, _ := q.take(t0)

	var dropped []string
	for _, o := range q.drop("A") {
		dropped = append(dropped, string(o.Payload))
	}
	if diff := cmp.Diff([]string{"a2"}, dropped); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
	if !inFlight.wiped || q.n != 2 || q.chats["A"].urgent != 0 {
		t.Errorf("got wiped %v, %d messages, %d urgent; want true, 2, 0", inFlight.wiped, q.n, q.chats["A"].urgent)
	}
	if got := q.drop("C"); got != nil {
		t.Errorf("drop of an unknown chat = %v; want nothing", got)
	}

	// A message pushed after the drop does not overwrite what was dropped.
	q.push(msg("A", "a3", false))
	if got := dropped[0]; got != "a2" {
		t.Errorf("got %q; want a2", got)
	}
	q.done(inFlight)
	if got := simulate(t, q); len(got) != 2 || got[0].Text != "b1" || got[1].Text != "a3" {
		t.Errorf("sends after the drop = %v; want b1, a3", got)
	}
}

// A person walking the screening is served every few seconds; someone who has had no answer
// yet goes first, even when the screener's message came earlier and their chat had emptied.
func TestQueueSomeoneNotYetAnsweredGoesFirst(t *testing.T) {
	q := newPacer(time.Second, 100*time.Millisecond)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q.push(msg("A", "a1", false))
	o, _ := q.take(now)
	q.done(o)
	now = now.Add(5 * time.Second) // A's chat empties and is forgotten, but not that it was served
	q.take(now)
	q.push(msg("A", "a2", false)) // the screener's next question, queued first
	q.push(msg("B", "b1", false)) // a new person's first reply
	var got []string
	for q.n > 0 {
		o, wait := q.take(now)
		if o == nil {
			now = now.Add(wait)
			continue
		}
		got = append(got, string(o.Payload))
		q.done(o)
	}
	if want := []string{"b1", "a2"}; !slices.Equal(got, want) {
		t.Errorf("sent %v; want %v", got, want)
	}
}
