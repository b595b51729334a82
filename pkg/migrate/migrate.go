// Package migrate turns a running Spark driver that kubectl sparkha did not create into the
// kubectl sparkha submit request that runs the same application as a partition-safe Job, and
// says what of the source it cannot carry over. It is pure: the caller reads the objects.
package migrate

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

// Dropped is a field of the source that the sparkha app does not carry.
type Dropped struct {
	Field string `json:"field"`
	Why   string `json:"why"`
	// Fatal says the driver would run differently without it (its containers, files,
	// environment, identity or network): migrate --apply refuses. The others change where
	// the driver is scheduled or how it is labelled, which kubectl sparkha decides its own way.
	Fatal bool `json:"fatal,omitempty"`
}

func (d Dropped) String() string {
	kind := "warning"
	if d.Fatal {
		kind = "not carried"
	}
	return fmt.Sprintf("%s: %s: %s", kind, d.Field, d.Why)
}

// Fatal returns the fatal ones of dropped.
func Fatal(dropped []Dropped) []Dropped {
	return slices.DeleteFunc(slices.Clone(dropped), func(d Dropped) bool { return !d.Fatal })
}

// Spark's own names on the driver pod spark-submit creates (Constants.scala) that kubectl
// sparkha does not use.
const (
	labelSparkVersion = "spark-version"
	envSparkUser      = submit.EnvSparkUser
	driverVolumesKey  = "spark.kubernetes.driver.volumes.persistentVolumeClaim."
	// escalationKey is the driver container's allowPrivilegeEscalation (Spark 4.3).
	escalationKey = "spark.kubernetes.driver.securityContext.allowPrivilegeEscalation"
)

// runLabels are the labels spark-submit puts on its driver for one run: the submitting Spark's
// version and the run's spark.app.id. A sparkha driver generation's executors carry their own
// spark.app.id; the Job knows no Spark version.
var runLabels = map[string]bool{labelSparkVersion: true, sparkapp.LabelAppSelector: true}

// perRun are keys spark-submit sets for one submission that no rule of submit.KeyRules
// reserves: kubectl sparkha's Job sets its own or none.
var perRun = map[string]bool{"spark.app.submitTime": true}

// TemplateConfigMapName is the ConfigMap of the executor pod template spark-submit shipped: the
// one the driver's volume pod-template-volume mounts; "" when there is none.
func TemplateConfigMapName(pod *corev1.Pod) string {
	for _, v := range pod.Spec.Volumes {
		if v.Name == submit.PodTemplateVolume && v.ConfigMap != nil {
			return v.ConfigMap.Name
		}
	}
	return ""
}

// templateKey is the key of the executor template in its ConfigMap: the one the driver's
// pod-template-volume projects to the file Spark reads (PodTemplateConfigMapStep writes it under
// POD_TEMPLATE_KEY, podspec-configmap-key, and mounts it as pod-spec-template.yml).
func templateKey(pod *corev1.Pod) string {
	for _, v := range pod.Spec.Volumes {
		if v.Name != submit.PodTemplateVolume || v.ConfigMap == nil {
			continue
		}
		for _, item := range v.ConfigMap.Items {
			if item.Path == submit.ExecutorTemplateFile {
				return item.Key
			}
		}
	}
	return submit.ExecutorTemplateFile
}

// ConfigMapName is the ConfigMap of the driver's spark.properties: the one its conf volume
// (spark-conf-volume-driver, mounted at /opt/spark/conf) mounts; "" when there is none.
func ConfigMapName(pod *corev1.Pod) string {
	for _, v := range pod.Spec.Volumes {
		if v.Name == submit.SparkConfVolume && v.ConfigMap != nil {
			return v.ConfigMap.Name
		}
	}
	return ""
}

// placeholderAppID resolves the request to compare it with the source; the caller gives the
// app its own ID.
const placeholderAppID = "spark-00000000000000000000000000000000"

