package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"

	"github.com/faros-project/faros/bot/telegram/telegramtest"
	"github.com/faros-project/faros/internal/browsertest"
	"github.com/faros-project/faros/internal/redistest"
)

// The counsellors' desk in the browser, end to end: the real service (run) with its desk
// listener on http://localhost:PORT (WebAuthn needs a host name, and localhost is a secure
// context), Chromium driven over CDP with one browser context per counsellor (so each has
// their own cookie), counsellors invited as `faros operators invite ID` does, and people who
// consent on the fake Telegram or in the web chat. With FAROS_DESK_SCREENSHOTS set to a
// directory, TestDeskCannedReplyShowsItsGreekOnAShift writes docs' pictures there.

// deskRoster has three counsellors at the desk only (maria supervises) and eleni on Telegram,
// all on call all day.
const deskRoster = `timezone: Europe/Athens
operators:
  - {id: maria, alias: {el: "Μαρία", en: "Maria", fr: "Maria", sq: "Maria"}, languages: [el, en, fr], max_cases: 6, supervisor: true}
  - {id: nikos, alias: {el: "Νίκος", en: "Nikos", fr: "Nikos", sq: "Nikos"}, languages: [el, en, sq], max_cases: 6}
  - {id: sofia, alias: {el: "Σοφία", en: "Sofia"}, languages: [el, en], max_cases: 2}
  - {id: eleni, telegram_id: 503, alias: {el: "Ελένη", en: "Eleni"}, languages: [el, en], max_cases: 6}
shifts:
  - {operator: maria, days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}
  - {operator: nikos, days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}
  - {operator: sofia, days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}
  - {operator: eleni, days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}
referrals:
  - "ΕΚΚΑ: φιλοξενία (197)"
  - "ΕΚΚΑ: κοινωνική"
  - "A21 (1109)"
`

var deskAliases = map[string]string{"maria": "Μαρία", "nikos": "Νίκος", "sofia": "Σοφία", "eleni": "Ελένη"}

// eleniChat is eleni's Telegram chat: her user id.
const eleniChat = 503

// deskKey is FAROS_PSEUDONYM_KEY, for the service and for `faros operators` alike.
const deskKey = "8b0075440a1299edd7eb2490c11e45663fb03878873131e7cbf96f7d2aa55be5"

// deskWorld is one Faros with a desk, its fake Telegram and one Chromium, for one test.
type deskWorld struct {
	t       *testing.T
	in      *instance
	r       *redistest.Redis
	fake    *telegramtest.Server
	origin  string // FAROS_DESK_URL: http://localhost:PORT
	addr    string // FAROS_DESK_ADDR: 127.0.0.1:PORT
	roster  string // the roster file
	env     map[string]string
	browser context.Context
	chats   atomic.Int64 // the last Telegram person's chat id

	mu      sync.Mutex
	secrets []string // what neither Redis nor the log may hold, checked when the test ends
}

// startDeskWorld starts Faros with a desk on a free port and a Chromium; when the test ends
// Chromium goes first, then Faros stops, and neither Redis nor the log may hold a secret.
func startDeskWorld(t *testing.T) *deskWorld {
	t.Helper()
	browsertest.Require(t) // before Faros starts: without a browser there is nothing to do
	port := deskPort(t)
	w := &deskWorld{t: t, r: redistest.New(t), fake: telegramtest.New(t), roster: filepath.Join(t.TempDir(), "roster.yaml"),
		origin: fmt.Sprintf("http://localhost:%d", port), addr: fmt.Sprintf("127.0.0.1:%d", port)}
	w.writeRoster(deskRoster)
	w.env = map[string]string{
		"FAROS_TELEGRAM_TOKEN": token, "FAROS_TELEGRAM_API": w.fake.URL(), "FAROS_ROSTER": w.roster,
		"FAROS_DESK_URL": w.origin, "FAROS_DESK_ADDR": w.addr, "FAROS_PSEUDONYM_KEY": deskKey,
	}
	// Registered before start: it runs after Faros stopped (cleanups run last first), with
	// the secrets the test found on its way (chat ids, texts, the password and TOTP secret).
	t.Cleanup(func() {
		if w.in != nil && !t.Failed() {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.in.checkPrivacy(t, w.secrets)
		}
	})
	w.in = start(t, w.r, w.env, token, deskKey)
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(w.in.log.String(), `"msg":"desk listening"`); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the desk did not listen:\n%s", w.in.log)
		}
	}
	w.chats.Store(7600)
	w.browser = browsertest.Start(t, 90*time.Second)
	return w
}

