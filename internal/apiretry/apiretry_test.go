package apiretry_test

import (
	"errors"
	"net/http"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/apiretry"
)

// TestTransient: a 404 without a Status body, as the API server answers for a resource it does
// not serve, is final however client-go classes it; a 500 of the same shape is worth a retry.
func TestTransient(t *testing.T) {
	gr := schema.GroupResource{Group: "fence-agents-remediation.medik8s.io", Resource: "fenceagentsremediations"}
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"404 page not found", apierrors.NewGenericServerResponse(http.StatusNotFound, "get", gr, "", "404 page not found", 0, true), false},
		{"500 with a plain body", apierrors.NewGenericServerResponse(http.StatusInternalServerError, "get", gr, "", "boom", 0, true), true},
		{"429", apierrors.NewTooManyRequests("slow down", 1), true},
		{"forbidden", apierrors.NewForbidden(gr, "", errors.New("no")), false},
	} {
		if got := apiretry.Transient(tt.err); got != tt.want {
			t.Errorf("%s: transient %t, want %t", tt.name, got, tt.want)
		}
	}
}
