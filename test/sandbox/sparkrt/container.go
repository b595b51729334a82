package sparkrt

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// The image's entrypoint, vendored unchanged from apache/spark-docker (commit 7f2e1f0,
// 4.1.1/scala2.13-java17-ubuntu/entrypoint.sh; every entrypoint.sh there, 3.5.0 to
// 4.2.0-preview5, is the same file): its `driver` branch runs spark-submit in client mode
// inside the pod, its `executor` branch KubernetesExecutorBackend (CoarseGrained before 3.4).
//
//go:embed entrypoint.sh
var entrypoint []byte

// container.sh lays the image's file system out inside the pod's mount namespace and execs the
// entrypoint as the image's user.
//
//go:embed container.sh
var containerScript []byte

// Image is what the sandbox knows of an image: the Spark distribution at its /opt/spark and
// the directory at its /opt/app (the application's jar), if any.
type Image struct {
	SparkHome string `json:"sparkHome"`
	AppDir    string `json:"appDir,omitempty"`
}

// ImagesFile lists the sandbox's Spark images by name (a JSON object of Image); a pod whose
// image is listed runs for real, any other on the kubelet's stand-in.
func ImagesFile(dir string) string { return filepath.Join(dir, "images.json") }

// Images reads the sandbox's Spark images.
func Images(dir string) (map[string]Image, error) {
	b, err := os.ReadFile(ImagesFile(dir))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Image{}, nil
	}
	if err != nil {
		return nil, err
	}
	images := map[string]Image{}
	if err := json.Unmarshal(b, &images); err != nil {
		return nil, fmt.Errorf("%s: %w", ImagesFile(dir), err)
	}
	return images, nil
}

// Runtime runs one machine's Spark containers.
type Runtime struct {
	Dir    string // the sandbox's directory
	Node   string
	Index  int    // the node's place in the sandbox: its uplink's name
	NodeIP string // its address on the fabric
	Subnet string // the first three octets of its pod IPs
	Client kubernetes.Interface
	Log    *log.Logger
	// InitCommand runs Init with the arguments that follow it: PID 1 of every container.
	InitCommand []string

	prefix string
	spawn  chan func()
}

// Start sets the machine's network up on the sandbox's fabric (SetUpFabric) and starts its API
// proxy, which runs until ctx ends.
func (r *Runtime) Start(ctx context.Context, apiAddr, isolatedFile string) error {
	if why := Supported(); why != "" {
		return errors.New(why)
	}
	r.prefix = Prefix(r.Dir)
	if !nsExists(fabricNS(r.prefix)) {
		return fmt.Errorf("no network namespace %s: the sandbox's up creates it (sparkrt.SetUpFabric)", fabricNS(r.prefix))
	}
	if err := setUpNode(r.prefix, r.Node, r.Index, r.NodeIP, r.Subnet); err != nil {
		return err
	}
	if err := serveAPI(ctx, NodeNS(r.prefix, r.Node), apiAddr, isolatedFile, r.Log); err != nil {
		return fmt.Errorf("api proxy: %w", err)
	}
	// Containers are started from one OS thread that never exits: Pdeathsig fires when the
	// thread that forked the child exits, not only when the process dies.
	r.spawn = make(chan func())
	go func() {
		runtime.LockOSThread()
		for f := range r.spawn {
			f()
		}
	}()
	return nil
}

// Volume is a pod volume backed by the storage layer: the directory every node mounting the
// same storage shares.
type Volume struct {
	Dir string
}

// Process is a running container: PID 1 of its PID namespace is Init, its child the image's
// entrypoint, which execs into the JVM.
type Process struct {
	cmd   *exec.Cmd
	done  chan struct{}
	code  int32
	ended time.Time
	Log   string // the container's output
}

// Done is closed once the container ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited says whether the container ended, with its exit code (128+N for a signal) and when.
func (p *Process) Exited() (code int32, at time.Time, exited bool) {
	select {
	case <-p.done:
		return p.code, p.ended, true
	default:
		return 0, time.Time{}, false
	}
}

