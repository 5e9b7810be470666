package telegram

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Telegram's limits on what it shows of a bot, in characters (UTF-16 code units).
const (
	maxDescription      = 512
	maxShortDescription = 120
	maxCommands         = 100
	minCommandDesc      = 3 // the Bot API now allows 1; older servers wanted 3
	maxCommandDesc      = 256
)

var (
	commandName  = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	languageCode = regexp.MustCompile(`^[a-z]{2}$`) // ISO 639-1, as language_code takes it
)

// Surface is what Telegram shows of the bot in one language.
type Surface struct {
	Lang string // "el", "en", ...; "" for the default (shown to users whose language has none)
	// Description is shown in an empty chat, before the person presses Start (setMyDescription);
	// at most 512 characters. Empty removes the language's own, so that the default shows.
	Description string
	// ShortDescription is shown on the bot's profile and in shared links
	// (setMyShortDescription); at most 120 characters. Empty removes the language's own.
	ShortDescription string
	// Commands make the "/" menu, in order (setMyCommands); at most 100. None removes the
	// language's own (deleteMyCommands), so that the default shows.
	Commands []Command
}

// Command is one entry of the "/" menu: Name without the slash, 1-32 of a-z, 0-9 and _;
// Description 3-256 characters.
type Command struct{ Name, Description string }

// SetSurfaces sets the description, short description and commands for each surface
// (language_code = Lang, omitted for ""), in order, with the default scope. A surface that
// breaks Telegram's limits is not sent at all; a call the Bot API refuses (an older server, an
// emulator, a 4xx) does not stop the others. A 429 is waited out as it says, and a 429, a 5xx
// or a network error is tried again, up to Config.Retries times, as Delete does. SetSurfaces
// logs nothing: it returns the joined errors, each naming the language ("default" for "") and
// the field or method, for the caller to log as a warning; they never carry the token. Run it
// at start and after each reload, one call at a time, from a goroutine that may wait: a 429 on
// these methods can ask for minutes.
func (c *Channel) SetSurfaces(ctx context.Context, surfaces []Surface) error {
	var errs []error
	seen := map[string]bool{}
	for _, s := range surfaces {
		name := s.Lang
		if name == "" {
			name = "default"
		}
		if err := s.check(); err != nil {
			errs = append(errs, fmt.Errorf("telegram: set surfaces: %s: not sent: %w", name, err))
			continue
		}
		if seen[s.Lang] {
			errs = append(errs, fmt.Errorf("telegram: set surfaces: %s: not sent: a second surface for the language", name))
			continue
		}
		seen[s.Lang] = true
		for _, call := range s.calls() {
			if ctx.Err() != nil {
				return errors.Join(append(errs, fmt.Errorf("telegram: set surfaces: %w", ctx.Err()))...)
			}
			if err := c.request(ctx, call.method, call.params); err != nil {
				errs = append(errs, fmt.Errorf("telegram: set surfaces: %s: %s: %w", name, call.method, err))
			}
		}
	}
	return errors.Join(errs...)
}

// check reports every way s breaks Telegram's limits, naming the field.
func (s Surface) check() error {
	var errs []error
	if s.Lang != "" && !languageCode.MatchString(s.Lang) {
		errs = append(errs, fmt.Errorf("language %q is not two letters a-z", s.Lang))
	}
	if n := length(s.Description); n > maxDescription {
		errs = append(errs, fmt.Errorf("description is %d characters, more than %d", n, maxDescription))
	}
	if n := length(s.ShortDescription); n > maxShortDescription {
		errs = append(errs, fmt.Errorf("short description is %d characters, more than %d", n, maxShortDescription))
	}
	if len(s.Commands) > maxCommands {
		errs = append(errs, fmt.Errorf("%d commands, more than %d", len(s.Commands), maxCommands))
	}
	names := map[string]bool{}
	for i, cmd := range s.Commands {
		switch {
		case !commandName.MatchString(cmd.Name):
			errs = append(errs, fmt.Errorf("command %d: name %q is not 1-32 of a-z, 0-9 and _", i+1, cmd.Name))
		case names[cmd.Name]:
			errs = append(errs, fmt.Errorf("command %d: name %q comes twice", i+1, cmd.Name))
		}
		names[cmd.Name] = true
		if n := length(cmd.Description); n < minCommandDesc || n > maxCommandDesc {
			errs = append(errs, fmt.Errorf("command %d (%s): description is %d characters, not %d-%d",
				i+1, cmd.Name, n, minCommandDesc, maxCommandDesc))
		}
	}
	return errors.Join(errs...)
}

type apiCall struct {
	method string
	params tgbotapi.Params
}

// calls are the Bot API calls that set s, which the library predates.
func (s Surface) calls() []apiCall {
	params := func(kv ...string) tgbotapi.Params {
		p := tgbotapi.Params{}
		for i := 0; i < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		p.AddNonEmpty("language_code", s.Lang)
		return p
	}
	commands := apiCall{"deleteMyCommands", params()}
	if len(s.Commands) > 0 {
		list := make([]tgbotapi.BotCommand, len(s.Commands))
		for i, cmd := range s.Commands {
			list[i] = tgbotapi.BotCommand{Command: cmd.Name, Description: cmd.Description}
		}
		commands = apiCall{"setMyCommands", params()}
		_ = commands.params.AddInterface("commands", list) // strings only: never fails
	}
	return []apiCall{
		{"setMyDescription", params("description", s.Description)},
		{"setMyShortDescription", params("short_description", s.ShortDescription)},
		commands,
	}
}

// length is the length of text as Telegram counts it, in UTF-16 code units.
func length(text string) int {
	n := 0
	for _, r := range text {
		n += utf16.RuneLen(r)
	}
	return n
}
