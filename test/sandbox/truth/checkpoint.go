package truth

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// A Structured Streaming query's checkpoint and file sink as Spark left them on the volume:
// what the e2e tests read to say whether a query lost or repeated anything across a failover.
// The layout is Spark's: CHECKPOINT/offsets/N and CHECKPOINT/commits/N, one file per micro-batch
// (HDFSMetadataLog, written to a temporary file and renamed), and the sink's SINK/_spark_metadata
// log (FileStreamSinkLog: N and N.compact files, "v1" then one JSON entry per data file).

// Query is what a checkpoint says of its query.
type Query struct {
	Offsets []int // the batch IDs planned, each with its offsets written before it runs
	Commits []int // the batch IDs whose output was committed
}

// ReadQuery reads the batch IDs of a checkpoint directory's offsets and commits logs.
func ReadQuery(dir string) (Query, error) {
	var q Query
	var err error
	if q.Offsets, err = batchIDs(filepath.Join(dir, "offsets")); err != nil {
		return q, err
	}
	q.Commits, err = batchIDs(filepath.Join(dir, "commits"))
	return q, err
}

// LastCommit is the last committed batch ID, -1 if none.
func (q Query) LastCommit() int {
	if len(q.Commits) == 0 {
		return -1
	}
	return q.Commits[len(q.Commits)-1]
}

// MinBatchesToRetain is Spark's default for spark.sql.streaming.minBatchesToRetain: after each
// batch, MicroBatchExecution purges both logs of every batch older than the current one minus
// this many (offsetLog.purge and commitLog.purge(currentBatchId - minLogEntriesToMaintain)), so
// a long-running query's logs start after 0.
const MinBatchesToRetain = 100

// Check says what is wrong with the logs: a gap in the commits (none missing from the first one
// kept), a commit without its offsets, or logs that do not start at 0 although Spark cannot
// have purged them yet (both start at the same batch, at least MinBatchesToRetain before the
// last one planned).
func (q Query) Check() error {
	planned := map[int]bool{}
	for _, id := range q.Offsets {
		planned[id] = true
	}
	if len(q.Commits) > 0 && q.Commits[0] > 0 {
		first := q.Commits[0]
		if len(q.Offsets) == 0 || q.Offsets[0] != first || first > q.Offsets[len(q.Offsets)-1]-MinBatchesToRetain {
			return fmt.Errorf("commits log %v: batches 0..%d are missing, and Spark purges only batches more than %d before the last one planned (offsets log %v)",
				q.Commits, first-1, MinBatchesToRetain, q.Offsets)
		}
	}
	for i, id := range q.Commits {
		if want := q.Commits[0] + i; id != want {
			return fmt.Errorf("commits log %v: batch %d is missing", q.Commits, want)
		}
		if !planned[id] {
			return fmt.Errorf("batch %d committed without offsets (offsets log %v)", id, q.Offsets)
		}
	}
	return nil
}

func batchIDs(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var ids []int
	for _, e := range entries {
		if id, err := strconv.Atoi(e.Name()); err == nil {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	return ids, nil
}

// SinkFiles are the data files the file sink's log says were committed, as paths in dir; files
// in dir that are not listed were written by a batch that never committed, and readers of the
// sink ignore them.
func SinkFiles(dir string) ([]string, error) {
	meta := filepath.Join(dir, "_spark_metadata")
	entries, err := os.ReadDir(meta)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var files []string
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".compact")
		if _, err := strconv.Atoi(name); err != nil {
			continue
		}
		f, err := os.Open(filepath.Join(meta, e.Name()))
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
		for sc.Scan() {
			var entry struct {
				Path   string `json:"path"`
				Action string `json:"action"`
			}
			if json.Unmarshal(sc.Bytes(), &entry) != nil || entry.Path == "" || entry.Action != "add" {
				continue // the "v1" header
			}
			local := filepath.Join(dir, path.Base(entry.Path))
			if !seen[local] {
				seen[local] = true
				files = append(files, local)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

// Window is one output row of the sandbox's streaming app (test/e2e/testdata/spark/
// SparkhaStream.java): an event-time window's row count and the first and last value of the
// rate source in it.
type Window struct {
	Start int64 `json:"start"`
	Rows  int64 `json:"rows"`
	First int64 `json:"first"`
	Last  int64 `json:"last"`
}

// ReadWindows reads the windows of the committed files of a sink directory, by first value.
func ReadWindows(dir string) ([]Window, error) {
	files, err := SinkFiles(dir)
	if err != nil {
		return nil, err
	}
	return readWindows(files)
}

// ReadBatches reads the micro-batches the sandbox's driver-only streaming app
// (test/e2e/testdata/spark/SparkhaDriverSink.java) wrote to dir, one BATCH.json each, as windows
// whose Start is the batch ID, by first value. Its files in the making (".BATCH.json.tmp") are
// not read.
func ReadBatches(dir string) ([]Window, error) {
	files, err := filepath.Glob(filepath.Join(dir, "[0-9]*.json"))
	if err != nil {
		return nil, err
	}
	return readWindows(files)
}

func readWindows(files []string) ([]Window, error) {
	var out []Window
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			var w Window
			if err := json.Unmarshal([]byte(line), &w); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].First < out[j].First })
	return out, nil
}

// CheckWindows says whether the windows tile the rate source's values from 0 with no gap (a
// lost row) and no overlap (a row counted twice, or a window written twice), each holding
// exactly its range's rows, and returns the last value covered.
func CheckWindows(ws []Window) (last int64, err error) {
	next := int64(0)
	starts := map[int64]bool{}
	for _, w := range ws {
		switch {
		case starts[w.Start]:
			return next - 1, fmt.Errorf("window %d written twice (%+v)", w.Start, w)
		case w.First > next:
			return next - 1, fmt.Errorf("values %d..%d lost: no window holds them (next window %+v)", next, w.First-1, w)
		case w.First < next:
			return next - 1, fmt.Errorf("values %d..%d counted twice (window %+v)", w.First, next-1, w)
		case w.Rows != w.Last-w.First+1:
			return next - 1, fmt.Errorf("window %+v holds %d rows for %d values", w, w.Rows, w.Last-w.First+1)
		}
		starts[w.Start] = true
		next = w.Last + 1
	}
	return next - 1, nil
}
