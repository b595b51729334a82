// Package expansion expands $(VAR) references the way Kubernetes does in a container's env
// values, command and args. It is a port of k8s.io/kubernetes
// third_party/forked/golang/expansion/expand.go (v1.37.2), which the kubelet uses
// (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables, and
// pkg/kubelet/container/helpers.go ExpandContainerCommandAndArgs); the product module must not
// import k8s.io/kubernetes, so the port lives here and test/expansion checks it against the
// original on the same cases.
package expansion

import (
	"strings"
	"unicode/utf8"
)

const (
	operator        = '$'
	referenceOpener = '('
	referenceCloser = ')'
)

// MappingFuncFor returns a mapping for Expand that looks a name up in each context in turn
// and leaves an unknown reference as written ($(NAME)).
func MappingFuncFor(context ...map[string]string) func(string) string {
	return func(input string) string {
		for _, vars := range context {
			if val, ok := vars[input]; ok {
				return val
			}
		}
		return string(operator) + string(referenceOpener) + input + string(referenceCloser)
	}
}

// Expand replaces $(NAME) by mapping(NAME) and $$ by $; any other $ is kept.
func Expand(input string, mapping func(string) string) string {
	var buf strings.Builder
	checkpoint := 0
	for cursor := 0; cursor < len(input); cursor++ {
		if input[cursor] == operator && cursor+1 < len(input) {
			buf.WriteString(input[checkpoint:cursor])
			read, isVar, advance := tryReadVariableName(input[cursor+1:])
			if isVar {
				buf.WriteString(mapping(read))
			} else {
				buf.WriteString(read)
			}
			cursor += advance
			checkpoint = cursor + 1
		}
	}
	return buf.String() + input[checkpoint:]
}

// tryReadVariableName reads what follows a '$': the content read, whether it is a variable
// name, and the number of bytes consumed.
func tryReadVariableName(input string) (string, bool, int) {
	r, size := utf8.DecodeRuneInString(input)
	switch r {
	case operator:
		// Escaped operator.
		return input[0:size], false, size
	case referenceOpener:
		for i := 1; i < len(input); i++ {
			if input[i] == referenceCloser {
				return input[1:i], true, i + 1
			}
		}
		// Incomplete reference.
		return string(operator) + string(referenceOpener), false, 1
	default:
		return string(operator) + string(r), false, size
	}
}

// Escape returns s written so that Expand gives s back whatever the mapping: every '$'
// doubled. A container arg built from user input goes through it, so that Kubernetes hands
// the user's '$' to the process unchanged.
func Escape(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// EscapeRefs returns s with only its references to names escaped: Expand of the result, with
// those names defined, gives what Expand of s gives without them, every other reference and
// $$ expanding as in s. A spark-submit argument goes through it, so that Kubernetes expands it
// as it would in spark-submit's driver pod, which has none of names.
func EscapeRefs(s string, names map[string]bool) string {
	var buf strings.Builder
	checkpoint := 0
	for cursor := 0; cursor < len(s); cursor++ {
		if s[cursor] != operator || cursor+1 >= len(s) {
			continue
		}
		read, isVar, advance := tryReadVariableName(s[cursor+1:])
		if isVar && names[read] {
			buf.WriteString(s[checkpoint:cursor])
			buf.WriteString(string(operator) + string(operator) + string(referenceOpener) + read + string(referenceCloser))
			checkpoint = cursor + 1 + advance
		}
		cursor += advance
	}
	return buf.String() + s[checkpoint:]
}
