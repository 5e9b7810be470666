package main

import (
	"bytes"
	"compress/flate"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// config is the service's configuration: every FAROS_* variable (README, "Configuration"),
// each also a flag (a flag wins over its variable).
type config struct {
	HTTPAddr            string
	OpsAddr             string // /readyz and /metrics
	RedisURL            string // "" → embedded, nothing persists
	RedisMaster         string // Sentinel: the master's name; RedisURL then lists the sentinels
	RedisPrefix         string // of every key: several deployments can share one Redis
	TelegramToken       string // "" → Telegram off
	TelegramAPI         string
	TelegramMode        string
	TelegramHookURL     string
	TelegramSecret      string
	TelegramRate        int           // sends per second, overall
	TelegramChatGap     time.Duration // between two sends to one chat
	TelegramEditAnswers bool          // answer a pressed button in place of its question
	WebhookSecret       string        // "" → the signed API is off
	WebhookCallback     string        // where later messages of the API's conversations are pushed
	PseudonymKey        string        // "" → random per run
	Roster              string
	DeskAddr            string // the counsellors' desk in the browser
	DeskURL             string // its public address; "" → no desk
	FlowsDir            string // "" → the embedded content
	LocalesDir          string
	SessionIdle         time.Duration
	SessionMaxAge       time.Duration
	ExitURL             string // where the web chat's quick exit goes
	IntakeRate          int    // messages per second each channel takes, all conversations together, beyond which 503
	WebchatStreams      int    // open web chat event streams, beyond which 503
	StreamsPerAddr      int    // open web chat event streams of one client address, beyond which 429
	NewPerAddrMin       int    // web conversations one client address may start a minute (twice that at once)
	MsgsPerAddrSec      int    // web messages one client address may send a second (four times that at once)
	ClientAddrHdr       string // header in which Faros' own proxy passes the client's address; "": the connection's
	ButtonsPerMin       int    // pressed buttons a minute one conversation may send (half of it at once)
	TextsPerMin         int    // typed messages a minute one conversation may send (half of it at once)
	LogLevel            string
	Warnings            []string // settings that are read no longer: logged at start
}

// setting is one variable and its flag.
type setting struct {
	env, flag, def, usage string
	set                   value
}

// value sets one setting from its text, and names its kind for -h.
type value struct {
	kind string // "text", "duration", "number"
	set  func(c *config, v string) error
}

func str(p func(*config) *string) value {
	return value{"text", func(c *config, v string) error { *p(c) = v; return nil }}
}

func duration(p func(*config) *time.Duration) value {
	return value{"duration", func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration such as 90s, 30m or 2h", v)
		}
		*p(c) = d
		return nil
	}}
}

func boolean(p func(*config) *bool) value {
	return value{"true or false", func(c *config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is neither true nor false", v)
		}
		*p(c) = b
		return nil
	}}
}

func positive(p func(*config) *int) value {
	return value{"number", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a positive whole number", v)
		}
		*p(c) = n
		return nil
	}}
}

