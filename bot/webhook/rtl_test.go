package webhook_test

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/bot/webhook"
	"github.com/faros-project/faros/flows"
	"github.com/faros-project/faros/internal/browsertest"
	"github.com/faros-project/faros/internal/content"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/locales"
)

// The test languages' texts: copies of en.yaml with these messages translated. Urdu is
// written right to left; its lines carry numbers and /commands, which must read as typed.
var (
	urdu = map[string]string{
		"language_name":    "اردو",
		"language_name_el": "Ούρντου", "language_name_en": "Urdu",
		"language_prompt": "اپنی زبان منتخب کریں:",
		"welcome_hello":   "السلام علیکم۔ یہ یونان میں کام، حقوق اور مدد کے بارے میں ایک مفت اور رازدارانہ چیٹ ہے۔\nآپ کو اپنا نام بتانے کی ضرورت نہیں۔",
		"safety_question": urduEmergency + "\n" + urduStop + "\nپہلے: کیا ابھی بات کرنا آپ کے لیے محفوظ ہے؟ کیا اس فون پر کوئی اور پیغامات پڑھتا ہے؟",
		"choice_safe":     "محفوظ ہے",
		"choice_unsafe":   "کوئی پڑھ سکتا ہے",
		"choice_leave":    "ابھی نکلیں",
		"not_understood":  "معاف کیجیے، میں سمجھ نہیں سکا۔ کوئی جواب چنیں، یا فون نمبروں کے لیے /help لکھیں۔ خطرے میں ہوں تو 112 پر کال کریں۔",
		"web_exit":        "فوری باہر نکلیں",
		"web_not_sent":    "نہیں بھیجا گیا، دوبارہ کوشش کریں۔ خطرے میں: 112۔ مدد: 1109، 197۔",
		"web_needs_js":    "اس چیٹ کے لیے جاوا اسکرپٹ ضروری ہے",
		"web_message":     "پیغام",
		"web_send":        "بھیجیں",
	}
	bengali = map[string]string{
		"language_name":    "বাংলা",
		"language_name_el": "Βεγγαλικά", "language_name_en": "Bengali",
		"language_prompt": "আপনার ভাষা বেছে নিন:",
		"choice_leave":    "এখনই চলে যান",
	}
)

// urduEmergency is "For an emergency call 112 or type /help": a right-to-left line with a
// number and a command in it; urduStop, "/stop ends the conversation at any time", begins
// with a command.
const (
	urduEmergency = "ایمرجنسی کے لیے 112 پر کال کریں یا /help لکھیں"
	urduStop      = "/stop لکھ کر کسی بھی وقت بات ختم کریں۔"
)

// logShows is JavaScript that is true when the log shows s (rtlHelpers defined).
func logShows(s string) string { return `rtl.el('#log', ` + jsString(s) + `) !== undefined` }

