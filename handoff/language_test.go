package handoff_test

import (
	"strings"
	"testing"
)

// A case in a language no counsellor speaks names the language in Greek, from its locale file,
// and says an interpreter is needed: Urdu and Bengali came as content only.
func TestPacketNamesANewLanguage(t *testing.T) {
	f := setup(t)
	for chat, want := range map[string]string{
		"9201": "Γλώσσα: Ούρντου — χρειάζεσαι διερμηνέα",
		"9202": "Γλώσσα: Βεγγαλικά — χρειάζεσαι διερμηνέα",
	} {
		lang := map[string]string{"9201": "ur", "9202": "bn"}[chat]
		id := f.open(t, chat, lang, 2)
		consume(t, f, f.desk, func() bool { return strings.Contains(f.ops.last("501").Text, id) })
		if got := f.ops.last("501").Text; !strings.Contains(got, want) {
			t.Errorf("%s: the packet lacks %q:\n%s", lang, want, got)
		}
	}
}
