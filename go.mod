module github.com/faros-project/faros

go 1.26.0

require (
	github.com/expr-lang/expr v1.17.8
	github.com/nicksnyder/go-i18n/v2 v2.7.0
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/text v0.44.0
)

require github.com/google/go-cmp v0.7.0 // indirect