var settings = []setting{
	{"FAROS_HTTP_ADDR", "http-addr", "127.0.0.1:8080", "listen address (host:port; :8080 for every interface) for webhooks, API, web chat, health, metrics", str(func(c *config) *string { return &c.HTTPAddr })},
	{"FAROS_OPS_ADDR", "ops-addr", "127.0.0.1:9090", "listen address (host:port) of /readyz and /metrics, for the orchestrator and Prometheus: keep it off the public network", str(func(c *config) *string { return &c.OpsAddr })},
	{"FAROS_REDIS_URL", "redis-url", "", "redis:// or rediss:// URL; several, comma-separated: a cluster (or sentinels with --redis-master); empty: embedded, nothing persists", str(func(c *config) *string { return &c.RedisURL })},
	{"FAROS_REDIS_MASTER", "redis-master", "", "Sentinel master name; --redis-url then lists the sentinels", str(func(c *config) *string { return &c.RedisMaster })},
	{"FAROS_REDIS_PREFIX", "redis-prefix", "faros", "prefix of every Redis key", str(func(c *config) *string { return &c.RedisPrefix })},
	{"FAROS_TELEGRAM_TOKEN", "telegram-token", "", "bot token; empty disables Telegram", str(func(c *config) *string { return &c.TelegramToken })},
	{"FAROS_TELEGRAM_API", "telegram-api", "https://api.telegram.org/bot%s/%s", "Bot API endpoint pattern (token, method)", str(func(c *config) *string { return &c.TelegramAPI })},
	{"FAROS_TELEGRAM_MODE", "telegram-mode", "polling", "polling or webhook", str(func(c *config) *string { return &c.TelegramMode })},
	{"FAROS_TELEGRAM_WEBHOOK_URL", "telegram-webhook-url", "", "public https URL Telegram posts updates to (webhook mode)", str(func(c *config) *string { return &c.TelegramHookURL })},
	{"FAROS_TELEGRAM_WEBHOOK_SECRET", "telegram-webhook-secret", "", "secret_token Telegram sends back (webhook mode); openssl rand -hex 24", str(func(c *config) *string { return &c.TelegramSecret })},
	{"FAROS_TELEGRAM_RATE", "telegram-rate", "28", "Telegram sends per second, overall (Telegram allows 30)", positive(func(c *config) *int { return &c.TelegramRate })},
	{"FAROS_TELEGRAM_CHAT_GAP", "telegram-chat-gap", "1.1s", "least time between two sends to one chat (Telegram allows about 1s)", duration(func(c *config) *time.Duration { return &c.TelegramChatGap })},
	{"FAROS_TELEGRAM_EDIT_ANSWERS", "telegram-edit-answers", "true", "a pressed button's answer replaces its question instead of adding a message: fewer messages on the person's phone", boolean(func(c *config) *bool { return &c.TelegramEditAnswers })},
	{"FAROS_WEBHOOK_SECRET", "webhook-secret", "", "HMAC key of the generic webhook API (openssl rand -hex 32); empty disables the API", str(func(c *config) *string { return &c.WebhookSecret })},
	{"FAROS_WEBHOOK_CALLBACK_URL", "webhook-callback-url", "", "where later messages to API conversations are pushed (signed)", str(func(c *config) *string { return &c.WebhookCallback })},
	{"FAROS_PSEUDONYM_KEY", "pseudonym-key", "", "at least 32 random bytes (openssl rand -hex 32): the HMAC key of pseudonyms, and the root of the keys that seal cases and queued messages; empty: random per run", str(func(c *config) *string { return &c.PseudonymKey })},
	{"FAROS_ROSTER", "roster", "", "path of the operators' roster YAML; empty: no operators", str(func(c *config) *string { return &c.Roster })},
	{"FAROS_DESK_ADDR", "desk-addr", "127.0.0.1:8081", "listen address (host:port) of the counsellors' desk in the browser: never the web chat's; put it behind your HTTPS proxy", str(func(c *config) *string { return &c.DeskAddr })},
	{"FAROS_DESK_URL", "desk-url", "", "the desk's public address, such as https://desk.example.org (http only for localhost); empty: no desk", str(func(c *config) *string { return &c.DeskURL })},
	{"FAROS_FLOWS_DIR", "flows-dir", "", "flows directory overriding the embedded content (hot-reloaded)", str(func(c *config) *string { return &c.FlowsDir })},
	{"FAROS_LOCALES_DIR", "locales-dir", "", "message files directory overriding the embedded content (hot-reloaded)", str(func(c *config) *string { return &c.LocalesDir })},
	{"FAROS_SESSION_IDLE", "session-idle", "2h", "inactivity after which a session expires", duration(func(c *config) *time.Duration { return &c.SessionIdle })},
	{"FAROS_SESSION_MAX_AGE", "session-max-age", "24h", "age after which a session expires, active or not", duration(func(c *config) *time.Duration { return &c.SessionMaxAge })},
	{"FAROS_EXIT_URL", "exit-url", "https://www.google.com/", "the neutral page the web chat's quick exit opens", str(func(c *config) *string { return &c.ExitURL })},
	{"FAROS_INTAKE_RATE", "intake-rate", "2000", "messages a second each channel takes once authenticated, all its conversations together; beyond: 503 (help, leaving and wiping always pass)", positive(func(c *config) *int { return &c.IntakeRate })},
	{"FAROS_WEBCHAT_STREAMS", "webchat-streams", "10000", "web chat pages connected at once (one event stream each); beyond: 503, and the page tries again", positive(func(c *config) *int { return &c.WebchatStreams })},
	{"FAROS_WEBCHAT_STREAMS_PER_ADDR", "webchat-streams-per-addr", "16", "web chat pages one client address may have connected at once; beyond: 429", positive(func(c *config) *int { return &c.StreamsPerAddr })},
	{"FAROS_WEBCHAT_NEW_PER_MINUTE", "webchat-new-per-minute", "10", "web conversations one client address may start a minute, twice that at once; beyond: 429 (help, leaving and wiping get their answer without a conversation)", positive(func(c *config) *int { return &c.NewPerAddrMin })},
	{"FAROS_WEBCHAT_MESSAGES_PER_SECOND", "webchat-messages-per-second", "5", "web messages one client address may send a second, four times that at once; beyond: 429, which the page waits out (never help, leaving, wiping or words to a counsellor)", positive(func(c *config) *int { return &c.MsgsPerAddrSec })},
	{"FAROS_CLIENT_ADDR_HEADER", "client-addr-header", "", "header in which your own proxy passes the client's address (e.g. X-Forwarded-For: its last address counts); empty: the connection's address", str(func(c *config) *string { return &c.ClientAddrHdr })},
	{"FAROS_BUTTONS_PER_MINUTE", "buttons-per-minute", "60", "buttons one conversation may press a minute, half of them at once; beyond: one notice, then silence (never in a case, never for help, leaving or wiping)", positive(func(c *config) *int { return &c.ButtonsPerMin })},
	{"FAROS_TEXTS_PER_MINUTE", "texts-per-minute", "30", "messages one conversation may type a minute, half of them at once; beyond: as for buttons", positive(func(c *config) *int { return &c.TextsPerMin })},
	{"FAROS_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", str(func(c *config) *string { return &c.LogLevel })},
}

