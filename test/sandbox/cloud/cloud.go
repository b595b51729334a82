// Package cloud is the sandbox's cloud, one process beside the machines (sandbox.Options.Cloud):
// a provider whose instances are the sandbox's machines, the real cloud node lifecycle
// controller over it (k8s.io/cloud-provider controllers/nodelifecycle, as a cloud controller
// manager runs it), and a simulated fence-agents-remediation operator whose fence agent powers
// a machine off (remediation.go).
package cloud

import (
	"context"
	"fmt"
	"log"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	cloudprovider "k8s.io/cloud-provider"
	"k8s.io/cloud-provider/controllers/nodelifecycle"
	controllersmetrics "k8s.io/component-base/metrics/prometheus/controllers"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/crd"
)

// Machines are the sandbox's machines as a cloud's API sees them (*sandbox.Sandbox).
type Machines interface {
	// MachineRunning says whether node's machine is powered on: a partitioned machine is, and
	// so is one whose container runtime is down.
	MachineRunning(node string) bool
	// PowerOff powers node's machine off for good, as Sandbox.Kill does, recording who did it.
	PowerOff(node, by string) error
}

// MonitorPeriod is how often the node lifecycle controller looks at the nodes: the sandbox's
// kube-controller-manager --node-monitor-period (the cloud controller manager's default is 5 s).
const MonitorPeriod = time.Second

// Cloud runs the sandbox's cloud until ctx ends.
type Cloud struct {
	Client   kubernetes.Interface
	Dynamic  dynamic.Interface
	Machines Machines
	Log      *log.Logger
}

// Run installs the FenceAgentsRemediation CRD, then runs the node lifecycle controller and the
// remediation operator.
func (c *Cloud) Run(ctx context.Context) error {
	if err := crd.Install(ctx, c.Dynamic, farCRD); err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(c.Client, 0)
	nodes := factory.Core().V1().Nodes()
	lifecycle, err := nodelifecycle.NewCloudNodeLifecycleController(nodes, c.Client, &provider{c.Machines}, MonitorPeriod, 1)
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), nodes.Informer().HasSynced) {
		return fmt.Errorf("node cache never synced")
	}
	go lifecycle.Run(ctx, controllersmetrics.NewControllerManagerMetrics("sandbox-cloud"))
	op := &operator{client: c.Client, dyn: c.Dynamic, machines: c.Machines, log: c.Log}
	op.run(ctx)
	return nil
}

// provider is the cloud provider of the sandbox: InstancesV2 only, what the node lifecycle
// controller asks (cloudprovider.Interface; the other services are not offered).
type provider struct{ m Machines }

func (p *provider) Initialize(cloudprovider.ControllerClientBuilder, <-chan struct{}) {}
func (p *provider) LoadBalancer() (cloudprovider.LoadBalancer, bool)                  { return nil, false }
func (p *provider) Instances() (cloudprovider.Instances, bool)                        { return nil, false }
func (p *provider) InstancesV2() (cloudprovider.InstancesV2, bool)                    { return p, true }
func (p *provider) Zones() (cloudprovider.Zones, bool)                                { return nil, false }
func (p *provider) Clusters() (cloudprovider.Clusters, bool)                          { return nil, false }
func (p *provider) Routes() (cloudprovider.Routes, bool)                              { return nil, false }
func (p *provider) ProviderName() string                                              { return "sandbox" }
func (p *provider) HasClusterID() bool                                                { return false }

// InstanceExists: a sandbox machine is never deleted, only powered off (Kill) and on again
// (Restart), so the controller's other path, deleting the Node of a vanished instance, never runs.
func (p *provider) InstanceExists(context.Context, *corev1.Node) (bool, error) { return true, nil }

// InstanceShutdown is what the controller taints on: the machine is powered off. The machine's
// process is its power: a partitioned machine (stopped process) or one whose runtime is down
// runs, so its node is NotReady without being shut down.
func (p *provider) InstanceShutdown(_ context.Context, node *corev1.Node) (bool, error) {
	return !p.m.MachineRunning(node.Name), nil
}

func (p *provider) InstanceMetadata(_ context.Context, node *corev1.Node) (*cloudprovider.InstanceMetadata, error) {
	return &cloudprovider.InstanceMetadata{ProviderID: "sandbox://" + node.Name}, nil
}
