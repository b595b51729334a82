package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/failover"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/internal/harness"
)

// API fault injection: a reverse proxy between the plugin and the sandbox's
// API server that answers chosen requests with a fault instead of (or after)
// forwarding them. The plugin runs with --request-timeout=2s against it.

// fault is what the proxy does to a request instead of answering it normally.
type fault string

const (
	// fault500 is an internal error without Retry-After: client-go does not retry it.
	fault500 fault = "500"
	// fault500RetryAfter is an internal error with Retry-After: 1.
	fault500RetryAfter fault = "500 Retry-After: 1"
	// fault429 is throttling with Retry-After: 1.
	fault429 fault = "429 Retry-After: 1"
	// faultTimeout holds the request, never forwarded, past the client's --request-timeout.
	faultTimeout fault = "timeout"
	// faultDrop closes the connection without a response; the server never saw the request.
	faultDrop fault = "drop"
	// faultDropAfter forwards the request, so the server acts on it, then closes the
	// connection without a response: the client cannot know that it happened.
	faultDropAfter fault = "drop after the server acted"
	// fault500RetryAfterActed forwards the request, so the server acts on it, then answers
	// 500 with Retry-After: 1: client-go sends the request again.
	fault500RetryAfterActed fault = "500 Retry-After: 1 after the server acted"
	// fault409 answers a PUT or PATCH with a Conflict, as a stale resourceVersion does.
	fault409 fault = "409 Conflict"
)

// requestTimeout is the plugin's --request-timeout under faults; faultTimeout holds longer.
const requestTimeout = 2 * time.Second

// faultRule injects fault into the requests whose method and path match, at the
// given 1-based positions among the requests it matches (every one if nth is empty).
type faultRule struct {
	methods string // space-separated, "" for any
	path    *regexp.Regexp
	// selector, if set, is the labelSelector the request must carry (two
	// LISTs of inspect share /api/v1/pods: driver and executor pods).
	selector string
	nth      []int
	fault    fault
	seen     int
}

func (r *faultRule) matches(req *http.Request) bool {
	if r.methods != "" && !strings.Contains(" "+r.methods+" ", " "+req.Method+" ") {
		return false
	}
	if r.selector != "" && req.URL.Query().Get("labelSelector") != r.selector {
		return false
	}
	return r.path == nil || r.path.MatchString(req.URL.Path)
}

// hit counts a matching request and reports whether it gets the fault.
func (r *faultRule) hit() bool {
	r.seen++
	if len(r.nth) == 0 {
		return true
	}
	for _, n := range r.nth {
		if n == r.seen {
			return true
		}
	}
	return false
}

// faultRequest is one request the proxy saw, and the fault it injected, if any.
type faultRequest struct {
	Method, Path string
	Selector     string // labelSelector, if any
	Fault        fault
}

func (r faultRequest) String() string {
	s := r.Method + " " + r.Path
	if r.Selector != "" {
		s += "?labelSelector=" + r.Selector
	}
	if r.Fault != "" {
		s += " [" + string(r.Fault) + "]"
	}
	return s
}

type faultProxy struct {
	t     testing.TB
	mu    sync.Mutex
	rules []*faultRule
	log   []faultRequest
	kc    string
}

// faultProxy starts a proxy to the sandbox's API server and writes a
// kubeconfig that points at it.
func (e *env) faultProxy() *faultProxy {
	e.t.Helper()
	p := &faultProxy{t: e.t}
	p.kc = harness.Proxy(e.t, e.sb, func(w http.ResponseWriter, r *http.Request, forward http.Handler) {
		f := p.decide(r)
		if f == "" {
			forward.ServeHTTP(w, r)
			return
		}
		p.inject(w, r, f, forward)
	})
	return p
}

// decide records the request and returns the fault of the first rule that
// matches it and fires, if any.
func (p *faultProxy) decide(r *http.Request) fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	var f fault
	for _, rl := range p.rules {
		if rl.matches(r) && rl.hit() && f == "" {
			f = rl.fault
		}
	}
	p.log = append(p.log, faultRequest{Method: r.Method, Path: r.URL.Path, Selector: r.URL.Query().Get("labelSelector"), Fault: f})
	return f
}