// deskPort is a free loopback port for the desk, which must be known before Faros starts
// (its origin is in FAROS_DESK_URL). It is below Linux's ephemeral range (32768 and up), where
// a port found free could be taken, before Faros listens, by any connection another test
// opens: that happened once in CI.
func deskPort(t *testing.T) int {
	t.Helper()
	for range 100 {
		port := 20000 + mrand.IntN(12000)
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port for the desk between 20000 and 32000")
	return 0
}

func (w *deskWorld) writeRoster(text string) {
	w.t.Helper()
	if err := os.WriteFile(w.roster, []byte(text), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// secret adds texts that neither Redis nor the log may hold.
func (w *deskWorld) secret(texts ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.secrets = append(w.secrets, texts...)
}

// operators runs `faros operators ARGS` with the service's settings and returns what it
// printed.
func (w *deskWorld) operators(args ...string) string {
	w.t.Helper()
	vars := map[string]string{"FAROS_REDIS_URL": w.r.URL(), "FAROS_REDIS_PREFIX": w.r.Prefix}
	maps.Copy(vars, w.env)
	var out, errs bytes.Buffer
	if code := operators(context.Background(), args, func(k string) string { return vars[k] }, &out, &errs); code != 0 {
		w.t.Fatalf("faros operators %s: status %d: %s", strings.Join(args, " "), code, errs.String())
	}
	return out.String()
}

var inviteLink = regexp.MustCompile(`(?m)^(http://localhost:[0-9]+/enrol#[A-Za-z0-9_.-]+)$`)

// invite is the link `faros operators invite ID` prints.
func (w *deskWorld) invite(id string) string {
	w.t.Helper()
	out := w.operators("invite", id)
	m := inviteLink.FindStringSubmatch(out)
	if m == nil || !strings.HasPrefix(m[1], w.origin+"/enrol#") {
		w.t.Fatalf("faros operators invite %s printed %q; want a link %s/enrol#TOKEN", id, out, w.origin)
	}
	return m[1]
}

// person is someone on Telegram who answers the screening in lang to the tier and agrees to
// talk to a counsellor: a case opens.
func (w *deskWorld) person(lang string, tier int) *tgChat {
	w.t.Helper()
	c := &tgChat{t: w.t, fake: w.fake, id: w.chats.Add(1)}
	w.secret(strconv.FormatInt(c.id, 10), "lemon tree window", "maria_k")
	c.screenTo(lang, tierAnswers[tier])
	offer := "yes" // tier 2 and 3: the offer of a counsellor; below: "what now?" and a counsellor
	if !slices.ContainsFunc(slices.Collect(maps.Values(c.buttons)), func(d string) bool { return strings.HasSuffix(d, "/yes") }) {
		offer = "person"
	}
	c.press(offer)
	c.press("yes")             // consent
	c.press("ekka")            // scope
	c.say("lemon tree window") // the code word
	return c
}

// webPerson is someone in the web chat who asks for a counsellor from the menu, in lang.
func (w *deskWorld) webPerson(lang string) *webPerson {
	w.t.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	p := &webPerson{t: w.t, in: w.in, id: hex.EncodeToString(b)}
	w.secret(p.id)
	p.send("/start", "")
	p.press(lang)
	p.press("safe")
	p.press("person")
	p.press("yes")
	p.press("ngo")
	p.press("skip")
	return p
}

// texts are the messages a Telegram person got.
func (w *deskWorld) texts(c *tgChat) []string { return w.fake.Texts(c.id) }

// waitText waits up to 5 seconds for the Telegram person to get a message holding want.
func (w *deskWorld) waitText(c *tgChat, what, want string) {
	w.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		for _, got := range w.texts(c) {
			if strings.Contains(got, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the person (chat %d) was not %s: got %q; want a message with %q", c.id, what, w.texts(c), want)
		}
	}
}

// apiStatus is the status of GET /api/board with the session cookie value.
func (w *deskWorld) apiStatus(cookie string) int {
	w.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+w.addr+"/api/board", nil)
	req.AddCookie(&http.Cookie{Name: deskCookie, Value: cookie})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const deskCookie = "__Host-faros-desk"

// deskTab is one counsellor's browser: its own browser context, so its own cookie.
type deskTab struct {
	t     *testing.T
	w     *deskWorld
	ctx   context.Context
	id    string // the counsellor's roster id
	alias string

	mu       sync.Mutex
	requests []string // every URL the page asked for, in order
	streams  int      // desk event streams answered 200
	problems []string // uncaught exceptions, and what the Content-Security-Policy refused
}

// tab opens a browser for counsellor id, at 1280×800, recording its requests and problems.
func (w *deskWorld) tab(id string) *deskTab {
	w.t.Helper()
	ctx, cancel := chromedp.NewContext(w.browser, chromedp.WithNewBrowserContext())
	w.t.Cleanup(cancel)
	tb := &deskTab{t: w.t, w: w, ctx: ctx, id: id, alias: deskAliases[id]}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		w.t.Fatalf("a browser for %s: %v", id, err)
	}
	if err := chromedp.Listen(ctx, tb.record); err != nil {
		w.t.Fatal(err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused to") {
				tb.mu.Lock()
				tb.problems = append(tb.problems, m.String())
				tb.mu.Unlock()
			}
		}
	}()
	w.t.Cleanup(func() { // before the tab closes
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, p := range tb.problems {
			w.t.Errorf("%s's page: %s", id, p)
		}
	})
	return tb
}

// record runs for every event of the tab: it must be quick.
func (tb *deskTab) record(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		tb.requests = append(tb.requests, e.Request.URL)
	case *network.EventResponseReceived:
		if e.Response.URL == tb.w.origin+"/api/events" && e.Response.Status == http.StatusOK {
			tb.streams++
		}
	}
}

func (tb *deskTab) streamCount() int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.streams
}

func (tb *deskTab) asked() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return slices.Clone(tb.requests)
}

func (tb *deskTab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.t.Fatalf("%s's browser: %v", tb.id, err)
	}
}

// deskEval evaluates expr in tb's page (awaiting a promise).
func deskEval[T any](tb *deskTab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s's page: %s: %v", tb.id, expr, err)
	}
	return v
}

// until waits up to 10 seconds for cond, a JavaScript expression, to be true.
func (tb *deskTab) until(what, cond string) { tb.t.Helper(); tb.within(10*time.Second, what, cond) }

func (tb *deskTab) within(d time.Duration, what, cond string) {
	tb.t.Helper()
	if !tb.poll(d, cond) {
		at, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`location.pathname + ' says ' + JSON.stringify(((document.getElementById('status') || {}).textContent || '').trim())`))
		tb.t.Fatalf("%s's desk: %s did not happen within %v; the page at %s", tb.id, what, d, at)
	}
}

// poll reports whether cond became true within d; the page may navigate meanwhile.
func (tb *deskTab) poll(d time.Duration, cond string) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(25 * time.Millisecond) {
		if ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](cond, chromedp.EvalAwaitPromise)); err == nil && ok {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// click clicks, with the mouse, the element sel (CSS) names once it shows. A queue row is
// drawn again at every change of the board: a click that lost its node is tried again.
func (tb *deskTab) click(sel string) {
	tb.t.Helper()
	var err error
	for range 3 {
		ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
		err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			return
		}
	}
	tb.t.Fatalf("%s's desk: click %s: %v", tb.id, sel, err)
}

// typeText puts text in the focused element as typing it would (one input event).
func (tb *deskTab) typeText(sel, text string) {
	tb.t.Helper()
	tb.do(chromedp.Focus(chromedp.CSS(sel)), chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: text})
		return err
	}))
}

// choose picks the option value of the select with this id, as a counsellor does.
func (tb *deskTab) choose(id, value string) {
	tb.t.Helper()
	tb.until("the option "+value+" of #"+id, `[...document.getElementById(`+deskJS(id)+`).options].some(o => o.value === `+deskJS(value)+`)`)
	deskEval[bool](tb, `(() => { const s = document.getElementById(`+deskJS(id)+`); s.focus(); s.value = `+deskJS(value)+
		`; s.dispatchEvent(new Event('input', {bubbles: true})); s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`)
}

// deskJS quotes s for JavaScript.
func deskJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// deskText is the expression of the text of the element with this id.
func deskText(id string) string {
	return `((document.getElementById(` + deskJS(id) + `) || {}).textContent || '')`
}

// addAuthenticator gives the tab Chrome's virtual authenticator, a passkey device that says
// yes at once.
func (tb *deskTab) addAuthenticator() {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		tb.t.Fatal(err)
	}
	_, err := chromedp.Call(tb.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}})
	if err != nil {
		tb.t.Fatal(err)
	}
}

// openInvite opens the counsellor's invitation link and waits for the page to name them.
func (tb *deskTab) openInvite() {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.w.invite(tb.id)))
	tb.until("the enrolment page naming "+tb.alias, deskText("who")+`.includes(`+deskJS(tb.alias)+`)`)
	tb.until("the token leaving the address bar", `location.hash === ''`)
}

