package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/telegram/telegramtest"
)

var surfaces = []telegram.Surface{{
	Lang:             "el",
	Description:      "Φάρος: ανώνυμη βοήθεια, 24 ώρες.",
	ShortDescription: "Ανώνυμη βοήθεια",
	Commands:         []telegram.Command{{"start", "Αρχή"}, {"help", "Μίλα με άνθρωπο"}},
}, {
	Lang:             "en",
	Description:      "Faros: anonymous help, day and night.",
	ShortDescription: "Anonymous help",
	Commands:         []telegram.Command{{"start", "Start"}, {"help", "Talk to a person"}},
}, {
	Description:      "Faros: anonymous help.",
	ShortDescription: "Anonymous help",
	Commands:         []telegram.Command{{"start", "Start"}},
}}

// apiCall is a call to the fake Bot API without what the test does not check.
type apiCall struct {
	Method string
	Params map[string]string
}

// surfaceCalls returns the calls that set what Telegram shows of the bot, in order.
func surfaceCalls(srv *telegramtest.Server) []apiCall {
	var got []apiCall
	for _, c := range srv.Calls("") {
		switch c.Method {
		case "setMyDescription", "setMyShortDescription", "setMyCommands", "deleteMyCommands":
			got = append(got, apiCall{c.Method, c.Params})
		}
	}
	return got
}