func (p *faultProxy) inject(w http.ResponseWriter, r *http.Request, f fault, forward http.Handler) {
	switch f {
	case fault500:
		writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, "injected fault: internal error", "")
	case fault500RetryAfter:
		writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, "injected fault: internal error, retry", "1")
	case fault429:
		writeStatus(w, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests, "injected fault: too many requests", "1")
	case fault409:
		writeStatus(w, http.StatusConflict, metav1.StatusReasonConflict,
			"Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again (injected fault)", "")
	case faultTimeout:
		// Never forwarded: held until the client gives up (or long after it should have).
		// The server notices a closed connection only once the body has been read.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(4 * requestTimeout):
			p.t.Errorf("%s %s: the client did not give up within %s of its --request-timeout", r.Method, r.URL.Path, 4*requestTimeout)
		}
		writeStatus(w, http.StatusGatewayTimeout, metav1.StatusReasonTimeout, "injected fault: timeout", "")
	case faultDrop:
		_, _ = io.Copy(io.Discard, r.Body)
		hangUp(w)
	case faultDropAfter:
		rec := httptest.NewRecorder()
		forward.ServeHTTP(rec, r)
		p.t.Logf("fault proxy: %s %s: the server answered %d; the client never hears it", r.Method, r.URL.Path, rec.Code)
		hangUp(w)
	case fault500RetryAfterActed:
		rec := httptest.NewRecorder()
		forward.ServeHTTP(rec, r)
		p.t.Logf("fault proxy: %s %s: the server answered %d; the client hears 500", r.Method, r.URL.Path, rec.Code)
		writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, "injected fault: internal error after the server acted, retry", "1")
	default:
		panic("unknown fault " + f)
	}
}

func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Message: msg, Reason: reason, Code: int32(code),
	})
}

// hangUp closes the client's connection without a response.
func hangUp(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// set replaces the rules and forgets the requests seen so far.
func (p *faultProxy) set(rules ...*faultRule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.log = rules, nil
}

// take returns the requests seen since the last take or set.
func (p *faultProxy) take() []faultRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.log
	p.log = nil
	return out
}

// countRequests returns how many of reqs match method and path.
func countRequests(reqs []faultRequest, method, path string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// countLists counts the GETs of path carrying this labelSelector ("" for any).
func countLists(reqs []faultRequest, path, selector string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == "GET" && r.Path == path && (selector == "" || r.Selector == selector) {
			n++
		}
	}
	return n
}

func describeRequests(reqs []faultRequest) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString("\n  " + r.String())
	}
	return b.String()
}

// cli runs the plugin through the proxy with a short request timeout.
func (p *faultProxy) cli(e *env, args ...string) (string, string, int) {
	e.t.Helper()
	return e.cli(append(args, "--kubeconfig", p.kc, "--request-timeout", requestTimeout.String())...)
}

// faultSeed is the seed of this run's fault schedule: SPARKHA_FAULT_SEED replays one.
func faultSeed(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SPARKHA_FAULT_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("SPARKHA_FAULT_SEED=%q: %v", s, err)
		}
	}
	t.Logf("fault schedule seed %d (replay with SPARKHA_FAULT_SEED=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed))
}

// noPanic fails the test if the plugin panicked.
func noPanic(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
		t.Fatalf("the plugin panicked:\n%s", stderr)
	}
}