// Term sends SIGTERM to the container's PID 1, as the runtime's StopContainer does; Init passes
// it to the JVM, which runs Spark's shutdown hooks and exits 143.
func (p *Process) Term() {
	if pid := p.pid1(); pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
}

// Kill ends every process of the container at once: unshare's child (PID 1 of the container's
// PID namespace) has SIGKILL as its parent-death signal, and the kernel kills the rest of the
// namespace with it.
func (p *Process) Kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

// pid1 is unshare's only child: PID 1 of the container's PID namespace.
func (p *Process) pid1() int {
	if p.cmd.Process == nil {
		return 0
	}
	pid, _ := firstChild(p.cmd.Process.Pid)
	return pid
}

// firstChild is the first child of process pid, 0 if it has none (yet).
func firstChild(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, nil
	}
	child, _ := strconv.Atoi(f[0])
	return child, nil
}

// LogPath is where a container's output goes in the sandbox in dir, as the kubelet keeps it in
// /var/log/pods.
func LogPath(dir string, pod *corev1.Pod) string {
	return filepath.Join(dir, "logs", "pods", fmt.Sprintf("%s_%s_%s.log", pod.Namespace, pod.Name, pod.UID))
}

// PodSpec is what Run needs besides the pod: its IP, its node's, its claims' directories,
// and the ConfigMaps and Secrets its volumes name.
type PodSpec struct {
	Pod        *corev1.Pod
	Image      Image
	IP, HostIP string
	Claims     map[string]Volume // by pod volume name
	ConfigMap  func(namespace, name string) (*corev1.ConfigMap, error)
	Secret     func(namespace, name string) (*corev1.Secret, error)
}

// Run starts the pod's first container. An error means it could not start, as a
// CreateContainerError; the pod's namespace is then gone again.
func (r *Runtime) Run(ctx context.Context, s PodSpec) (*Process, error) {
	pod := s.Pod
	dir := filepath.Join(r.Dir, "pods", r.Node, string(pod.UID))
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := r.stage(ctx, dir, s); err != nil {
		return nil, err
	}
	netns, err := podNetwork(r.prefix, r.Node, r.Subnet, s.IP)
	if err != nil {
		return nil, err
	}
	logPath := LogPath(r.Dir, pod)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	p := &Process{done: make(chan struct{}), Log: logPath}
	argv := append([]string{"netns", "exec", netns,
		"unshare", "--mount", "--uts", "--pid", "--fork", "--kill-child", "--propagation", "private"}, r.InitCommand...)
	argv = append(argv, filepath.Join(dir, "container.sh"), s.Image.SparkHome, s.Image.AppDir, filepath.Join(dir, "entrypoint.sh"), dir)
	p.cmd = exec.Command("ip", argv...)
	p.cmd.Stdout, p.cmd.Stderr = out, out
	// The node's death is the container's: the kernel kills unshare with the node's process.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error)
	r.spawn <- func() { started <- p.cmd.Start() }
	if err := <-started; err != nil {
		out.Close()
		_ = ip("netns", "del", netns)
		return nil, err
	}
	who := Container{Node: r.Node, Namespace: pod.Namespace, Pod: pod.Name, UID: string(pod.UID), Role: pod.Labels["spark-role"], Mounts: map[string]string{}}
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		if claim, ok := s.Claims[m.Name]; ok {
			who.Mounts[m.MountPath] = filepath.Join(claim.Dir, m.SubPath)
		}
	}
	for _, o := range pod.OwnerReferences {
		if o.Kind == "Pod" && ptr.Deref(o.Controller, false) {
			who.Driver = string(o.UID) // Spark's executors are owned by their driver pod
		}
	}
	if err := r.register(p.cmd.Process.Pid, who); err != nil {
		// Its writes would go unseen by the ground truth: better not run it.
		p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		out.Close()
		_ = ip("netns", "del", netns)
		return nil, fmt.Errorf("registering the container: %w", err)
	}
	go func() {
		err := p.cmd.Wait()
		out.Close()
		p.ended = time.Now()
		p.code = exitCode(p.cmd.ProcessState, err)
		// The CNI DEL: the pod's network goes with its last container.
		_ = ip("netns", "del", netns)
		close(p.done)
	}()
	return p, nil
}

