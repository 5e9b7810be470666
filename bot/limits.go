package bot

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits are what one conversation may send: a token bucket for pressed buttons and one for
// typed text. A person at human speed never empties them; a script soon does. Messages that
// ask for help, leave or wipe (Vital) are never limited, and in a case with a counsellor
// nothing the person writes is dropped.
type Limits struct {
	Buttons Bucket // zero: 60 a minute, 30 at once
	Texts   Bucket // zero: 30 a minute, 15 at once
}

// Bucket is a token bucket: PerMinute tokens come back evenly over a minute, and at most
// Burst wait unused.
type Bucket struct {
	PerMinute int // negative: no limit
	Burst     int // zero: half a minute's worth
}

// rateTTL is how long a conversation's buckets are kept after its last message: longer than
// any bucket takes to fill up again, after which a missing bucket is the same as a full one.
const rateTTL = 2 * time.Minute

// withDefaults fills in the zero values.
func (l Limits) withDefaults() Limits {
	l.Buttons = l.Buttons.or(60)
	l.Texts = l.Texts.or(30)
	return l
}

func (b Bucket) or(perMinute int) Bucket {
	if b.PerMinute == 0 {
		b.PerMinute = perMinute
	}
	if b.Burst == 0 {
		b.Burst = max(b.PerMinute/2, 1)
	}
	if b.PerMinute < 0 {
		b.Burst = 0 // no limit
	}
	return b
}

// perMilli is the tokens the bucket gains a millisecond.
func (b Bucket) perMilli() float64 { return float64(b.PerMinute) / 60_000 }

// bucket returns the bucket of a class of message: "tap", "text"; a vital message has none.
func (l Limits) bucket(class string) Bucket {
	switch class {
	case "tap":
		return l.Buttons
	case "text":
		return l.Texts
	}
	return Bucket{}
}

// intake bounds the messages each channel hands to the bot per second, all its conversations
// together, so that a flood on one channel cannot take Redis from the people on the others.
type intake struct {
	perSecond int // 0: no limit
	mu        sync.Mutex
	channels  map[string]*rate.Limiter
}

// allow takes one message of channel from its budget, if there is any left this second.
func (in *intake) allow(channel string) bool {
	if in.perSecond <= 0 {
		return true
	}
	in.mu.Lock()
	l := in.channels[channel]
	if l == nil {
		if in.channels == nil {
			in.channels = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(rate.Limit(in.perSecond), in.perSecond)
		in.channels[channel] = l
	}
	in.mu.Unlock()
	return l.Allow()
}
