// Command sandbox runs the kubectl-sparkha test cluster: a real control plane
// with simulated machines. See test/README.md.
//
//	sandbox up [--nodes N] [--force-detach] [--cloud] [--operators] [--spark]   start (or find) the sandbox
//	sandbox down                               stop every process by PID
//	sandbox status                             processes, nodes, kubeconfig
//	sandbox partition NODE | rejoin NODE | kill NODE | restart NODE
//	sandbox add-node NODE
//	sandbox truth                              when each pod really ran
//
// The state directory is --dir, default $SPARKHA_SANDBOX_DIR or
// $TMPDIR/sparkha-sandbox. `up` needs the control plane binary built by
// test/hack/build-control-plane.sh (--k8s-bin or $SANDBOX_K8S_BIN).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/cloud"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/kubelet"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/operators"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/sparkrt"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/storage"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// usage is what --help, -h and help print on stdout.
const usage = `usage: sandbox COMMAND [--dir DIR] [flags]

Runs the kubectl-sparkha test cluster: a real control plane with simulated machines
(see test/README.md; make sandbox-up and make sandbox-down run it for you).

Commands:
  up [--nodes N] [--force-detach] [--cloud] [--operators] [--spark] [--k8s-bin BIN]   start (or find) the sandbox; prints export KUBECONFIG=...
  down                                        stop every process by PID
  status                                      processes, nodes, kubeconfig
  partition NODE | rejoin NODE                freeze a machine (no heartbeat, nothing on it acts), reconnect it
  isolate NODE                                cut a machine off from the API server; its pods run and write on (rejoin reconnects)
  kill NODE | restart NODE                    the machine dies with its pods; it starts again
  add-node NODE                               one more machine
  spark-image IMAGE SPARK_HOME [APP_DIR]      pods of IMAGE run Spark for real (a sandbox up with --spark): SPARK_HOME
                                              at /opt/spark (make spark-dist fetches one), APP_DIR at /opt/app
  checkpoint NAMESPACE/CLAIM                  what a streaming query left on a claim (real Spark): its committed batches, and
                                              whether its sink's windows lost or repeated a row (test/e2e/testdata/spark)
  truth                                       when each pod really ran, and any overlap

Flags:
`

// helpOut receives the usage (tests replace it).
var helpOut io.Writer = os.Stdout