// FromDriverPod returns the kubectl sparkha submit request equivalent to a spark-submit driver
// pod and the ConfigMap of its spark.properties: the Job named after spark.app.name (as
// submit --spark-submit names it), the image, main class, resource, arguments and proxy user
// of its command line, its Spark conf without the keys spark-submit or kubectl sparkha set per
// run, and its only persistentVolumeClaim volume as the checkpoint claim. The request has no
// AppID yet. Dropped lists every field of the pod that the request does not reproduce.
func FromDriverPod(pod *corev1.Pod, confMap, templateMap *corev1.ConfigMap) (submit.Input, []Dropped, error) {
	var in submit.Input
	ref := "pod/" + pod.Name
	if pod.Labels[sparkapp.LabelSparkRole] != sparkapp.RoleDriver {
		return in, nil, fmt.Errorf("%s is not a Spark driver: it has no label %s=%s", ref, sparkapp.LabelSparkRole, sparkapp.RoleDriver)
	}
	switch k := sparkapp.AppOfPod(pod); k.Kind {
	case sparkapp.KindSparkhaJob, sparkapp.KindJob:
		return in, nil, fmt.Errorf("%s is a driver of job.batch/%s: a Job already starts a new driver after a node loss; there is nothing to migrate", ref, k.Job)
	case sparkapp.KindSparkApplication:
		return in, nil, fmt.Errorf("%s is a driver of the SparkApplication %s: migrate the application, not its pod (kubectl sparkha migrate sparkapplication/%s)", ref, k.Name, k.Name)
	}
	ctr := sparkContainer(pod)
	if ctr == nil {
		return in, nil, fmt.Errorf("%s has no container running Spark's driver entrypoint (args \"driver --properties-file ...\"): it was not created by spark-submit", ref)
	}
	cmd, err := readDriverArgs(ctr.Args)
	if err != nil {
		return in, nil, fmt.Errorf("%s: %w", ref, err)
	}
	if confMap == nil {
		return in, nil, fmt.Errorf("%s: its ConfigMap %s is gone, and with it the application's spark.properties", ref, ConfigMapName(pod))
	}
	text, ok := confMap.Data[submit.SparkConfFile]
	if !ok {
		return in, nil, fmt.Errorf("configmap/%s has no %s", confMap.Name, submit.SparkConfFile)
	}
	conf, err := submit.ReadProperties("configmap/"+confMap.Name+" "+submit.SparkConfFile, []byte(text))
	if err != nil {
		return in, nil, err
	}
	maps.Copy(conf, cmd.conf)

	var dropped []Dropped
	drop := func(fatal bool, field, format string, args ...any) {
		dropped = append(dropped, Dropped{Field: field, Why: fmt.Sprintf(format, args...), Fatal: fatal})
	}
	kept := map[string]string{}
	templates := map[string][]byte{}
	for _, k := range sortedKeys(conf) {
		v := conf[k]
		rule, hasRule := submit.RuleFor(k)
		switch {
		case perRun[k] || hasRule && rule.Handling == submit.Reserved:
			// spark-submit set it for this run; kubectl sparkha sets its own per driver generation.
		case submit.ClientOnly(k):
			drop(false, "spark.properties "+k, "read by spark-submit on the submitting machine only; kubectl sparkha does not need it")
		case k == "spark.kubernetes.driver.podTemplateFile":
			drop(false, "spark.properties "+k, "the template was read on the submitting machine (%s); what it gave the pod is compared field by field", v)
		case k == submit.ExecutorTemplateKey && templateMap != nil && templateMap.Data[templateKey(pod)] != "":
			// The executor template spark-submit shipped in its ConfigMap (PodTemplateConfigMapStep).
			kept[k] = ExecutorTemplatePath
			templates[ExecutorTemplatePath] = []byte(templateMap.Data[templateKey(pod)])
		case k == submit.ExecutorTemplateKey:
			drop(true, "spark.properties "+k, "the executor pod template was in the ConfigMap spark-submit made for it (volume %s), which is gone; save the template to a file and submit with --conf %s=FILE", submit.PodTemplateVolume, k)
		case hasRule && rule.Handling == submit.Refused:
			drop(true, "spark.properties "+k, "%s", rule.Submit)
		default:
			kept[k] = v
		}
	}

	in = submit.Input{
		Namespace:   pod.Namespace,
		MainClass:   cmd.class,
		AppResource: cmd.resource,
		AppArgs:     cmd.args,
		ProxyUser:   cmd.proxyUser,
		// The pod's args are as spark-submit wrote them; Kubernetes expanded them.
		ArgsAsSparkSubmit: true,
		CheckpointMount:   submit.DefaultCheckpointMount,
		NodeLostTimeout:   submit.DefaultNodeLostTimeout,
	}
	appName := kept["spark.app.name"]
	if appName == "" {
		appName = pod.Labels[sparkapp.LabelAppName]
	}
	if in.Name = submit.JobName(appName); in.Name == "" {
		return in, nil, fmt.Errorf("%s: cannot make a Job name of the application name %q", ref, appName)
	}
	if kept["spark.kubernetes.container.image"] == "" {
		in.Image = ctr.Image
	}
	if _, ok := kept["spark.kubernetes.authenticate.driver.serviceAccountName"]; !ok && pod.Spec.ServiceAccountName != "" && pod.Spec.ServiceAccountName != "default" {
		in.ServiceAccount = pod.Spec.ServiceAccountName
	}
	if claims := claimVolumes(kept); len(claims) == 1 {
		if err := useClaim(&in, kept, claims[0]); err != nil {
			drop(false, "spark.properties "+driverVolumesKey+claims[0].volume+".*", "not taken as the checkpoint claim: %v", err)
		}
	} else if len(claims) > 1 {
		var names []string
		for _, c := range claims {
			names = append(names, c.claim)
		}
		drop(false, "checkpoint claim", "the driver mounts several claims (%s): all stay driver volumes, none is the checkpoint; name it with --checkpoint-claim", strings.Join(names, ", "))
	}
	// The driver container's allowPrivilegeEscalation as it is: unset (spark-submit before 4.3)
	// lets it escalate, which a sparkha driver does only with the key set (its default is 4.3's).
	if _, ok := kept[escalationKey]; !ok {
		if sc := ctr.SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			kept[escalationKey] = "true"
		}
	}
	for _, k := range sortedKeys(kept) {
		in.Conf = append(in.Conf, k+"="+kept[k])
	}
	// The driver's SPARK_USER as spark-submit set it: its submitting user, or the proxy user.
	for _, e := range ctr.Env {
		if e.Name == envSparkUser && e.ValueFrom == nil {
			in.SparkUser = e.Value
		}
	}

	if len(templates) > 0 {
		in.ReadFile = templateReader(templates)
	}
	resolve := in
	resolve.AppID = placeholderAppID
	app, err := submit.Resolve(resolve)
	if err != nil {
		return in, nil, fmt.Errorf("the application of %s cannot run as a sparkha Job: %w", ref, err)
	}
	// What the pod has beyond what Spark gives it becomes the sparkha driver's pod template;
	// compare then checks that the Job's pod has everything the driver had.
	if t := driverTemplate(pod, ctr, submit.Build(app, "").Job.Spec.Template, in.CheckpointClaim); t != nil {
		in.Conf = append(in.Conf, submit.DriverTemplateKey+"="+DriverTemplatePath)
		sort.Strings(in.Conf)
		templates[DriverTemplatePath] = t
		in.ReadFile = templateReader(templates)
		resolve = in
		resolve.AppID = placeholderAppID
		if app, err = submit.Resolve(resolve); err != nil {
			return in, nil, fmt.Errorf("the application of %s cannot run as a sparkha Job with its pod's other fields in a pod template: %w", ref, err)
		}
	}
	dropped = append(dropped, compare(pod, ctr, submit.Build(app, "").Job.Spec.Template, in.CheckpointClaim)...)
	sort.SliceStable(dropped, func(i, j int) bool { return dropped[i].Field < dropped[j].Field })
	return in, dropped, nil
}

