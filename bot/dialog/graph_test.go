package dialog_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot/dialog"
)

const graphMain = `id: main
start: q
nodes:
  q:
    ask: m_q
    brief: "χρέος"
    indicator: {code: debt_bondage, class: C, weight: 3}
    choices:
      - {id: "yes", label: m_yes, set: [owed], next: check}
      - {id: "no", label: m_no, next: q}
    next: done
  check:
    branch:
      - {when: "flags.owed && score >= 3", next: done}
      - {else: true, end: stop}
  done:
    say: m_done
    end: stop
`

func TestDOT(t *testing.T) {
	w := newWords()
	w.texts["fr"]["m_q"] = "Devez-vous de l'argent à la personne qui vous a amené ici ou qui vous a donné du travail, et la dette ne cesse-t-elle de grandir ?"
	e, err := dialog.Load(content(map[string]string{"main.yaml": graphMain}), w)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.DOT("main", "fr")
	if err != nil {
		t.Fatal(err)
	}
	want := `digraph "main" {
  label="main (main.yaml)"; labelloc=t; fontname=Helvetica; fontsize=18;
  node [fontname=Helvetica, fontsize=11, shape=box];
  edge [fontname=Helvetica, fontsize=10];
  "n_q" [label="Devez-vous de l'argent à la\npersonne qui vous a amené ici ou\nqui vous a donné…\nq\ndebt_bondage · C · 3", style="rounded,filled", fillcolor="#fde2c4"];
  "n_q" -> "n_check" [label="M_YES"];
  "n_q" -> "n_q" [label="M_NO"];
  "n_q" -> "n_done" [label="other answers"];
  "n_check" [label="check", shape=diamond, style=filled, fillcolor="#fff3b0"];
  "n_check" -> "n_done" [label="flags.owed && score >= 3"];
  "n_check" -> "end_stop" [label="else"];
  "n_done" [label="M_DONE\ndone", style=filled, fillcolor="#eeeeee"];
  "n_done" -> "end_stop";
  "end_stop" [label="end: stop", shape=doublecircle, style=filled, fillcolor="#e0e0e0"];
}
`
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("DOT (-want +got):\n%s", d)
	}
	if _, err := e.DOT("main", "xx"); err == nil || !strings.Contains(err.Error(), `there is no language "xx"`) {
		t.Errorf("DOT in xx: %v", err)
	}
	if _, err := e.DOT("nope", "fr"); err == nil || !strings.Contains(err.Error(), `there is no flow "nope"`) {
		t.Errorf("DOT of nope: %v", err)
	}
	// Mermaid draws the same walk, with ids.
	m, err := e.Mermaid("main")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`n_q -- "yes" --> n_check`, `n_q -- "other answers" --> n_done`, `n_check -- "flags.owed && score >= 3" --> n_done`, `n_check -- "else" --> end_stop(("end: stop"))`} {
		if !strings.Contains(m, want) {
			t.Errorf("Mermaid lacks %q:\n%s", want, m)
		}
	}
}