// enrolPasskey enrols a passkey with the invitation, and lands on the desk.
func (tb *deskTab) enrolPasskey() {
	tb.t.Helper()
	tb.openInvite()
	streams := tb.streamCount()
	tb.click("#enrol-passkey")
	tb.atDesk(streams)
}

// passkeyCounsellor is counsellor id at the desk, enrolled with a passkey.
func (w *deskWorld) passkeyCounsellor(id string) *deskTab {
	w.t.Helper()
	tb := w.tab(id)
	tb.addAuthenticator()
	tb.enrolPasskey()
	return tb
}

// deskOnCall waits until the server counts each counsellor on call: one of the desk only is from
// the moment their page's event stream marks them present, but the service counts who is on
// call afresh only every 5 seconds.
func deskOnCall(tbs ...*deskTab) {
	for _, tb := range tbs {
		tb.t.Helper()
		for deadline := time.Now().Add(8 * time.Second); !deskEval[bool](tb, `fetch('/api/me').then(r => r.json()).then(m => m.onCall === true)`); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				tb.t.Fatalf("%s is not on call 8 s after opening the desk", tb.id)
			}
		}
	}
}

// atDesk waits for the desk naming the counsellor, and for its event stream: more than
// streams opened so far.
func (tb *deskTab) atDesk(streams int) {
	tb.t.Helper()
	tb.until("the desk naming "+tb.alias, `location.pathname === '/' && `+deskText("alias")+` === `+deskJS(tb.alias))
	for deadline := time.Now().Add(5 * time.Second); tb.streamCount() <= streams; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s's desk opened no event stream", tb.id)
		}
	}
}

// signInPage goes to the desk without a session and waits for the sign-in page.
func (tb *deskTab) signInPage() {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.w.origin + "/"))
	tb.until("the sign-in page", `location.pathname === '/signin' && document.getElementById('signin') !== null`)
}

// cookie is the value of the tab's session cookie, "" without one.
func (tb *deskTab) cookie() string {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.w.origin + "/"}})
	if err != nil {
		tb.t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == deskCookie {
			return c.Value
		}
	}
	return ""
}

// ids lists the cases of a section of the queue ("waiting", "mine", "held"; "" all of them).
func (tb *deskTab) ids(section string) []string {
	tb.t.Helper()
	sel := "#queue button[data-case]"
	if section != "" {
		sel = "#list-" + section + " button[data-case]"
	}
	return deskEval[[]string](tb, `[...document.querySelectorAll(`+deskJS(sel)+`)].map(b => b.dataset.case)`)
}

// deskRow is the expression "case id has a row in section" ("" anywhere in the queue).
func deskRow(section, id string) string {
	sel := `#queue button[data-case="` + id + `"]`
	if section != "" {
		sel = `#list-` + section + ` button[data-case="` + id + `"]`
	}
	return `(document.querySelector(` + deskJS(sel) + `) !== null)`
}

// newCase waits for a waiting case not among known, and returns its id.
func (tb *deskTab) newCase(known []string) string {
	tb.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		for _, id := range tb.ids("waiting") {
			if !slices.Contains(known, id) {
				return id
			}
		}
	}
	tb.t.Fatalf("%s's desk shows no new waiting case (it shows %v)", tb.id, tb.ids(""))
	return ""
}

// open opens case id from its row in the queue and waits for its packet.
func (tb *deskTab) open(id string) {
	tb.t.Helper()
	tb.until("case "+id+" in the queue", deskRow("", id))
	tb.click(`#queue button[data-case="` + id + `"]`)
	tb.until("case "+id+" open", deskText("case-title")+`.includes(`+deskJS(id)+`) && `+deskText("packet")+` !== ''`)
}

// deskWritingTo is the expression "the composer writes to case id".
func deskWritingTo(id string) string {
	return `(!document.getElementById('composer').hidden && ` + deskText("composer-to") + `.startsWith(` + deskJS("Γράφεις στην υπόθεση "+id) + `))`
}

// claim claims the open case id with its button, and waits for the composer bound to it.
func (tb *deskTab) claim(id string) {
	tb.t.Helper()
	tb.click("#claim")
	tb.until("the composer of case "+id, deskWritingTo(id))
}

// deskSent is the expression "the status says a message went to case id, and the box is empty".
func deskSent(id string) string {
	return deskText("status") + `.includes(` + deskJS("["+id+"] Στάλθηκε") + `) && document.getElementById('message').value === ''`
}

// shot saves the page as docs/img's desk-NAME.png, when FAROS_DESK_SCREENSHOTS names a
// directory.
func (tb *deskTab) shot(name string) {
	tb.t.Helper()
	dir := os.Getenv("FAROS_DESK_SCREENSHOTS")
	if dir == "" {
		return
	}
	tb.do(chromedp.EmulateViewport(1280, 800))
	png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "desk-"+name+".png"), png, 0o644)
	}
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
	}
}

// TestDeskEnrolAndSignInWithAPasskeyOrAPasswordAndCode: Maria enrols a passkey on the virtual
// authenticator and signs in with it again after losing her cookie; Nikos enrols a password
// and one-time code (computed from the secret the page shows) and signs in with them in
// another browser, where the code of his enrolment is refused. Both land on the desk under
// their alias.
func TestDeskEnrolAndSignInWithAPasskeyOrAPasswordAndCode(t *testing.T) {
	w := startDeskWorld(t)
	const password = "kerasia sto balkoni 47"
	w.secret(password)

	maria := w.passkeyCounsellor("maria")
	if got := deskEval[string](maria, deskText("alias")); got != "Μαρία" {
		t.Errorf("after enrolment the desk names %q; want Μαρία", got)
	}
	if _, err := chromedp.Call(maria.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	maria.signInPage()
	streams := maria.streamCount()
	maria.do(chromedp.SendKeys(chromedp.ID("id"), "maria"))
	maria.click("#passkey")
	maria.atDesk(streams)

	nikos := w.tab("nikos")
	nikos.openInvite()
	nikos.do(chromedp.SendKeys(chromedp.ID("new-password"), password))
	nikos.click("#totp-start")
	nikos.until("the one-time code's secret", `!document.getElementById('totp-step').hidden && `+deskText("totp-secret")+`.trim() !== ''`)
	secret := deskEval[string](nikos, deskText("totp-secret")+`.replace(/\s/g, '')`)
	w.secret(secret)
	enrolCode, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	streams = nikos.streamCount()
	nikos.do(chromedp.SendKeys(chromedp.ID("totp-code"), enrolCode))
	nikos.click("#enrol-totp")
	nikos.atDesk(streams)

	// Another browser, another day: the code of the enrolment is spent, the next one works.
	other := w.tab("nikos")
	other.signInPage()
	other.do(chromedp.SendKeys(chromedp.ID("id"), "nikos"), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.SendKeys(chromedp.ID("code"), enrolCode))
	other.click("#signin")
	other.until("the refusal of a spent code", deskText("status")+`.includes('δεν ταιριάζουν')`)
	if got := deskEval[string](other, `location.pathname`); got != "/signin" {
		t.Errorf("after a spent code the browser is at %s; want /signin", got)
	}
	next, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second)) // a step later: accepted one step early
	if err != nil {
		t.Fatal(err)
	}
	streams = other.streamCount()
	other.do(chromedp.Clear(chromedp.ID("code")), chromedp.SendKeys(chromedp.ID("code"), next))
	other.click("#signin")
	other.atDesk(streams)
	if got := deskEval[string](other, deskText("alias")); got != "Νίκος" {
		t.Errorf("after signing in with a password the desk names %q; want Νίκος", got)
	}
}

