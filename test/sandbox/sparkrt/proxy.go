package sparkrt

import (
	"context"
	"io"
	"log"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// serveAPI listens on ServiceIP:443 inside the node's namespace and forwards each connection to
// the API server at apiAddr (in the node process's own namespace). While isolatedFile exists
// new connections are closed at once and the open ones are cut, as packets to an unreachable
// network are lost; while the process is stopped (a partition) nothing is forwarded at all.
func serveAPI(ctx context.Context, nodeNS, apiAddr, isolatedFile string, logger *log.Logger) error {
	l, err := listenIn("/run/netns/"+nodeNS, ServiceIP+":443")
	if err != nil {
		return err
	}
	p := &apiProxy{to: apiAddr, isolated: isolatedFile, log: logger, conns: map[net.Conn]bool{}}
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	go p.cutWhenIsolated(ctx)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
	return nil
}

type apiProxy struct {
	to, isolated string
	log          *log.Logger
	mu           sync.Mutex
	conns        map[net.Conn]bool
}

func (p *apiProxy) isIsolated() bool {
	if p.isolated == "" {
		return false
	}
	_, err := os.Stat(p.isolated)
	return err == nil
}

func (p *apiProxy) cutWhenIsolated(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !p.isIsolated() {
			continue
		}
		p.mu.Lock()
		for c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	}
}

func (p *apiProxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *apiProxy) forward(c net.Conn) {
	defer c.Close()
	if p.isIsolated() {
		return
	}
	up, err := net.Dial("tcp", p.to)
	if err != nil {
		p.log.Printf("api proxy: dial %s: %v", p.to, err)
		return
	}
	defer up.Close()
	p.track(c, true)
	p.track(up, true)
	defer p.track(c, false)
	defer p.track(up, false)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

// listenIn opens a listening socket inside the namespace: a socket belongs to the namespace of
// the thread that created it, so only that thread switches, and back before any other
// goroutine can run on it.
func listenIn(netns, addr string) (net.Listener, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, err
	}
	defer self.Close()
	target, err := os.Open(netns)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, err
	}
	l, lerr := net.Listen("tcp", addr)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread is in the wrong namespace and cannot be trusted with anything else.
		log.Fatalf("back to the node's own network namespace: %v", err)
	}
	return l, lerr
}
