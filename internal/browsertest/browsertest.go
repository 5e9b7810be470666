// Package browsertest starts the headless Chromium that the browser tests drive. It is apart
// from testkit so that only the test binaries that drive a browser link chromedp.
package browsertest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium is Debian's browser, which the browser tests drive.
const Chromium = "/usr/bin/chromium"

// Require skips t, as Start would, when no browser is to be driven: a test calls it first
// when it has work to do before it starts the browser.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv("FAROS_TEST_BROWSER") == "off" && os.Getenv("FAROS_TEST_STRICT") != "1" {
		t.Skip("FAROS_TEST_BROWSER=off")
	}
	if _, err := os.Stat(Chromium); err != nil {
		if os.Getenv("FAROS_TEST_STRICT") == "1" {
			t.Fatalf("%s is missing (apt-get install chromium) and FAROS_TEST_STRICT=1", Chromium)
		}
		t.Skipf("%s is missing: apt-get install chromium to run the browser test", Chromium)
	}
}

// Start starts a headless Chromium for t, with a fresh profile and no background traffic,
// and returns its context (at most timeout long). Without Chromium the test skips, unless
// FAROS_TEST_STRICT=1 (CI), where it fails. FAROS_TEST_BROWSER=off skips it as if Chromium
// were missing (scripts/editor-walk, which tests content, not the browser).
func Start(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	Require(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	) // without UserDataDir, the allocator makes a fresh profile and removes it
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancel() })
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", Chromium, err)
	}
	return browser
}
