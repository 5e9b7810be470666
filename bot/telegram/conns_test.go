package telegram_test

import (
	"fmt"
	"testing"

	"github.com/faros-project/faros/bot"
)

// Sends run side by side. Each must find a connection to the Bot API already open, not make a
// new one (with Telegram, a TLS handshake) because Go keeps only two idle ones by default.
func TestSendsKeepTheirConnectionsOpen(t *testing.T) {
	e := start(t, &handler{}, fast)
	const side = 120 // more than Go keeps idle to one host (2) and in all (100)
	wave := func(n int) {
		t.Helper()
		hold := e.srv.Hold("sendMessage")
		var done []<-chan error
		for i := range side {
			done = append(done, e.send(fmt.Sprint(1000*n+i), bot.Reply{Text: "hello"}))
		}
		hold.Wait(side) // all at once, each on a connection of its own
		hold.Release()
		for _, d := range done {
			if err := <-d; err != nil {
				t.Fatalf("Send: %v", err)
			}
		}
	}
	wave(1)
	opened := e.srv.Connections()
	wave(2)
	if again := e.srv.Connections() - opened; again > 0 {
		t.Errorf("%d sends side by side opened %d new connections after the first %d; want none", side, again, opened)
	}
}
