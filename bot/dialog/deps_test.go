package dialog_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/faros-project/faros/"

// TestDependenciesPointOneWay keeps the engine pure and the packages layered: each package
// may import only the packages of ours listed here, and the engine only the YAML parser and
// the expression language besides the standard library.
func TestDependenciesPointOneWay(t *testing.T) {
	const y = "internal/yamlpos" // how every YAML file is read, and the type of its problems
	allowed := map[string][]string{
		"internal/yamlpos":    {},
		"bot/dialog":          {y},
		"locales":             {"bot/dialog", y},
		"flows":               {},
		"internal/content":    {"bot/dialog", "locales", "flows", y},
		"flows/transcript":    {"bot/dialog", "locales", y},
		"cmd/flowctl":         {"bot/dialog", "locales", "flows", "flows/transcript", "internal/content", y},
		"internal/seal":       {},
		"internal/clientaddr": {},
		"stats":               {}, // bot and handoff both record into it
		"bot":                 {"bot/dialog", "locales", "internal/seal", "stats", y},
		"bot/deliver":         {"bot", "bot/dialog", "locales", "internal/seal", "stats", y},
		"bot/telegram":        {"bot", "bot/deliver", "bot/dialog", "locales", "internal/seal", "stats", y},
		"bot/webhook":         {"bot", "bot/dialog", "locales", "internal/seal", "internal/clientaddr", "stats", y},
		"handoff":             {"bot", "bot/dialog", "locales", "internal/seal", "handoff/roster", "stats", y},
		"handoff/roster":      {y},                                      // who the operators are, where and when: no cases, no channels
		"desk/auth":           {"internal/seal", "internal/clientaddr"}, // knows the roster only through a function
		"desk":                {"bot", "bot/dialog", "desk/auth", "handoff", "handoff/roster", "locales", "internal/seal", "internal/clientaddr", "stats", y},
	}
	for pkg, ours := range allowed {
		for _, dep := range deps(t, module+pkg) {
			if name, ok := strings.CutPrefix(dep, module); ok && name != pkg && !slices.Contains(ours, name) {
				t.Errorf("%s imports %s; it may import only %v of ours", pkg, name, ours)
			}
		}
	}
	for _, dep := range deps(t, module+"bot/dialog") {
		first, _, _ := strings.Cut(dep, "/")
		if strings.Contains(first, ".") && !strings.HasPrefix(dep, "github.com/expr-lang/expr") &&
			!strings.HasPrefix(dep, "go.yaml.in/yaml/") && !strings.HasPrefix(dep, module) {
			t.Errorf("the engine depends on %s; it may use only the standard library, YAML and expr", dep)
		}
	}
}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}