// claim is a persistentVolumeClaim volume of spark.kubernetes.driver.volumes.*.
type claim struct{ volume, claim string }

func claimVolumes(conf map[string]string) []claim {
	var out []claim
	for _, k := range sortedKeys(conf) {
		rest, ok := strings.CutPrefix(k, driverVolumesKey)
		if name, ok2 := strings.CutSuffix(rest, ".options.claimName"); ok && ok2 {
			out = append(out, claim{name, conf[k]})
		}
	}
	return out
}

// UseCheckpoint makes the driver's persistentVolumeClaim volume of claimName the request's
// checkpoint claim, at its mount path, instead of a plain driver volume (--checkpoint-claim,
// when the driver mounts several claims).
func UseCheckpoint(in *submit.Input, claimName string) error {
	switch in.CheckpointClaim {
	case claimName:
		return nil
	case "":
	default:
		return fmt.Errorf("--checkpoint-claim %s: the driver's checkpoint claim is %s, its only claim", claimName, in.CheckpointClaim)
	}
	conf := map[string]string{}
	for _, kv := range in.Conf {
		k, v, _ := strings.Cut(kv, "=")
		conf[k] = v
	}
	var names []string
	for _, c := range claimVolumes(conf) {
		names = append(names, c.claim)
		if c.claim != claimName {
			continue
		}
		if err := useClaim(in, conf, c); err != nil {
			return fmt.Errorf("--checkpoint-claim %s: %w", claimName, err)
		}
		in.Conf = nil
		for _, k := range sortedKeys(conf) {
			in.Conf = append(in.Conf, k+"="+conf[k])
		}
		return nil
	}
	return fmt.Errorf("--checkpoint-claim %s: the driver mounts no such claim (it mounts %s)", claimName, orNone(names))
}

