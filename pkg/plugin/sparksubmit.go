package plugin

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/utils/ptr"

	"github.com/kubectl-sparkha/kubectl-sparkha/pkg/submit"
)

// sparkSubmitOwned are the submit flags whose settings a spark-submit line carries: with
// --spark-submit they come from that line only, so a setting is never given twice.
var sparkSubmitOwned = []string{"class", "conf", "properties-file", "driver-cores", "driver-memory",
	"executor-instances", "executor-cores", "executor-memory", "proxy-user"}

// fromSparkSubmit reads the spark-submit line after -- into the options, as if the equivalent
// flags had been given, and returns NAME and APP_RESOURCE as the positional arguments, and the
// application's arguments.
func (o *SubmitOptions) fromSparkSubmit(positional, line []string, namespace *string) ([]string, []string, error) {
	for _, f := range sparkSubmitOwned {
		if o.changed(f) {
			return nil, nil, fmt.Errorf("--%s cannot be combined with --spark-submit: give it in the spark-submit arguments after --, as spark-submit takes it", f)
		}
	}
	if line == nil {
		return nil, nil, fmt.Errorf("--spark-submit needs the spark-submit arguments after --, e.g. kubectl sparkha submit --spark-submit -- --master k8s://https://API-SERVER --deploy-mode cluster --class MAIN APP_RESOURCE")
	}
	if len(positional) > 1 {
		return nil, nil, fmt.Errorf("unexpected argument %q before --: with --spark-submit only NAME may come before --", positional[1])
	}
	s, err := submit.ParseSparkSubmit(line)
	if err != nil {
		return nil, nil, err
	}
	// spark-submit talks to the API server of --master; so must we, or the app lands in
	// another cluster than the line says.
	// Without a kubeconfig (a client dry run on a laptop) there is nothing to compare with:
	// client-go would fall back to localhost:8080.
	if raw, err := o.configFlags.ToRawKubeConfigLoader().RawConfig(); err == nil && (len(raw.Clusters) > 0 || ptr.Deref(o.configFlags.APIServer, "") != "") {
		if cfg, err := o.configFlags.ToRESTConfig(); err == nil && !submit.SameAPIServer(cfg.Host, s.MasterURL) {
			return nil, nil, fmt.Errorf("--master k8s://%s names another API server than the kubeconfig's, %s: choose the kubeconfig or --context of that cluster, or correct --master", s.MasterURL, cfg.Host)
		}
	}
	if s.Namespace != "" {
		if n := o.configFlags.Namespace; n != nil && *n != "" && *n != s.Namespace {
			return nil, nil, fmt.Errorf("-n %s and the spark-submit line's spark.kubernetes.namespace=%s disagree: drop one of them", *n, s.Namespace)
		}
		*namespace = s.Namespace
	}
	name := ""
	if len(positional) == 1 {
		name = positional[0]
	} else if name = submit.JobName(s.Name); name == "" {
		return nil, nil, fmt.Errorf("cannot make a Job name of the application name %q: give NAME before --, e.g. kubectl sparkha submit my-app --spark-submit -- ...", s.Name)
	}

	set := map[string]bool{}
	o.MainClass, o.Conf, o.PropertiesFile, o.ProxyUser = s.MainClass, s.Conf, s.PropertiesFile, s.ProxyUser
	setString := func(flag string, dst *string, v string) {
		if v != "" {
			*dst, set[flag] = v, true
		}
	}
	setInt := func(flag string, dst *int, v *int) {
		if v != nil {
			*dst, set[flag] = *v, true
		}
	}
	setString("driver-memory", &o.DriverMemory, s.DriverMemory)
	setString("executor-memory", &o.ExecutorMemory, s.ExecutorMemory)
	setInt("driver-cores", &o.DriverCores, s.DriverCores)
	setInt("executor-cores", &o.ExecutorCores, s.ExecutorCores)
	setInt("executor-instances", &o.ExecutorInstances, s.NumExecutors)
	given := o.changed
	o.changed = func(flag string) bool { return set[flag] || given(flag) }
	if s.Verbose {
		fmt.Fprintf(o.ErrOut, "spark-submit line read as: %s\n", nativeCommand(name, *namespace, o, s))
	}
	return []string{name, s.PrimaryResource}, s.AppArgs, nil
}

// nativeCommand is the kubectl sparkha submit command line the spark-submit line amounts to.
func nativeCommand(name, namespace string, o *SubmitOptions, s *submit.SparkSubmit) string {
	args := []string{"kubectl", "sparkha", "submit", name, "-n", namespace}
	add := func(flag, v string) {
		if v != "" {
			args = append(args, flag, v)
		}
	}
	itoa := func(v *int) string {
		if v == nil {
			return ""
		}
		return strconv.Itoa(*v)
	}
	add("--image", o.Image)
	add("--class", s.MainClass)
	add("--properties-file", s.PropertiesFile)
	for _, c := range s.Conf {
		add("--conf", c)
	}
	add("--driver-memory", s.DriverMemory)
	add("--driver-cores", itoa(s.DriverCores))
	add("--executor-memory", s.ExecutorMemory)
	add("--executor-cores", itoa(s.ExecutorCores))
	add("--executor-instances", itoa(s.NumExecutors))
	add("--proxy-user", s.ProxyUser)
	args = append(args, s.PrimaryResource)
	if len(s.AppArgs) > 0 {
		args = append(append(args, "--"), s.AppArgs...)
	}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=,@%+-]+$`)

func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
