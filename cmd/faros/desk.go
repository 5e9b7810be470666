package main

// The counsellors' desk in the browser (FAROS_DESK_URL), and "faros operators", which invites
// a counsellor to it or locks them out.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/faros-project/faros/bot"
	deskweb "github.com/faros-project/faros/desk"
	"github.com/faros-project/faros/desk/auth"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/locales"
)

// newDeskServer builds the desk's server: sign-in for the operators of the roster in force.
func newDeskServer(cfg *config, rdb redis.UniversalClient, key []byte, desk *handoff.Desk, hub *deskweb.Hub, phones *deskweb.Phones,
	current *atomic.Pointer[roster.Roster], b *bot.Bot, log *slog.Logger) (*deskweb.Server, *auth.Auth, error) {
	a, err := newAuth(cfg, rdb, key, current.Load, log)
	if err != nil {
		return nil, nil, err
	}
	u, _ := url.Parse(cfg.DeskURL)
	s, err := deskweb.New(deskweb.Config{Desk: desk, Auth: a, Hub: hub, Phones: phones, Logger: log, Secure: u.Scheme == "https",
		Catalog: func() *locales.Catalog { return b.Content().Catalog }})
	return s, a, err
}

// newAuth is the desk's sign-in, for the operators of the roster ros returns.
func newAuth(cfg *config, rdb redis.UniversalClient, key []byte, ros func() *roster.Roster, log *slog.Logger) (*auth.Auth, error) {
	return auth.New(auth.Config{Redis: rdb, Prefix: cfg.RedisPrefix, Secret: key, Origin: strings.TrimSuffix(cfg.DeskURL, "/"), Logger: log,
		ClientAddrHeader: cfg.ClientAddrHdr,
		Known: func(id string) (string, bool) {
			r := ros()
			if r == nil {
				return "", false
			}
			o, ok := r.Operator(id)
			return o.AliasIn("el"), ok
		}})
}

const operatorsUsage = `usage: faros operators invite ID
       faros operators revoke ID

invite  prints a one-time link with which operator ID (of the roster) enrols a passkey, or a
        password and a one-time code, for the desk in the browser. It works once, for 72 hours;
        a new invitation replaces the last. Give it to the counsellor in person or by a channel
        you trust: whoever opens it first becomes that counsellor.
revoke  ends every desk session of operator ID at once and deletes their passkeys, password
        and code: they need a new invitation. Removing them from the roster locks them out too.

It uses the service's settings: FAROS_REDIS_URL, FAROS_REDIS_PREFIX, FAROS_PSEUDONYM_KEY,
FAROS_ROSTER and FAROS_DESK_URL.
`

// operators is "faros operators invite|revoke ID". It returns the exit status: 0 done, 1 it
// could not be done, 2 a wrong command line.
func operators(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, operatorsUsage)
		return 0
	}
	if len(args) != 2 || args[0] != "invite" && args[0] != "revoke" {
		fmt.Fprint(stderr, "faros operators: say invite or revoke, and one operator id\n"+operatorsUsage)
		return 2
	}
	verb, id := args[0], args[1]
	fail := func(err error) int {
		fmt.Fprintln(stderr, "faros operators:", err)
		return 1
	}
	cfg, rdb, closeRedis, err := commandRedis("an invitation would be written where the service cannot read it", getenv, stderr)
	if err != nil {
		return fail(err)
	}
	defer closeRedis()
	if cfg.DeskURL == "" || cfg.Roster == "" {
		return fail(errors.New("FAROS_DESK_URL and FAROS_ROSTER must be set as the service has them"))
	}
	if cfg.PseudonymKey == "" {
		return fail(errors.New("FAROS_PSEUDONYM_KEY is empty: set it as the service has it"))
	}
	r, err := roster.Load(cfg.Roster)
	if err != nil {
		return fail(fmt.Errorf("FAROS_ROSTER: %w", err))
	}
	a, err := newAuth(cfg, rdb, []byte(cfg.PseudonymKey), func() *roster.Roster { return r }, slog.New(slog.DiscardHandler))
	if err != nil {
		return fail(err)
	}
	if verb == "revoke" {
		n, err := a.Revoke(ctx, id)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s: %d desk sessions ended; passkeys, password and code deleted. A new invitation is needed to sign in again.\n", id, n)
		return 0
	}
	if _, ok := r.Operator(id); !ok {
		return fail(fmt.Errorf("%q is not an operator of the roster %s", id, cfg.Roster))
	}
	link, expires, err := a.Invite(ctx, id)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "%s\n\nThe link works once, until %s. Give it to %s in person or by a channel you trust.\n",
		link, expires.Format("2006-01-02 15:04 MST"), id)
	return 0
}
