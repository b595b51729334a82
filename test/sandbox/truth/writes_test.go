package truth

import (
	"path/filepath"
	"testing"
	"time"
)

func TestConcurrentWriters(t *testing.T) {
	root := t.TempDir()
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	write := func(vol, pod string, s int, refused string) {
		t.Helper()
		if err := AppendWrite(filepath.Join(root, vol), Write{Time: at(s), Volume: vol, Node: "n", Namespace: "ns", Pod: pod, UID: pod + "-uid", Err: refused}); err != nil {
			t.Fatal(err)
		}
	}
	// rwx: old writes 0-10, new from 5: two writers. rwo: old writes 0-4, then only refused
	// writes while new writes from 6: one writer at a time. seq: new starts after old's last.
	for s := 0; s <= 10; s++ {
		write("rwx", "old", s, "")
		if s >= 5 {
			write("rwx", "new", s, "")
		}
		refused := ""
		if s > 4 {
			refused = "detached"
		}
		write("rwo", "old", s, refused)
		if s >= 6 {
			write("rwo", "new", s, "")
		}
		if s <= 3 {
			write("seq", "old", s, "")
		} else if s >= 4 {
			write("seq", "new", s, "")
		}
	}
	ws, err := ReadWrites(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 11+6+11+5+11 {
		t.Fatalf("%d writes", len(ws))
	}
	pairs := ConcurrentWriters(ws)
	if len(pairs) != 1 || pairs[0][0].Volume != "rwx" || pairs[0][0].Pod != "old" || pairs[0][1].Pod != "new" {
		t.Fatalf("pairs: %v", pairs)
	}
	for _, w := range Writers(ws) {
		if w.Volume == "rwo" && w.Pod == "old" && (w.Writes != 5 || w.Refused != 6 || !w.Last.Equal(at(4)) || !w.FirstRefused.Equal(at(5))) {
			t.Errorf("rwo old: %v", w)
		}
	}
}
