package webhook_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/internal/testkit"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	api, err := webhook.New(webhook.Config{Secret: secret, Handler: &fakeHandler{}, Registerer: reg, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	chat, err := webhook.NewChat(webhook.ChatConfig{Handler: &fakeHandler{}, Registerer: reg, KeepAlive: time.Hour})
	if err != nil {
		t.Fatalf("NewChat on the API's registry: %v", err)
	}
	defer chat.Close()

	post(api, `{"conversation": "c", "text": "hi"}`, now)
	post(api, `{"conversation": "c", "text": "hi"}`, now.Add(time.Hour))
	api.Send(t.Context(), "c", sampleReplies) // no callback URL: fails

	srv := startServer(t, chat)
	ctx, disconnect := context.WithCancel(t.Context())
	_, events := openStream(t, ctx, srv.URL)
	readEvent(t, events)
	chat.Send(t.Context(), conversation, sampleReplies)
	chat.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	postChat(chat, "/chat/messages", `{}`)

	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"faros_api_requests_total", []string{"status", "200"}, 1},
		{"faros_api_requests_total", []string{"status", "401"}, 1},
		{"faros_api_pushes_total", []string{"result", "failed"}, 1},
		{"faros_api_pushes_total", []string{"result", "delivered"}, 0},
		{"faros_webchat_requests_total", []string{"status", "200"}, 1},
		{"faros_webchat_requests_total", []string{"status", "400"}, 1},
		{"faros_webchat_pushes_total", []string{"result", "delivered"}, 1},
		{"faros_webchat_streams", nil, 1},
	}
	for _, tt := range tests {
		if got := testkit.Metric(t, reg, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v; want %v", tt.name, tt.labels, got, tt.want)
		}
	}

	disconnect()
	eventually(t, "faros_webchat_streams 0", func() bool { return testkit.Metric(t, reg, "faros_webchat_streams") == 0 })
	if got := testkit.Metric(t, reg, "faros_webchat_requests_total", "status", "200"); got != 2 {
		t.Errorf("faros_webchat_requests_total{status=200} after the stream ended = %v; want 2", got)
	}
}
