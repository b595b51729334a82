// Package sparkrt runs Spark containers for real on a sandbox machine: what a container
// runtime, a bridge CNI plugin, kube-proxy and apache/spark-docker's image do for a pod whose
// image is Spark's, done with network, mount, UTS and PID namespaces and the Spark
// distribution fetched by test/hack/fetch-spark.sh. The simulated kubelet (package kubelet)
// decides when a container starts and stops; this package starts it, signals it and reports
// how it ended.
//
// The network, all in namespaces of the sandbox's own, none in the host's:
//   - the fabric, the machines' LAN: a namespace holding a bridge (10.0.0.1/24, the nodes'
//     addresses are 10.0.0.10+i) that routes each node's pod subnet to that node, as a flat
//     routed pod network (kubenet, Calico without encapsulation) does;
//   - a namespace per node, its uplink on the fabric's bridge, forwarding on, and a bridge cbr0
//     holding the first address of the node's pod subnet, as the bridge CNI plugin sets it up
//     (containernetworking/plugins plugins/main/bridge: isGateway puts the gateway address on
//     the bridge);
//   - a namespace per pod whose eth0, a veth on cbr0, holds the pod IP the kubelet reports in
//     status.podIP: Spark's driver binds to it and its executors, on other nodes, dial it;
//   - the `kubernetes` Service's ClusterIP, 10.96.0.1:443, held on each node's loopback device
//     as kube-proxy's IPVS mode holds Service IPs on a local device (pkg/proxy/ipvs/proxier.go,
//     defaultDummyDevice "kube-ipvs0"; this kernel has no dummy devices) and served by a proxy
//     inside the node's process that forwards the bytes, TLS end to end, to the API server, as
//     kube-proxy's old userspace mode did (kubernetes v1.25 pkg/proxy/userspace/proxysocket.go,
//     ProxyTCP). So a partitioned machine (its process stopped) cuts its pods off from the API
//     server and only from it, and an isolated one refuses them.
package sparkrt

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// ServiceIP is the `kubernetes` Service's ClusterIP; the API server's serving certificate
// names it (test/sandbox/certs.go).
const ServiceIP = "10.96.0.1"

// fabricIP is the fabric's address on the machines' LAN: every node's default route.
const fabricIP = "10.0.0.1"

// Prefix names the network namespaces of the sandbox in dir: several sandboxes may run at once
// on one machine, each with its own.
func Prefix(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return "sph" + hex.EncodeToString(sum[:3])
}

func fabricNS(prefix string) string { return prefix + "-fabric" }

// NodeNS is the network namespace of a node.
func NodeNS(prefix, node string) string { return prefix + "-" + node }

// ip runs ip(8); its output is part of the error.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ipAll runs ip(8) once per argument list, in order, and stops at the first failure.
func ipAll(cmds [][]string) error {
	for _, args := range cmds {
		if err := ip(args...); err != nil {
			return err
		}
	}
	return nil
}

func nsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// Supported says why real Spark cannot run on this machine, or "" if it can: namespaces,
// mounts and veths need root, and the tools are util-linux's and iproute2's.
func Supported() string {
	if os.Geteuid() != 0 {
		return "real Spark in the sandbox needs root (network, mount and PID namespaces)"
	}
	for _, tool := range []string{"ip", "unshare", "setpriv", "java"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("real Spark in the sandbox needs %s on PATH", tool)
		}
	}
	return ""
}

// SetUpFabric creates the sandbox's LAN, before its nodes start. It is idempotent.
func SetUpFabric(prefix string) error {
	f := fabricNS(prefix)
	if nsExists(f) {
		return nil
	}
	if err := ipAll([][]string{
		{"netns", "add", f},
		{"-n", f, "link", "set", "lo", "up"},
		{"-n", f, "link", "add", "br0", "type", "bridge"},
		{"-n", f, "addr", "add", fabricIP + "/24", "dev", "br0"},
		{"-n", f, "link", "set", "br0", "up"},
	}); err != nil {
		return err
	}
	return sysctl(f, "net.ipv4.ip_forward", "1")
}

func sysctl(ns, key, value string) error {
	out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-qw", key+"="+value).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sysctl %s in %s: %v: %s", key, ns, err, out)
	}
	return nil
}

// TearDown deletes every network namespace of the sandbox: the pods', the nodes' and the
// fabric. Processes still in them keep running without a network, so callers stop those first.
func TearDown(prefix string) error {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	var errs []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix+"-") {
			if err := ip("netns", "del", e.Name()); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// setUpNode (re)creates a node's namespace: a machine that boots has no pods yet, so the pod
// namespaces left by its previous life go too.
func setUpNode(prefix, node string, index int, nodeIP, subnet string) error {
	n := NodeNS(prefix, node)
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), n+"-") || e.Name() == n {
			_ = ip("netns", "del", e.Name())
		}
	}
	f := fabricNS(prefix)
	uplink := fmt.Sprintf("n%d", index)
	_ = ip("-n", f, "link", "del", uplink) // a veth left by the previous life
	if err := ipAll([][]string{
		{"netns", "add", n},
		{"-n", n, "link", "set", "lo", "up"},
		{"-n", n, "link", "add", "uplink", "type", "veth", "peer", "name", uplink, "netns", f},
		{"-n", f, "link", "set", uplink, "master", "br0", "up"},
		{"-n", n, "addr", "add", nodeIP + "/24", "dev", "uplink"},
		{"-n", n, "link", "set", "uplink", "up"},
		{"-n", n, "route", "add", "default", "via", fabricIP},
		{"-n", n, "link", "add", "cbr0", "type", "bridge"},
		{"-n", n, "addr", "add", subnet + ".1/24", "dev", "cbr0"},
		{"-n", n, "link", "set", "cbr0", "up"},
		{"-n", n, "addr", "add", ServiceIP + "/32", "dev", "lo"},
		{"-n", f, "route", "replace", subnet + ".0/24", "via", nodeIP},
	}); err != nil {
		return err
	}
	return sysctl(n, "net.ipv4.ip_forward", "1")
}

// podNetwork creates a pod's namespace with its IP on the node's bridge, as the bridge CNI
// plugin's ADD does, and returns its name.
func podNetwork(prefix, node, subnet, podIP string) (string, error) {
	n := NodeNS(prefix, node)
	octet := podIP[strings.LastIndex(podIP, ".")+1:]
	name := n + "-" + octet
	host := "v" + octet
	if nsExists(name) {
		_ = ip("netns", "del", name)
	}
	_ = ip("-n", n, "link", "del", host)
	if err := ipAll([][]string{
		{"netns", "add", name},
		{"-n", name, "link", "set", "lo", "up"},
		{"-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", host, "netns", n},
		{"-n", n, "link", "set", host, "master", "cbr0", "up"},
		{"-n", name, "addr", "add", podIP + "/24", "dev", "eth0"},
		{"-n", name, "link", "set", "eth0", "up"},
		{"-n", name, "route", "add", "default", "via", subnet + ".1"},
	}); err != nil {
		_ = ip("netns", "del", name)
		return "", err
	}
	return name, nil
}
