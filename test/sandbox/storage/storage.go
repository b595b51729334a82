// Package storage is the sandbox's test-only CSI simulation, controller side:
// it plays two storage backends with their external-provisioner and, for the
// one that attaches, external-attacher: DriverName, block storage that attaches
// to one node at a time (as EBS, Persistent Disk or Ceph RBD), and
// NoAttachDriverName, a file system every node mounts without attaching (as
// EFS, NFS CSI, CephFS or Azure Files: CSIDriver attachRequired false, so the
// attach/detach controller creates no VolumeAttachment for it). The real attach/detach controller decides what to attach
// where by creating and deleting VolumeAttachments; this only carries the
// decisions out, as a CSI driver's sidecars would. The node side (mounts,
// volumesInUse) lives in the simulated kubelet, so it shares its node's fate.
package storage

import (
	"context"
	"fmt"
	"log"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/utils/ptr"
)

const (
	// DriverName is the CSI driver that attaches.
	DriverName = "csi.sandbox.sparkha.io"
	// StorageClassName is the sandbox's default StorageClass, of DriverName.
	StorageClassName = "sandbox-csi"
	// NoAttachDriverName is the CSI driver that never attaches.
	NoAttachDriverName = "files.csi.sandbox.sparkha.io"
	// NoAttachStorageClassName is the StorageClass of NoAttachDriverName.
	NoAttachStorageClassName = "sandbox-files"
	// attacherFinalizer is what external-attacher puts on the VolumeAttachments it handles.
	attacherFinalizer         = "external-attacher/csi-sandbox-sparkha-io"
	provisionerAnnotation     = "volume.kubernetes.io/storage-provisioner"
	betaProvisionerAnnotation = "volume.beta.kubernetes.io/storage-provisioner"
)

// UniqueVolumeName is the name under which the attach/detach controller and
// the kubelet track a CSI volume (node.status.volumesAttached/volumesInUse).
func UniqueVolumeName(driver, volumeHandle string) corev1.UniqueVolumeName {
	return corev1.UniqueVolumeName("kubernetes.io/csi/" + driver + "^" + volumeHandle)
}

// Controller provisions and attaches sandbox volumes.
type Controller struct {
	Client kubernetes.Interface
	// DataRoot is the storage's data side (see DataDir); empty: attachments are not recorded
	// there.
	DataRoot string
	// Detached, if set, is called once the volume named key (DataKey) is detached from node at
	// the storage level: what the machine's running containers see of it.
	Detached func(key, node string)
	Log      *log.Logger

	pvs corelisters.PersistentVolumeLister
}

// Run installs the CSIDriver and StorageClass, then reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	if err := c.install(ctx); err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(c.Client, 0)
	pvcs := factory.Core().V1().PersistentVolumeClaims().Lister()
	vas := factory.Storage().V1().VolumeAttachments().Lister()
	c.pvs = factory.Core().V1().PersistentVolumes().Lister()
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		claims, _ := pvcs.List(labels.Everything())
		for _, pvc := range claims {
			if err := c.provision(ctx, pvc); err != nil {
				c.Log.Printf("provision %s/%s: %v", pvc.Namespace, pvc.Name, err)
			}
		}
		attachments, _ := vas.List(labels.Everything())
		for _, va := range attachments {
			if err := c.attach(ctx, va); err != nil && !apierrors.IsConflict(err) {
				c.Log.Printf("volumeattachment %s: %v", va.Name, err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (c *Controller) install(ctx context.Context) error {
	for _, d := range []struct {
		driver, class     string
		attach, isDefault bool
	}{{DriverName, StorageClassName, true, true}, {NoAttachDriverName, NoAttachStorageClassName, false, false}} {
		driver := &storagev1.CSIDriver{
			ObjectMeta: metav1.ObjectMeta{Name: d.driver},
			Spec: storagev1.CSIDriverSpec{
				AttachRequired:       ptr.To(d.attach),
				PodInfoOnMount:       ptr.To(false),
				VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent},
			},
		}
		if _, err := c.Client.StorageV1().CSIDrivers().Create(ctx, driver, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating CSIDriver %s: %w", d.driver, err)
		}
		class := &storagev1.StorageClass{
			ObjectMeta:  metav1.ObjectMeta{Name: d.class},
			Provisioner: d.driver,
			// Retain: the sandbox never destroys a volume's data, like the product.
			ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimRetain),
			VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate),
		}
		if d.isDefault {
			class.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
		}
		if _, err := c.Client.StorageV1().StorageClasses().Create(ctx, class, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating StorageClass %s: %w", d.class, err)
		}
	}
	return nil
}

