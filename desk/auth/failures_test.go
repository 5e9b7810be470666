package auth

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// burst sends n requests at once, each from its own browser, and returns their statuses in
// the order they came back. Before it lets the answers that wait for a hashing place have
// one, it waits (up to 2 s) for the others: held is how many may be waiting.
func (f *fixture) burst(n, held int, send func(*browser) reply) []int {
	f.t.Helper()
	for range cap(f.a.hashing) { // every hashing place taken: the checked requests wait
		f.a.hashing <- struct{}{}
	}
	f.a.hashWait = time.Minute
	answers := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		b := f.browser()
		wg.Go(func() { answers <- send(b).status })
	}
	var got []int
	deadline := time.After(2 * time.Second)
waiting:
	for len(got) < n-held {
		select {
		case st := <-answers:
			got = append(got, st)
		case <-deadline:
			break waiting
		}
	}
	for range cap(f.a.hashing) {
		<-f.a.hashing
	}
	wg.Wait()
	close(answers)
	for st := range answers {
		got = append(got, st)
	}
	return got
}

func count(statuses []int, want int) int {
	n := 0
	for _, st := range statuses {
		if st == want {
			n++
		}
	}
	return n
}

// Forty guesses sent at once for one id: five are checked, whatever the order in which they
// reach the hash; the rest are refused unchecked. Then even the right code is refused.
func TestABurstOfGuessesIsCheckedAtMostFiveTimes(t *testing.T) {
	f := newFixture(t)
	secret := f.enrolTOTP(f.browser(), "maria", goodPassword)
	f.advance(30 * time.Second)
	wrong := wrongCode(f.code(secret))
	got := f.burst(40, maxFailures, func(b *browser) reply {
		return b.post("/auth/password", map[string]string{"id": "maria", "password": goodPassword, "code": wrong})
	})
	if checked := strings.Count(f.logText(), "desk sign-in refused"); checked != maxFailures {
		t.Errorf("%d guesses were checked; want %d", checked, maxFailures)
	}
	if n401, n429 := count(got, http.StatusUnauthorized), count(got, http.StatusTooManyRequests); n401 != maxFailures-1 || n429 != 40-n401 {
		t.Errorf("answers: %v; want %d refusals and the rest locked out", got, maxFailures-1)
	}
	r := f.browser().post("/auth/password", map[string]string{"id": "maria", "password": goodPassword, "code": f.code(secret)})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("the right code after the burst: %d %s; want 429", r.status, r.raw)
	}
}

// The same for the one-time code that confirms an enrolment: the ceremony is kept for
// another try, so twenty codes can be sent with it at once; five are checked.
func TestABurstOfEnrolmentCodesIsCheckedAtMostFiveTimes(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	r := b.post("/auth/enrol/totp/begin", map[string]string{"token": f.invite("nikos"), "password": goodPassword})
	if r.status != http.StatusOK {
		t.Fatalf("begin: %d %s", r.status, r.raw)
	}
	secret, ceremony := r.str("secret"), b.cookies[ceremonyCookie]
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 20 {
		c := f.browser()
		c.cookies[ceremonyCookie] = ceremony
		code := fmt.Sprintf("%06d", 100000+i)
		if matchStep(secret, code, f.clock()) >= 0 {
			t.Skip("a made-up code happens to be right")
		}
		wg.Go(func() {
			<-start
			c.post("/auth/enrol/totp/finish", map[string]string{"code": code})
		})
	}
	close(start)
	wg.Wait()
	checked := strings.Count(f.logText(), "desk enrolment refused")
	right := b.post("/auth/enrol/totp/finish", map[string]string{"code": f.code(secret)})
	if checked > maxFailures {
		t.Errorf("%d codes were checked; want at most %d", checked, maxFailures)
	}
	if right.status != http.StatusTooManyRequests {
		t.Errorf("the right code after the burst: %d %s; want 429", right.status, right.raw)
	}
}

