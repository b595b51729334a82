package truth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Writes are the second half of the ground truth: which running pod wrote to which piece of
// storage, and when, as the storage saw it. A machine cut off from the API server keeps
// running its pods, and they keep writing wherever the storage still lets them; the API cannot
// show that, this record does. Each piece of storage has its own file, WritesFile in its data
// directory, appended to by every machine that writes there.

// WritesFile is the name of a storage directory's record of writes.
const WritesFile = "writes.jsonl"

// Write is one write of a running pod to a volume, or one the storage refused (Err set).
type Write struct {
	Time time.Time `json:"time"`
	// Volume names the storage (the directory's name under the volumes root).
	Volume    string `json:"volume"`
	Node      string `json:"node"`
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	UID       string `json:"uid"`
	Role      string `json:"role,omitempty"`
	// Driver is, for a Spark executor, its driver pod's UID: the driver generation it writes for.
	Driver string `json:"driver,omitempty"`
	// Err is why the storage refused the write (a volume detached from this node).
	Err string `json:"err,omitempty"`
}

// AppendWrite appends w to the record in the storage directory dir: one line, written with one
// O_APPEND write so that machines writing the same volume at once do not interleave.
func AppendWrite(dir string, w Write) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(w)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, WritesFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadWrites loads every storage directory's record under root, ordered by time.
func ReadWrites(root string) ([]Write, error) {
	files, err := filepath.Glob(filepath.Join(root, "*", WritesFile))
	if err != nil {
		return nil, err
	}
	var out []Write
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
		for i, line := range lines {
			var w Write
			if err := json.Unmarshal(line, &w); err != nil {
				// A machine killed mid-write leaves a torn last line; anything else is a bug.
				if i == len(lines)-1 {
					continue
				}
				return nil, fmt.Errorf("%s:%d: %w", file, i+1, err)
			}
			out = append(out, w)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// Writer is one pod's span of successful writes to one volume: from its first to its last.
type Writer struct {
	Volume, Namespace, Pod, UID, Node string
	First, Last                       time.Time
	Writes                            int
	// Refused counts the writes the storage refused; FirstRefused is the first of them.
	Refused      int
	FirstRefused time.Time
}

func (w Writer) String() string {
	s := fmt.Sprintf("%s/%s on %s wrote %s %d times from %s to %s", w.Namespace, w.Pod, w.Node, w.Volume, w.Writes,
		w.First.Format("15:04:05.000"), w.Last.Format("15:04:05.000"))
	if w.Refused > 0 {
		s += fmt.Sprintf(" (%d refused from %s)", w.Refused, w.FirstRefused.Format("15:04:05.000"))
	}
	return s
}

// Writers groups writes by volume and pod, ordered by first write.
func Writers(ws []Write) []Writer {
	type key struct{ volume, uid string }
	idx := map[key]int{}
	var out []Writer
	for _, w := range ws {
		k := key{w.Volume, w.UID}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Writer{Volume: w.Volume, Namespace: w.Namespace, Pod: w.Pod, UID: w.UID, Node: w.Node})
		}
		wr := &out[i]
		if w.Err != "" {
			if wr.Refused == 0 {
				wr.FirstRefused = w.Time
			}
			wr.Refused++
			continue
		}
		if wr.Writes == 0 {
			wr.First = w.Time
		}
		wr.Last = w.Time
		wr.Writes++
	}
	kept := out[:0]
	for _, w := range out {
		if w.Writes > 0 || w.Refused > 0 {
			kept = append(kept, w)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].First.Before(kept[j].First) })
	return kept
}

// ConcurrentWriters returns the pairs of pods that wrote to one volume during overlapping
// spans: two writers of one checkpoint. Spans are closed intervals of successful writes, so
// a pod that took over a volume after the previous one's last write is not a pair.
func ConcurrentWriters(ws []Write) [][2]Writer {
	writers := Writers(ws)
	var out [][2]Writer
	for i, a := range writers {
		for _, b := range writers[i+1:] {
			if a.Volume != b.Volume || a.Writes == 0 || b.Writes == 0 {
				continue
			}
			if !b.First.After(a.Last) && !a.First.After(b.Last) {
				out = append(out, [2]Writer{a, b})
			}
		}
	}
	return out
}

// ConcurrentGenerations is ConcurrentWriters by Spark driver generation: a driver and its
// executors write one checkpoint together (the driver its offsets and commits, the executors the
// state store and the sink's files), so they count as one writer, and two generations writing one
// volume during overlapping spans are two writers of one checkpoint.
func ConcurrentGenerations(ws []Write) [][2]Writer {
	gens := make([]Write, len(ws))
	for i, w := range ws {
		if w.Driver != "" {
			w.UID = w.Driver
		}
		gens[i] = w
	}
	return ConcurrentWriters(gens)
}
