package submit

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// entrypointDriver is the argv apache/spark-docker's entrypoint.sh execs (under tini) for a
// container whose first arg is "driver"; the script is byte-identical in the 3.5.x and 4.0.x
// images (3.5.8/scala2.12-java17-ubuntu/entrypoint.sh, 4.0.3/scala2.13-java21-ubuntu/entrypoint.sh):
//
//	driver)
//	  shift 1
//	  CMD=(
//	    "$SPARK_HOME/bin/spark-submit"
//	    --conf "spark.driver.bindAddress=$SPARK_DRIVER_BIND_ADDRESS"
//	    --conf "spark.executorEnv.SPARK_DRIVER_POD_IP=$SPARK_DRIVER_BIND_ADDRESS"
//	    --deploy-mode client
//	    "$@"
//	  )
//
// SPARK_HOME is /opt/spark in the image (its Dockerfile's ENV).
func entrypointDriver(t *testing.T, env map[string]string, args []string) []string {
	t.Helper()
	if len(args) == 0 || args[0] != "driver" {
		t.Fatalf("container args %q: the image's entrypoint runs the driver only for a first arg \"driver\"", args)
	}
	bind := env["SPARK_DRIVER_BIND_ADDRESS"]
	return append([]string{"/opt/spark/bin/spark-submit",
		"--conf", "spark.driver.bindAddress=" + bind,
		"--conf", "spark.executorEnv.SPARK_DRIVER_POD_IP=" + bind,
		"--deploy-mode", "client"}, args[1:]...)
}

// submitArgs is what the in-pod spark-submit makes of its argv, following
// core/src/main/scala/org/apache/spark/deploy/SparkSubmitArguments.scala: options up to the
// primary resource, everything after it for the application; --conf values win over the
// --properties-file (mergeDefaultSparkProperties adds a file's key only when no --conf set it),
// the last --conf of a key wins, and --deploy-mode sets spark.submit.deployMode.
type submitArgs struct {
	class, resource string
	appArgs         []string
	conf            map[string]string
}

func parseSubmitArgs(t *testing.T, argv []string, readFile func(string) string) submitArgs {
	t.Helper()
	var out submitArgs
	cli := map[string]string{}
	propsFile := ""
	i := 1 // argv[0] is spark-submit
	for ; i < len(argv); i++ {
		opt := argv[i]
		if !strings.HasPrefix(opt, "--") {
			break
		}
		if i+1 >= len(argv) {
			t.Fatalf("argv %q: %s has no value", argv, opt)
		}
		val := argv[i+1]
		i++
		switch opt {
		case "--conf":
			k, v, ok := strings.Cut(val, "=")
			if !ok {
				t.Fatalf("argv %q: --conf %q has no '='", argv, val)
			}
			cli[k] = v
		case "--properties-file":
			propsFile = val
		case "--class":
			out.class = val
		case "--deploy-mode":
			cli["spark.submit.deployMode"] = val
		default:
			t.Fatalf("argv %q: unexpected spark-submit option %s", argv, opt)
		}
	}
	if i >= len(argv) {
		t.Fatalf("argv %q: no primary resource", argv)
	}
	out.resource, out.appArgs = argv[i], argv[i+1:]
	out.conf = map[string]string{}
	if propsFile != "" {
		_, entries, err := ParsePropertiesFile(propsFile, strings.NewReader(readFile(propsFile)))
		if err != nil {
			t.Fatal(err)
		}
		for k, e := range entries {
			out.conf[k] = e.value
		}
	}
	for k, v := range cli {
		out.conf[k] = v
	}
	return out
}

// sparkKeys are Spark's configuration keys of one line (testdata/sparkkeys, read from the
// line's release by hack/sparkkeys; the files' headers name the release and its sha256).
type sparkKeys struct {
	exact    map[string]bool
	prefixes []string // "spark.kubernetes.driver.label." for a line "spark.kubernetes.driver.label.*"
}

func loadSparkKeys(t *testing.T, version string) sparkKeys {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sparkkeys", "spark-"+version+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ks := sparkKeys{exact: map[string]bool{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if p, ok := strings.CutSuffix(line, "*"); ok {
			ks.prefixes = append(ks.prefixes, p)
		} else {
			ks.exact[line] = true
		}
	}
	if len(ks.exact) < 500 {
		t.Fatalf("spark-%s.txt has %d keys: truncated?", version, len(ks.exact))
	}
	return ks
}

func (ks sparkKeys) has(key string) bool {
	if ks.exact[key] {
		return true
	}
	for _, p := range ks.prefixes {
		if strings.HasPrefix(key, p) && len(key) > len(p) {
			return true
		}
	}
	return false
}

