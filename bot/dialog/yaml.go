package dialog

import "github.com/faros-project/faros/internal/yamlpos"

// Problem is one thing wrong with the content, at a place an editor can open, and Problems
// every problem found at once: the error Load returns. They are yamlpos's, which the flows,
// the message files and the roster share, named here for the engine's callers.
type (
	Problem  = yamlpos.Problem
	Problems = yamlpos.Problems
)

// The documents as written in YAML. Their yaml tags are the flow format; yamlpos.Decode
// checks a parsed file against them, so that every unknown key and every value of the wrong
// type is reported with its line and column.

type triggersDoc struct {
	// Languages orders the languages: the language question's buttons and every message shown
	// in all languages. Languages it does not list follow, by code.
	Languages []string          `yaml:"languages"`
	Entry     string            `yaml:"entry"`
	Home      string            `yaml:"home"`
	Commands  map[string]string `yaml:"commands"`
	Emergency keywordsDoc       `yaml:"emergency"`
	Duress    keywordsDoc       `yaml:"duress"`
	Help      keywordsDoc       `yaml:"help"`
	// Indicators lists the indicator codes questions may name, each with its kind and its
	// names for counsellors; when it is given, every code must be in it.
	Indicators map[string]indicatorInfoDoc `yaml:"indicators"`
	Messages   struct {
		NotUnderstood string `yaml:"not_understood"`
		Outdated      string `yaml:"outdated"`
		Restarted     string `yaml:"restarted"`
		LanguageName  string `yaml:"language_name"`
		Leave         string `yaml:"leave"`
	} `yaml:"messages"`
}

// keywordsDoc names a message listing typed words, and the flow they open.
type keywordsDoc struct {
	Keywords string `yaml:"keywords"`
	Flow     string `yaml:"flow"`
}

type flowDoc struct {
	ID    string             `yaml:"id"`
	Start string             `yaml:"start"`
	Nodes map[string]nodeDoc `yaml:"nodes"`
}

// jumpDoc is a transition: to a node of the same flow, to another flow, or an end.
type jumpDoc struct {
	Next string `yaml:"next"`
	Goto string `yaml:"goto"` // "flow" (its start) or "flow.node"
	End  string `yaml:"end"`  // stop, wipe, resume or wait
}

type nodeDoc struct {
	Say       string            `yaml:"say"`
	Ask       string            `yaml:"ask"`
	Params    map[string]string `yaml:"params"`
	Choices   []choiceDoc       `yaml:"choices"`
	Languages bool              `yaml:"languages"`
	Text      *jumpDoc          `yaml:"text"`
	Secret    bool              `yaml:"secret"`
	Indicator *indicatorDoc     `yaml:"indicator"`
	Brief     string            `yaml:"brief"` // a question's few words for the counsellors' packet, in Greek
	Branch    []caseDoc         `yaml:"branch"`
	Handoff   *handoffDoc       `yaml:"handoff"`
	Set       []string          `yaml:"set"`
	Tier      int               `yaml:"tier"`
	Reason    string            `yaml:"reason"`
	Count     string            `yaml:"count"` // a statistic the node counts (Counts), once each time it is passed
	jumpDoc   `yaml:",inline"`
}

type choiceDoc struct {
	ID      string   `yaml:"id"`
	Label   string   `yaml:"label"`
	Set     []string `yaml:"set"`
	jumpDoc `yaml:",inline"`
}

type caseDoc struct {
	When    string `yaml:"when"`
	Else    bool   `yaml:"else"`
	jumpDoc `yaml:",inline"`
}

type indicatorDoc struct {
	Code     string `yaml:"code"`
	Class    string `yaml:"class"`
	Weight   int    `yaml:"weight"`
	Positive string `yaml:"positive"`
}

// indicatorInfoDoc is one entry of triggers.yaml's indicators.
type indicatorInfoDoc struct {
	Kind string `yaml:"kind"` // labour, sexual or other: the likely form of exploitation it points to
	El   string `yaml:"el"`   // its name for counsellors, in Greek
	En   string `yaml:"en"`   // and in English
}

type handoffDoc struct {
	Tier   int    `yaml:"tier"`
	Reason string `yaml:"reason"`
}