// inspectLists are the LISTs of inspect -A, in the order it makes them, with
// the name its error message gives each.
var inspectLists = []struct{ kind, path, selector string }{
	{"Spark driver pods", "/api/v1/pods", "spark-role=driver"},
	{"nodes", "/api/v1/nodes", ""},
	{"leases", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", ""},
	{"executor pods", "/api/v1/pods", "spark-role=executor"},
	{"jobs", "/apis/batch/v1/jobs", ""},
	{"persistentvolumeclaims", "/api/v1/persistentvolumeclaims", ""},
	{"persistentvolumes", "/api/v1/persistentvolumes", ""},
	{"volumeattachments", "/apis/storage.k8s.io/v1/volumeattachments", ""},
	{"csidrivers", "/apis/storage.k8s.io/v1/csidrivers", ""},
	{"events", "/api/v1/events", ""},
}

// retriedGET says whether a LIST that met the fault is tried again: client-go
// retries 5xx and 429 with Retry-After and a closed connection; inspect
// itself retries the rest (a bare 500, a client timeout), since a LIST
// changes nothing.
var retriedGET = map[fault]bool{
	fault500: true, fault500RetryAfter: true, fault429: true, faultTimeout: true, faultDrop: true,
}

// TestFaultsInspect: every LIST of inspect -A meets a fault on its first
// attempt, each LIST a fault of the seeded schedule (every kind at least
// once). A run either retries its way to the right verdict or exits 1 naming
// the LIST that failed; rerunning converges, as each LIST fails only once.
func TestFaultsInspect(t *testing.T) {
	rng := faultSeed(t)
	e := start(t, twoNodes)
	e.namespace("fi")
	e.submit("app", "-n", "fi", "--image", "spark:3.5.3", "--class", "A", "local:///a.jar",
		"--checkpoint-size", "1Gi", "--wait", "--timeout", "60s")
	e.runningDriver("fi", "app")
	p := e.faultProxy()

	kinds := []fault{fault500, fault500RetryAfter, fault429, faultTimeout, faultDrop}
	schedule := append([]fault(nil), kinds...)
	for len(schedule) < len(inspectLists) {
		schedule = append(schedule, kinds[rng.IntN(len(kinds))])
	}
	rng.Shuffle(len(schedule), func(i, j int) { schedule[i], schedule[j] = schedule[j], schedule[i] })
	var rules []*faultRule
	for i, l := range inspectLists {
		rules = append(rules, &faultRule{methods: "GET", path: regexp.MustCompile("^" + regexp.QuoteMeta(l.path) + "$"), selector: l.selector, nth: []int{1}, fault: schedule[i]})
		t.Logf("schedule: LIST %s: %s on the first attempt", l.kind, schedule[i])
	}
	p.set(rules...)

	faulted := 0 // the LISTs before this one have had their fault
	for run := 1; ; run++ {
		if run > len(inspectLists)+1 {
			t.Fatal("inspect did not converge")
		}
		began := time.Now()
		stdout, stderr, code := p.cli(e, "inspect", "-A", "-o", "json")
		reqs := p.take()
		noPanic(t, stderr)
		t.Logf("run %d: exit %d in %.1fs, requests:%s\nstderr: %s", run, code, time.Since(began).Seconds(), describeRequests(reqs), strings.TrimSpace(stderr))
		// What this run must have done, LIST by LIST.
		failedAt := -1
		for i, l := range inspectLists {
			got := countLists(reqs, l.path, l.selector)
			want := 1
			switch {
			case failedAt >= 0:
				want = 0 // inspect stops at the first failed LIST
			case i >= faulted && retriedGET[schedule[i]]:
				want = 2 // the fault, then client-go's retry
			case i >= faulted:
				failedAt = i // the fault, not retried
			}
			if got != want {
				t.Errorf("run %d: LIST %s (%s): %d requests, want %d", run, l.kind, schedule[i], got, want)
			}
		}
		if failedAt < 0 {
			if code != 0 {
				t.Fatalf("run %d: every fault was retried, yet exit %d\n%s", run, code, stderr)
			}
			var rep struct {
				Apps []struct{ Name, Verdict string }
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Apps) != 1 || rep.Apps[0].Verdict != "Healthy" {
				t.Fatalf("run %d: want app Healthy, got %v %q", run, err, stdout)
			}
			if faulted < len(inspectLists) {
				faulted = len(inspectLists)
				continue // once more: no fault is left, the answer must be the same
			}
			break
		}
		l := inspectLists[failedAt]
		if want := "error: listing " + l.kind + ": "; code != 1 || !strings.HasPrefix(stderr, want) || stdout != "" {
			t.Fatalf("run %d: %s on LIST %s: want exit 1 and %q..., got exit %d\nstdout: %s\nstderr: %s", run, schedule[failedAt], l.kind, want, code, stdout, stderr)
		}
		faulted = failedAt + 1
	}

	// A fault that persists: three tries, then a clear error naming the LIST.
	p.set(&faultRule{methods: "GET", path: regexp.MustCompile("^/api/v1/nodes$"), nth: []int{1, 2, 3}, fault: fault500})
	stdout, stderr, code := p.cli(e, "inspect", "-A", "-o", "json")
	reqs := p.take()
	noPanic(t, stderr)
	if got := countRequests(reqs, "GET", "/api/v1/nodes"); got != 3 || code != 1 || !strings.HasPrefix(stderr, "error: listing nodes: ") || stdout != "" {
		t.Fatalf("persistent 500 on nodes: %d requests, exit %d, stderr %q, stdout %q; want 3, exit 1, error: listing nodes: ...", got, code, stderr, stdout)
	}
	t.Logf("persistent fault: %s", strings.TrimSpace(stderr))
}

// submitObjects are the names of the objects submit creates for app, in the
// order it creates them.
func submitObjects(app string) []string {
	return []string{"persistentvolumeclaim/" + app + "-checkpoint", "job.batch/" + app, "configmap/" + app + "-spark-conf", "service/" + app + "-driver-svc"}
}

// appObjects returns which of app's objects exist, and their app IDs
// (sparkha.io/app-id); "deleting" marks one with a deletion timestamp.
func (e *env) appObjects(ns, app string) map[string]string {
	e.t.Helper()
	c := e.client()
	out := map[string]string{}
	add := func(what string, m metav1.Object, err error) {
		switch {
		case isNotFound(err):
		case err != nil:
			e.t.Fatal(err)
		case m.GetDeletionTimestamp() != nil:
			out[what] = "deleting"
		default:
			out[what] = m.GetLabels()[sparkapp.LabelAppID]
		}
	}
	names := submitObjects(app)
	pvc, err := c.CoreV1().PersistentVolumeClaims(ns).Get(ctx, app+"-checkpoint", metav1.GetOptions{})
	add(names[0], pvc, err)
	job, err := c.BatchV1().Jobs(ns).Get(ctx, app, metav1.GetOptions{})
	add(names[1], job, err)
	cm, err := c.CoreV1().ConfigMaps(ns).Get(ctx, app+"-spark-conf", metav1.GetOptions{})
	add(names[2], cm, err)
	svc, err := c.CoreV1().Services(ns).Get(ctx, app+"-driver-svc", metav1.GetOptions{})
	add(names[3], svc, err)
	return out
}

// noPartial waits until none of app's objects is left (the rollback deletes
// the Job and the new claim; the garbage collector the objects the Job owns).
func (e *env) noPartial(ns, app string) {
	e.t.Helper()
	e.eventually(30*time.Second, "no object of "+app+" left", func() (bool, string) {
		objs := e.appObjects(ns, app)
		return len(objs) == 0, fmt.Sprint(objs)
	})
}

// allFour checks that app has exactly its four objects, of one submit.
func (e *env) allFour(ns, app string) {
	e.t.Helper()
	objs := e.appObjects(ns, app)
	ids := map[string]bool{}
	for _, id := range objs {
		ids[id] = true
	}
	if len(objs) != 4 || len(ids) != 1 || ids["deleting"] || ids[""] {
		e.t.Fatalf("%s: want its 4 objects of one submit, got %v", app, objs)
	}
}

// TestFaultsSubmit: a fault on the Nth write of submit (the claim, the Job,
// the ConfigMap, the Service) fails it, naming the object, and leaves nothing
// behind; a rerun creates exactly the four objects. Faults client-go retries
// are retried; a claim submit did not create is never deleted; a create the
// server carried out but whose answer was lost counts as created.
func TestFaultsSubmit(t *testing.T) {
	rng := faultSeed(t)
	e := start(t, twoNodes)
	const ns = "fs"
	e.namespace(ns)
	p := e.faultProxy()
	args := func(app string, extra ...string) []string {
		return append([]string{"submit", app, "-n", ns, "--image", "spark:3.5.3", "--class", "A", "local:///a.jar"}, extra...)
	}
	writes := "POST PUT PATCH DELETE"
	unretried := []fault{fault500, faultTimeout, faultDrop}

	for n := 1; n <= 4; n++ {
		app := fmt.Sprintf("w%d", n)
		f := unretried[rng.IntN(len(unretried))]
		p.set(&faultRule{methods: writes, nth: []int{n}, fault: f})
		stdout, stderr, code := p.cli(e, args(app, "--checkpoint-size", "1Gi")...)
		reqs := p.take()
		noPanic(t, stderr)
		failing := submitObjects(app)[n-1]
		t.Logf("%s on write %d (%s): exit %d, requests:%s\nstderr: %s", f, n, failing, code, describeRequests(reqs), strings.TrimSpace(stderr))
		want := fmt.Sprintf("error: creating %s in namespace %q failed: ", failing, ns)
		// The claim's note comes first, before anything is created; then the error.
		note, rest, _ := strings.Cut(stderr, "\n")
		if code != 1 || !strings.HasPrefix(note, "Warning: checkpoint claim "+app+"-checkpoint is ReadWriteOncePod: ") || !strings.HasPrefix(rest, want) {
			t.Fatalf("%s on write %d: want exit 1 and %q..., got exit %d\nstdout: %s\nstderr: %s", f, n, want, code, stdout, stderr)
		}
		if n == 1 && !strings.Contains(stderr, "nothing was created") {
			t.Errorf("first write failed: the message should say nothing was created: %s", stderr)
		}
		if n > 1 && !strings.Contains(stderr, "removed what this run created: ") {
			t.Errorf("the message should say what the rollback removed: %s", stderr)
		}
		e.noPartial(ns, app)
		p.set()
		if _, stderr, code := p.cli(e, args(app, "--checkpoint-size", "1Gi")...); code != 0 {
			t.Fatalf("rerun of %s without faults: exit %d\n%s", app, code, stderr)
		}
		e.allFour(ns, app)
	}

	// A claim that existed before is never deleted by the rollback.
	shared, err := e.client().CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "shared"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.set(&faultRule{methods: writes, nth: []int{2}, fault: fault500}) // the ConfigMap: the Job exists by then
	_, stderr, code := p.cli(e, args("pre", "--checkpoint-claim", "shared")...)
	noPanic(t, stderr)
	t.Logf("500 on the ConfigMap create with --checkpoint-claim: exit %d, requests:%s\nstderr: %s", code, describeRequests(p.take()), strings.TrimSpace(stderr))
	if code != 1 || !strings.Contains(stderr, "creating configmap/pre-spark-conf") || !strings.HasSuffix(strings.TrimSpace(stderr), "removed what this run created: job.batch/pre") {
		t.Fatalf("want exit 1 naming the ConfigMap and removing only the Job, got exit %d: %s", code, stderr)
	}
	e.noPartial(ns, "pre")
	p.set()
	if _, stderr, code := p.cli(e, args("pre", "--checkpoint-claim", "shared")...); code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, stderr)
	}
	if objs := e.appObjects(ns, "pre"); len(objs) != 3 {
		t.Errorf("pre: want Job, ConfigMap and Service, got %v", objs)
	}
	if c, err := e.client().CoreV1().PersistentVolumeClaims(ns).Get(ctx, "shared", metav1.GetOptions{}); err != nil || c.UID != shared.UID || c.DeletionTimestamp != nil {
		t.Fatalf("the existing claim was touched: %v %+v", err, c)
	}

	// 429 and 5xx with Retry-After: client-go sends the create again, and submit succeeds.
	p.set(
		&faultRule{methods: "POST", path: regexp.MustCompile(`/persistentvolumeclaims$`), nth: []int{1}, fault: fault429},
		&faultRule{methods: "POST", path: regexp.MustCompile(`/jobs$`), nth: []int{1}, fault: fault500RetryAfter},
		&faultRule{methods: "POST", path: regexp.MustCompile(`/configmaps$`), nth: []int{1}, fault: fault429},
		&faultRule{methods: "POST", path: regexp.MustCompile(`/services$`), nth: []int{1}, fault: fault500RetryAfter},
	)
	_, stderr, code = p.cli(e, args("retried", "--checkpoint-size", "1Gi")...)
	reqs := p.take()
	noPanic(t, stderr)
	t.Logf("429 / 500 with Retry-After on every create: exit %d, requests:%s", code, describeRequests(reqs))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, r := range []string{"persistentvolumeclaims", "configmaps", "services"} {
		if n := countRequests(reqs, "POST", "/api/v1/namespaces/"+ns+"/"+r); n != 2 {
			t.Errorf("POST %s: %d requests, want 2 (the fault, the retry)", r, n)
		}
	}
	if n := countRequests(reqs, "POST", "/apis/batch/v1/namespaces/"+ns+"/jobs"); n != 2 {
		t.Errorf("POST jobs: %d requests, want 2", n)
	}
	e.allFour(ns, "retried")

	// The server creates the Job but its answer is lost: the connection
	// drops, or a 500 with Retry-After makes client-go create it again.
	for _, f := range []fault{faultDropAfter, fault500RetryAfterActed} {
		app := map[fault]string{faultDropAfter: "dropped", fault500RetryAfterActed: "again"}[f]
		p.set(&faultRule{methods: "POST", path: regexp.MustCompile(`/jobs$`), nth: []int{1}, fault: f})
		stdout, stderr, code := p.cli(e, args(app, "--checkpoint-size", "1Gi")...)
		reqs := p.take()
		noPanic(t, stderr)
		t.Logf("%s on the Job create: exit %d, requests:%s\nstdout: %s\nstderr: %s", f, code, describeRequests(reqs), strings.TrimSpace(stdout), strings.TrimSpace(stderr))
		// Without reading the Job back, submit failed, deleted the claim and left
		// the Job (and its driver) behind; a rerun then found the Job "already exists".
		if code != 0 {
			t.Fatalf("%s on the Job create: exit %d; objects left: %v", f, code, e.appObjects(ns, app))
		}
		if n := countRequests(reqs, "GET", "/apis/batch/v1/namespaces/"+ns+"/jobs/"+app); n != 2 {
			t.Errorf("want the Job read back once after the failed create (2 GETs with the precondition check), got %d", n)
		}
		e.allFour(ns, app)
	}
}