// retired are variables Faros no longer reads, with what replaced them: a deployment that
// still sets one is warned (not stopped: an upgrade must not take the service down).
var retired = map[string]string{
	"FAROS_RATE_PER_MINUTE": "use FAROS_BUTTONS_PER_MINUTE and FAROS_TEXTS_PER_MINUTE",
	"FAROS_AUTOWIPE":        "every conversation that ends (/stop, leave now, /wipe) is now wiped",
}

// loadConfig reads the variables, then the flags, and reports every problem at once.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("faros", flag.ContinueOnError)
	fs.SetOutput(stderr)
	values := map[string]*string{}
	for _, s := range settings {
		// The usage shows the built-in default, never a variable's value: that may be a secret.
		// The back-quoted kind is what -h prints after the flag's name.
		values[s.env] = fs.String(s.flag, s.def, "`"+s.set.kind+"`: "+s.usage+" ($"+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	c := &config{}
	var problems []string
	for _, s := range settings {
		v := *values[s.env]
		if e := getenv(s.env); e != "" && !given[s.flag] {
			v = e
		}
		if err := s.set.set(c, v); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", named(s.env), err))
		}
	}
	for old, instead := range retired {
		if getenv(old) != "" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s is no longer read: %s", old, instead))
		}
	}
	problems = append(problems, c.check()...)
	if len(problems) > 0 {
		return nil, errors.New("invalid configuration:\n  " + strings.Join(problems, "\n  "))
	}
	return c, nil
}

