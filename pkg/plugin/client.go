package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// newClient builds the clientset every command uses from kubectl's flags.
// (Protobuf was measured with make bench and made no difference within the
// noise, so the client keeps JSON.)
//
// It refuses when no kubeconfig was found (client-go would silently try
// http://localhost:8080). It notes whether the server ever answered (see
// describeConnError). With progress non-nil, a request the API server has
// not answered after waitNotice prints a line there, and one more every
// waitEvery: a server that accepts connections but never answers is otherwise
// silent until a timeout. Completion passes nil: a <TAB> prints nothing.
func newClient(f genericclioptions.RESTClientGetter, progress io.Writer) (kubernetes.Interface, error) {
	client, _, err := newClients(f, progress)
	return client, err
}

// newClients is newClient with, beside it, the dynamic client that inspect and failover list
// the medik8s remediations with (resources sparkha has no Go types for), on the same connection
// settings.
func newClients(f genericclioptions.RESTClientGetter, progress io.Writer) (kubernetes.Interface, dynamic.Interface, error) {
	cfg, err := f.ToRESTConfig()
	if err != nil {
		return nil, nil, err
	}
	if err := noKubeconfig(f, cfg.Host); err != nil {
		return nil, nil, err
	}
	w := &waitReporter{out: progress, server: cfg.Host, notice: waitNotice, every: waitEvery}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &reportingTransport{rt: rt, w: w, timeout: cfg.Timeout}
	})
	reportersMu.Lock()
	reporters = append(reporters, w)
	reportersMu.Unlock()
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	return client, dyn, err
}

// The reporters of the clients made, so that an error can tell a server that never
// answered from one that answered before and failed on the way (whose error, e.g. a
// create that timed out and what was rolled back, is kept as it is).
var (
	reportersMu sync.Mutex
	reporters   []*waitReporter
)

func serverAnswered(server string) bool {
	reportersMu.Lock()
	defer reportersMu.Unlock()
	for _, w := range reporters {
		if strings.TrimSuffix(w.server, "/") == server && w.hasAnswered() {
			return true
		}
	}
	return false
}

// How long a request may go unanswered before the first progress line, and
// between the next ones. Tests shorten them.
var (
	waitNotice = 5 * time.Second
	waitEvery  = 10 * time.Second
)

// noKubeconfig returns the error for a kubeconfig that was not found: no
// cluster in the merged config and client-go's fallback server.
func noKubeconfig(f genericclioptions.RESTClientGetter, host string) error {
	if host != "http://localhost:8080" && host != "localhost:8080" {
		return nil
	}
	raw, err := f.ToRawKubeConfigLoader().RawConfig()
	if err != nil || len(raw.Clusters) > 0 {
		return nil
	}
	where := "KUBECONFIG is not set and " + clientcmd.RecommendedHomeFile + " does not exist"
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		where = "KUBECONFIG=" + env + " names no existing file"
		if len(filepath.SplitList(env)) > 1 {
			where = "KUBECONFIG=" + env + " names no existing file with a cluster"
		}
	}
	return fmt.Errorf("no kubeconfig found (%s): point KUBECONFIG or --kubeconfig at your cluster's kubeconfig, or give --server", where)
}

// describeConnError words an error of the connection to an API server that never
// answered for the user: which it is (not reachable, reachable but silent) and what to
// do. It returns "" for any other error, and for a server that answered before.
func describeConnError(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return ""
	}
	server := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		server = u.Scheme + "://" + u.Host
	}
	if serverAnswered(server) {
		return ""
	}
	msg := ue.Err.Error()
	var op *net.OpError
	dialFailed := errors.As(err, &op) && op.Op == "dial"
	if dialFailed || strings.Contains(msg, "dial tcp") || strings.Contains(msg, "no such host") {
		cause := msg
		if dialFailed {
			cause = op.Err.Error()
		}
		var dns *net.DNSError
		if errors.As(err, &dns) {
			cause = dns.Error()
		}
		return fmt.Sprintf("cannot connect to the API server at %s (%s): is the cluster running and is this the right server? "+
			"See the current context's server with kubectl config view --minify, or choose another context with --context", server, cause)
	}
	var reason string
	var noAnswer *noAnswerError
	switch {
	case errors.As(err, &noAnswer) || strings.Contains(msg, "Client.Timeout exceeded"):
		reason = "no answer within --request-timeout"
	case strings.Contains(msg, "TLS handshake timeout"):
		reason = "the TLS handshake timed out"
	case ue.Timeout() && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled):
		reason = "timed out"
	default:
		return ""
	}
	return fmt.Sprintf("the API server at %s accepts connections but does not answer (%s): check that the API server is healthy; "+
		"--request-timeout sets how long to wait (e.g. --request-timeout=1m)", server, reason)
}