// Each way of proving who one is has its own count: wrong passwords typed under a
// counsellor's id lock the passwords out, not their passkey, nor their enrolment; and a
// passkey's failures do not lock out a password.
func TestEachWayOfSigningInHasItsOwnCount(t *testing.T) {
	f := newFixture(t)
	k := newSoftKey(t)
	f.enrolPasskey(f.browser(), "maria", k)
	nikos := f.enrolTOTP(f.browser(), "nikos", goodPassword)
	for _, id := range []string{"maria", "eleni"} {
		for i := range maxFailures {
			r := f.browser().post("/auth/password", map[string]string{"id": id, "password": "wrong wrong wrong", "code": "123456"})
			if i == maxFailures-1 && r.status != http.StatusTooManyRequests {
				t.Fatalf("wrong password %d for %s: %d, want 429", i+1, id, r.status)
			}
		}
	}
	b := f.browser()
	r := b.post("/auth/passkey/begin", map[string]string{"id": "maria"})
	if r.status != http.StatusOK {
		t.Fatalf("maria's passkey after 5 wrong passwords: begin %d %s; want 200", r.status, r.raw)
	}
	if r := b.post("/auth/passkey/finish", k.get(r.body)); r.status != http.StatusOK {
		t.Errorf("maria's passkey after 5 wrong passwords: %d %s; want 200", r.status, r.raw)
	}
	// eleni, locked out of passwords, can still enrol with her invitation.
	if f.enrolTOTP(f.browser(), "eleni", goodPassword) == "" {
		t.Error("eleni's enrolment after 5 wrong passwords under her id")
	}

	// A passkey's failures under nikos's id, who signs in with a password.
	for range maxFailures {
		c := f.browser()
		r := c.post("/auth/passkey/begin", map[string]string{"id": "nikos"})
		c.post("/auth/passkey/finish", k.get(r.body))
	}
	if r := f.browser().post("/auth/passkey/begin", map[string]string{"id": "nikos"}); r.status != http.StatusTooManyRequests {
		t.Errorf("a passkey for nikos after %d failures: %d, want 429", maxFailures, r.status)
	}
	if r := f.signin(f.browser(), "nikos", goodPassword, nikos); r.status != http.StatusOK {
		t.Errorf("nikos's password after %d passkey failures: %d %s; want 200", maxFailures, r.status, r.raw)
	}
}

// An attempt the server could not check, because no hashing place came free in time, is
// refused with 503 and given back: a flood that keeps the server busy must not use up a
// counsellor's attempts.
func TestAnAttemptNotCheckedIsGivenBack(t *testing.T) {
	f := newFixture(t)
	secret := f.enrolTOTP(f.browser(), "maria", goodPassword)
	f.a.hashWait = 50 * time.Millisecond
	for range cap(f.a.hashing) {
		f.a.hashing <- struct{}{}
	}
	for i := range maxFailures + 1 {
		start := time.Now()
		r := f.browser().post("/auth/password", map[string]string{"id": "maria", "password": goodPassword, "code": "123456"})
		if r.status != http.StatusServiceUnavailable || r.str("error") != msgBusy || r.header.Get("Retry-After") == "" {
			t.Fatalf("attempt %d while every hashing place is taken: %d %s %v; want 503 with Retry-After", i+1, r.status, r.raw, r.header)
		}
		if waited := time.Since(start); waited > time.Second {
			t.Errorf("attempt %d waited %v for a place; want about 50 ms", i+1, waited)
		}
	}
	for range cap(f.a.hashing) {
		<-f.a.hashing
	}
	n, _ := f.r.Client.HGet(context.Background(), f.a.failureKey(passwordTries, "maria"), "n").Int()
	if n != 0 {
		t.Errorf("after %d attempts not checked, the count is %d; want 0", maxFailures+1, n)
	}
	if r := f.signin(f.browser(), "maria", goodPassword, secret); r.status != http.StatusOK {
		t.Errorf("then the right password and code: %d %s; want 200", r.status, r.raw)
	}
}
