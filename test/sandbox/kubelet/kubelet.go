// Package kubelet simulates one machine and its kubelet for the sandbox: it
// registers the Node, heartbeats through its Lease and node status, and
// "runs" the pods bound to it, recording in the ground truth when their
// containers really start and stop.
//
// It behaves like a v1.37 kubelet where the partition story depends on it:
//   - the Lease is renewed every nodeLeaseDurationSeconds × 0.25; the node status is computed
//     every nodeStatusUpdateFrequency and posted only when it changed or
//     nodeStatusReportFrequency passed (heartbeat.go);
//   - a pod starts only once its attachable volumes (CSI whose CSIDriver requires attach) are
//     in node.status.volumesInUse as posted and attached to this node (the attach/detach
//     controller reports them in node.status.volumesAttached), its other claims (NFS, local,
//     a CSI driver without attach) are bound, and its ConfigMaps and Secrets exist; until then
//     it stays ContainerCreating with kubelet-like FailedMount events;
//   - attachable volumes are reported in node.status.volumesInUse from the moment a pod on the
//     machine needs them until they are unmounted, which keeps the attach/detach controller
//     from detaching them; others are not, as the kubelet's volume manager reports only
//     volumes whose plugin is attachable (pkg/kubelet/volumemanager/volume_manager.go,
//     GetVolumesInUse);
//   - a deleted pod's containers get SIGTERM and are killed at the end of its grace period;
//     once they stopped its terminal phase is written, then its volumes are unmounted, and
//     only then is it deleted with grace period 0; finalizers are left alone (teardown.go);
//   - a pod removed from the API (force-deleted) while its containers run is
//     killed when the kubelet next syncs, as kubelet's pod cleanup does.
//
// Stopping the process (SIGSTOP) is a partition: nothing is reported and
// nothing is killed, so the pods keep running. SIGCONT is the rejoin.
package kubelet