// reportingTransport tells its waitReporter when requests start and end.
type reportingTransport struct {
	rt      http.RoundTripper
	w       *waitReporter
	timeout time.Duration // --request-timeout; 0 for none
}

func (t *reportingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.w.begin()
	began := time.Now()
	resp, err := t.rt.RoundTrip(req)
	t.w.end(err == nil)
	// client-go ends a request after --request-timeout through its context: tell that
	// deadline from the command's own (failover --timeout) by how long it took.
	if err != nil && t.timeout > 0 && errors.Is(req.Context().Err(), context.DeadlineExceeded) &&
		time.Since(began) >= t.timeout-50*time.Millisecond {
		err = &noAnswerError{err: err}
	}
	return resp, err
}

// CancelRequest and WrappedRoundTripper let client-go reach the transport below.
func (t *reportingTransport) CancelRequest(req *http.Request) {
	if c, ok := t.rt.(interface{ CancelRequest(*http.Request) }); ok {
		c.CancelRequest(req)
	}
}

func (t *reportingTransport) WrappedRoundTripper() http.RoundTripper { return t.rt }

// noAnswerError is a request that got no answer within --request-timeout.
type noAnswerError struct{ err error }

func (e *noAnswerError) Error() string   { return e.err.Error() }
func (e *noAnswerError) Unwrap() error   { return e.err }
func (e *noAnswerError) Timeout() bool   { return true }
func (e *noAnswerError) Temporary() bool { return true }

// waitReporter prints "still waiting" lines while the API server has left
// requests unanswered for waitNotice, then every waitEvery. The wait counts
// from the first request not answered since the last answer, across retries.
type waitReporter struct {
	out           io.Writer
	server        string
	notice, every time.Duration

	mu       sync.Mutex
	answered bool // the server answered a request
	inflight int
	since    time.Time // start of the unanswered wait; zero after an answer
	printed  int       // lines printed for this wait
	timer    *time.Timer
}

func (w *waitReporter) begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inflight++
	if w.since.IsZero() {
		w.since, w.printed = time.Now(), 0
	}
	w.schedule()
}

func (w *waitReporter) end(answered bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inflight--
	if answered {
		w.since, w.answered = time.Time{}, true
	}
	if w.inflight == 0 || answered {
		if w.timer != nil {
			w.timer.Stop()
			w.timer = nil
		}
	}
	if w.inflight > 0 && answered {
		w.since, w.printed = time.Now(), 0
		w.schedule()
	}
}

func (w *waitReporter) hasAnswered() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.answered
}

// due is when the next line is due, relative to since.
func (w *waitReporter) due() time.Duration {
	return w.notice + time.Duration(w.printed)*w.every
}

// schedule arms the timer for the next line; w.mu is held.
func (w *waitReporter) schedule() {
	if w.timer != nil || w.out == nil {
		return
	}
	w.timer = time.AfterFunc(time.Until(w.since.Add(w.due())), w.tick)
}

func (w *waitReporter) tick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = nil
	if w.inflight == 0 || w.since.IsZero() || w.out == nil {
		return
	}
	if elapsed := time.Since(w.since); elapsed >= w.due() {
		fmt.Fprintf(w.out, "still waiting for the API server at %s (%s); --request-timeout limits the wait\n",
			w.server, w.due().Round(time.Second))
		w.printed++
	}
	w.schedule()
}