func main() {
	if len(os.Args) > 1 && os.Args[1] == "container-init" {
		// PID 1 of a real Spark container (sparkrt.Init); not a command for people.
		os.Exit(sparkrt.Init(os.Args[2:]))
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

func defaultDir() string {
	if d := os.Getenv("SPARKHA_SANDBOX_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "sparkha-sandbox")
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: sandbox up|down|status|partition NODE|isolate NODE|rejoin NODE|kill NODE|restart NODE|add-node NODE|truth [--dir DIR] (sandbox --help says more)")
	}
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	// Parse errors are returned (main prints them); the usage goes to stdout on request only.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	printUsage := func() {
		fs.SetOutput(helpOut)
		fmt.Fprint(helpOut, usage)
		fs.PrintDefaults()
	}
	dir := fs.String("dir", defaultDir(), "state directory")
	nodes := fs.Int("nodes", 3, "number of simulated nodes (up)")
	forceDetach := fs.Bool("force-detach", false, "re-enable forced detach after 6m on unhealthy nodes (up)")
	withCloud := fs.Bool("cloud", false, "run the sandbox's cloud: the cloud node lifecycle controller and a fence-agents-remediation operator (up)")
	withSpark := fs.Bool("spark", false, "run pods whose image is one of the sandbox's Spark images as real processes, each node a network namespace; needs root (up)")
	index := fs.Int("index", 0, "the node's place in the sandbox (node)")
	withOperators := fs.Bool("operators", false, "run the sandbox's Spark operators: the Kubeflow and Apache SparkApplication CRDs and their stand-in controllers (up)")
	k8sBin := fs.String("k8s-bin", os.Getenv("SANDBOX_K8S_BIN"), "control plane binary (up)")
	name := fs.String("name", "", "node name (node)")
	nodeIP := fs.String("node-ip", "10.0.0.10", "node address (node)")
	podSubnet := fs.String("pod-subnet", "10.244.1", "pod IP prefix (node)")
	// KubeletConfiguration's heartbeat fields; 0 takes v1.37's defaults, as the kubelet does.
	var beat heartbeat
	fs.Var(int32Value{&beat.leaseSeconds}, "node-lease-duration-seconds", "nodeLeaseDurationSeconds: the Lease is renewed every quarter of it (node; default 40)")
	fs.DurationVar(&beat.update, "node-status-update-frequency", 0, "nodeStatusUpdateFrequency: how often the node status is computed (node; default 10s)")
	fs.DurationVar(&beat.report, "node-status-report-frequency", 0, "nodeStatusReportFrequency: an unchanged node status is posted this often (node; default 5m, or the update frequency if only that is set)")
	// Flags may come anywhere, as in `sandbox --dir D partition node-1 --nodes 2`.
	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printUsage()
				return nil
			}
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(positional) == 0 {
		return fmt.Errorf("no command: want up, down, status, partition, isolate, rejoin, kill, restart, add-node or truth")
	}
	verb, positional := positional[0], positional[1:]
	if verb == "help" {
		printUsage()
		return nil
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	arg := func() (string, error) {
		if len(positional) != 1 {
			return "", fmt.Errorf("%s needs one NODE argument", verb)
		}
		return positional[0], nil
	}
	switch verb {
	case "up":
		if *k8sBin == "" {
			return fmt.Errorf("no control plane binary: pass --k8s-bin or set SANDBOX_K8S_BIN (make sandbox-up does)")
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		var names []string
		for i := 1; i <= *nodes; i++ {
			names = append(names, fmt.Sprintf("node-%d", i))
		}
		start := time.Now()
		s, err := sandbox.Up(ctx, sandbox.Options{Dir: *dir, Nodes: names, K8sBin: *k8sBin, SandboxBin: self, ForceDetach: *forceDetach, Cloud: *withCloud, Operators: *withOperators, Spark: *withSpark})
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "sandbox: ready after %.1fs\n", time.Since(start).Seconds())
		fmt.Printf("export KUBECONFIG=%s\n", s.Kubeconfig())
		return nil
	case "down":
		s, err := sandbox.Load(*dir)
		if err != nil {
			return err
		}
		if err := s.Down(); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "sandbox: stopped; state kept in %s\n", *dir)
		return nil
	case "status":
		s, err := sandbox.Load(*dir)
		if err != nil {
			return err
		}
		fmt.Println(s.Status())
		return nil
	case "partition", "isolate", "rejoin", "kill", "restart":
		node, err := arg()
		if err != nil {
			return err
		}
		s, err := sandbox.Load(*dir)
		if err != nil {
			return err
		}
		restart := func(node string) error { return s.Restart(ctx, node) }
		act := map[string]func(string) error{"partition": s.Partition, "isolate": s.Isolate, "rejoin": s.Rejoin, "kill": s.Kill, "restart": restart}[verb]
		if err := act(node); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "sandbox: %s %s at %s\n", verb, node, time.Now().Format("15:04:05"))
		return nil
	case "add-node":
		node, err := arg()
		if err != nil {
			return err
		}
		s, err := sandbox.Load(*dir)
		if err != nil {
			return err
		}
		return s.AddNode(ctx, node)
	case "spark-image":
		if len(positional) < 2 || len(positional) > 3 {
			return fmt.Errorf("spark-image needs IMAGE SPARK_HOME [APP_DIR]")
		}
		s, err := sandbox.Load(*dir)
		if err != nil {
			return err
		}
		if !s.State.Spark {
			return fmt.Errorf("the sandbox in %s runs no real Spark: start it with up --spark (make sandbox-up SPARK=1)", *dir)
		}
		img := sparkrt.Image{SparkHome: positional[1]}
		if len(positional) == 3 {
			img.AppDir = positional[2]
		}
		for _, d := range []string{img.SparkHome, img.AppDir} {
			if d == "" {
				continue
			}
			if st, err := os.Stat(d); err != nil || !st.IsDir() {
				return fmt.Errorf("spark-image: %s is not a directory", d)
			}
		}
		if _, err := os.Stat(filepath.Join(img.SparkHome, "bin", "spark-submit")); err != nil {
			return fmt.Errorf("spark-image: %s has no bin/spark-submit: give a Spark distribution (make spark-dist prints them)", img.SparkHome)
		}
		return s.AddSparkImage(positional[0], img)
	case "checkpoint":
		if len(positional) != 1 || !strings.Contains(positional[0], "/") {
			return fmt.Errorf("checkpoint needs NAMESPACE/CLAIM")
		}
		s, err := sandbox.Load(*dir)
		if err != nil {
			return err
		}
		return printCheckpoint(ctx, s, positional[0])
	case "truth":
		ivs, err := truth.Read(filepath.Join(*dir, "truth"))
		if err != nil {
			return err
		}
		writes, err := truth.ReadWrites(filepath.Join(*dir, "volumes"))
		if err != nil {
			return err
		}
		for _, iv := range ivs {
			fmt.Println(iv)
		}
		// Two drivers of one app at once; pods of different apps run together all the time.
		// Executors run beside their driver by design: overlaps are the drivers'.
		byApp := truth.OverlapsByApp(truth.Filter(ivs, func(i truth.Interval) bool { return i.Role != "executor" }))
		apps := make([]string, 0, len(byApp))
		for app := range byApp {
			apps = append(apps, app)
		}
		sort.Strings(apps)
		for _, app := range apps {
			for _, o := range byApp[app] {
				fmt.Printf("OVERLAP of %s: %s | %s\n", app, o[0], o[1])
			}
		}
		if len(apps) == 0 {
			fmt.Println("no overlap: no app ever ran two drivers at once")
		}
		for _, w := range truth.Writers(writes) {
			fmt.Println(w)
		}
		// A real driver and its executors write one checkpoint together: one writer.
		pairs := truth.ConcurrentGenerations(writes)
		for _, p := range pairs {
			fmt.Printf("TWO WRITERS of %s: %s | %s\n", p[0].Volume, p[0], p[1])
		}
		if len(pairs) == 0 {
			fmt.Println("no two writers: no volume was ever written by two driver generations at once")
		}
		return nil
	case "node":
		return runNode(ctx, *dir, *name, *index, *nodeIP, *podSubnet, beat)
	case "storage":
		return runStorage(ctx, *dir)
	case "cloud":
		return runCloud(ctx, *dir)
	case "operators":
		return runOperators(ctx, *dir)
	}
	return fmt.Errorf("unknown command %q: want up, down, status, partition, isolate, rejoin, kill, restart, add-node or truth", verb)
}