import (
	"context"
	"fmt"
	"log"
	"os"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/sparkrt"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/sparkstandin"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/storage"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// AttachDetachAnnotation makes the attach/detach controller, not the kubelet,
// attach this node's volumes; a real kubelet sets it when it registers.
const AttachDetachAnnotation = "volumes.kubernetes.io/controller-managed-attach-detach"

// Version is what the simulated kubelet reports.
const Version = "v1.37.2"

// SlowTeardownAnnotation on a pod makes this kubelet behave like one whose
// unmount of the pod's volumes (TearDown, CSI NodeUnpublishVolume) hangs: its
// containers stop and its terminal phase (Failed) is written, but the final
// delete waits for the unmount (SyncTerminatedPod, WaitForUnmount), so the pod
// stays, with its deletion timestamp, and its attachable volumes stay in
// node.status.volumesInUse, for as long as the annotation is there. Removing
// it lets the unmount finish. Tests use it to make an old driver linger after
// its node rejoined.
const SlowTeardownAnnotation = "sandbox.sparkha.io/slow-teardown"

// StuckUnmountAnnotation on a pod makes this kubelet behave like one whose
// device unmount (UnmountDevice, CSI NodeUnstageVolume) hangs: the pod's own
// mounts are gone, so the pod is deleted, but its attachable volumes stay in
// node.status.volumesInUse for as long as this machine runs (the volume
// manager reports a volume until it is unmounted from the node), so the
// attach/detach controller never detaches them from it. Tests use it to leave
// a volume attached to a machine that then dies with no pod left on it.
const StuckUnmountAnnotation = "sandbox.sparkha.io/stuck-unmount"

// SIGTERMExitAnnotation on a pod is how many seconds its containers take to exit
// after SIGTERM (default 0: at once, exit code 143). A value at or past the grace
// period means they are killed at its end (exit code 137). A Spark driver's or
// executor's JVM exits on SIGTERM once Spark's shutdown hooks ran
// (ShutdownHookManager: stop the SparkContext, delete the local dirs), which
// takes a moment, not the 30 s grace period.
const SIGTERMExitAnnotation = "sandbox.sparkha.io/sigterm-exit-seconds"

// mountTimeout is how long a pod waits for its volumes before the kubelet
// reports FailedMount (2m on a real kubelet; short here so tests see it).
const mountTimeout = 5 * time.Second

// Kubelet is one simulated machine.
type Kubelet struct {
	Client kubernetes.Interface
	Node   string
	// PodSubnet is the first three octets of this node's pod IPs, e.g. "10.244.1".
	PodSubnet string
	NodeIP    string
	Truth     *truth.Recorder
	// TruthDir holds every machine's record: an executor reads there whether
	// its driver's process still runs (see sparkProcesses).
	TruthDir string
	// RuntimeDownFile, when it exists, means the container runtime is down: the kubelet runs
	// (it renews its Lease) but reports Ready=False and starts and stops no container, as a
	// kubelet whose runtime does not answer (pkg/kubelet/nodestatus ReadyCondition, "container
	// runtime is down"; the pod workers block on the runtime).
	RuntimeDownFile string
	// VolumesDir is the storage's data side (storage.DataDir): running drivers write there.
	VolumesDir string
	// Spark, when set, runs the pods whose image is one of the sandbox's Spark images as real
	// processes on this machine (real.go); the others, and every pod without it, on the stand-in.
	Spark *sparkrt.Runtime
	Log   *log.Logger
	// Heartbeat timing, as KubeletConfiguration names it; zero takes v1.37's default
	// (see defaults): a Lease of 40 s renewed every 10 s, the status computed every 10 s
	// and posted unchanged every 5 minutes.
	NodeLeaseDurationSeconds  int32
	NodeStatusUpdateFrequency time.Duration
	NodeStatusReportFrequency time.Duration

	recorder record.EventRecorder
	pods     corelisters.PodLister
	claims   corelisters.PersistentVolumeClaimLister
	volumes  corelisters.PersistentVolumeLister
	drivers  storagelisters.CSIDriverLister
	nodes    corelisters.NodeLister
	cms      corelisters.ConfigMapLister
	secrets  corelisters.SecretLister
	execs    corelisters.PodLister // Spark executor pods of every node, as a driver's watch sees them

	mu      sync.Mutex               // guards running, mounted, stuck and reported: the heartbeat reads them
	running map[types.UID]*container // pods whose containers run on this machine
	waiting map[types.UID]time.Time  // pods waiting for volumes, since
	// mounted are the attachable volumes mounted for each pod, from its start until unmounted.
	mounted map[types.UID]*mount
	stuck   map[corev1.UniqueVolumeName]bool // volumes whose device never unmounts (StuckUnmountAnnotation)
	// reported are the volumes last posted in node.status.volumesInUse (the desired state of
	// world's ReportedInUse): an attachable volume is mounted only once reported.
	reported map[corev1.UniqueVolumeName]bool
	killing  map[types.UID]*killing // deleted pods whose containers got SIGTERM
	exited   map[types.UID]*exited  // pods whose containers this kubelet stopped
	report   statusReport
	nextIP   int
	lastEvts map[types.UID]time.Time
	lastSync time.Time // when syncPods last ran: a longer gap means the machine was stopped
	frozen   [2]time.Time
	truthNow []truth.Interval // the ground truth as read in this sync, nil until needed
	// targets are the volumes each running driver writes to; lastWrite when they last did.
	targets   map[types.UID][]claimVolume
	lastWrite time.Time
}

type container struct {
	namespace, name string
	started         time.Time
	ip              string
	// role is the pod's spark-role; appID its spark-app-selector.
	role, appID string
	// driver is, for an executor, its driver pod's UID.
	driver string
	// alloc is, for a Spark driver, the executor allocator running in its process.
	alloc *sparkstandin.Allocator
	// proc is the container's real process (real.go); startErr why it could not start.
	proc     *sparkrt.Process
	startErr string
}

// real says whether the container runs (or ran) as a real process rather than on the stand-in.
func (c *container) real() bool { return c.proc != nil || c.startErr != "" }

// Run registers the node and runs it until ctx ends.
func (k *Kubelet) Run(ctx context.Context) error {
	k.running = map[types.UID]*container{}
	k.waiting = map[types.UID]time.Time{}
	k.stuck = map[corev1.UniqueVolumeName]bool{}
	k.mounted = map[types.UID]*mount{}
	k.reported = map[corev1.UniqueVolumeName]bool{}
	k.killing = map[types.UID]*killing{}
	k.exited = map[types.UID]*exited{}
	k.defaults()
	k.report.frequency = k.NodeStatusReportFrequency
	k.lastEvts = map[types.UID]time.Time{}
	k.targets = map[types.UID][]claimVolume{}
	k.nextIP = 2
	if err := k.register(ctx); err != nil {
		return err
	}
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: k.Client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	k.recorder = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: k.Node})

	onNode := informers.NewSharedInformerFactoryWithOptions(k.Client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", k.Node).String()
	}))
	self := informers.NewSharedInformerFactoryWithOptions(k.Client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", k.Node).String()
	}))
	all := informers.NewSharedInformerFactory(k.Client, 0)
	execs := informers.NewSharedInformerFactoryWithOptions(k.Client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = labels.Set{sparkstandin.LabelRole: sparkstandin.RoleExecutor}.String()
	}))
	k.execs = execs.Core().V1().Pods().Lister()
	k.pods = onNode.Core().V1().Pods().Lister()
	k.nodes = self.Core().V1().Nodes().Lister()
	k.claims = all.Core().V1().PersistentVolumeClaims().Lister()
	k.volumes = all.Core().V1().PersistentVolumes().Lister()
	k.drivers = all.Storage().V1().CSIDrivers().Lister()
	k.cms = all.Core().V1().ConfigMaps().Lister()
	k.secrets = all.Core().V1().Secrets().Lister()
	for _, f := range []informers.SharedInformerFactory{onNode, self, all, execs} {
		f.Start(ctx.Done())
		f.WaitForCacheSync(ctx.Done())
	}

	go k.heartbeat(ctx)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		k.syncPods(ctx)
		k.writeVolumes()
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (k *Kubelet) register(ctx context.Context) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: k.Node,
			Labels: map[string]string{
				"kubernetes.io/hostname": k.Node,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
			},
			Annotations: map[string]string{
				AttachDetachAnnotation:            "true",
				"csi.volume.kubernetes.io/nodeid": fmt.Sprintf(`{%q:%q,%q:%q}`, storage.DriverName, k.Node, storage.NoAttachDriverName, k.Node),
			},
		},
	}
	if _, err := k.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("registering node %s: %w", k.Node, err)
	}
	csiNode := &storagev1.CSINode{
		ObjectMeta: metav1.ObjectMeta{Name: k.Node},
		Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{
			{Name: storage.DriverName, NodeID: k.Node}, {Name: storage.NoAttachDriverName, NodeID: k.Node}}},
	}
	if _, err := k.Client.StorageV1().CSINodes().Create(ctx, csiNode, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("registering CSINode %s: %w", k.Node, err)
	}
	return k.updateNodeStatus(ctx)
}

