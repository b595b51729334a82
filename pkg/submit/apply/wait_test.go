package apply

import (
	"bytes"
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

func TestWaitForDriver(t *testing.T) {
	app := resolveT(t, submit.Input{})
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "clicks-abcde", Namespace: "streaming", Labels: submit.Build(app, "").Job.Spec.Template.Labels},
		Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}},
	}
	client := fake.NewClientset(pod)
	go func() {
		time.Sleep(200 * time.Millisecond)
		p := pod.DeepCopy()
		p.Spec.NodeName = "node-a"
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning}
		_, _ = client.CoreV1().Pods("streaming").Update(context.Background(), p, metav1.UpdateOptions{})
	}()
	var progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := WaitForDriver(ctx, client, app.Namespace, app.Name, app.DriverSelector(), &progress)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "clicks-abcde" {
		t.Errorf("running pod %s", got.Name)
	}
	want := "driver pod clicks-abcde: Pending (ContainerCreating)\ndriver pod clicks-abcde: Running on node node-a\n"
	if progress.String() != want {
		t.Errorf("progress\n got: %q\nwant: %q", progress.String(), want)
	}
}

func TestWaitForDriverTimesOut(t *testing.T) {
	app := resolveT(t, submit.Input{})
	client := fake.NewClientset()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := WaitForDriver(ctx, client, app.Namespace, app.Name, app.DriverSelector(), &bytes.Buffer{})
	want := "timed out waiting for a driver pod of job/clicks to be Running (no driver pod yet); the app keeps running, check it with kubectl get pods -n streaming -l spark-role=driver,sparkha.io/app-id=spark-0123456789abcdef0123456789abcdef"
	if err == nil || err.Error() != want {
		t.Errorf("error\n got: %v\nwant: %s", err, want)
	}
}
