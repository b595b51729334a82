package submit

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// SparkSubmit is a spark-submit command line for Kubernetes cluster mode, read as spark-submit
// reads it and turned into what kubectl sparkha submit takes.
//
// Reading follows launcher/src/main/java/org/apache/spark/launcher/SparkSubmitOptionParser.java
// (parse: "--opt value" or "--opt=value"; the switches take no value; the first argument that
// is neither is the primary resource and everything after it the application's arguments) and
// core/src/main/scala/org/apache/spark/deploy/SparkSubmitArguments.scala (handle,
// handleUnknown: an unknown argument starting with '-' is an error; --conf without '=' is an
// error; the name defaults to spark.app.name, then the main class, then the primary resource's
// file name). The options become Spark properties as
// core/src/main/scala/org/apache/spark/deploy/SparkSubmit.scala prepareSubmitEnvironment's
// OptionAssigners map them, after the --conf's, so an option wins over a --conf of its key as
// it does there.
type SparkSubmit struct {
	// MasterURL is the API server of --master k8s://URL (or spark.master), with Spark's default
	// scheme https (KubernetesUtils.parseMasterUrl).
	MasterURL string
	// Name is the application's name (spark.app.name).
	Name            string
	MainClass       string
	PrimaryResource string
	AppArgs         []string
	PropertiesFile  string
	// Conf is every --conf KEY=VALUE in order, then the properties the options set; without
	// the keys consumed here (spark.master, spark.submit.deployMode, spark.kubernetes.namespace).
	Conf []string
	// Namespace is spark.kubernetes.namespace of the --conf's, "" if not given.
	Namespace      string
	DriverMemory   string
	ExecutorMemory string
	DriverCores    *int
	ExecutorCores  *int
	NumExecutors   *int
	ProxyUser      string
	Verbose        bool
}

// sparkSubmitProperty: options spark-submit turns into a Spark property (SparkSubmit.scala's
// OptionAssigners for cluster mode on Kubernetes, and SparkSubmitArguments for the Python files).
var sparkSubmitProperty = map[string]string{
	"--name":                "spark.app.name",
	"--jars":                "spark.jars",
	"--files":               "spark.files",
	"--py-files":            "spark.submit.pyFiles",
	"--archives":            "spark.archives",
	"--packages":            "spark.jars.packages",
	"--repositories":        "spark.jars.repositories",
	"--exclude-packages":    "spark.jars.excludes",
	"--driver-class-path":   "spark.driver.extraClassPath",
	"--driver-java-options": "spark.driver.extraJavaOptions",
	"--driver-library-path": "spark.driver.extraLibraryPath",
}

// sparkSubmitRefused: options that mean nothing for a Kubernetes cluster-mode submission, or
// that kubectl sparkha cannot honour, and what to do instead.
var sparkSubmitRefused = map[string]string{
	"--supervise":            "it restarts a failed driver in standalone cluster mode only; the sparkha Job retries the driver itself (--backoff-limit)",
	"--total-executor-cores": "it applies to standalone clusters only; give --num-executors and --executor-cores",
	"--queue":                "it applies to YARN only",
	"--principal":            "a Kerberos login on this machine is not carried into the cluster; mount a keytab into the driver and set spark.kerberos.* in --conf instead",
	"--keytab":               "a Kerberos login on this machine is not carried into the cluster; mount a keytab into the driver and set spark.kerberos.* in --conf instead",
	"--kill":                 "it is not a submission; stop the app with kubectl delete job NAME",
	"--status":               "it is not a submission; see the app with kubectl sparkha inspect NAME",
	"--version":              "it is not a submission",
	"--help":                 "it is not a submission; see kubectl sparkha submit --help",
	"-h":                     "it is not a submission; see kubectl sparkha submit --help",
	"--usage-error":          "it is not a submission",
}