// volumesInUse is the volume manager's GetVolumesInUse: the attachable volumes of the
// desired state of world (every pod of this machine that is to run: neither deleted nor
// terminal, started or not) and of the actual one (whatever is mounted, until unmounted).
// The attach/detach controller must not detach those.
func (k *Kubelet) volumesInUse() []corev1.UniqueVolumeName {
	if k.pods == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	pods, _ := k.pods.List(labels.Everything())
	set := map[corev1.UniqueVolumeName]bool{}
	for v := range k.stuck {
		set[v] = true
	}
	for _, m := range k.mounted {
		for _, v := range m.volumes {
			set[v] = true
		}
	}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || isTerminal(pod) {
			continue
		}
		for _, v := range k.claimVolumes(pod) {
			if v.attachable {
				set[v.unique] = true
			}
		}
	}
	out := make([]corev1.UniqueVolumeName, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// claimVolume is a pod volume backed by a PersistentVolumeClaim.
type claimVolume struct {
	podVolume string
	// bound: the claim is bound to a PV that exists.
	bound bool
	// attachable: the PV is attached to a node before it is mounted (a CSI volume whose
	// CSIDriver requires attach); unique is then its name in node.status.volumesAttached.
	attachable bool
	unique     corev1.UniqueVolumeName
	// dataKey names the storage behind the PV (storage.DataKey), once bound.
	dataKey string
}

func (k *Kubelet) claimVolumes(pod *corev1.Pod) []claimVolume {
	var out []claimVolume
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		pvc, err := k.claims.PersistentVolumeClaims(pod.Namespace).Get(v.PersistentVolumeClaim.ClaimName)
		if err != nil || pvc.Spec.VolumeName == "" {
			out = append(out, claimVolume{podVolume: v.Name})
			continue
		}
		pv, err := k.volumes.Get(pvc.Spec.VolumeName)
		if err != nil {
			out = append(out, claimVolume{podVolume: v.Name})
			continue
		}
		cv := claimVolume{podVolume: v.Name, bound: true, dataKey: storage.DataKey(pv)}
		if csi := pv.Spec.CSI; csi != nil && k.attachRequired(csi.Driver) {
			cv.attachable, cv.unique = true, storage.UniqueVolumeName(csi.Driver, csi.VolumeHandle)
		}
		out = append(out, cv)
	}
	return out
}

