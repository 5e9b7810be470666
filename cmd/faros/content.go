package main

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/dialog"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/internal/content"
	"github.com/faros-project/faros/locales"
)

// loadContent reads the content directories, or the embedded content without them, with the
// checks of flowctl lint (content.Load).
func loadContent(c *config) (*bot.Content, error) {
	src := content.Built()
	if c.FlowsDir != "" {
		src = content.Dirs(c.FlowsDir, c.LocalesDir)
	}
	e, cat, err := content.Load(src)
	if err != nil {
		return nil, err
	}
	return &bot.Content{Engine: e, Catalog: cat}, nil
}

// logProblems writes each problem of the content or the roster as its own log line:
// file:line:column and what.
func logProblems(log *slog.Logger, msg string, err error) {
	var probs dialog.Problems
	if !errors.As(err, &probs) {
		log.Error(msg, "err", err)
		return
	}
	for _, p := range probs {
		log.Error(msg, "problem", p.String())
	}
}

// showSurfaces sets what Telegram shows of the bot (its description before Start, the "/"
// menu) from the content, at start and after each reload. The Bot API refusing it never stops
// the service: a warning is logged.
func showSurfaces(ctx context.Context, tg *telegram.Channel, b *bot.Bot, log *slog.Logger, reloaded <-chan struct{}) error {
	for {
		if err := tg.SetSurfaces(ctx, surfaces(b.Content().Catalog)); err != nil && ctx.Err() == nil {
			log.Warn("telegram: the bot's description and commands were not all set", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-reloaded:
		}
	}
}

// surfaces are the bot's description, short description and commands in each language of
// the content, and in English for people whose language has none.
func surfaces(cat *locales.Catalog) []telegram.Surface {
	var out []telegram.Surface
	for _, lang := range append([]string{""}, cat.Languages()...) {
		in := cmp.Or(lang, "en")
		s := telegram.Surface{Lang: lang, Description: cat.Render(in, "bot_description", nil),
			ShortDescription: cat.Render(in, "bot_short_description", nil)}
		for _, c := range []string{"help", "wipe", "language", "stop"} {
			s.Commands = append(s.Commands, telegram.Command{Name: c, Description: cat.Render(in, "command_"+c, nil)})
		}
		out = append(out, s)
	}
	return out
}

// pageTexts are the web page's own words in each language of the content (the page shows
// them all, before the person chooses one).
func pageTexts(cat *locales.Catalog) []webhook.PageText {
	var out []webhook.PageText
	for _, l := range cat.Languages() {
		out = append(out, webhook.PageText{Lang: l, Exit: cat.Render(l, "web_exit", nil), NotSent: cat.Render(l, "web_not_sent", nil),
			NeedsJS: cat.Render(l, "web_needs_js", nil), Message: cat.Render(l, "web_message", nil), Send: cat.Render(l, "web_send", nil)})
	}
	return out
}

// watchContent reloads the content directories when a file in them changes or on SIGHUP.
// Content that does not pass the checks is refused with the checker's messages, and the
// previous content keeps serving. Each reload is announced on reloaded, if nobody is behind.
func watchContent(ctx context.Context, c *config, b *bot.Bot, log *slog.Logger, reloaded chan<- struct{}) error {
	var dirs []string
	if c.FlowsDir != "" {
		dirs = []string{c.FlowsDir, c.LocalesDir}
	}
	return watch(ctx, dirs, func(string) bool { return true }, func(why string) {
		loaded, err := loadContent(c)
		if err != nil {
			logProblems(log, "content refused; the previous content keeps serving", err)
			return
		}
		b.SetContent(loaded)
		warnPublicDuressWords(log, loaded) // a reload may bring the shipped words back
		select {
		case reloaded <- struct{}{}:
		default:
		}
		st := loaded.Engine.Stats()
		log.Info("content reloaded", "why", why, "flows", st.Flows, "nodes", st.Nodes, "languages", len(loaded.Catalog.Languages()))
	})
}

// watchRoster reloads the roster when its file changes or on SIGHUP (a file mounted alone
// into a container may change without the directory telling). A roster with problems is
// refused, each problem logged, and the previous one stays in force. The cases of operators
// the new roster leaves out go back to those on call.
// removed, if not nil, is told of each operator the new roster no longer has (the desk in the
// browser ends their sessions and deletes their sign-in).
func watchRoster(ctx context.Context, path string, current *atomic.Pointer[roster.Roster], desk *handoff.Desk,
	removed func(ctx context.Context, id string), log *slog.Logger) error {
	dirs := []string{filepath.Dir(path)} // the directory: editors replace files
	ours := func(name string) bool { return filepath.Clean(name) == filepath.Clean(path) }
	return watch(ctx, dirs, ours, func(why string) {
		r, err := roster.Load(path)
		if err != nil {
			logProblems(log, "roster refused; the previous roster stays in force", err)
			return
		}
		previous := current.Swap(r)
		desk.RosterReloaded(ctx, previous) // the cases of whoever left it go to those on call
		if previous != nil && removed != nil {
			for _, o := range previous.Operators() {
				if _, still := r.Operator(o.ID); !still {
					removed(ctx, o.ID)
				}
			}
		}
		log.Info("roster reloaded", "why", why, "operators", len(r.Operators()))
	})
}

// watch calls reload on SIGHUP, and when a file of dirs for which ours is true changed (after
// a short quiet time, so that an editor's save is read whole) or after a watcher error, until
// ctx is done.
func watch(ctx context.Context, dirs []string, ours func(name string) bool, reload func(why string)) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var events <-chan fsnotify.Event
	var errs <-chan error
	if len(dirs) > 0 {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			return err
		}
		defer w.Close()
		for _, dir := range dirs {
			if err := w.Add(dir); err != nil {
				return err
			}
		}
		events, errs = w.Events, w.Errors
	}
	var quiet <-chan time.Time
	why := ""
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			reload("SIGHUP")
		case e := <-events:
			if ours(e.Name) {
				quiet, why = time.After(300*time.Millisecond), cmp.Or(why, "files changed")
			}
		case err := <-errs:
			// Changes may have been lost (the event queue overflowed): read everything again.
			// An error left unread would block the watcher, and every later change, for good.
			quiet, why = time.After(300*time.Millisecond), "watcher error: "+err.Error()
		case <-quiet:
			quiet = nil
			reload(why)
			why = ""
		}
	}
}
