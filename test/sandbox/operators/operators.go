// Package operators is the sandbox's Spark operators, one process beside the machines
// (sandbox.Options.Operators): it installs the SparkApplication CRDs of the Kubeflow Spark
// Operator and of Apache's spark-kubernetes-operator from their published YAML (vendored beside
// this file, each pinned in its first comment), and runs a stand-in controller for each that
// does only what the real one does around a driver's loss: create the driver pod as the
// operator names and labels it, move the status through its states, and when the driver fails
// or is gone, start a new one as the restart policy allows, counting attempts. Neither starts
// a new driver while the old driver pod object says it runs, which is why a driver stuck
// Terminating on a lost node blocks them (kubeflow/spark-operator#970 and #1847,
// apache/spark-kubernetes-operator#863). kubeflow.go and apache.go cite the sources they follow.
//
// Not modelled: spark-submit itself (the driver pod is created directly, with the labels,
// conf and owner it would get), the UI Service and Ingress, executor state in the status,
// batch schedulers, webhooks (the defaults they would set are read as the controllers read
// them when absent), suspend and resume.
package operators

import (
	"context"
	_ "embed"
	"fmt"
	"log"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/crd"
)

var (
	//go:embed kubeflow-sparkapplications.crd.yaml
	kubeflowCRD []byte
	//go:embed apache-sparkapplications.crd.yaml
	apacheCRD []byte
)

// The SparkApplication resources of the two operators, at the versions the stand-ins serve.
var (
	KubeflowResource = schema.GroupVersionResource{Group: "sparkoperator.k8s.io", Version: "v1beta2", Resource: "sparkapplications"}
	ApacheResource   = schema.GroupVersionResource{Group: "spark.apache.org", Version: "v1", Resource: "sparkapplications"}
)

// Period is how often each stand-in reconciles every SparkApplication. The real controllers
// react to watch events; a pass every half second is as prompt for what the tests look at.
const Period = 500 * time.Millisecond

// Operators runs both stand-ins until ctx ends.
type Operators struct {
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	Log     *log.Logger
}

// Run installs the CRDs, waits until they are established, then reconciles.
func (o *Operators) Run(ctx context.Context) error {
	for _, doc := range [][]byte{kubeflowCRD, apacheCRD} {
		if err := crd.Install(ctx, o.Dynamic, doc); err != nil {
			return err
		}
	}
	kf := &kubeflow{client: o.Client, dyn: o.Dynamic, log: o.Log}
	ap := &apache{client: o.Client, dyn: o.Dynamic, log: o.Log}
	for {
		for _, r := range []struct {
			gvr       schema.GroupVersionResource
			reconcile func(context.Context, *unstructured.Unstructured) error
		}{{KubeflowResource, kf.reconcile}, {ApacheResource, ap.reconcile}} {
			list, err := o.Dynamic.Resource(r.gvr).Namespace(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
			if err != nil {
				o.Log.Printf("listing %s: %v", r.gvr.GroupResource(), err)
				continue
			}
			for i := range list.Items {
				if err := r.reconcile(ctx, &list.Items[i]); err != nil && !apierrors.IsConflict(err) {
					o.Log.Printf("%s %s/%s: %v", r.gvr.GroupResource(), list.Items[i].GetNamespace(), list.Items[i].GetName(), err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(Period):
		}
	}
}

// driver is what both operators' submissions give a driver pod.
type driver struct {
	namespace, pod string
	labels         map[string]string
	// appID is spark.app.id; appName spark.app.name.
	appID, appName string
	// conf is the rest of the driver's spark.properties, from the SparkApplication's sparkConf.
	conf  map[string]string
	image string
	owner metav1.OwnerReference
}

// create makes the driver pod and its spark.properties ConfigMap, as spark-submit's
// KubernetesClientApplication does (the pod first, then the ConfigMap it mounts, owned by the
// pod): the sandbox kubelet starts it once the ConfigMap exists, and its Spark stand-in reads
// the properties to make the executors.
func (d driver) create(ctx context.Context, client kubernetes.Interface) (*corev1.Pod, error) {
	cm := d.pod + "-conf-map"
	props := fmt.Sprintf("spark.app.id=%s\nspark.app.name=%s\nspark.kubernetes.driver.pod.name=%s\n", d.appID, d.appName, d.pod)
	for k, v := range d.conf {
		props += k + "=" + v + "\n"
	}
	labels := map[string]string{"spark-role": "driver", "spark-app-selector": d.appID, "spark-app-name": d.appName}
	for k, v := range d.labels {
		labels[k] = v
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: d.pod, Namespace: d.namespace, Labels: labels, OwnerReferences: []metav1.OwnerReference{d.owner}},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "spark-kubernetes-driver", Image: d.image,
				Args:         []string{"driver", "--properties-file", "/opt/spark/conf/spark.properties", "--class", "org.apache.spark.examples.SparkPi", "spark-internal"},
				VolumeMounts: []corev1.VolumeMount{{Name: "spark-conf-volume-driver", MountPath: "/opt/spark/conf"}},
			}},
			Volumes: []corev1.Volume{{Name: "spark-conf-volume-driver", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}}}}},
		},
	}
	created, err := client.CoreV1().Pods(d.namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: created.Name, UID: created.UID, Controller: new(true)}
	_, err = client.CoreV1().ConfigMaps(d.namespace).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: cm, Namespace: d.namespace, OwnerReferences: []metav1.OwnerReference{owner}},
		Data:       map[string]string{"spark.properties": props},
	}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// The ConfigMap of the previous driver of that name, not yet collected: take it over.
		err = client.CoreV1().ConfigMaps(d.namespace).Delete(ctx, cm, metav1.DeleteOptions{})
		if err == nil {
			_, err = client.CoreV1().ConfigMaps(d.namespace).Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: cm, Namespace: d.namespace, OwnerReferences: []metav1.OwnerReference{owner}},
				Data:       map[string]string{"spark.properties": props},
			}, metav1.CreateOptions{})
		}
	}
	return created, err
}

// ownerOf is the controller owner reference an operator puts on what it creates for app.
func ownerOf(app *unstructured.Unstructured) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: app.GetAPIVersion(), Kind: app.GetKind(), Name: app.GetName(), UID: app.GetUID(),
		Controller: new(true), BlockOwnerDeletion: new(true)}
}

// sparkConf is the SparkApplication's spec.sparkConf (both operators name it so).
func sparkConf(app *unstructured.Unstructured) map[string]string {
	conf, _, _ := unstructured.NestedStringMap(app.Object, "spec", "sparkConf")
	return conf
}

// str, num read a field; absent or of the wrong type reads as zero.
func str(u *unstructured.Unstructured, path ...string) string {
	s, _, _ := unstructured.NestedString(u.Object, path...)
	return s
}

func num(u *unstructured.Unstructured, path ...string) (int64, bool) {
	v, ok, _ := unstructured.NestedFieldNoCopy(u.Object, path...)
	switch n := v.(type) {
	case int64:
		return n, ok
	case float64:
		return int64(n), ok
	}
	return 0, false
}

// getPod reads a pod; a pod that is gone is nil.
func getPod(ctx context.Context, client kubernetes.Interface, ns, name string) (*corev1.Pod, error) {
	p, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return p, err
}
