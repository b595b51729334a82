// Package sandbox runs a real Kubernetes control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) with simulated machines: one
// process per node (package kubelet) and a CSI storage backend (package
// storage). Stopping a node's process is a network partition; continuing it
// is the rejoin; killing it is a machine that never comes back.
//
// All state lives in one directory: PKI, tokens, kubeconfig, PID files, logs,
// etcd data, the audit log and the ground truth. Processes are tracked by PID
// file and stopped by PID.
package sandbox

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/cloud"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/operators"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/sparkrt"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/storage"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// Timings of the sandbox's control plane, shortened from the defaults so a
// partition plays out in seconds. They are the flags changed from their
// defaults; see Up for the full command lines.
const (
	// NodeMonitorGracePeriod: a node without heartbeat for this long turns
	// NotReady/Unknown and is tainted unreachable (default 50s).
	NodeMonitorGracePeriod = 8 * time.Second
	// DefaultTolerationSeconds: pods without their own toleration are evicted
	// this long after the unreachable/not-ready taint (default 300).
	DefaultTolerationSeconds = 10
)

// Heartbeat timing of the simulated kubelets (KubeletConfiguration fields), set so that
// the node lifecycle controller's NodeMonitorGracePeriod sees several renewals: a partitioned
// node turns Unknown within NodeMonitorGracePeriod of its last renewal, and nothing else does.
const (
	// NodeLeaseDurationSeconds: the Lease is renewed every quarter of it, every second
	// (default 40, renewed every 10 s, against the default grace period of 50 s).
	NodeLeaseDurationSeconds = 4
	// NodeStatusUpdateFrequency: how often the kubelet computes its node status (default 10 s):
	// a rejoined node reports Ready, and a starting pod's volume in use, within a second.
	NodeStatusUpdateFrequency = time.Second
	// NodeStatusReportFrequency: an unchanged status is still posted this often. The default,
	// passed explicitly because KubeletConfiguration defaults it to the update frequency when
	// only that is set.
	NodeStatusReportFrequency = 5 * time.Minute
)

// AdminToken authenticates the sandbox's admin (group system:masters).
const AdminToken = "sparkha-sandbox-admin"

// Users are the identities in the sandbox's static token file: token, name,
// uid, groups. RBAC is on, so everyone but the admin needs a binding.
var Users = [][4]string{
	{AdminToken, "sandbox-admin", "1", "system:masters"},
	{"sparkha-sandbox-viewer", "sandbox-viewer", "2", ""},
	{"sparkha-sandbox-oncall", "sandbox-oncall", "3", ""},
}

// Options configure Up.
type Options struct {
	Dir        string   // state directory
	Nodes      []string // node names; default node-1..node-3
	K8sBin     string   // the multi-call control plane binary (test/cmd/k8s)
	SandboxBin string   // the sandbox binary (test/cmd/sandbox), which runs nodes and storage
	// ForceDetach re-enables the attach/detach controller's forced detach after
	// 6 minutes on an unhealthy node. Off by default: it is unsafe for the
	// partition story and hides what the plugin must handle.
	ForceDetach bool
	// Cloud runs the sandbox's cloud (package cloud): the cloud node lifecycle controller,
	// which taints a powered-off machine's node node.cloudprovider.kubernetes.io/shutdown, and
	// a fence-agents-remediation operator with its CRD. Off by default, as on a cluster
	// without a cloud controller manager.
	Cloud bool
	// Operators runs the sandbox's Spark operators (package operators): the Kubeflow and Apache
	// SparkApplication CRDs and a stand-in controller for each. Off by default.
	Operators bool
	// Spark runs the pods whose image is one of the sandbox's Spark images (AddSparkImage) as
	// real processes, each node a network namespace (package sparkrt). Needs root. Off by
	// default: every pod runs on the kubelet's stand-in.
	Spark bool
	Log   io.Writer // progress; default os.Stderr
}

