package scale

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/internal/harness"
)

// Measuring: one command's wall time, peak RSS, requests and output.

type sample struct {
	wall     time.Duration
	rssKiB   int64
	requests []string
	out      int64
	head     []byte // the first 1 MiB of stdout
}

type samples []sample

func wallOf(s sample) time.Duration { return s.wall }

func (ss samples) median(f func(sample) time.Duration) time.Duration {
	v := make([]time.Duration, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	return v[len(v)/2]
}

func (ss samples) maxRSS() int64 {
	var m int64
	for _, s := range ss {
		m = max(m, s.rssKiB)
	}
	return m
}

// requests is the median request count of the runs.
func (ss samples) requests() int {
	v := make([]int, len(ss))
	for i, s := range ss {
		v[i] = len(s.requests)
	}
	sort.Ints(v)
	return v[len(v)/2]
}

type headWriter struct {
	n    int64
	head []byte
}

func (w *headWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if room := 1<<20 - len(w.head); room > 0 {
		w.head = append(w.head, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// floor is the peak RSS, in KiB, of the plugin doing no work: the largest of
// three runs of its version command.
func floor(tb testing.TB, plugin string) int64 {
	var peak int64
	for i := 0; i < 3; i++ {
		cmd := exec.Command(plugin, "version")
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("kubectl-sparkha version: %v\n%s", err, out)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = max(peak, ru.Maxrss)
		}
	}
	fmt.Printf("floor: kubectl-sparkha version peaks at %.1f MiB RSS\n", float64(peak)/1024)
	return peak
}

// measure runs one command through the counting proxy: wall time, peak RSS,
// requests, bytes printed.
func measure(tb testing.TB, proxy *harness.CountingProxy, name string, args ...string) sample {
	tb.Helper()
	proxy.Take()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out := &headWriter{}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if err != nil && !(filepath.Base(name) != "kubectl" && cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 3) {
		tb.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	s := sample{wall: wall, requests: proxy.Take(), out: out.n, head: out.head}
	if ru != nil {
		s.rssKiB = ru.Maxrss // KiB on Linux
	}
	return s
}

// measureFor runs a command that follows the cluster (inspect --watch, failover --wait) for
// d through the counting proxy, then interrupts it as Ctrl-C would (d == 0: until it ends by
// itself), and returns its requests and wall time. Exit codes 0, 1 (failover's timeout) and
// 3 (apps need attention) are expected.
func measureFor(tb testing.TB, proxy *harness.CountingProxy, d time.Duration, name string, args ...string) sample {
	tb.Helper()
	proxy.Take()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	if d > 0 {
		timer := time.AfterFunc(d, func() { _ = cmd.Process.Signal(os.Interrupt) })
		defer timer.Stop()
	}
	err := cmd.Wait()
	if err != nil && cmd.ProcessState.ExitCode() != 1 && cmd.ProcessState.ExitCode() != 3 {
		tb.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return sample{wall: time.Since(t0), requests: proxy.Take()}
}

// pages counts the requests per resource: "events 11, nodes 2, ...".
func pages(reqs []string) (lists int, byKind string) {
	counts := map[string]int{}
	for _, r := range reqs {
		f := strings.Fields(r)
		if len(f) != 2 || f[0] != "GET" {
			counts["other"]++
			continue
		}
		u, err := url.Parse(f[1])
		if err != nil {
			counts["other"]++
			continue
		}
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		kind := parts[len(parts)-1]
		if len(parts) < 3 || (parts[0] == "apis" && len(parts) < 4) {
			kind = "discovery"
		}
		if sel := u.Query().Get("labelSelector"); sel != "" {
			kind += "[" + sel + "]"
		}
		if sel := u.Query().Get("fieldSelector"); sel != "" {
			kind += "[" + sel + "]"
		}
		counts[kind]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
		if k != "other" && k != "discovery" {
			lists++
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	return lists, strings.Join(parts, ", ")
}

// countApps counts the apps per verdict in what inspect -o json printed.
func countApps(tb testing.TB, out []byte) map[string]int {
	var r struct {
		Apps []struct {
			Verdict string `json:"verdict"`
		} `json:"apps"`
	}
	verdicts := map[string]int{}
	if err := json.Unmarshal(out, &r); err != nil {
		tb.Logf("inspect output: %v", err)
		return verdicts
	}
	for _, a := range r.Apps {
		verdicts[a.Verdict]++
	}
	return verdicts
}

// profile runs inspect -A -o json in this process (inspectInProcess) three
// times under a CPU profile, then writes a heap profile, into dir.
func profile(tb testing.TB, kc, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		tb.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(rest.CopyConfig(cfg))
	dyn := dynamic.NewForConfigOrDie(rest.CopyConfig(cfg))
	cpu, err := os.Create(filepath.Join(dir, "inspect.cpu.pprof"))
	if err != nil {
		tb.Fatal(err)
	}
	defer cpu.Close()
	runtime.GC()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		tb.Fatal(err)
	}
	t0 := time.Now()
	var nodes, events int
	for i := 0; i < 3; i++ {
		if nodes, events, err = inspectInProcess(context.Background(), client, dyn, io.Discard); err != nil {
			tb.Fatal(err)
		}
	}
	pprof.StopCPUProfile()
	heap, err := os.Create(filepath.Join(dir, "inspect.heap.pprof"))
	if err != nil {
		tb.Fatal(err)
	}
	defer heap.Close()
	if err := pprof.Lookup("allocs").WriteTo(heap, 0); err != nil {
		tb.Fatal(err)
	}
	fmt.Printf("profiles of 3 in-process Gather+Analyze+JSON (%.2fs each, %d nodes, %d events kept) in %s\n",
		time.Since(t0).Seconds()/3, nodes, events, dir)
}