// sparkSubmitWithValue lists the options that take a value (SparkSubmitOptionParser.opts), by
// every alias, with their main name.
var sparkSubmitWithValue = map[string]string{
	"--archives": "--archives", "--class": "--class", "--conf": "--conf", "-c": "--conf",
	"--deploy-mode": "--deploy-mode", "--driver-class-path": "--driver-class-path",
	"--driver-cores": "--driver-cores", "--driver-java-options": "--driver-java-options",
	"--driver-library-path": "--driver-library-path", "--driver-memory": "--driver-memory",
	"--executor-cores": "--executor-cores", "--executor-memory": "--executor-memory",
	"--files": "--files", "--jars": "--jars", "--keytab": "--keytab", "--kill": "--kill",
	"--master": "--master", "--name": "--name", "--num-executors": "--num-executors",
	"--packages": "--packages", "--exclude-packages": "--exclude-packages",
	"--principal": "--principal", "--properties-file": "--properties-file",
	"--proxy-user": "--proxy-user", "--py-files": "--py-files", "--queue": "--queue",
	"--repositories": "--repositories", "--status": "--status",
	"--total-executor-cores": "--total-executor-cores",
}

// sparkSubmitSwitches lists the options without a value (SparkSubmitOptionParser.switches).
var sparkSubmitSwitches = map[string]string{
	"--help": "--help", "-h": "--help", "--supervise": "--supervise", "--usage-error": "--usage-error",
	"--verbose": "--verbose", "-v": "--verbose", "--version": "--version",
}

var eqSeparatedOpt = regexp.MustCompile(`^(--[^=]+)=(.+)$`)

// ParseSparkSubmit reads args, the arguments of a spark-submit command line (without the
// program name). Anything it cannot carry over is an error naming the argument.
func ParseSparkSubmit(args []string) (*SparkSubmit, error) {
	s := &SparkSubmit{}
	var conf []string
	props := map[string]string{}
	var master, deployMode string
	i := 0
	for ; i < len(args); i++ {
		arg, value, hasValue := args[i], "", false
		if m := eqSeparatedOpt.FindStringSubmatch(arg); m != nil {
			arg, value, hasValue = m[1], m[2], true
		}
		if name, ok := sparkSubmitWithValue[arg]; ok {
			if !hasValue {
				if i == len(args)-1 {
					return nil, fmt.Errorf("spark-submit option %s needs a value", arg)
				}
				i++
				value = args[i]
			}
			if why := sparkSubmitRefused[name]; why != "" {
				return nil, fmt.Errorf("spark-submit option %s is not supported: %s", arg, why)
			}
			if err := s.handle(name, value, &conf, props, &master, &deployMode); err != nil {
				return nil, err
			}
			continue
		}
		if name, ok := sparkSubmitSwitches[arg]; ok {
			if why := sparkSubmitRefused[name]; why != "" {
				return nil, fmt.Errorf("spark-submit option %s is not supported: %s", arg, why)
			}
			s.Verbose = true // --verbose is the only switch left
			continue
		}
		if strings.HasPrefix(arg, "-") {
			return nil, fmt.Errorf("unknown spark-submit option %s (spark-submit would refuse it too: \"Unrecognized option\")", arg)
		}
		break
	}
	if i == len(args) {
		return nil, fmt.Errorf("the spark-submit arguments name no primary resource: give the application jar or Python file after the options")
	}
	s.PrimaryResource, s.AppArgs = args[i], append([]string(nil), args[i+1:]...)
	if s.PrimaryResource == "spark-internal" || s.PrimaryResource == "spark-shell" || s.PrimaryResource == "pyspark-shell" || s.PrimaryResource == "sparkr-shell" {
		return nil, fmt.Errorf("primary resource %s is a shell or an internal resource: kubectl sparkha submits applications in cluster mode", s.PrimaryResource)
	}

	// Keys of the --conf's that spark-submit reads as options, and kubectl sparkha sets itself.
	var kept []string
	for _, kv := range conf {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "spark.master":
			if master == "" {
				master = v
			}
		case "spark.submit.deployMode":
			if deployMode == "" {
				deployMode = v
			}
		case "spark.kubernetes.namespace":
			s.Namespace = v
		default:
			kept = append(kept, kv)
			if k == "spark.app.name" && s.Name == "" {
				s.Name = v
			}
		}
	}
	var err error
	if s.MasterURL, err = kubernetesMaster(master); err != nil {
		return nil, err
	}
	switch deployMode {
	case "cluster":
	case "", "client":
		return nil, fmt.Errorf("spark-submit runs this line in client mode (--deploy-mode %s): the driver would run on this machine; kubectl sparkha runs it in the cluster, so give --deploy-mode cluster", orValue(deployMode, "client, the default"))
	default:
		return nil, fmt.Errorf("invalid --deploy-mode %q: want cluster", deployMode)
	}
	for _, opt := range sortedKeys(sparkSubmitProperty) {
		if v, ok := props[opt]; ok {
			kept = append(kept, sparkSubmitProperty[opt]+"="+v)
		}
	}
	s.Conf = kept
	if s.Name == "" {
		s.Name = s.MainClass
	}
	if s.Name == "" {
		s.Name = path.Base(s.PrimaryResource)
	}
	return s, nil
}

