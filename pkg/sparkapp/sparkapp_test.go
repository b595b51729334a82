package sparkapp_test

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/sparkapp"
)

// TestAppOfPod names the app of a driver pod of every origin, and where labels disagree.
func TestAppOfPod(t *testing.T) {
	job := func(name string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: name}}
	}
	for _, tt := range []struct {
		name   string
		labels map[string]string
		owners []metav1.OwnerReference
		want   sparkapp.AppKey
	}{
		{"sparkha Job", map[string]string{"spark-role": "driver", "spark-app-name": "clicks", "app.kubernetes.io/managed-by": "kubectl-sparkha"},
			job("clicks"), sparkapp.AppKey{Namespace: "ns", Name: "clicks", Kind: sparkapp.KindSparkhaJob, Job: "clicks"}},
		{"another Job", map[string]string{"spark-role": "driver", "spark-app-name": "etl"},
			job("etl"), sparkapp.AppKey{Namespace: "ns", Name: "etl", Kind: sparkapp.KindJob, Job: "etl"}},
		{"a Job whose pods' app name disagrees: the Job names it", map[string]string{"spark-role": "driver", "spark-app-name": "sessions"},
			job("sessionize"), sparkapp.AppKey{Namespace: "ns", Name: "sessionize", Kind: sparkapp.KindJob, Job: "sessionize"}},
		{"an operator pod owned by a Job: the Job names it", map[string]string{"spark-role": "driver", "sparkoperator.k8s.io/app-name": "op"},
			job("wrapper"), sparkapp.AppKey{Namespace: "ns", Name: "wrapper", Kind: sparkapp.KindJob, Job: "wrapper"}},
		{"Spark operator", map[string]string{"spark-role": "driver", "spark-app-name": "pi", "sparkoperator.k8s.io/app-name": "spark-pi"},
			nil, sparkapp.AppKey{Namespace: "ns", Name: "spark-pi", Kind: sparkapp.KindSparkApplication}},
		{"Apache's Spark operator: its app name label, not Spark's", map[string]string{"spark-role": "driver", "spark-app-name": "pi", "spark.operator/spark-app-name": "spark-pi-0"},
			nil, sparkapp.AppKey{Namespace: "ns", Name: "spark-pi-0", Kind: sparkapp.KindSparkApplication}},
		{"spark-submit", map[string]string{"spark-role": "driver", "spark-app-name": "pi", "spark-app-selector": "spark-123"},
			nil, sparkapp.AppKey{Namespace: "ns", Name: "pi", Kind: sparkapp.KindPod}},
		{"spark-submit before Spark labelled the name", map[string]string{"spark-role": "driver", "spark-app-selector": "spark-123"},
			nil, sparkapp.AppKey{Namespace: "ns", Name: "spark-123", Kind: sparkapp.KindPod}},
		{"no Spark name label at all", map[string]string{"spark-role": "driver"},
			nil, sparkapp.AppKey{Namespace: "ns", Name: "pi-driver", Kind: sparkapp.KindPod}},
		{"owned by something else than a Job", map[string]string{"spark-role": "driver", "spark-app-name": "pi"},
			[]metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs"}}, sparkapp.AppKey{Namespace: "ns", Name: "pi", Kind: sparkapp.KindPod}},
	} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: "ns", Labels: tt.labels, OwnerReferences: tt.owners}}
		if got := sparkapp.AppOfPod(pod); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestAppOfJob: a Job is an app when sparkha made it or its pods are Spark drivers; the Job
// names it, whatever its template's labels say, as for its pods (TestAppOfPod).
func TestAppOfJob(t *testing.T) {
	for _, tt := range []struct {
		name     string
		labels   map[string]string
		template map[string]string
		want     sparkapp.AppKey
		ok       bool
	}{
		{"sparkha", map[string]string{"app.kubernetes.io/managed-by": "kubectl-sparkha"}, map[string]string{"spark-role": "driver", "spark-app-name": "clicks"},
			sparkapp.AppKey{Namespace: "ns", Name: "clicks", Kind: sparkapp.KindSparkhaJob, Job: "clicks"}, true},
		{"driver template, other app name", nil, map[string]string{"spark-role": "driver", "spark-app-name": "sessions"},
			sparkapp.AppKey{Namespace: "ns", Name: "clicks", Kind: sparkapp.KindJob, Job: "clicks"}, true},
		{"not a driver Job", nil, map[string]string{"app": "backup"}, sparkapp.AppKey{}, false},
	} {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "clicks", Namespace: "ns", Labels: tt.labels},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: tt.template}}}}
		if got, ok := sparkapp.AppOfJob(j); got != tt.want || ok != tt.ok {
			t.Errorf("%s: %+v %t, want %+v %t", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDriverAppID(t *testing.T) {
	sparkha := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "u-1", Labels: map[string]string{
		"app.kubernetes.io/managed-by": "kubectl-sparkha", "spark-app-selector": "spark-submitted"}}}
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "u-2", Labels: map[string]string{"spark-app-selector": "spark-abc"}}}
	if got := sparkapp.DriverAppID(sparkha); got != "spark-u-1" {
		t.Errorf("sparkha driver: %q, want the generation's spark-u-1", got)
	}
	if got := sparkapp.DriverAppID(other); got != "spark-abc" {
		t.Errorf("spark-submit driver: %q, want its label spark-abc", got)
	}
}
