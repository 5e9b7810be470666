package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/faros-project/faros/internal/browsertest"
)

// The pages in Chromium: enrolment and sign-in with a password and a one-time code, then with
// a passkey on Chrome's virtual authenticator. This checks the pages' script (base64url, the
// credential's JSON, cookies over http://localhost); the desk's own browser test goes further.
func TestBrowserSignin(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureOn(t, ln)
	browserCtx := browsertest.Start(t, 90*time.Second)
	tab := func() (context.Context, *consoleErrors) {
		ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx); err != nil {
			t.Fatal(err)
		}
		return ctx, watchConsole(ctx)
	}
	atDesk := waitUntil(t, `location.pathname === '/' && document.body.textContent.includes('the desk')`)
	shot := screenshot(t)

	// Enrolment with a password and a one-time code.
	ctx, console := tab()
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.origin+"/enrol#"+f.invite("maria")),
		waitUntil(t, `document.getElementById('who').textContent.includes('Μαρία')`),
		waitUntil(t, `location.hash === '' && location.href === '`+f.origin+`/enrol'`), // the token left the address bar
		chromedp.SendKeys(chromedp.ID("new-password"), "short"),
		chromedp.Click(chromedp.ID("totp-start")),
		waitUntil(t, `document.getElementById('status').textContent.includes('12')`),
		chromedp.SetValue(chromedp.ID("new-password"), goodPassword),
		chromedp.Click(chromedp.ID("totp-start")),
		waitUntil(t, `!document.getElementById('totp-step').hidden && document.getElementById('totp-qr').src.startsWith('data:image/png;base64,')`),
		waitUntil(t, `document.getElementById('totp-qr').complete && document.getElementById('totp-qr').naturalWidth > 0`),
	)
	if err != nil {
		t.Fatal(err)
	}
	shot(ctx, "enrol-totp")
	secret, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('totp-secret').textContent.replace(/\s/g, '')`))
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("totp-code"), f.code(secret)),
		chromedp.Click(chromedp.ID("enrol-totp")),
		atDesk,
	)
	if err != nil {
		t.Fatal(err)
	}
	console.check(t, "password enrolment")

	// Sign-in with them in another browser: a wrong code first.
	ctx, console = tab()
	f.advance(30 * time.Second)
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.origin+"/"),
		waitUntil(t, `location.pathname === '/signin'`),
		chromedp.SendKeys(chromedp.ID("id"), "maria"),
		chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.SendKeys(chromedp.ID("code"), wrongCode(f.code(secret))),
		chromedp.Click(chromedp.ID("signin")),
		waitUntil(t, `document.getElementById('status').textContent.includes('δεν ταιριάζουν')`),
	)
	if err != nil {
		t.Fatal(err)
	}
	shot(ctx, "signin-refused")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("code"), f.code(secret)),
		chromedp.Click(chromedp.ID("signin")),
		atDesk,
	)
	if err != nil {
		t.Fatal(err)
	}
	console.check(t, "password sign-in")

	// A passkey, on the virtual authenticator of one tab.
	ctx, console = tab()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	_, err = chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.origin+"/enrol#"+f.invite("nikos")),
		waitUntil(t, `document.getElementById('who').textContent.includes('Νίκος')`),
		chromedp.Click(chromedp.ID("enrol-passkey")),
		atDesk,
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.origin+"/"),
		waitUntil(t, `location.pathname === '/signin'`),
		chromedp.SendKeys(chromedp.ID("id"), "nikos"),
		chromedp.Click(chromedp.ID("passkey")),
		atDesk,
	)
	if err != nil {
		t.Fatal(err)
	}
	console.check(t, "passkey")
}

// Another site's page, with a plain form that posts to /auth/signout, does not sign a
// counsellor out: the browser sends no cookie (SameSite=Strict), and the desk answers with no
// deletion of it.
func TestBrowserSignoutFromAnotherSite(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureOn(t, ln)
	_, secret := f.signedIn("maria")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form id=f method=post action="%s/auth/signout"></form><script>document.getElementById('f').submit()</script>`, f.origin)
	}))
	t.Cleanup(evil.Close)
	ctx, cancel := chromedp.NewContext(browsertest.Start(t, 60*time.Second), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	f.advance(30 * time.Second)
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.origin+"/signin"),
		chromedp.SendKeys(chromedp.ID("id"), "maria"),
		chromedp.SendKeys(chromedp.ID("password"), goodPassword),
		chromedp.SendKeys(chromedp.ID("code"), f.code(secret)),
		chromedp.Click(chromedp.ID("signin")),
		waitUntil(t, `location.pathname === '/' && document.body.textContent.includes('the desk')`),
		chromedp.Navigate(evil.URL),
		waitUntil(t, `location.pathname === '/auth/signout'`),
		chromedp.Navigate(f.origin+"/"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if path, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`)); err != nil || path != "/" {
		t.Errorf("after another site's form, the desk shows %q (%v); want / (still signed in)", path, err)
	}
}

// waitUntil waits up to 10 seconds for js to be true; the page may navigate meanwhile.
func waitUntil(t *testing.T, js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		deadline := time.Now().Add(10 * time.Second)
		for {
			ok, err := chromedp.Evaluate[bool](js)(ctx, tt)
			if err == nil && ok {
				return nil
			}
			if time.Now().After(deadline) {
				status, _ := chromedp.Evaluate[string](`(document.getElementById('status') || document.body).textContent`)(ctx, tt)
				t.Errorf("waiting for %s: %v; the page says %q", js, err, strings.TrimSpace(status))
				return errors.New("timeout")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// consoleErrors collects what the page reports as errors.
type consoleErrors struct {
	mu   sync.Mutex
	msgs []string
}

func watchConsole(ctx context.Context) *consoleErrors {
	c := &consoleErrors{}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				c.mu.Lock()
				c.msgs = append(c.msgs, m.String())
				c.mu.Unlock()
			}
		}
	}()
	return c
}

func (c *consoleErrors) check(t *testing.T, when string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		// A refused sign-in is a 401 the browser reports; that is the test's doing.
		if !strings.Contains(m, "401") {
			t.Errorf("%s: the console says %s", when, m)
		}
	}
}

// screenshot saves the page under FAROS_TEST_SCREENSHOTS, when it is set.
func screenshot(t *testing.T) func(ctx context.Context, name string) {
	dir := os.Getenv("FAROS_TEST_SCREENSHOTS")
	return func(ctx context.Context, name string) {
		if dir == "" {
			return
		}
		err := chromedp.Do(ctx, chromedp.EmulateViewport(900, 1100))
		var png []byte
		if err == nil {
			png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "auth-"+name+".png"), png, 0o644)
		}
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}
