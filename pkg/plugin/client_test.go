package plugin

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
)

// runCmd runs `kubectl sparkha ARGS...` in process and returns stdout, stderr and the exit code.
func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	cmd := NewCmdRoot(streams)
	cmd.SetArgs(args)
	code := Run(context.Background(), cmd)
	return out.String(), errOut.String(), code
}

// writeKubeconfig writes a kubeconfig whose only cluster is server.
func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	text := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ` + server + `
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: t
contexts:
- name: x
  context: {cluster: c, user: u, namespace: ns}
current-context: x
`
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Every command that talks to the cluster, with valid arguments.
var clusterCommands = map[string][]string{
	"inspect":  {"inspect"},
	"failover": {"failover", "clicks"},
	"submit":   {"submit", "clicks", "--image", "spark:4", "--class", "C", "local:///a.jar"},
}

func TestNoKubeconfigSaysSo(t *testing.T) {
	t.Setenv("KUBECONFIG", "/nonexistent")
	t.Setenv("KUBERNETES_SERVICE_HOST", "") // not in a pod
	for name, args := range clusterCommands {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := runCmd(t, args...)
			want := "error: no kubeconfig found (KUBECONFIG=/nonexistent names no existing file): " +
				"point KUBECONFIG or --kubeconfig at your cluster's kubeconfig, or give --server\n"
			if errOut != want || out != "" || code != ExitError {
				t.Errorf("stderr %q, stdout %q, exit %d; want stderr %q, exit 1", errOut, out, code, want)
			}
		})
	}
}

func TestNoKubeconfigWithoutKUBECONFIG(t *testing.T) {
	if _, err := os.Stat(clientcmd.RecommendedHomeFile); err == nil {
		t.Skipf("%s exists", clientcmd.RecommendedHomeFile)
	}
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	_, errOut, code := runCmd(t, "inspect")
	want := "error: no kubeconfig found (KUBECONFIG is not set and " + clientcmd.RecommendedHomeFile + " does not exist): " +
		"point KUBECONFIG or --kubeconfig at your cluster's kubeconfig, or give --server\n"
	if errOut != want || code != ExitError {
		t.Errorf("stderr %q, exit %d; want %q, exit 1", errOut, code, want)
	}
}

func TestUnreachableServerSaysSo(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := "https://" + l.Addr().String()
	l.Close() // nothing listens there any more: connection refused
	kubeconfig := writeKubeconfig(t, server)
	for name, args := range clusterCommands {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := runCmd(t, append(args, "--kubeconfig", kubeconfig)...)
			want := "error: cannot connect to the API server at " + server + " (connect: connection refused): " +
				"is the cluster running and is this the right server? See the current context's server with " +
				"kubectl config view --minify, or choose another context with --context\n"
			if errOut != want || out != "" || code != ExitError {
				t.Errorf("stderr %q, stdout %q, exit %d; want stderr %q, exit 1", errOut, out, code, want)
			}
		})
	}
}

func TestSilentServerShowsProgressAndSaysSo(t *testing.T) {
	if testing.Short() {
		t.Skip("waits about 4s for the timeouts; skipped with -short")
	}
	// Accepts connections, never answers (not even the TLS handshake).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	notice, every := waitNotice, waitEvery
	waitNotice, waitEvery = time.Second, time.Hour
	defer func() { waitNotice, waitEvery = notice, every }()
	server := "https://" + l.Addr().String()
	kubeconfig := writeKubeconfig(t, server)

	out, errOut, code := runCmd(t, "inspect", "--kubeconfig", kubeconfig, "--request-timeout", "1s")
	// inspect tries a timed-out LIST three times (1s each, 0.25s and 0.5s apart): one progress line.
	want := "still waiting for the API server at " + server + " (1s); --request-timeout limits the wait\n" +
		"error: the API server at " + server + " accepts connections but does not answer (no answer within --request-timeout): " +
		"check that the API server is healthy; --request-timeout sets how long to wait (e.g. --request-timeout=1m)\n"
	if errOut != want || out != "" || code != ExitError {
		t.Errorf("stderr:\n%s\nstdout %q, exit %d; want stderr:\n%s", errOut, out, code, want)
	}
}

func TestDescribeConnErrorLeavesOtherErrorsAlone(t *testing.T) {
	for _, err := range []error{errors.New("boom"), context.DeadlineExceeded} {
		if got := describeConnError(err); got != "" {
			t.Errorf("describeConnError(%v) = %q, want \"\"", err, got)
		}
	}
	if strings.Contains(describeConnError(errors.New("x")), "API server") {
		t.Error("unexpected")
	}
}

// A server that answered before and then failed keeps the command's own error (what it was
// doing, what was rolled back): only a server that never answered gets the cluster message.
func TestConnErrorOfAServerThatAnsweredIsKept(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := "https://" + l.Addr().String()
	l.Close()
	refused := &url.Error{Op: "Post", URL: server + "/api/v1/namespaces/ns/configmaps",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}
	if describeConnError(refused) == "" {
		t.Fatal("a server that never answered: want the cluster message")
	}
	w := &waitReporter{server: server}
	w.begin()
	w.end(true)
	reportersMu.Lock()
	reporters = append(reporters, w)
	reportersMu.Unlock()
	if got := describeConnError(refused); got != "" {
		t.Errorf("a server that answered before: got %q, want the error kept", got)
	}
}

// TestInputErrorsBeforeClusterErrors: bad input is reported as such even without a cluster:
// the client is made only once the flags and arguments are valid.
func TestInputErrorsBeforeClusterErrors(t *testing.T) {
	t.Setenv("KUBECONFIG", "/nonexistent")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"submit", "x", "--image", "i", "--class", "c", "./app.jar"}, `error: APP_RESOURCE "./app.jar" is a path on this machine`},
		{[]string{"submit", "x", "--image", "i", "--class", "c", "local:///a.jar", "--conf", "spark.kerberos.principal=me"}, "error: spark.kerberos.principal in --conf is not supported by kubectl sparkha"},
		{[]string{"inspect", "-o", "bogus"}, `error: invalid --output "bogus"`},
		{[]string{"failover"}, "error: missing APP"},
	} {
		out, errOut, code := runCmd(t, tt.args...)
		if !strings.HasPrefix(errOut, tt.want) || strings.Contains(errOut, "kubeconfig") || out != "" || code != ExitError {
			t.Errorf("%v: stderr %q, stdout %q, exit %d; want stderr starting %q, exit 1", tt.args, errOut, out, code, tt.want)
		}
	}
}

// TestFlagErrorsAreReported: cobra's flag errors reach stderr in kubectl's form with exit 1, for
// every command (they never reach a command's RunE, so each used to end silently).
func TestFlagErrorsAreReported(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"submit", "x", "--bogus-flag"}, "error: unknown flag: --bogus-flag\nSee 'kubectl sparkha submit --help' for usage.\n"},
		{[]string{"submit", "x", "--image", "i", "--class", "c", "--node-lost-timeout", "soon", "local:///x.jar"},
			"error: invalid argument \"soon\" for \"--node-lost-timeout\" flag: time: invalid duration \"soon\"\nSee 'kubectl sparkha submit --help' for usage.\n"},
		{[]string{"inspect", "--node-bogus"}, "error: unknown flag: --node-bogus\nSee 'kubectl sparkha inspect --help' for usage.\n"},
		{[]string{"failover", "x", "--bogus-flag"}, "error: unknown flag: --bogus-flag\nSee 'kubectl sparkha failover --help' for usage.\n"},
		{[]string{"--bogus"}, "error: unknown flag: --bogus\nSee 'kubectl sparkha --help' for usage.\n"},
	} {
		out, errOut, code := runCmd(t, tt.args...)
		if errOut != tt.want || out != "" || code != ExitError {
			t.Errorf("%v: stderr %q, stdout %q, exit %d; want stderr %q, exit 1", tt.args, errOut, out, code, tt.want)
		}
	}
}

// TestUsageErrorsSayWhereTheUsageIs: a bad value a command's Validate rejects, and too many
// arguments, end with the --help line too, as flag errors do.
func TestUsageErrorsSayWhereTheUsageIs(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"inspect", "-o", "xml"}, "error: invalid --output \"xml\": use one of wide, json, yaml, kyaml, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file, or leave it out\nSee 'kubectl sparkha inspect --help' for usage.\n"},
		{[]string{"inspect", "a", "b"}, "error: accepts at most 1 arg(s), received 2\nSee 'kubectl sparkha inspect --help' for usage.\n"},
		{[]string{"version", "extra"}, "error: accepts at most 0 arg(s), received 1\nSee 'kubectl sparkha version --help' for usage.\n"},
		{[]string{"failover", "x", "--ignore-node-evidence"}, "error: --ignore-node-evidence only qualifies --node-down: add --node-down if the machine is down\nSee 'kubectl sparkha failover --help' for usage.\n"},
	} {
		out, errOut, code := runCmd(t, tt.args...)
		if errOut != tt.want || out != "" || code != ExitError {
			t.Errorf("%v: stderr %q, stdout %q, exit %d; want stderr %q, exit 1", tt.args, errOut, out, code, tt.want)
		}
	}
}
