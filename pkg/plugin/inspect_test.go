package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
)

// fixtureClient serves a snapshot captured on the sandbox through a fake
// clientset, so the command runs its real gather, analysis and printing.
func fixtureClient(t *testing.T, name string) (*fake.Clientset, time.Time) {
	t.Helper()
	f := fixture.Load(t, name)
	return fake.NewClientset(f.Objects()...), f.Now
}

func newTestInspect(t *testing.T, name, namespace string) (*InspectOptions, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	client, now := fixtureClient(t, name)
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	flags := genericclioptions.NewConfigFlags(false)
	flags.Namespace = &namespace
	o := NewInspectOptions(flags, streams)
	o.client, o.dynamic, o.now = client, fixture.Dynamic(), func() time.Time { return now }
	return o, out, errOut
}

func TestInspectCommandPrintsTheGoldenTableAndExits3(t *testing.T) {
	time.Local = time.UTC
	o, out, _ := newTestInspect(t, "s1-step5-replacement-blocked", "s1")
	if err := o.Complete(nil); err != nil {
		t.Fatal(err)
	}
	err := o.Run(context.Background())
	if !errors.Is(err, errNeedsAttention) {
		t.Fatalf("want the error of exit code %d, got %v", ExitNeedsAttention, err)
	}
	want, err := os.ReadFile(filepath.Join("..", "render", "testdata", "s1-step5-replacement-blocked.table"))
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Fatalf("table:\n%s\nwant:\n%s", out, want)
	}
}

func TestInspectCommandHealthyExits0(t *testing.T) {
	o, out, _ := newTestInspect(t, "s1-step7-recovered", "s1")
	if err := o.Complete([]string{"spark-pi"}); err != nil {
		t.Fatal(err)
	}
	if err := o.Run(context.Background()); err != nil {
		t.Fatalf("healthy app: %v", err)
	}
	if !strings.HasPrefix(out.String(), "VERDICT   APP        DRIVER") || !strings.Contains(out.String(), "Healthy   spark-pi") {
		t.Fatalf("output %q", out)
	}
}

// TestInspectJSONSchema pins the documented top level of -o json.
func TestInspectJSONSchema(t *testing.T) {
	o, out, _ := newTestInspect(t, "s1-step5-replacement-blocked", "s1")
	o.output.Format = "json"
	if err := o.Complete(nil); err != nil {
		t.Fatal(err)
	}
	_ = o.Run(context.Background())
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	apps, ok := doc["apps"].([]any)
	if !ok || len(apps) != 1 {
		t.Fatalf("want {\"apps\": [one app]}, got %s", out)
	}
	app := apps[0].(map[string]any)
	for _, k := range []string{"namespace", "name", "verdict", "reason", "nextAction", "drivers"} {
		if _, ok := app[k]; !ok {
			t.Errorf("app lacks %q", k)
		}
	}
	driver := app["drivers"].([]any)[0].(map[string]any)
	for _, k := range []string{"pod", "node", "status", "nodeReady", "volumes"} {
		if _, ok := driver[k]; !ok {
			t.Errorf("driver lacks %q", k)
		}
	}
}

// syncBuffer lets the test read what the watching goroutine writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestInspectWatchReprintsOnChange: --watch prints once, stays quiet while nothing changes
// but the clock (every gather is a second later: ages move, the report does not), and prints
// again when the verdict changes.
func TestInspectWatchReprintsOnChange(t *testing.T) {
	client, now := fixtureClient(t, "s3-step4-stuck-terminating")
	out := &syncBuffer{}
	streams := genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: &bytes.Buffer{}}
	ns := "s3"
	flags := genericclioptions.NewConfigFlags(false)
	flags.Namespace = &ns
	o := NewInspectOptions(flags, streams)
	var ticks atomic.Int64
	clock := func() time.Time { return now.Add(time.Duration(ticks.Add(1)) * time.Second) }
	o.client, o.dynamic, o.now, o.Watch, o.WatchInterval = client, fixture.Dynamic(), clock, true, 50*time.Millisecond
	if err := o.Complete(nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- o.Run(ctx) }()
	waitFor := func(what string, cond func(string) bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if cond(out.String()) {
				return
			}
		}
		t.Fatalf("timed out waiting for %s; output:\n%s", what, out)
	}
	waitFor("first print", func(s string) bool { return strings.Contains(s, "StuckTerminating") })
	time.Sleep(200 * time.Millisecond)
	if n := strings.Count(out.String(), "VERDICT"); n != 1 || ticks.Load() < 3 {
		t.Fatalf("reprinted without a change: %d tables in %d gathers", n, ticks.Load())
	}
	pods, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods: %v %v", pods, err)
	}
	if err := client.CoreV1().Pods(ns).Delete(context.Background(), pods.Items[0].Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("second print", func(s string) bool { return strings.Count(s, "VERDICT") == 2 && strings.Contains(s, "Starting") })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("watch ended with %v", err)
	}
}

func TestInspectValidate(t *testing.T) {
	tests := []struct {
		set  func(o *InspectOptions)
		want string
	}{
		{func(o *InspectOptions) { o.output.Format = "table" }, `invalid --output "table": use one of wide, json, yaml, kyaml, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file, or leave it out`},
		{func(o *InspectOptions) { o.Timeline = true }, "--timeline needs an APP: kubectl sparkha inspect APP --timeline"},
		{func(o *InspectOptions) { o.App, o.Timeline, o.Watch = "a", true, true }, "--timeline and --watch cannot be combined: rerun --timeline to see new moments"},
		{func(o *InspectOptions) { o.WatchInterval = time.Millisecond }, "invalid --watch-interval 1ms: use at least 100ms"},
	}
	for _, tt := range tests {
		o := NewInspectOptions(genericclioptions.NewConfigFlags(false), genericiooptions.NewTestIOStreamsDiscard())
		tt.set(o)
		if err := o.Validate(); err == nil || err.Error() != tt.want {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
}
