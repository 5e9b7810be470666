package bot

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot/dialog"
)

// screened is a session in the middle of a screening, as most messages find it.
var screened = session{State: dialog.State{
	Lang: "el", Flow: "screening", Node: "q_documents", Back: "menu.start",
	Answers: map[string]string{"q_work": "yes", "q_paid": "no", "q_leave": "unsure", "q_debt": "yes",
		"q_threats": "skip", "q_where": "Θεσσαλονίκη"},
	Flags: map[string]bool{"worker": true, "debt": true, "asked": false},
	Tier:  2, Reason: "debt",
}, Started: 1764000000, Case: "c-8f3a"}

func sessions() map[string]session {
	all := map[string]session{
		"empty":    {},
		"new":      {State: dialog.State{Lang: "fr"}, Started: 1764000000},
		"screened": screened,
		"ended":    {State: dialog.State{Lang: "sq", Ended: true, Tier: -1}, Started: -5},
		"empty maps": {State: dialog.State{Answers: map[string]string{}, Flags: map[string]bool{}},
			Started: 1},
		// Typed answers are the person's own text: every character encoding/json escapes.
		"typed": {State: dialog.State{Answers: map[string]string{
			"quotes":   `he said "no" \ then left`,
			"html":     "<b>me & you</b>",
			"controls": "a\bb\fc\nd\re\tf\x00g\x1fh\x7f",
			"lines":    "one\u2028two\u2029three",
			"invalid":  "bad \xff\xfe bytes \xe2\x82",
			"emoji":    "👍🏽 ça va? Ναι, çfarë?",
			"":         "an empty key",
		}}},
	}
	return all
}

func TestSessionIsWrittenAsEncodingJSONWritesIt(t *testing.T) {
	for name, s := range sessions() {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.marshal(); string(got) != string(want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestSessionIsReadAsEncodingJSONReadsIt(t *testing.T) {
	inputs := map[string]string{
		"spaces":           " {\n\t\"s\" : { \"lang\" : \"el\" , \"tier\" : 3 } , \"t\" : 12 } \r\n",
		"an escape":        `{"s":{"lang":"el","answers":{"q":"a\"b"}},"t":1}`,
		"an escaped key":   `{"s":{"l\u0061ng":"el"},"t":1}`,
		"null":             `{"s":{"answers":null,"lang":null},"t":1,"c":null}`,
		"unknown key":      `{"s":{"lang":"el","mood":"calm"},"t":1,"v":2}`,
		"capital key":      `{"S":{"Lang":"el"},"T":1}`,
		"duplicate keys":   `{"s":{"lang":"el","answers":{"a":"1"}},"s":{"answers":{"b":"2"}},"t":1,"t":2}`,
		"trailing":         `{"s":{},"t":1}x`,
		"two values":       `{"s":{},"t":1}{}`,
		"leading zero":     `{"s":{},"t":01}`,
		"minus zero":       `{"s":{},"t":-0}`,
		"fraction":         `{"s":{"tier":1.0},"t":1}`,
		"exponent":         `{"s":{},"t":1e3}`,
		"huge":             `{"s":{},"t":99999999999999999999}`,
		"string number":    `{"s":{},"t":"1"}`,
		"bool as string":   `{"s":{"flags":{"a":"true"}},"t":1}`,
		"invalid UTF-8":    "{\"s\":{\"lang\":\"\xff\"},\"t\":1}",
		"control in text":  "{\"s\":{\"lang\":\"a\nb\"},\"t\":1}",
		"unterminated":     `{"s":{"lang":"el`,
		"a comma too many": `{"s":{"lang":"el",},"t":1}`,
		"empty":            ``,
		"array":            `[]`,
		"nothing inside":   `{}`,
		"true prefix":      `{"s":{"ended":truth},"t":1}`,
	}
	for name, s := range sessions() {
		inputs["written: "+name] = string(s.marshal())
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) { sameAsEncodingJSON(t, []byte(in)) })
	}
}

func sameAsEncodingJSON(t *testing.T, data []byte) {
	t.Helper()
	var got, want session
	gotErr := unmarshalSession(data, &got)
	wantErr := json.Unmarshal(data, &want)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%q: error %v; want %v", data, gotErr, wantErr)
	}
	if wantErr != nil {
		return // the caller starts afresh whatever was read
	}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(session{})); d != "" {
		t.Errorf("%q (-encoding/json +read by hand):\n%s", data, d)
	}
}

// The sessions Faros writes are read by hand, not handed on to encoding/json: else the
// speed is gone although every test still passes.
func TestWrittenSessionsAreReadByHand(t *testing.T) {
	for name, s := range sessions() {
		if name == "typed" {
			continue // escapes: encoding/json's to read
		}
		data := s.marshal()
		r := reader{b: data, s: string(data)}
		if !r.session(&session{}) {
			t.Errorf("%s: %s went to encoding/json", name, r.b)
		}
	}
}

func FuzzSessionRead(f *testing.F) {
	for _, s := range sessions() {
		f.Add(s.marshal())
	}
	f.Add([]byte(`{"s":{"tier":-12,"flags":{"x":false}},"t":-0,"c":""}`))
	f.Fuzz(func(t *testing.T, data []byte) { sameAsEncodingJSON(t, data) })
}

func FuzzSessionWrite(f *testing.F) {
	f.Add("el", "q1", "q_where", "Θεσσαλονίκη <&>", 2, true, int64(1764000000), "c-1")
	f.Add("", "", "", "\x00\u2028\xff", -1, false, int64(-1), "")
	f.Fuzz(func(t *testing.T, lang, node, key, text string, tier int, ended bool, started int64, c string) {
		s := session{State: dialog.State{Lang: lang, Node: node, Answers: map[string]string{key: text, "q": "yes"},
			Flags: map[string]bool{key: ended}, Tier: tier, Reason: text, Ended: ended}, Started: started, Case: c}
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got := s.marshal()
		if string(got) != string(want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
		sameAsEncodingJSON(t, got)
	})
}

// BenchmarkSession is a message's share: the session read and written again.
func BenchmarkSession(b *testing.B) {
	data := screened.marshal()
	b.Run("by hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s session
			if err := unmarshalSession(data, &s); err != nil {
				b.Fatal(err)
			}
			_ = s.marshal()
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s session
			if err := json.Unmarshal(data, &s); err != nil {
				b.Fatal(err)
			}
			_, _ = json.Marshal(s)
		}
	})
}
