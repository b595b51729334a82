package failover

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/migrate"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

// Source is an application kubectl sparkha did not start (a bare spark-submit driver, or
// a Spark operator's SparkApplication) as read before anything changes, and the sparkha app
// that replaces it (migrate, failover --resubmit).
type Source struct {
	// What names the source in messages: pod/NAME or sparkapplication/NAME.
	What string
	// App is the sparkha app that replaces it; Dropped what of the source it does not carry.
	App     *submit.App
	Dropped []migrate.Dropped
	From    MigratedFrom
}

// ReadDriverPod reads the driver pod, its spark.properties ConfigMap and its executor pod
// template's, and resolves the equivalent app, with checkpointClaim ("" for the pod's only
// claim) as its checkpoint.
func ReadDriverPod(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, checkpointClaim string, appID string) (*Source, error) {
	cm, err := podConfigMap(ctx, client, pod, migrate.ConfigMapName(pod), "the spark.properties")
	if err != nil {
		return nil, err
	}
	templates, err := podConfigMap(ctx, client, pod, migrate.TemplateConfigMapName(pod), "the executor pod template")
	if err != nil {
		return nil, err
	}
	in, dropped, err := migrate.FromDriverPod(pod, cm, templates)
	if err != nil {
		return nil, err
	}
	return newSource(ctx, client, in, dropped, "pod/"+pod.Name, checkpointClaim, appID,
		MigratedFrom{Pod: pod.Name, UID: string(pod.UID), Node: pod.Spec.NodeName})
}

// podConfigMap reads the ConfigMap name of pod's; nil when it has none or it is gone (FromDriverPod
// says what that loses).
func podConfigMap(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, name, what string) (*corev1.ConfigMap, error) {
	if name == "" {
		return nil, nil
	}
	cm, err := client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s of pod/%s: %w", what, pod.Name, err)
	}
	return cm, nil
}

// ReadSparkApplication converts a SparkApplication and resolves the equivalent app; driver is its
// driver pod, nil when it has none; client may be nil (see newSource).
func ReadSparkApplication(ctx context.Context, client kubernetes.Interface, obj *unstructured.Unstructured, driver *corev1.Pod, checkpointClaim string, appID string) (*Source, error) {
	in, dropped, err := migrate.FromSparkApplication(obj)
	if err != nil {
		return nil, err
	}
	spec, err := json.Marshal(obj.Object["spec"])
	if err != nil {
		return nil, err
	}
	from := MigratedFrom{SparkApplication: &ObjectRef{APIVersion: obj.GetAPIVersion(), Name: obj.GetName(), UID: string(obj.GetUID()), Spec: spec}}
	if driver != nil {
		from.Pod, from.UID, from.Node = driver.Name, string(driver.UID), driver.Spec.NodeName
	}
	return newSource(ctx, client, in, dropped, "sparkapplication/"+obj.GetName(), checkpointClaim, appID, from)
}

// newSource resolves in, with checkpointClaim ("" for the source's only claim) as its
// checkpoint, read from the cluster as submit reads a --checkpoint-claim; a nil client asks no
// cluster (migrate -f), and the claim's access modes stay unknown.
func newSource(ctx context.Context, client kubernetes.Interface, in submit.Input, dropped []migrate.Dropped, what, checkpointClaim, appID string, from MigratedFrom) (*Source, error) {
	if checkpointClaim != "" {
		if err := migrate.UseCheckpoint(&in, checkpointClaim); err != nil {
			return nil, err
		}
	}
	in.AppID = appID
	if in.CheckpointClaim != "" && client == nil {
		in.CheckpointClaimReadError = "no cluster was asked"
	} else if in.CheckpointClaim != "" {
		pvc, err := client.CoreV1().PersistentVolumeClaims(in.Namespace).Get(ctx, in.CheckpointClaim, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading the checkpoint claim %s of %s: %w", in.CheckpointClaim, what, err)
		}
		in.CheckpointClaimAccessModes = pvc.Status.AccessModes
		if len(in.CheckpointClaimAccessModes) == 0 {
			in.CheckpointClaimAccessModes = pvc.Spec.AccessModes
		}
	}
	app, err := submit.Resolve(in)
	if err != nil {
		return nil, fmt.Errorf("the application of %s cannot run as a sparkha Job: %w", what, err)
	}
	return &Source{What: what, App: app, Dropped: dropped, From: from}, nil
}

// Report writes what is not carried over, and the app's warnings, on w.
func (s *Source) Report(w io.Writer) {
	for _, d := range s.Dropped {
		fmt.Fprintf(w, "%s\n", d)
	}
	for _, warning := range s.App.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", warning)
	}
}

// Fatal is the error of the fields that cannot be carried over, nil when there is none.
func (s *Source) Fatal(action string) error {
	f := migrate.Fatal(s.Dropped)
	if len(f) == 0 {
		return nil
	}
	var fields []string
	for _, d := range f {
		fields = append(fields, d.Field)
	}
	return fmt.Errorf("cannot %s %s: %d field(s) of it have no equivalent in a sparkha Job (listed above): %s; nothing was changed",
		action, s.What, len(f), strings.Join(fields, ", "))
}
