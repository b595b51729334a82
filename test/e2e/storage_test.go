package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/storage"
)

// The storage matrix: one app per kind of checkpoint storage clusters have, each in its own
// namespace, all with their driver on node-a. node-a and node-b are in zone-1, node-c in zone-2.
var matrixNodes = sandbox.Options{Nodes: []string{"node-a", "node-b", "node-c"}}

var matrixZones = map[string]string{"node-a": "zone-1", "node-b": "zone-1", "node-c": "zone-2"}

// storageKind is one kind of checkpoint storage and what to submit for it.
type storageKind struct {
	name string
	// flags of submit for the checkpoint, given the claim name an administrator's static PV is
	// bound to (pv, when set, makes it first, as one provisions NFS or local volumes).
	flags func(claim string) []string
	pv    func(name, ns, claim string) *corev1.PersistentVolume
	// attaches: a VolumeAttachment is created for it, and failover waits for its detach.
	attaches bool
	// pinned: only node-a may mount it (a local PV); zonal: only zone-1's nodes may.
	pinned, zonal bool
	// manyWriters: its claim is ReadWriteMany, which submit mounts on the executors too.
	manyWriters bool
}

func fixedFlags(f ...string) func(string) []string { return func(string) []string { return f } }

func claimFlags(claim string) []string { return []string{"--checkpoint-claim", claim} }

var storageKinds = []storageKind{
	{name: "csi-rwop", flags: fixedFlags("--checkpoint-size", "1Gi"), attaches: true},
	{name: "csi-rwo", flags: fixedFlags("--checkpoint-size", "1Gi", "--checkpoint-access-mode", "ReadWriteOnce"), attaches: true},
	{name: "files", flags: fixedFlags("--checkpoint-size", "1Gi", "--checkpoint-storage-class", storage.NoAttachStorageClassName, "--checkpoint-access-mode", "ReadWriteMany"), manyWriters: true},
	{name: "nfs", flags: claimFlags, manyWriters: true, pv: func(name, ns, claim string) *corev1.PersistentVolume {
		return staticPV(name, ns, claim, corev1.ReadWriteMany, corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.sandbox.invalid", Path: "/exports/" + name}}, nil)
	}},
	{name: "local", flags: claimFlags, pinned: true, pv: func(name, ns, claim string) *corev1.PersistentVolume {
		return staticPV(name, ns, claim, corev1.ReadWriteOnce, corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: "/mnt/disks/" + name}},
			nodeAffinity(corev1.LabelHostname, "node-a"))
	}},
	{name: "zonal", flags: claimFlags, attaches: true, zonal: true, pv: func(name, ns, claim string) *corev1.PersistentVolume {
		return staticPV(name, ns, claim, corev1.ReadWriteOnce, corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: storage.DriverName, VolumeHandle: name, FSType: "ext4"}},
			nodeAffinity(corev1.LabelTopologyZone, "zone-1"))
	}},
	{name: "none", flags: fixedFlags()},
	{name: "object-store", flags: fixedFlags("--conf", "spark.sql.streaming.checkpointLocation=s3a://checkpoints/app")},
}

// hasClaim: the kind mounts a claim.
func (k storageKind) hasClaim() bool {
	return k.pv != nil || slices.Contains(k.flags(""), "--checkpoint-size")
}

func staticPV(name, ns, claim string, mode corev1.PersistentVolumeAccessMode, src corev1.PersistentVolumeSource, affinity *corev1.VolumeNodeAffinity) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{mode},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: ns, Name: claim},
			PersistentVolumeSource:        src,
			NodeAffinity:                  affinity,
		},
	}
}

// zoneNodes labels the nodes with their zones, as a cloud's node controller does.
func (e *env) zoneNodes() {
	for node, zone := range matrixZones {
		e.kubectl("label", "node", node, corev1.LabelTopologyZone+"="+zone)
	}
}

// submitWithStorage creates the static PV and claim the kind needs, then submits app with its
// checkpoint flags and extra.
func (e *env) submitWithStorage(ns, app string, k storageKind, extra ...string) {
	e.t.Helper()
	flags, _ := e.checkpointStorage(ns, app, k)
	args := []string{app, "-n", ns, "--image", "spark:3.5.3", "--class", "org.example.Stream", "local:///opt/app/stream.jar"}
	e.submit(append(append(append(args, flags...), extra...), "--wait", "--timeout", "60s")...)
}

