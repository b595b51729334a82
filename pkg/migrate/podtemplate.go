package migrate

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

// The pod fields that no Spark conf key sets go into pod template files, which submit applies
// as spark-submit applies spark.kubernetes.{driver,executor}.podTemplateFile: the driver's is
// the base of the Job's pod, the executors' is shipped in the app's ConfigMap. migrate writes
// them in memory; these are their names in the conf and in messages.
const (
	DriverTemplatePath   = "(migrated)/driver-pod-template.yaml"
	ExecutorTemplatePath = "(migrated)/executor-pod-template.yaml"
)

// templateReader serves the generated templates to submit.Resolve, and nothing else: a template
// path of a SparkApplication's sparkConf names a file in the operator's pod, which migrate
// cannot read (fileTemplateKeys refuses it).
func templateReader(files map[string][]byte) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		if b, ok := files[path]; ok {
			return b, nil
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
	}
}

// podTemplate is the pod template of one role being built.
type podTemplate struct {
	role string
	pod  corev1.Pod
	used bool
}

func newPodTemplate(role string) *podTemplate {
	return &podTemplate{role: role, pod: corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}}}
}

// containerName is Spark's name of the role's container (Constants.scala
// DEFAULT_DRIVER_CONTAINER_NAME, DEFAULT_EXECUTOR_CONTAINER_NAME).
func (t *podTemplate) containerName() string {
	if t.role == "driver" {
		return submit.DriverContainerName
	}
	return "spark-kubernetes-executor"
}

// container is the Spark container of the template, created first when there is none. The
// operator's webhook picks it by Spark's names, else the first container (findContainer);
// Spark's selectSparkContainer picks the first, so a Spark container not first is moved first.
func (t *podTemplate) container() *corev1.Container {
	t.used = true
	cs := t.pod.Spec.Containers
	for i := range cs {
		if cs[i].Name == t.containerName() || (t.role == "executor" && cs[i].Name == "executor") {
			if i != 0 {
				cs[0], cs[i] = cs[i], cs[0]
			}
			return &cs[0]
		}
	}
	if len(cs) == 0 {
		t.pod.Spec.Containers = []corev1.Container{{Name: t.containerName()}}
	}
	return &t.pod.Spec.Containers[0]
}

func (t *podTemplate) spec() *corev1.PodSpec {
	t.used = true
	return &t.pod.Spec
}

// file is the template as Spark reads it, nil when nothing was put in it.
func (t *podTemplate) file() ([]byte, error) {
	if !t.used {
		return nil, nil
	}
	return yaml.Marshal(&t.pod)
}

// kubeflowPodFields are the fields of the Kubeflow operator's SparkPodSpec, DriverSpec and
// ExecutorSpec (api/v1beta2/sparkapplication_types.go) that its webhook sets on the pods Spark
// created (internal/webhook/sparkpod_defaulter.go mutateSparkPod), and the template Spark
// starts from (submission.go driverPodTemplateOption).
type kubeflowPodFields struct {
	Template                      *corev1.PodTemplateSpec    `json:"template"`
	Env                           []corev1.EnvVar            `json:"env"`
	EnvFrom                       []corev1.EnvFromSource     `json:"envFrom"`
	ConfigMaps                    []namePath                 `json:"configMaps"`
	Ports                         []kubeflowPort             `json:"ports"`
	HostNetwork                   *bool                      `json:"hostNetwork"`
	HostAliases                   []corev1.HostAlias         `json:"hostAliases"`
	InitContainers                []corev1.Container         `json:"initContainers"`
	Sidecars                      []corev1.Container         `json:"sidecars"`
	DNSConfig                     *corev1.PodDNSConfig       `json:"dnsConfig"`
	PriorityClassName             *string                    `json:"priorityClassName"`
	Affinity                      *corev1.Affinity           `json:"affinity"`
	Tolerations                   []corev1.Toleration        `json:"tolerations"`
	GPU                           *gpuSpec                   `json:"gpu"`
	SecurityContext               *corev1.SecurityContext    `json:"securityContext"`
	PodSecurityContext            *corev1.PodSecurityContext `json:"podSecurityContext"`
	TerminationGracePeriodSeconds *int64                     `json:"terminationGracePeriodSeconds"`
	Lifecycle                     *corev1.Lifecycle          `json:"lifecycle"`
	ShareProcessNamespace         *bool                      `json:"shareProcessNamespace"`
	MemoryLimit                   *string                    `json:"memoryLimit"`
}

