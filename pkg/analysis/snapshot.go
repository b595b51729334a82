package analysis

import (
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
)

// Snapshot is everything Analyze looks at, as listed from the API server at
// one moment. It is plain data, so tests capture it from the sandbox as JSON
// fixtures and replay it.
type Snapshot struct {
	Nodes      []corev1.Node          `json:"nodes"`
	Leases     []coordinationv1.Lease `json:"leases,omitempty"`
	DriverPods []corev1.Pod           `json:"driverPods"`
	// ExecutorPods are the pods labelled spark-role=executor.
	ExecutorPods      []corev1.Pod                   `json:"executorPods,omitempty"`
	Jobs              []batchv1.Job                  `json:"jobs,omitempty"`
	Claims            []corev1.PersistentVolumeClaim `json:"claims,omitempty"`
	Volumes           []corev1.PersistentVolume      `json:"volumes,omitempty"`
	VolumeAttachments []storagev1.VolumeAttachment   `json:"volumeAttachments,omitempty"`
	// CSIDrivers say which CSI drivers attach (spec.attachRequired).
	CSIDrivers []storagev1.CSIDriver `json:"csiDrivers,omitempty"`
	Events     []corev1.Event        `json:"events,omitempty"`
	// Remediations are medik8s's node remediations (FenceAgentsRemediation,
	// SelfNodeRemediation): evidence that a machine was fenced.
	Remediations []Remediation `json:"remediations,omitempty"`
	// RemediationsUnseen names the remediation kinds that could not be listed, and why. Apart
	// from Unavailable: a cluster without those operators, or a role without them, loses only
	// that evidence, and failover still decides.
	RemediationsUnseen []string `json:"remediationsUnseen,omitempty"`
	// SparkApplications are the Spark operators' SparkApplications (Kubeflow's, Apache's): whether
	// an operator app's operator starts another driver.
	SparkApplications []SparkApplication `json:"sparkApplications,omitempty"`
	// SparkApplicationsUnseen names the SparkApplication kinds that could not be listed, and why
	// (as RemediationsUnseen: only that evidence is lost).
	SparkApplicationsUnseen []string `json:"sparkApplicationsUnseen,omitempty"`
	// Unavailable names the kinds that could not be listed, and why.
	Unavailable []string `json:"unavailable,omitempty"`
}

// The warnings that name a volume that could not be attached or mounted.
const (
	eventFailedMount  = "FailedMount"
	eventFailedAttach = "FailedAttachVolume"
)