// checkpointStorage creates the static PV and claim kind k needs for app (none for a kind that
// submit provisions), and returns submit's checkpoint flags for it and the claim app's driver
// will mount ("" for a kind without one).
func (e *env) checkpointStorage(ns, app string, k storageKind) (flags []string, claim string) {
	e.t.Helper()
	claim = app + "-ckpt"
	if k.pv == nil {
		flags = k.flags(claim)
		if !k.hasClaim() {
			return flags, ""
		}
		return flags, submit.CheckpointName(app)
	}
	pv := k.pv(ns+"-"+app+"-pv", ns, claim)
	if _, err := e.client().CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: claim, Namespace: ns}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: pv.Spec.AccessModes, StorageClassName: ptr.To(""), VolumeName: pv.Name,
		Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	if _, err := e.client().CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	return k.flags(claim), claim
}

func nodeAffinity(key, value string) *corev1.VolumeNodeAffinity {
	return &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: []string{value}}}}}}}
}

// startMatrix starts three zoned nodes and submits one app per storage kind, each in the
// namespace "m-" + its kind, every driver on node-a, and returns each app's driver pod by
// namespace.
func startMatrix(t *testing.T) (*env, map[string]corev1.Pod) {
	e := start(t, matrixNodes)
	e.zoneNodes()
	e.kubectl("cordon", "node-b")
	e.kubectl("cordon", "node-c")
	drivers := map[string]corev1.Pod{}
	for _, k := range storageKinds {
		ns := "m-" + k.name
		e.namespace(ns)
		// One executor each: every app runs on node-a first, and its 16 CPUs must hold them all.
		e.submitWithStorage(ns, "app", k, "--node-lost-timeout", "5s", "--executor-instances", "1")
		drivers[ns] = e.runningDriver(ns, "app")
		if node := drivers[ns].Spec.NodeName; node != "node-a" {
			t.Fatalf("%s: driver on %s, want node-a", ns, node)
		}
	}
	e.kubectl("uncordon", "node-b")
	e.kubectl("uncordon", "node-c")
	// What inspect shows of each checkpoint, and what the attach/detach controller did.
	for _, k := range storageKinds {
		ns := "m-" + k.name
		a, _ := e.inspectCLI(ns, "app")
		var vols []analysis.Volume
		for _, d := range a.Drivers {
			vols = append(vols, d.Volumes...)
		}
		if k.hasClaim() != (len(vols) == 1) {
			t.Fatalf("%s: volumes %+v", ns, vols)
		}
		if len(vols) == 1 && (vols[0].NoAttach == k.attaches || (vols[0].NodeAffinity != "") != (k.pinned || k.zonal)) {
			t.Errorf("%s: volume %+v: want noAttach=%t, node affinity=%t", ns, vols[0], !k.attaches, k.pinned || k.zonal)
		}
		if len(vols) == 1 && !k.attaches && len(e.attachments(vols[0].PV)) != 0 {
			t.Errorf("%s: %d VolumeAttachments for a volume that never attaches", ns, len(e.attachments(vols[0].PV)))
		}
	}
	return e, drivers
}

// TestStorageMatrixRejoin: node-a is partitioned with every kind of checkpoint under its
// drivers. inspect tells each apart: a driver that can move waits for node-a or a fence
// (StuckTerminating), the local volume's cannot move at all (ReplacementBlocked, naming the
// PV and its node affinity). When node-a rejoins, every app recovers by itself, one driver at
// a time.
func TestStorageMatrixRejoin(t *testing.T) {
	e, drivers := startMatrix(t)
	if err := e.sb.Partition("node-a"); err != nil {
		t.Fatal(err)
	}
	e.waitNodeLost("node-a")
	for _, k := range storageKinds {
		ns := "m-" + k.name
		e.waitEvicted(ns, drivers[ns].Name)
		want := analysis.StuckTerminating
		if k.pinned {
			want = analysis.ReplacementBlocked
		}
		a := e.verdict(ns, "app", ns+"-partitioned", want)
		if k.pinned && (!strings.Contains(a.Reason, "pv "+ns+"-app-pv) can only be mounted on nodes matching kubernetes.io/hostname in (node-a), and no Ready node does") ||
			!strings.HasPrefix(a.NextAction, "bring node-a back")) {
			t.Errorf("%s: %s / next: %s", ns, a.Reason, a.NextAction)
		}
	}
	if err := e.sb.Rejoin("node-a"); err != nil {
		t.Fatal(err)
	}
	for _, k := range storageKinds {
		ns := "m-" + k.name
		e.eventually(90*time.Second, ns+": a new driver Running", func() (bool, string) {
			repl, pods := e.replacement(ns, "app", drivers[ns].Name)
			return repl != nil && repl.Status.Phase == corev1.PodRunning, describePods(pods)
		})
		e.verdict(ns, "app", ns+"-rejoined", analysis.Healthy)
		e.noOverlap(ns)
	}
}

