package sparkrt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/storage"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// Who wrote a volume, from the kernel: the storage's record of writes (truth.Write) for real
// containers comes from fanotify, which names the process behind each modification of a file
// (fanotify(7): the event's pid). A process is mapped to its container by its PID namespace:
// every container has its own, and the machine that starts a container registers the
// namespace's inode with the pod's identity (ContainersDir). The storage process watches, not
// the machines: it runs whatever happens to them, so a partitioned machine's containers are
// seen writing when they write, not when their machine thaws.

// Container is what the machine registers of a running container.
type Container struct {
	Node      string `json:"node"`
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	UID       string `json:"uid"`
	Role      string `json:"role,omitempty"`
	Driver    string `json:"driver,omitempty"` // an executor's driver pod's UID
	// Init is the container's PID 1, as the host sees it; Mounts its volumes from the storage,
	// by path in the container (CutOff finds them there).
	Init   int               `json:"init"`
	Mounts map[string]string `json:"mounts,omitempty"`
}

// ContainersDir holds one file per real container, named by its PID namespace's inode.
func ContainersDir(dir string) string { return filepath.Join(dir, "containers") }

// register records the container whose PID 1 is pid, once unshare has forked it.
func (r *Runtime) register(unsharePid int, c Container) error {
	var init int
	for i := 0; i < 200 && init == 0; i++ {
		var err error
		if init, err = firstChild(unsharePid); err != nil {
			return err
		}
		if init == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if init == 0 {
		return errors.New("the container's PID 1 did not start")
	}
	ino, err := pidNamespace(init)
	if err != nil {
		return err
	}
	c.Init = init
	return r.writeRegistration(ino, c)
}

// writeRegistration names c the container of the PID namespace whose inode is ino, in place of
// any earlier one: a namespace's inode is reused once the namespace is gone.
func (r *Runtime) writeRegistration(ino uint64, c Container) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	dir := ContainersDir(r.Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f := filepath.Join(dir, strconv.FormatUint(ino, 10))
	tmp := f + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, f)
}

func pidNamespace(pid int) (uint64, error) {
	st, err := os.Stat(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return 0, err
	}
	return st.Sys().(*syscall.Stat_t).Ino, nil
}

// WatchWrites records every modification of a file under volumes/KEY/fs by a registered
// container in KEY's record of writes, at most one a second per container and volume, until
// ctx ends. It needs CAP_SYS_ADMIN and Linux 4.20 (fanotify with a file-system mark: a mount
// mark would miss the writes through the containers' bind mounts, which are other mounts).
func WatchWrites(ctx context.Context, sandboxDir, volumes string, logger *log.Logger) error {
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_NOTIF|unix.FAN_CLOEXEC, unix.O_RDONLY|unix.O_LARGEFILE)
	if err != nil {
		return fmt.Errorf("fanotify_init: %w", err)
	}
	if err := os.MkdirAll(volumes, 0o755); err != nil {
		unix.Close(fd)
		return err
	}
	if err := unix.FanotifyMark(fd, unix.FAN_MARK_ADD|unix.FAN_MARK_FILESYSTEM, unix.FAN_MODIFY, unix.AT_FDCWD, volumes); err != nil {
		unix.Close(fd)
		return fmt.Errorf("fanotify_mark %s: %w", volumes, err)
	}
	w := &writers{dir: sandboxDir, volumes: filepath.Clean(volumes) + "/", log: logger,
		known: map[uint64]registration{}, last: map[string]time.Time{}, pids: map[int]pidEntry{}, roots: map[string]string{}}
	go func() {
		<-ctx.Done()
		unix.Close(fd)
	}()
	go w.read(fd)
	return nil
}

type writers struct {
	dir, volumes string
	log          *log.Logger
	mu           sync.Mutex
	known        map[uint64]registration // by PID namespace inode
	last         map[string]time.Time    // last recorded write per container and volume
	pids         map[int]pidEntry        // recent answers of containerOf
	roots        map[string]string       // mount roots by container UID and mount ID
}

