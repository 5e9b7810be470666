// Package content loads what Faros says to people, the flows and the message files, and
// checks them together. The service (at start and on every reload) and flowctl read content
// only through Load, so the content flowctl lint accepts is the content the service accepts.
package content

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/internal/yamlpos"
	"github.com/faros-project/faros/locales"
)

// Source says where the content is read from: the flows and the message files, each a file
// system and the directory under which problems name its files ("flows/screening.yaml").
type Source struct {
	Flows, Locales       fs.FS
	FlowsDir, LocalesDir string
}

// Built is the content built into the binary.
func Built() Source {
	return Source{Flows: flows.Files, Locales: locales.Files, FlowsDir: "flows", LocalesDir: "locales"}
}

// Dirs is the content of two directories, such as FAROS_FLOWS_DIR and FAROS_LOCALES_DIR.
func Dirs(flowsDir, localesDir string) Source {
	return Source{Flows: os.DirFS(flowsDir), Locales: os.DirFS(localesDir), FlowsDir: flowsDir, LocalesDir: localesDir}
}

// Load reads and checks the message files, the flows against them, and the placeholders of
// the messages against the values the flows give them. The error is a dialog.Problems
// listing everything wrong (the message files' problems first), or an error reading a file.
func Load(src Source) (*dialog.Engine, *locales.Catalog, error) {
	cat, lerr := locales.Load(src.Locales)
	var probs dialog.Problems
	if ps, ok := lerr.(dialog.Problems); ok {
		probs = append(probs, ps.In(src.LocalesDir)...)
	} else if lerr != nil {
		return nil, nil, lerr
	}
	e, ferr := dialog.Load(src.Flows, cat)
	if ps, ok := ferr.(dialog.Problems); ok {
		probs = append(probs, ps.In(src.FlowsDir)...)
	} else if ferr != nil {
		return nil, nil, ferr
	}
	if lerr == nil {
		// Read from the files rather than the engine, so that a broken flow does not hide
		// the placeholders of the messages.
		given, err := flowParams(src.Flows)
		if err != nil {
			return nil, nil, err
		}
		probs = append(probs, cat.CheckParams(given).In(src.LocalesDir)...)
	}
	if lerr == nil && e != nil {
		cat = cat.InOrder(e.Languages()) // the flows' order: the one every host shows
		// In that order, so that of two languages with one name the one added last is told.
		probs = append(probs, namesForCounsellors(cat, src.LocalesDir)...)
	}
	if len(probs) > 0 {
		return nil, nil, probs
	}
	return e, cat, nil
}

// namesForCounsellors checks each language's names for the counsellors' packet and the
// statistics (language_name_el, language_name_en): written, and no two languages alike, or a
// counsellor would read that the person speaks another language.
func namesForCounsellors(cat *locales.Catalog, dir string) dialog.Problems {
	var probs dialog.Problems
	for _, id := range []string{"language_name_el", "language_name_en"} {
		seen := map[string]string{}
		for _, lang := range cat.Languages() {
			text, _ := cat.Text(lang, id)
			file := path.Join(dir, lang+".yaml")
			key := strings.ToLower(strings.TrimSpace(text))
			switch other, dup := seen[key]; {
			case key == "":
				probs = append(probs, dialog.Problem{File: file, Msg: fmt.Sprintf("%s is empty: write the language's name, for the counsellors", id)})
			case dup:
				probs = append(probs, dialog.Problem{File: file, Msg: fmt.Sprintf("%s %q is %s's too: the counsellors would read the wrong language", id, text, other)})
			default:
				seen[key] = lang
			}
		}
	}
	return probs
}

// flowParams returns the names of the values that the flows give each message: the
// "params:" of the nodes that "say" it.
func flowParams(fsys fs.FS) (map[string][]string, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	given := map[string][]string{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		vals, _ := yamlpos.Keyed(n)
		if say := vals["say"]; say != nil && say.Kind == yaml.ScalarNode {
			_, params := yamlpos.Keyed(vals["params"])
			for p := range params {
				if !slices.Contains(given[say.Value], p) {
					given[say.Value] = append(given[say.Value], p)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		if top, ps := yamlpos.Parse(name, data); ps == nil { // else dialog.Load reported it
			walk(top)
		}
	}
	return given, nil
}
