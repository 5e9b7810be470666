package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/telegram"
	"github.com/faros-project/faros/bot/webhook"
	deskweb "github.com/faros-project/faros/desk"
	"github.com/faros-project/faros/desk/auth"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/locales"
	"github.com/faros-project/faros/stats"
)

// telegramRetryBase is the Telegram channel's first wait after Telegram did not answer; zero
// means its default (1s, doubling to a minute). Tests shorten it.
var telegramRetryBase time.Duration

// shutdownGrace is how long a stopping Faros lets in-flight messages finish and the
// outbound queue drain.
const shutdownGrace = 10 * time.Second

// run is the whole service: it returns when ctx ends (after a graceful shutdown) or when it
// cannot start. Logs go to stderr as JSON lines.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level(cfg.LogLevel)}))
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}

	content, err := loadContent(cfg)
	if err != nil {
		logProblems(log, "content refused", err)
		return errors.New("the content does not pass its checks (see the log)")
	}
	warnPublicDuressWords(log, content)
	rdb, closeRedis, err := openRedis(cfg, log)
	if err != nil {
		return err
	}
	defer closeRedis()
	if cfg.RedisURL != "" { // the embedded Redis is Faros' own
		checkSettings(rdb, log)
	}

	key := []byte(cfg.PseudonymKey)
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
		log.Warn("FAROS_PSEUDONYM_KEY is empty: a random key is used, so conversations do not survive a restart")
	}
	var current atomic.Pointer[roster.Roster] // the roster in force: watchRoster swaps it
	if cfg.Roster != "" {
		r, err := roster.Load(cfg.Roster)
		if err != nil {
			return fmt.Errorf("FAROS_ROSTER: %w", err)
		}
		current.Store(r)
	} else {
		log.Info("FAROS_ROSTER is empty: no operators; people are given the hotlines")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := stats.New(rdb, cfg.RedisPrefix) // the weekly statistics: counts, never records
	bcfg := bot.Config{
		Redis: rdb, Content: content, PseudonymKey: key, Prefix: cfg.RedisPrefix, Stats: counter,
		Idle: cfg.SessionIdle, MaxAge: cfg.SessionMaxAge, Logger: log, Registerer: reg,
		Wipers: map[string]bot.Wiper{}, Intake: cfg.IntakeRate,
		Limits: bot.Limits{Buttons: bot.Bucket{PerMinute: cfg.ButtonsPerMin}, Texts: bot.Bucket{PerMinute: cfg.TextsPerMin}},
	}
	// The desk and the bot use each other (handoffs; back to the flows after a close), and
	// Telegram carries both: they are tied together once all exist.
	var b *bot.Bot
	var desk *handoff.Desk
	var tg *telegram.Channel
	people := map[string]bot.Sender{}
	var handler bot.Handler = lateHandler{&b}
	var hub *deskweb.Hub // pokes the counsellors' browsers; nil without a desk
	var deskPhones *deskweb.Phones
	var poke func(op, id string, ring, urgent bool)
	operators := map[string]handoff.Phones{roster.Telegram: latePhones{&tg}}
	if cfg.DeskURL != "" {
		hub, deskPhones = deskweb.NewHub(rdb, cfg.RedisPrefix, log), deskweb.NewPhones(rdb, cfg.RedisPrefix, key)
		poke, operators[roster.Desk] = hub.Poke, deskPhones
	}
	if cfg.Roster != "" {
		desk, err = handoff.New(handoff.Config{
			Redis: rdb, Prefix: cfg.RedisPrefix, Secret: key, Roster: current.Load, People: people,
			Operators: operators, Poke: poke,
			Conversations: handoff.ConversationsFunc(func(ctx context.Context, channel, chatID, flow string) ([]bot.Reply, error) {
				return b.Goto(ctx, channel, chatID, flow)
			}),
			Catalog: func() *locales.Catalog { return b.Content().Catalog }, Logger: log, Registerer: reg,
			Stats: counter, StatsNames: func() stats.Names { return namesOf(b.Content()) },
		})
		if err != nil {
			return err
		}
		bcfg.Desk = desk
		handler = desk.Route(handler)
	}
	if b, err = bot.New(bcfg); err != nil {
		return err
	}

	mux := http.NewServeMux()
	chat, err := webhook.NewChat(webhook.ChatConfig{Handler: handler, ExitURL: cfg.ExitURL, MaxStreams: cfg.WebchatStreams,
		Page:          pageTexts(b.Content().Catalog),
		Conversations: b, Inbox: bot.NewInbox(rdb, cfg.RedisPrefix, "web", key),
		StreamsPerSource: cfg.StreamsPerAddr, NewPerSource: 2 * cfg.NewPerAddrMin, NewPerSourceEvery: time.Minute / time.Duration(cfg.NewPerAddrMin),
		MessagesPerSource: 4 * cfg.MsgsPerAddrSec, MessagesPerSourceEvery: time.Second / time.Duration(cfg.MsgsPerAddrSec),
		ClientAddrHeader: cfg.ClientAddrHdr, Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	mux.Handle("/", chat)
	people["web"] = chat
	if cfg.WebhookSecret != "" {
		api, err := webhook.New(webhook.Config{Secret: []byte(cfg.WebhookSecret), Handler: handler, CallbackURL: cfg.WebhookCallback, Logger: log, Registerer: reg})
		if err != nil {
			return err
		}
		mux.Handle("/api/v1/messages", api)
		people["api"] = api
	}
	healthz := func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }
	mux.HandleFunc("GET /healthz", healthz)
	// Readiness and metrics are for the deployment's own eyes, on their own listener.
	ops := &opsDoor{parts: []readyPart{redisPart(rdb)}}
	opsMux := http.NewServeMux()
	opsMux.HandleFunc("GET /healthz", healthz)
	opsMux.Handle("GET /readyz", ops)
	opsMux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	if cfg.TelegramToken != "" {
		tg, err = telegram.New(telegram.Config{
			Token: cfg.TelegramToken, TokenName: "FAROS_TELEGRAM_TOKEN", RetryBase: telegramRetryBase,
			Endpoint: cfg.TelegramAPI, Mode: cfg.TelegramMode,
			WebhookURL: cfg.TelegramHookURL, WebhookSecret: cfg.TelegramSecret,
			PerChat: cfg.TelegramChatGap, PerSecond: cfg.TelegramRate, EditAnswers: cfg.TelegramEditAnswers,
			Logger: log, Registerer: reg,
			Sent: func(chatID, tag string, msgIDs []string, queued time.Time) {
				if tag != "" && desk != nil { // a message about a case, in an operator's chat: deleted when it closes
					desk.Sent(roster.Telegram, chatID, tag, msgIDs)
					return
				}
				// For a wipe: the bot's own messages. One on its way while the chat was wiped
				// is deleted at once: the wipe could not know its id.
				ctx := context.Background()
				stale, err := b.Remember(ctx, "telegram", chatID, msgIDs, queued)
				if err != nil {
					log.Warn("telegram: message ids not remembered for a wipe", "err", err)
				}
				if stale {
					if err := tg.Delete(ctx, chatID, msgIDs); err != nil {
						log.Warn("telegram: a message sent during a wipe was not deleted", "err", err)
					}
				}
			},
			Outbox: bot.NewOutbox(rdb, cfg.RedisPrefix, "telegram", key),
		}, handler)
		if err != nil {
			return fmt.Errorf("telegram: %w", err)
		}
		people["telegram"] = tg
		// Telegram down, or the token refused, stops nothing else: Run tries again meanwhile.
		ops.parts = append(ops.parts, readyPart{"telegram", func(context.Context) error { return tg.Ready() }, true})
		bcfg.Wipers["telegram"] = tg
		if cfg.TelegramMode == "webhook" {
			u, _ := url.Parse(cfg.TelegramHookURL)
			mux.Handle("POST "+cmp.Or(u.Path, "/"), tg)
		}
	} else {
		log.Info("FAROS_TELEGRAM_TOKEN is empty: Telegram is off")
	}

	ln, err := listen("FAROS_HTTP_ADDR", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	opsLn, err := listen("FAROS_OPS_ADDR", cfg.OpsAddr)
	if err != nil {
		ln.Close()
		return err
	}
	opsSrv := &http.Server{Handler: opsMux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second,
		WriteTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	srv := &http.Server{
		Handler: guard(mux, reg, log),
		// A client that sends slowly, or not at all, holds a connection and its memory: each
		// phase has a deadline. An event stream outlives them: net/http stops the read deadline
		// once the body is read, and the stream sets its own write deadlines.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second, // a reply may wait for a counsellor's Telegram send
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10, // the request line included: a 1 MB path gets 431
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { chat.Close() }) // open event streams would hold Shutdown
	log.Info("listening", "addr", ln.Addr().String(), "web_chat", webChatURL(ln.Addr()), "ops", opsLn.Addr().String())
	sv := &service{cfg: cfg, log: log, srv: srv, ln: ln, ops: ops, opsSrv: opsSrv, opsLn: opsLn, chat: chat, b: b, desk: desk, tg: tg, roster: &current, hub: hub}
	if hub != nil {
		if sv.browser, sv.deskAuth, err = newDeskServer(cfg, rdb, key, desk, hub, deskPhones, &current, b, log); err != nil {
			ln.Close()
			opsLn.Close()
			return err
		}
		if sv.deskLn, err = listen("FAROS_DESK_ADDR", cfg.DeskAddr); err != nil {
			ln.Close()
			opsLn.Close()
			return err
		}
		sv.deskSrv = &http.Server{Handler: sv.browser.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
			IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		sv.deskSrv.RegisterOnShutdown(sv.browser.Close) // open event streams would hold Shutdown
		log.Info("desk listening", "addr", sv.deskLn.Addr().String(), "url", cfg.DeskURL)
	}
	return sv.serve(ctx)
}

// service is what run built: nothing of it runs until serve.
type service struct {
	cfg    *config
	log    *slog.Logger
	srv    *http.Server
	ln     net.Listener
	ops    *opsDoor     // readiness, which says "stopping" once the stop begins
	opsSrv *http.Server // /readyz and /metrics, off the public listener
	opsLn  net.Listener
	chat   *webhook.Chat
	b      *bot.Bot
	desk   *handoff.Desk     // nil without a roster
	tg     *telegram.Channel // nil without a token
	roster *atomic.Pointer[roster.Roster]
	// The counsellors' desk in the browser; nil without FAROS_DESK_URL.
	hub      *deskweb.Hub
	browser  *deskweb.Server
	deskAuth *auth.Auth
	deskSrv  *http.Server
	deskLn   net.Listener
}

// serve starts every loop of the service, waits for ctx to end (SIGTERM) or a loop to fail,
// then stops in order. When it returns, every goroutine it started has returned.
func (s *service) serve(ctx context.Context) error {
	// The intake: what receives messages, reloads, and the desk's queue reader.
	intakeCtx, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	failed := make(chan error, 1) // the first loop to fail stops the service
	var intake, delivery sync.WaitGroup
	loop := func(wg *sync.WaitGroup, f func() error) {
		wg.Go(func() {
			if err := f(); err != nil {
				select {
				case failed <- err:
				default:
				}
			}
		})
	}
	if s.tg != nil { // the queue first: everything after may send
		loop(&delivery, func() error { return s.tg.Deliver(context.WithoutCancel(ctx)) })
	}
	reloaded := make(chan struct{}, 1)
	loop(&intake, func() error { return s.chat.Run(intakeCtx) })
	loop(&intake, func() error { return watchContent(intakeCtx, s.cfg, s.b, s.log, reloaded) })
	if s.desk != nil {
		loop(&intake, func() error { return s.desk.Run(intakeCtx) })
		var removed func(ctx context.Context, id string)
		if s.deskAuth != nil {
			removed = func(ctx context.Context, id string) {
				if _, err := s.deskAuth.Revoke(ctx, id); err != nil {
					s.log.Error("desk: the sign-in of an operator who left the roster was not deleted", "operator", id, "err", err)
				}
			}
		}
		loop(&intake, func() error { return watchRoster(intakeCtx, s.cfg.Roster, s.roster, s.desk, removed, s.log) })
	}
	if s.tg != nil {
		loop(&intake, func() error { return s.tg.Run(intakeCtx) })
		loop(&intake, func() error { return showSurfaces(intakeCtx, s.tg, s.b, s.log, reloaded) })
	}
	loop(&intake, func() error {
		if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	// The desk's pokes go on until the end: the work finished during the stop pokes too.
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHub()
	var hubDone sync.WaitGroup
	if s.deskSrv != nil {
		loop(&hubDone, func() error { return s.hub.Run(hubCtx) })
		loop(&intake, func() error {
			if err := s.deskSrv.Serve(s.deskLn); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	var opsDone sync.WaitGroup // the ops listener stays up to the end: the drain is measured
	loop(&opsDone, func() error {
		if err := s.opsSrv.Serve(s.opsLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-failed:
	}
	s.log.Info("stopping: finishing messages in flight and the outbound queue")
	s.ops.stopping.Store(true) // not ready: the balancer sends no more
	// Messages being handled finish on a context that the stop does not cancel, within the
	// grace period; whatever is still queued after it stays in the outbox for another instance.
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	stopIntake()                                    // no more polling, reloads or reading of the desk's queue
	if err := s.srv.Shutdown(stopCtx); err != nil { // the webhooks and the web chat's requests in flight
		s.log.Warn("http shutdown", "err", err)
		s.srv.Close() // past the grace period: their contexts end
	}
	if s.deskSrv != nil {
		if err := s.deskSrv.Shutdown(stopCtx); err != nil { // counsellors' requests in flight
			s.log.Warn("desk shutdown", "err", err)
			s.deskSrv.Close()
		}
	}
	if s.tg != nil {
		s.tg.Stop(stopCtx) // the polled updates in flight, their replies queued
	}
	intake.Wait()
	if s.desk != nil {
		s.desk.Drain(stopCtx) // its messages to counsellors' phones, queued before the channel closes
	}
	stopHub() // its last pokes published
	hubDone.Wait()
	if s.tg != nil {
		if err := s.tg.Close(stopCtx); err != nil { // what is left stays in the outbox
			s.log.Warn("telegram queue not flushed", "err", err)
		}
	}
	delivery.Wait()
	s.opsSrv.Close()
	opsDone.Wait()
	s.log.Info("stopped")
	if errors.Is(runErr, context.Canceled) { // a loop that saw the stop before serve did
		runErr = nil
	}
	return runErr
}

func level(s string) slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(s))
	return l
}

// webChatURL is where a person on this machine opens the web chat.
func webChatURL(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// lateHandler and lateSender reach a bot or a channel made after the one that holds them.
type lateHandler struct{ b **bot.Bot }

func (h lateHandler) Handle(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
	return (*h.b).Handle(ctx, m)
}

// latePhones reaches operators through the Telegram channel, made after the desk.
type latePhones struct{ tg **telegram.Channel }

var errNoTelegram = errors.New("no Telegram channel: FAROS_TELEGRAM_TOKEN is empty")

// Present says whether Telegram is on at all: without a token (a roster for the desk alone), a
// counsellor of the roster with a telegram_id is not on call, and nobody is promised them.
// Telegram down is another matter: their messages wait in the outbox.
func (p latePhones) Present(context.Context, string) bool { return *p.tg != nil }

func (p latePhones) Send(ctx context.Context, chatID string, replies []bot.Reply) error {
	if *p.tg == nil {
		return errNoTelegram
	}
	return (*p.tg).Send(ctx, chatID, replies)
}

func (p latePhones) Copy(ctx context.Context, toChat, fromChat, msgID, tag string) error {
	if *p.tg == nil {
		return errNoTelegram
	}
	return (*p.tg).Copy(ctx, toChat, fromChat, msgID, tag)
}

func (p latePhones) Delete(ctx context.Context, chatID string, msgIDs []string) error {
	if *p.tg == nil {
		return errNoTelegram
	}
	return (*p.tg).Delete(ctx, chatID, msgIDs)
}