func (w *writers) read(fd int) {
	buf := make([]byte, 64*1024)
	size := int(unsafe.Sizeof(unix.FanotifyEventMetadata{}))
	for {
		n, err := unix.Read(fd, buf)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		now := time.Now()
		for off := 0; off+size <= n; {
			ev := (*unix.FanotifyEventMetadata)(unsafe.Pointer(&buf[off]))
			if ev.Event_len < uint32(size) {
				break
			}
			if ev.Fd >= 0 {
				// The mark covers the whole file system: most events are the host's (etcd, logs,
				// builds), so who wrote is asked first, from a cache, and only a container's
				// event costs more.
				if c := w.containerOf(int(ev.Pid), now); c != nil {
					w.record(now, w.eventPath(int(ev.Fd), int(ev.Pid), c), c)
				}
				unix.Close(int(ev.Fd))
			}
			off += int(ev.Event_len)
		}
	}
}

// containerOf is the container of the process pid, or nil; the answer is kept two seconds, and
// a process that is gone keeps the container it last had (a driver that fails writes, then exits).
func (w *writers) containerOf(pid int, now time.Time) *Container {
	w.mu.Lock()
	e, ok := w.pids[pid]
	w.mu.Unlock()
	if ok && now.Sub(e.at) < 2*time.Second {
		return e.c
	}
	ino, err := pidNamespace(pid)
	if err != nil {
		return e.c // gone: what it was
	}
	c := w.container(ino)
	w.mu.Lock()
	w.pids[pid] = pidEntry{c: c, at: now}
	w.mu.Unlock()
	return c
}

type registration struct {
	c          *Container
	registered time.Time // the registration file's modification time
}

type pidEntry struct {
	c  *Container
	at time.Time
}

// eventPath is the path, in the file system, of the file an event's fd refers to. A container
// writes its volume through a bind mount in its own mount namespace, where the kernel names the
// file from that mount's root (/checkpoint/query/offsets/3 reads as /query/offsets/3), so the
// mount's root, found by the mount ID the fd carries (/proc/self/fdinfo) in the writer's
// mountinfo (proc(5): field 4, the root of the mount within its file system), goes before it.
// A container's mounts do not change: each root is read once.
func (w *writers) eventPath(fd, pid int, c *Container) string {
	link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		return ""
	}
	info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	if err != nil {
		return link
	}
	var mnt string
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "mnt_id:"); ok {
			mnt = strings.TrimSpace(v)
		}
	}
	key := c.UID + "/" + mnt
	w.mu.Lock()
	root, ok := w.roots[key]
	w.mu.Unlock()
	if !ok {
		mountinfo, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
		if err != nil || mnt == "" {
			return link
		}
		for _, line := range strings.Split(string(mountinfo), "\n") {
			if f := strings.Fields(line); len(f) > 4 && f[0] == mnt {
				root = f[3]
			}
		}
		w.mu.Lock()
		w.roots[key] = root
		w.mu.Unlock()
	}
	return filepath.Join(root, link)
}

// record notes that the container c modified path.
func (w *writers) record(now time.Time, path string, c *Container) {
	rel, ok := strings.CutPrefix(path, w.volumes)
	if !ok {
		return
	}
	key, inside, ok := strings.Cut(rel, "/")
	if !ok || !strings.HasPrefix(inside, storage.ContentDirName+"/") {
		return // the storage's own record, not the volume's content
	}
	w.mu.Lock()
	k := c.UID + "\x00" + key
	if now.Sub(w.last[k]) < time.Second {
		w.mu.Unlock()
		return
	}
	w.last[k] = now
	w.mu.Unlock()
	err := truth.AppendWrite(filepath.Join(strings.TrimSuffix(w.volumes, "/"), key),
		truth.Write{Time: now, Volume: key, Node: c.Node, Namespace: c.Namespace, Pod: c.Pod, UID: c.UID, Role: c.Role, Driver: c.Driver})
	if err != nil {
		w.log.Printf("writes of %s: %v", key, err)
	}
}

// container is the container registered under the PID namespace inode ino, or nil. The kernel
// reuses a namespace's inode once the namespace is gone, and the machine then registers the next
// container under it: an answer is kept only while its registration is the same file.
func (w *writers) container(ino uint64) *Container {
	path := filepath.Join(ContainersDir(w.dir), strconv.FormatUint(ino, 10))
	st, err := os.Stat(path)
	if err != nil {
		return nil // not (yet) a container: asked again next time
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if k, ok := w.known[ino]; ok && k.registered.Equal(st.ModTime()) {
		return k.c
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var c Container
	if json.Unmarshal(b, &c) != nil {
		return nil
	}
	w.known[ino] = registration{c: &c, registered: st.ModTime()}
	return &c
}
