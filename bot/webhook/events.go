package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/faros-project/faros/bot"
)

// streamWriteTimeout bounds each write of an event stream.
const streamWriteTimeout = 30 * time.Second

// maxEventsBody bounds the body of an event stream's request: {"conversation": "…", "after": "…"}.
const maxEventsBody = 1 << 10

// stream is one open event stream.
type stream struct {
	replies chan []bot.Reply // pushed by Send: without an Inbox, or when Redis did not take them
	wake    chan struct{}    // with an Inbox: new batches may wait there; holds one wake-up
	seq     uint64           // order of opening
	source  string           // the client address, for its cap
	tag     string           // the conversation's tag in the inbox; "" without one
	evicted chan struct{}    // closed when a newer stream of the conversation took its place
}

var (
	errNoConversation = &httpError{status: http.StatusNotFound, msg: "no such conversation"}
	errTooManyStreams = &httpError{status: http.StatusServiceUnavailable, msg: "too many open event streams; try again later", retryAfter: 10}
	errSourceStreams  = &httpError{status: http.StatusTooManyRequests, msg: "too many open event streams from this address; try again later", retryAfter: 10}
)

// eventsRequest is the body of an event stream's request. The page posts the conversation's
// id as it posts messages, so that the id, the page's only credential, stays out of URLs, and
// thus out of proxies' logs and histories.
type eventsRequest struct {
	Conversation string `json:"conversation"`
	// After is the id of the last batch of replies the page showed: the stream sends what came
	// after it, and the inbox forgets it and all before. "": none.
	After string `json:"after"`
}

// events streams the replies that Send gets for a conversation to its page, until the page
// goes away.
//
// With an Inbox, each batch is an event with the batch's id, and stays in the inbox until the
// page names it (or a later one) in its next request: a batch written into a connection that
// died without a word comes again on the page's next stream, which the page asks for after
// 70 silent seconds. While it is open, the stream marks the conversation online.
//
// A stream opens only for a conversation that exists, which a page's first message (its
// "/start") creates and its source's budget limits: ids made up by the thousand get 404 and
// hold nothing.
func (c *Chat) events(w http.ResponseWriter, r *http.Request) error {
	if err := c.checkPost(r); err != nil {
		return err
	}
	body, err := readBody(w, r, maxEventsBody)
	if err != nil {
		return err
	}
	req, err := decodeEvents(body)
	if err != nil {
		return err
	}
	id := req.Conversation
	if c.conversations != nil {
		live, _, err := c.conversations.Live(r.Context(), "web", id)
		if err != nil {
			return unavailable(fmt.Errorf("event stream: %w", err))
		}
		if !live {
			return c.metrics.refuse(refusedNotLive, errNoConversation)
		}
	}
	s, err := c.add(id, c.sourceOf(r))
	if err != nil {
		return err
	}
	defer c.remove(r.Context(), id, s)
	// Registered first, then what waits: a batch put in between wakes the stream too.
	var batches []bot.Batch
	if c.inbox != nil {
		if batches, err = c.begin(r.Context(), id, req.After); err != nil {
			return err
		}
	}
	return c.serveStream(w, r, s, id, req.After, batches)
}

