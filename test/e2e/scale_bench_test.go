package e2e

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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/render"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/storage"
)

// BenchmarkScale measures `kubectl sparkha inspect -A` against the raw gather
// a responder runs today (`kubectl get nodes,pods,events,pvc,pv,volumeattachments
// -A -o json`) on ONE sandbox grown from size to size: per 1,000 nodes, 30,000
// pods, 100 Spark apps in several states, 50,000 events (10% Warning), 1,000
// bound PVCs and PVs and 500 VolumeAttachments, all created through the API.
// For each command: median wall time of 3 runs, peak RSS, API requests
// (through a counting proxy) and, for kubectl, the size of the JSON printed.
//
// Run with: make bench (go test ./e2e -run '^$' -bench Scale -benchtime 1x).
//
//	SPARKHA_BENCH_SIZES=10,100,1000   node counts, ascending (default)
//	SPARKHA_BENCH_DOC=PATH            write the table and machine details to PATH
//	SPARKHA_BENCH_PROFILE=DIR         CPU and heap profiles of the in-process
//	                                  Gather+Analyze+render at the largest size
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
	loadBefore := loadavg()
	began := time.Now()
	e := start(b, sandbox.Options{Nodes: []string{"node-a", "node-b"}})
	sc := newScaleCluster(b, e)
	defer sc.stop()

	proxy, kc := e.countingProxy()
	cacheDir := b.TempDir()
	// kubectl's discovery cache, warmed once (a responder's kubectl has one too).
	if _, err := e.run(bins.kubectl, "api-resources", "--kubeconfig", kc, "--cache-dir", cacheDir); err != nil {
		b.Fatal(err)
	}
	proxy.take()
	floor := sc.floor()

	var rows []scaleRow
	for _, n := range sizes {
		row := scaleRow{Nodes: n, FloorKiB: floor}
		t0 := time.Now()
		row.Objects = sc.grow(n)
		row.Create = time.Since(t0)
		row.Settle = sc.settle()
		fmt.Printf("scale %d nodes: %s created in %.1fs (%.0f objects/s), settled in %.1fs\n",
			n, row.Objects, row.Create.Seconds(), float64(row.Objects.writes)/row.Create.Seconds(), row.Settle.Seconds())

		for i := 0; i < 3; i++ {
			in := sc.measure(proxy, bins.plugin, "inspect", "-A", "-o", "json", "--kubeconfig", kc)
			raw := sc.measure(proxy, bins.kubectl, "get", "nodes,pods,events,pvc,pv,volumeattachments", "-A", "-o", "json",
				"--kubeconfig", kc, "--cache-dir", cacheDir)
			if !bytes.Contains(in.head, []byte(`"apps"`)) {
				b.Fatalf("inspect printed %q", in.head)
			}
			row.Inspect = append(row.Inspect, in)
			row.Raw = append(row.Raw, raw)
		}
		row.Apps = sc.countApps(row.Inspect[0].head)
		rows = append(rows, row)
		fmt.Println(row.line())
	}
	if dir := os.Getenv("SPARKHA_BENCH_PROFILE"); dir != "" {
		sc.profile(kc, dir)
	}
	table := scaleTable(rows)
	fmt.Printf("\nScale (one sandbox, grown from size to size; wall: median of 3, RSS: max of 3):\n%s\n", table)
	b.ReportMetric(rows[len(rows)-1].Inspect.median(wallOf).Seconds(), "s-inspect-largest")
	b.ReportMetric(rows[len(rows)-1].Raw.median(wallOf).Seconds(), "s-raw-largest")
	if path := os.Getenv("SPARKHA_BENCH_DOC"); path != "" {
		doc := scaleDoc(e, rows, floor, table, loadBefore, loadavg(), time.Since(began))
		if err := writeGenerated(path, doc); err != nil {
			b.Fatal(err)
		}
		fmt.Printf("wrote %s\n", path)
	}
}

// ---- The cluster ----------------------------------------------------------

var (
	benchTeams = []string{"team-a", "team-b", "team-c", "team-d"}
	benchSpark = []string{"spark-batch", "spark-stream"}
)

// Per node of the target size.
const (
	podsPerNode     = 30
	eventsPerNode   = 50
	executorsPerApp = 2
)

type scaleCluster struct {
	b      *testing.B
	e      *env
	c      kubernetes.Interface
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	ready []string // nodes whose lease is renewed (Ready)

	nodes   int
	filler  int
	apps    int
	claims  int
	events  int
	pods    []podRef // every pod created, for the events
	appPods []podRef // driver pods, for their events
}

