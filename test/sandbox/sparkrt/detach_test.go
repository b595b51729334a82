package sparkrt

import (
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A detached volume fails the writes of the containers of the machine it was detached from,
// through their own mounts, and no one else's: the container writes before, is refused after,
// and CutOff of another node leaves it alone.
func TestCutOffFailsTheContainersWrites(t *testing.T) {
	dir, fs := sandboxWithVolume(t, "namespaces need root")
	status := filepath.Join(dir, "status")
	mnt := filepath.Join(dir, "mnt")
	cmd := exec.Command("unshare", "--mount", "--pid", "--fork", "--propagation", "private", "sh", "-c",
		"mkdir -p "+mnt+" && mount --bind "+fs+" "+mnt+" && echo 1 > "+mnt+"/before && "+
			"while [ ! -e "+dir+"/go ]; do sleep 0.05; done; "+
			"if echo 2 > "+mnt+"/after; then echo written > "+status+"; else echo refused > "+status+"; fi")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &Runtime{Dir: dir}
	if err := r.register(cmd.Process.Pid, Container{Node: "node-a", Namespace: "ns", Pod: "drv", UID: "u1", Mounts: map[string]string{mnt: fs}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(filepath.Join(fs, "before")); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	logger := log.New(io.Discard, "", 0)
	if cut, err := CutOff(dir, fs, "node-b", logger); err != nil || len(cut) != 0 {
		t.Fatalf("CutOff(node-b) = %v, %v; want nothing: the container runs on node-a", cut, err)
	}
	if cut, err := CutOff(dir, fs, "node-a", logger); err != nil || !slices.Equal(cut, []string{"ns/drv"}) {
		t.Fatalf("CutOff(node-a) = %v, %v; want [ns/drv]", cut, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	got, _ := os.ReadFile(status)
	if strings.TrimSpace(string(got)) != "refused" || !strings.Contains(stderr.String(), "Read-only file system") {
		t.Errorf("the container's write after the detach: %q (%s); want refused, read-only", got, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(fs, "after")); !os.IsNotExist(err) {
		t.Errorf("the volume holds the write after the detach: %v", err)
	}
	// The host's own view of the storage is untouched.
	if err := os.WriteFile(filepath.Join(fs, "by-the-storage"), nil, 0o644); err != nil {
		t.Errorf("the storage's directory itself: %v", err)
	}
}
