package harness

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
)

// Proxy starts a plain-HTTP proxy on loopback in front of sb's API server, for
// t, and returns a kubeconfig that sends a client to it. Each request gets the
// admin token (client-go sends none over plain HTTP), then goes to handle with
// the handler that forwards it to the API server.
func Proxy(t testing.TB, sb *sandbox.Sandbox, handle func(w http.ResponseWriter, r *http.Request, forward http.Handler)) (kubeconfig string) {
	t.Helper()
	target, _ := url.Parse(fmt.Sprintf("https://127.0.0.1:%d", sb.State.APIPort))
	rp := httputil.NewSingleHostReverseProxy(target)
	// A test-only hop on loopback to our own sandbox.
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+sandbox.AdminToken)
		handle(w, r, rp)
	}))
	t.Cleanup(server.Close)
	return proxyKubeconfig(t, server.URL)
}

// proxyKubeconfig writes a kubeconfig that sends a client to a test proxy on
// plain HTTP, with no credentials: the proxy adds the admin token.
func proxyKubeconfig(t testing.TB, url string) string {
	t.Helper()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: proxy, cluster: {server: %s}}]
users: [{name: admin, user: {}}]
contexts: [{name: proxy, context: {cluster: proxy, user: admin}}]
current-context: proxy
`, url)
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return kc
}

// CountingProxy forwards to a sandbox's API server and records every request.
type CountingProxy struct {
	mu       sync.Mutex
	requests []string
}

// NewCountingProxy starts a CountingProxy in front of sb's API server for t and
// returns it with a kubeconfig that sends a client through it.
func NewCountingProxy(t testing.TB, sb *sandbox.Sandbox) (*CountingProxy, string) {
	t.Helper()
	p := &CountingProxy{}
	kc := Proxy(t, sb, func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		p.mu.Lock()
		p.requests = append(p.requests, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		p.mu.Unlock()
		forward.ServeHTTP(w, r)
	})
	return p, kc
}

// Take returns the requests ("METHOD PATH?QUERY", sorted) seen since the last
// Take, and forgets them.
func (p *CountingProxy) Take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.requests
	p.requests = nil
	sort.Strings(out)
	return out
}
