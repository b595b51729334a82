package inspect_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/fixture"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/inspect"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/render"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// wantVerdicts is what a responder must be told at each captured step of
// the incident the e2e scenarios replay (test/README.md).
var wantVerdicts = map[string]inspect.Verdict{
	"s1-step1-running":             inspect.Healthy,
	"s1-step3-node-lost":           inspect.DriverAtRisk,
	"s1-step5-replacement-blocked": inspect.ReplacementBlocked,
	"s1-step7-recovered":           inspect.Healthy,
	"s2-split-brain":               inspect.SplitBrainRisk,
	"s3-step4-stuck-terminating":   inspect.StuckTerminating,
	"s3-step7-recovered":           inspect.Healthy,
	"s4-node-dead-blocked":         inspect.ReplacementBlocked,
	"f1-partitioned":               inspect.StuckTerminating,
	"f1-rejoined-lingering":        inspect.SafeToComplete,
	"f2-node-dead":                 inspect.StuckTerminating,
	"f2-recovered":                 inspect.Healthy,
	"f3-volume-held":               inspect.Starting,
	"f3-volume-left-on-dead-node":  inspect.ReplacementBlocked,
	// Captured by TestExecutorsOfSubmittedApp (-capture).
	"e1-executors-running":            inspect.Healthy,
	"e2-partitioned-driver-executors": inspect.StuckTerminating,
	// Derived from f2-recovered and f1-partitioned with executor pods added
	// (as the sandbox's Spark stand-in labels and owns them).
	"x1-stray-executors":        inspect.StrayExecutors,
	"x2-stuck-driver-executors": inspect.StuckTerminating,
}

func loadFixture(t *testing.T, name string) fixture.Fixture {
	return fixture.Load(t, "testdata", name)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/inspect -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestAnalyzeScenarioSnapshots replays every captured step and checks the
// verdict and the full report, table, tree and timeline against golden files.
func TestAnalyzeScenarioSnapshots(t *testing.T) {
	time.Local = time.UTC
	files, err := filepath.Glob(filepath.Join("testdata", "snapshots", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(wantVerdicts) {
		t.Fatalf("found %d snapshots, want %d (one per entry of wantVerdicts)", len(files), len(wantVerdicts))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			r := inspect.Analyze(&f.Snapshot, f.Now)
			if len(r.Apps) != 1 {
				t.Fatalf("want one app, got %d", len(r.Apps))
			}
			if got, want := r.Apps[0].Verdict, wantVerdicts[name]; got != want {
				t.Fatalf("verdict %s (%s), want %s", got, r.Apps[0].Reason, want)
			}
			var js, table, tree, tl bytes.Buffer
			if err := render.JSON(&js, r); err != nil {
				t.Fatal(err)
			}
			opts := render.Options{Now: f.Now}
			if err := render.Table(&table, r, opts); err != nil {
				t.Fatal(err)
			}
			if err := render.Tree(&tree, r, opts); err != nil {
				t.Fatal(err)
			}
			if err := render.Timeline(&tl, inspect.Timeline(&f.Snapshot, r.Apps[0])); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".json", js.Bytes())
			golden(t, name+".table", table.Bytes())
			golden(t, name+".wide", tree.Bytes())
			golden(t, name+".timeline", tl.Bytes())
		})
	}
}

// TestAnalyzeIsPure: the same snapshot and clock give the same report.
func TestAnalyzeIsPure(t *testing.T) {
	f := loadFixture(t, "s1-step5-replacement-blocked")
	a, _ := json.Marshal(inspect.Analyze(&f.Snapshot, f.Now))
	b, _ := json.Marshal(inspect.Analyze(&f.Snapshot, f.Now))
	if !bytes.Equal(a, b) {
		t.Fatal("two analyses of one snapshot differ")
	}
}

// TestVolumesThatNeverAttach: a volume is marked NoAttach exactly when the attach/detach
// controller never attaches it: an in-tree NFS PV, or a CSI driver whose CSIDriver object says
// attachRequired: false. A CSI driver without a CSIDriver object, or with attachRequired
// unset or true, attaches.
func TestVolumesThatNeverAttach(t *testing.T) {
	const name = "s1-step5-replacement-blocked"
	f := loadFixture(t, name)
	driver := f.Snapshot.Volumes[0].Spec.CSI.Driver
	tests := []struct {
		name   string
		mutate func(s *inspect.Snapshot)
		want   bool
	}{
		{"CSI without a CSIDriver object", func(s *inspect.Snapshot) {}, false},
		{"CSI attachRequired unset", func(s *inspect.Snapshot) {
			s.CSIDrivers = []storagev1.CSIDriver{{ObjectMeta: metav1.ObjectMeta{Name: driver}}}
		}, false},
		{"CSI attachRequired true", func(s *inspect.Snapshot) {
			s.CSIDrivers = []storagev1.CSIDriver{{ObjectMeta: metav1.ObjectMeta{Name: driver}, Spec: storagev1.CSIDriverSpec{AttachRequired: ptr.To(true)}}}
		}, false},
		{"CSI attachRequired false", func(s *inspect.Snapshot) {
			s.CSIDrivers = []storagev1.CSIDriver{{ObjectMeta: metav1.ObjectMeta{Name: driver}, Spec: storagev1.CSIDriverSpec{AttachRequired: ptr.To(false)}}}
			s.VolumeAttachments = nil
		}, true},
		{"another CSI driver's attachRequired false", func(s *inspect.Snapshot) {
			s.CSIDrivers = []storagev1.CSIDriver{{ObjectMeta: metav1.ObjectMeta{Name: "nfs.csi.k8s.io"}, Spec: storagev1.CSIDriverSpec{AttachRequired: ptr.To(false)}}}
		}, false},
		{"in-tree NFS", func(s *inspect.Snapshot) {
			s.Volumes[0].Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.example.com", Path: "/exports/ckpt"}}
			s.VolumeAttachments = nil
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := loadFixture(t, name)
			tt.mutate(&f.Snapshot)
			r := inspect.Analyze(&f.Snapshot, f.Now)
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
