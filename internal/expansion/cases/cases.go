// Package cases holds the expansion cases that internal/expansion's tests and test/expansion
// (against k8s.io/kubernetes' own package) both run, so the port and the original are held to
// one table. The cases follow k8s.io/kubernetes third_party/forked/golang/expansion/expand_test.go.
package cases

// Context is the mapping every case is expanded with.
var Context = map[string]string{
	"VAR_A":     "A",
	"VAR_B":     "B",
	"VAR_C":     "C",
	"VAR_REF":   "$(VAR_A)",
	"VAR_EMPTY": "",
}

// Case is one input and what Kubernetes makes of it.
type Case struct{ Name, Input, Expected string }

// All are the cases.
var All = []Case{
	{"whole string", "$(VAR_A)", "A"},
	{"repeat", "$(VAR_A)-$(VAR_A)", "A-A"},
	{"beginning", "$(VAR_A)-1", "A-1"},
	{"middle", "___$(VAR_B)___", "___B___"},
	{"end", "___$(VAR_C)", "___C"},
	{"compound", "$(VAR_A)_$(VAR_B)_$(VAR_C)", "A_B_C"},
	{"escape and expand", "$$(VAR_B)_$(VAR_A)", "$(VAR_B)_A"},
	{"compound escape", "$$(VAR_A)_$$(VAR_B)", "$(VAR_A)_$(VAR_B)"},
	{"mixed in escapes", "f000-$$VAR_A", "f000-$VAR_A"},
	{"backslash escape ignored", `foo\$(VAR_C)bar`, `foo\Cbar`},
	{"nested references", "$(VAR_A$(VAR_B))", "$(VAR_A$(VAR_B))"},
	{"value is a reference", "$(VAR_REF)", "$(VAR_A)"},
	{"empty var", "foo$(VAR_EMPTY)bar", "foobar"},
	{"unterminated expression", "foo$(VAR_Awhoops!", "foo$(VAR_Awhoops!"},
	{"shell special vars pass through", "$?_boo_$!", "$?_boo_$!"},
	{"bare operators are ignored", "$VAR_A", "$VAR_A"},
	{"undefined vars pass through", "$(VAR_DNE)", "$(VAR_DNE)"},
	{"even operators, undefined", "$$$$$$(BIG_MONEY)", "$$$(BIG_MONEY)"},
	{"odd operators, defined", "$$$$$$$(VAR_A)", "$$$A"},
	{"shell syntax ignored", "${VAR_A}", "${VAR_A}"},
	{"trailing incomplete expression", "$(VAR_B)_______$(A", "B_______$(A"},
	{"operator at the end", "$(VAR_A)foobarzab$", "Afoobarzab$"},
	{"escaped operators in names", "$(foo$$var)", "$(foo$$var)"},
	{"dollar before a multi-byte rune", "prefix-$€-suffix", "prefix-$€-suffix"},
	// What the user writes in spark-submit's arguments and what reaches the process.
	{"a user's double dollar", "a$$b", "a$b"},
	{"a user's reference", "--path=$(HOME)/x", "--path=$(HOME)/x"},
}

// Escaped are strings a user may write; Expand(Escape(s)) must give each back unchanged.
var Escaped = []string{
	"a$$b", "$(VAR_A)", "$$(VAR_A)", "$", "$$$", "price: $5", "${VAR_A}", "$(VAR_A", "x$",
	"prefix-$€-suffix", "no dollar", "",
}
