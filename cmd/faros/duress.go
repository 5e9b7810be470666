package main

import (
	"log/slog"
	"strings"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/locales"
)

// warnPublicDuressWords warns, loudly, for each language whose duress words are still the
// ones shipped in the public repository: whoever reads it knows them, a controller too. A
// deployment sets its own in its FAROS_LOCALES_DIR (docs/OPERATORS.md, "Your own duress
// words").
func warnPublicDuressWords(log *slog.Logger, c *bot.Content) {
	shipped, err := locales.Load(locales.Files) // the words only: no need to load the flows
	if err != nil {
		return
	}
	var public []string
	for _, lang := range c.Catalog.Languages() {
		mine, ok := c.Catalog.Text(lang, "keywords_duress")
		theirs, shippedToo := shipped.Text(lang, "keywords_duress")
		if ok && shippedToo && mine == theirs {
			public = append(public, lang)
		}
	}
	if len(public) > 0 {
		log.Warn("the duress words are the examples shipped in the public repository, which anyone can read: set your own with EKKA (docs/OPERATORS.md, \"Your own duress words\")",
			"languages", strings.Join(public, " "))
	}
}