type podRef struct {
	ns, name, node string
	uid            types.UID
}

type objectCounts struct {
	nodes, pods, apps, jobs, claims, attachments, events, writes int
}

func (o objectCounts) String() string {
	return fmt.Sprintf("%d nodes, %d pods, %d apps (%d Jobs), %d PVC/PV, %d VolumeAttachments, %d events",
		o.nodes, o.pods, o.apps, o.jobs, o.claims, o.attachments, o.events)
}

func newScaleCluster(b *testing.B, e *env) *scaleCluster {
	cfg, err := e.sb.RESTConfig()
	if err != nil {
		b.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, ns := range append(append([]string{}, benchTeams...), benchSpark...) {
		e.namespace(ns)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sc := &scaleCluster{b: b, e: e, c: c, cancel: cancel, done: make(chan struct{})}
	go sc.heartbeat(ctx)
	return sc
}

func (sc *scaleCluster) stop() { sc.cancel(); <-sc.done }

// heartbeat renews the leases of the Ready nodes, as their kubelets would, so
// the node lifecycle controller keeps them Ready. The other nodes are lost:
// created Unknown and tainted, as the controller leaves them.
func (sc *scaleCluster) heartbeat(ctx context.Context) {
	defer close(sc.done)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sc.mu.Lock()
		ready := append([]string(nil), sc.ready...)
		sc.mu.Unlock()
		patch := fmt.Sprintf(`{"spec":{"renewTime":%q}}`, time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"))
		for _, n := range ready {
			_, _ = sc.c.CoordinationV1().Leases(corev1.NamespaceNodeLease).Patch(ctx, n, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		}
	}
}

func benchNode(i int) string { return fmt.Sprintf("bench-node-%04d", i) }

// readyNode: every 20th node heartbeats; the others are lost.
func readyNode(i int) bool { return i%20 == 0 }

func appsFor(nodes int) int { return max(6, nodes/10) }

// grow creates what a cluster of n nodes has beyond what exists.
func (sc *scaleCluster) grow(n int) objectCounts {
	b := sc.b
	var writes atomic.Int64
	ctx := context.Background()
	now := time.Now()

	// Nodes and their leases.
	from := sc.nodes
	if err := parallel(n-from, func(k int) error {
		i := from + k
		name := benchNode(i)
		renew := metav1.NewMicroTime(now.Add(-time.Hour))
		if readyNode(i) {
			renew = metav1.NewMicroTime(now)
		}
		lease := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: corev1.NamespaceNodeLease},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(name), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &renew},
		}
		if _, err := sc.c.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(ctx, lease, metav1.CreateOptions{}); err != nil {
			return err
		}
		node := benchNodeObject(i, now)
		created, err := sc.c.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		writes.Add(2)
		if len(created.Status.Conditions) == 0 {
			created.Status = node.Status
			if _, err := sc.c.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
				return err
			}
			writes.Add(1)
		}
		return nil
	}); err != nil {
		b.Fatalf("creating nodes: %v", err)
	}
	sc.nodes = n
	sc.mu.Lock()
	sc.ready = sc.ready[:0]
	var ready, lost []string
	for i := 0; i < n; i++ {
		if readyNode(i) {
			ready = append(ready, benchNode(i))
		} else {
			lost = append(lost, benchNode(i))
		}
	}
	sc.ready = append(sc.ready, ready...)
	sc.mu.Unlock()

	// Spark apps: a driver (some owned by a suspended Job), executors, and a
	// checkpoint claim for some, in several states.
	apps := appsFor(n)
	appFrom := sc.apps
	newAppPods := make([][]podRef, apps-appFrom)
	if err := parallel(apps-appFrom, func(k int) error {
		refs, w, err := sc.createApp(ctx, appFrom+k, ready, lost, now)
		newAppPods[k] = refs
		writes.Add(int64(w))
		return err
	}); err != nil {
		b.Fatalf("creating Spark apps: %v", err)
	}
	for _, refs := range newAppPods {
		sc.appPods = append(sc.appPods, refs[0])
		sc.pods = append(sc.pods, refs...)
	}
	sc.apps = apps

	// Other pods, bound to the nodes round robin.
	fillerTarget := podsPerNode*n - (1+executorsPerApp)*apps
	fillFrom := sc.filler
	newPods := make([]podRef, max(0, fillerTarget-fillFrom))
	if err := parallel(len(newPods), func(k int) error {
		i := fillFrom + k
		node := benchNode(i % n)
		ns := benchTeams[i%len(benchTeams)]
		pod := benchPod(ns, fmt.Sprintf("svc-%d-%s", i%97, strconv.FormatInt(int64(i), 36)), node, map[string]string{
			"app": fmt.Sprintf("svc-%d", i%97), "pod-template-hash": fmt.Sprintf("%08x", i%97*7919),
		}, "registry.example.com/"+ns+"/svc:1.4.2")
		ref, w, err := sc.createPod(ctx, pod, corev1.PodRunning, readyNode(i%n))
		newPods[k] = ref
		writes.Add(int64(w))
		return err
	}); err != nil {
		b.Fatalf("creating pods: %v", err)
	}
	sc.pods = append(sc.pods, newPods...)
	sc.filler = max(sc.filler, fillerTarget)

	// Other claims: bound statically to PVs; every other one attached.
	claimTarget := n - apps
	claimFrom := sc.claims
	if err := parallel(max(0, claimTarget-claimFrom), func(k int) error {
		i := claimFrom + k
		ns := benchTeams[i%len(benchTeams)]
		node := ""
		if i%2 == 0 {
			node = benchNode(i % n)
		}
		w, err := sc.createClaim(ctx, ns, fmt.Sprintf("data-%d", i), node)
		writes.Add(int64(w))
		return err
	}); err != nil {
		b.Fatalf("creating claims: %v", err)
	}
	sc.claims = max(sc.claims, claimTarget)

	// Events about the pods, 10% Warning; a FailedMount warning per starting driver.
	evTarget := eventsPerNode * n
	evFrom := sc.events
	if err := parallel(max(0, evTarget-evFrom), func(k int) error {
		i := evFrom + k
		p := sc.pods[(i*7919)%len(sc.pods)]
		if i%50 == 0 {
			p = sc.appPods[(i/50)%len(sc.appPods)]
		}
		_, err := sc.c.CoreV1().Events(p.ns).Create(ctx, benchEvent(i, p, now), metav1.CreateOptions{})
		writes.Add(1)
		return err
	}); err != nil {
		b.Fatalf("creating events: %v", err)
	}
	sc.events = max(sc.events, evTarget)

	oc := objectCounts{nodes: sc.nodes, pods: len(sc.pods), apps: sc.apps, events: sc.events, writes: int(writes.Load())}
	oc.jobs, oc.claims, oc.attachments = sc.countAPI()
	return oc
}

