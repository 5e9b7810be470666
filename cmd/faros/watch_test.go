package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWatchGoesOnAfterAWatcherError: the kernel's event queue overflows while a reload runs
// (fsnotify then reports ErrEventOverflow on its Errors channel). Reloading goes on: a later
// change is read. Before, nothing read Errors, so the watcher blocked on it for good and only
// SIGHUP reloaded.
func TestWatchGoesOnAfterAWatcherError(t *testing.T) {
	queue := inotifyQueue(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "flow.yaml")
	write := func(s string) {
		if err := os.WriteFile(marker, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("start")

	// Each reload reports what the marker holds, then waits for release (at first).
	got := make(chan string)
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan error, 1)
	go func() {
		watched <- watch(ctx, []string{dir}, func(name string) bool { return name == marker }, func(string) {
			b, _ := os.ReadFile(marker)
			select {
			case got <- string(b):
			case <-ctx.Done():
			}
			<-release
		})
	}()
	defer func() {
		cancel()
		if err := <-watched; err != nil {
			t.Errorf("watch: %v", err)
		}
	}()

	// The watcher starts in its own time: write until a reload shows it watches.
	for ready := false; !ready; {
		write("ready")
		select {
		case <-got:
			ready = true
		case <-time.After(time.Second):
		}
	}

	// While the reload waits, more changes than the kernel's queue holds: it overflows.
	flood(t, dir, queue+8192)
	close(release)
	write("after")
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-got:
			if s == "after" {
				return
			}
		case <-deadline:
			t.Fatal("no reload after the watcher's error: the watcher is stuck")
		}
	}
}

// inotifyQueue returns how many events an inotify instance queues; the test needs Linux.
func inotifyQueue(t *testing.T) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("overflows inotify's queue")
	}
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 || n > 1<<20 {
		t.Skipf("inotify queue of %q events (%v): too long to overflow here", b, err)
	}
	return n
}

// flood makes at least n change events in dir, writing by turns to two files: the kernel merges
// an event with the one before it only when they are the same.
func flood(t *testing.T, dir string, n int) {
	t.Helper()
	var files []*os.File
	for _, name := range []string{"a", "b"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, f)
	}
	for i := range n {
		if _, err := files[i%2].Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
	}
}