// useClaim moves claim c out of conf's driver volumes into the request's checkpoint.
func useClaim(in *submit.Input, conf map[string]string, c claim) error {
	prefix := driverVolumesKey + c.volume + "."
	if conf[prefix+"mount.readOnly"] == "true" {
		return fmt.Errorf("claim %s is mounted read-only", c.claim)
	}
	if conf[prefix+"mount.subPath"] != "" {
		return fmt.Errorf("claim %s is mounted with a subPath", c.claim)
	}
	if c.claim == "OnDemand" {
		return fmt.Errorf("the claim is created on demand for each driver")
	}
	in.CheckpointClaim = c.claim
	if p := conf[prefix+"mount.path"]; p != "" {
		in.CheckpointMount, in.CheckpointMountSet = p, true
	}
	for k := range conf {
		if strings.HasPrefix(k, prefix) {
			delete(conf, k)
		}
	}
	return nil
}

// driverCommand is what DriverCommandFeatureStep's baseDriverContainer puts in the args.
type driverCommand struct {
	proxyUser, class, resource string
	args                       []string
	conf                       map[string]string
}

func readDriverArgs(args []string) (driverCommand, error) {
	c := driverCommand{conf: map[string]string{}}
	if len(args) == 0 || args[0] != "driver" {
		return c, fmt.Errorf("its container does not run Spark's driver entrypoint")
	}
	i := 1
	for ; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "--") {
			break
		}
		if i+1 == len(args) {
			return c, fmt.Errorf("driver option %s has no value", args[i])
		}
		switch v := args[i+1]; args[i] {
		case "--proxy-user":
			c.proxyUser = v
		case "--class":
			c.class = v
		case "--properties-file":
			if v != submit.SparkConfDir+"/"+submit.SparkConfFile {
				return c, fmt.Errorf("the driver reads its properties from %s, not from its conf volume", v)
			}
		case "--conf":
			k, val, _ := strings.Cut(v, "=")
			c.conf[k] = val
		default:
			return c, fmt.Errorf("unknown driver option %s", args[i])
		}
		i++
	}
	if i == len(args) {
		return c, fmt.Errorf("the driver's command line names no application resource")
	}
	c.resource, c.args = args[i], slices.Clone(args[i+1:])
	return c, nil
}

func sparkContainer(pod *corev1.Pod) *corev1.Container {
	for i := range pod.Spec.Containers {
		if c := &pod.Spec.Containers[i]; len(c.Args) > 0 && c.Args[0] == "driver" {
			return c
		}
	}
	return nil
}

