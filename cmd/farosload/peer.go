package main

// -via peer: the grammY bot of bench/peer, run as a child process against the same fake Bot API
// and Redis, and driven with the same Telegram updates as Faros, so that the two can be compared.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// measurePeer runs the load against the peer, with its keys under a prefix of their own.
func measurePeer(ctx context.Context, o options, rdb *redis.Client, routes map[string][]string) (result, error) {
	prefix := "faros-peer-" + randomHex(4) + ":"
	defer deleteKeys(rdb, prefix)
	api, err := newFakeBotAPI()
	if err != nil {
		return result{}, err
	}
	defer api.Close()
	p, err := startPeer(o.redisURL, prefix, api.root)
	if err != nil {
		return result{}, err
	}
	defer p.stop()
	defer onInterrupt(func() { p.stop(); deleteKeys(rdb, prefix) })()

	snap := func() snapshot {
		return snapshot{cpu: cpuTime(), peerCPU: p.cpu(), commands: commands(ctx, rdb),
			redisCPU: redisCPU(ctx, rdb), sends: api.sends.Load(), answers: api.answers.Load(),
			hooked: api.hooked.Load(), conns: api.conns.Load()}
	}
	w, err := drive(ctx, o, "http://"+p.addr+"/webhook", "telegram", api, routes, prefix, snap)
	if err != nil {
		return result{}, err
	}
	r := sumUp(o, w, rdb.Options().Addr)
	r.trips = -1 // the peer's Redis client is its own
	r.peerRSS = float64(rssOf(p.proc("status"))) / (1 << 20)
	r.memory, r.memoryErr = peerMemory(ctx, rdb, prefix, min(o.conversations, 100))
	return r, nil
}

// peer is the running child process.
type peer struct {
	cmd  *exec.Cmd
	addr string        // where it takes updates: "127.0.0.1:PORT"
	done chan struct{} // closed when it has exited
	once sync.Once
}

// startPeer starts bench/peer/bot.js with its keys under prefix, its Bot API at apiRoot, and
// waits for it to say where it listens.
func startPeer(redisURL, prefix, apiRoot string) (*peer, error) {
	dir, err := peerDir()
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("peer: node not found: the peer needs Node.js 20 or later")
	}
	cmd := exec.Command(node, "bot.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PEER_BOT_TOKEN=1:peer", "PEER_API_ROOT="+apiRoot,
		"PEER_WEBHOOK_SECRET="+hookSecret, "PEER_REDIS_URL="+redisURL, "PEER_PREFIX="+prefix, "PEER_PORT=0")
	first := &firstLine{line: make(chan string, 1)}
	cmd.Stdout = first
	cmd.Stderr = os.Stderr // the peer logs errors only, never a message's text
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	p := &peer{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	select {
	case line := <-first.line:
		addr, ok := strings.CutPrefix(line, "listening ")
		if !ok {
			p.stop()
			return nil, fmt.Errorf("peer: said %q, not where it listens", line)
		}
		p.addr = addr
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("peer: exited before listening (%v)", cmd.ProcessState)
	case <-time.After(15 * time.Second):
		p.stop()
		return nil, errors.New("peer: not listening after 15 s")
	}
}

// peerDir finds bench/peer from the working directory up, and checks that its packages are in.
func peerDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "bench", "peer")
		if _, err := os.Stat(filepath.Join(p, "bot.js")); err == nil {
			if _, err := os.Stat(filepath.Join(p, "node_modules")); err != nil {
				return "", errors.New("peer: bench/peer/node_modules is missing: run npm ci --prefix bench/peer")
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("peer: bench/peer/bot.js not found here or above: run farosload inside the repository")
		}
		dir = parent
	}
}

// stop asks the peer to end, and kills it if it has not within 3 seconds.
func (p *peer) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

func (p *peer) proc(file string) string { return fmt.Sprintf("/proc/%d/%s", p.cmd.Process.Pid, file) }

// cpu is the CPU time the peer has used, user and system, all its threads (/proc/PID/stat).
func (p *peer) cpu() time.Duration {
	b, err := os.ReadFile(p.proc("stat"))
	if err != nil {
		return 0
	}
	// The command's name, in parentheses, may hold spaces: the fields are counted after it.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	// /proc counts in USER_HZ, 100 a second on Linux whatever the kernel's own HZ.
	const userHZ = 100
	return time.Duration(utime+stime) * time.Second / userHZ
}

// peerMemory is the average MEMORY USAGE of the sessions of the first n conversations: the
// peer keeps one key a chat, its id under the prefix.
func peerMemory(ctx context.Context, rdb *redis.Client, prefix string, n int) (int64, error) {
	if n == 0 {
		return 0, errors.New("no sessions")
	}
	var total int64
	for i := range n {
		used, err := rdb.MemoryUsage(ctx, prefix+strconv.Itoa(1_000_000+i)).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return 0, err
		}
		total += used
	}
	return total / int64(n), nil
}

// firstLine hands the first line written to it to line, and drops the rest.
type firstLine struct {
	buf  []byte
	line chan string // buffered: one line
	sent bool
}

func (w *firstLine) Write(b []byte) (int, error) {
	if !w.sent {
		w.buf = append(w.buf, b...)
		if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
			w.line <- string(w.buf[:i])
			w.sent, w.buf = true, nil
		}
	}
	return len(b), nil
}

// onInterrupt runs cleanup and exits if farosload is interrupted before the returned func is
// called: a child process and its keys would otherwise be left behind.
func onInterrupt(cleanup func()) func() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cleanup()
			os.Exit(130)
		case <-done:
		}
	}()
	return func() { signal.Stop(sigs); close(done) }
}