// countAPI counts Jobs, claims and attachments as the API server has them.
func (sc *scaleCluster) countAPI() (jobs, claims, attachments int) {
	ctx := context.Background()
	j, err1 := sc.c.BatchV1().Jobs("").List(ctx, metav1.ListOptions{})
	cl, err2 := sc.c.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	va, err3 := sc.c.StorageV1().VolumeAttachments().List(ctx, metav1.ListOptions{})
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			sc.b.Fatal(err)
		}
	}
	return len(j.Items), len(cl.Items), len(va.Items)
}

// createApp creates Spark app i. States, by i%6:
//
//	0 Job-owned driver Running on a Ready node, claim attached there (Healthy)
//	1 bare spark-submit driver Running on a lost node (DriverAtRisk)
//	2 Job-owned driver Pending on a Ready node, claim not attached yet (Starting)
//	3 bare driver Failed (RetriesExhausted)
//	4 Job-owned driver Running on a lost node, claim attached there (DriverAtRisk)
//	5 bare driver Running on a Ready node (Healthy)
func (sc *scaleCluster) createApp(ctx context.Context, i int, ready, lost []string, now time.Time) (refs []podRef, writes int, err error) {
	state := i % 6
	name := fmt.Sprintf("app-%03d", i)
	ns := benchSpark[i%len(benchSpark)]
	node := ready[i%len(ready)]
	if state == 1 || state == 4 {
		node = lost[i%len(lost)]
	}
	labels := map[string]string{inspect.LabelSparkRole: inspect.RoleDriver, inspect.LabelAppName: name,
		inspect.LabelAppSelector: fmt.Sprintf("spark-%032x", i)}
	var owner []metav1.OwnerReference
	if state == 0 || state == 2 || state == 4 {
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: batchv1.JobSpec{
				// Suspended: the Job controller creates no pod of its own.
				Suspend:      ptr.To(true),
				BackoffLimit: ptr.To[int32](1),
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{inspect.LabelSparkRole: inspect.RoleDriver, inspect.LabelAppName: name}},
					Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
						Containers: []corev1.Container{{Name: "spark-kubernetes-driver", Image: "spark:3.5.3"}}},
				},
			},
		}
		created, err := sc.c.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{})
		if err != nil {
			return nil, writes, err
		}
		writes++
		// Not a controller reference: the Job controller would release (or,
		// suspended, delete) a pod it controls that its selector does not match.
		owner = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: name, UID: created.UID}}
	}
	claim := ""
	if state == 0 || state == 2 || state == 4 {
		claim = name + "-checkpoint"
		attachTo := node
		if state == 2 {
			attachTo = ""
		}
		w, err := sc.createClaim(ctx, ns, claim, attachTo)
		writes += w
		if err != nil {
			return nil, writes, err
		}
	}
	driver := benchPod(ns, name+"-driver", node, labels, "spark:3.5.3")
	driver.OwnerReferences = owner
	driver.Spec.Containers[0].Name = "spark-kubernetes-driver"
	driver.Spec.Containers[0].Args = []string{"driver", "--class", "org.example.Stream", "local:///opt/app/stream.jar"}
	if claim != "" {
		driver.Spec.Volumes = append(driver.Spec.Volumes, corev1.Volume{Name: "checkpoint", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
		driver.Spec.Containers[0].VolumeMounts = append(driver.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "checkpoint", MountPath: "/checkpoint"})
	}
	phase := map[int]corev1.PodPhase{0: corev1.PodRunning, 1: corev1.PodRunning, 2: corev1.PodPending, 3: corev1.PodFailed, 4: corev1.PodRunning, 5: corev1.PodRunning}[state]
	ref, w, err := sc.createPod(ctx, driver, phase, state != 1 && state != 4)
	writes += w
	if err != nil {
		return nil, writes, err
	}
	refs = append(refs, ref)
	for x := 0; x < executorsPerApp; x++ {
		exNode := node
		if state == 3 {
			break
		}
		ex := benchPod(ns, fmt.Sprintf("%s-exec-%d", name, x+1), exNode, map[string]string{
			inspect.LabelSparkRole: "executor", inspect.LabelAppName: name, inspect.LabelAppSelector: labels[inspect.LabelAppSelector]}, "spark:3.5.3")
		ref, w, err := sc.createPod(ctx, ex, phase, state != 1 && state != 4)
		writes += w
		if err != nil {
			return nil, writes, err
		}
		refs = append(refs, ref)
	}
	if state == 2 {
		ev := benchEvent(0, ref, now)
		ev.Name = ref.name + ".failedmount"
		ev.Type, ev.Reason = corev1.EventTypeWarning, "FailedMount"
		ev.Message = "Unable to attach or mount volumes: unmounted volumes=[checkpoint], unattached volumes=[checkpoint]: timed out waiting for the condition"
		if _, err := sc.c.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
			return nil, writes, err
		}
		writes++
	}
	return refs, writes, nil
}