// TestDeskClaimAgainstAPhoneAtTheSameMomentHasOneWinner: Nikos clicks Claim at the desk while
// Eleni presses Claim on Telegram for the same waiting case, round after round with the phone a
// little later each time (both outcomes happen): each case has exactly one holder, the desk shows it (its composer,
// or the refusal and no composer), and the person is told one name.
func TestDeskClaimAgainstAPhoneAtTheSameMomentHasOneWinner(t *testing.T) {
	w := startDeskWorld(t)
	nikos := w.passkeyCounsellor("nikos")
	deskOnCall(nikos)
	sc := shippedScreen(t)
	wins := map[string]int{}
	for round, lead := range []time.Duration{0, 5 * time.Millisecond, 10 * time.Millisecond, 15 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond} {
		known := nikos.ids("")
		p := w.person("el", 2)
		id := nikos.newCase(known)
		nikos.open(id)
		nikos.until("the Claim button", `!document.getElementById('claim').hidden`)
		// Where the button is: the mouse clicks there even if the page took it away meanwhile.
		at := deskEval[[]float64](nikos, `(() => { const r = document.getElementById('claim').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2] })()`)

		// Both start: the desk's click at once, the phone's press lead later (it reaches the
		// bot at once, through the fake's long poll, while a click takes a few milliseconds
		// through CDP); then both are waited for.
		var both sync.WaitGroup
		var clickErr error
		both.Go(func() {
			time.Sleep(lead)
			w.fake.QueueUpdate(telegramtest.Callback(eleniChat, "claim:"+id))
		})
		both.Go(func() { clickErr = chromedp.Do(nikos.ctx, chromedp.MouseClickXY(at[0], at[1])) })
		both.Wait()
		if clickErr != nil {
			t.Fatalf("round %d: the click: %v", round, clickErr)
		}

		// Eleni's answer says whether her press won.
		var phoneWon bool
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			texts := strings.Join(w.fake.Texts(eleniChat), "\n")
			if won, lost := strings.Contains(texts, "["+id+"] Ανέλαβες την υπόθεση"), strings.Contains(texts, "["+id+"] Την έχει ήδη αναλάβει"); won || lost {
				phoneWon = won
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: Eleni's press on case %s got no answer: %q", round, id, w.fake.Texts(eleniChat))
			}
		}
		// The desk's answer: its composer, or the refusal; or, when the phone won so early that
		// the desk took the case away before the click, no claim was sent at all.
		refused := deskText("status") + `.includes(` + deskJS("["+id+"] Την έχει ήδη αναλάβει: Ελένη") + `)`
		settled := nikos.poll(2*time.Second, deskWritingTo(id)+` || `+refused)
		posted := slices.Contains(nikos.asked(), w.origin+"/api/cases/"+id+"/claim")
		switch {
		case !phoneWon:
			nikos.until("the desk's composer for "+id+" (Eleni's press lost)", deskWritingTo(id))
			if texts := strings.Join(w.fake.Texts(eleniChat), "\n"); !strings.Contains(texts, "["+id+"] Την έχει ήδη αναλάβει: Νίκος") {
				t.Errorf("round %d: Eleni's refusal does not name Nikos: %q", round, texts)
			}
			wins["desk"]++
		case posted:
			nikos.until("the refusal in the status line and no composer", refused+` && document.getElementById('composer').hidden`)
			wins["phone"]++
		case !settled:
			nikos.until("case "+id+" gone from the desk", `!`+deskRow("", id)+` && document.getElementById('composer').hidden`)
			wins["phone, before the desk's click"]++
		default:
			t.Errorf("round %d: the desk shows an answer for case %s without having asked", round, id)
		}
		if phoneWon && nikos.poll(300*time.Millisecond, deskWritingTo(id)) {
			t.Errorf("round %d: Eleni won case %s on Telegram, and the desk's composer writes to it too", round, id)
		}

		// The person was told one name: the winner's.
		winner := map[bool]string{true: "Ελένη", false: "Νίκος"}[phoneWon]
		claimed := func() (n int, who string) {
			for _, text := range w.texts(p) {
				for _, alias := range []string{"Ελένη", "Νίκος"} {
					if strings.Contains(text, sc.Catalog.Render("el", "handoff_claimed", map[string]any{"Alias": alias})) {
						n, who = n+1, alias
					}
				}
			}
			return n, who
		}
		w.waitText(p, "told who claimed the case", "είναι τώρα εδώ")
		time.Sleep(100 * time.Millisecond)
		if n, who := claimed(); n != 1 || who != winner {
			t.Errorf("round %d: the person was told of %d claims, the last by %s; want one, by %s", round, n, who, winner)
		}
		t.Logf("round %d (the phone %v after the desk): %s holds case %s", round, lead, winner, id)
	}
	t.Logf("winners: %v", wins)
}

