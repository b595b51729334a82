package sparkrt

import "testing"

// Init exits as its child did, as tini does: the code, 128+N for a signal, 127 for a command
// that does not exist.
func TestInitExitCodes(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"sh", "-c", "exit 0"}, 0},
		{[]string{"sh", "-c", "exit 3"}, 3},
		{[]string{"sh", "-c", "kill -TERM $$"}, 143},
		{[]string{"sh", "-c", "kill -KILL $$"}, 137},
		{[]string{"/nonexistent/java"}, 127},
		{nil, 2},
	} {
		if got := Init(c.args); got != c.want {
			t.Errorf("Init(%q) = %d, want %d", c.args, got, c.want)
		}
	}
}
