package bot

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/faros-project/faros/bot/dialog"
)

// Limits are what one conversation may send: a token bucket each for pressed buttons, typed
// text, calls for help and the duress word. A person at human speed never empties them; a
// script soon does. Leaving and wiping are never limited; a call for help or the duress word
// over its bucket is answered as a new conversation would be (the numbers; the innocent line),
// without a step of the conversation or a write; and in a case with a counsellor nothing the
// person writes is dropped.
type Limits struct {
	Buttons Bucket // zero: 60 a minute
	Texts   Bucket // zero: 30 a minute
	Help    Bucket // /help, help and emergency words, the emergency flow's buttons; zero: 20 a minute
	Duress  Bucket // zero: 20 a minute
}

// Bucket is a token bucket: PerMinute tokens come back evenly over a minute, and at most half a
// minute's worth wait unused, so that a burst of that many passes at once.
type Bucket struct {
	PerMinute int
}

func (b Bucket) burst() int { return max(b.PerMinute/2, 1) }

// perMilli is the tokens the bucket gains a millisecond.
func (b Bucket) perMilli() float64 { return float64(b.PerMinute) / 60_000 }

// renotice is how long a conversation over its limit goes without a second notice: a script
// is not answered at each message, and a person who carries on is told again.
const renotice = 30 * time.Second

// withDefaults fills in the zero values.
func (l Limits) withDefaults() Limits {
	or := func(b Bucket, perMinute int) Bucket {
		if b.PerMinute <= 0 {
			b.PerMinute = perMinute
		}
		return b
	}
	return Limits{Buttons: or(l.Buttons, 60), Texts: or(l.Texts, 30), Help: or(l.Help, 20), Duress: or(l.Duress, 20)}
}

// class is the bucket a message takes a token from, as begin's script names it; "" for one
// that takes none.
func class(v dialog.Vital, m Message) string {
	switch {
	case v == dialog.MustPass:
		return ""
	case v == dialog.AsksForHelp:
		return "help"
	case v == dialog.Watched:
		return "duress"
	case m.Button != "":
		return "tap"
	}
	return "text"
}

// bucket returns the bucket of a class.
func (l Limits) bucket(class string) Bucket {
	switch class {
	case "tap":
		return l.Buttons
	case "text":
		return l.Texts
	case "help":
		return l.Help
	case "duress":
		return l.Duress
	}
	return Bucket{}
}

// intake bounds the messages each channel hands to the bot per second, all its conversations
// together, so that a surge on one channel cannot take the service from the people on the
// others: a refused message is not stepped, saved or answered, and its channel brings it again.
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