// TestDeskTwoCasesEachReplyReachesOnlyItsPerson: Maria holds two cases, one on Telegram in
// Greek and one in the web chat in French. She types a draft for the first, switches to the
// second, writes and sends with Ctrl+Enter, switches back: her draft is there, and Send sends
// it. Each person gets their own words and never the other's.
func TestDeskTwoCasesEachReplyReachesOnlyItsPerson(t *testing.T) {
	textA := "Καλησπέρα, είμαι η Μαρία. Μπορείς να μου πεις πού βρίσκεσαι τώρα;"
	textB := "Bonjour, je suis Maria. Vous pouvez m'écrire en français."
	w := startDeskWorld(t)
	w.secret(textA, textB)
	maria := w.passkeyCounsellor("maria")
	deskOnCall(maria)

	known := maria.ids("")
	personA := w.person("el", 2)
	a := maria.newCase(known)
	known = maria.ids("")
	personB := w.webPerson("fr")
	b := maria.newCase(known)
	events := personB.listen()
	maria.open(a)
	maria.claim(a)
	maria.open(b)
	maria.claim(b)

	maria.open(a)
	maria.until("the composer of "+a, deskWritingTo(a))
	maria.do(chromedp.SendKeys(chromedp.ID("message"), textA)) // typed, key by key
	maria.open(b)
	maria.until("the composer of "+b+", empty", deskWritingTo(b)+` && document.getElementById('message').value === ''`)
	maria.do(chromedp.SendKeys(chromedp.ID("message"), textB),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	maria.until("the message to "+b+" sent with Ctrl+Enter", deskSent(b))
	maria.open(a)
	maria.until("the composer of "+a, deskWritingTo(a))
	if got := deskEval[string](maria, `document.getElementById('message').value`); got != textA {
		t.Errorf("the draft for case %s after writing in %s: got %q; want %q", a, b, got, textA)
	}
	maria.click("#send")
	maria.until("the message to "+a+" sent", deskSent(a))

	w.waitText(personA, "given Maria's words", "Μαρία:\n"+textA)
	var webGot []string
	for deadline := time.Now().Add(5 * time.Second); !slices.Contains(webGot, "Maria:\n"+textB); {
		select {
		case line := <-events.lines:
			webGot = append(webGot, line)
		case <-time.After(time.Until(deadline)):
			t.Fatalf("the web person got %q; want Maria's words %q", webGot, textB)
		}
	}
	time.Sleep(300 * time.Millisecond) // anything more that would come
	for more := true; more; {
		select {
		case line := <-events.lines:
			webGot = append(webGot, line)
		default:
			more = false
		}
	}
	if got := strings.Join(w.texts(personA), "\n"); strings.Contains(got, textB) {
		t.Errorf("the person of case %s got the words for case %s: %q", a, b, got)
	}
	if got := strings.Join(webGot, "\n"); strings.Contains(got, textA) {
		t.Errorf("the person of case %s got the words for case %s: %q", b, a, got)
	}
	if n := strings.Count(strings.Join(w.texts(personA), "\n"), textA); n != 1 {
		t.Errorf("the person of case %s got Maria's words %d times; want once", a, n)
	}
}

// deskNotification is what the page gave `new Notification(...)`.
type deskNotification struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	Tag   string `json:"tag"`
}

// recordNotifications grants the desk's origin notifications in the tab's browser context and
// wraps window.Notification, in every page the tab loads, with one that notes what it is given
// in window.__farosNotes before making the real one (a script CDP adds is not subject to the
// page's Content-Security-Policy).
func (tb *deskTab) recordNotifications() {
	tb.t.Helper()
	_, err := chromedp.CallBrowser(tb.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "notifications"}, Setting: browser.PermissionSettingGranted,
		Origin: tb.w.origin, BrowserContextID: chromedp.FromContext(tb.ctx).BrowserContextID})
	if err != nil {
		tb.t.Fatal(err)
	}
	_, err = chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `(() => {
  const notes = [];
  Object.defineProperty(window, '__farosNotes', { value: notes });
  const Real = window.Notification;
  if (!Real) return;
  const Wrapped = function Notification(title, options) {
    const o = options || {};
    notes.push({ title: String(title), body: String(o.body || ''), tag: String(o.tag || '') });
    return new Real(title, options);
  };
  Wrapped.prototype = Real.prototype;
  Object.defineProperty(Wrapped, 'permission', { get: () => Real.permission });
  Wrapped.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Wrapped;
})();`})
	if err != nil {
		tb.t.Fatal(err)
	}
}

// TestDeskTierThreeAlertNotifiesWithoutThePersonsWords: with notifications allowed, a person
// who consents at tier 3 (an emergency answer in the screening), and another who types an
// emergency word in a waiting case, each make the desk show a notification, whose title and
// body hold none of the person's words and no language's name; the tab's title counts the
// cases that need attention, «(N) Faros».
func TestDeskTierThreeAlertNotifiesWithoutThePersonsWords(t *testing.T) {
	words := "help me, the boss at the farm near Skala took my passport"
	w := startDeskWorld(t)
	w.secret("the farm near Skala")
	maria := w.tab("maria")
	maria.recordNotifications()
	maria.addAuthenticator()
	maria.enrolPasskey()
	deskOnCall(maria)
	maria.until("notifications shown as on", `Notification.permission === 'granted' && `+deskText("notify")+`.includes('Ειδοποιήσεις ενεργές')`)

	known := maria.ids("")
	w.person("en", 3)
	urgent := maria.newCase(known)
	maria.until("a notification for tier 3 case "+urgent, `window.__farosNotes.some(n => n.tag === `+deskJS("faros-"+urgent)+`)`)

	known = maria.ids("")
	p := w.person("en", 2)
	raised := maria.newCase(known)
	if n := deskEval[int](maria, `window.__farosNotes.filter(n => n.tag === `+deskJS("faros-"+raised)+`).length`); n != 0 {
		t.Errorf("a tier 2 case made %d notifications; want none until the emergency word", n)
	}
	p.tell(words)
	maria.until("a notification for case "+raised+" after an emergency word", `window.__farosNotes.some(n => n.tag === `+deskJS("faros-"+raised)+`)`)

	// Nothing of the person, nor their language, in what the notification shows.
	forbidden := strings.Fields(strings.NewReplacer(",", " ").Replace(words))
	forbidden = slices.DeleteFunc(forbidden, func(s string) bool { return len(s) < 4 }) // "me", "the", "at", "my"…
	cat := shippedScreen(t).Catalog
	for _, lang := range cat.Languages() {
		for _, key := range []string{"language_name", "language_name_el", "language_name_en"} {
			if name, ok := cat.Text(lang, key); ok {
				forbidden = append(forbidden, name)
			}
		}
	}
	notes := deskEval[[]deskNotification](maria, `window.__farosNotes`)
	for _, n := range notes {
		for _, f := range forbidden {
			if strings.Contains(strings.ToLower(n.Title+" "+n.Body), strings.ToLower(f)) {
				t.Errorf("a notification holds %q: %+v", f, n)
			}
		}
		if n.Title == "" || n.Body == "" {
			t.Errorf("a notification without a title or a body: %+v", n)
		}
	}
	t.Logf("notifications: %+v", notes)

	// The tab's title counts what needs attention: the two waiting cases.
	attention := deskEval[int](maria, `fetch('/api/board').then(r => r.json()).then(b => b.attention)`)
	want := fmt.Sprintf("(%d) Faros", attention)
	maria.until("the title "+want, `document.title.replace(/^⚠ /, '') === `+deskJS(want))
	if attention != 2 {
		t.Errorf("the board's attention is %d; want 2 (two waiting cases)", attention)
	}
}