// compare lists what of the live pod the sparkha Job's pod template (want) does not have,
// leaving out what Kubernetes adds to every pod and what spark-submit adds that kubectl
// sparkha sets its own way.
func compare(pod *corev1.Pod, ctr *corev1.Container, want corev1.PodTemplateSpec, checkpointClaim string) []Dropped {
	var out []Dropped
	drop := func(fatal bool, field, format string, args ...any) {
		out = append(out, Dropped{Field: field, Why: fmt.Sprintf(format, args...), Fatal: fatal})
	}
	s, w := pod.Spec, want.Spec
	has := func(cs []corev1.Container, name string) bool {
		return slices.ContainsFunc(cs, func(c corev1.Container) bool { return c.Name == name })
	}
	for _, c := range s.Containers {
		if c.Name != ctr.Name && !has(w.Containers, c.Name) {
			drop(true, "spec.containers["+c.Name+"]", "a container beside the driver (from a pod template): kubectl sparkha runs the driver's container only")
		}
	}
	for _, c := range s.InitContainers {
		if !has(w.InitContainers, c.Name) {
			drop(true, "spec.initContainers["+c.Name+"]", "an init container (from a pod template): kubectl sparkha does not run it")
		}
	}
	for _, v := range s.Volumes {
		if !accountedFor(v, w, checkpointClaim) {
			drop(true, "spec.volumes["+v.Name+"]", "a volume no Spark property describes (from a pod template): the driver would not find its files")
		}
	}
	wc := w.Containers[0]
	wantEnv := map[string]string{}
	for _, e := range wc.Env {
		wantEnv[e.Name] = e.Value
	}
	for _, e := range ctr.Env {
		v, ok := wantEnv[e.Name]
		switch {
		case e.Name == envSparkUser && ok && v != e.Value:
			drop(false, "env "+envSparkUser, "spark-submit set %s; the sparkha driver gets %s, its --proxy-user (as Spark 4.3 sets it)", e.Value, v)
		case ok:
		default:
			drop(true, "env "+e.Name, "an environment variable no Spark property describes (from a pod template): set it with spark.kubernetes.driverEnv.%s", e.Name)
		}
	}
	if len(ctr.Command) > 0 && !slices.Equal(ctr.Command, wc.Command) {
		drop(true, "spec.containers["+ctr.Name+"].command", "the driver's entrypoint is replaced (%s): kubectl sparkha runs the image's", strings.Join(ctr.Command, " "))
	}
	withoutEscalation := func(sc *corev1.SecurityContext) corev1.SecurityContext {
		if sc == nil {
			return corev1.SecurityContext{}
		}
		c := *sc
		c.AllowPrivilegeEscalation = nil // Spark 4.3's, carried by its key
		return c
	}
	if !equality.Semantic.DeepEqual(withoutEscalation(ctr.SecurityContext), withoutEscalation(wc.SecurityContext)) {
		drop(true, "spec.containers["+ctr.Name+"].securityContext", "the driver's user and privileges would change: set them in a driver pod template")
	}
	if sc := s.SecurityContext; sc != nil && !isZero(*sc) && !equality.Semantic.DeepEqual(sc, w.SecurityContext) {
		drop(true, "spec.securityContext", "the pod's user, group and file system group would change (file permissions on its volumes): set them in a driver pod template")
	}
	for field, on := range map[string]bool{"spec.hostNetwork": s.HostNetwork && !w.HostNetwork, "spec.hostPID": s.HostPID && !w.HostPID, "spec.hostIPC": s.HostIPC && !w.HostIPC} {
		if on {
			drop(true, field, "the driver would run in its own network or process namespace, not the node's")
		}
	}
	for _, t := range s.Tolerations {
		if isDefaultToleration(t) || slices.ContainsFunc(w.Tolerations, func(o corev1.Toleration) bool { return equality.Semantic.DeepEqual(o, t) }) {
			continue // the DefaultTolerationSeconds admission plugin's; the Job sets --node-lost-timeout
		}
		drop(false, "spec.tolerations["+t.Key+"]", "kubectl sparkha's driver tolerates only the node-lost taints, for --node-lost-timeout: set others in a driver pod template")
	}
	if s.Affinity != nil && !equality.Semantic.DeepEqual(s.Affinity, w.Affinity) {
		drop(false, "spec.affinity", "the driver may be scheduled on other nodes: set it in a driver pod template")
	}
	if len(s.TopologySpreadConstraints) > 0 && !equality.Semantic.DeepEqual(s.TopologySpreadConstraints, w.TopologySpreadConstraints) {
		drop(false, "spec.topologySpreadConstraints", "the driver may be scheduled on other nodes: set them in a driver pod template")
	}
	for field, v := range map[string][2]string{"spec.priorityClassName": {s.PriorityClassName, w.PriorityClassName}, "spec.runtimeClassName": {ptrString(s.RuntimeClassName), ptrString(w.RuntimeClassName)}} {
		if v[0] != "" && v[0] != v[1] {
			drop(false, field, "%s is not set on the Job's pods: set it in a driver pod template", v[0])
		}
	}
	for _, k := range sortedKeys(s.NodeSelector) {
		if _, ok := w.NodeSelector[k]; !ok {
			drop(false, "spec.nodeSelector["+k+"]", "no Spark property sets it: set spark.kubernetes.driver.node.selector.%s", k)
		}
	}
	for _, k := range sortedKeys(pod.Labels) {
		if _, ok := want.Labels[k]; !ok && !runLabels[k] {
			drop(false, "metadata.labels["+k+"]", "no Spark property sets it: set spark.kubernetes.driver.label.%s", k)
		}
	}
	for _, k := range sortedKeys(pod.Annotations) {
		if _, ok := want.Annotations[k]; !ok {
			drop(false, "metadata.annotations["+k+"]", "no Spark property sets it: set spark.kubernetes.driver.annotation.%s", k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

func isDefaultToleration(t corev1.Toleration) bool {
	return (t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable) &&
		t.Operator == corev1.TolerationOpExists && t.Effect == corev1.TaintEffectNoExecute
}

func isZero(sc corev1.PodSecurityContext) bool {
	return sc.SELinuxOptions == nil && sc.WindowsOptions == nil && sc.RunAsUser == nil && sc.RunAsGroup == nil &&
		sc.RunAsNonRoot == nil && len(sc.SupplementalGroups) == 0 && sc.FSGroup == nil && len(sc.Sysctls) == 0 &&
		sc.FSGroupChangePolicy == nil && sc.SeccompProfile == nil && sc.AppArmorProfile == nil &&
		sc.SupplementalGroupsPolicy == nil && sc.SELinuxChangePolicy == nil
}

func ptrString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
