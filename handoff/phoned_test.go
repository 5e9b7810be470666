package handoff

import (
	"testing"

	"github.com/faros-project/faros/handoff/roster"
)

// A case's phones list names each operator's chat with its channel; entries kept before that
// (Telegram's only) are still read, so that a case opened before an upgrade is still deleted
// from the chats when it closes.
func TestParsePhoned(t *testing.T) {
	for _, c := range []struct {
		entry string
		want  phone
		msg   string
		ok    bool
	}{
		{"op1:telegram:42:501", phone{"op1", roster.Address{Channel: "telegram", ID: "501"}}, "42", true},
		{"op2:desk-test:m7:session:a:b", phone{"op2", roster.Address{Channel: "desk-test", ID: "session:a:b"}}, "m7", true},
		{"op1:501:42", phone{"op1", roster.Address{Channel: roster.Telegram, ID: "501"}}, "42", true},
		{"op1:42", phone{}, "", false},
		{"", phone{}, "", false},
	} {
		p, msg, ok := parsePhoned(c.entry)
		if p != c.want || msg != c.msg || ok != c.ok {
			t.Errorf("parsePhoned(%q) = %v, %q, %v; want %v, %q, %v", c.entry, p, msg, ok, c.want, c.msg, c.ok)
		}
	}
}
