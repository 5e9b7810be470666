// Package flows holds Faros' dialogues as YAML: one flow per file, plus triggers.yaml.
// The files are content, edited without Go; see docs/EDITING.md.
package flows

import "embed"

// Files is the shipped content.
//
//go:embed *.yaml
var Files embed.FS
