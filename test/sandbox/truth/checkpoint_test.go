package truth

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadQuery(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"offsets/0", "offsets/1", "offsets/2", "offsets/.2.tmp", "commits/0", "commits/1"} {
		write(t, filepath.Join(dir, f), "v1")
	}
	q, err := ReadQuery(dir)
	if err != nil || !slices.Equal(q.Offsets, []int{0, 1, 2}) || !slices.Equal(q.Commits, []int{0, 1}) || q.LastCommit() != 1 || q.Check() != nil {
		t.Fatalf("ReadQuery = %+v, %v; Check %v", q, err, q.Check())
	}
	for _, bad := range []Query{{Offsets: []int{0, 1, 2}, Commits: []int{0, 2}}, {Offsets: []int{0}, Commits: []int{0, 1}}} {
		if bad.Check() == nil {
			t.Errorf("Check(%+v) found nothing wrong", bad)
		}
	}
	// Spark purges both logs up to 100 batches before the current one: batches 12..112 committed
	// and 12..113 planned is a query that ran from 0.
	purged := Query{Offsets: ids(12, 113), Commits: ids(12, 112)}
	if err := purged.Check(); err != nil {
		t.Errorf("Check of logs Spark purged: %v", err)
	}
	for name, c := range map[string]struct {
		q    Query
		want string
	}{
		"too early":    {Query{Offsets: ids(12, 100), Commits: ids(12, 99)}, "batches 0..11 are missing"},
		"offsets kept": {Query{Offsets: ids(0, 113), Commits: ids(12, 112)}, "batches 0..11 are missing"},
		"gap after":    {Query{Offsets: ids(12, 113), Commits: append(ids(12, 50), ids(52, 112)...)}, "batch 51 is missing"},
		"no offsets":   {Query{Commits: ids(12, 112)}, "batches 0..11 are missing"},
		"purged later": {Query{Offsets: ids(20, 121), Commits: ids(20, 120)}, ""},
	} {
		err := c.q.Check()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: Check = %v; want %q", name, err, c.want)
		}
	}
}

func ids(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// Only the files the sink's log lists count: a part file of a batch that never committed is
// ignored, as Spark's readers of the sink ignore it.
func TestReadWindows(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "_spark_metadata/0"), "v1\n"+`{"path":"file:///checkpoint/sink/part-a.json","size":1,"isDir":false,"action":"add"}`+"\n")
	write(t, filepath.Join(dir, "_spark_metadata/1.compact"), "v1\n"+`{"path":"file:///checkpoint/sink/part-a.json","action":"add"}`+"\n"+`{"path":"file:///checkpoint/sink/part-b.json","action":"add"}`+"\n")
	write(t, filepath.Join(dir, "part-a.json"), `{"start":10,"rows":4,"first":0,"last":3}`+"\n")
	write(t, filepath.Join(dir, "part-b.json"), `{"start":12,"rows":10,"first":4,"last":13}`+"\n"+`{"start":14,"rows":10,"first":14,"last":23}`+"\n")
	write(t, filepath.Join(dir, "part-uncommitted.json"), `{"start":14,"rows":10,"first":14,"last":23}`+"\n")
	ws, err := ReadWindows(dir)
	if err != nil || len(ws) != 3 {
		t.Fatalf("ReadWindows = %+v, %v", ws, err)
	}
	if last, err := CheckWindows(ws); err != nil || last != 23 {
		t.Fatalf("CheckWindows = %d, %v", last, err)
	}
	for name, c := range map[string]struct {
		ws   []Window
		want string
	}{
		"lost":    {[]Window{{Start: 1, Rows: 2, First: 0, Last: 1}, {Start: 3, Rows: 2, First: 4, Last: 5}}, "values 2..3 lost"},
		"twice":   {[]Window{{Start: 1, Rows: 2, First: 0, Last: 1}, {Start: 3, Rows: 2, First: 1, Last: 2}}, "values 1..1 counted twice"},
		"written": {[]Window{{Start: 1, Rows: 2, First: 0, Last: 1}, {Start: 1, Rows: 2, First: 2, Last: 3}}, "window 1 written twice"},
		"rows":    {[]Window{{Start: 1, Rows: 3, First: 0, Last: 1}}, "holds 3 rows for 2 values"},
		"start":   {[]Window{{Start: 1, Rows: 2, First: 1, Last: 2}}, "values 0..0 lost"},
	} {
		if _, err := CheckWindows(c.ws); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: CheckWindows = %v; want %q", name, err, c.want)
		}
	}
}

func TestReadBatches(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "0.json"), `{"start":0,"rows":3,"first":0,"last":2}`+"\n")
	write(t, filepath.Join(dir, "1.json"), `{"start":1,"rows":5,"first":3,"last":7}`+"\n")
	write(t, filepath.Join(dir, "10.json"), `{"start":10,"rows":2,"first":8,"last":9}`+"\n")
	write(t, filepath.Join(dir, ".11.json.tmp"), `{"start":11,"rows":2,"first":9,"last":10}`+"\n")
	ws, err := ReadBatches(dir)
	if err != nil || len(ws) != 3 || ws[2].Start != 10 {
		t.Fatalf("ReadBatches = %+v, %v", ws, err)
	}
	if last, err := CheckWindows(ws); err != nil || last != 9 {
		t.Fatalf("CheckWindows = %d, %v", last, err)
	}
	// A batch whose rows another batch also holds: counted twice.
	write(t, filepath.Join(dir, "11.json"), `{"start":11,"rows":2,"first":9,"last":10}`+"\n")
	ws, _ = ReadBatches(dir)
	if _, err := CheckWindows(ws); err == nil || !strings.Contains(err.Error(), "values 9..9 counted twice") {
		t.Fatalf("CheckWindows = %v; want values 9..9 counted twice", err)
	}
}
