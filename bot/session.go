package bot

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/faros-project/faros/bot/dialog"
)

// session is what Redis holds for a conversation, as JSON.
//
// Every message reads and writes it, and encoding/json's reflection over its two maps was a
// third of the bot's own CPU per message (profile of 2026-12-02), so it is written and read
// here by hand. The bytes are the ones encoding/json (v1, Go's default) writes, so that any
// build reads any other's sessions. Reading takes what encoding/json writes, with any white
// space, and hands anything else (an escaped character, a null, a key it does not know, a
// number that is not a whole one) to encoding/json. Tests hold both to encoding/json's own
// result.
type session struct {
	State   dialog.State `json:"s"`
	Started int64        `json:"t"`           // unix seconds: the absolute age limit counts from here
	Case    string       `json:"c,omitempty"` // the open case with an operator, if any
	created bool         // this message started it: it is kept for firstIdle only
}

// marshal writes s as encoding/json would.
func (s *session) marshal() []byte {
	st := &s.State
	b := make([]byte, 0, 128+32*(len(st.Answers)+len(st.Flags)))
	b = append(b, `{"s":{`...)
	n := len(b)
	b = appendField(b, "lang", st.Lang)
	b = appendField(b, "flow", st.Flow)
	b = appendField(b, "node", st.Node)
	b = appendField(b, "back", st.Back)
	b = appendMap(b, "answers", st.Answers, appendString)
	b = appendMap(b, "flags", st.Flags, strconv.AppendBool)
	if st.Tier != 0 {
		b = append(b, `"tier":`...)
		b = strconv.AppendInt(b, int64(st.Tier), 10)
		b = append(b, ',')
	}
	b = appendField(b, "reason", st.Reason)
	if st.Ended {
		b = append(b, `"ended":true,`...)
	}
	if len(b) > n {
		b = b[:len(b)-1] // the last comma
	}
	b = append(b, `},"t":`...)
	b = strconv.AppendInt(b, s.Started, 10)
	if s.Case != "" {
		b = append(b, `,"c":`...)
		b = appendString(b, s.Case)
	}
	return append(b, '}')
}

// sortedKeys returns m's keys in order, as encoding/json writes them.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendMap appends `"name":{...},`, m's members in the order of their keys, unless m is empty
// (omitempty).
func appendMap[V any](b []byte, name string, m map[string]V, appendValue func([]byte, V) []byte) []byte {
	if len(m) == 0 {
		return b
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":{`...)
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendValue(b, m[k])
	}
	return append(b, "},"...)
}

// appendField appends `"name":"value",` unless value is empty (omitempty).
func appendField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":`...)
	return append(appendString(b, value), ',')
}

// appendString appends s as a JSON string, escaped as encoding/json escapes it: quotes,
// backslashes and control characters; <, > and & (for HTML); U+2028 and U+2029; and each
// byte of invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, `\b`...)
			case '\f':
				b = append(b, `\f`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			switch r {
			case utf8.RuneError:
				b = append(b, `\ufffd`...)
			default:
				b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			}
			start = i + size
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// unmarshalSession reads data into a zero s as json.Unmarshal(data, s) would.
func unmarshalSession(data []byte, s *session) error {
	r := reader{b: data, s: string(data)}
	if r.session(s) {
		return nil
	}
	*s = session{}
	return json.Unmarshal(data, s)
}

// reader reads the plainest JSON of a session: keys it knows, strings without escapes, whole
// numbers. At anything else it turns bad, for encoding/json to read it all again.
type reader struct {
	b   []byte
	s   string // b, copied once: the strings read are its substrings (which keep it all alive)
	i   int
	bad bool
}

func (r *reader) session(s *session) bool {
	for more := r.open(); more; more = r.more() {
		switch r.key() {
		case "s":
			for more := r.open(); more; more = r.more() {
				r.state(r.key(), &s.State)
			}
		case "t":
			s.Started = r.int()
		case "c":
			s.Case = r.string()
		default:
			r.bad = true
		}
	}
	r.space()
	return !r.bad && r.i == len(r.b)
}

func (r *reader) state(key string, st *dialog.State) {
	switch key {
	case "lang":
		st.Lang = r.string()
	case "flow":
		st.Flow = r.string()
	case "node":
		st.Node = r.string()
	case "back":
		st.Back = r.string()
	case "reason":
		st.Reason = r.string()
	case "answers":
		st.Answers = members(r, st.Answers, r.string)
	case "flags":
		st.Flags = members(r, st.Flags, r.bool)
	case "tier":
		n := r.int()
		st.Tier = int(n)
		r.bad = r.bad || int64(st.Tier) != n // out of a 32-bit int's range: encoding/json's error
	case "ended":
		st.Ended = r.bool()
	default:
		r.bad = true
	}
}

// members reads an object's members into m (made if nil: a second object of the same key adds
// to the first, as encoding/json does), each value with value.
func members[V any](r *reader, m map[string]V, value func() V) map[string]V {
	if m == nil {
		m = map[string]V{}
	}
	for more := r.open(); more; more = r.more() {
		k := r.key()
		m[k] = value()
	}
	return m
}

// open reads the { that opens an object and reports whether a member follows; after each
// member, more reads the , before the next (true) or the closing } (false).
func (r *reader) open() bool {
	if r.bad || !r.next('{') {
		r.bad = true
		return false
	}
	return !r.next('}')
}

func (r *reader) more() bool {
	switch {
	case r.bad:
		return false
	case r.next(','):
		return true
	}
	r.bad = !r.next('}')
	return false
}

// key reads a member's key and its colon.
func (r *reader) key() string {
	k := r.string()
	r.bad = r.bad || !r.next(':')
	return k
}

// next skips white space and reads c, if it comes next.
func (r *reader) next(c byte) bool {
	r.space()
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

func (r *reader) space() {
	for r.i < len(r.b) && (r.b[r.i] == ' ' || r.b[r.i] == '\t' || r.b[r.i] == '\n' || r.b[r.i] == '\r') {
		r.i++
	}
}

// string reads a string of valid UTF-8 without escapes or control characters.
func (r *reader) string() string {
	if r.bad || !r.next('"') {
		r.bad = true
		return ""
	}
	start := r.i
	for r.i < len(r.b) && r.b[r.i] != '"' && r.b[r.i] >= 0x20 && r.b[r.i] != '\\' {
		r.i++
	}
	if r.i == len(r.b) || r.b[r.i] != '"' || !utf8.Valid(r.b[start:r.i]) {
		r.bad = true
		return ""
	}
	r.i++
	return r.s[start : r.i-1]
}

func (r *reader) bool() bool {
	r.space()
	switch {
	case r.word("true"):
		return true
	case r.word("false"):
		return false
	}
	r.bad = true
	return false
}

func (r *reader) word(w string) bool {
	if strings.HasPrefix(r.s[r.i:], w) {
		r.i += len(w)
		return true
	}
	return false
}

// int reads a whole number as JSON writes it: no leading zeros, no fraction or exponent.
func (r *reader) int() int64 {
	r.space()
	start := r.i
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	digits := r.i
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		r.i++
	}
	if r.i == digits || r.b[digits] == '0' && r.i > digits+1 ||
		r.i < len(r.b) && (r.b[r.i] == '.' || r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.bad = true
		return 0
	}
	n, err := strconv.ParseInt(r.s[start:r.i], 10, 64)
	r.bad = r.bad || err != nil
	return n
}
