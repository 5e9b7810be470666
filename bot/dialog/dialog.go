// Package dialog runs Faros' conversations: it loads the YAML flows, checks them, and steps a
// conversation's State with one Input at a time, returning the Outputs for the host to render
// and send. It performs no I/O and reads no clock: the same flows, state and input always give
// the same result.
package dialog

import "fmt"

// State is one conversation's place and memory. It is plain data: the host saves it (as JSON)
// between steps. The zero State is a conversation that has not started.
type State struct {
	Lang    string            `json:"lang,omitempty"`    // chosen language; "" until chosen or proposed
	Flow    string            `json:"flow,omitempty"`    // the question waiting for an answer ...
	Node    string            `json:"node,omitempty"`    // ... ("" when the conversation is not running)
	Back    string            `json:"back,omitempty"`    // "flow.node" of the question a command interrupted
	Answers map[string]string `json:"answers,omitempty"` // question id → choice id (or typed text for text questions)
	Flags   map[string]bool   `json:"flags,omitempty"`   // set by choices and nodes, read by conditions
	Tier    int               `json:"tier,omitempty"`    // highest urgency tier reached (0-3)
	Reason  string            `json:"reason,omitempty"`  // why that tier was reached
	Ended   bool              `json:"ended,omitempty"`   // the person left; the next input starts again
}

// Input is one thing the person did: pressed a button, typed text or sent a command.
// Exactly one field is normally set; typed text that starts with "/" is read as a command.
type Input struct {
	Choice   string // id of a pressed button
	Question string // the Output.Question the button was shown with; "" if unknown
	Text     string // typed text
	Command  string // "start", "help", ... without the slash

	OnDuty int  // operators on duty for this conversation, as the host knows it; conditions read "on_duty"
	InCase bool // the conversation is in an open case with a counsellor; conditions read "in_case"
	NoDesk bool // this Faros has no counsellors at all (no roster): nothing is queued; conditions read "no_desk"
}

// Answer is the answer to one screening question (a question with an indicator, or whose
// choices set a flag), as a handoff reports it to the counsellor.
type Answer struct {
	Question string            // the question's node id
	Msg      string            // the question's message, for a host that shows the question itself
	Brief    string            `json:",omitempty"` // the question's few words for counsellors (its brief:), in Greek
	Choice   string            // the choice's id: "yes", "no", "unsure", "skip"...
	Code     string            // the question's indicator code; "" if it has none
	Kind     string            // the indicator's kind (labour, sexual, other), when the content lists it
	Names    map[string]string `json:",omitempty"` // of a positive answer's indicator, for counsellors: "el", "en"
	Positive bool              // the answer counts: the indicator's positive answer, or a choice that set a flag
}

// Indicator is an indicator code as the content lists it (triggers.yaml's indicators).
type Indicator struct {
	Code  string
	Kind  string            // labour, sexual or other
	Names map[string]string // for counsellors, by language: "el", "en"
}

// Kind says what an Output asks the host to do.
type Kind int

const (
	Say         Kind = iota + 1 // show message Msg
	Ask                         // show message Msg with Choices and wait for an answer
	Handoff                     // hand the conversation to an operator (Tier, Reason, Indicators)
	SetLanguage                 // the person chose Lang
	End                         // the conversation is over; Wipe: delete everything about it
	Count                       // count statistic Msg (one of Counts) for the weekly figures; for "screened", with Tier, Indicators and Answers
)

// Counts are the statistics a node may count (its count:): "screened", a screening's result
// reached, with the tier; "offered", a counsellor offered. They hold no person: see the host's
// statistics.
var Counts = []string{"screened", "offered"}

func (k Kind) String() string {
	switch k {
	case Say:
		return "say"
	case Ask:
		return "ask"
	case Handoff:
		return "handoff"
	case SetLanguage:
		return "language"
	case End:
		return "end"
	case Count:
		return "count"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Output is one thing for the host to do. Messages are ids into the locale files, never text.
type Output struct {
	Kind   Kind
	Lang   string         // language to render in; "" means every language, one after another
	Msg    string         // message id (Say, Ask)
	Params map[string]any // template data of Msg; "Count" also picks the plural form

	Choices  []Choice // buttons (Ask)
	Text     bool     // typed answers are welcome (Ask)
	Question string   // "flow.node" of the question (Ask): a button pressed later names it in Input.Question

	Urgent bool // part of an emergency or of the numbers, or the conversation is at tier 3: send first

	Tier       int               // Handoff: urgency, 1-3
	Reason     string            // Handoff: why (urgent, likely, emergency, asked, ...)
	Indicators []string          // Handoff: codes of the indicators answered positively, in question order
	Answers    []Answer          // Handoff: every screening question answered, in question order
	Secrets    map[string]string // Handoff: typed answers of secret questions, which the state never keeps

	Wipe bool // End: delete everything held about the conversation
}

// Choice is one button. Label is a message id, rendered in Lang when set (a language's own
// name), otherwise in the language of its Output.
type Choice struct {
	ID    string
	Label string
	Lang  string
}

// Lexicon is what the engine needs to know about the locale files: which languages and
// messages exist, and how typed text is folded for matching. locales.Catalog implements it.
type Lexicon interface {
	Languages() []string
	// Text returns message id in lang (the "other" form of a plural message).
	Text(lang, id string) (string, bool)
	// Fold makes text comparable: compatibility-decomposed, without marks or invisible
	// format characters, case-folded, one form for what keyboards type differently.
	Fold(text string) string
}
