package analysis_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/analysis"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// wantVerdicts is what a responder must be told at each captured step of
// the incident the e2e scenarios replay (test/README.md).
var wantVerdicts = map[string]analysis.Verdict{
	"s1-step1-running":             analysis.Healthy,
	"s1-step3-node-lost":           analysis.DriverAtRisk,
	"s1-step5-replacement-blocked": analysis.ReplacementBlocked,
	"s1-step7-recovered":           analysis.Healthy,
	"s2-split-brain":               analysis.SplitBrainRisk,
	"s3-step4-stuck-terminating":   analysis.StuckTerminating,
	"s3-step7-recovered":           analysis.Healthy,
	"s4-node-dead-blocked":         analysis.ReplacementBlocked,
	"f1-partitioned":               analysis.StuckTerminating,
	"f1-rejoined-lingering":        analysis.SafeToComplete,
	"f2-node-dead":                 analysis.StuckTerminating,
	"f2-recovered":                 analysis.Healthy,
	"f3-volume-held":               analysis.Starting,
	"f3-volume-left-on-dead-node":  analysis.ReplacementBlocked,
	// Captured by TestExecutorsOfSubmittedApp (-capture).
	"e1-executors-running":            analysis.Healthy,
	"e2-partitioned-driver-executors": analysis.StuckTerminating,
	// Derived from f2-recovered and f1-partitioned with executor pods added
	// (as the sandbox's Spark stand-in labels and owns them).
	"x1-stray-executors":        analysis.StrayExecutors,
	"x2-stuck-driver-executors": analysis.StuckTerminating,
	// Captured by TestStorageMatrixRejoin and TestStorageMatrixNodeDown (-capture).
	"m-files-partitioned":     analysis.StuckTerminating,
	"m-nfs-partitioned":       analysis.StuckTerminating,
	"m-none-partitioned":      analysis.StuckTerminating,
	"m-local-partitioned":     analysis.ReplacementBlocked,
	"m-local-fenced":          analysis.ReplacementBlocked,
	"m-zonal-no-node-in-zone": analysis.ReplacementBlocked,
	"m-files-failed-over":     analysis.Healthy,
}

func loadFixture(t *testing.T, name string) fixture.Fixture {
	return fixture.Load(t, name)
}

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	fixture.Golden(t, filepath.Join("testdata", name), got, *update)
}

// TestAnalyzeScenarioSnapshots replays every captured step and checks the verdict, then the
// whole report against its golden file (testdata/report; pkg/render has the renderings).
func TestAnalyzeScenarioSnapshots(t *testing.T) {
	names := fixture.Names(t)
	if len(names) != len(wantVerdicts) {
		t.Fatalf("found %d snapshots, want %d (one per entry of wantVerdicts)", len(names), len(wantVerdicts))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			r := analysis.Analyze(&f.Snapshot, f.Now)
			if len(r.Apps) != 1 {
				t.Fatalf("want one app, got %d", len(r.Apps))
			}
			if got, want := r.Apps[0].Verdict, wantVerdicts[name]; got != want {
				t.Fatalf("verdict %s (%s), want %s", got, r.Apps[0].Reason, want)
			}
			js, err := json.MarshalIndent(r, "", "    ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("report", name+".json"), append(js, '\n'))
		})
	}
}

// TestReportIsTheSameASecondLater: the report holds facts and timestamps, never ages, so an
// unchanged cluster gives the same report from one second to the next (and a minute later,
// unless a rule of time, such as a driver stuck terminating for 2 minutes, is crossed).
func TestReportIsTheSameASecondLater(t *testing.T) {
	for _, name := range fixture.Names(t) {
		f := loadFixture(t, name)
		now, _ := json.Marshal(analysis.Analyze(&f.Snapshot, f.Now))
		later, _ := json.Marshal(analysis.Analyze(&f.Snapshot, f.Now.Add(time.Second)))
		if !bytes.Equal(now, later) {
			t.Errorf("%s: the report changed in one second:\n%s\n%s", name, now, later)
		}
		if strings.Contains(string(now), " ago") {
			t.Errorf("%s: the report says how long ago something was: %s", name, now)
		}
	}
}

// TestAnalyzeIsPure: the same snapshot and clock give the same report.
func TestAnalyzeIsPure(t *testing.T) {
	f := loadFixture(t, "s1-step5-replacement-blocked")
	a, _ := json.Marshal(analysis.Analyze(&f.Snapshot, f.Now))
	b, _ := json.Marshal(analysis.Analyze(&f.Snapshot, f.Now))
	if !bytes.Equal(a, b) {
		t.Fatal("two analyses of one snapshot differ")
	}
}