// TestStorageMatrixNodeDown: node-a is powered off (killed). failover --node-down refuses for
// the local volume (a new driver could not start anywhere: no fence), and for the zonal one
// while zone-1 has no Ready node left; it recovers every other app, waiting only for what its
// storage does: the detach and attach of volumes that attach, nothing for the others.
func TestStorageMatrixNodeDown(t *testing.T) {
	e, drivers := startMatrix(t)
	e.killNode("node-a")
	for ns, d := range drivers {
		e.waitEvicted(ns, d.Name)
	}
	// The local volume: refused before any fence.
	out, stderr, code := e.cli("failover", "app", "-n", "m-local", "--node-down", "--yes")
	if code != 4 || !strings.Contains(stderr, "A fence would only stop the old driver") || e.nodeHasFence("node-a") {
		t.Fatalf("m-local: exit %d, fenced %t\n%s\n%s", code, e.nodeHasFence("node-a"), out, stderr)
	}
	// The zonal volume while zone-1's other node is cordoned: blocked, naming the zone.
	e.kubectl("cordon", "node-b")
	a := e.verdict("m-zonal", "app", "m-zonal-no-node-in-zone", analysis.ReplacementBlocked)
	if !strings.Contains(a.Reason, "topology.kubernetes.io/zone in (zone-1), and no Ready node does") {
		t.Errorf("m-zonal: %s", a.Reason)
	}
	if _, stderr, code := e.cli("failover", "app", "-n", "m-zonal", "--node-down", "--yes"); code != 4 || e.nodeHasFence("node-a") {
		t.Fatalf("m-zonal with zone-1 cordoned: exit %d, fenced %t\n%s", code, e.nodeHasFence("node-a"), stderr)
	}
	e.kubectl("uncordon", "node-b")
	for _, k := range storageKinds {
		ns := "m-" + k.name
		if k.pinned {
			continue
		}
		fenced := e.nodeHasFence("node-a")
		out, stderr, code := e.cli("failover", "app", "-n", ns, "--node-down", "--yes", "--wait", "--timeout", "120s")
		switch {
		case code == 0 && fenced && strings.Contains(out, ns+"/app: nothing to fail over: driver "):
			// An earlier app's failover fenced node-a, and the pod garbage collector collected
			// this app's old driver before this failover could: the Job's next driver is starting
			// or runs, nothing was left to do (the verdict below waits for it to run).
		case code != 0 || !strings.Contains(out, "failover of "+ns+"/app complete: a new driver runs"):
			t.Fatalf("%s: failover exit %d\n%s\n%s", ns, code, out, stderr)
		default:
			if waitedDetach := strings.Contains(stderr, "volume detached from the old node"); waitedDetach != k.attaches {
				t.Errorf("%s: waited for a detach: %t, want %t\n%s", ns, waitedDetach, k.attaches, stderr)
			}
		}
		e.verdict(ns, "app", ns+"-failed-over", analysis.Healthy)
		e.noOverlap(ns)
		e.t.Logf("%s: %s", ns, strings.ReplaceAll(strings.TrimSpace(stderr), "\n", " | "))
	}
	// node-a is fenced now; the local volume's driver still cannot start anywhere.
	e.verdict("m-local", "app", "m-local-fenced", analysis.ReplacementBlocked)
	if _, stderr, code := e.cli("failover", "app", "-n", "m-local", "--node-down", "--yes"); code != 4 {
		t.Errorf("m-local after the fence: exit %d\n%s", code, stderr)
	}
	e.noOverlap("m-local")
}
