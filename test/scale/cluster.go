package scale

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"

	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/storage"
)

// The cluster: what a cluster of n nodes holds, created through the API of one
// sandbox and grown from size to size (objects.go has the objects themselves).

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
	tb     testing.TB
	sb     *sandbox.Sandbox
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

// newScaleCluster prepares sb for the benchmark: a fast client, the
// namespaces, and the heartbeat of the Ready nodes (stop ends it).
func newScaleCluster(tb testing.TB, sb *sandbox.Sandbox) *scaleCluster {
	cfg, err := sb.RESTConfig()
	if err != nil {
		tb.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sc := &scaleCluster{tb: tb, sb: sb, c: c, cancel: cancel, done: make(chan struct{})}
	for _, ns := range append(append([]string{}, benchTeams...), benchSpark...) {
		sc.namespace(ns)
	}
	go sc.heartbeat(ctx)
	return sc
}

func (sc *scaleCluster) stop() { sc.cancel(); <-sc.done }

// namespace creates a namespace and waits for its default ServiceAccount,
// without which the API server refuses its pods.
func (sc *scaleCluster) namespace(name string) {
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := sc.c.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		sc.tb.Fatal(err)
	}
	var err error
	for began := time.Now(); time.Since(began) < 30*time.Second; time.Sleep(250 * time.Millisecond) {
		if _, err = sc.c.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			return
		}
	}
	sc.tb.Fatalf("no default ServiceAccount in %s after 30s: %v", name, err)
}

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
	tb := sc.tb
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
		tb.Fatalf("creating nodes: %v", err)
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
		tb.Fatalf("creating Spark apps: %v", err)
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
		tb.Fatalf("creating pods: %v", err)
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
		tb.Fatalf("creating claims: %v", err)
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
		tb.Fatalf("creating events: %v", err)
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
			sc.tb.Fatal(err)
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
	labels := map[string]string{sparkapp.LabelSparkRole: sparkapp.RoleDriver, sparkapp.LabelAppName: name,
		sparkapp.LabelAppSelector: fmt.Sprintf("spark-%032x", i)}
	var owner []metav1.OwnerReference
	if state == 0 || state == 2 || state == 4 {
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: batchv1.JobSpec{
				// Suspended: the Job controller creates no pod of its own.
				Suspend:      ptr.To(true),
				BackoffLimit: ptr.To[int32](1),
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{sparkapp.LabelSparkRole: sparkapp.RoleDriver, sparkapp.LabelAppName: name}},
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
			sparkapp.LabelSparkRole: sparkapp.RoleExecutor, sparkapp.LabelAppName: name, sparkapp.LabelAppSelector: labels[sparkapp.LabelAppSelector]}, "spark:3.5.3")
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
	// The taint manager may write the pod meanwhile (a node fenced by the failover
	// measurement): read it again on a conflict.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		created.Status = benchPodStatus(created, phase, nodeReady)
		_, err := sc.c.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			if latest, gerr := sc.c.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{}); gerr == nil {
				created = latest
			}
		}
		return err
	})
	if err != nil {
		return ref, 1, err
	}
	return ref, 2, nil
}

// unfence removes the out-of-service taint the failover measurement put on a lost node, so
// the next size's pods bound there are not evicted: a benchmark's clean-up, not a release
// (the node is not Ready, and never will be).
func (sc *scaleCluster) unfence() {
	ctx := context.Background()
	nodes, err := sc.c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		sc.tb.Fatalf("listing nodes: %v", err)
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		kept := slices.DeleteFunc(slices.Clone(n.Spec.Taints), func(t corev1.Taint) bool { return t.Key == corev1.TaintNodeOutOfService })
		if len(kept) == len(n.Spec.Taints) {
			continue
		}
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			latest, err := sc.c.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			latest.Spec.Taints = slices.DeleteFunc(latest.Spec.Taints, func(t corev1.Taint) bool { return t.Key == corev1.TaintNodeOutOfService })
			_, err = sc.c.CoreV1().Nodes().Update(ctx, latest, metav1.UpdateOptions{})
			return err
		}); err != nil {
			sc.tb.Fatalf("removing the fence from %s: %v", n.Name, err)
		}
	}
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
		f, err := os.Open(sc.sb.AuditLog())
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

// lostJobApp creates one more app in state 4 (a Job's driver Running on a lost node, its
// claim attached there) for the failover --wait measurement at this size, and returns its
// namespace and name.
func (sc *scaleCluster) lostJobApp() (ns, name string) {
	sc.mu.Lock()
	ready := append([]string(nil), sc.ready...)
	sc.mu.Unlock()
	var lost []string
	for i := 0; i < sc.nodes; i++ {
		if !readyNode(i) {
			lost = append(lost, benchNode(i))
		}
	}
	i := 6*(1000+sc.nodes) + 4 // i%6 == 4, apart from the apps grow creates
	refs, _, err := sc.createApp(context.Background(), i, ready, lost, time.Now())
	if err != nil {
		sc.tb.Fatalf("creating the app to fail over: %v", err)
	}
	sc.pods = append(sc.pods, refs...)
	return benchSpark[i%len(benchSpark)], fmt.Sprintf("app-%03d", i)
}
