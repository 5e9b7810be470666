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
	"golang.org/x/text/language"

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
	if keys, _ := r.Keys(ctx); !hasSuffix(keys, ":conv") {
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
		keys := r.Conversations(ctx)
		if len(keys) == 0 {
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

// TestScreeningInBrowserRightToLeft walks a whole screening in the web chat, in Chromium on a
// 320-pixel phone, in every language, answering by question id: each reaches the tier 2
// result in its language, which runs right to left in a language written so (Urdu).
func TestScreeningInBrowserRightToLeft(t *testing.T) {
	browser := browsertest.Start(t, 60*time.Second)
	in := start(t, redistest.New(t), nil)
	sc := shippedScreen(t)
	for _, lang := range sc.Catalog.Languages() {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		press := func(data string) {
			t.Helper()
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.Search(`(//div[@id='log']/div[contains(@class,'choices')])[last()]//button[@data-choice='`+data+`']`))); err != nil {
				t.Fatalf("%s: press %s: %v", lang, data, err)
			}
		}
		last := func() []string { // the data of the last question's buttons
			data, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...(([...document.querySelectorAll('#log .choices')].pop() || document.createElement('div')).querySelectorAll('button'))].map(b => b.dataset.choice)`))
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
		next := func(prev string) string { // the question asked after prev, once its buttons show
			t.Helper()
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if data := last(); len(data) > 0 {
					if q, _, _ := strings.Cut(data[0], "/"); q != prev {
						return q
					}
				}
			}
			t.Fatalf("%s: no question after %q: %v", lang, prev, last())
			return ""
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(320, 640), chromedp.Navigate("http://"+in.addr+"/")); err != nil {
			t.Fatal(err)
		}
		q := next("")
		press(q + "/" + lang)
		q = next(q)
		press(q + "/safe")
		q = next(q)
		press(q + "/check")
		answers := map[string]string{"promise": "yes", "threats": "yes"}
		for q = next(q); sc.isScreening(q); q = next(q) {
			press(q + "/" + sc.answer(q, answers))
		}
		want := sc.likelyLine(lang)
		dir, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const m = [...document.querySelectorAll('#log .msg .line')].find(e => e.textContent.replace(/[\u200e\u200f]/g, '').includes(`+fmt.Sprintf("%q", strings.NewReplacer("\u200e", "", "\u200f", "").Replace(want))+`)); return m ? getComputedStyle(m).direction : 'none' })()`))
		if err != nil || dir == "none" {
			t.Fatalf("%s: no tier 2 result %q on the page (%v)", lang, want, err)
		}
		script, _ := language.Make(lang).Script()
		if rtl := script.String() == "Arab"; (dir == "rtl") != rtl {
			t.Errorf("%s: the result runs %s", lang, dir)
		}
		cancel()
	}
}