func runNode(ctx context.Context, dir, name string, index int, nodeIP, podSubnet string, beat heartbeat) error {
	if name == "" {
		return fmt.Errorf("node needs --name")
	}
	s, err := sandbox.Load(dir)
	if err != nil {
		return err
	}
	cfg, err := s.RESTConfig()
	if err != nil {
		return err
	}
	kubelet.CutOff(cfg, s.IsolatedFile(name))
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	rec, err := truth.Open(s.TruthDir(), name)
	if err != nil {
		return err
	}
	defer rec.Close()
	k := &kubelet.Kubelet{Client: client, Node: name, NodeIP: nodeIP, PodSubnet: podSubnet, Truth: rec, TruthDir: s.TruthDir(),
		RuntimeDownFile:          s.RuntimeDownFile(name),
		VolumesDir:               s.VolumesDir(),
		Log:                      log.New(os.Stderr, "kubelet["+name+"] ", log.LstdFlags|log.Lmicroseconds),
		NodeLeaseDurationSeconds: beat.leaseSeconds, NodeStatusUpdateFrequency: beat.update, NodeStatusReportFrequency: beat.report}
	if s.State.Spark {
		// An admin client, as the kubelet's own: it requests the pods' service-account tokens.
		self, err := os.Executable()
		if err != nil {
			return err
		}
		k.Spark = &sparkrt.Runtime{Dir: s.Dir, Node: name, Index: index, NodeIP: nodeIP, Subnet: podSubnet, Client: client, Log: k.Log,
			InitCommand: []string{self, "container-init"}}
		if err := k.Spark.Start(ctx, fmt.Sprintf("127.0.0.1:%d", s.State.APIPort), s.IsolatedFile(name)); err != nil {
			return fmt.Errorf("spark runtime: %w", err)
		}
	}
	return k.Run(ctx)
}

