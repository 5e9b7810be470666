package dialog

// Load reads a flows directory into an Engine in phases, each in its own file, each relying on
// what the phases before it guarantee (the comment at the top of each file says what):
//
//	read       here         every file parsed and decoded against yaml.go's documents
//	build      build.go     each flow's nodes, expressions compiled, defaults set
//	resolve    resolve.go   transitions linked to their nodes, questions by id
//	triggers   triggers.go  the entry, home, command and trigger flows, words and messages
//	check      check.go     every node checked against the rest (checks only check)
//	reach      reach.go     every flow and node reached, no loop that never asks
//	prepare    prepare.go   what Step needs at every step, computed once
//
// Problems are collected rather than returned one by one, so that an editor sees them all at
// once; they stop Load after build and after check, and reach runs only on content without any.

import (
	"fmt"
	"io/fs"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/faros-project/faros/internal/yamlpos"
)

// Load reads the flows in fsys (TriggersFile and one flow per *.yaml file at its top), checks
// them against each other and against lex, and returns the Engine, or every Problem found.
func Load(fsys fs.FS, lex Lexicon) (*Engine, error) {
	l := &loader{e: &Engine{
		lex:       lex,
		langs:     lex.Languages(),
		flows:     map[string]*flow{},
		commands:  map[string]*flow{},
		questions: map[string]*node{},
		labels:    map[string]map[string]string{},
	}, flags: map[string]bool{}, briefs: map[string]*node{}}
	if len(l.e.langs) == 0 {
		l.at("", nil, "no languages: the locales directory has no message files")
	}
	trig, trigY, err := l.read(fsys)
	if err != nil {
		return nil, err
	}
	if len(l.probs) > 0 {
		// A file that cannot be read or built would make every reference to it look broken too.
		return nil, l.sorted()
	}
	for n := range l.e.nodes() {
		l.resolve(n)
	}
	l.triggers(trig, trigY)
	for n := range l.e.nodes() {
		l.check(n)
	}
	if len(l.probs) == 0 {
		l.reach()
	}
	if len(l.probs) > 0 {
		return nil, l.sorted()
	}
	l.e.prepare()
	return l.e, nil
}

// read parses and decodes every *.yaml file at the top of fsys, and builds each flow file
// (build.go) as it is read; it returns the triggers file for its own phase. An error is one
// fsys gave; what is wrong with a file is a problem.
func (l *loader) read(fsys fs.FS) (*triggersDoc, *yaml.Node, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, nil, err
	}
	var trig *triggersDoc
	var trigY *yaml.Node
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, nil, err
		}
		y, ps := yamlpos.Parse(name, data)
		var doc flowDoc
		switch {
		case ps != nil:
		case name == TriggersFile:
			trig, trigY = new(triggersDoc), y
			ps = yamlpos.Decode(name, y, trig)
		default:
			ps = yamlpos.Decode(name, y, &doc)
		}
		if len(ps) > 0 {
			l.probs = append(l.probs, ps...)
		} else if name != TriggersFile {
			l.addFlow(name, y, &doc)
		}
	}
	if !slices.Contains(names, TriggersFile) {
		l.at(TriggersFile, nil, "the file is missing: it names the entry flow, the commands and the emergency words")
	}
	return trig, trigY, nil
}

// loader collects problems while it builds an Engine.
type loader struct {
	e      *Engine
	probs  []Problem
	flags  map[string]bool  // every flag some choice or node sets
	briefs map[string]*node // the questions by brief: two alike would read as one in the packet
}

// at records a problem in file, at n (nil: the file as a whole).
func (l *loader) at(file string, n *yaml.Node, format string, args ...any) {
	p := Problem{File: file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	l.probs = append(l.probs, p)
}

// sorted returns the problems in file and line order.
func (l *loader) sorted() Problems {
	ps := Problems(l.probs)
	ps.Sort()
	return ps
}
