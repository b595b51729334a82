package sparkrt

import (
	"context"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// A registered container that writes its volume through a bind mount of its own, as a Spark
// JVM writes its checkpoint, is recorded as the volume's writer; a process that is no container
// (this test, writing the same directory) is not.
func TestWatchWritesSeesContainersThroughTheirMounts(t *testing.T) {
	dir, fs := sandboxWithVolume(t, "fanotify and namespaces need root")
	volumes := filepath.Join(dir, "volumes")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := WatchWrites(ctx, dir, volumes, log.New(io.Discard, "", 0)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fs, "by-the-host"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--mount", "--pid", "--fork", "--propagation", "private", "sh", "-c",
		"sleep 0.3; mkdir -p /mnt/sparkrt-test && mount --bind "+fs+" /mnt/sparkrt-test && echo 1 > /mnt/sparkrt-test/offsets-0 && sleep 1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &Runtime{Dir: dir}
	if err := r.register(cmd.Process.Pid, Container{Node: "node-a", Namespace: "ns", Pod: "drv", UID: "u1", Role: "driver"}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	ws, err := truth.ReadWrites(volumes)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Volume != "vol-1" || ws[0].Pod != "drv" || ws[0].Node != "node-a" || ws[0].UID != "u1" {
		t.Fatalf("writes: %+v; want one, of drv on vol-1", ws)
	}
}

// The kernel reuses a PID namespace's inode once the namespace is gone, and the machine registers
// the next container under it: the writers' answer follows the registration, not the inode's first
// owner (the old driver's executor was once named the writer of its successor's checkpoint).
func TestContainerFollowsARegistrationReusingAnInode(t *testing.T) {
	dir := t.TempDir()
	w := &writers{dir: dir, known: map[uint64]registration{}}
	r := &Runtime{Dir: dir}
	if c := w.container(4026532539); c != nil {
		t.Fatalf("container before any registration: %+v", c)
	}
	reg := func(c Container) {
		if err := r.writeRegistration(4026532539, c); err != nil {
			t.Fatal(err)
		}
	}
	reg(Container{Node: "node-a", Pod: "old-exec-1", UID: "u-old"})
	if c := w.container(4026532539); c == nil || c.UID != "u-old" {
		t.Fatalf("container = %+v; want old-exec-1", c)
	}
	time.Sleep(10 * time.Millisecond)
	reg(Container{Node: "node-b", Pod: "new-driver", UID: "u-new"})
	if c := w.container(4026532539); c == nil || c.UID != "u-new" {
		t.Fatalf("container after the inode's reuse = %+v; want new-driver", c)
	}
}

// sandboxWithVolume is a sandbox directory holding one volume's content directory (volumes/vol-1/fs),
// for a test that needs root, which it skips otherwise saying why.
func sandboxWithVolume(t *testing.T, whyRoot string) (dir, fs string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip(whyRoot)
	}
	dir = t.TempDir()
	fs = filepath.Join(dir, "volumes", "vol-1", "fs")
	if err := os.MkdirAll(fs, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir, fs
}