func runStorage(ctx context.Context, dir string) error {
	s, err := sandbox.Load(dir)
	if err != nil {
		return err
	}
	client, err := s.Client()
	if err != nil {
		return err
	}
	c := &storage.Controller{Client: client, DataRoot: s.VolumesDir(), Log: log.New(os.Stderr, "storage ", log.LstdFlags|log.Lmicroseconds)}
	if s.State.Spark {
		// Real containers write the volumes themselves: the storage sees who does.
		if err := sparkrt.WatchWrites(ctx, s.Dir, s.VolumesDir(), c.Log); err != nil {
			return fmt.Errorf("watching the volumes' writers: %w", err)
		}
		// And a detached disk fails their writes.
		c.Detached = func(key, node string) {
			if _, err := sparkrt.CutOff(s.Dir, storage.ContentDir(s.VolumesDir(), key), node, c.Log); err != nil {
				c.Log.Printf("ERROR: the containers of %s still write %s after its detach: %v", node, key, err)
			}
		}
	}
	return c.Run(ctx)
}

// printCheckpoint reports the streaming query of SparkhaStream whose checkpoint and sink are on
// the claim NAMESPACE/NAME.
func printCheckpoint(ctx context.Context, s *sandbox.Sandbox, ref string) error {
	ns, name, _ := strings.Cut(ref, "/")
	client, err := s.Client()
	if err != nil {
		return err
	}
	pvc, err := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	pv, err := client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("claim %s is not bound: %w", ref, err)
	}
	fs := storage.ContentDir(s.VolumesDir(), storage.DataKey(pv))
	q, err := truth.ReadQuery(filepath.Join(fs, "query"))
	if err != nil {
		return err
	}
	if len(q.Commits) == 0 {
		fmt.Printf("%s: no batch committed in %s/query\n", ref, fs)
		return nil
	}
	verdict := "no batch missing"
	if err := q.Check(); err != nil {
		verdict = err.Error()
	}
	fmt.Printf("%s: query: batches 0..%d committed, %d planned: %s\n", ref, q.LastCommit(), len(q.Offsets), verdict)
	windows, err := truth.ReadWindows(filepath.Join(fs, "sink"))
	if err != nil {
		return err
	}
	last, err := truth.CheckWindows(windows)
	if err != nil {
		fmt.Printf("%s: sink: %d windows: %v\n", ref, len(windows), err)
		return nil
	}
	fmt.Printf("%s: sink: %d windows hold source values 0..%d, each once: nothing lost, nothing counted twice\n", ref, len(windows), last)
	return nil
}

// heartbeat is the node command's heartbeat timing (kubelet.Kubelet's fields of that name).
type heartbeat struct {
	leaseSeconds   int32
	update, report time.Duration
}

// int32Value is a flag.Value for an int32 field.
type int32Value struct{ p *int32 }

func (v int32Value) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*v.p), 10)
}

func (v int32Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return err
	}
	*v.p = int32(n)
	return nil
}

// clients loads the sandbox of dir and its typed and dynamic admin clients.
func clients(dir string) (*sandbox.Sandbox, kubernetes.Interface, dynamic.Interface, error) {
	s, err := sandbox.Load(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	client, err := s.Client()
	if err != nil {
		return nil, nil, nil, err
	}
	dyn, err := s.Dynamic()
	return s, client, dyn, err
}

func runCloud(ctx context.Context, dir string) error {
	s, client, dyn, err := clients(dir)
	if err != nil {
		return err
	}
	c := &cloud.Cloud{Client: client, Dynamic: dyn, Machines: s, Log: log.New(os.Stderr, "cloud ", log.LstdFlags|log.Lmicroseconds)}
	return c.Run(ctx)
}

func runOperators(ctx context.Context, dir string) error {
	_, client, dyn, err := clients(dir)
	if err != nil {
		return err
	}
	o := &operators.Operators{Client: client, Dynamic: dyn, Log: log.New(os.Stderr, "operators ", log.LstdFlags|log.Lmicroseconds)}
	return o.Run(ctx)
}