// createPod creates a pod bound to its node and writes a kubelet-like status.
func (sc *scaleCluster) createPod(ctx context.Context, pod *corev1.Pod, phase corev1.PodPhase, nodeReady bool) (podRef, int, error) {
	created, err := sc.c.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return podRef{}, 0, err
	}
	ref := podRef{ns: created.Namespace, name: created.Name, node: created.Spec.NodeName, uid: created.UID}
	created.Status = benchPodStatus(created, phase, nodeReady)
	if _, err := sc.c.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return ref, 1, err
	}
	return ref, 2, nil
}

// createClaim creates a claim bound statically to a PV of the sandbox's CSI
// driver, both already Bound (so the PV controller has nothing to write),
// and a VolumeAttachment to node unless node is "".
func (sc *scaleCluster) createClaim(ctx context.Context, ns, name, node string) (int, error) {
	pvName := "pv-" + ns + "-" + name
	size := resource.MustParse("10Gi")
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{"pv.kubernetes.io/bind-completed": "yes"}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			StorageClassName: ptr.To(""),
			VolumeName:       pvName,
		},
	}
	created, err := sc.c.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{})
	if err != nil {
		return 0, err
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: pvName},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: ns, Name: name, UID: created.UID},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				CSI: &corev1.CSIPersistentVolumeSource{Driver: storage.DriverName, VolumeHandle: "vol-" + string(created.UID), FSType: "ext4"},
			},
		},
	}
	pvCreated, err := sc.c.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if err != nil {
		return 1, err
	}
	// The PV controller may bind them first: then there is nothing to write.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if pvCreated.Status.Phase == corev1.VolumeBound {
			return nil
		}
		pvCreated.Status.Phase = corev1.VolumeBound
		_, err := sc.c.CoreV1().PersistentVolumes().UpdateStatus(ctx, pvCreated, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			pvCreated, _ = sc.c.CoreV1().PersistentVolumes().Get(ctx, pvName, metav1.GetOptions{})
		}
		return err
	})
	if err != nil {
		return 2, err
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if created.Status.Phase == corev1.ClaimBound {
			return nil
		}
		created.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: pvc.Spec.AccessModes,
			Capacity: corev1.ResourceList{corev1.ResourceStorage: size}}
		_, err := sc.c.CoreV1().PersistentVolumeClaims(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			created, _ = sc.c.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
		}
		return err
	})
	if err != nil {
		return 3, err
	}
	if node == "" {
		return 4, nil
	}
	// The sandbox's storage controller adds its finalizer and marks it attached.
	va := &storagev1.VolumeAttachment{
		ObjectMeta: metav1.ObjectMeta{Name: "csi-" + strings.ReplaceAll(string(created.UID), "-", "")},
		Spec: storagev1.VolumeAttachmentSpec{Attacher: storage.DriverName, NodeName: node,
			Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr.To(pvName)}},
	}
	if _, err := sc.c.StorageV1().VolumeAttachments().Create(ctx, va, metav1.CreateOptions{}); err != nil {
		return 4, err
	}
	return 5, nil
}