// attachRequired is the CSIDriver's spec.attachRequired; a driver without a CSIDriver object
// attaches, as the CSI volume plugin decides (pkg/volume/csi/csi_attacher.go,
// isAttachRequired). NFS, local and hostPath PVs have no attacher at all.
func (k *Kubelet) attachRequired(driver string) bool {
	d, err := k.drivers.Get(driver)
	if err != nil {
		return true
	}
	return d.Spec.AttachRequired == nil || *d.Spec.AttachRequired
}

// markReportedInUse is the volume manager's MarkVolumesAsReportedInUse, called with what the
// node status holds after each computation.
func (k *Kubelet) markReportedInUse(vs []corev1.UniqueVolumeName) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reported = map[corev1.UniqueVolumeName]bool{}
	for _, v := range vs {
		k.reported[v] = true
	}
}

func isTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// runtimeDown says whether the container runtime is down (RuntimeDownFile exists).
func (k *Kubelet) runtimeDown() bool {
	if k.RuntimeDownFile == "" {
		return false
	}
	_, err := os.Stat(k.RuntimeDownFile)
	return err == nil
}

// syncPods is the kubelet's pod loop: start what can start, kill what was deleted.
func (k *Kubelet) syncPods(ctx context.Context) {
	if k.runtimeDown() {
		// Nothing can be started or stopped: the machine's containers run on as they are.
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	pods, err := k.pods.List(labels.Everything())
	if err != nil {
		return
	}
	now := time.Now()
	if !k.lastSync.IsZero() && now.Sub(k.lastSync) > 2*time.Second {
		// The machine was stopped (partitioned) in between: its processes ran on.
		k.frozen = [2]time.Time{k.lastSync, now}
	}
	k.lastSync = now
	k.truthNow = nil
	present := map[types.UID]bool{}
	for _, pod := range pods {
		present[pod.UID] = true
		if m := k.mounted[pod.UID]; m != nil {
			m.pod = pod
		}
		switch {
		case pod.DeletionTimestamp != nil:
			k.terminate(ctx, pod, now)
		case isTerminal(pod):
			k.kill(pod.UID, "pod is terminal")
			k.unmount(pod)
		case k.running[pod.UID] != nil:
			if c := k.running[pod.UID]; c.real() && k.realExit(ctx, pod, c) {
				continue
			}
			k.keepRunning(ctx, pod)
		case k.exited[pod.UID] != nil && k.exited[pod.UID].real:
			k.reportExit(ctx, pod) // its status write failed: again
		default:
			k.tryStart(ctx, pod)
		}
	}
	for uid := range k.running {
		if !present[uid] {
			k.kill(uid, "pod no longer exists in the API")
		}
	}
	for uid, m := range k.mounted {
		if !present[uid] {
			// The volume manager unmounts the volumes of a pod that is gone, as it was last seen.
			k.unmount(m.pod)
		}
	}
	for uid := range k.killing {
		if !present[uid] {
			delete(k.killing, uid)
		}
	}
	for uid := range k.exited {
		if !present[uid] {
			delete(k.exited, uid)
		}
	}
	for uid := range k.waiting {
		if !present[uid] {
			delete(k.waiting, uid)
		}
	}
	k.sparkProcesses(ctx, pods)
}

// kill stops a pod's containers on this machine and records it.
func (k *Kubelet) kill(uid types.UID, reason string) {
	c := k.running[uid]
	if c == nil {
		return
	}
	k.killReal(uid, c)
	delete(k.running, uid)
	k.recordStop(uid, c, reason, time.Time{})
	k.Log.Printf("killed %s/%s: %s", c.namespace, c.name, reason)
}

// recordStop writes a stop of c's containers to the ground truth, at the
// given time (zero: now).
func (k *Kubelet) recordStop(uid types.UID, c *container, reason string, at time.Time) {
	if err := k.Truth.Record(truth.Entry{Time: at, Event: truth.Stop, Namespace: c.namespace, Pod: c.name, UID: string(uid), Reason: reason,
		Role: c.role, AppID: c.appID, Driver: c.driver}); err != nil {
		k.Log.Printf("truth: %v", err)
	}
}

// tryStart starts a pod once everything it mounts is in place.
func (k *Kubelet) tryStart(ctx context.Context, pod *corev1.Pod) {
	since, ok := k.waiting[pod.UID]
	if !ok {
		since = time.Now()
		k.waiting[pod.UID] = since
	}
	unattached, missing := k.unreadyVolumes(pod)
	if len(unattached) == 0 && len(missing) == 0 {
		if pod.Labels[sparkstandin.LabelRole] == sparkstandin.RoleExecutor {
			if _, runs := k.driverProcess(sparkstandin.DriverOf(pod)); !runs {
				// The executor's JVM cannot register with a driver that is gone:
				// it exits at once, before it runs a task.
				delete(k.waiting, pod.UID)
				k.exitExecutor(ctx, pod, nil, "the executor found no driver to register with")
				return
			}
		}
		k.start(ctx, pod)
		return
	}
	if pod.Status.Phase == "" || len(pod.Status.ContainerStatuses) == 0 {
		status := pod.Status.DeepCopy()
		status.Phase = corev1.PodPending
		status.HostIP = k.NodeIP
		status.HostIPs = []corev1.HostIP{{IP: k.NodeIP}}
		if status.StartTime == nil {
			status.StartTime = ptr.To(metav1.Now())
		}
		status.ContainerStatuses = nil
		for _, ctr := range pod.Spec.Containers {
			status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{
				Name: ctr.Name, Image: ctr.Image,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}},
			})
		}
		now := metav1.Now()
		setPodCondition(status, corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionFalse, LastTransitionTime: now})
		setPodCondition(status, corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now})
		setPodCondition(status, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", LastTransitionTime: now})
		setPodCondition(status, corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", LastTransitionTime: now})
		_ = k.writeStatus(ctx, pod, status)
	}
	if time.Since(since) < mountTimeout || time.Since(k.lastEvts[pod.UID]) < 10*time.Second {
		return
	}
	k.lastEvts[pod.UID] = time.Now()
	for _, m := range missing {
		k.recorder.Event(pod, corev1.EventTypeWarning, "FailedMount", m)
	}
	if len(unattached) > 0 {
		k.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedMount",
			"Unable to attach or mount volumes: unmounted volumes=[%s], unattached volumes=[%s], failed to process volumes=[]: timed out waiting for the condition",
			join(unattached), join(unattached))
	}
}