// exitCode is what the runtime reports: the exit status, or 128+N for a signal.
func exitCode(ps *os.ProcessState, err error) int32 {
	if ps == nil {
		return 128
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	return int32(ps.ExitCode())
}

// stage writes what the container sees: its volumes as the kubelet's volume plugins lay them
// out, the hosts file the kubelet manages, its environment and args, the scripts.
func (r *Runtime) stage(ctx context.Context, dir string, s PodSpec) error {
	pod := s.Pod
	if len(pod.Spec.Containers) == 0 {
		return errors.New("the pod has no container")
	}
	c := &pod.Spec.Containers[0]
	vols := filepath.Join(dir, "volumes")
	if err := os.MkdirAll(vols, 0o755); err != nil {
		return err
	}
	staged := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		d := filepath.Join(vols, v.Name)
		if claim, ok := s.Claims[v.Name]; ok {
			// The storage's directory, shared by every machine that mounts the same storage;
			// open to the image's user as a volume with fsGroup would be.
			if err := os.MkdirAll(claim.Dir, 0o777); err != nil {
				return err
			}
			_ = os.Chmod(claim.Dir, 0o777)
			staged[v.Name] = claim.Dir
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		staged[v.Name] = d
		var err error
		switch {
		case v.ConfigMap != nil:
			err = r.configMapFiles(d, pod.Namespace, v.ConfigMap, s.ConfigMap)
		case v.Secret != nil:
			err = r.secretFiles(d, pod.Namespace, v.Secret, s.Secret)
		case v.EmptyDir != nil:
			err = os.Chmod(d, 0o777) // pkg/volume/emptydir: perm 0777
		case v.Projected != nil:
			err = r.projectedFiles(ctx, d, pod, v.Projected, s.ConfigMap)
		default:
			err = fmt.Errorf("volume %s: the sandbox does not set this kind of volume up", v.Name)
		}
		if err != nil {
			return err
		}
	}
	var mounts strings.Builder
	for _, m := range c.VolumeMounts {
		src, ok := staged[m.Name]
		if !ok {
			return fmt.Errorf("volumeMount %s: no volume of that name", m.Name)
		}
		if m.SubPath != "" {
			src = filepath.Join(src, m.SubPath)
			if err := os.MkdirAll(src, 0o777); err != nil {
				return err
			}
		}
		ro := "rw"
		if m.ReadOnly {
			ro = "ro"
		}
		fmt.Fprintf(&mounts, "%s\t%s\t%s\n", src, m.MountPath, ro)
	}
	env, args, err := environment(pod, c, s.IP, s.HostIP)
	if err != nil {
		return err
	}
	hostname := pod.Name
	if pod.Spec.Hostname != "" {
		hostname = pod.Spec.Hostname
	}
	// pkg/kubelet/kubelet_pods.go managedHostsFileContent, plus kubernetes.default.svc, which
	// cluster DNS answers on a cluster.
	hosts := fmt.Sprintf("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n"+
		"%s\tkubernetes.default.svc.cluster.local kubernetes.default.svc kubernetes.default kubernetes\n", s.IP, hostname, ServiceIP)
	for name, content := range map[string][]byte{
		"mounts":   []byte(mounts.String()),
		"env":      nulJoined(env),
		"args":     nulJoined(args),
		"hosts":    []byte(hosts),
		"hostname": []byte(hostname + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "entrypoint.sh"), entrypoint, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "container.sh"), containerScript, 0o755)
}

