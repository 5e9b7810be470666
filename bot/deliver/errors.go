package deliver

import "time"

// What a Sender's error tells the queue to do next. Any error not made here is transient.

// RetryAfter wraps err, from a channel that said when to come back (Telegram's 429 with
// retry_after): the chat waits d, and the attempt does not count against Config.Retries.
func RetryAfter(d time.Duration, err error) error { return &retryAfter{d: d, err: err, flood: true} }

// Held wraps err, from a channel that knows its platform is away (Telegram not answering):
// the message goes back to the queue at once, without counting as a failure or as a 429.
func Held(err error) error { return &retryAfter{err: err} }

// Refused wraps err, from a channel that will never take the message: it is given up at once
// with reason as its label (ReasonBlocked, ReasonRejected, or one of the channel's own).
func Refused(reason string, err error) error { return &refused{reason: reason, err: err} }

// Instead wraps err, from a channel whose attempt was refused where another request for the
// same message would not be (Telegram: an edit in place refused, so the text goes as a new
// message): the message becomes m, its Payload and Kind (Chat and Urgent stay), and goes again
// once the chat's pacing allows, without counting as a failure: the refused attempt was a call
// to the platform like any other. The outbox keeps the first payload: an instance that takes
// it over makes the first attempt again, and is refused in turn.
func Instead(m Message, err error) error { return &instead{m: m, err: err} }

type instead struct {
	m   Message
	err error
}

func (e *instead) Error() string { return e.err.Error() }
func (e *instead) Unwrap() error { return e.err }

type retryAfter struct {
	d     time.Duration
	err   error
	flood bool // the platform said to slow down (a 429), not only that it is away
}

func (e *retryAfter) Error() string { return e.err.Error() }
func (e *retryAfter) Unwrap() error { return e.err }

type refused struct {
	reason string
	err    error
}

func (e *refused) Error() string { return e.err.Error() }
func (e *refused) Unwrap() error { return e.err }

// Why a message was given up: the values of the reason label.
const (
	ReasonBlocked  = "blocked"           // the person blocked the bot or left (Telegram's 403)
	ReasonRejected = "rejected"          // refused for good: chat not found, bad request
	reasonRetries  = "retries_exhausted" // transient failures, Retries times over
	reasonShutdown = "shutdown"          // still queued when Close ran out of time
	reasonClosed   = "closed"            // handed over after Close: left in the outbox
	reasonWiped    = "wiped"             // queued, or in flight and then failed, when Wipe ran for its chat
)
