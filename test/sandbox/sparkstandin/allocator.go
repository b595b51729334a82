package sparkstandin

import (
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// BatchDelay is spark.kubernetes.allocation.batch.delay's default: the
// allocator reacts to pod snapshots at most this often.
const BatchDelay = time.Second

// podCreationTimeout is max(5 × batch delay, spark.kubernetes.allocation.executor.timeout = 600s).
const podCreationTimeout = 600 * time.Second

// Allocator is one driver run's ExecutorPodsAllocator (default resource
// profile, no dynamic allocation).
type Allocator struct {
	Driver *Driver
	// lastID is EXECUTOR_ID_COUNTER: ids start at 1 and are never reused.
	lastID int
	// newlyCreated are executors requested but not yet seen in a snapshot.
	newlyCreated map[int]time.Time
	last         time.Time
}

// NewAllocator starts the allocator of a driver run.
func NewAllocator(d *Driver) *Allocator {
	return &Allocator{Driver: d, newlyCreated: map[int]time.Time{}}
}

// state is ExecutorPodsSnapshot.toState, reduced to what the allocator counts.
func state(pod *corev1.Pod) string {
	phase := pod.Status.Phase
	// isDeleted: a deletion timestamp counts unless the pod still reports running.
	if pod.DeletionTimestamp != nil && phase != corev1.PodRunning {
		return "deleted"
	}
	switch phase {
	case corev1.PodRunning:
		return "running"
	case corev1.PodPending, "":
		return "pending"
	}
	return "terminal"
}

// Round is one onNewSnapshots: execs are the executor pods of the cluster as
// the driver's watch shows them. It returns the ids of the executors to
// create now, each already counted as requested (call Created once it is).
// It returns nothing more often than BatchDelay.
func (a *Allocator) Round(execs []*corev1.Pod, now time.Time) []int {
	if now.Sub(a.last) < BatchDelay {
		return nil
	}
	a.last = now
	running, pending := 0, 0
	for _, p := range execs {
		if p.Labels[LabelAppID] != a.Driver.AppID || p.Labels[LabelRole] != RoleExecutor || p.Namespace != a.Driver.Pod.Namespace {
			continue
		}
		if id, err := strconv.Atoi(p.Labels[LabelExecID]); err == nil {
			delete(a.newlyCreated, id)
		}
		switch state(p) {
		case "running":
			running++
		case "pending":
			pending++
		}
	}
	for id, t := range a.newlyCreated {
		if now.Sub(t) > podCreationTimeout {
			delete(a.newlyCreated, id)
		}
	}
	count := running + pending + len(a.newlyCreated)
	target := a.Driver.Instances()
	if len(a.newlyCreated) > 0 || count >= target {
		return nil
	}
	n := min(target-count, a.Driver.BatchSize())
	ids := make([]int, n)
	for i := range ids {
		a.lastID++
		ids[i] = a.lastID
	}
	return ids
}

// Created records that executor id's pod was created.
func (a *Allocator) Created(id int, now time.Time) { a.newlyCreated[id] = now }