// check reports settings that are wrong together.
func (c *config) check() []string {
	var ps []string
	bad := func(env, format string, args ...any) { ps = append(ps, named(env)+": "+fmt.Sprintf(format, args...)) }
	weak := func(env, secret string, bits float64, generate string) {
		if secret != "" && strength(secret) < bits {
			bad(env, "too weak: use at least %.0f random bits; generate one with: %s", bits, generate)
		}
	}
	for env, addr := range map[string]string{"FAROS_HTTP_ADDR": c.HTTPAddr, "FAROS_OPS_ADDR": c.OpsAddr, "FAROS_DESK_ADDR": c.DeskAddr} {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			if _, nerr := strconv.Atoi(addr); nerr == nil {
				bad(env, "%q is a port without a host: write :%s (every interface) or 127.0.0.1:%s (this machine only)", addr, addr, addr)
			} else {
				bad(env, "%q is not host:port, such as 127.0.0.1:8080 or :8080", addr)
			}
		}
	}
	if _, port, _ := net.SplitHostPort(c.OpsAddr); c.HTTPAddr == c.OpsAddr && port != "0" {
		bad("FAROS_OPS_ADDR", "is FAROS_HTTP_ADDR's address too: readiness and metrics need their own port")
	}
	if c.TelegramMode != "polling" && c.TelegramMode != "webhook" {
		bad("FAROS_TELEGRAM_MODE", "%q is neither polling nor webhook", c.TelegramMode)
	}
	if c.TelegramToken != "" && strings.Count(c.TelegramAPI, "%s") != 2 {
		bad("FAROS_TELEGRAM_API", "the pattern needs two %%s, for the token and the method")
	}
	if c.TelegramToken != "" && c.TelegramMode == "webhook" {
		if u, err := url.Parse(c.TelegramHookURL); err != nil || u.Scheme == "" || u.Host == "" {
			bad("FAROS_TELEGRAM_WEBHOOK_URL", "webhook mode needs the public URL Telegram posts to")
		}
		if c.TelegramSecret == "" {
			bad("FAROS_TELEGRAM_WEBHOOK_SECRET", "webhook mode needs a secret; generate one with: openssl rand -hex 24")
		} else if !validTelegramSecret.MatchString(c.TelegramSecret) {
			bad("FAROS_TELEGRAM_WEBHOOK_SECRET", "Telegram takes only A-Z a-z 0-9 _ - (up to 256); generate one with: openssl rand -hex 24")
		}
		weak("FAROS_TELEGRAM_WEBHOOK_SECRET", c.TelegramSecret, 128, "openssl rand -hex 24")
	}
	weak("FAROS_WEBHOOK_SECRET", c.WebhookSecret, 128, "openssl rand -hex 32")
	weak("FAROS_PSEUDONYM_KEY", c.PseudonymKey, 256, "openssl rand -hex 32")
	if c.WebhookCallback != "" {
		if c.WebhookSecret == "" {
			bad("FAROS_WEBHOOK_CALLBACK_URL", "the callback is signed with FAROS_WEBHOOK_SECRET, which is empty")
		}
		if u, err := url.Parse(c.WebhookCallback); err != nil || u.Host == "" {
			bad("FAROS_WEBHOOK_CALLBACK_URL", "%q is not an absolute URL", c.WebhookCallback)
		}
	}
	if u, err := url.Parse(c.ExitURL); err != nil || u.Scheme != "https" && u.Scheme != "http" {
		bad("FAROS_EXIT_URL", "%q is not an http(s) URL", c.ExitURL)
	}
	if _, port, _ := net.SplitHostPort(c.DeskAddr); c.DeskURL != "" && (c.DeskAddr == c.HTTPAddr || c.DeskAddr == c.OpsAddr) && port != "0" {
		bad("FAROS_DESK_ADDR", "is the address of another listener: the desk needs its own port, never the web chat's")
	}
	if c.DeskURL != "" {
		u, err := url.Parse(c.DeskURL)
		local := err == nil && u.Scheme == "http" && u.Hostname() == "localhost"
		switch {
		case err != nil || u.Host == "" || u.Path != "" && u.Path != "/" || u.Scheme != "https" && !local:
			bad("FAROS_DESK_URL", "%q is not an https:// address without a path, such as https://desk.example.org (http://localhost:PORT for a trial on this machine): passkeys work only there", c.DeskURL)
		case u.Scheme == "https" && u.Port() == "443":
			bad("FAROS_DESK_URL", "write %q without :443: browsers leave the usual port out, and the desk compares addresses", c.DeskURL)
		}
	}
	if c.Roster != "" && c.TelegramToken == "" && c.DeskURL == "" {
		bad("FAROS_ROSTER", "operators work on Telegram or at the desk, and both FAROS_TELEGRAM_TOKEN and FAROS_DESK_URL are empty")
	}
	if c.DeskURL != "" && c.Roster == "" {
		bad("FAROS_DESK_URL", "the desk is for the roster's operators, and FAROS_ROSTER is empty")
	}
	if (c.FlowsDir == "") != (c.LocalesDir == "") {
		bad("FAROS_FLOWS_DIR", "goes with FAROS_LOCALES_DIR (--locales-dir): the flows name the messages")
	}
	if c.RedisMaster != "" && c.RedisURL == "" {
		bad("FAROS_REDIS_MASTER", "needs the sentinels' addresses in FAROS_REDIS_URL (--redis-url)")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("FAROS_LOG_LEVEL", "%q is not debug, info, warn or error", c.LogLevel)
	}
	return ps
}

// named is a setting as every message names it: its variable and its flag.
func named(env string) string {
	for _, s := range settings {
		if s.env == env {
			return env + " (--" + s.flag + ")"
		}
	}
	return env
}

// validTelegramSecret is what Telegram accepts as a webhook's secret_token.
var validTelegramSecret = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// strength estimates the random bits of a secret: its length times the bits a character of the
// smallest usual alphabet it fits carries (hexadecimal 4, base64 6, other printable 6.5), and
// nothing for a secret of fewer than 8 different characters ("aaaa…", "abab…") or one that
// repeats itself (it compresses to under 60%: "0123456789abcdef" four times, "password123"
// three times; random hex compresses to about 90%). It is an upper bound: it cannot see a
// weak generator, nor a passphrase of dictionary words.
func strength(s string) float64 {
	var packed bytes.Buffer
	w, _ := flate.NewWriter(&packed, flate.BestCompression)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	if packed.Len()*10 < len(s)*6 {
		return 0
	}
	distinct := map[rune]bool{}
	hex, b64 := true, true
	for _, r := range s {
		distinct[r] = true
		hex = hex && strings.ContainsRune("0123456789abcdefABCDEF", r)
		b64 = b64 && (r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) || strings.ContainsRune("+/=-_", r))
	}
	if len(distinct) < 8 {
		return 0
	}
	per := 6.5
	switch {
	case hex:
		per = 4
	case b64:
		per = 6
	}
	return per * float64(utf8.RuneCountInString(s))
}