// unreadyVolumes returns the pod volumes not yet bound, or attachable and not yet attached to
// this node, and
// messages for volumes that cannot be set up at all (a missing ConfigMap).
func (k *Kubelet) unreadyVolumes(pod *corev1.Pod) (unattached []string, missing []string) {
	node, err := k.nodes.Get(k.Node)
	attached := map[corev1.UniqueVolumeName]bool{}
	if err == nil {
		for _, v := range node.Status.VolumesAttached {
			attached[v.Name] = true
		}
	}
	// An attachable volume is mounted only once the attach/detach controller reports it
	// attached and this kubelet's node status reported it in use, so that it cannot be
	// detached under the mount (operation_generator.go, VerifyControllerAttachedVolume:
	// "Volume has not been added to the list of VolumesInUse in the node's volume status").
	for _, v := range k.claimVolumes(pod) {
		if !v.bound || (v.attachable && (!attached[v.unique] || !k.reported[v.unique])) {
			unattached = append(unattached, v.podVolume)
		}
	}
	// The configmap and secret volume plugins fail SetUp while the object is missing
	// (pkg/volume/configmap/configmap.go and pkg/volume/secret/secret.go SetUpAt), unless the
	// volume is optional.
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.ConfigMap != nil && !ptr.Deref(v.ConfigMap.Optional, false):
			if _, err := k.cms.ConfigMaps(pod.Namespace).Get(v.ConfigMap.Name); err != nil {
				missing = append(missing, fmt.Sprintf("MountVolume.SetUp failed for volume %q : configmap %q not found", v.Name, v.ConfigMap.Name))
			}
		case v.Secret != nil && !ptr.Deref(v.Secret.Optional, false):
			if _, err := k.secrets.Secrets(pod.Namespace).Get(v.Secret.SecretName); err != nil {
				missing = append(missing, fmt.Sprintf("MountVolume.SetUp failed for volume %q : secret %q not found", v.Name, v.Secret.SecretName))
			}
		}
	}
	return unattached, missing
}

