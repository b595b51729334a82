// Package truth records and reads the sandbox's ground truth: when each pod's
// containers really ran on their simulated machine. The API server's view can
// lag or lie (a partitioned node's pods keep running while the API shows them
// evicted); this record does not, because it is written by the machine itself.
package truth

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Event kinds written to a node's record.
const (
	Start       = "start"        // the pod's containers started on the machine
	Stop        = "stop"         // the machine killed the pod's containers
	MachineDown = "machine-down" // the machine died: everything on it stopped
)

// Entry is one line of a node's record.
type Entry struct {
	Time      time.Time `json:"time"`
	Event     string    `json:"event"`
	Node      string    `json:"node"`
	Namespace string    `json:"namespace,omitempty"`
	Pod       string    `json:"pod,omitempty"`
	UID       string    `json:"uid,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	// Role is the pod's spark-role label (driver, executor), if any.
	Role string `json:"role,omitempty"`
	// AppID is the pod's spark-app-selector label: for an executor, the
	// spark.app.id of the driver generation that created it.
	AppID string `json:"appID,omitempty"`
	// Driver is, for an executor, the UID of its driver pod (its controller
	// owner): the driver generation it belongs to.
	Driver string `json:"driver,omitempty"`
}

// Recorder appends a node's entries to DIR/NODE.jsonl, one fsynced JSON line each.
type Recorder struct {
	mu   sync.Mutex
	f    *os.File
	node string
}

// Open opens (creating if needed) the record of node in dir.
func Open(dir, node string) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, node+".jsonl"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	return &Recorder{f: f, node: node}, nil
}

// Record appends e, stamping node and time.
func (r *Recorder) Record(e Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.Node = r.node
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := r.f.Write(append(b, '\n')); err != nil {
		return err
	}
	return r.f.Sync()
}

// Close closes the record.
func (r *Recorder) Close() error { return r.f.Close() }

// Interval is one run of one pod's containers on one machine. End is zero
// while it still runs.
type Interval struct {
	Namespace, Pod, UID, Node string
	Start, End                time.Time
	// Role, AppID and Driver are the start entry's (see Entry).
	Role, AppID, Driver string
}

// Running reports whether the interval is still open.
func (i Interval) Running() bool { return i.End.IsZero() }

func (i Interval) String() string {
	end := "still running"
	if !i.Running() {
		end = i.End.Format("15:04:05.000")
	}
	s := fmt.Sprintf("%s/%s on %s from %s to %s", i.Namespace, i.Pod, i.Node, i.Start.Format("15:04:05.000"), end)
	if i.Role == "executor" {
		s += " (executor of driver " + i.Driver + ")"
	}
	return s
}

// Read loads every node's record in dir and returns the intervals, ordered by start.
func Read(dir string) ([]Interval, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []Interval
	for _, file := range files {
		entries, err := readFile(file)
		if err != nil {
			return nil, err
		}
		out = append(out, intervals(entries)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

func readFile(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var entries []Entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var e Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			// A machine stopped mid-write leaves a torn last line; it recorded nothing.
			continue
		}
		entries = append(entries, e)
	}
	return entries, sc.Err()
}

// intervals turns one node's entries, in file order, into intervals.
func intervals(entries []Entry) []Interval {
	open := map[string]*Interval{}
	var out []Interval
	closeAll := func(t time.Time) {
		for uid, iv := range open {
			iv.End = t
			out = append(out, *iv)
			delete(open, uid)
		}
	}
	for _, e := range entries {
		switch e.Event {
		case Start:
			if _, ok := open[e.UID]; !ok {
				open[e.UID] = &Interval{Namespace: e.Namespace, Pod: e.Pod, UID: e.UID, Node: e.Node, Start: e.Time,
					Role: e.Role, AppID: e.AppID, Driver: e.Driver}
			}
		case Stop:
			if iv, ok := open[e.UID]; ok {
				iv.End = e.Time
				out = append(out, *iv)
				delete(open, e.UID)
			}
		case MachineDown:
			closeAll(e.Time)
		}
	}
	for _, iv := range open {
		out = append(out, *iv)
	}
	return out
}

// Overlaps returns the pairs of intervals, among those given, that ran at the
// same time (an open interval runs until now).
func Overlaps(ivs []Interval) [][2]Interval {
	var out [][2]Interval
	end := func(i Interval) time.Time {
		if i.Running() {
			return time.Now()
		}
		return i.End
	}
	for i := range ivs {
		for j := i + 1; j < len(ivs); j++ {
			a, b := ivs[i], ivs[j]
			if a.Start.Before(end(b)) && b.Start.Before(end(a)) {
				out = append(out, [2]Interval{a, b})
			}
		}
	}
	return out
}

// Filter keeps the intervals for which keep returns true.
func Filter(ivs []Interval, keep func(Interval) bool) []Interval {
	var out []Interval
	for _, iv := range ivs {
		if keep(iv) {
			out = append(out, iv)
		}
	}
	return out
}

// App names the application of a driver pod: a Job's pods are JOB-xxxxx (five random
// characters), so a Job's driver generations share their app; any other pod is its own.
func App(pod string) string {
	if i := strings.LastIndexByte(pod, '-'); i > 0 && len(pod)-i == 6 {
		return pod[:i]
	}
	return pod
}

// OverlapsByApp returns, per application (NAMESPACE/APP), the pairs of its pods' intervals
// that ran at the same time: two drivers of one app at once. Pods of different apps running
// together are no overlap.
func OverlapsByApp(ivs []Interval) map[string][][2]Interval {
	byApp := map[string][]Interval{}
	for _, iv := range ivs {
		k := iv.Namespace + "/" + App(iv.Pod)
		byApp[k] = append(byApp[k], iv)
	}
	out := map[string][][2]Interval{}
	for k, list := range byApp {
		if o := Overlaps(list); len(o) > 0 {
			out[k] = o
		}
	}
	return out
}

// Process looks up the run of the pod with this UID in intervals: whether it
// ever started, and whether it still runs (when not, End is when it stopped).
func Process(ivs []Interval, uid string) (iv Interval, found bool) {
	for _, i := range ivs {
		if i.UID == uid && (!found || i.Start.After(iv.Start)) {
			iv, found = i, true
		}
	}
	return iv, found
}
