package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/faros-project/faros/internal/browsertest"
	"github.com/faros-project/faros/internal/redistest"
)

// TestWebChatInBrowser talks to the real service in headless Chromium: the language, the
// safety check and a screening answer; then Esc leaves for the neutral page, the
// conversation is wiped in Redis, and the browser keeps nothing.
func TestWebChatInBrowser(t *testing.T) {
	browser := browsertest.Start(t, 30*time.Second)
	neutral := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>Weather</title><p>Sunny, 21°C</p>")
	}))
	defer neutral.Close()
	r := redistest.New(t)
	in := start(t, r, map[string]string{"FAROS_EXIT_URL": neutral.URL + "/"}, "Are you in danger right now")

	ctx := browser
	button := func(label string) chromedp.Search {
		return chromedp.Search(`//button[normalize-space()='` + label + `']`)
	}
	if err := chromedp.Do(browser,
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate("http://"+in.addr+"/"),
		chromedp.Click(button("English")),
		chromedp.Click(button("It is safe")),
		chromedp.Click(button("Answer some questions about my situation")),
		chromedp.Click(button("No")),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(text(), 'Are you in danger right now')]`)),
	); err != nil {
		t.Fatalf("the conversation in the browser: %v", err)
	}
	if keys, _ := r.Keys(ctx); !hasSuffix(keys, ":session") {
		t.Fatalf("no session in Redis during the conversation: %v", keys)
	}

	if err := chromedp.Do(browser, chromedp.KeyEvent(kb.Escape), chromedp.WaitVisible(chromedp.Search(`//p[contains(text(), 'Sunny')]`))); err != nil {
		t.Fatalf("Esc: %v", err)
	}
	location, err := chromedp.Run(browser, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	html, err := chromedp.Run(browser, chromedp.OuterHTML("html"))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := chromedp.Run(browser, chromedp.Evaluate[string](`localStorage.length + "/" + sessionStorage.length + "/" + document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	if location != neutral.URL+"/" {
		t.Errorf("after Esc the browser is at %s; want the neutral page", location)
	}
	if strings.Contains(html, "danger") || stored != "0/0/" {
		t.Errorf("after Esc the page holds %q and storage %q; want nothing of the conversation", html, stored)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		keys, _ := r.Keys(ctx)
		if !hasSuffix(keys, ":session") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session is still in Redis after the quick exit: %v", keys)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasSuffix(keys []string, suffix string) bool {
	for _, k := range keys {
		if strings.HasSuffix(k, suffix) {
			return true
		}
	}
	return false
}
