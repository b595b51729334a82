package storage

import (
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The storage's data side. Every piece of storage the sandbox's volumes name has a directory
// under the sandbox's volumes root, shared by every machine as the real storage is: the same
// directory for each node that mounts a ReadWriteMany volume. Machines write there through
// their running pods (test/sandbox/kubelet), whatever the API server says; that is what makes
// "cut off from the API server but still writing to its checkpoint" observable.
//
// Block storage that attaches (DriverName) also records, in the directory, the node it is
// attached to at the storage level. A machine can write to such a volume only while it is
// attached there: once the external-attacher has carried out a detach (ControllerUnpublishVolume,
// which a cloud performs on the instance even when the instance is cut off from the API server),
// the machine's writes fail, as I/O to a detached disk does. Storage that never attaches (NFS,
// a CSI file system) keeps accepting the machine's writes for as long as it reaches the storage.

// DataKey names the storage behind pv: the CSI driver and volume handle, the NFS export, or,
// for a volume on one machine's disk (local, hostPath) and anything else, the PV itself.
func DataKey(pv *corev1.PersistentVolume) string {
	switch s := pv.Spec.PersistentVolumeSource; {
	case s.CSI != nil:
		return safe("csi_" + s.CSI.Driver + "_" + s.CSI.VolumeHandle)
	case s.NFS != nil:
		return safe("nfs_" + s.NFS.Server + "_" + s.NFS.Path)
	}
	return safe("pv_" + pv.Name)
}

func safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ':' || r == '^' {
			return '_'
		}
		return r
	}, s)
}

// DataDir is where the storage named key keeps its data under root.
func DataDir(root, key string) string { return filepath.Join(root, key) }

// ContentDirName is the directory of DataDir that holds what is stored on the volume itself:
// the files real containers write through their mounts (beside it, the storage's own records).
const ContentDirName = "fs"

// ContentDir is the volume's content: the directory every machine mounting it shares.
func ContentDir(root, key string) string { return filepath.Join(DataDir(root, key), ContentDirName) }

const attachedFile = "attached-to"

// AttachedTo is the node the storage named key is attached to at the storage level, "" when
// it is attached nowhere.
func AttachedTo(root, key string) string {
	b, err := os.ReadFile(filepath.Join(DataDir(root, key), attachedFile))
	if err != nil {
		return ""
	}
	return string(b)
}

// setAttached records that the storage named key is attached to node ("" detaches it).
func setAttached(root, key, node string) error {
	dir := DataDir(root, key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f := filepath.Join(dir, attachedFile)
	if node == "" {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	tmp := f + ".tmp"
	if err := os.WriteFile(tmp, []byte(node), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, f)
}
