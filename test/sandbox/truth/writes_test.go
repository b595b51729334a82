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

// A driver and its executors are one writer; two generations overlapping are two.
func TestConcurrentGenerations(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 11, 29, 0, 0, s, 0, time.UTC) }
	ws := []Write{
		{Time: at(0), Volume: "v", Pod: "d1", UID: "d1", Role: "driver"},
		{Time: at(1), Volume: "v", Pod: "e1", UID: "e1", Role: "executor", Driver: "d1"},
		{Time: at(2), Volume: "v", Pod: "d1", UID: "d1", Role: "driver"},
		{Time: at(3), Volume: "v", Pod: "e2", UID: "e2", Role: "executor", Driver: "d2"},
		{Time: at(4), Volume: "v", Pod: "d2", UID: "d2", Role: "driver"},
	}
	if got := ConcurrentGenerations(ws); len(got) != 0 {
		t.Errorf("one generation after the other: %v", got)
	}
	if got := ConcurrentWriters(ws); len(got) == 0 {
		t.Errorf("by pod, driver d1 and executor e1 overlap; ConcurrentWriters found none")
	}
	ws = append(ws, Write{Time: at(5), Volume: "v", Pod: "e1", UID: "e1", Role: "executor", Driver: "d1"})
	got := ConcurrentGenerations(ws)
	if len(got) != 1 || got[0][0].UID != "d1" || got[0][1].UID != "d2" {
		t.Errorf("generation d1 wrote again after d2 started: %v", got)
	}
}
