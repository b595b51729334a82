package migrate

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

// sparkVolumes are volumes Spark's driver feature steps add (Constants.scala) whose content
// kubectl sparkha ships its own way: spark.properties, and the executor template (or the report
// names it, when its ConfigMap is gone).
var sparkVolumes = sets.New(submit.SparkConfVolume, submit.PodTemplateVolume)

// accountedFor says whether the Job's pod (want) has volume v of the driver pod its own way: a
// volume of the same name, one of Spark's own, the service account admission plugin's token
// volume (added to the Job's pods too), or the checkpoint claim.
func accountedFor(v corev1.Volume, want corev1.PodSpec, checkpointClaim string) bool {
	return slices.ContainsFunc(want.Volumes, func(w corev1.Volume) bool { return w.Name == v.Name }) || sparkVolumes.Has(v.Name) ||
		isTokenVolume(v) || (v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == checkpointClaim)
}

func isTokenVolume(v corev1.Volume) bool {
	return v.Projected != nil && strings.HasPrefix(v.Name, "kube-api-access-")
}

// driverTemplate is what of a spark-submit driver pod neither Spark's feature steps (want, the
// sparkha pod built without it) nor Kubernetes' admission put there: what its
// spark.kubernetes.driver.podTemplateFile or a webhook gave it. As the sparkha driver's pod
// template it gives the Job's pods the same; nil when there is nothing.
func driverTemplate(pod *corev1.Pod, ctr *corev1.Container, want corev1.PodTemplateSpec, checkpointClaim string) []byte {
	s := pod.Spec
	t := newPodTemplate("driver")
	// The service account admission plugin's token volume and its mounts: added to the Job's
	// pods too.
	token := sets.New[string]()
	for _, v := range s.Volumes {
		if isTokenVolume(v) {
			token.Insert(v.Name)
		}
	}
	own := func(c corev1.Container) corev1.Container {
		c = *c.DeepCopy()
		mounts := c.VolumeMounts
		c.VolumeMounts = nil
		for _, m := range mounts {
			if !token.Has(m.Name) {
				c.VolumeMounts = append(c.VolumeMounts, m)
			}
		}
		return c
	}
	spark := t.container()
	spark.Name = ctr.Name
	t.used = false
	for _, c := range s.Containers {
		if c.Name != ctr.Name {
			t.spec().Containers = append(t.spec().Containers, own(c))
		}
	}
	for _, c := range s.InitContainers {
		t.spec().InitContainers = append(t.spec().InitContainers, own(c))
	}
	theirs := sets.New[string]()
	for _, v := range s.Volumes {
		// The Hadoop conf ConfigMap spark-submit made of its HADOOP_CONF_DIR goes with the old
		// pod: not copied, compare reports it unless spark.kubernetes.hadoop.configMapName
		// names a ConfigMap of the user's.
		if accountedFor(v, want.Spec, checkpointClaim) || v.Name == submit.HadoopConfVolume {
			continue
		}
		theirs.Insert(v.Name)
		t.spec().Volumes = append(t.spec().Volumes, v)
	}
	for _, m := range ctr.VolumeMounts {
		if theirs.Has(m.Name) {
			t.container().VolumeMounts = append(t.container().VolumeMounts, m)
		}
	}
	wantEnv := sets.New[string]()
	for _, e := range want.Spec.Containers[0].Env {
		wantEnv.Insert(e.Name)
	}
	for _, e := range ctr.Env {
		if !wantEnv.Has(e.Name) {
			t.container().Env = append(t.container().Env, e)
		}
	}
	if len(ctr.EnvFrom) > 0 {
		t.container().EnvFrom = ctr.EnvFrom
	}
	if len(ctr.Command) > 0 {
		t.container().Command = ctr.Command
	}
	if sc := ctr.SecurityContext; sc != nil {
		// allowPrivilegeEscalation is Spark 4.3's, carried by its key.
		c := *sc.DeepCopy()
		c.AllowPrivilegeEscalation = nil
		if !equality.Semantic.DeepEqual(c, corev1.SecurityContext{}) {
			t.container().SecurityContext = &c
		}
	}
	for _, f := range []struct {
		set  bool
		copy func(*corev1.Container)
	}{
		{ctr.Lifecycle != nil, func(c *corev1.Container) { c.Lifecycle = ctr.Lifecycle }},
		{ctr.LivenessProbe != nil, func(c *corev1.Container) { c.LivenessProbe = ctr.LivenessProbe }},
		{ctr.ReadinessProbe != nil, func(c *corev1.Container) { c.ReadinessProbe = ctr.ReadinessProbe }},
		{ctr.StartupProbe != nil, func(c *corev1.Container) { c.StartupProbe = ctr.StartupProbe }},
		{ctr.WorkingDir != "", func(c *corev1.Container) { c.WorkingDir = ctr.WorkingDir }},
	} {
		if f.set {
			f.copy(t.container())
		}
	}
	// Resources Spark does not size: GPUs and other extended resources.
	for name, q := range ctr.Resources.Limits {
		if _, ok := want.Spec.Containers[0].Resources.Limits[name]; !ok && name != corev1.ResourceCPU {
			c := t.container()
			if c.Resources.Limits == nil {
				c.Resources.Limits = corev1.ResourceList{}
			}
			c.Resources.Limits[name] = q
		}
	}
	wantPorts := sets.New[int32]()
	for _, p := range want.Spec.Containers[0].Ports {
		wantPorts.Insert(p.ContainerPort)
	}
	for _, p := range ctr.Ports {
		if !wantPorts.Has(p.ContainerPort) {
			t.container().Ports = append(t.container().Ports, p)
		}
	}
	if sc := s.SecurityContext; sc != nil && !isZero(*sc) {
		t.spec().SecurityContext = sc
	}
	if s.HostNetwork {
		t.spec().HostNetwork, t.spec().DNSPolicy = true, s.DNSPolicy
	}
	if s.HostPID {
		t.spec().HostPID = true
	}
	if s.HostIPC {
		t.spec().HostIPC = true
	}
	if s.DNSConfig != nil {
		t.spec().DNSConfig = s.DNSConfig
	}
	if len(s.HostAliases) > 0 {
		t.spec().HostAliases = s.HostAliases
	}
	for _, tl := range s.Tolerations {
		if !isDefaultToleration(tl) {
			t.spec().Tolerations = append(t.spec().Tolerations, tl)
		}
	}
	if s.Affinity != nil {
		t.spec().Affinity = s.Affinity
	}
	if len(s.TopologySpreadConstraints) > 0 {
		t.spec().TopologySpreadConstraints = s.TopologySpreadConstraints
	}
	if s.PriorityClassName != "" {
		// The priority admission plugin fills in spec.priority from it: not copied.
		t.spec().PriorityClassName = s.PriorityClassName
	}
	if s.RuntimeClassName != nil {
		t.spec().RuntimeClassName = s.RuntimeClassName
	}
	if s.ShareProcessNamespace != nil && *s.ShareProcessNamespace {
		t.spec().ShareProcessNamespace = s.ShareProcessNamespace
	}
	if s.TerminationGracePeriodSeconds != nil && *s.TerminationGracePeriodSeconds != corev1.DefaultTerminationGracePeriodSeconds {
		t.spec().TerminationGracePeriodSeconds = s.TerminationGracePeriodSeconds
	}
	for _, k := range sortedKeys(s.NodeSelector) {
		if _, ok := want.Spec.NodeSelector[k]; !ok {
			if t.spec().NodeSelector == nil {
				t.spec().NodeSelector = map[string]string{}
			}
			t.spec().NodeSelector[k] = s.NodeSelector[k]
		}
	}
	for _, k := range sortedKeys(pod.Labels) {
		if _, ok := want.Labels[k]; !ok && !runLabels[k] {
			if t.pod.Labels == nil {
				t.pod.Labels = map[string]string{}
			}
			t.used, t.pod.Labels[k] = true, pod.Labels[k]
		}
	}
	for _, k := range sortedKeys(pod.Annotations) {
		if _, ok := want.Annotations[k]; !ok {
			if t.pod.Annotations == nil {
				t.pod.Annotations = map[string]string{}
			}
			t.used, t.pod.Annotations[k] = true, pod.Annotations[k]
		}
	}
	if !t.used {
		return nil
	}
	b, err := yaml.Marshal(&t.pod)
	if err != nil {
		return nil
	}
	return b
}
