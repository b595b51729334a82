package plugin

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
)

// newClient builds the clientset every command uses from kubectl's flags. It
// speaks protobuf, as Kubernetes' own components do: on large clusters the
// LISTs of inspect decode faster and hold less memory than with JSON.
func newClient(f genericclioptions.RESTClientGetter) (kubernetes.Interface, error) {
	cfg, err := f.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	return kubernetes.NewForConfig(cfg)
}
