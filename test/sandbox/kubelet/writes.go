package kubelet

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/sparkstandin"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/storage"
	"github.com/kubectl-sparkha/kubectl-sparkha/test/sandbox/truth"
)

// writePeriod is how often a running driver writes to each of its volumes. A streaming
// query's driver writes its offsets and commits logs once a micro-batch: every second is a
// short trigger interval.
const writePeriod = time.Second

// writeVolumes makes every running Spark driver on this machine write to its claims' storage,
// as a streaming driver writes its checkpoint. It runs whether or not the machine reaches the
// API server: the storage is reached over its own path. A volume that attaches accepts the
// write only while the storage has it attached to this node (storage.AttachedTo); a refused
// write is recorded too, so the ground truth tells "still running" from "still writing".
func (k *Kubelet) writeVolumes() {
	if k.VolumesDir == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now()
	if now.Sub(k.lastWrite) < writePeriod {
		return
	}
	k.lastWrite = now
	for uid := range k.targets {
		if k.running[uid] == nil {
			delete(k.targets, uid)
		}
	}
	for uid, c := range k.running {
		if c.role != sparkstandin.RoleDriver || c.real() {
			continue // a real driver writes its checkpoint itself
		}
		targets, ok := k.targets[uid]
		if !ok {
			targets = k.writeTargets(uid, c)
			k.targets[uid] = targets
		}
		for _, t := range targets {
			w := truth.Write{Time: now, Volume: t.dataKey, Node: k.Node, Namespace: c.namespace, Pod: c.name, UID: string(uid), Role: c.role}
			if on := storage.AttachedTo(k.VolumesDir, t.dataKey); t.attachable && on != k.Node {
				w.Err = fmt.Sprintf("I/O error: the volume is not attached to %s (attached to %q)", k.Node, on)
			}
			if err := truth.AppendWrite(storage.DataDir(k.VolumesDir, t.dataKey), w); err != nil {
				k.Log.Printf("write %s: %v", t.dataKey, err)
			}
		}
	}
}

// writeTargets are the bound claims the driver's pod mounts, as the machine mounted them when
// the pod started (its cached view of the claims and PVs: a machine cut off from the API
// server keeps what it mounted).
func (k *Kubelet) writeTargets(uid types.UID, c *container) []claimVolume {
	pod, err := k.pods.Pods(c.namespace).Get(c.name)
	if err != nil || pod.UID != uid {
		return nil
	}
	var out []claimVolume
	for _, v := range k.claimVolumes(pod) {
		if v.bound {
			out = append(out, v)
		}
	}
	return out
}

// CutOff makes cfg's connections fail while the file exists: the machine is cut off from the
// API server (its network to the control plane is down) but runs on, as an isolated machine
// does. New requests fail as a dial to an unreachable network fails, and so do the streams
// already open (the informers' watches): nothing the control plane decides reaches the machine.
func CutOff(cfg *rest.Config, file string) {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return cutOff{rt: rt, file: file} })
}

type cutOff struct {
	rt   http.RoundTripper
	file string
}

func isolated(file string) bool {
	_, err := os.Stat(file)
	return err == nil
}

func unreachable() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: network is unreachable (the machine is isolated)")}
}

func (c cutOff) RoundTrip(req *http.Request) (*http.Response, error) {
	if isolated(c.file) {
		return nil, unreachable()
	}
	resp, err := c.rt.RoundTrip(req)
	if resp != nil {
		resp.Body = cutBody{ReadCloser: resp.Body, file: c.file}
	}
	return resp, err
}

// cutBody fails a response stream once the machine is isolated: what arrives after the cut
// never arrived.
type cutBody struct {
	io.ReadCloser
	file string
}

func (b cutBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if isolated(b.file) {
		return 0, unreachable()
	}
	return n, err
}