type namePath struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

type kubeflowPort struct {
	Name          string `json:"name"`
	Protocol      string `json:"protocol"`
	ContainerPort int32  `json:"containerPort"`
}

type gpuSpec struct {
	Name     string `json:"name"`
	Quantity int64  `json:"quantity"`
}

// kubeflowTemplate builds the role's template from p (a DriverSpec or ExecutorSpec) in the
// webhook's order, so that what it overrides there it overrides here.
func (c *appConverter) kubeflowTemplate(role string, p map[string]any, volumes map[string]corev1.Volume) error {
	var f kubeflowPodFields
	if err := c.decode(p, &f, "spec."+role); err != nil {
		return err
	}
	t := newPodTemplate(role)
	if f.Template != nil {
		t.used = true
		t.pod.ObjectMeta = f.Template.ObjectMeta
		t.pod.Spec = f.Template.Spec
	}
	for _, e := range f.Env {
		// A plain value is Spark conf (kubeflowPod); one from a reference only a template has.
		if e.ValueFrom != nil {
			t.container().Env = append(t.container().Env, e)
		}
	}
	if len(f.EnvFrom) > 0 {
		ctr := t.container()
		ctr.EnvFrom = append(ctr.EnvFrom, f.EnvFrom...)
	}
	for _, cm := range f.ConfigMaps {
		// addGeneralConfigMaps: volume NAME-vol, mounted read-only at the path.
		name := cm.Name + "-vol"
		t.spec().Volumes = append(t.spec().Volumes, corev1.Volume{Name: name,
			VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}}}})
		ctr := t.container()
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: cm.Path})
	}
	for _, m := range c.templateMounts[role] {
		t.spec().Volumes = append(t.spec().Volumes, volumes[m.Name])
		ctr := t.container()
		ctr.VolumeMounts = append(ctr.VolumeMounts, m)
	}
	for _, port := range f.Ports {
		ctr := t.container()
		ctr.Ports = append(ctr.Ports, corev1.ContainerPort{Name: port.Name, ContainerPort: port.ContainerPort, Protocol: corev1.Protocol(port.Protocol)})
	}
	if f.HostNetwork != nil && *f.HostNetwork {
		t.spec().HostNetwork = true
		t.spec().DNSPolicy = corev1.DNSClusterFirstWithHostNet
	}
	if len(f.HostAliases) > 0 {
		t.spec().HostAliases = append(t.spec().HostAliases, f.HostAliases...)
	}
	if len(f.InitContainers) > 0 {
		t.spec().InitContainers = append(t.spec().InitContainers, f.InitContainers...)
	}
	if len(f.Sidecars) > 0 {
		t.container() // the Spark container stays first
		t.spec().Containers = append(t.spec().Containers, f.Sidecars...)
	}
	if f.DNSConfig != nil {
		t.spec().DNSConfig = f.DNSConfig
	}
	if f.PriorityClassName != nil && *f.PriorityClassName != "" {
		t.spec().PriorityClassName = *f.PriorityClassName
	}
	if f.Affinity != nil {
		t.spec().Affinity = f.Affinity
	}
	if len(f.Tolerations) > 0 {
		t.spec().Tolerations = append(t.spec().Tolerations, f.Tolerations...)
	}
	if f.MemoryLimit != nil {
		// addMemoryLimit raises the container's memory limit over Spark's; a sparkha driver's
		// limit is its memory plus overhead, as Spark sets it.
		c.drop(true, "spec."+role+".memoryLimit", "the operator sets the container's memory limit above what Spark requests; kubectl sparkha keeps Spark's limit (memory + overhead): raise spec."+role+".memoryOverhead instead")
	}
	if f.GPU != nil && f.GPU.Name != "" && f.GPU.Quantity > 0 {
		ctr := t.container()
		if ctr.Resources.Limits == nil {
			ctr.Resources.Limits = corev1.ResourceList{}
		}
		ctr.Resources.Limits[corev1.ResourceName(f.GPU.Name)] = *resource.NewQuantity(f.GPU.Quantity, resource.DecimalSI)
	}
	if f.SecurityContext != nil {
		t.container().SecurityContext = f.SecurityContext
		if role == "driver" {
			// The webhook replaces the container's security context, Spark 4.3's
			// allowPrivilegeEscalation included: unset there is the runtime's default, true.
			ape := "true"
			if f.SecurityContext.AllowPrivilegeEscalation != nil && !*f.SecurityContext.AllowPrivilegeEscalation {
				ape = "false"
			}
			c.set(escalationKey, ape)
		}
	}
	if f.PodSecurityContext != nil {
		t.spec().SecurityContext = f.PodSecurityContext
	}
	if f.TerminationGracePeriodSeconds != nil {
		t.spec().TerminationGracePeriodSeconds = f.TerminationGracePeriodSeconds
	}
	if f.Lifecycle != nil {
		t.container().Lifecycle = f.Lifecycle
	}
	if f.ShareProcessNamespace != nil && *f.ShareProcessNamespace {
		t.spec().ShareProcessNamespace = f.ShareProcessNamespace
	}
	return c.useTemplate(t)
}