// serveStream writes the event stream s of conversation id: first the batches that waited after
// batch after, then what comes, until the page goes away, the stream gives its place to a
// newer one of the page, the chat closes, or the conversation ends.
func (c *Chat) serveStream(w http.ResponseWriter, r *http.Request, s *stream, id, after string, batches []bot.Batch) error {
	// Each write gets its own deadline in place of the server's WriteTimeout, which would cut
	// the stream: a connection that died without a word fails at the next keep-alive, and its
	// place is freed. The last one must not outlive the stream on a connection kept alive.
	rc := http.NewResponseController(w)
	defer rc.SetWriteDeadline(time.Time{})
	rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no") // nginx would hold the events back
	w.WriteHeader(http.StatusOK)
	// The comment sends the headers at once, so the page knows it is connected.
	_, err := io.WriteString(w, ": open\n\n")
	if err == nil {
		after, err = writeBatches(w, batches, after)
	}
	unread := false // a Read failed: try again at the next keep-alive
	tick := time.NewTicker(c.keepAlive)
	defer tick.Stop()
	for err == nil {
		if err = rc.Flush(); err != nil {
			break
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-c.done:
			return nil
		case <-s.evicted:
			return nil
		case <-tick.C:
			rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
			if _, err = io.WriteString(w, ": keep-alive\n\n"); err != nil || c.inbox == nil {
				continue
			}
			if errors.Is(c.inbox.Online(r.Context(), id, c.presence(), c.mark), bot.ErrGone) {
				return nil // wiped or expired: the page's next message starts it again
			}
			if unread {
				after, unread, err = c.sendNew(r.Context(), w, id, after)
			}
		case <-s.wake:
			rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
			after, unread, err = c.sendNew(r.Context(), w, id, after)
		case replies := <-s.replies:
			rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
			err = writeEvent(w, "", replies)
		}
	}
	if r.Context().Err() != nil {
		return nil // the page went away while we wrote: a normal end
	}
	return fmt.Errorf("event stream: %w", err)
}

// decodeEvents reads the body of an event stream's request. An after that is not a batch id
// counts as none: the page then gets every batch that waits, and drops those it has shown.
func decodeEvents(body []byte) (eventsRequest, error) {
	var req eventsRequest
	if err := decodeJSON(body, &req); err != nil {
		return req, err
	}
	if !validConversation(req.Conversation) {
		return req, errConversation
	}
	if !validBatch(req.After) {
		req.After = ""
	}
	return req, nil
}

// presence is how long a stream's mark of its conversation online lasts: two keep-alives,
// each of which renews it.
func (c *Chat) presence() time.Duration { return 2 * c.keepAlive }

// begin starts a stream of conversation id with the inbox: it forgets what the page showed
// (after), marks the conversation online and returns the batches that wait after it.
func (c *Chat) begin(ctx context.Context, id, after string) ([]bot.Batch, error) {
	c.ack(ctx, id, after)
	err := c.inbox.Online(ctx, id, c.presence(), c.mark)
	if errors.Is(err, bot.ErrGone) {
		return nil, c.metrics.refuse(refusedNotLive, errNoConversation)
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("event stream: %w", err))
	}
	batches, err := c.inbox.Read(ctx, id, after)
	if err != nil {
		return nil, unavailable(fmt.Errorf("event stream: %w", err))
	}
	return batches, nil
}

// sendNew writes the batches of conversation id that came after batch after, and returns the
// id of the last one written, and unread if the inbox did not answer (the stream tries again
// later; the batches wait).
func (c *Chat) sendNew(ctx context.Context, w io.Writer, id, after string) (last string, unread bool, err error) {
	batches, err := c.inbox.Read(ctx, id, after)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("webchat: the inbox was not read; trying again at the next keep-alive", "err", err)
		}
		return after, true, nil
	}
	last, err = writeBatches(w, batches, after)
	return last, false, err
}

// writeBatches writes batches as events, and returns the id of the last one written (after
// if none was).
func writeBatches(w io.Writer, batches []bot.Batch, after string) (string, error) {
	for _, b := range batches {
		if err := writeEvent(w, b.ID, b.Replies); err != nil {
			return after, err
		}
		after = b.ID
	}
	return after, nil
}

// writeEvent writes replies as one event named replies, with the batch's id if it has one.
func writeEvent(w io.Writer, id string, replies []bot.Reply) error {
	data, err := json.Marshal(response{Replies: encodeReplies(replies)})
	if err != nil {
		return err
	}
	if id != "" {
		_, err = fmt.Fprintf(w, "id: %s\nevent: replies\ndata: %s\n\n", id, data)
	} else {
		_, err = fmt.Fprintf(w, "event: replies\ndata: %s\n\n", data)
	}
	return err
}

// maxPerConversation: one page has one stream, a second or third for a moment while it
// reconnects over a connection that died without a word. A further one takes the place of
// the oldest: the page that connects last is the one the person holds.
const maxPerConversation = 4