// wantCalls are the calls that set a surface, as its three fields say.
func wantCalls(lang, desc, short, commands string) []apiCall {
	p := func(kv ...string) map[string]string {
		m := map[string]string{}
		if lang != "" {
			m["language_code"] = lang
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cmds := apiCall{"deleteMyCommands", p()}
	if commands != "" {
		cmds = apiCall{"setMyCommands", p("commands", commands)}
	}
	return []apiCall{
		{"setMyDescription", p("description", desc)},
		{"setMyShortDescription", p("short_description", short)},
		cmds,
	}
}

func TestSetSurfacesSetsEveryLanguageAndTheDefault(t *testing.T) {
	e := start(t, &handler{}, nil)
	if err := e.ch.SetSurfaces(context.Background(), surfaces); err != nil {
		t.Fatalf("SetSurfaces: %v", err)
	}
	var want []apiCall
	want = append(want, wantCalls("el", "Φάρος: ανώνυμη βοήθεια, 24 ώρες.", "Ανώνυμη βοήθεια",
		`[{"command":"start","description":"Αρχή"},{"command":"help","description":"Μίλα με άνθρωπο"}]`)...)
	want = append(want, wantCalls("en", "Faros: anonymous help, day and night.", "Anonymous help",
		`[{"command":"start","description":"Start"},{"command":"help","description":"Talk to a person"}]`)...)
	want = append(want, wantCalls("", "Faros: anonymous help.", "Anonymous help",
		`[{"command":"start","description":"Start"}]`)...)
	if diff := cmp.Diff(want, surfaceCalls(e.srv)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestSetSurfacesRemovesWhatIsEmpty(t *testing.T) {
	e := start(t, &handler{}, nil)
	if err := e.ch.SetSurfaces(context.Background(), []telegram.Surface{{Lang: "fr"}}); err != nil {
		t.Fatalf("SetSurfaces: %v", err)
	}
	if diff := cmp.Diff(wantCalls("fr", "", "", ""), surfaceCalls(e.srv)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestSetSurfacesGoesOnAfterARefusedCall(t *testing.T) {
	e := start(t, &handler{}, nil)
	e.srv.FailSurface("setMyShortDescription", "el", 1, 404, "Not Found")
	e.srv.FailSurface("setMyCommands", "", 1, 400, "Bad Request: BOT_COMMAND_INVALID")

	err := e.ch.SetSurfaces(context.Background(), surfaces)
	if err == nil {
		t.Fatal("SetSurfaces: no error; want the two refusals")
	}
	for _, want := range []string{
		"el: setMyShortDescription: Not Found",
		"default: setMyCommands: Bad Request: BOT_COMMAND_INVALID",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	var apiErr *tgbotapi.Error
	if !errors.As(err, &apiErr) || apiErr.Code != 404 {
		t.Errorf("error %v: want a *tgbotapi.Error with code 404 in it", err)
	}
	// Every call was made, once: a 4xx is not tried again.
	if got := len(surfaceCalls(e.srv)); got != 9 {
		t.Errorf("%d calls; want 9", got)
	}
}

func TestSetSurfacesWaitsOutA429(t *testing.T) {
	clock := newClock(true)
	e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock = clock })
	e.srv.Fail429Surface("setMyCommands", "en", 1, 7)
	e.srv.FailSurface("setMyDescription", "", 1, 502, "Bad Gateway")

	if err := e.ch.SetSurfaces(context.Background(), surfaces); err != nil {
		t.Fatalf("SetSurfaces: %v", err)
	}
	if got := len(surfaceCalls(e.srv)); got != 11 {
		t.Errorf("%d calls; want 11: 9 and the two tried again", got)
	}
	if diff := cmp.Diff([]time.Duration{7 * time.Second, time.Second}, clock.Waits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestSetSurfacesGivesUpA429WhenTheContextIsDone(t *testing.T) {
	e := start(t, &handler{}, nil) // the system clock: a wait of an hour
	e.srv.Fail429Surface("setMyDescription", "el", 1, 3600)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	err := e.ch.SetSurfaces(ctx, surfaces)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SetSurfaces: %v; want the context's error", err)
	}
	if got := len(surfaceCalls(e.srv)); got != 1 {
		t.Errorf("%d calls; want 1: none after the context was done", got)
	}
}

func TestSetSurfacesSkipsAnInvalidSurface(t *testing.T) {
	valid := telegram.Surface{Lang: "en", Description: "d", ShortDescription: "s",
		Commands: []telegram.Command{{"start", "Start"}}}
	tests := []struct {
		name string
		edit func(*telegram.Surface)
		want []string // in the error
	}{{
		name: "description too long",
		edit: func(s *telegram.Surface) { s.Description = strings.Repeat("😀", 257) }, // 514 UTF-16 units
		want: []string{"telegram: set surfaces: el: not sent: description is 514 characters, more than 512"},
	}, {
		name: "short description too long",
		edit: func(s *telegram.Surface) { s.ShortDescription = strings.Repeat("α", 121) },
		want: []string{"el: not sent: short description is 121 characters, more than 120"},
	}, {
		name: "command name with a capital, a slash or too long",
		edit: func(s *telegram.Surface) {
			s.Commands = []telegram.Command{{"Start", "Start"}, {"/help", "Help"}, {strings.Repeat("a", 33), "Long"}, {"", "None"}}
		},
		want: []string{
			`el: not sent: command 1: name "Start" is not 1-32 of a-z, 0-9 and _`,
			`command 2: name "/help"`, `command 3: name "aaaa`, `command 4: name ""`,
		},
	}, {
		name: "command twice",
		edit: func(s *telegram.Surface) { s.Commands = append(s.Commands, s.Commands[0]) },
		want: []string{`el: not sent: command 2: name "start" comes twice`},
	}, {
		name: "command description too short or too long",
		edit: func(s *telegram.Surface) {
			s.Commands = []telegram.Command{{"start", "Go"}, {"help", strings.Repeat("β", 257)}}
		},
		want: []string{
			"el: not sent: command 1 (start): description is 2 characters, not 3-256",
			"command 2 (help): description is 257 characters, not 3-256",
		},
	}, {
		name: "too many commands",
		edit: func(s *telegram.Surface) {
			for i := range 100 {
				s.Commands = append(s.Commands, telegram.Command{fmt.Sprintf("c%d", i), "A command"})
			}
		},
		want: []string{"el: not sent: 101 commands, more than 100"},
	}, {
		name: "language not two letters",
		edit: func(s *telegram.Surface) { s.Lang = "el-GR" },
		want: []string{`el-GR: not sent: language "el-GR" is not two letters a-z`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, &handler{}, nil)
			bad := valid
			bad.Lang = "el"
			bad.Commands = append([]telegram.Command(nil), valid.Commands...)
			tt.edit(&bad)

			err := e.ch.SetSurfaces(context.Background(), []telegram.Surface{bad, valid})
			if err == nil {
				t.Fatal("SetSurfaces: no error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			// Nothing of the invalid surface went; the valid one did.
			if diff := cmp.Diff(wantCalls("en", "d", "s", `[{"command":"start","description":"Start"}]`), surfaceCalls(e.srv)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetSurfacesTakesTheLimitsInUTF16(t *testing.T) {
	e := start(t, &handler{}, nil)
	s := telegram.Surface{
		Lang:             "el",
		Description:      strings.Repeat("😀", 256), // 512 UTF-16 units, 1,024 bytes
		ShortDescription: strings.Repeat("ω", 120), // 120 units, 240 bytes
		Commands:         []telegram.Command{{strings.Repeat("z", 32), strings.Repeat("ή", 256)}},
	}
	if err := e.ch.SetSurfaces(context.Background(), []telegram.Surface{s}); err != nil {
		t.Fatalf("SetSurfaces: %v", err)
	}
	if got := len(surfaceCalls(e.srv)); got != 3 {
		t.Errorf("%d calls; want 3", got)
	}
}

func TestSetSurfacesRefusesASecondSurfaceForALanguage(t *testing.T) {
	e := start(t, &handler{}, nil)
	err := e.ch.SetSurfaces(context.Background(), []telegram.Surface{surfaces[1], surfaces[1]})
	if err == nil || !strings.Contains(err.Error(), "en: not sent: a second surface for the language") {
		t.Fatalf("SetSurfaces: %v; want the second en refused", err)
	}
	if got := len(surfaceCalls(e.srv)); got != 3 {
		t.Errorf("%d calls; want 3", got)
	}
}

func TestSetSurfacesNeverShowsTheToken(t *testing.T) {
	// start checks the logs for the token when the test ends; here the error is checked too.
	e := start(t, &handler{}, func(cfg *telegram.Config) { cfg.Clock = newClock(true) })
	e.srv.Break() // transport errors carry the URL, and the URL the token

	err := e.ch.SetSurfaces(context.Background(), surfaces[:1])
	if err == nil {
		t.Fatal("SetSurfaces: no error from a broken server")
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("the error shows the token: %v", err)
	}
	if !strings.Contains(err.Error(), "el: setMyDescription: ") {
		t.Errorf("error %q does not name the language and method", err)
	}
}
