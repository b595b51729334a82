package expansion

import (
	"testing"

	"github.com/kubectl-sparkha/kubectl-sparkha/internal/expansion/cases"
)

func TestExpand(t *testing.T) {
	mapping := MappingFuncFor(cases.Context)
	for _, c := range cases.All {
		if got := Expand(c.Input, mapping); got != c.Expected {
			t.Errorf("%s: Expand(%q) = %q, want %q", c.Name, c.Input, got, c.Expected)
		}
	}
}

// Env values expand in order: a value sees only the variables declared before it, as the
// kubelet builds them (makeEnvironmentVariables).
func TestExpandInOrder(t *testing.T) {
	declared := map[string]string{}
	mapping := MappingFuncFor(declared)
	for _, e := range [][2]string{{"FOO", "bar"}, {"ZOO", "$(FOO)-1"}, {"BLU", "$(ZOO)-2"}, {"EARLY", "$(LATE)"}, {"LATE", "x"}} {
		declared[e[0]] = Expand(e[1], mapping)
	}
	want := map[string]string{"FOO": "bar", "ZOO": "bar-1", "BLU": "bar-1-2", "EARLY": "$(LATE)", "LATE": "x"}
	for k, v := range want {
		if declared[k] != v {
			t.Errorf("%s = %q, want %q", k, declared[k], v)
		}
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	mapping := MappingFuncFor(cases.Context)
	for _, s := range cases.Escaped {
		if got := Expand(Escape(s), mapping); got != s {
			t.Errorf("Expand(Escape(%q)) = %q (escaped %q)", s, got, Escape(s))
		}
	}
}

func FuzzEscapeRoundTrip(f *testing.F) {
	for _, s := range cases.Escaped {
		f.Add(s)
	}
	mapping := MappingFuncFor(cases.Context)
	f.Fuzz(func(t *testing.T, s string) {
		if got := Expand(Escape(s), mapping); got != s {
			t.Fatalf("Expand(Escape(%q)) = %q", s, got)
		}
	})
}

// EscapeRefs keeps what Kubernetes makes of a string when the escaped names become defined.
func TestEscapeRefs(t *testing.T) {
	own := map[string]bool{"POD": true}
	without := MappingFuncFor(map[string]string{"HOME": "/home/spark"})
	with := MappingFuncFor(map[string]string{"HOME": "/home/spark", "POD": "pi-x7k2p"})
	for _, tt := range []struct{ in, want string }{
		{"$(POD)", "$$(POD)"},
		{"$(HOME)/$(POD)", "$(HOME)/$$(POD)"},
		{"$$(POD)", "$$(POD)"},
		{"$$$(POD)", "$$$$(POD)"},
		{"a$b $( $(POD", "a$b $( $(POD"},
		{"x$(POD)y$(POD)", "x$$(POD)y$$(POD)"},
		{"$(POD)$", "$$(POD)$"},
		{"", ""},
	} {
		got := EscapeRefs(tt.in, own)
		if got != tt.want {
			t.Errorf("EscapeRefs(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if a, b := Expand(got, with), Expand(tt.in, without); a != b {
			t.Errorf("%q: expands to %q with POD defined, %q as written without it", tt.in, a, b)
		}
	}
}
