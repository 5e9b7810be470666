package bot

import (
	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/locales"
)

// Content is one consistent set of flows and messages (internal/content loads and checks
// them). The service swaps it as a whole.
type Content struct {
	Engine  *dialog.Engine
	Catalog *locales.Catalog
}
