package plugin

import (
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
)

// newClient builds the clientset every command uses from kubectl's flags.
// (Protobuf was measured with make bench and made no difference within the
// noise, so the client keeps JSON.)
func newClient(f genericclioptions.RESTClientGetter) (kubernetes.Interface, error) {
	cfg, err := f.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}
