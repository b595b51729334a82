package submit

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// lineDriver is what one Spark line's spark-submit puts on its driver pod and Service beyond
// the user's keys, read from that line's release (paths below resource-managers/kubernetes/
// core/src/main/scala/org/apache/spark/deploy/k8s/: the 4.0.1 and 4.1.0 sources jars, the
// 4.2.1 and 4.3.0 classes of the pyspark distributions). test/e2e's TestSparkSubmitFidelity
// runs each line's spark-submit for the rest.
type lineDriver struct {
	// ports are the container ports, each also a Service port of the same number
	// (features/BasicDriverFeatureStep.scala, features/DriverServiceFeatureStep.scala).
	ports map[string]int32
	// appProtocols are Service ports' appProtocol (DriverServiceFeatureStep, 4.2: grpc).
	appProtocols map[string]string
	// noEscalation: the Spark container's allowPrivilegeEscalation false (BasicDriverFeatureStep,
	// 4.3: KUBERNETES_DRIVER_ALLOW_PRIVILEGE_ESCALATION, default false).
	noEscalation bool
	// networkPolicy: a NetworkPolicy for the executors (features/NetworkPolicyFeatureStep, 4.2).
	networkPolicy bool
	// proxySparkUser: SPARK_USER is the proxy user (BasicDriverFeatureStep, 4.3:
	// proxyUser.getOrElse(Utils.getCurrentUserName())).
	proxySparkUser bool
}

var lineDrivers = map[string]lineDriver{
	"3.5": {ports: map[string]int32{DriverPortName: 7078, BlockManagerPortName: 7079, UIPortName: 4040}},
	"4.0": {ports: map[string]int32{DriverPortName: 7078, BlockManagerPortName: 7079, UIPortName: 4040}},
	// Constants.scala: DEFAULT_SPARK_CONNECT_SERVER_PORT, SPARK_CONNECT_SERVER_PORT_NAME.
	"4.1": {ports: map[string]int32{DriverPortName: 7078, BlockManagerPortName: 7079, UIPortName: 4040, ConnectPortName: 15002}},
	"4.2": {ports: map[string]int32{DriverPortName: 7078, BlockManagerPortName: 7079, UIPortName: 4040, ConnectPortName: 15002},
		appProtocols: map[string]string{ConnectPortName: "grpc"}, networkPolicy: true},
	"4.3": {ports: map[string]int32{DriverPortName: 7078, BlockManagerPortName: 7079, UIPortName: 4040, ConnectPortName: 15002},
		appProtocols: map[string]string{ConnectPortName: "grpc"}, networkPolicy: true, noEscalation: true, proxySparkUser: true},
}

// TestDriverHasEveryLinesFeatures: whatever Spark line the image runs, a sparkha driver has
// what that line's spark-submit gives its driver (it builds the newest line's, which holds every
// older line's), so a feature is never lost by the move from spark-submit.
func TestDriverHasEveryLinesFeatures(t *testing.T) {
	app := resolveT(t, Input{ProxyUser: "etl", SparkUser: "alice"})
	objs := Build(app, "job-uid")
	c := driverC(objs)
	for _, line := range sparkVersions {
		want, ok := lineDrivers[line]
		if !ok {
			t.Errorf("Spark %s: no entry in lineDrivers; read its feature steps and add one", line)
			continue
		}
		for name, port := range want.ports {
			found := false
			for _, p := range c.Ports {
				found = found || p.Name == name && p.ContainerPort == port && p.Protocol == corev1.ProtocolTCP
			}
			if !found {
				t.Errorf("Spark %s: container port %s %d missing: %v", line, name, port, c.Ports)
			}
			found = false
			for _, p := range objs.Service.Spec.Ports {
				proto := ""
				if p.AppProtocol != nil {
					proto = *p.AppProtocol
				}
				found = found || p.Name == name && p.Port == port && p.TargetPort.IntValue() == int(port) && (want.appProtocols[name] == "" || proto == want.appProtocols[name])
			}
			if !found {
				t.Errorf("Spark %s: Service port %s %d (appProtocol %q) missing: %v", line, name, port, want.appProtocols[name], objs.Service.Spec.Ports)
			}
		}
		if want.noEscalation {
			if sc := c.SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("Spark %s: securityContext %+v, want allowPrivilegeEscalation false", line, sc)
			}
		}
		if want.networkPolicy && (objs.NetworkPolicy == nil || objs.NetworkPolicy.Spec.PodSelector.MatchLabels[sparkapp.LabelSparkRole] != sparkapp.RoleExecutor) {
			t.Errorf("Spark %s: network policy %+v, want one for the executors", line, objs.NetworkPolicy)
		}
		if e := envOf(c, EnvSparkUser); want.proxySparkUser && (e == nil || e.Value != "etl") {
			t.Errorf("Spark %s: SPARK_USER %+v, want the proxy user etl", line, e)
		}
	}
	if e := envOf(c, EnvSparkUser); e == nil || e.Value != "etl" {
		t.Errorf("SPARK_USER %+v, want the proxy user etl", e)
	}
	app = resolveT(t, Input{SparkUser: "alice"})
	if e := envOf(driverC(Build(app, "job-uid")), EnvSparkUser); e == nil || e.Value != "alice" {
		t.Errorf("SPARK_USER %+v without a proxy user, want the submitting user alice", e)
	}
}