func benchNodeObject(i int, now time.Time) *corev1.Node {
	name := benchNode(i)
	zone := fmt.Sprintf("zone-%c", 'a'+i%3)
	hb := metav1.NewTime(now)
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: hb, LastTransitionTime: hb}
	}
	conds := []corev1.NodeCondition{
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
	}
	var taints []corev1.Taint
	if !readyNode(i) {
		// Lost: as the node lifecycle controller leaves a node whose kubelet stopped posting.
		for j := range conds {
			conds[j].Status, conds[j].Reason, conds[j].Message = corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status."
		}
		taints = []corev1.Taint{
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
			{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &hb},
		}
	}
	var images []corev1.ContainerImage
	for j := 0; j < 8; j++ {
		images = append(images, corev1.ContainerImage{
			Names:     []string{fmt.Sprintf("registry.example.com/base/image-%d@sha256:%064x", j, j*7919+i), fmt.Sprintf("registry.example.com/base/image-%d:1.%d", j, j)},
			SizeBytes: int64(50_000_000 + j*1_000_000),
		})
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
			"node.kubernetes.io/instance-type": "m5.4xlarge", "topology.kubernetes.io/zone": zone, "topology.kubernetes.io/region": "region-1",
		}},
		Spec: corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.%d.%d.0/24", 100+i/256, i%256), Taints: taints},
		Status: corev1.NodeStatus{
			Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("16"), corev1.ResourceMemory: resource.MustParse("64Gi"),
				corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceEphemeralStorage: resource.MustParse("100Gi")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("15800m"), corev1.ResourceMemory: resource.MustParse("62Gi"),
				corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceEphemeralStorage: resource.MustParse("90Gi")},
			Conditions: conds,
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("10.1.%d.%d", i/256, i%256)},
				{Type: corev1.NodeHostName, Address: name}},
			NodeInfo: corev1.NodeSystemInfo{MachineID: fmt.Sprintf("%032x", i), SystemUUID: fmt.Sprintf("%032x", i+1), BootID: fmt.Sprintf("%032x", i+2),
				KernelVersion: "6.1.0", OSImage: "Debian GNU/Linux 12", ContainerRuntimeVersion: "containerd://1.7.20",
				KubeletVersion: "v1.37.2", OperatingSystem: "linux", Architecture: "amd64"},
			Images: images,
		},
	}
}

func benchPod(ns, name, node string, labels map[string]string, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels,
			Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}},
		Spec: corev1.PodSpec{
			NodeName: node,
			Containers: []corev1.Container{{
				Name: "app", Image: image,
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Env: []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "POD_NAME", Value: name},
					{Name: "JAVA_OPTS", Value: "-Xmx1g -XX:+UseG1GC"}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
				},
			}},
			// No tolerationSeconds: the taint manager never evicts them from the lost nodes.
			Tolerations: []corev1.Toleration{
				{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
				{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
			},
		},
	}
}