func (s *SparkSubmit) handle(name, value string, conf *[]string, props map[string]string, master, deployMode *string) error {
	count := func(dst **int) error {
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return fmt.Errorf("invalid spark-submit option %s %q: want a whole number of at least 1", name, value)
		}
		*dst = &n
		return nil
	}
	switch name {
	case "--master":
		*master = value
	case "--deploy-mode":
		*deployMode = value
	case "--class":
		s.MainClass = value
	case "--name":
		s.Name = value
		props[name] = value
	case "--conf":
		if !strings.Contains(value, "=") {
			return fmt.Errorf("invalid spark-submit option --conf %q: want KEY=VALUE (spark-submit refuses a Spark config without '=' too)", value)
		}
		*conf = append(*conf, value)
	case "--properties-file":
		s.PropertiesFile = value
	case "--driver-memory":
		s.DriverMemory = value
	case "--executor-memory":
		s.ExecutorMemory = value
	case "--driver-cores":
		return count(&s.DriverCores)
	case "--executor-cores":
		return count(&s.ExecutorCores)
	case "--num-executors":
		return count(&s.NumExecutors)
	case "--proxy-user":
		s.ProxyUser = value
	default:
		if _, ok := sparkSubmitProperty[name]; !ok {
			return fmt.Errorf("internal error: spark-submit option %s not handled", name)
		}
		props[name] = value
	}
	return nil
}

// kubernetesMaster checks a k8s:// master URL and returns its API server URL, with https when
// it names no scheme, as Spark's KubernetesUtils.parseMasterUrl does.
func kubernetesMaster(master string) (string, error) {
	if master == "" {
		return "", fmt.Errorf("the spark-submit arguments give no --master: give --master k8s://https://API-SERVER")
	}
	rest, ok := strings.CutPrefix(master, "k8s://")
	if !ok {
		return "", fmt.Errorf("invalid --master %q: kubectl sparkha submits to Kubernetes only, want k8s://https://API-SERVER", master)
	}
	if !strings.Contains(rest, "://") {
		rest = "https://" + rest
	}
	u, err := url.Parse(rest)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("invalid --master %q: want k8s://https://API-SERVER", master)
	}
	return rest, nil
}

// SameAPIServer says whether two API server URLs name one server: the same scheme, host and
// port (443 for https and 80 for http when none is given), ignoring a trailing slash.
func SameAPIServer(a, b string) bool {
	norm := func(s string) string {
		u, err := url.Parse(strings.TrimSuffix(s, "/"))
		if err != nil {
			return s
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
		}
		return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port + u.Path
	}
	return norm(a) == norm(b)
}

// JobName is a Job name for an application named name: Spark's resource-name rule
// (KubernetesConf.getResourceNamePrefix: lower case, every character but a-z, 0-9 and '-'
// replaced by '-', runs of '-' collapsed), trimmed of '-' and cut to MaxNameLength; "" when
// nothing is left or it does not start with a letter, as a Job name must here.
func JobName(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	n = regexp.MustCompile(`[^a-z0-9-]`).ReplaceAllString(n, "-")
	n = regexp.MustCompile(`-+`).ReplaceAllString(n, "-")
	n = strings.Trim(n, "-")
	if len(n) > MaxNameLength {
		n = strings.TrimRight(n[:MaxNameLength], "-")
	}
	if n == "" || n[0] < 'a' || n[0] > 'z' {
		return ""
	}
	return n
}

func orValue(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}