// provision creates the PV for a pending claim of our driver; the real PV
// controller then binds the two.
func (c *Controller) provision(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	if pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil {
		return nil
	}
	driver := pvc.Annotations[provisionerAnnotation]
	if driver == "" {
		driver = pvc.Annotations[betaProvisionerAnnotation]
	}
	if driver != DriverName && driver != NoAttachDriverName {
		return nil
	}
	name := "pvc-" + string(pvc.UID)
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": driver},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes: pvc.Spec.AccessModes,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
			},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              ptr.Deref(pvc.Spec.StorageClassName, ""),
			VolumeMode:                    pvc.Spec.VolumeMode,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				CSI: &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: "vol-" + string(pvc.UID), FSType: "ext4"},
			},
		},
	}
	_, err := c.Client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err == nil {
		c.Log.Printf("provisioned %s for %s/%s (%v)", name, pvc.Namespace, pvc.Name, pvc.Spec.AccessModes)
	}
	return err
}

// attach carries out the attach/detach controller's decision recorded in va.
func (c *Controller) attach(ctx context.Context, va *storagev1.VolumeAttachment) error {
	if va.Spec.Attacher != DriverName {
		return nil
	}
	vaClient := c.Client.StorageV1().VolumeAttachments()
	if va.DeletionTimestamp == nil {
		if !hasFinalizer(va, attacherFinalizer) {
			va = va.DeepCopy()
			va.Finalizers = append(va.Finalizers, attacherFinalizer)
			var err error
			if va, err = vaClient.Update(ctx, va, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
		if va.Status.Attached {
			return nil
		}
		if err := c.recordAttachment(va, va.Spec.NodeName); err != nil {
			return err
		}
		va = va.DeepCopy()
		va.Status.Attached = true
		va.Status.AttachError = nil
		if _, err := vaClient.UpdateStatus(ctx, va, metav1.UpdateOptions{}); err != nil {
			return err
		}
		c.Log.Printf("attached %s to %s", ptr.Deref(va.Spec.Source.PersistentVolumeName, "?"), va.Spec.NodeName)
		return nil
	}
	if !hasFinalizer(va, attacherFinalizer) {
		return nil
	}
	if err := c.recordAttachment(va, ""); err != nil {
		return err
	}
	if va.Status.Attached {
		va = va.DeepCopy()
		va.Status.Attached = false
		var err error
		if va, err = vaClient.UpdateStatus(ctx, va, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	va = va.DeepCopy()
	var kept []string
	for _, f := range va.Finalizers {
		if f != attacherFinalizer {
			kept = append(kept, f)
		}
	}
	va.Finalizers = kept
	if _, err := vaClient.Update(ctx, va, metav1.UpdateOptions{}); err != nil {
		return err
	}
	c.Log.Printf("detached %s from %s", ptr.Deref(va.Spec.Source.PersistentVolumeName, "?"), va.Spec.NodeName)
	return nil
}

// recordAttachment attaches (node set) or detaches (node "") va's volume at the storage level,
// before the VolumeAttachment reports it, as ControllerPublishVolume and
// ControllerUnpublishVolume return only once the storage did it. A detach undoes only this
// attachment: the volume may already be attached to another node.
func (c *Controller) recordAttachment(va *storagev1.VolumeAttachment, node string) error {
	name := ptr.Deref(va.Spec.Source.PersistentVolumeName, "")
	if c.DataRoot == "" || name == "" {
		return nil
	}
	pv, err := c.pvs.Get(name)
	if err != nil {
		return err
	}
	key := DataKey(pv)
	if node == "" && AttachedTo(c.DataRoot, key) != va.Spec.NodeName {
		return nil
	}
	if err := setAttached(c.DataRoot, key, node); err != nil || node != "" || c.Detached == nil {
		return err
	}
	c.Detached(key, va.Spec.NodeName)
	return nil
}

func hasFinalizer(va *storagev1.VolumeAttachment, f string) bool {
	for _, x := range va.Finalizers {
		if x == f {
			return true
		}
	}
	return false
}
