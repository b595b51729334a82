package e2e

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
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
)

// countingProxy forwards to the sandbox's API server and records every request.
type countingProxy struct {
	mu       sync.Mutex
	requests []string
	server   *httptest.Server
}

func (e *env) countingProxy() (*countingProxy, string) {
	e.t.Helper()
	target, _ := url.Parse(fmt.Sprintf("https://127.0.0.1:%d", e.sb.State.APIPort))
	rp := httputil.NewSingleHostReverseProxy(target)
	// A test-only hop on loopback to our own sandbox.
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec
	p := &countingProxy{}
	p.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests = append(p.requests, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		p.mu.Unlock()
		// client-go sends no bearer token over plain HTTP; the proxy adds it.
		r.Header.Set("Authorization", "Bearer "+sandbox.AdminToken)
		rp.ServeHTTP(w, r)
	}))
	e.t.Cleanup(p.server.Close)
	kc := e.proxyKubeconfig(p.server.URL)
	return p, kc
}

// proxyKubeconfig writes a kubeconfig that sends the plugin to a test proxy
// on plain HTTP; the proxy adds the admin token (client-go sends none over HTTP).
func (e *env) proxyKubeconfig(url string) string {
	e.t.Helper()
	kc := filepath.Join(e.t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: proxy, cluster: {server: %s}}]
users: [{name: admin, user: {}}]
contexts: [{name: proxy, context: {cluster: proxy, user: admin}}]
current-context: proxy
`, url)
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return kc
}

func (p *countingProxy) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.requests
	p.requests = nil
	sort.Strings(out)
	return out
}

// TestInspectRequestCount: inspect -A makes the same, fixed number of
// requests on a small and on a larger cluster: one LIST per kind.
func TestInspectRequestCount(t *testing.T) {
	e := start(t, twoNodes)
	proxy, kc := e.countingProxy()
	inspectAll := func() []string {
		out, err := e.run(bins.plugin, "inspect", "-A", "-o", "json", "--kubeconfig", kc)
		if err != nil && !strings.Contains(err.Error(), "exit status 3") {
			t.Fatal(err)
		}
		if !strings.Contains(out, `"apps"`) {
			t.Fatalf("inspect printed %q", out)
		}
		return proxy.take()
	}

	e.namespace("small")
	e.submit("app-0", "-n", "small", "--image", "spark:3.5.3", "--class", "A", "local:///a.jar", "--checkpoint-size", "1Gi", "--wait", "--timeout", "60s")
	small := inspectAll()

	for _, n := range []string{"node-c", "node-d", "node-e"} {
		if err := e.sb.AddNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 4; i++ {
		ns := fmt.Sprintf("big-%d", i)
		e.namespace(ns)
		e.submit(fmt.Sprintf("app-%d", i), "-n", ns, "--image", "spark:3.5.3", "--class", "A", "local:///a.jar", "--checkpoint-size", "1Gi")
	}
	e.seedJob("big-1", "seed", corev1.ReadWriteOnce)
	for i := range 150 {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Namespace: "big-2", Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
		}
		if _, err := e.client().CoreV1().Pods("big-2").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	big := inspectAll()

	t.Logf("inspect -A requests, small cluster (2 nodes, 1 app): %d", len(small))
	t.Logf("inspect -A requests, larger cluster (5 nodes, 6 apps, 150 other pods): %d", len(big))
	for _, r := range big {
		t.Logf("  %s", r)
	}
	if len(small) != len(big) || len(small) != 10 {
		t.Fatalf("request count must be one LIST per kind (10) at any size: small %d %v, big %d %v", len(small), small, len(big), big)
	}
	for _, r := range big {
		if !strings.HasPrefix(r, "GET ") || !strings.Contains(r, "limit=500") {
			t.Errorf("not a paginated LIST: %s", r)
		}
	}
}