// TestVolumesThatNeverAttach: a volume is marked NoAttach exactly when the attach/detach
// controller never attaches it: an in-tree NFS, hostPath, local, CephFS or Azure File PV, or a
// CSI driver whose CSIDriver object says attachRequired: false. A CSI driver without a
// CSIDriver object, or with attachRequired unset or true, attaches, as an in-tree iSCSI PV does.
func TestVolumesThatNeverAttach(t *testing.T) {
	const name = "s1-step5-replacement-blocked"
	f := loadFixture(t, name)
	driver := f.Snapshot.Volumes[0].Spec.CSI.Driver
	tests := []struct {
		name   string
		mutate func(s *analysis.Snapshot)
		want   bool
	}{
		{"CSI without a CSIDriver object", func(s *analysis.Snapshot) {}, false},
		{"CSI attachRequired unset", func(s *analysis.Snapshot) {
			s.CSIDrivers = []storagev1.CSIDriver{{ObjectMeta: metav1.ObjectMeta{Name: driver}}}
		}, false},
		{"CSI attachRequired true", func(s *analysis.Snapshot) {
			s.CSIDrivers = []storagev1.CSIDriver{{ObjectMeta: metav1.ObjectMeta{Name: driver}, Spec: storagev1.CSIDriverSpec{AttachRequired: ptr.To(true)}}}
		}, false},
		{"CSI attachRequired false", func(s *analysis.Snapshot) {
			s.CSIDrivers = []storagev1.CSIDriver{{ObjectMeta: metav1.ObjectMeta{Name: driver}, Spec: storagev1.CSIDriverSpec{AttachRequired: ptr.To(false)}}}
			s.VolumeAttachments = nil
		}, true},
		{"another CSI driver's attachRequired false", func(s *analysis.Snapshot) {
			s.CSIDrivers = []storagev1.CSIDriver{{ObjectMeta: metav1.ObjectMeta{Name: "nfs.csi.k8s.io"}, Spec: storagev1.CSIDriverSpec{AttachRequired: ptr.To(false)}}}
		}, false},
		{"in-tree NFS", func(s *analysis.Snapshot) {
			s.Volumes[0].Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.example.com", Path: "/exports/ckpt"}}
			s.VolumeAttachments = nil
		}, true},
		{"hostPath", func(s *analysis.Snapshot) {
			s.Volumes[0].Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/mnt/ckpt"}}
			s.VolumeAttachments = nil
		}, true},
		{"local", func(s *analysis.Snapshot) {
			s.Volumes[0].Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: "/mnt/disks/ckpt"}}
			s.VolumeAttachments = nil
		}, true},
		{"in-tree CephFS", func(s *analysis.Snapshot) {
			s.Volumes[0].Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{CephFS: &corev1.CephFSPersistentVolumeSource{Monitors: []string{"10.0.0.1:6789"}}}
			s.VolumeAttachments = nil
		}, true},
		{"in-tree Azure File", func(s *analysis.Snapshot) {
			s.Volumes[0].Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{AzureFile: &corev1.AzureFilePersistentVolumeSource{SecretName: "azure", ShareName: "ckpt"}}
			s.VolumeAttachments = nil
		}, true},
		{"in-tree iSCSI attaches", func(s *analysis.Snapshot) {
			s.Volumes[0].Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{ISCSI: &corev1.ISCSIPersistentVolumeSource{TargetPortal: "10.0.0.2:3260", IQN: "iqn.2026-11.com.example:ckpt"}}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := loadFixture(t, name)
			tt.mutate(&f.Snapshot)
			r := analysis.Analyze(&f.Snapshot, f.Now)
			n := 0
			for _, d := range r.Apps[0].Drivers {
				for _, v := range d.Volumes {
					n++
					if v.NoAttach != tt.want {
						t.Errorf("driver %s volume %s: NoAttach=%v, want %v", d.Pod, v.Name, v.NoAttach, tt.want)
					}
				}
			}
			if n == 0 {
				t.Fatal("no volume in the fixture")
			}
		})
	}
}

// TestAppsSortedByNamespaceThenName: the report lists apps by namespace, then by name, whatever
// order the API listed their driver pods in.
func TestAppsSortedByNamespaceThenName(t *testing.T) {
	f := loadFixture(t, "s1-step7-recovered")
	base := f.Snapshot.DriverPods[0]
	f.Snapshot.DriverPods, f.Snapshot.Jobs = nil, nil
	for _, k := range [][2]string{{"s1", "zeta"}, {"a-team", "stream"}, {"s1", "alpha"}, {"z-team", "alpha"}} {
		p := *base.DeepCopy()
		p.Namespace, p.Name, p.UID = k[0], k[1]+"-driver", types.UID(k[0]+"-"+k[1])
		p.OwnerReferences[0].Name = k[1]
		f.Snapshot.DriverPods = append(f.Snapshot.DriverPods, p)
	}
	var got []string
	for _, a := range analysis.Analyze(&f.Snapshot, f.Now).Apps {
		got = append(got, a.Namespace+"/"+a.Name)
	}
	if want := "a-team/stream s1/alpha s1/zeta z-team/alpha"; strings.Join(got, " ") != want {
		t.Errorf("apps %q, want %q", got, want)
	}
}

// TestDriverKeepsItsLastFiveWarnings: a driver lists its last five warning events, oldest
// first, however many there were and in whatever order the API listed them.
func TestDriverKeepsItsLastFiveWarnings(t *testing.T) {
	f := loadFixture(t, "s1-step7-recovered")
	p := f.Snapshot.DriverPods[0]
	f.Snapshot.Events = nil
	for _, i := range []int{3, 7, 1, 5, 2, 6, 4} {
		f.Snapshot.Events = append(f.Snapshot.Events, corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("w%d", i), Namespace: p.Namespace},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID},
			Type:           corev1.EventTypeWarning, Reason: fmt.Sprintf("Warning%d", i),
			LastTimestamp: metav1.NewTime(p.CreationTimestamp.Add(time.Duration(i) * time.Second)),
		})
	}
	var got []string
	for _, ev := range analysis.Analyze(&f.Snapshot, f.Now).Apps[0].Drivers[0].Events {
		got = append(got, ev.Reason)
	}
	if want := "Warning3 Warning4 Warning5 Warning6 Warning7"; strings.Join(got, " ") != want {
		t.Errorf("events %q, want %q", got, want)
	}
}
