package handoff

import (
	"context"
	"sync"
	"time"
)

// later runs f in the background, on a context of its own that ends after two minutes (or when
// Drain runs out of time): work for the counsellors' phones that a person must not wait for
// (Telegram may make a chat wait). Once Drain began, f runs at once, for a few seconds at most:
// the service is stopping, and what f queues stays in the outbox for another instance, where
// work not done would be lost (a counsellor never told the person left).
func (d *Desk) later(f func(ctx context.Context)) {
	if !d.bg.start() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		f(ctx)
		return
	}
	go func() {
		defer d.bg.done()
		ctx, cancel := context.WithTimeout(d.bg.ctx, 2*time.Minute)
		defer cancel()
		f(ctx)
	}()
}

// Wait waits until no work later started is left, also work started while it waits: tests
// call it before they look at the counsellors' phones.
func (d *Desk) Wait() {
	for {
		idle := d.bg.idleChan()
		if idle == nil {
			return
		}
		<-idle
	}
}

// Drain is the service's stop: no more work starts; it waits for the work later started
// until ctx is done, then cuts it off (its context ends) and waits for it to return.
func (d *Desk) Drain(ctx context.Context) {
	d.bg.mu.Lock()
	d.bg.stopped = true
	d.bg.mu.Unlock()
	idle := d.bg.idleChan()
	if idle == nil {
		return
	}
	select {
	case <-idle:
		return
	case <-ctx.Done():
	}
	d.bg.cut()
	<-idle
}

// backgroundWork counts what later started. Unlike a sync.WaitGroup, work may start while
// Wait waits (a message sent may start a deletion), and Drain's wait can end at a deadline.
type backgroundWork struct {
	ctx     context.Context // of the work; cut ends it
	cut     context.CancelFunc
	mu      sync.Mutex
	n       int
	idle    chan struct{} // closed when n drops to 0
	stopped bool          // Drain began
}

func (w *backgroundWork) start() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return false
	}
	if w.n++; w.n == 1 {
		w.idle = make(chan struct{})
	}
	return true
}

func (w *backgroundWork) done() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n--; w.n == 0 {
		close(w.idle)
	}
}

// idleChan returns a channel closed once no work runs; nil if none runs now.
func (w *backgroundWork) idleChan() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 {
		return nil
	}
	return w.idle
}