// State is what Up writes to DIR/state.json for later commands.
type State struct {
	APIPort     int      `json:"apiPort"`
	EtcdPort    int      `json:"etcdPort"`
	EtcdPeer    int      `json:"etcdPeerPort"`
	K8sBin      string   `json:"k8sBin"`
	SandboxBin  string   `json:"sandboxBin"`
	Nodes       []string `json:"nodes"`
	ForceDetach bool     `json:"forceDetach"`
	Cloud       bool     `json:"cloud,omitempty"`
	Operators   bool     `json:"operators,omitempty"`
	Spark       bool     `json:"spark,omitempty"`
}

// Sandbox is a running (or stopped) sandbox.
type Sandbox struct {
	Dir   string
	State State
	log   io.Writer
}

// Load reads the sandbox in dir.
func Load(dir string) (*Sandbox, error) {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no sandbox in %s: start one with `make sandbox-up`", dir)
		}
		return nil, err
	}
	s := &Sandbox{Dir: dir, log: os.Stderr}
	if err := json.Unmarshal(b, &s.State); err != nil {
		return nil, fmt.Errorf("reading %s/state.json: %w", dir, err)
	}
	return s, nil
}

// Kubeconfig is the path of the admin kubeconfig.
func (s *Sandbox) Kubeconfig() string { return filepath.Join(s.Dir, "kubeconfig") }

// TruthDir holds the ground truth records, one file per node.
func (s *Sandbox) TruthDir() string { return filepath.Join(s.Dir, "truth") }

// AuditLog is the API server's audit log (every write request).
func (s *Sandbox) AuditLog() string { return filepath.Join(s.Dir, "audit.log") }

// Truth reads the ground truth.
func (s *Sandbox) Truth() ([]truth.Interval, error) { return truth.Read(s.TruthDir()) }

// RESTConfig is the admin's client configuration.
func (s *Sandbox) RESTConfig() (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", s.Kubeconfig())
}

