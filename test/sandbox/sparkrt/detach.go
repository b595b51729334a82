package sparkrt

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// CutOff does to the running containers of node that mount the volume whose content is dir
// (storage.ContentDir) what a detached disk does to a running machine's file system: from now
// on their writes to it fail. The storage calls it once it detached the volume from node
// (ControllerUnpublishVolume), which a cloud carries out even when the machine is cut off from
// the API server. On a real machine the block device is gone: write-back fails with EIO, ext4
// aborts its journal and refuses writes from then on (read-only, as errors=remount-ro in the
// kernel's Documentation/admin-guide/ext4.rst has it); here each container's mount of the volume
// is remounted read-only in its mount namespace, so the container's writes fail with EROFS, and
// its reads of what it had go on.
// It returns the containers cut off, as NAMESPACE/POD.
func CutOff(sandboxDir, dir, node string, logger *log.Logger) ([]string, error) {
	entries, err := os.ReadDir(ContainersDir(sandboxDir))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cut []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(ContainersDir(sandboxDir), e.Name()))
		if err != nil {
			continue
		}
		var c Container
		if json.Unmarshal(b, &c) != nil || c.Node != node || c.Init == 0 {
			continue
		}
		// The PID may be another process's by now: only the namespace the file names counts.
		if ino, err := pidNamespace(c.Init); err != nil || strconv.FormatUint(ino, 10) != e.Name() {
			continue
		}
		for path, src := range c.Mounts {
			if src != dir && !strings.HasPrefix(src, dir+"/") {
				continue
			}
			out, err := exec.Command("nsenter", "--target", strconv.Itoa(c.Init), "--mount", "--",
				"mount", "-o", "remount,bind,ro", path).CombinedOutput()
			if err != nil {
				return cut, fmt.Errorf("cutting %s/%s off %s: %v: %s", c.Namespace, c.Pod, path, err, out)
			}
			logger.Printf("detached from %s: %s/%s's %s is read-only now", node, c.Namespace, c.Pod, path)
			cut = append(cut, c.Namespace+"/"+c.Pod)
		}
	}
	return cut, nil
}
