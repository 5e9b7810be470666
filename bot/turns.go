package bot

import "sync"

// turns makes messages of one conversation wait for each other within this process, in
// the order they arrived (goroutines blocked on a channel are woken first in, first out),
// so that only one of them at a time asks Redis for the conversation's lock.
type turns struct {
	mu sync.Mutex
	m  map[string]*turn
}

type turn struct {
	ch    chan struct{}
	users int
}

// take waits for p's turn and returns the function that ends it.
func (t *turns) take(p string) func() {
	t.mu.Lock()
	if t.m == nil {
		t.m = map[string]*turn{}
	}
	tu := t.m[p]
	if tu == nil {
		tu = &turn{ch: make(chan struct{}, 1)}
		tu.ch <- struct{}{}
		t.m[p] = tu
	}
	tu.users++
	t.mu.Unlock()
	<-tu.ch
	return func() {
		tu.ch <- struct{}{}
		t.mu.Lock()
		if tu.users--; tu.users == 0 {
			delete(t.m, p)
		}
		t.mu.Unlock()
	}
}

// langMemory remembers each recent conversation's language in this process, so that the
// numbers sent while Redis is down are in the person's language. It holds pseudonyms and
// language codes only, and forgets everything when it grows large.
type langMemory struct {
	mu sync.Mutex
	m  map[string]string
}

const langMemorySize = 10_000

func (l *langMemory) get(p string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[p]
}

func (l *langMemory) set(p, lang string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil || len(l.m) >= langMemorySize {
		l.m = make(map[string]string)
	}
	if lang == "" {
		delete(l.m, p)
	} else {
		l.m[p] = lang
	}
}