// rtlContent is the shipped content with two more languages, Bengali and Urdu (whatever the
// shipped files say of them): six, one of them written right to left.
func rtlContent(t *testing.T) (*bot.Content, []webhook.PageText) {
	t.Helper()
	msgs := fstest.MapFS{}
	err := fs.WalkDir(locales.Files, ".", func(path string, d fs.DirEntry, err error) error {
		// The six languages this test is about: an editor's seventh may need the question to
		// scroll on a small phone, and would fail the test for what it is not about.
		if err != nil || d.IsDir() || !slices.Contains([]string{"el.yaml", "en.yaml", "fr.yaml", "sq.yaml"}, path) {
			return err
		}
		b, err := fs.ReadFile(locales.Files, path)
		msgs[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	en := msgs["en.yaml"].Data
	msgs["ur.yaml"] = &fstest.MapFile{Data: translated(t, en, urdu)}
	msgs["bn.yaml"] = &fstest.MapFile{Data: translated(t, en, bengali)}
	e, cat, err := content.Load(content.Source{Flows: flows.Files, Locales: msgs, FlowsDir: "flows", LocalesDir: "locales"})
	if err != nil {
		t.Fatalf("the test content: %v", err)
	}
	var page []webhook.PageText
	for _, l := range cat.Languages() {
		page = append(page, webhook.PageText{Lang: l, Exit: cat.Render(l, "web_exit", nil), NotSent: cat.Render(l, "web_not_sent", nil),
			NeedsJS: cat.Render(l, "web_needs_js", nil), Message: cat.Render(l, "web_message", nil), Send: cat.Render(l, "web_send", nil)})
	}
	return &bot.Content{Engine: e, Catalog: cat}, page
}

// translated is message file en with the texts of some messages replaced.
func translated(t *testing.T, en []byte, texts map[string]string) []byte {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(en, &doc); err != nil {
		t.Fatal(err)
	}
	top := doc.Content[0]
	left := len(texts)
	for i := 0; i+1 < len(top.Content); i += 2 {
		if text, ok := texts[top.Content[i].Value]; ok {
			top.Content[i+1].Value, top.Content[i+1].Style = text, yaml.DoubleQuotedStyle
			left--
		}
	}
	if left != 0 {
		t.Fatalf("en.yaml lacks some of %v", texts)
	}
	b, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The page's checks, in JavaScript.
const (
	// rtlHelpers defines, once per page, what the checks below use.
	rtlHelpers = `window.rtl = {
  // s without the invisible marks of direction, which the server may put in
  clean: s => s.replace(/[\u200e\u200f\u061c\u2066-\u2069]/g, ''),
  // the element of sel whose text includes s
  el: (sel, s) => [...document.querySelectorAll(sel)].find(e => rtl.clean(e.textContent).includes(s)),
  dir: (sel, s) => getComputedStyle(rtl.el(sel, s)).direction,
  // where characters from to to of s show, in the element of sel that holds s
  box: (sel, s, from, to) => {
    const walk = document.createTreeWalker(rtl.el(sel, s), NodeFilter.SHOW_TEXT);
    const chars = []; // each character but the marks: its node and offset
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      for (let i = 0; i < n.length; i++) if (rtl.clean(n.data[i])) chars.push([n, i]);
    }
    const start = chars.map(([n, i]) => n.data[i]).join('').indexOf(s);
    const [last, i] = chars[start + to - 1];
    const r = document.createRange();
    r.setStart(...chars[start + from]);
    r.setEnd(last, i + 1);
    return r.getBoundingClientRect();
  },
  // the middle of characters from to to of s, from the left
  x: (sel, s, from, to) => (r => (r.left + r.right) / 2)(rtl.box(sel, s, from, to)),
  // the edges of the box in which an element's lines go
  content: e => {
    const r = e.getBoundingClientRect(), cs = getComputedStyle(e);
    return {left: r.left + parseFloat(cs.borderLeftWidth) + parseFloat(cs.paddingLeft),
      right: r.right - parseFloat(cs.borderRightWidth) - parseFloat(cs.paddingRight)};
  },
  exit: () => JSON.stringify(document.getElementById('exit').getBoundingClientRect()),
};
true`
	// noOverflow: nothing goes sideways on the page, in a message or on a button, and
	// nothing sticks out of the viewport.
	noOverflow = `(() => {
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth || root.clientWidth !== 320) return false;
  for (const e of document.querySelectorAll('header, header *, main, .msg, .choices, .choices button, .status, form, form *')) {
    const r = e.getBoundingClientRect();
    if (e.scrollWidth > e.clientWidth || r.left < 0 || r.right > 320) return false;
  }
  return true;
})()`
	// oneScreen: the question and all its answers show at once, without scrolling.
	oneScreen = `(() => {
  const main = document.querySelector('main'), m = main.getBoundingClientRect();
  if (main.scrollHeight > main.clientHeight) return false;
  return [...document.querySelectorAll('#log .msg, #log button')].every(e => {
    const r = e.getBoundingClientRect();
    return r.top >= m.top && r.bottom <= m.bottom;
  });
})()`
)

// TestBrowserRightToLeft has a conversation in Urdu, written right to left, on a 320-pixel
// phone, with the real flows and six languages: the language question fits on one screen,
// each language named in its own; Urdu messages and answers run right to left, English ones
// left to right, and so does the text box with what is typed in it; "112" and "/help" read as
// typed inside Urdu lines; nothing goes sideways; the quick exit stays in its corner, and
// works.
func TestBrowserRightToLeft(t *testing.T) {
	browserCtx := browsertest.Start(t, 45*time.Second)
	rdb := redistest.New(t)
	c, page := rtlContent(t)
	b, err := bot.New(bot.Config{Redis: rdb.Client, Prefix: rdb.Prefix, Content: c})
	if err != nil {
		t.Fatal(err)
	}
	exitSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><title>Weather</title><p id="neutral">Sunny, 24 °C</p>`)
	}))
	defer exitSrv.Close()
	chat, err := webhook.NewChat(webhook.ChatConfig{Handler: b, Conversations: b, Page: page, ExitURL: exitSrv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	defer chat.Close()
	srv := httptest.NewServer(chat)
	defer srv.Close()

	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	console := collectConsole(ctx)
	button := func(label string) chromedp.Search {
		return chromedp.Search(`//div[@id='log']//button[normalize-space()='` + label + `']`)
	}
	screenshot := screenshots(t, ctx)

	// The language question: six languages, each in its own name and script, on one screen.
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(320, 640),
		chromedp.Navigate(srv.URL),
		waitFor(t, logHas(urdu["language_prompt"])),
		chromedp.Evaluate[chromedp.Void](rtlHelpers),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot("language")
	labels, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#log .choices button')].map(e => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Ελληνικά", "English", "Français", "Shqip", "اردو", "বাংলা"}
	if len(labels) != len(want)+1 || !cmp.Equal(labels[:len(want)], want, cmpopts.SortSlices(func(a, b string) bool { return a < b })) {
		t.Errorf("the language question's buttons are %q; want %q and leave now", labels, want)
	}
	exitAt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`rtl.exit()`))
	if err != nil {
		t.Fatal(err)
	}
	sameExit := `rtl.exit() === ` + jsString(exitAt)
	prompt := `rtl.el('#log .msg', ` + jsString(urdu["language_prompt"]) + `)`
	evalTrue(t, ctx, "the language question", noOverflow, oneScreen,
		// each line of the question takes its own direction: the Urdu one ends on the right,
		// the Bengali one starts on the left
		`Math.abs(rtl.box('#log .msg', `+jsString(urdu["language_prompt"])+`, 0, `+jsLen(urdu["language_prompt"])+`).right - rtl.content(`+prompt+`).right) < 1`,
		`Math.abs(rtl.box('#log .msg', `+jsString(bengali["language_prompt"])+`, 0, 4).left - rtl.content(`+prompt+`).left) < 1`,
		`rtl.dir('#log button .line', 'اردو') === 'rtl' && rtl.dir('#log button .line', 'English') === 'ltr'`,
	)

	// In Urdu: right to left, with "112" and "/help" as typed.
	err = chromedp.Do(ctx,
		chromedp.Click(button("اردو")),
		waitFor(t, logShows(urduEmergency)),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot("urdu")
	line := jsString(urduEmergency)
	at := func(s string) string { // the characters of s in the line, as from, to
		i := strings.Index(urduEmergency, s)
		return jsLen(urduEmergency[:i]) + ", " + jsLen(urduEmergency[:i+len(s)])
	}
	evalTrue(t, ctx, "in Urdu", noOverflow, sameExit,
		`rtl.dir('#log .line', `+line+`) === 'rtl'`,
		`rtl.dir('#log .line', 'السلام علیکم') === 'rtl'`,
		`rtl.dir('#log button .line', `+jsString(urdu["choice_safe"])+`) === 'rtl'`,
		`rtl.dir('#log button .line', 'I am not sure') === 'ltr'`, // not translated
		`rtl.el('#log .msg', `+line+`).lang === 'ur'`,             // for fonts and screen readers
		// the line starts on the right, and so does the next, which begins with /stop
		`Math.abs(rtl.box('#log .msg', `+line+`, 0, 3).right - rtl.content(rtl.el('#log .msg', `+line+`)).right) < 1`,
		`Math.abs(rtl.box('#log .msg', `+jsString(urduStop)+`, 0, 5).right - rtl.content(rtl.el('#log .msg', `+line+`)).right) < 1`,
		`rtl.x('#log .msg', `+jsString(urduStop)+`, 0, 1) < rtl.x('#log .msg', `+jsString(urduStop)+`, 1, 2)`,
		// 112 reads 1, 1, 2 from the left; the slash comes before "help"; and, the line
		// being read from the right, 112 comes before /help (or on a line above)
		`rtl.x('#log .msg', `+line+`, `+at("1")+`) < rtl.x('#log .msg', `+line+`, `+at("2")+`)`,
		`rtl.x('#log .msg', `+line+`, `+at("/")+`) < rtl.x('#log .msg', `+line+`, `+at("h")+`)`,
		`((a, b) => Math.abs(a.top - b.top) < 2 ? a.left >= b.right - 1 : a.bottom <= b.top + 1)(rtl.box('#log .msg', `+line+`, `+at("112")+`), rtl.box('#log .msg', `+line+`, `+at("/help")+`))`,
	)

	// The text box takes the direction of what is typed in it; a message typed in Urdu goes
	// right to left, and so does the answer (in Urdu, with /help and 112 in it).
	typed := "میں ابھی سوچ رہا ہوں"
	const textDir = `getComputedStyle(document.getElementById('text')).direction`
	clearText := chromedp.Evaluate[chromedp.Void](`document.getElementById('text').value = ''`)
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("text"), typed),
		waitFor(t, textDir+` === 'rtl'`),
		clearText,
		chromedp.SendKeys(chromedp.ID("text"), "hello"),
		waitFor(t, textDir+` === 'ltr'`),
		clearText,
		chromedp.SendKeys(chromedp.ID("text"), typed),
		waitFor(t, textDir+` === 'rtl'`),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot("typing")
	evalTrue(t, ctx, "typing in Urdu", noOverflow, `document.getElementById('text').matches(':dir(rtl)')`)
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("text"), kb.Enter),
		waitFor(t, logShows("معاف کیجیے")),
	)
	if err != nil {
		t.Fatal(err)
	}
	evalTrue(t, ctx, "after a message in Urdu", noOverflow, sameExit,
		`rtl.dir('#log .me', `+jsString(typed)+`) === 'rtl'`,
		`rtl.dir('#log .line', 'معاف کیجیے') === 'rtl'`,
		textDir+` === 'ltr'`, // empty again
	)

	// Words not yet translated are English, left to right, among the Urdu ones.
	err = chromedp.Do(ctx,
		chromedp.Click(button(urdu["choice_safe"])),
		waitFor(t, logShows("Good to know:")),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot("mixed")
	evalTrue(t, ctx, "English in an Urdu conversation", noOverflow, sameExit,
		`rtl.dir('#log .line', 'Good to know:') === 'ltr'`,
		`rtl.dir('#log .me', `+jsString(urdu["choice_safe"])+`) === 'rtl'`,
	)
	// The quick exit keeps its corner even on a page set right to left as a whole.
	evalTrue(t, ctx, "on a right-to-left page",
		`(() => { document.documentElement.dir = 'rtl'; const same = `+sameExit+`; document.documentElement.removeAttribute('dir'); return same; })()`)
	for _, m := range console.messages() {
		t.Errorf("console: %s", m)
	}

	// And Esc leaves.
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape), chromedp.WaitVisible(chromedp.ID("neutral"))); err != nil {
		t.Fatalf("quick exit: %v", err)
	}
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// jsLen is the length of s in JavaScript, in UTF-16 code units.
func jsLen(s string) string {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return strconv.Itoa(n)
}

// screenshots returns a function that saves a PNG of the page, 320 by 640 CSS pixels, named
// for the moment, in FAROS_TEST_SCREENSHOTS, a directory; without it, nothing is saved.
func screenshots(t *testing.T, ctx context.Context) func(name string) {
	dir := os.Getenv("FAROS_TEST_SCREENSHOTS")
	return func(name string) {
		if dir == "" {
			return
		}
		// At three device pixels to the CSS pixel, as on a phone: the letters can be read.
		err := chromedp.Do(ctx, chromedp.EmulateViewport(320, 640, chromedp.EmulateScale(3)))
		var png []byte
		if err == nil {
			png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
		}
		if err == nil {
			err = chromedp.Do(ctx, chromedp.EmulateViewport(320, 640))
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "-")+"-"+name+".png"), png, 0o644)
		}
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}