func nulJoined(ss []string) []byte {
	var b []byte
	for _, s := range ss {
		b = append(append(b, s...), 0)
	}
	return b
}

// keyToPath writes data's keys as files, or the items' paths when given, with the volume's
// default mode (0644), as pkg/volume/configmap and pkg/volume/secret do.
func keyToPath(dir string, data map[string][]byte, items []corev1.KeyToPath, mode *int32) error {
	perm := os.FileMode(ptr.Deref(mode, 0o644))
	if len(items) == 0 {
		for k := range data {
			items = append(items, corev1.KeyToPath{Key: k, Path: k})
		}
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return fmt.Errorf("key %s not found", it.Key)
		}
		p := filepath.Join(dir, it.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		m := perm
		if it.Mode != nil {
			m = os.FileMode(*it.Mode)
		}
		if err := os.WriteFile(p, v, m); err != nil {
			return err
		}
	}
	return nil
}

func configMapData(cm *corev1.ConfigMap) map[string][]byte {
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return data
}

func (r *Runtime) configMapFiles(dir, ns string, v *corev1.ConfigMapVolumeSource, get func(string, string) (*corev1.ConfigMap, error)) error {
	cm, err := get(ns, v.Name)
	if err != nil {
		if ptr.Deref(v.Optional, false) {
			return nil
		}
		return fmt.Errorf("configmap %q: %w", v.Name, err)
	}
	return keyToPath(dir, configMapData(cm), v.Items, v.DefaultMode)
}

func (r *Runtime) secretFiles(dir, ns string, v *corev1.SecretVolumeSource, get func(string, string) (*corev1.Secret, error)) error {
	sec, err := get(ns, v.SecretName)
	if err != nil {
		if ptr.Deref(v.Optional, false) {
			return nil
		}
		return fmt.Errorf("secret %q: %w", v.SecretName, err)
	}
	return keyToPath(dir, sec.Data, v.Items, v.DefaultMode)
}

// projectedFiles is pkg/volume/projected for the service-account volume the ServiceAccount
// admission plugin adds: a token the kubelet requests bound to the pod (pkg/kubelet/token),
// kube-root-ca.crt's ca.crt and the namespace from the downward API.
func (r *Runtime) projectedFiles(ctx context.Context, dir string, pod *corev1.Pod, v *corev1.ProjectedVolumeSource, getCM func(string, string) (*corev1.ConfigMap, error)) error {
	for _, src := range v.Sources {
		switch {
		case src.ServiceAccountToken != nil:
			sa := pod.Spec.ServiceAccountName
			if sa == "" {
				sa = "default"
			}
			tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
				Audiences:         nil,
				ExpirationSeconds: src.ServiceAccountToken.ExpirationSeconds,
				BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
			}}
			if a := src.ServiceAccountToken.Audience; a != "" {
				tr.Spec.Audiences = []string{a}
			}
			tok, err := r.Client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, tr, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("token for service account %s: %w", sa, err)
			}
			if err := os.WriteFile(filepath.Join(dir, src.ServiceAccountToken.Path), []byte(tok.Status.Token), 0o644); err != nil {
				return err
			}
		case src.ConfigMap != nil:
			if err := r.configMapFiles(dir, pod.Namespace, &corev1.ConfigMapVolumeSource{LocalObjectReference: src.ConfigMap.LocalObjectReference,
				Items: src.ConfigMap.Items, Optional: src.ConfigMap.Optional}, getCM); err != nil {
				return err
			}
		case src.DownwardAPI != nil:
			for _, it := range src.DownwardAPI.Items {
				if it.FieldRef == nil {
					return fmt.Errorf("downwardAPI %s: only fieldRefs are resolved by the sandbox", it.Path)
				}
				val, err := fieldValue(pod, it.FieldRef.FieldPath, "", "")
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, it.Path), []byte(val), 0o644); err != nil {
					return err
				}
			}
		default:
			return errors.New("projected volume: a source the sandbox does not set up")
		}
	}
	return nil
}
