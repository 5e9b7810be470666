package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/faros-project/faros/bot"
)

// streamWriteTimeout bounds each write of an event stream.
const streamWriteTimeout = 30 * time.Second

// maxEventsBody bounds the body of an event stream's request: {"conversation": "…"}.
const maxEventsBody = 1 << 10

// stream is one open event stream.
type stream struct {
	replies chan []bot.Reply
	seq     uint64        // order of opening
	source  string        // the client address, for its cap
	tag     string        // the conversation's tag in the inbox; "" without one
	evicted chan struct{} // closed when a newer stream of the conversation took its place
}

var (
	errNoConversation = &httpError{status: http.StatusNotFound, msg: "no such conversation"}
	errTooManyStreams = &httpError{status: http.StatusServiceUnavailable, msg: "too many open event streams; try again later", retryAfter: 10}
	errSourceStreams  = &httpError{status: http.StatusTooManyRequests, msg: "too many open event streams from this address; try again later", retryAfter: 10}
)

// events streams the replies that Send gets for a conversation to its page, until the page
// goes away. The page posts the conversation's id as it posts messages, so that the id, the
// page's only credential, stays out of URLs, and thus out of proxies' logs and histories.
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
	id, err := decodeConversation(body)
	if err != nil {
		return err
	}
	if c.conversations != nil {
		live, err := c.conversations.Live(r.Context(), "web", id)
		if err != nil {
			return unavailable(fmt.Errorf("event stream: %w", err))
		}
		if !live {
			return c.metrics.refuse(refusedNotLive, errNoConversation)
		}
	}
	s, err := c.add(id, clientAddr(r, c.addrHeader))
	if err != nil {
		return err
	}
	defer c.remove(id, s)
	// Registered first, then what waits: a reply put in between is taken by one or the other.
	if c.inbox != nil {
		if _, err := c.deliver(r.Context(), id); err != nil {
			return unavailable(fmt.Errorf("event stream: %w", err))
		}
	}
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
	_, err = io.WriteString(w, ": open\n\n")
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
			_, err = io.WriteString(w, ": keep-alive\n\n")
		case replies := <-s.replies:
			rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
			var data []byte
			data, err = json.Marshal(response{Replies: encodeReplies(replies)})
			if err == nil {
				_, err = fmt.Fprintf(w, "event: replies\ndata: %s\n\n", data)
			}
		}
	}
	if r.Context().Err() != nil {
		return nil // the page went away while we wrote: a normal end
	}
	return fmt.Errorf("event stream: %w", err)
}

// decodeConversation reads the body of an event stream's request.
func decodeConversation(body []byte) (string, error) {
	var req struct {
		Conversation string `json:"conversation"`
	}
	if !utf8.Valid(body) {
		return "", badRequest("body is not valid UTF-8")
	}
	if err := json.Unmarshal(body, &req); err != nil {
		if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return "", badRequest("conversation must be a string")
		}
		return "", badRequest("body is not a JSON object")
	}
	if !validConversation(req.Conversation) {
		return "", errConversation
	}
	return req.Conversation, nil
}

// maxPerConversation: one page has one stream, a second or third for a moment while it
// reconnects over a connection that died without a word. A further one takes the place of
// the oldest: the page that connects last is the one the person holds.
const maxPerConversation = 4

// add registers a stream for conversation id from client address source, if the caps allow
// it.
func (c *Chat) add(id, source string) (*stream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.streams[id]) >= maxPerConversation {
		var oldest *stream
		for s := range c.streams[id] {
			if oldest == nil || s.seq < oldest.seq {
				oldest = s
			}
		}
		close(oldest.evicted)
		c.forget(id, oldest)
	}
	if c.bySource[source] >= c.perSource {
		return nil, c.metrics.refuse(refusedSourceStreams, errSourceStreams)
	}
	if c.open >= c.maxOpen {
		return nil, c.metrics.refuse(refusedStreams, errTooManyStreams)
	}
	c.seq++
	s := &stream{replies: make(chan []bot.Reply, 16), seq: c.seq, source: source, evicted: make(chan struct{})}
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

// remove forgets a stream that ended.
func (c *Chat) remove(id string, s *stream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forget(id, s)
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

// reachable reports whether conversation id has a stream here that can take replies: one
// whose connection is stuck (its channel full) cannot, and must not make deliver take the
// inbox again and again.
func (c *Chat) reachable(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for s := range c.streams[id] {
		if len(s.replies) < cap(s.replies) {
			return true
		}
	}
	return false
}

// deliver takes what waits in the inbox of conversation id and pushes it to the conversation's
// streams on this instance, if it has any, and reports whether one took something. A closing
// instance takes nothing: its streams are ending, and the page's next one gets the replies.
func (c *Chat) deliver(ctx context.Context, id string) (bool, error) {
	if !c.reachable(id) || c.closed() {
		return false, nil
	}
	mu := &c.taking[maphash.String(c.seed, id)%uint64(len(c.taking))]
	mu.Lock()
	defer mu.Unlock()
	replies, err := c.inbox.Take(ctx, id)
	if err != nil {
		return false, fmt.Errorf("take the inbox: %w", err)
	}
	if len(replies) == 0 {
		return false, nil
	}
	if c.push(id, replies) {
		return true, nil
	}
	// The streams ended or filled up since: the replies wait for the page's next stream, after
	// any put meanwhile, which is rare enough. (The notice of this Put finds no stream with
	// room, and takes nothing.)
	if err := c.inbox.Put(ctx, id, replies); err != nil && !errors.Is(err, bot.ErrGone) {
		return false, fmt.Errorf("put back in the inbox: %w", err)
	}
	return false, nil
}