// Client is an admin clientset.
func (s *Sandbox) Client() (kubernetes.Interface, error) {
	cfg, err := s.RESTConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// Dynamic is an admin dynamic client, for the resources of CRDs.
func (s *Sandbox) Dynamic() (dynamic.Interface, error) {
	cfg, err := s.RESTConfig()
	if err != nil {
		return nil, err
	}
	return dynamic.NewForConfig(cfg)
}

func (s *Sandbox) logf(format string, args ...any) {
	fmt.Fprintf(s.log, "sandbox: "+format+"\n", args...)
}

// Up starts a sandbox in opts.Dir and waits until every node is Ready. If a
// sandbox already runs there, Up returns it; if one is partly running, Up
// refuses and says how to clean up; if one crashed entirely, Up starts afresh.
func Up(ctx context.Context, opts Options) (*Sandbox, error) {
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	if len(opts.Nodes) == 0 {
		opts.Nodes = []string{"node-1", "node-2", "node-3"}
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if old, err := Load(dir); err == nil {
		old.log = opts.Log
		alive, dead := old.processes()
		switch {
		case len(dead) == 0 && len(alive) > 0:
			old.logf("already running in %s", dir)
			return old, old.waitReady(ctx)
		case len(alive) > 0:
			return nil, fmt.Errorf("sandbox in %s is partly running (%s alive; %s dead): run `make sandbox-down` (or `sandbox down --dir %s`), then up again",
				dir, strings.Join(alive, ", "), strings.Join(dead, ", "), dir)
		default:
			old.logf("found a stopped sandbox in %s (no process alive): starting afresh", dir)
			if err := os.RemoveAll(dir); err != nil {
				return nil, err
			}
		}
	}
	for _, sub := range []string{"pki", "pids", "logs", "truth"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	s := &Sandbox{Dir: dir, log: opts.Log, State: State{
		APIPort: ports[0], EtcdPort: ports[1], EtcdPeer: ports[2],
		K8sBin: opts.K8sBin, SandboxBin: opts.SandboxBin, Nodes: opts.Nodes, ForceDetach: opts.ForceDetach, Cloud: opts.Cloud, Operators: opts.Operators,
		Spark: opts.Spark,
	}}
	if opts.Spark {
		if why := sparkrt.Supported(); why != "" {
			return nil, errors.New(why)
		}
	}
	if err := s.writeConfig(); err != nil {
		return nil, err
	}
	started := time.Now()
	if err := s.startControlPlane(ctx); err != nil {
		s.Down()
		return nil, err
	}
	if err := s.start("storage", s.State.SandboxBin, "storage", "--dir", dir); err != nil {
		s.Down()
		return nil, err
	}
	if opts.Cloud {
		if err := s.start("cloud", s.State.SandboxBin, "cloud", "--dir", dir); err != nil {
			s.Down()
			return nil, err
		}
	}
	if opts.Spark {
		if err := sparkrt.SetUpFabric(sparkrt.Prefix(dir)); err != nil {
			s.Down()
			return nil, err
		}
	}
	if opts.Operators {
		if err := s.start("operators", s.State.SandboxBin, "operators", "--dir", dir); err != nil {
			s.Down()
			return nil, err
		}
	}
	for i, n := range s.State.Nodes {
		if err := s.startNode(n, i); err != nil {
			s.Down()
			return nil, err
		}
	}
	if err := s.waitReady(ctx); err != nil {
		s.Down()
		return nil, fmt.Errorf("%w (logs in %s/logs)", err, dir)
	}
	s.logf("up in %s with %d nodes after %.1fs; kubeconfig: %s", dir, len(s.State.Nodes), time.Since(started).Seconds(), s.Kubeconfig())
	return s, nil
}

func (s *Sandbox) writeConfig() error {
	if err := writePKI(filepath.Join(s.Dir, "pki")); err != nil {
		return err
	}
	var tokens strings.Builder
	for _, u := range Users {
		fmt.Fprintf(&tokens, "%s,%s,%s,%q\n", u[0], u[1], u[2], u[3])
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "tokens.csv"), []byte(tokens.String()), 0o600); err != nil {
		return err
	}
	// Every write is audited, so tests can prove what was (never) deleted.
	policy := `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`
	if err := os.WriteFile(filepath.Join(s.Dir, "audit-policy.yaml"), []byte(policy), 0o644); err != nil {
		return err
	}
	if err := s.writeKubeconfig(s.Kubeconfig(), "sandbox-admin", AdminToken); err != nil {
		return err
	}
	return s.writeState()
}

// WriteUserKubeconfig writes a kubeconfig for one of Users to path.
func (s *Sandbox) WriteUserKubeconfig(path, user string) error {
	for _, u := range Users {
		if u[1] == user {
			return s.writeKubeconfig(path, user, u[0])
		}
	}
	return fmt.Errorf("no sandbox user %q", user)
}

func (s *Sandbox) writeKubeconfig(path, user, token string) error {
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: sandbox
  cluster:
    server: https://127.0.0.1:%d
    certificate-authority: %s
users:
- name: %s
  user:
    token: %s
contexts:
- name: sandbox
  context:
    cluster: sandbox
    user: %s
    namespace: default
current-context: sandbox
`, s.State.APIPort, filepath.Join(s.Dir, "pki", "ca.crt"), user, token, user)
	return os.WriteFile(path, []byte(kc), 0o600)
}

func (s *Sandbox) startControlPlane(ctx context.Context) error {
	d, st := s.Dir, s.State
	pki := filepath.Join(d, "pki")
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", st.EtcdPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", st.EtcdPeer)
	if err := s.start("etcd", st.K8sBin, "etcd",
		"--name=sandbox", "--data-dir="+filepath.Join(d, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=sandbox="+peerURL,
		// Test data only: durability is not worth the fsync latency on a shared disk.
		"--unsafe-no-fsync",
		"--log-level=warn",
	); err != nil {
		return err
	}
	if err := waitHTTP(ctx, etcdURL+"/health", "", 30*time.Second); err != nil {
		return fmt.Errorf("etcd did not become healthy: %w", err)
	}
	if err := s.start("kube-apiserver", st.K8sBin, "kube-apiserver",
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", st.APIPort),
		// The apiserver refuses to publish a loopback address as the kubernetes Service endpoint.
		"--endpoint-reconciler-type=none",
		"--tls-cert-file="+filepath.Join(pki, "apiserver.crt"), "--tls-private-key-file="+filepath.Join(pki, "apiserver.key"),
		"--client-ca-file="+filepath.Join(pki, "ca.crt"),
		"--token-auth-file="+filepath.Join(d, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+filepath.Join(pki, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(pki, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		fmt.Sprintf("--default-not-ready-toleration-seconds=%d", DefaultTolerationSeconds),
		fmt.Sprintf("--default-unreachable-toleration-seconds=%d", DefaultTolerationSeconds),
		"--audit-policy-file="+filepath.Join(d, "audit-policy.yaml"),
		"--audit-log-path="+s.AuditLog(), "--audit-log-format=json",
		"--cert-dir="+pki,
	); err != nil {
		return err
	}
	if err := waitHTTP(ctx, fmt.Sprintf("https://127.0.0.1:%d/readyz", st.APIPort), AdminToken, 60*time.Second); err != nil {
		return fmt.Errorf("kube-apiserver did not become ready: %w", err)
	}
	kc := s.Kubeconfig()
	if err := s.start("kube-controller-manager", st.K8sBin, "kube-controller-manager",
		"--kubeconfig="+kc, "--leader-elect=false", "--secure-port=0",
		"--service-account-private-key-file="+filepath.Join(pki, "sa.key"),
		"--root-ca-file="+filepath.Join(pki, "ca.crt"),
		"--node-monitor-period=1s",
		fmt.Sprintf("--node-monitor-grace-period=%s", NodeMonitorGracePeriod),
		fmt.Sprintf("--disable-force-detach-on-timeout=%t", !st.ForceDetach),
	); err != nil {
		return err
	}
	return s.start("kube-scheduler", st.K8sBin, "kube-scheduler",
		"--kubeconfig="+kc, "--leader-elect=false", "--secure-port=0")
}

func (s *Sandbox) startNode(name string, index int) error {
	return s.start("node-"+name, s.State.SandboxBin, "node", "--dir", s.Dir, "--name", name, fmt.Sprintf("--index=%d", index),
		"--node-ip", fmt.Sprintf("10.0.0.%d", 10+index), "--pod-subnet", fmt.Sprintf("10.244.%d", 1+index),
		fmt.Sprintf("--node-lease-duration-seconds=%d", NodeLeaseDurationSeconds),
		fmt.Sprintf("--node-status-update-frequency=%s", NodeStatusUpdateFrequency),
		fmt.Sprintf("--node-status-report-frequency=%s", NodeStatusReportFrequency))
}

// Restart starts a killed node's machine again, as after a repair: its
// kubelet registers, heartbeats and finds its pods gone.
func (s *Sandbox) Restart(ctx context.Context, node string) error {
	if _, alive := s.pid("node-" + node); alive {
		return fmt.Errorf("node %q is still running", node)
	}
	for i, n := range s.State.Nodes {
		if n == node {
			if err := s.startNode(node, i); err != nil {
				return err
			}
			return s.waitReady(ctx)
		}
	}
	return fmt.Errorf("node %q is not part of this sandbox (nodes: %s)", node, strings.Join(s.State.Nodes, ", "))
}

// AddNode starts one more simulated node and waits until it is Ready.
func (s *Sandbox) AddNode(ctx context.Context, name string) error {
	if err := s.startNode(name, len(s.State.Nodes)); err != nil {
		return err
	}
	s.State.Nodes = append(s.State.Nodes, name)
	if err := s.writeState(); err != nil {
		return err
	}
	return s.waitReady(ctx)
}

func (s *Sandbox) writeState() error {
	b, err := json.MarshalIndent(s.State, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.Dir, "state.json"), b, 0o644)
}

// start runs one process of the sandbox in its own process group, logging to
// DIR/logs/NAME.log, and records its PID in DIR/pids/NAME.pid.
func (s *Sandbox) start(name, bin string, args ...string) error {
	logf, err := os.OpenFile(filepath.Join(s.Dir, "logs", name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	// Reap it when it exits, so a dead child is not mistaken for a live zombie.
	go cmd.Wait() //nolint:errcheck
	return os.WriteFile(s.pidFile(name), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
}

func (s *Sandbox) pidFile(name string) string { return filepath.Join(s.Dir, "pids", name+".pid") }

// pid returns the PID of the named process if it is alive and ours.
func (s *Sandbox) pid(name string) (int, bool) {
	b, err := os.ReadFile(s.pidFile(name))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, false
	}
	return pid, s.isOurs(pid)
}

// isOurs reports whether pid is a live, non-zombie process started for this
// sandbox (its command line names the state directory), so a reused PID is
// never signalled.
func (s *Sandbox) isOurs(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) > 0 && f[0] == "Z" {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(cmdline), s.Dir)
}

// processes lists the processes with PID files, alive and dead.
func (s *Sandbox) processes() (alive, dead []string) {
	files, _ := filepath.Glob(filepath.Join(s.Dir, "pids", "*.pid"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".pid")
		if _, ok := s.pid(name); ok {
			alive = append(alive, name)
		} else {
			dead = append(dead, name)
		}
	}
	return alive, dead
}

// Down stops every process of the sandbox by PID (continuing partitioned ones
// so they can exit) and removes the PID files. The state directory stays for
// inspection; the next Up starts afresh.
func (s *Sandbox) Down() error {
	files, _ := filepath.Glob(filepath.Join(s.Dir, "pids", "*.pid"))
	var pids []int
	// Nodes and storage first, the control plane last, etcd at the very end.
	order := func(name string) int {
		switch name {
		case "etcd":
			return 3
		case "kube-apiserver":
			return 2
		case "kube-controller-manager", "kube-scheduler":
			return 1
		}
		return 0
	}
	for stage := 0; stage <= 3; stage++ {
		pids = pids[:0]
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".pid")
			if order(name) != stage {
				continue
			}
			if pid, ok := s.pid(name); ok {
				_ = syscall.Kill(pid, syscall.SIGTERM)
				_ = syscall.Kill(pid, syscall.SIGCONT)
				pids = append(pids, pid)
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for _, pid := range pids {
			for s.isOurs(pid) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if s.isOurs(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if s.State.Spark {
		// The nodes' deaths killed their containers; their network namespaces outlive them.
		if err := sparkrt.TearDown(sparkrt.Prefix(s.Dir)); err != nil {
			s.logf("network namespaces: %v", err)
		}
	}
	var left []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".pid")
		if pid, ok := s.pid(name); ok {
			time.Sleep(200 * time.Millisecond)
			if s.isOurs(pid) {
				left = append(left, fmt.Sprintf("%s (pid %d)", name, pid))
				continue
			}
		}
		os.Remove(f)
	}
	if len(left) > 0 {
		return fmt.Errorf("still running after SIGKILL: %s", strings.Join(left, ", "))
	}
	return nil
}

func (s *Sandbox) nodePID(node string) (int, error) {
	pid, ok := s.pid("node-" + node)
	if !ok {
		return 0, fmt.Errorf("node %q is not running in this sandbox (nodes: %s)", node, strings.Join(s.State.Nodes, ", "))
	}
	return pid, nil
}

// Partition cuts node off: its process stops, so it neither heartbeats nor
// acts, while its pods keep running on the machine.
func (s *Sandbox) Partition(node string) error {
	pid, err := s.nodePID(node)
	if err != nil {
		return err
	}
	return syscall.Kill(pid, syscall.SIGSTOP)
}

// Rejoin reconnects a partitioned or isolated node: it heartbeats again and its kubelet
// finishes what the control plane decided meanwhile.
func (s *Sandbox) Rejoin(node string) error {
	pid, err := s.nodePID(node)
	if err != nil {
		return err
	}
	if err := os.Remove(s.IsolatedFile(node)); err != nil && !os.IsNotExist(err) {
		return err
	}
	return syscall.Kill(pid, syscall.SIGCONT)
}

// IsolatedFile is the file whose presence cuts node's machine off from the API server (see
// Isolate).
func (s *Sandbox) IsolatedFile(node string) string {
	return filepath.Join(s.Dir, "isolated", node)
}

// AddSparkImage makes name one of the sandbox's Spark images: a pod whose container has that
// image runs for real on a sandbox started with Options.Spark (see package sparkrt).
func (s *Sandbox) AddSparkImage(name string, img sparkrt.Image) error {
	images, err := sparkrt.Images(s.Dir)
	if err != nil {
		return err
	}
	images[name] = img
	b, err := json.MarshalIndent(images, "", "  ")
	if err != nil {
		return err
	}
	tmp := sparkrt.ImagesFile(s.Dir) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, sparkrt.ImagesFile(s.Dir))
}

// VolumesDir is the storage's data side: a directory per piece of storage, written by the
// machines' running drivers (storage.DataDir, truth.ReadWrites).
func (s *Sandbox) VolumesDir() string { return filepath.Join(s.Dir, "volumes") }

// Writes is the ground truth of storage: every write of a running driver, and every write the
// storage refused.
func (s *Sandbox) Writes() ([]truth.Write, error) { return truth.ReadWrites(s.VolumesDir()) }

// Isolate cuts node's machine off from the API server while everything on it runs on: its
// kubelet neither heartbeats nor learns what the control plane decides (its requests fail as to
// an unreachable network), and its pods keep running and keep writing to whatever storage
// still accepts them. That is a network partition of a machine whose storage path is intact:
// the case in which fencing by the out-of-service taint alone would run two drivers. Rejoin
// reconnects it. (Partition, by contrast, stops the whole machine: nothing on it runs or
// writes until it rejoins.)
func (s *Sandbox) Isolate(node string) error {
	if _, err := s.nodePID(node); err != nil {
		return err
	}
	f := s.IsolatedFile(node)
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return err
	}
	return os.WriteFile(f, nil, 0o644)
}

// RuntimeDownFile is the file whose presence tells node's kubelet that its container runtime
// is down (see RuntimeDown).
func (s *Sandbox) RuntimeDownFile(node string) string {
	return filepath.Join(s.Dir, "runtime-down", node)
}

// RuntimeDown makes node's machine one whose kubelet runs but whose container runtime does
// not answer: the kubelet keeps renewing its Lease and reports Ready=False, and it can neither
// start nor stop containers, so the pods on the machine keep running whatever the API says.
// down=false brings the runtime back.
func (s *Sandbox) RuntimeDown(node string, down bool) error {
	if _, err := s.nodePID(node); err != nil {
		return err
	}
	f := s.RuntimeDownFile(node)
	if !down {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return err
	}
	return os.WriteFile(f, nil, 0o644)
}

// Kill destroys node's machine: its process dies and every pod on it stops
// running. The Node object stays, NotReady, as with a real dead machine.
func (s *Sandbox) Kill(node string) error { return s.PowerOff(node, "sandbox kill") }

// MachineRunning says whether node's machine is powered on: its process lives, running or
// stopped (a partitioned machine is on, only cut off). The sandbox's cloud reports the others
// shut down.
func (s *Sandbox) MachineRunning(node string) bool {
	_, ok := s.pid("node-" + node)
	return ok
}

// PowerOff is Kill, recording in the ground truth who powered the machine off (a fence agent
// of the sandbox's cloud, or the sandbox kill).
func (s *Sandbox) PowerOff(node, by string) error {
	pid, err := s.nodePID(node)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	for s.isOurs(pid) {
		time.Sleep(20 * time.Millisecond)
	}
	rec, err := truth.Open(s.TruthDir(), node)
	if err != nil {
		return err
	}
	defer rec.Close()
	return rec.Record(truth.Entry{Event: truth.MachineDown, Reason: by})
}

// waitReady waits until every running node is Ready and namespaces can run
// pods (the default ServiceAccount and the StorageClass exist).
func (s *Sandbox) waitReady(ctx context.Context) error {
	client, err := s.Client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var last string
	for {
		last = s.notReady(ctx, client)
		if last == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sandbox not ready after 90s: %s", last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (s *Sandbox) notReady(ctx context.Context, client kubernetes.Interface) string {
	if _, err := client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
		return "no default ServiceAccount yet: " + err.Error()
	}
	if _, err := client.StorageV1().StorageClasses().Get(ctx, storage.StorageClassName, metav1.GetOptions{}); err != nil {
		return "no StorageClass yet: " + err.Error()
	}
	if s.State.Cloud {
		dyn, err := s.Dynamic()
		if err != nil {
			return err.Error()
		}
		if _, err := dyn.Resource(cloud.FARResource).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
			return "no FenceAgentsRemediation CRD yet: " + err.Error()
		}
	}
	if s.State.Operators {
		dyn, err := s.Dynamic()
		if err != nil {
			return err.Error()
		}
		for _, r := range []schema.GroupVersionResource{operators.KubeflowResource, operators.ApacheResource} {
			if _, err := dyn.Resource(r).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
				return "no " + r.GroupResource().String() + " CRD yet: " + err.Error()
			}
		}
	}
	for _, n := range s.State.Nodes {
		if _, alive := s.pid("node-" + n); !alive {
			continue
		}
		node, err := client.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
		if err != nil {
			return "node " + n + ": " + err.Error()
		}
		ready := false
		for _, c := range node.Status.Conditions {
			ready = ready || (c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue)
		}
		for _, t := range node.Spec.Taints {
			if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
				ready = false
			}
		}
		if !ready {
			return "node " + n + " not Ready yet"
		}
	}
	return ""
}

func waitHTTP(ctx context.Context, url, token string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		// Only a readiness probe of our own loopback server.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec
	}}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return last
}

func freePorts(n int) ([]int, error) {
	var out []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// Status describes the sandbox's processes in a few lines.
func (s *Sandbox) Status() string {
	alive, dead := s.processes()
	var b strings.Builder
	fmt.Fprintf(&b, "dir:        %s\nkubeconfig: %s\napi server: https://127.0.0.1:%d\n", s.Dir, s.Kubeconfig(), s.State.APIPort)
	fmt.Fprintf(&b, "running:    %s\n", strings.Join(alive, " "))
	if len(dead) > 0 {
		fmt.Fprintf(&b, "stopped:    %s\n", strings.Join(dead, " "))
	}
	for _, n := range s.State.Nodes {
		if pid, ok := s.pid("node-" + n); ok {
			state := "running"
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
				if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && f[0] == "T" {
					state = "partitioned"
				}
			}
			if _, err := os.Stat(s.IsolatedFile(n)); err == nil && state == "running" {
				state = "isolated (cut off from the API server, still running and writing)"
			}
			fmt.Fprintf(&b, "node %-8s %s (pid %d)\n", n, state, pid)
		} else {
			fmt.Fprintf(&b, "node %-8s down\n", n)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
