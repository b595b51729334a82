// Package apiretry retries idempotent API requests that failed on the way or on a busy
// server. client-go itself retries only answers carrying Retry-After and dropped connections,
// not a bare 500 or a timeout; a LIST, a GET, or a write that is safe to repeat (a merge patch,
// an Event with a fixed name) must not fail a command, or leave a step unrecorded, over one of
// those. Conflicts are client-go's retry.RetryOnConflict's business, not this package's.
package apiretry

import (
	"errors"
	"net"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
)

// Backoff paces the tries: three in all, 250 ms and then 500 ms apart.
var Backoff = wait.Backoff{Steps: 3, Duration: 250 * time.Millisecond, Factor: 2}

// Transient reports errors worth another try of an idempotent request: the server's 5xx and
// 429, and timeouts or broken connections on the way. Never a 404: client-go counts one whose
// body is not a Status (the API server's answer for a resource it does not serve, such as a
// CRD's that is not installed) as an unexpected server error too.
func Transient(err error) bool {
	var netErr net.Error
	return !apierrors.IsNotFound(err) && (apierrors.IsInternalError(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err) ||
		(errors.As(err, &netErr) && netErr.Timeout()) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err))
}

// OnTransient runs an idempotent request, again on a Transient error, as Backoff paces it.
func OnTransient(request func() error) error {
	return retry.OnError(Backoff, Transient, request)
}