// TestDeskTransferReleaseAndCloseReachThePerson: Nikos claims a case and transfers it to Maria,
// whose desk then shows it as hers while the person is told her name; Maria releases it for
// the end of her shift (it waits again on both desks), claims it again and closes it as
// referred to A21 through the page's own confirmation: it leaves both boards and the person
// gets the goodbye.
func TestDeskTransferReleaseAndCloseReachThePerson(t *testing.T) {
	said := "Καλησπέρα. Μένω σε ένα διαμέρισμα με άλλες τρεις κοπέλες."
	w := startDeskWorld(t)
	w.secret(said)
	nikos := w.passkeyCounsellor("nikos")
	maria := w.passkeyCounsellor("maria")
	deskOnCall(nikos, maria)
	cat := shippedScreen(t).Catalog

	known := nikos.ids("")
	p := w.person("el", 2)
	id := nikos.newCase(known)
	nikos.open(id)
	nikos.claim(id)
	w.waitText(p, "told Nikos is there", cat.Render("el", "handoff_claimed", map[string]any{"Alias": "Νίκος"}))
	p.tell(said)
	nikos.until("the person's words in the transcript", deskText("transcript")+`.includes(`+deskJS(said)+`)`)

	// Transfer.
	nikos.choose("transfer-to", "maria")
	nikos.click("#transfer")
	nikos.until("the transfer's confirmation", deskText("status")+`.includes(`+deskJS("["+id+"] Η υπόθεση δόθηκε σε: Μαρία")+`)`)
	nikos.until("case "+id+" gone from Nikos's desk", `!`+deskRow("", id))
	maria.until("case "+id+" among Maria's cases", deskRow("mine", id))
	maria.open(id)
	maria.until("Maria's composer for "+id, deskWritingTo(id))
	w.waitText(p, "told Maria writes now", cat.Render("el", "handoff_claimed", map[string]any{"Alias": "Μαρία"}))
	if got := deskEval[string](maria, deskText("transcript")); !strings.Contains(got, said) {
		t.Errorf("Maria's transcript after the transfer: %q; want the person's words", got)
	}

	// Release, with a reason: the case waits again, for both.
	maria.choose("release-reason", "shift")
	maria.click("#release")
	maria.until("case "+id+" waiting on Maria's desk", deskRow("waiting", id))
	nikos.until("case "+id+" waiting on Nikos's desk", deskRow("waiting", id))
	w.waitText(p, "told another counsellor will write", cat.Render("el", "handoff_released", nil))

	// Claim again, close as referred.
	maria.until("the Claim button", `!document.getElementById('claim').hidden`)
	maria.claim(id)
	maria.choose("outcome", "referred")
	maria.until("the referral's list", `!document.getElementById('referral-box').hidden`)
	maria.choose("referral", "A21 (1109)")
	maria.click("#close")
	maria.until("the page's own confirmation", `!document.getElementById('close-ask').hidden && `+deskText("close-question")+`.includes(`+deskJS(id)+`) && `+deskText("close-question")+`.includes('A21 (1109)')`)
	if n := len(w.texts(p)); n > 0 && strings.Contains(w.texts(p)[n-1], cat.Render("el", "handoff_closed_referred", nil)) {
		t.Fatal("the case closed before the confirmation")
	}
	maria.click("#close-confirm")
	maria.until("case "+id+" gone from Maria's board", `!`+deskRow("", id))
	nikos.until("case "+id+" gone from Nikos's board", `!`+deskRow("", id))
	w.waitText(p, "given the goodbye", cat.Render("el", "handoff_closed_referred", nil))
	if got := deskEval[string](maria, deskText("status")); !strings.Contains(got, "["+id+"] Έκλεισε (παραπομπή: A21 (1109))") {
		t.Errorf("after the close Maria's status line says %q; want the close with its referral", got)
	}
}

// sessionKey is the Redis key of the session a cookie names: the SHA-256 of its token.
func (w *deskWorld) sessionKey(cookie string) string {
	w.t.Helper()
	token, err := base64.RawURLEncoding.DecodeString(cookie)
	if err != nil {
		w.t.Fatalf("the session cookie %q: %v", cookie, err)
	}
	sum := sha256.Sum256(token)
	return w.r.Prefix + ":desk:session:" + hex.EncodeToString(sum[:])
}