func benchPodStatus(p *corev1.Pod, phase corev1.PodPhase, nodeReady bool) corev1.PodStatus {
	start := metav1.NewTime(p.CreationTimestamp.Time)
	ready := corev1.ConditionTrue
	if !nodeReady || phase != corev1.PodRunning {
		ready = corev1.ConditionFalse
	}
	cs := corev1.ContainerStatus{
		Name: p.Spec.Containers[0].Name, Image: p.Spec.Containers[0].Image, ImageID: p.Spec.Containers[0].Image + "@sha256:" + fmt.Sprintf("%064x", len(p.Name)),
		ContainerID: "containerd://" + fmt.Sprintf("%064x", p.UID[:8]), Ready: ready == corev1.ConditionTrue, Started: ptr.To(phase == corev1.PodRunning),
	}
	switch phase {
	case corev1.PodRunning:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: start}
	case corev1.PodFailed:
		cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", StartedAt: start, FinishedAt: start}
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		cs.ContainerID, cs.ImageID = "", ""
	}
	cond := func(t corev1.PodConditionType, s corev1.ConditionStatus) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: start}
	}
	return corev1.PodStatus{
		Phase:  phase,
		HostIP: "10.1.0.1", PodIP: "10.244.0.10", StartTime: &start, QOSClass: corev1.PodQOSBurstable,
		Conditions: []corev1.PodCondition{
			cond(corev1.PodInitialized, corev1.ConditionTrue), cond(corev1.PodReady, ready),
			cond(corev1.ContainersReady, ready), cond(corev1.PodScheduled, corev1.ConditionTrue),
		},
		ContainerStatuses: []corev1.ContainerStatus{cs},
	}
}

var (
	normalEvents = [][2]string{
		{"Scheduled", "Successfully assigned %s/%s to %s"},
		{"Pulled", "Container image \"registry.example.com/svc:1.4.2\" already present on machine"},
		{"Created", "Created container app"},
		{"Started", "Started container app"},
	}
	warningEvents = [][2]string{
		{"BackOff", "Back-off restarting failed container app in pod %s_%s(%s)"},
		{"Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503 (%s/%s on %s)"},
	}
)

func benchEvent(i int, p podRef, now time.Time) *corev1.Event {
	typ, tmpl := corev1.EventTypeNormal, normalEvents[i%len(normalEvents)]
	if i%10 == 0 {
		typ, tmpl = corev1.EventTypeWarning, warningEvents[(i/10)%len(warningEvents)]
	}
	third := p.node
	if tmpl[0] == "BackOff" {
		third = string(p.uid)
	}
	msg := tmpl[1]
	if strings.Count(msg, "%s") == 3 {
		msg = fmt.Sprintf(msg, p.ns, p.name, third)
	}
	t := metav1.NewTime(now.Add(-time.Duration(i%3600) * time.Second))
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%016x", p.name, i), Namespace: p.ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: p.ns, Name: p.name, UID: p.uid, APIVersion: "v1",
			FieldPath: "spec.containers{app}"},
		Reason: tmpl[0], Message: msg, Type: typ, Count: int32(1 + i%5),
		FirstTimestamp: t, LastTimestamp: t,
		Source: corev1.EventSource{Component: "kubelet", Host: p.node}, ReportingController: "kubelet", ReportingInstance: p.node,
	}
}

