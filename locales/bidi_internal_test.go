package locales

import "testing"

func TestCommandsWhole(t *testing.T) {
	for in, want := range map[string]string{
		"لکھیں /help یا":     "لکھیں \u200e/help یا",
		"/stop لکھیں\n/help": "\u200f\u200e/stop لکھیں\n\u200f\u200e/help",
		"کال 112، /wipe":     "کال 112، \u200e/wipe",
		"بغیر کمانڈ کے a/b":  "بغیر کمانڈ کے a/b",
	} {
		if got := commandsWhole(in); got != want {
			t.Errorf("commandsWhole(%q) = %q; want %q", in, got, want)
		}
	}
}
