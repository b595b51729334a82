package scale

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/internal/harness"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
)

// Binaries built once for the whole run.
var bins harness.Bins

func TestMain(m *testing.M) { harness.Main(m, "scale", &bins) }

// BenchmarkScale measures `kubectl sparkha inspect -A` against the raw gather
// a responder runs today (`kubectl get nodes,pods,events,pvc,pv,volumeattachments
// -A -o json`) on ONE sandbox grown from size to size: per 1,000 nodes, 30,000
// pods, 100 Spark apps in several states, 50,000 events (10% Warning), 1,000
// bound PVCs and PVs and 500 VolumeAttachments, all created through the API.
// For each command: median wall time of 3 runs, peak RSS, API requests
// (through a counting proxy) and, for kubectl, the size of the JSON printed.
//
// Run with: make bench (go test ./scale -run '^$' -bench Scale -benchtime 1x).
//
//	SPARKHA_BENCH_SIZES=10,100,1000   node counts, ascending (default)
//	SPARKHA_BENCH_DOC=PATH            write the table and machine details to PATH
//	SPARKHA_BENCH_PROFILE=DIR         CPU and heap profiles of the in-process
//	                                  Gather+Analyze+render at the largest size
//	SPARKHA_BENCH_FOLLOW=2m           how long inspect -A --watch and failover
//	                                  --node-down --wait follow the cluster at each size
func BenchmarkScale(b *testing.B) {
	sizes := []int{10, 100, 1000}
	if s := os.Getenv("SPARKHA_BENCH_SIZES"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("SPARKHA_BENCH_SIZES: bad size %q", f)
			}
			sizes = append(sizes, n)
		}
	}
	if s := os.Getenv("SPARKHA_BENCH_FOLLOW"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			b.Fatalf("SPARKHA_BENCH_FOLLOW=%q: want a duration such as 2m", s)
		}
		followFor = d
	}
	loadBefore := loadavg()
	began := time.Now()
	sb := harness.Start(b, bins, sandbox.Options{Nodes: []string{"node-a", "node-b"}})
	sc := newScaleCluster(b, sb)
	defer sc.stop()

	proxy, kc := harness.NewCountingProxy(b, sb)
	cacheDir := b.TempDir()
	// kubectl's discovery cache, warmed once (a responder's kubectl has one too).
	if out, err := exec.Command(bins.Kubectl, "api-resources", "--kubeconfig", kc, "--cache-dir", cacheDir).CombinedOutput(); err != nil {
		b.Fatalf("kubectl api-resources: %v\n%s", err, out)
	}
	proxy.Take()
	floorKiB := floor(b, bins.Plugin)

	var rows []scaleRow
	for _, n := range sizes {
		row := scaleRow{Nodes: n, FloorKiB: floorKiB}
		t0 := time.Now()
		row.Objects = sc.grow(n)
		row.Create = time.Since(t0)
		row.Settle = sc.settle()
		fmt.Printf("scale %d nodes: %s created in %.1fs (%.0f objects/s), settled in %.1fs\n",
			n, row.Objects, row.Create.Seconds(), float64(row.Objects.writes)/row.Create.Seconds(), row.Settle.Seconds())

		for i := 0; i < 3; i++ {
			in := measure(b, proxy, bins.Plugin, "inspect", "-A", "-o", "json", "--kubeconfig", kc)
			raw := measure(b, proxy, bins.Kubectl, "get", "nodes,pods,events,pvc,pv,volumeattachments", "-A", "-o", "json",
				"--kubeconfig", kc, "--cache-dir", cacheDir)
			if !bytes.Contains(in.head, []byte(`"apps"`)) {
				b.Fatalf("inspect printed %q", in.head)
			}
			row.Inspect = append(row.Inspect, in)
			row.Raw = append(row.Raw, raw)
		}
		row.Apps = countApps(b, row.Inspect[0].head)
		// Following the cluster: requests per second must not grow with it.
		row.Watch = measureFor(b, proxy, followFor, bins.Plugin, "inspect", "-A", "--watch", "-o", "json", "--kubeconfig", kc)
		ns, app := sc.lostJobApp()
		row.Wait = measureFor(b, proxy, 0, bins.Plugin, "failover", app, "-n", ns, "--node-down", "--yes", "--wait",
			"--timeout", followFor.String(), "--kubeconfig", kc)
		sc.unfence()
		rows = append(rows, row)
		fmt.Println(row.line())
		fmt.Printf("follow %d nodes: inspect --watch %d requests, failover --wait %d requests in %s\n", n, len(row.Watch.requests), len(row.Wait.requests), followFor)
	}
	if dir := os.Getenv("SPARKHA_BENCH_PROFILE"); dir != "" {
		profile(b, kc, dir)
	}
	table := scaleTable(rows)
	fmt.Printf("\nScale (one sandbox, grown from size to size; wall: median of 3, RSS: max of 3):\n%s\n", table)
	follow := followTable(rows)
	fmt.Printf("\nFollowing the cluster (requests through the counting proxy):\n%s\n", follow)
	b.ReportMetric(rows[len(rows)-1].Inspect.median(wallOf).Seconds(), "s-inspect-largest")
	b.ReportMetric(rows[len(rows)-1].Raw.median(wallOf).Seconds(), "s-raw-largest")
	if path := os.Getenv("SPARKHA_BENCH_DOC"); path != "" {
		doc := scaleDoc(bins.Kubectl, serverVersion(sb), rows, floorKiB, table, loadBefore, loadavg(), time.Since(began))
		if err := writeGenerated(path, doc); err != nil {
			b.Fatal(err)
		}
		fmt.Printf("wrote %s\n", path)
	}
}

// serverVersion is the sandbox's Kubernetes version, "?" if it cannot be read.
func serverVersion(sb *sandbox.Sandbox) string {
	c, err := sb.Client()
	if err != nil {
		return "?"
	}
	v, err := c.Discovery().ServerVersion()
	if err != nil {
		return "?"
	}
	return v.GitVersion
}
