package submit

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/resource"
)

const mib = 1024 * 1024

// sparkMemory matches Spark's byte strings (JavaUtils.byteStringAs): a whole number with an
// optional binary unit, case-insensitive; "4g" is 4 GiB. A bare number means MiB, as it does
// for spark.driver.memory and spark-submit --driver-memory.
var sparkMemory = regexp.MustCompile(`^(?i)([0-9]+)(k|kb|m|mb|g|gb|t|tb|p|pb)?$`)

// ParseMemoryMiB parses a memory size given either in Spark's notation (4g, 512m, 4096: MiB
// when there is no unit; units are binary and case-insensitive, so 4G is 4Gi as in Spark)
// or as a Kubernetes quantity (4Gi, 512Mi, 1e9). It returns whole MiB, rounded up.
func ParseMemoryMiB(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if m := sparkMemory.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return 0, err
		}
		var bytes float64
		switch strings.TrimSuffix(strings.ToLower(m[2]), "b") {
		case "k":
			bytes = float64(n) * 1024
		case "", "m":
			bytes = float64(n) * mib
		case "g":
			bytes = float64(n) * mib * 1024
		case "t":
			bytes = float64(n) * mib * 1024 * 1024
		case "p":
			bytes = float64(n) * mib * 1024 * 1024 * 1024
		}
		return ceilMiB(bytes)
	}
	q, err := parseQuantity(s)
	if err != nil {
		return 0, err
	}
	return ceilMiB(q.AsApproximateFloat64())
}

// quantityExponent is the decimal exponent a Kubernetes quantity may end with ("1e9").
var quantityExponent = regexp.MustCompile(`[eE]([+-]?[0-9]+)$`)

// parseQuantity is resource.ParseQuantity for what users type: apimachinery's parser does not
// return on a fifteen-digit exponent ("1e800000000000000" ran for minutes, found by
// FuzzParseMemoryMiB), so an exponent beyond ±100, more than any size or count we take can
// use, is refused before it gets there.
func parseQuantity(s string) (resource.Quantity, error) {
	if m := quantityExponent.FindStringSubmatch(s); m != nil {
		if e, err := strconv.Atoi(m[1]); err != nil || e > 100 || e < -100 {
			return resource.Quantity{}, fmt.Errorf("the exponent %s is out of range", m[1])
		}
	}
	return resource.ParseQuantity(s)
}

func ceilMiB(bytes float64) (int64, error) {
	// !(bytes > 0) also refuses NaN: resource.ParseQuantity accepts "e700" as 0×10^700, whose
	// approximate float is NaN (found by FuzzParseMemoryMiB).
	if !(bytes > 0) {
		return 0, fmt.Errorf("must be more than zero")
	}
	if bytes > float64(1<<62) {
		return 0, fmt.Errorf("too large")
	}
	n := int64(bytes / mib)
	if float64(n)*mib < bytes {
		n++
	}
	return n, nil
}

// confEntry is one Spark property with the place it came from, for error messages.
type confEntry struct {
	value  string
	source string // e.g. `--conf`, `--properties-file "app.conf" line 3`, `--driver-memory`
}

// ParseConfArg splits one --conf KEY=VALUE argument.
func ParseConfArg(arg string) (key, value string, err error) {
	i := strings.Index(arg, "=")
	if i < 0 {
		return "", "", fmt.Errorf("invalid --conf %q: use KEY=VALUE, e.g. --conf spark.sql.shuffle.partitions=64", arg)
	}
	key, value = strings.TrimSpace(arg[:i]), arg[i+1:]
	if key == "" {
		return "", "", fmt.Errorf("invalid --conf %q: the key is empty; use KEY=VALUE, e.g. --conf spark.sql.shuffle.partitions=64", arg)
	}
	return key, value, nil
}

// ParsePropertiesFile reads a Spark properties file (the format of spark-defaults.conf and
// spark-submit --properties-file: Java properties). It supports comments (# and !), the
// separators '=', ':' and whitespace, backslash escapes and line continuations.
// Keys keep their order of appearance; a later duplicate wins, as in java.util.Properties.
func ParsePropertiesFile(name string, r io.Reader) ([]string, map[string]confEntry, error) {
	var keys []string
	entries := map[string]confEntry{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		start := lineNo
		line := strings.TrimLeft(sc.Text(), " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// A line ending in an odd number of backslashes continues on the next line.
		for endsWithContinuation(line) && sc.Scan() {
			lineNo++
			line = line[:len(line)-1] + strings.TrimLeft(sc.Text(), " \t\f")
		}
		rawKey, rawValue := splitProperty(line)
		key, value := unescapeProperty(rawKey), unescapeProperty(rawValue)
		if key == "" {
			return nil, nil, fmt.Errorf("invalid --properties-file %q line %d: the key is empty; use KEY=VALUE lines", name, start)
		}
		if _, seen := entries[key]; !seen {
			keys = append(keys, key)
		}
		entries[key] = confEntry{value: value, source: fmt.Sprintf("--properties-file %q line %d", name, start)}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading --properties-file %q: %w", name, err)
	}
	return keys, entries, nil
}

func endsWithContinuation(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func splitProperty(line string) (string, string) {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++ // skip the escaped character
		case '=', ':':
			return line[:i], strings.TrimLeft(line[i+1:], " \t\f")
		case ' ', '\t', '\f':
			rest := strings.TrimLeft(line[i:], " \t\f")
			if rest != "" && (rest[0] == '=' || rest[0] == ':') {
				rest = strings.TrimLeft(rest[1:], " \t\f")
			}
			return line[:i], rest
		}
	}
	return line, ""
}

func unescapeProperty(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i == len(s)-1 {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if r, ok := hex4(s, i+1); ok {
				i += 4
				// Java writes characters outside the BMP as a UTF-16 surrogate pair.
				if utf16.IsSurrogate(r) && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if r2, ok := hex4(s, i+3); ok {
						if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
							r = pair
							i += 6
						}
					}
				}
				b.WriteRune(r)
				continue
			}
			b.WriteByte('u')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// RenderProperties writes properties in java.util.Properties format, keys sorted, so that
// Spark's loader reads back exactly these keys and values.
func RenderProperties(header string, props map[string]string) string {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	if header != "" {
		b.WriteString("# " + header + "\n")
	}
	for _, k := range keys {
		b.WriteString(escapeProperty(k, true))
		b.WriteByte('=')
		b.WriteString(escapeProperty(props[k], false))
		b.WriteByte('\n')
	}
	return b.String()
}

func escapeProperty(s string, isKey bool) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == ' ' && (isKey || i == 0):
			b.WriteString(`\ `)
		case (r == '=' || r == ':' || r == '#' || r == '!') && (isKey || i == 0):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			if r > 0xffff {
				for _, u := range utf16Pair(r) {
					fmt.Fprintf(&b, `\u%04x`, u)
				}
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hex4(s string, at int) (rune, bool) {
	if at+4 > len(s) {
		return 0, false
	}
	r, err := strconv.ParseUint(s[at:at+4], 16, 32)
	return rune(r), err == nil
}

func utf16Pair(r rune) [2]rune {
	r -= 0x10000
	return [2]rune{0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff}
}
