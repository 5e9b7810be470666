package dialog

// What a conversation's answers add up to: the answers and flags a step records, the env that
// conditions and params read (with the counts derived from the answers), the indicators and
// answers a handoff carries, the screening questions in file order, and Calm for tests.

import (
	"maps"
	"slices"

	"github.com/expr-lang/expr"
)

func (r *run) own() {
	if !r.ownedMaps {
		r.s.Answers, r.s.Flags = maps.Clone(r.s.Answers), maps.Clone(r.s.Flags)
		r.ownedMaps = true
	}
}

func (r *run) answer(q, a string) {
	r.own()
	if r.s.Answers == nil {
		r.s.Answers = make(map[string]string, 8)
	}
	r.s.Answers[q] = a
}

func (r *run) flag(names []string) {
	if len(names) == 0 {
		return
	}
	r.own()
	if r.s.Flags == nil {
		r.s.Flags = make(map[string]bool, len(names))
	}
	for _, f := range names {
		r.s.Flags[f] = true
	}
}

var noAnswers, noFlags = map[string]string{}, map[string]bool{}

// env is what conditions see, with the counts derived from the answers.
func (r *run) env() *env {
	v := &env{Answers: r.s.Answers, Flags: r.s.Flags, Lang: r.s.Lang, Tier: r.s.Tier, OnDuty: r.onDuty, InCase: r.inCase, NoDesk: r.noDesk}
	if v.Answers == nil {
		v.Answers = noAnswers
	}
	if v.Flags == nil {
		v.Flags = noFlags
	}
	for q, a := range r.s.Answers {
		n := r.e.questions[q]
		if n == nil || n.ind == nil {
			continue
		}
		v.Answered++
		if a != n.ind.Positive {
			continue
		}
		v.Positives++
		v.Score += n.ind.Weight
		if n.ind.Weight >= 3 {
			v.Strong++
		}
		switch n.ind.Class {
		case "I":
			v.ClassI++
		case "C":
			v.ClassC++
		}
	}
	return v
}

func (r *run) params(n *node) (map[string]any, error) {
	if len(n.params) == 0 {
		return nil, nil
	}
	env := r.env()
	out := make(map[string]any, len(n.params))
	for _, p := range n.params {
		v, err := expr.Run(p.prog, env)
		if err != nil {
			return nil, err
		}
		out[p.name] = v
	}
	return out, nil
}

// indicators lists the codes of the positive answers, in the order of the questions.
func (r *run) indicators() []string {
	var codes []string
	for n := range r.e.nodes() {
		if n.ind != nil && r.s.Answers[n.id] == n.ind.Positive && !slices.Contains(codes, n.ind.Code) {
			codes = append(codes, n.ind.Code)
		}
	}
	return codes
}

// answers lists the screening questions answered, in file order.
func (r *run) answers() []Answer {
	var out []Answer
	for _, n := range r.e.screening() {
		choice, ok := r.s.Answers[n.id]
		if !ok {
			continue
		}
		a := Answer{Question: n.id, Msg: n.msg, Brief: n.brief, Choice: choice}
		if n.ind != nil {
			a.Code, a.Positive = n.ind.Code, choice == n.ind.Positive
			a.Kind = r.e.indicators[n.ind.Code].Kind
			if a.Positive {
				a.Names = maps.Clone(r.e.indicators[n.ind.Code].Names) // the engine's own stays unchanged
			}
		}
		for _, c := range n.choices {
			a.Positive = a.Positive || c.id == choice && len(c.set) > 0
		}
		out = append(out, a)
	}
	return out
}

// screening returns the screening questions in file order (secret questions never).
func (e *Engine) screening() []*node {
	var out []*node
	for n := range e.nodes() {
		if !n.secret && n.screens() {
			out = append(out, n)
		}
	}
	return out
}

// Calm returns, for every question ("flow.node"), an answer that counts for nothing: "no",
// or "yes" where "no" is the indicator's positive answer, never a choice that sets a flag.
// Tests walk the content with it, whatever questions an editor adds.
func (e *Engine) Calm() map[string]string {
	calm := map[string]string{}
	for n := range e.nodes() {
		var ids []string
		for _, c := range n.choices {
			if (n.ind == nil || c.id != n.ind.Positive) && len(c.set) == 0 {
				ids = append(ids, c.id)
			}
		}
		for _, want := range append([]string{"no", "yes", "skip"}, ids...) {
			if slices.Contains(ids, want) {
				calm[n.qid] = want
				break
			}
		}
	}
	return calm
}

// Screening lists the ids of the screening questions (see Answer), in file order.
func (e *Engine) Screening() []string {
	var ids []string
	for _, n := range e.screening() {
		ids = append(ids, n.id)
	}
	return ids
}