// outOfService counts the out-of-service taints on node.
func (e *env) outOfService(node string) int {
	n := 0
	for _, t := range e.node(node).Spec.Taints {
		if t.Key == corev1.TaintNodeOutOfService {
			n++
		}
	}
	return n
}

// firedFaults returns the requests that met a fault.
func firedFaults(reqs []faultRequest) []faultRequest {
	var out []faultRequest
	for _, r := range reqs {
		if r.Fault != "" {
			out = append(out, r)
		}
	}
	return out
}

// TestFaultsFailover: the node-down flow under faults. A 409 on the node
// Update makes the runner read the node again and fence it once; dropped
// connections, a 500 and a timeout on the LISTs of the wait only delay it.
// Then the replacement's node dies too, and a 500 on every try of the audit
// Event fails the second failover after the fence was done: three tries (the
// Event's name is fixed, so retrying cannot record it twice), then exit 1
// saying so; the rerun does not act again and the app runs again.
func TestFaultsFailover(t *testing.T) {
	e := start(t, twoNodes)
	const ns, app = "ff", "stream"
	e.namespace(ns)
	e.submitStreaming(ns, app)
	old := e.runningDriver(ns, app)
	first := old.Spec.NodeName
	e.killNode(first)
	e.waitEvicted(ns, old.Name)
	p := e.faultProxy()

	// The plan and the re-check before the fence make the first LISTs of each kind; the
	// re-check before the collection of the old driver meets the faults, and its retries of
	// transient errors (a LIST is idempotent) carry it through.
	exact := func(path string) *regexp.Regexp { return regexp.MustCompile("^" + regexp.QuoteMeta(path) + "$") }
	p.set(
		&faultRule{methods: "PUT", path: exact("/api/v1/nodes/" + first), nth: []int{1}, fault: fault409},
		&faultRule{methods: "GET", path: exact("/api/v1/namespaces/" + ns + "/pods"), nth: []int{3, 4}, fault: faultDrop},
		&faultRule{methods: "GET", path: exact("/api/v1/nodes"), nth: []int{3}, fault: fault500},
		&faultRule{methods: "GET", path: exact("/apis/batch/v1/namespaces/" + ns + "/jobs"), nth: []int{3}, fault: faultTimeout},
	)
	began := time.Now()
	stdout, stderr, code := p.cli(e, "failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "90s")
	reqs := p.take()
	noPanic(t, stderr)
	t.Logf("failover --node-down under faults: exit %d in %.1fs; faults:%s\nstdout: %s\nstderr: %s", code, time.Since(began).Seconds(),
		describeRequests(firedFaults(reqs)), strings.TrimSpace(stdout), strings.TrimSpace(stderr))
	if code != 0 || !strings.Contains(stdout, "failover of ff/stream complete") {
		t.Fatalf("failover under faults: exit %d\nstdout: %s\nstderr: %s\nrequests:%s", code, stdout, stderr, describeRequests(reqs))
	}
	fence := "fence node " + first + " (taint node.kubernetes.io/out-of-service=nodeshutdown:NoExecute): done"
	if strings.Count(stderr, fence) != 1 {
		t.Errorf("want %q once on stderr:\n%s", fence, stderr)
	}
	if n := countRequests(reqs, "PUT", "/api/v1/nodes/"+first); n != 2 {
		t.Errorf("node Update: %d requests, want 2 (the 409, then the update of the node read again)", n)
	}
	if got := len(firedFaults(reqs)); got != 5 {
		t.Errorf("%d faults fired, want 5 (the wait ended before its third poll?):%s", got, describeRequests(reqs))
	}
	if n := e.outOfService(first); n != 1 {
		t.Errorf("node %s has %d out-of-service taints, want 1", first, n)
	}
	// The collection is failover's only if it got there before the pod garbage collector, which
	// collects a fenced node's pods at its next pass too.
	if got := eventReasons(e.failoverEvents(ns)); got != "FailoverFencedNode,FailoverCollectedOldDriver" && got != "FailoverFencedNode" {
		t.Errorf("audit events: %s", got)
	}
	repl, pods := e.replacement(ns, app, old.Name)
	if repl == nil || repl.Status.Phase != corev1.PodRunning || len(pods) != 1 {
		t.Fatalf("after failover: %s", describePods(pods))
	}

	// The first machine is repaired; the replacement's dies.
	if err := e.sb.Restart(ctx, first); err != nil {
		t.Fatal(err)
	}
	if out, stderr, code := e.cli("release", first); code != 0 {
		t.Fatalf("release: exit %d %q %s", code, out, stderr)
	}
	second := repl.Spec.NodeName
	e.killNode(second)
	e.waitEvicted(ns, repl.Name)

	p.set(&faultRule{methods: "POST", path: exact("/api/v1/namespaces/" + ns + "/events"), fault: fault500})
	stdout, stderr, code = p.cli(e, "failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "90s")
	reqs = p.take()
	noPanic(t, stderr)
	t.Logf("failover --node-down, 500 on the audit Event: exit %d; faults:%s\nstdout: %s\nstderr: %s", code,
		describeRequests(firedFaults(reqs)), strings.TrimSpace(stdout), strings.TrimSpace(stderr))
	fence = "fence node " + second + " (taint node.kubernetes.io/out-of-service=nodeshutdown:NoExecute)"
	if want := "error: " + fence + " was done, but recording it failed (3 tries): injected fault: internal error"; code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("want exit 1 and %q, got exit %d\nstderr: %s", want, code, stderr)
	}
	if n := countRequests(reqs, "POST", "/api/v1/namespaces/"+ns+"/events"); n != 3 {
		t.Errorf("Event create: %d requests, want 3 (an idempotent write retried on a 500)", n)
	}
	if n := e.outOfService(second); n != 1 {
		t.Errorf("node %s has %d out-of-service taints, want 1", second, n)
	}
	if _, ok := e.node(second).Annotations[failover.AuditAnnotation]; !ok {
		t.Errorf("the fenced node lacks the audit annotation written with the taint")
	}

	p.set()
	stdout, stderr, code = p.cli(e, "failover", app, "-n", ns, "--node-down", "--yes", "--timeout", "90s")
	noPanic(t, stderr)
	t.Logf("rerun: exit %d\nstdout: %s\nstderr: %s", code, strings.TrimSpace(stdout), strings.TrimSpace(stderr))
	if code != 0 || strings.Contains(stderr, fence+": done") {
		t.Fatalf("rerun: want exit 0 without acting again, got exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "nothing to fail over") && !strings.Contains(stdout, "complete") {
		t.Errorf("rerun: want nothing to do, or a wait to completion: %s", stdout)
	}
	if n := e.outOfService(second); n != 1 {
		t.Errorf("node %s has %d out-of-service taints after the rerun, want 1", second, n)
	}
	// The rerun does not fence again; it may collect the old driver the failed run left (unless
	// the pod garbage collector did first).
	if got := eventReasons(e.failoverEvents(ns)); got != "FailoverFencedNode" && got != "FailoverFencedNode,FailoverCollectedOldDriver" &&
		got != "FailoverFencedNode,FailoverCollectedOldDriver,FailoverCollectedOldDriver" {
		t.Errorf("the rerun fenced again, or recorded another action: events %s", got)
	}
	e.eventually(60*time.Second, "a driver Running on "+first, func() (bool, string) {
		pods := e.jobPods(ns, app)
		for _, p := range pods {
			if p.Spec.NodeName == first && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				return true, ""
			}
		}
		return false, describePods(pods)
	})
	e.noOverlap(ns)
}

// eventReasons lists the reasons of events, in order, comma-separated.
func eventReasons(evs []corev1.Event) string {
	var r []string
	for _, ev := range evs {
		r = append(r, ev.Reason)
	}
	return strings.Join(r, ",")
}
