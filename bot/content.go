package bot

import (
	"io/fs"

	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/locales"
)

// Content is one consistent set of flows and messages. The service swaps it as a whole.
type Content struct {
	Engine  *dialog.Engine
	Catalog *locales.Catalog
}

// LoadContent reads and checks flows and messages. The error is a dialog.Problems listing
// everything wrong, files named under flowsDir and localesDir.
func LoadContent(flowsFS fs.FS, flowsDir string, localesFS fs.FS, localesDir string) (*Content, error) {
	cat, lerr := locales.Load(localesFS)
	var probs dialog.Problems
	if ps, ok := lerr.(dialog.Problems); ok {
		probs = append(probs, ps.In(localesDir)...)
	} else if lerr != nil {
		return nil, lerr
	}
	e, ferr := dialog.Load(flowsFS, cat)
	if ps, ok := ferr.(dialog.Problems); ok {
		probs = append(probs, ps.In(flowsDir)...)
	} else if ferr != nil {
		return nil, ferr
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return &Content{Engine: e, Catalog: cat}, nil
}