// parallel runs fn(0..n-1) on 12 workers, retrying what the API server
// throttled or timed out; an object that already exists counts as created.
func parallel(n int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < 12; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				var err error
				for attempt := 0; attempt < 5; attempt++ {
					if err = fn(i); err == nil || apierrors.IsAlreadyExists(err) {
						err = nil
						break
					}
					if !apierrors.IsTooManyRequests(err) && !apierrors.IsServerTimeout(err) && !apierrors.IsTimeout(err) && !apierrors.IsInternalError(err) {
						break
					}
					time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
				}
				if err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// settle waits until the controllers have caught up: the audit log (every
// write) grows by fewer than 30 writes a second beyond the heartbeats.
func (sc *scaleCluster) settle() time.Duration {
	began := time.Now()
	lines := func() int {
		f, err := os.Open(sc.e.sb.AuditLog())
		if err != nil {
			return 0
		}
		defer f.Close()
		n := 0
		buf := make([]byte, 1<<20)
		for {
			k, err := f.Read(buf)
			n += bytes.Count(buf[:k], []byte{'\n'})
			if err != nil {
				return n
			}
		}
	}
	sc.mu.Lock()
	heartbeats := len(sc.ready) / 2
	sc.mu.Unlock()
	last := lines()
	for time.Since(began) < 2*time.Minute {
		time.Sleep(3 * time.Second)
		now := lines()
		rate := float64(now-last) / 3
		last = now
		if rate < float64(30+heartbeats) {
			break
		}
	}
	return time.Since(began)
}

// ---- Measuring ------------------------------------------------------------

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
func (sc *scaleCluster) floor() int64 {
	var peak int64
	for i := 0; i < 3; i++ {
		cmd := exec.Command(bins.plugin, "version")
		if out, err := cmd.CombinedOutput(); err != nil {
			sc.b.Fatalf("kubectl-sparkha version: %v\n%s", err, out)
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
func (sc *scaleCluster) measure(proxy *countingProxy, name string, args ...string) sample {
	sc.b.Helper()
	proxy.take()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out := &headWriter{}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if err != nil && !(filepath.Base(name) != "kubectl" && cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 3) {
		sc.b.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	s := sample{wall: wall, requests: proxy.take(), out: out.n, head: out.head}
	if ru != nil {
		s.rssKiB = ru.Maxrss // KiB on Linux
	}
	return s
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

func (sc *scaleCluster) countApps(out []byte) map[string]int {
	var r inspect.Report
	verdicts := map[string]int{}
	if err := json.Unmarshal(out, &r); err != nil {
		sc.b.Logf("inspect output: %v", err)
		return verdicts
	}
	for _, a := range r.Apps {
		verdicts[string(a.Verdict)]++
	}
	return verdicts
}

// profile runs Gather, Analyze and the JSON rendering in-process with a CPU
// and a heap profile, as inspect -A -o json does.
func (sc *scaleCluster) profile(kc, dir string) {
	b := sc.b
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		b.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(rest.CopyConfig(cfg))
	cpu, err := os.Create(filepath.Join(dir, "inspect.cpu.pprof"))
	if err != nil {
		b.Fatal(err)
	}
	defer cpu.Close()
	runtime.GC()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	var keep *inspect.Snapshot
	for i := 0; i < 3; i++ {
		snap, err := inspect.Gather(context.Background(), client, inspect.Scope{})
		if err != nil {
			b.Fatal(err)
		}
		if err := render.JSON(io.Discard, inspect.Analyze(snap, time.Now())); err != nil {
			b.Fatal(err)
		}
		keep = snap
	}
	pprof.StopCPUProfile()
	heap, err := os.Create(filepath.Join(dir, "inspect.heap.pprof"))
	if err != nil {
		b.Fatal(err)
	}
	defer heap.Close()
	if err := pprof.Lookup("allocs").WriteTo(heap, 0); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("profiles of 3 in-process Gather+Analyze+JSON (%.2fs each, %d nodes, %d events kept) in %s\n",
		time.Since(t0).Seconds()/3, len(keep.Nodes), len(keep.Events), dir)
}

// ---- Reporting ------------------------------------------------------------

type scaleRow struct {
	Nodes    int
	FloorKiB int64 // peak RSS of the plugin doing no work
	Objects  objectCounts
	Create   time.Duration
	Settle   time.Duration
	Inspect  samples
	Raw      samples
	Apps     map[string]int
}

func (r scaleRow) line() string {
	in, raw := r.Inspect, r.Raw
	return fmt.Sprintf("| %d | %d | %d | %d | %.2f s | %.2f s | **%.2f** | %d | %d | **%.2f** | %.1f MiB | %.1f MiB | %.1f MiB | **%.2f** | %.2f |",
		r.Nodes, r.Objects.pods, r.Objects.apps, r.Objects.events,
		in.median(wallOf).Seconds(), raw.median(wallOf).Seconds(), in.median(wallOf).Seconds()/raw.median(wallOf).Seconds(),
		in.requests(), raw.requests(), float64(in.requests())/float64(raw.requests()),
		mib(in.maxRSS()*1024), mib(raw.maxRSS()*1024), mib(raw[0].out),
		float64(in.maxRSS()*1024)/float64(raw[0].out), float64((in.maxRSS()-r.FloorKiB)*1024)/float64(raw[0].out))
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func scaleTable(rows []scaleRow) string {
	var b strings.Builder
	b.WriteString("| nodes | pods | Spark apps | events | inspect wall | raw wall | wall ratio | inspect requests | raw requests | request ratio | inspect peak RSS | raw peak RSS | raw JSON | inspect RSS / raw JSON | (inspect RSS − floor) / raw JSON |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		b.WriteString(r.line() + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func machine() (cpu, mem string) {
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				f := strings.Fields(l)
				if kib, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					mem = fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
				}
			}
		}
	}
	return cpu, mem
}

func scaleDoc(e *env, rows []scaleRow, floorKiB int64, table string, loadBefore, loadAfter string, took time.Duration) string {
	cpu, mem := machine()
	kubectlVersion := "?"
	if out, err := exec.Command(bins.kubectl, "version", "--client").Output(); err == nil {
		kubectlVersion = strings.Fields(strings.SplitN(string(out), "\n", 2)[0])[len(strings.Fields(strings.SplitN(string(out), "\n", 2)[0]))-1]
	}
	server := "?"
	if v, err := e.client().Discovery().ServerVersion(); err == nil {
		server = v.GitVersion
	}
	goVersion := runtime.Version()
	if out, err := exec.Command("go", "version").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Generated by `make bench` on %s (whole run %.1f min).\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), took.Minutes())
	fmt.Fprintf(&b, "| machine | |\n|---|---|\n")
	fmt.Fprintf(&b, "| CPUs (nproc) | %d × %s |\n| memory | %s |\n| load average (1, 5, 15 min) | %s before, %s after (other sessions' builds and tests share the machine) |\n",
		runtime.NumCPU(), cpu, mem, loadBefore, loadAfter)
	fmt.Fprintf(&b, "| Go | %s |\n| kubectl | %s |\n| Kubernetes (sandbox) | %s, etcd 3.7.0, all on the same machine |\n\n", goVersion, kubectlVersion, server)
	b.WriteString("`inspect` is `kubectl-sparkha inspect -A -o json`; `raw` is `kubectl get nodes,pods,events,pvc,pv,volumeattachments -A -o json`, " +
		"both through the same counting proxy (plain HTTP on loopback to the sandbox's API server). " +
		"Wall: median of 3 runs; peak RSS: the largest `ru_maxrss` of the 3; raw JSON: the bytes kubectl printed.\n\n")
	b.WriteString(table + "\n\n")
	fmt.Fprintf(&b, "Floor: `kubectl-sparkha version`, which sends no request, peaks at %.1f MiB RSS (max of 3): the pages of the binary "+
		"that the Go runtime and the package initialisers of client-go, cli-runtime and cobra touch, and the runtime's first heap. "+
		"No inspect can peak below it, so below a raw JSON of %.0f MiB the RSS target cannot be met; the last column is what inspect "+
		"needs above the floor.\n\n", mib(floorKiB*1024), mib(floorKiB*1024)/1.5)
	b.WriteString("| nodes | objects (cumulative) | created in | settled in | inspect requests by resource | raw requests by resource | inspect verdicts |\n|---:|---|---:|---:|---|---|---|\n")
	for _, r := range rows {
		_, in := pages(r.Inspect[0].requests)
		_, raw := pages(r.Raw[0].requests)
		var vs []string
		for k, v := range r.Apps {
			vs = append(vs, fmt.Sprintf("%s %d", k, v))
		}
		sort.Strings(vs)
		fmt.Fprintf(&b, "| %d | %s | %.0f s (%.0f writes/s) | %.0f s | %s | %s | %s |\n", r.Nodes, r.Objects, r.Create.Seconds(),
			float64(r.Objects.writes)/r.Create.Seconds(), r.Settle.Seconds(), in, raw, strings.Join(vs, ", "))
	}
	b.WriteString("\n")
	last := rows[len(rows)-1]
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	inLists, _ := pages(last.Inspect[0].requests)
	var rss []string
	for _, r := range rows {
		ratio := float64(r.Inspect.maxRSS()*1024) / float64(r.Raw[0].out)
		rss = append(rss, fmt.Sprintf("%s at %d nodes (%.2f)", verdict(ratio <= 1.5), r.Nodes, ratio))
	}
	fmt.Fprintf(&b, "Targets: wall ≤ 0.5 × raw at %d nodes: %s (%.2f); inspect peak RSS ≤ 1.5 × raw JSON: %s; "+
		"one LIST per kind (%d kinds), more requests only for pages of 500: see above.\n",
		last.Nodes,
		verdict(last.Inspect.median(wallOf) <= last.Raw.median(wallOf)/2), last.Inspect.median(wallOf).Seconds()/last.Raw.median(wallOf).Seconds(),
		strings.Join(rss, ", "), inLists)
	return b.String()
}

const (
	genBegin = "<!-- BEGIN generated by make bench: edits between these markers are overwritten -->"
	genEnd   = "<!-- END generated by make bench -->"
)

// writeGenerated replaces the generated part of path (between the markers),
// keeping the hand-written text around it.
func writeGenerated(path, generated string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	before, after := "# Benchmarks\n\n", "\n"
	if s := string(old); strings.Contains(s, genBegin) && strings.Contains(s, genEnd) {
		before = s[:strings.Index(s, genBegin)]
		after = s[strings.Index(s, genEnd)+len(genEnd):]
	}
	return os.WriteFile(path, []byte(before+genBegin+"\n"+generated+genEnd+after), 0o644)
}
