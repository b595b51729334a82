package sparkrt

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/kubernetes/third_party/forked/golang/expansion"
)

// environment is what the kubelet hands the pod's container: its environment, in order, and
// its args. It follows pkg/kubelet/kubelet_pods.go makeEnvironmentVariables (the `kubernetes`
// Service's variables first, as getServiceEnvVarMap gives every pod with enableServiceLinks;
// then each env var in order, a value expanded against the variables before it, a fieldRef
// resolved by podFieldSelectorRuntimeValue) and pkg/kubelet/container/helpers.go
// ExpandContainerCommandAndArgs (command and args expanded against the final environment),
// with Kubernetes' own expansion package. A source it does not resolve is an error, as a
// container the kubelet cannot configure does not start (CreateContainerConfigError).
func environment(pod *corev1.Pod, c *corev1.Container, podIP, hostIP string) (env []string, args []string, err error) {
	vars := map[string]string{}
	var order []string
	set := func(name, value string) {
		if _, seen := vars[name]; !seen {
			order = append(order, name)
		}
		vars[name] = value
	}
	// getServiceEnvVarMap: the master Service's variables in every namespace (the sandbox has no
	// other Service with a ClusterIP; Spark's driver Service is headless).
	for _, kv := range [][2]string{
		{"KUBERNETES_SERVICE_HOST", ServiceIP}, {"KUBERNETES_SERVICE_PORT", "443"},
		{"KUBERNETES_SERVICE_PORT_HTTPS", "443"}, {"KUBERNETES_PORT", "tcp://" + ServiceIP + ":443"},
		{"KUBERNETES_PORT_443_TCP", "tcp://" + ServiceIP + ":443"}, {"KUBERNETES_PORT_443_TCP_PROTO", "tcp"},
		{"KUBERNETES_PORT_443_TCP_PORT", "443"}, {"KUBERNETES_PORT_443_TCP_ADDR", ServiceIP},
	} {
		set(kv[0], kv[1])
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			set(e.Name, expansion.Expand(e.Value, expansion.MappingFuncFor(vars)))
		case e.ValueFrom.FieldRef != nil:
			v, err := fieldValue(pod, e.ValueFrom.FieldRef.FieldPath, podIP, hostIP)
			if err != nil {
				return nil, nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			set(e.Name, v)
		default:
			return nil, nil, fmt.Errorf("env %s: only values and fieldRefs are resolved by the sandbox", e.Name)
		}
	}
	for _, name := range order {
		env = append(env, name+"="+vars[name])
	}
	if len(c.Command) > 0 {
		return nil, nil, fmt.Errorf("command %q: the sandbox runs the image's entrypoint only", c.Command)
	}
	mapping := expansion.MappingFuncFor(vars)
	for _, a := range c.Args {
		args = append(args, expansion.Expand(a, mapping))
	}
	return env, args, nil
}

// fieldValue is podFieldSelectorRuntimeValue for the fields Spark's pods use.
func fieldValue(pod *corev1.Pod, path, podIP, hostIP string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return podIP, nil
	case "status.hostIP":
		return hostIP, nil
	}
	return "", fmt.Errorf("fieldRef %s is not resolved by the sandbox", path)
}