// add registers a stream for conversation id from client address source, if the caps allow
// it. The caps are checked first, counting the place of the oldest stream that a fifth of the
// conversation would take as free: a stream refused evicts nothing, so the page keeps the
// stream it has.
func (c *Chat) add(id, source string) (*stream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var oldest *stream
	if len(c.streams[id]) >= maxPerConversation {
		for s := range c.streams[id] {
			if oldest == nil || s.seq < oldest.seq {
				oldest = s
			}
		}
	}
	freedHere, freed := 0, 0
	if oldest != nil {
		freed = 1
		if oldest.source == source {
			freedHere = 1
		}
	}
	if c.bySource[source]-freedHere >= c.perSource {
		return nil, c.metrics.refuse(refusedSourceStreams, errSourceStreams)
	}
	if c.open-freed >= c.maxOpen {
		return nil, c.metrics.refuse(refusedStreams, errTooManyStreams)
	}
	if oldest != nil {
		close(oldest.evicted)
		c.forget(id, oldest)
	}
	c.seq++
	s := &stream{replies: make(chan []bot.Reply, 16), wake: make(chan struct{}, 1), seq: c.seq, source: source,
		evicted: make(chan struct{})}
	if c.inbox != nil {
		s.tag = c.inbox.Tag(id)
	}
	if c.streams[id] == nil {
		c.streams[id] = make(map[*stream]bool)
		if s.tag != "" {
			c.tags[s.tag] = id
		}
	}
	c.streams[id][s] = true
	c.bySource[source]++
	c.open++
	return s, nil
}

// remove forgets a stream that ended. When it is the conversation's last here, the
// conversation is marked offline first, so that once no stream is left here, no mark of this
// instance is left either; a stream of it on another instance marks it online again at its
// next keep-alive.
func (c *Chat) remove(ctx context.Context, id string, s *stream) {
	c.mu.Lock()
	offline := c.inbox != nil && c.streams[id][s] && len(c.streams[id]) == 1
	c.mu.Unlock()
	// The request's context has ended, most likely: these are its last words.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if offline {
		if err := c.inbox.Offline(ctx, id, c.mark); err != nil {
			c.log.Warn("webchat: the conversation was not marked offline; the mark expires", "err", err)
		}
	}
	c.mu.Lock()
	c.forget(id, s)
	reopened := offline && len(c.streams[id]) > 0
	c.mu.Unlock()
	if reopened { // a stream that opened meanwhile marked it online just before
		c.inbox.Online(ctx, id, c.presence(), c.mark)
	}
}

// forget unregisters a stream, if it still is registered; under c.mu.
func (c *Chat) forget(id string, s *stream) {
	if !c.streams[id][s] {
		return // evicted before
	}
	c.open--
	if c.bySource[s.source]--; c.bySource[s.source] == 0 {
		delete(c.bySource, s.source)
	}
	delete(c.streams[id], s)
	if len(c.streams[id]) == 0 {
		delete(c.streams, id)
		delete(c.tags, s.tag)
	}
}

func (c *Chat) openStreams() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return float64(c.open)
}

// push hands replies to every open stream of conversation id on this instance, and reports
// whether one took them.
func (c *Chat) push(id string, replies []bot.Reply) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	sent := false
	for s := range c.streams[id] {
		// A stream that is this far behind is stuck; blocking here would hold up every Send.
		select {
		case s.replies <- replies:
			sent = true
		default:
		}
	}
	return sent
}

// wake tells the streams of conversation id on this instance that its inbox has new batches,
// and reports whether it has any. A closing instance has none: its streams are ending, and
// the page's next one gets the batches.
func (c *Chat) wake(id string) bool {
	if c.closed() {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for s := range c.streams[id] {
		wakeUp(s)
	}
	return len(c.streams[id]) > 0
}

// wakeAll wakes every stream on this instance.
func (c *Chat) wakeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, streams := range c.streams {
		for s := range streams {
			wakeUp(s)
		}
	}
}

// wakeUp wakes s, unless a wake-up waits for it already: it reads everything new then.
func wakeUp(s *stream) {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