// sparkVersions are the released Spark lines the project names, oldest first; each has its keys in
// testdata/sparkkeys (make spark-keys reads them from the line's newest release).
var sparkVersions = []string{"3.5", "4.0", "4.1", "4.2", "4.3"}

type entrypointCase struct {
	name    string
	in      Input
	files   map[string]string
	rt      podRuntime
	host    string // the spark.driver.host the executors must reach
	appArgs []string
}

func entrypointCases() []entrypointCase {
	gen := podRuntime{name: "spark-pi-7xk2p", uid: "5f0c8d6e-2a41-4b8e-9a57-1c3e0d9b7f21", ip: "10.244.1.17"}
	return []entrypointCase{
		{
			name: "jvm-sparkpi",
			in: Input{Name: "spark-pi", Image: "apache/spark:4.0.0", MainClass: "org.apache.spark.examples.SparkPi",
				AppResource: "local:///opt/spark/examples/jars/spark-examples.jar", AppArgs: []string{"1000"},
				ExecutorInstances: ptrTo(2)},
			rt: gen, host: "10.244.1.17", appArgs: []string{"1000"},
		},
		{
			name: "python",
			in: Input{Name: "wordcount", Image: "apache/spark-py:4.0.0", AppResource: "local:///opt/app/wordcount.py",
				AppArgs: []string{"s3a://bucket/in", "s3a://bucket/out"},
				Conf:    []string{"spark.submit.pyFiles=local:///opt/app/lib.zip", "spark.pyspark.python=python3"}},
			rt: podRuntime{name: "wordcount-q8w4z", uid: "0b6f2e7a-93c1-4d5e-8f20-6a1b9c3d4e5f", ip: "10.244.2.9"}, host: "10.244.2.9",
			appArgs: []string{"s3a://bucket/in", "s3a://bucket/out"},
		},
		{
			// Every '$' the user wrote reaches Spark: in the class, the resource and the arguments,
			// including text that looks like a Kubernetes reference.
			name: "dollars",
			in: Input{Name: "clicks", Image: "registry.example.com/clicks:1.4", MainClass: "com.example.Clicks$",
				AppResource: "s3a://bucket/jars/clicks$v2.jar",
				AppArgs:     []string{"a$$b", "$(SPARK_DRIVER_POD_NAME)", "--price=$5", "$$(HOME)", "$"},
				Conf: []string{"spark.kubernetes.driverEnv.GREETING=hello $(SPARK_DRIVER_POD_NAME)",
					"spark.kubernetes.driver.secretKeyRef.DB_PASSWORD=db:password"}},
			rt: podRuntime{name: "clicks-m2n3b", uid: "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", ip: "10.244.0.5",
				secrets: map[string]map[string]string{"db": {"password": "s3cr$t"}}},
			host:    "10.244.0.5",
			appArgs: []string{"a$$b", "$(SPARK_DRIVER_POD_NAME)", "--price=$5", "$$(HOME)", "$"},
		},
		{
			// An IPv6 cluster (Spark's setup sets the Service's IP family): the host is bracketed,
			// because Spark brackets only IPv6 literals of digits and colons itself.
			name: "ipv6",
			in: Input{Name: "clicks6", Image: "apache/spark:4.0.0", MainClass: "com.example.Clicks",
				AppResource: "local:///opt/app/clicks.jar",
				Conf:        []string{"spark.kubernetes.driver.service.ipFamilies=IPv6", "spark.kubernetes.driver.service.ipFamilyPolicy=SingleStack"}},
			rt: podRuntime{name: "clicks6-z9y8x", uid: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", ip: "fd00:10:244::1f"}, host: "[fd00:10:244::1f]",
		},
	}
}

// TestEntrypointArgv runs each example the way a cluster would: the Job's pod template with a
// sample pod name, UID and IP through the kubelet's env and args expansion, then the image's
// entrypoint, then spark-submit's argument parsing over the ConfigMap's spark.properties; it
// checks what Spark sees and keeps the argv and the effective conf as golden files.
func TestEntrypointArgv(t *testing.T) {
	keys := map[string]sparkKeys{}
	for _, v := range sparkVersions {
		keys[v] = loadSparkKeys(t, v)
	}
	for _, tc := range entrypointCases() {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Namespace, in.AppID = "streaming", testAppID
			app, err := Resolve(in)
			if err != nil {
				t.Fatal(err)
			}
			objs := Build(app, "job-uid")
			pod := objs.Job.Spec.Template
			c := pod.Spec.Containers[0]
			env, args := kubeletRuntime(t, c, tc.rt)
			argv := entrypointDriver(t, env, args)
			mounted := map[string]string{SparkConfDir + "/" + SparkConfFile: objs.ConfigMap.Data[SparkConfFile]}
			sa := parseSubmitArgs(t, argv, func(p string) string {
				data, ok := mounted[p]
				if !ok {
					t.Fatalf("spark-submit reads %s, which the pod does not mount", p)
				}
				return data
			})

			// The application gets exactly what the user wrote.
			if want := tc.in.MainClass; want != "" && sa.class != want {
				t.Errorf("main class %q, want %q", sa.class, want)
			}
			if sa.resource != tc.in.AppResource {
				t.Errorf("primary resource %q, want %q", sa.resource, tc.in.AppResource)
			}
			if !slices.Equal(sa.appArgs, tc.appArgs) {
				t.Errorf("application args %q, want %q", sa.appArgs, tc.appArgs)
			}
			if strings.HasSuffix(tc.in.AppResource, ".py") {
				if sa.class != "org.apache.spark.deploy.PythonRunner" {
					t.Errorf("Python app runs %s, want PythonRunner", sa.class)
				}
				if strings.Contains(sa.conf["spark.jars"], tc.in.AppResource) {
					t.Errorf("spark.jars %q holds the Python file", sa.conf["spark.jars"])
				}
			} else if !slices.Contains(splitList(sa.conf["spark.jars"]), tc.in.AppResource) {
				// SparkSubmit.scala: the in-pod spark-submit does not add it (Spark 4.0), the
				// outer one does; without it executors cannot load the app's classes.
				t.Errorf("spark.jars %q does not hold the application jar %s", sa.conf["spark.jars"], tc.in.AppResource)
			}

			// This generation's identity and address.
			want := map[string]string{
				"spark.kubernetes.driver.pod.name": tc.rt.name,
				"spark.app.id":                     "spark-" + string(tc.rt.uid),
				"spark.driver.host":                tc.host,
				"spark.driver.bindAddress":         tc.rt.ip,
				"spark.submit.deployMode":          "client",
				"spark.master":                     KubernetesMasterInPod,
				"spark.kubernetes.submitInDriver":  "true",
				"spark.kubernetes.namespace":       "streaming",
			}
			for k, v := range want {
				if sa.conf[k] != v {
					t.Errorf("%s=%q, want %q", k, sa.conf[k], v)
				}
			}
			if env[EnvApplicationID] != sa.conf["spark.app.id"] {
				t.Errorf("%s=%q, spark.app.id=%q: Spark labels executors with one and the driver looks them up by the other", EnvApplicationID, env[EnvApplicationID], sa.conf["spark.app.id"])
			}
			// Ports: what Spark binds is what the container and the Service expose.
			ports := map[string]string{DriverPortName: sa.conf["spark.driver.port"], BlockManagerPortName: sa.conf["spark.driver.blockManager.port"],
				UIPortName: sa.conf["spark.ui.port"], ConnectPortName: sa.conf[ConnectPortKey]}
			if ports[UIPortName] == "" {
				ports[UIPortName] = fmt.Sprint(UIPort) // SparkUI.DEFAULT_PORT
			}
			if ports[ConnectPortName] == "" {
				ports[ConnectPortName] = fmt.Sprint(ConnectPort) // Connect.CONNECT_GRPC_BINDING_PORT's default
			}
			for _, p := range objs.Service.Spec.Ports {
				if fmt.Sprint(p.Port) != ports[p.Name] || p.TargetPort.IntValue() != int(p.Port) {
					t.Errorf("Service port %s is %d→%s, Spark binds %s", p.Name, p.Port, p.TargetPort.String(), ports[p.Name])
				}
			}
			for _, p := range c.Ports {
				if fmt.Sprint(p.ContainerPort) != ports[p.Name] {
					t.Errorf("container port %s is %d, Spark binds %s", p.Name, p.ContainerPort, ports[p.Name])
				}
			}
			// Every key is one Spark knows (the fork's backoff key aside).
			for k := range sa.conf {
				if k == BackoffLimitConfKey {
					continue
				}
				for _, v := range sparkVersions {
					if !keys[v].has(k) {
						t.Errorf("the driver's conf has %s, which is not a Spark %s key", k, v)
					}
				}
			}

			var b strings.Builder
			b.WriteString("# argv of the driver process (one per line)\n")
			for _, a := range argv {
				fmt.Fprintf(&b, "%q\n", a)
			}
			b.WriteString("# the effective Spark conf (properties file overlaid with the argv's --conf)\n")
			ks := make([]string, 0, len(sa.conf))
			for k := range sa.conf {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			for _, k := range ks {
				fmt.Fprintf(&b, "%s=%s\n", k, sa.conf[k])
			}
			assertGoldenFile(t, filepath.Join("testdata", "entrypoint", tc.name+".golden"), b.String())
		})
	}
}

func assertGoldenFile(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/submit -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test ./pkg/submit -update after checking the change)\n--- got ---\n%s", path, got)
	}
}
