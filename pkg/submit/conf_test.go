package submit

import (
	"strings"
	"testing"
)

func TestParseMemoryMiB(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"4g", 4096, false},
		{"4G", 4096, false}, // Spark's units are case-insensitive and binary
		{"4gb", 4096, false},
		{"512m", 512, false},
		{"512", 512, false}, // a bare number is MiB, as for spark.driver.memory
		{"1t", 1024 * 1024, false},
		{"1536k", 2, false}, // rounded up to whole MiB
		{"4Gi", 4096, false},
		{"512Mi", 512, false},
		{"1e9", 954, false},
		{"0", 0, true},
		{"4x", 0, true},
		{"-1g", 0, true},
		{"", 0, true},
		{"1e100", 0, true},              // too large, but parsed
		{"1e800000000000000", 0, true},  // apimachinery alone does not return on this
		{"1e-800000000000000", 0, true}, // nor on this
		{"1e0800000000000000", 0, true}, // FuzzParseMemoryMiB's find
	}
	for _, tt := range tests {
		got, err := ParseMemoryMiB(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseMemoryMiB(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// Every quantity a user types goes through parseQuantity, whose exponent bound keeps a typo from
// hanging the command; the bound still lets through every exponent a size can use.
func TestParseQuantityExponent(t *testing.T) {
	for in, want := range map[string]string{"1e100": "10e99", "5e-3": "5e-3", "10Gi": "10Gi", "2E": "2E"} {
		q, err := parseQuantity(in)
		if err != nil || q.String() != want {
			t.Errorf("parseQuantity(%q) = %s, %v; want %s", in, q.String(), err, want)
		}
	}
	for _, in := range []string{"1e101", "1e-101", "1e800000000000000", "1e99999999999999999999"} {
		if _, err := parseQuantity(in); err == nil || !strings.Contains(err.Error(), "exponent") {
			t.Errorf("parseQuantity(%q) = %v; want the exponent refused", in, err)
		}
	}
}

func TestPropertiesRoundTrip(t *testing.T) {
	props := map[string]string{
		"spark.a":             "plain",
		"spark.with space":    " leading space",
		"spark.eq":            "a=b:c",
		"spark.hash":          "#not a comment",
		"spark.multi":         "line1\nline2\ttab",
		"spark.unicode":       "café ☕ 𝄞",
		"spark.backslash":     `C:\path\to`,
		"spark.empty":         "",
		"spark.java.options":  "-Dfoo=bar -Dx=\"y z\"",
		"spark.colon:in:key":  "v",
		"spark.trailing.bs":   `ends\`,
		"spark.exclaim":       "!bang",
		"spark.sql.shuffle.x": "64",
	}
	text := RenderProperties("header", props)
	keys, got, err := ParsePropertiesFile("rendered", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(props) {
		t.Errorf("read %d keys, wrote %d:\n%s", len(keys), len(props), text)
	}
	for k, v := range props {
		if got[k].value != v {
			t.Errorf("%s: read back %q, wrote %q\n%s", k, got[k].value, v, text)
		}
	}
}

func TestParsePropertiesFileFormats(t *testing.T) {
	text := "# comment\n! comment\n\n  spark.a = 1\nspark.b:2\nspark.c 3\nspark.d=x\\\n    y\nspark.a=4\n"
	keys, got, err := ParsePropertiesFile("f", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ",") != "spark.a,spark.b,spark.c,spark.d" {
		t.Errorf("keys %v", keys)
	}
	want := map[string]string{"spark.a": "4", "spark.b": "2", "spark.c": "3", "spark.d": "xy"}
	for k, v := range want {
		if got[k].value != v {
			t.Errorf("%s = %q, want %q", k, got[k].value, v)
		}
	}
	if got["spark.a"].source != `--properties-file "f" line 9` {
		t.Errorf("source %q", got["spark.a"].source)
	}
	if _, _, err := ParsePropertiesFile("f", strings.NewReader("=1\n")); err == nil || err.Error() != `invalid --properties-file "f" line 1: the key is empty; use KEY=VALUE lines` {
		t.Errorf("empty key: %v", err)
	}
}

func TestResolvePrecedence(t *testing.T) {
	cores := 3
	in := Input{
		PropertiesFile: "app.conf",
		PropertiesData: []byte("spark.driver.cores=2\nspark.executor.memory=2g\nspark.ui.enabled=true\nspark.kubernetes.driver.job.backofflimit=9\n"),
		Conf:           []string{"spark.driver.cores=5", "spark.ui.enabled=false", "spark.executor.memory=3g"},
		DriverCores:    &cores,
	}
	app := resolveT(t, in)
	want := map[string]string{
		"spark.driver.cores":                       "3",     // flag > --conf > file
		"spark.ui.enabled":                         "false", // --conf > file
		"spark.executor.memory":                    "3072m", // --conf > file, normalised to MiB
		"spark.kubernetes.driver.job.backofflimit": "9",     // file, no flag
	}
	for k, v := range want {
		if app.Properties[k] != v {
			t.Errorf("%s = %q, want %q", k, app.Properties[k], v)
		}
	}
	if app.BackoffLimit != 9 || app.DriverCores != 3 {
		t.Errorf("backoff %d cores %d", app.BackoffLimit, app.DriverCores)
	}
	if _, ok := app.Properties["spark.kubernetes.executor.podNamePrefix"]; ok {
		t.Error("spark.kubernetes.executor.podNamePrefix must stay unset")
	}
	if _, ok := app.Properties["spark.kubernetes.driver.pod.name"]; ok {
		t.Error("spark.kubernetes.driver.pod.name is per pod, not in the file")
	}
}

func TestDriverMemoryOverhead(t *testing.T) {
	for _, tt := range []struct {
		in       Input
		resource string
		want     string
	}{
		{Input{DriverMemory: "1g"}, "", "1408Mi"},                                                // 1024 + 384 (minimum)
		{Input{DriverMemory: "8g"}, "", "9011Mi"},                                                // 8192 + 819 (10%)
		{Input{DriverMemory: "8g"}, "local:///app.py", "11468Mi"},                                // 8192 + 3276 (40%, non-JVM)
		{Input{DriverMemory: "2g", Conf: []string{"spark.driver.memoryOverhead=1g"}}, "", "3Gi"}, // explicit overhead
	} {
		in := tt.in
		in.Name, in.Namespace, in.AppID = "clicks", "streaming", testAppID
		in.Image, in.MainClass, in.AppResource = "img", "Main", "local:///app.jar"
		if tt.resource != "" {
			in.AppResource = tt.resource
		}
		app, err := Resolve(in)
		if err != nil {
			t.Fatal(err)
		}
		got := Build(app, "").Job.Spec.Template.Spec.Containers[0].Resources.Limits.Memory().String()
		if got != tt.want {
			t.Errorf("%+v: memory %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestNewAppID(t *testing.T) {
	a, b := NewAppID(), NewAppID()
	if !appIDPattern.MatchString(a) || a == b {
		t.Errorf("NewAppID() = %q, %q", a, b)
	}
}