// TestDeskRevocationRosterRemovalAndExpiryLockThePageAtOnce: three counsellors have the desk
// open, Nikos with a case and the person's words on screen. `faros operators revoke nikos`,
// Sofia's removal from the roster file, and Maria's session left idle past its limit (its last
// use moved 31 minutes back in Redis: the service has no setting to shorten the 30 minutes)
// each send that browser to /signin within seconds (the event stream's check, every 5 s),
// with nothing of the case left on the page, and the old cookie gets 401.
func TestDeskRevocationRosterRemovalAndExpiryLockThePageAtOnce(t *testing.T) {
	said := "Είμαι στο λιμάνι, στην πύλη Ε2."
	w := startDeskWorld(t)
	w.secret(said)
	nikos := w.passkeyCounsellor("nikos")
	sofia := w.passkeyCounsellor("sofia")
	maria := w.passkeyCounsellor("maria")
	deskOnCall(nikos, sofia, maria)

	known := nikos.ids("")
	p := w.person("el", 2)
	id := nikos.newCase(known)
	nikos.open(id)
	nikos.claim(id)
	p.tell(said)
	nikos.until("the person's words on screen", deskText("transcript")+`.includes(`+deskJS(said)+`)`)
	cookies := map[*deskTab]string{nikos: nikos.cookie(), sofia: sofia.cookie(), maria: maria.cookie()}
	for tb, c := range cookies {
		if c == "" {
			t.Fatalf("%s's browser has no session cookie", tb.id)
		}
		if got := w.apiStatus(c); got != http.StatusOK {
			t.Fatalf("%s's cookie: /api/board answers %d; want 200", tb.id, got)
		}
	}

	begin := time.Now()
	if out := w.operators("revoke", "nikos"); !strings.Contains(out, "nikos: 1 desk sessions ended") {
		t.Errorf("faros operators revoke nikos printed %q; want one session ended", out)
	}
	w.writeRoster(regexp.MustCompile(`(?m)^.*(id: sofia|operator: sofia).*\n`).ReplaceAllString(deskRoster, ""))
	if err := w.r.Client.HSet(context.Background(), w.sessionKey(cookies[maria]), "seen", time.Now().Add(-31*time.Minute).UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	took := map[string]time.Duration{}
	var mu sync.Mutex
	for _, tb := range []*deskTab{nikos, sofia, maria} {
		wg.Go(func() {
			ok := tb.poll(8*time.Second, `location.pathname === '/signin' && document.getElementById('signin') !== null`)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				took[tb.id] = time.Since(begin).Round(100 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	t.Logf("locked out after %v", took)
	for _, tb := range []*deskTab{nikos, sofia, maria} {
		if _, ok := took[tb.id]; !ok {
			t.Errorf("%s's browser is at %s 8 s later; want /signin", tb.id, deskEval[string](tb, `location.href`))
			continue
		}
		if got := deskEval[string](tb, `document.documentElement.outerHTML`); strings.Contains(got, id) || strings.Contains(got, said) {
			t.Errorf("%s's signed-out page still holds the case: %q", tb.id, got)
		}
		if got := w.apiStatus(cookies[tb]); got != http.StatusUnauthorized {
			t.Errorf("%s's old cookie: /api/board answers %d; want 401", tb.id, got)
		}
		// The desk replaced itself with the sign-in page: going back does not show it again,
		// and the desk's address asks to sign in.
		tb.do(chromedp.NavigateBack())
		if got := deskEval[string](tb, `location.href + ' ' + document.documentElement.outerHTML`); strings.Contains(got, id) || strings.Contains(got, said) {
			t.Errorf("%s's browser, back from the sign-in page, shows the case: %q", tb.id, got)
		}
		tb.signInPage()
	}
}

// TestDeskPageTalksOnlyToItsServerAndKeepsNothing: a whole shift in one browser (enrolment,
// a case claimed, a message, a note, a canned reply, the person's answer with markup in it,
// the close, sign-out) asks nothing of any address but the desk's own, and after sign-out
// the browser keeps no storage, database, service worker, cache or cookie of it; the old
// cookie no longer works.
func TestDeskPageTalksOnlyToItsServerAndKeepsNothing(t *testing.T) {
	message, note := "Καλησπέρα, είμαι ο Νίκος από το ΕΚΚΑ.", "Ζήτησε να μιλήσει το βράδυ."
	w := startDeskWorld(t)
	w.secret(message, note)
	nikos := w.tab("nikos") // records from its first request
	nikos.addAuthenticator()
	nikos.enrolPasskey()
	deskOnCall(nikos)

	known := nikos.ids("")
	p := w.person("el", 2)
	id := nikos.newCase(known)
	nikos.open(id)
	nikos.claim(id)
	nikos.typeText("#message", message)
	nikos.click("#send")
	nikos.until("the message sent", deskSent(id))
	w.waitText(p, "given Nikos's words", "Νίκος:\n"+message)
	nikos.typeText("#message", note)
	nikos.click("#note")
	nikos.until("the note kept", deskText("transcript")+`.includes(`+deskJS(note)+`) && document.getElementById('message').value === ''`)
	nikos.click("#canned button")
	nikos.until("a canned reply in the box", `document.getElementById('message').value !== ''`)
	nikos.click("#send")
	nikos.until("the canned reply sent", deskSent(id))
	// Markup in a person's words is shown as text: no image is fetched, nothing runs.
	answer := `Ευχαριστώ, είμαι καλά. <img src="https://example.org/pixel.png" onerror="fetch('https://example.org/x')">`
	w.secret(answer)
	p.tell(answer)
	nikos.until("the person's answer, as text", deskText("transcript")+`.includes(`+deskJS(answer)+`) && document.querySelector('#transcript img') === null`)
	nikos.choose("outcome", "information_given")
	nikos.click("#close")
	nikos.click("#close-confirm")
	nikos.until("the case closed", `!`+deskRow("", id))
	cookie := nikos.cookie()
	nikos.click("#signout")
	nikos.until("the sign-in page", `location.pathname === '/signin' && document.getElementById('signin') !== null`)

	kept := deskEval[string](nikos, `(async () => JSON.stringify({
	  localStorage: localStorage.length, sessionStorage: sessionStorage.length,
	  indexedDB: (await indexedDB.databases()).length,
	  serviceWorkers: (await navigator.serviceWorker.getRegistrations()).length,
	  caches: (await caches.keys()).length, cookie: document.cookie }))()`)
	if want := `{"localStorage":0,"sessionStorage":0,"indexedDB":0,"serviceWorkers":0,"caches":0,"cookie":""}`; kept != want {
		t.Errorf("after sign-out the browser keeps %s; want %s", kept, want)
	}
	if c := nikos.cookie(); c != "" {
		t.Errorf("after sign-out Network.getCookies for %s returns the session cookie", w.origin)
	}
	res, err := chromedp.Call(nikos.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{w.origin + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cookies) != 0 {
		t.Errorf("after sign-out the browser has %d cookies for %s; want none", len(res.Cookies), w.origin)
	}
	if got := w.apiStatus(cookie); got != http.StatusUnauthorized {
		t.Errorf("the signed-out cookie: /api/board answers %d; want 401", got)
	}

	asked := nikos.asked()
	paths := map[string]bool{}
	for _, u := range asked {
		switch {
		case strings.HasPrefix(u, w.origin+"/"):
			path, _, _ := strings.Cut(strings.TrimPrefix(u, w.origin), "#")
			paths[regexp.MustCompile(`/cases/[A-Z2-7]{8}`).ReplaceAllString(path, "/cases/ID")] = true
		case strings.HasPrefix(u, "data:"): // the page's own empty icon and the QR code: no request leaves
		default:
			t.Errorf("the page asked for %s; want only %s/…", u, w.origin)
		}
	}
	if len(asked) < 20 {
		t.Errorf("only %d requests were recorded: %v", len(asked), asked)
	}
	t.Logf("%d requests, to %v", len(asked), slices.Sorted(maps.Keys(paths)))
}

// TestDeskCannedReplyShowsItsGreekOnAShift: a shift as the docs show it (several cases, one
// at tier 3, one held by a colleague, one with a conversation): a canned reply goes into the
// text box in the person's language, with its Greek under the box. With FAROS_DESK_SCREENSHOTS
// set, the queue, a case and the composer are pictured there (desk-queue.png, desk-case.png,
// desk-canned.png, 1280×800).
func TestDeskCannedReplyShowsItsGreekOnAShift(t *testing.T) {
	w := startDeskWorld(t)
	maria := w.passkeyCounsellor("maria")
	nikos := w.passkeyCounsellor("nikos")
	deskOnCall(maria, nikos)
	cat := shippedScreen(t).Catalog

	type arrival struct {
		lang  string
		tier  int
		words string
	}
	arrivals := []arrival{
		{"el", 2, "Δουλεύω σε θερμοκήπιο. Ο εργοδότης κρατάει το διαβατήριό μου και λέει ότι χρωστάω τα εισιτήρια."},
		{"sq", 2, "Punoj në ndërtim. Nuk më kanë paguar prej tre muajsh."},
		{"en", 3, "I cannot leave the house where I work. Can someone write to me tonight?"},
		{"fr", 2, "Je travaille dans un restaurant, on ne me paie pas depuis deux mois."},
		{"ur", 1, "میں اپنے کاغذات واپس چاہتا ہوں۔"},
	}
	cases := map[string]string{} // lang → case id
	people := map[string]*tgChat{}
	for _, a := range arrivals {
		w.secret(a.words)
		known := maria.ids("")
		p := w.person(a.lang, a.tier)
		id := maria.newCase(known)
		p.tell(a.words)
		maria.until("the message waiting in case "+id, `document.querySelector(`+deskJS(`#queue button[data-case="`+id+`"] .badge`)+`) !== null`)
		cases[a.lang], people[a.lang] = id, p
	}
	nikos.open(cases["sq"])
	nikos.claim(cases["sq"])
	maria.until("the case Nikos holds, in the supervisor's list", deskRow("held", cases["sq"]))
	maria.open(cases["en"])
	maria.until("the urgent case's packet", deskText("case-tier")+`.includes('Επείγον')`)
	maria.shot("queue")

	// A conversation in the Greek case.
	el := cases["el"]
	reply := "Καλησπέρα, είμαι η Μαρία από το ΕΚΚΑ. Σε ακούω. Είσαι ασφαλής αυτή τη στιγμή;"
	answer := "Ναι, τώρα είμαι μόνη μου στο σπίτι. Μπορώ να γράφω μέχρι τις έξι."
	note := "Να ρωτήσω για το διαβατήριο και αν θέλει φιλοξενία (197)."
	w.secret(reply, answer, note)
	maria.open(el)
	maria.claim(el)
	maria.typeText("#message", reply)
	maria.click("#send")
	maria.until("the reply sent", deskSent(el))
	people["el"].tell(answer)
	maria.until("the person's answer", deskText("transcript")+`.includes(`+deskJS(answer)+`)`)
	maria.typeText("#message", note)
	maria.click("#note")
	maria.until("the note kept", deskText("transcript")+`.includes(`+deskJS(note)+`)`)
	maria.do(chromedp.Blur(chromedp.ID("message")))
	maria.shot("case")

	// A canned reply in the English case: English in the box, its Greek under it.
	en := cases["en"]
	maria.open(en)
	maria.claim(en)
	english, _ := cat.Text("en", "desk_reply_safe_now")
	greek, _ := cat.Text("el", "desk_reply_safe_now")
	maria.click(`#canned button[title=` + deskJS(greek) + `]`)
	maria.until("the canned reply in the box", `document.getElementById('message').value === `+deskJS(english))
	maria.until("its Greek under the box", `!document.getElementById('canned-greek').hidden && `+deskText("canned-greek")+` === `+deskJS("Στα ελληνικά: "+greek))
	if lang := deskEval[string](maria, `document.getElementById('message').lang`); lang != "en" {
		t.Errorf("the text box's lang is %q; want en, the person's", lang)
	}
	maria.shot("canned")
}

// TestDeskLeftUntouchedSignsOutAtItsIdleLimitWhileCasesArrive: a desk nobody touched for 30
// minutes signs out (auth's Idle: "a session ends after this long without a request"; its
// Alive: "an open event stream is not a counsellor at work"), also while cases arrive and the
// page reads its board by itself. Maria's last use is moved back to 2 seconds short of the
// limit in Redis (the service has no setting to shorten it); then a case arrives.
func TestDeskLeftUntouchedSignsOutAtItsIdleLimitWhileCasesArrive(t *testing.T) {
	w := startDeskWorld(t)
	maria := w.passkeyCounsellor("maria")
	deskOnCall(maria)
	key := w.sessionKey(maria.cookie())
	ctx := context.Background()
	if err := w.r.Client.HSet(ctx, key, "seen", time.Now().Add(-30*time.Minute+2*time.Second).UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	known := maria.ids("")
	w.person("el", 2)
	maria.newCase(known) // shown by the page's own read of /api/board: nobody clicked
	if !maria.poll(8*time.Second, `location.pathname === '/signin'`) {
		seen, _ := w.r.Client.HGet(ctx, key, "seen").Int64()
		t.Errorf("a desk untouched for 30 minutes is still open 8 s past its idle limit: the page's own reads "+
			"(a poke, then GET /api/board, and every 30 s) moved the session's last use to %s ago; want it signed out",
			time.Since(time.UnixMilli(seen)).Round(time.Second))
	}
}

// TestDeskOpenedOnShiftShowsTheWaitingCasesWithinSeconds: Nikos, on shift, opens the desk
// while a person waits: within seconds his top bar says he is on call and his queue shows the
// case. (The service counts who is on call every 5 seconds, and a counsellor of the desk only
// counts from the moment his page's event stream opens.)
func TestDeskOpenedOnShiftShowsTheWaitingCasesWithinSeconds(t *testing.T) {
	w := startDeskWorld(t)
	w.person("el", 2) // Eleni, on Telegram, is on call: the case opens and waits
	nikos := w.tab("nikos")
	nikos.addAuthenticator()
	nikos.enrolPasskey()
	opened := time.Now()
	if !nikos.poll(8*time.Second, deskText("duty")+` === 'Σε βάρδια · On call' && document.querySelector('#list-waiting button[data-case]') !== null`) {
		t.Errorf("8 s after opening the desk on shift, Nikos's top bar says %q and his queue shows %v; want «Σε βάρδια · On call» and the waiting case "+
			"(the page reads /api/me and its board before its event stream marks him present, then nothing until a poke or its 30-second read)",
			deskEval[string](nikos, deskText("duty")), nikos.ids(""))
	}
	t.Logf("checked %v after the desk opened", time.Since(opened).Round(100*time.Millisecond))
}

// TestDeskClosedCaseLeavesNoPacketInTheNotices: when a case closes, its data is deleted and,
// on Telegram, its messages leave the counsellors' chats. At the desk, Faros's notification of
// the new case (its packet: the person's screening answers) must not stay behind either, in
// the page's «Μηνύματα του Faros · Faros told you» or in GET /api/notices (docs/PRIVACY.md:
// notices are cases given or taken away, wipes and reminders).
func TestDeskClosedCaseLeavesNoPacketInTheNotices(t *testing.T) {
	w := startDeskWorld(t)
	nikos := w.passkeyCounsellor("nikos")
	deskOnCall(nikos)
	known := nikos.ids("")
	p := w.person("el", 2)
	id := nikos.newCase(known)
	nikos.open(id)
	nikos.claim(id)
	p.tell("Καλησπέρα.")
	nikos.until("the person's words", deskText("transcript")+`.includes('Καλησπέρα.')`)
	nikos.choose("outcome", "information_given")
	nikos.click("#close")
	nikos.click("#close-confirm")
	nikos.until("the case closed", `!`+deskRow("", id))

	packet := `(t => t.includes(` + deskJS("["+id+"]") + `) && t.includes('Ενδείξεις:'))`
	if deskEval[bool](nikos, `fetch('/api/notices').then(r => r.json()).then(n => (n.notices || []).some(x => `+packet+`(x.text || '')))`) {
		t.Errorf("after case %s closed, GET /api/notices still holds its packet (the person's screening answers), for up to an hour", id)
	}
	if deskEval[bool](nikos, packet+`(`+deskText("notices")+`)`) {
		t.Errorf("after case %s closed, the page still shows its packet under «Μηνύματα του Faros · Faros told you»: %.160q…", id, deskEval[string](nikos, deskText("notices")))
	}
}
