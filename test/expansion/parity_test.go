// Package expansion checks the product's port of Kubernetes' $(VAR) expansion
// (internal/expansion) against the original in k8s.io/kubernetes, case by case.
package expansion

import (
	"testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/expansion"
	"github.com/kubectl-sparkha/kubectl-sparkha/internal/expansion/cases"
	upstream "k8s.io/kubernetes/third_party/forked/golang/expansion"
)

func TestPortMatchesKubernetes(t *testing.T) {
	port, orig := expansion.MappingFuncFor(cases.Context), upstream.MappingFuncFor(cases.Context)
	inputs := []string{}
	for _, c := range cases.All {
		inputs = append(inputs, c.Input)
	}
	for _, s := range cases.Escaped {
		inputs = append(inputs, s, expansion.Escape(s))
	}
	for _, in := range inputs {
		if got, want := expansion.Expand(in, port), upstream.Expand(in, orig); got != want {
			t.Errorf("Expand(%q): port %q, Kubernetes %q", in, got, want)
		}
	}
}

func FuzzPortMatchesKubernetes(f *testing.F) {
	for _, c := range cases.All {
		f.Add(c.Input)
	}
	port, orig := expansion.MappingFuncFor(cases.Context), upstream.MappingFuncFor(cases.Context)
	f.Fuzz(func(t *testing.T, in string) {
		if got, want := expansion.Expand(in, port), upstream.Expand(in, orig); got != want {
			t.Fatalf("Expand(%q): port %q, Kubernetes %q", in, got, want)
		}
	})
}