func (k *Kubelet) start(ctx context.Context, pod *corev1.Pod) {
	c := &container{namespace: pod.Namespace, name: pod.Name, started: time.Now(), ip: fmt.Sprintf("%s.%d", k.PodSubnet, k.nextIP),
		role: pod.Labels[sparkstandin.LabelRole], appID: pod.Labels[sparkstandin.LabelAppID]}
	k.nextIP++
	img, real := k.realImage(pod)
	switch {
	case c.role == sparkstandin.RoleExecutor:
		c.driver = sparkstandin.DriverOf(pod)
	case c.role == sparkstandin.RoleDriver && !real:
		k.startDriver(pod, c)
	}
	if real {
		k.runReal(ctx, pod, c, img)
	}
	k.running[pod.UID] = c
	delete(k.waiting, pod.UID)
	m := &mount{pod: pod}
	for _, v := range k.claimVolumes(pod) {
		if v.attachable {
			m.volumes = append(m.volumes, v.unique)
		}
	}
	k.mounted[pod.UID] = m
	if err := k.Truth.Record(truth.Entry{Event: truth.Start, Namespace: pod.Namespace, Pod: pod.Name, UID: string(pod.UID),
		Role: c.role, AppID: c.appID, Driver: c.driver}); err != nil {
		k.Log.Printf("truth: %v", err)
	}
	k.Log.Printf("started %s/%s", pod.Namespace, pod.Name)
	for _, ctr := range pod.Spec.Containers {
		k.recorder.Eventf(pod, corev1.EventTypeNormal, "Started", "Started container %s", ctr.Name)
	}
	k.keepRunning(ctx, pod)
}

// keepRunning writes the Running status, and writes it again after the node
// lifecycle controller marked the pod not ready while the node was away.
func (k *Kubelet) keepRunning(ctx context.Context, pod *corev1.Pod) {
	c := k.running[pod.UID]
	if pod.Status.Phase == corev1.PodRunning && podConditionTrue(pod, corev1.PodReady) {
		return
	}
	status := pod.Status.DeepCopy()
	status.Phase = corev1.PodRunning
	status.HostIP = k.NodeIP
	status.HostIPs = []corev1.HostIP{{IP: k.NodeIP}}
	status.PodIP = c.ip
	status.PodIPs = []corev1.PodIP{{IP: c.ip}}
	if status.StartTime == nil {
		status.StartTime = ptr.To(metav1.NewTime(c.started))
	}
	status.ContainerStatuses = nil
	for _, ctr := range pod.Spec.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, ImageID: "sandbox://" + ctr.Image,
			ContainerID: fmt.Sprintf("sandbox://%s-%s", pod.UID, ctr.Name),
			Ready:       true, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.started)}},
		})
	}
	now := metav1.Now()
	for _, t := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		setPodCondition(status, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	_ = k.writeStatus(ctx, pod, status)
}

func (k *Kubelet) writeStatus(ctx context.Context, pod *corev1.Pod, status *corev1.PodStatus) error {
	p := pod.DeepCopy()
	p.Status = *status
	_, err := k.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		k.Log.Printf("status %s/%s: %v", p.Namespace, p.Name, err)
	}
	return err
}

// setPodCondition sets c, keeping the transition time when the status is unchanged.
func setPodCondition(s *corev1.PodStatus, c corev1.PodCondition) {
	for i := range s.Conditions {
		if s.Conditions[i].Type == c.Type {
			if s.Conditions[i].Status == c.Status {
				c.LastTransitionTime = s.Conditions[i].LastTransitionTime
			}
			s.Conditions[i] = c
			return
		}
	}
	s.Conditions = append(s.Conditions, c)
}

func podConditionTrue(pod *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func join(s []string) string {
	sort.Strings(s)
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}