// decode reads m into v. A field v's Kubernetes types do not have is reported, not an error: no
// pod of the operator's has it either (the API server prunes it from the SparkApplication, or,
// in a template the CRD keeps as it is, drops it from the pod Spark creates).
func (c *appConverter) decode(m map[string]any, v any, field string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	strict, err := sigsjson.UnmarshalStrict(b, v, sigsjson.DisallowUnknownFields)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	for _, e := range strict {
		if f, ok := strings.CutPrefix(e.Error(), "unknown field "); ok {
			if _, known := m[strings.Trim(f, `"`)]; known {
				continue // one of the converter's own fields, not a pod field
			}
			c.drop(false, field+"."+strings.Trim(f, `"`), "not a field of the Kubernetes type there: no pod has it, Kubernetes drops it")
		}
	}
	return nil
}

// apacheTemplate uses spec.driverSpec/executorSpec.podTemplateSpec as the operator does: it
// is the pod Spark's feature steps start from (ModelUtils.getPodFromTemplateSpec).
func (c *appConverter) apacheTemplate(role string, spec map[string]any) error {
	field := "spec." + role + "Spec.podTemplateSpec"
	raw := mapAt(mapAt(spec, role+"Spec"), "podTemplateSpec")
	if empty(raw) {
		return nil
	}
	var ts corev1.PodTemplateSpec
	if err := c.decode(raw, &ts, field); err != nil {
		return err
	}
	t := newPodTemplate(role)
	t.used = true
	t.pod.ObjectMeta, t.pod.Spec = ts.ObjectMeta, ts.Spec
	return c.useTemplate(t)
}

// useTemplate writes t, if anything was put in it, and points the role's template key at it.
func (c *appConverter) useTemplate(t *podTemplate) error {
	b, err := t.file()
	if err != nil || b == nil {
		return err
	}
	key, path := submit.ExecutorTemplateKey, ExecutorTemplatePath
	if t.role == "driver" {
		key, path = submit.DriverTemplateKey, DriverTemplatePath
	}
	if c.templates == nil {
		c.templates = map[string][]byte{}
	}
	c.templates[path] = b
	c.conf[key] = path
	return nil
}

// fileTemplateKeys refuses a template key of the sparkConf: its file is on the operator's
// machine (or in its image), which migrate cannot read.
func (c *appConverter) fileTemplateKeys(sparkConf map[string]string, field string) {
	for _, k := range []string{submit.DriverTemplateKey, submit.ExecutorTemplateKey} {
		if v, ok := sparkConf[k]; ok {
			c.drop(true, field+"["+k+"]", fmt.Sprintf("%s is a file in the operator's pod, which kubectl sparkha cannot read: put its content in the SparkApplication's pod template (or pass the file to submit with --conf %s=FILE)", v, k))
			delete(c.conf, k)
		}
	}
}
