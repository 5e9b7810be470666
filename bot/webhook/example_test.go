package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/webhook"
)

// A system that talks to Faros signs each request with the shared secret.
func ExampleSign() {
	body := []byte(`{"conversation": "case-4711", "text": "/start", "language": "fr"}`)
	ts := strconv.FormatInt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Unix(), 10)

	req, _ := http.NewRequest(http.MethodPost, "https://faros.example"+webhook.APIPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Faros-Timestamp", ts)
	req.Header.Set("X-Faros-Signature", webhook.Sign([]byte("shared secret"), ts, body))

	fmt.Println(req.Header.Get("X-Faros-Timestamp"))
	fmt.Println(req.Header.Get("X-Faros-Signature"))
	// Output:
	// 1767323045
	// sha256=3a492385c00b56660d70ffcbe5d570c11ff3913a8641a37015e101f7db3da62f
}

// The service mounts the web chat at "/" and the signed API at APIPath, runs the chat (which
// hands its pages what other instances keep for them) and ends the chat's event streams when
// it shuts down.
func Example() {
	var handler bot.Handler = &fakeHandler{} // the service's *bot.Bot
	chat, err := webhook.NewChat(webhook.ChatConfig{
		Handler: handler,
		ExitURL: "https://www.google.com/",
		// In the service: Conversations: the *bot.Bot, Inbox: bot.NewInbox(rdb, prefix, "web",
		// pseudonymKey), and ClientAddrHeader: "X-Forwarded-For" behind its own proxy.
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go chat.Run(ctx) // the service waits for it when it stops
	api, err := webhook.New(webhook.Config{Secret: []byte("shared secret"), Handler: handler, CallbackURL: "https://partner.example/faros"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", chat)
	mux.Handle(webhook.APIPath, api)
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(func() { chat.Close() })
	_ = srv // srv.ListenAndServe()
}
