package submit

// Fuzz targets for everything submit parses from the user before any API call: --conf
// KEY=VALUE, --properties-file content, memory sizes (Spark's notation and Kubernetes
// quantities), names and labels. `go test ./...` runs the committed seed corpus
// (testdata/fuzz/FuzzX) and the f.Add seeds as plain tests; `make fuzz` explores further.

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// FuzzParseConfArg: no panic; an accepted argument splits at its first '=' into a non-empty,
// trimmed key without '=' and the exact rest as value; a refused one has no '=' or an empty key.
func FuzzParseConfArg(f *testing.F) {
	for _, s := range []string{"spark.a=1", "spark.a==", "=x", " spark.x = y ", "noequals", "", "spark.java.opts=-Dx=y -Dz", "\t=\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		key, value, err := ParseConfArg(arg)
		i := strings.Index(arg, "=")
		if err != nil {
			if i >= 0 && strings.TrimSpace(arg[:i]) != "" {
				t.Fatalf("ParseConfArg(%q) refused a KEY=VALUE argument: %v", arg, err)
			}
			if !strings.Contains(err.Error(), "--conf") {
				t.Fatalf("ParseConfArg(%q): error does not name the flag: %v", arg, err)
			}
			return
		}
		if i < 0 || key == "" || strings.Contains(key, "=") || key != strings.TrimSpace(key) {
			t.Fatalf("ParseConfArg(%q) = key %q", arg, key)
		}
		if value != arg[i+1:] || strings.TrimSpace(arg[:i]) != key {
			t.Fatalf("ParseConfArg(%q) = %q, %q: not split at the first '='", arg, key, value)
		}
	})
}

// FuzzParsePropertiesFile: no panic; every key is non-empty, listed once, in entries, with a
// source naming the file and a line that exists; and what RenderProperties writes (the
// spark.properties of the driver ConfigMap) reads back as exactly the same keys and values.
func FuzzParsePropertiesFile(f *testing.F) {
	for _, s := range []string{
		"# comment\n! comment\n\n  spark.a = 1\nspark.b:2\nspark.c 3\nspark.d=x\\\n    y\nspark.a=4\n",
		"spark.unicode=caf\\u00e9 \\ud834\\udd1e\n",
		"spark.trailing=ends\\\\\nspark.cont=a\\\n",
		"key\\ with\\ space=v\\=\\:\\#\n",
		"=empty key\n",
		"spark.x\r\nspark.y=\\r\\n\\t\\f\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, entries, err := ParsePropertiesFile("f.conf", bytes.NewReader(data))
		if err != nil {
			if !strings.Contains(err.Error(), `--properties-file "f.conf"`) {
				t.Fatalf("error does not name the flag and file: %v", err)
			}
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		if len(keys) != len(entries) {
			t.Fatalf("%d keys, %d entries", len(keys), len(entries))
		}
		props := map[string]string{}
		for _, k := range keys {
			e, ok := entries[k]
			if k == "" || !ok {
				t.Fatalf("key %q: empty or without entry", k)
			}
			if _, dup := props[k]; dup {
				t.Fatalf("key %q listed twice", k)
			}
			var line int
			if _, err := fmt.Sscanf(e.source, `--properties-file "f.conf" line %d`, &line); err != nil || line < 1 || line > lines {
				t.Fatalf("key %q: source %q (file has %d lines)", k, e.source, lines)
			}
			props[k] = e.value
		}
		// Invalid UTF-8 cannot round-trip: Spark reads the file as UTF-8 and sees U+FFFD,
		// which is also what RenderProperties writes for it.
		for k, v := range props {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return
			}
		}
		text := RenderProperties("header", props)
		keys2, back, err := ParsePropertiesFile("rendered", strings.NewReader(text))
		if err != nil {
			t.Fatalf("reading back what RenderProperties wrote: %v\n%s", err, text)
		}
		if len(keys2) != len(props) {
			t.Fatalf("wrote %d keys, read back %d:\n%s", len(props), len(keys2), text)
		}
		for k, v := range props {
			if got, ok := back[k]; !ok || got.value != v {
				t.Fatalf("key %q: wrote %q, read back %q (present %t):\n%s", k, v, got.value, ok, text)
			}
		}
	})
}

// FuzzParseMemoryMiB: no panic; a result is at least 1 MiB and at most 2^62 bytes; Spark's
// units are binary and case-insensitive and agree with the Kubernetes quantities for n.
func FuzzParseMemoryMiB(f *testing.F) {
	for _, s := range []string{"4g", "4G", "4gb", "512m", "512", "1t", "1536k", "4Gi", "512Mi", "1e9", "0", "-1g", "", "99999999999999999999g", "1e400", "1P", "0.5Gi", " 2g "} {
		f.Add(s, uint32(len(s)*37+1))
	}
	f.Fuzz(func(t *testing.T, s string, n uint32) {
		got, err := ParseMemoryMiB(s)
		if err == nil && (got < 1 || got > (1<<62)/mib) {
			t.Fatalf("ParseMemoryMiB(%q) = %d MiB", s, got)
		}
		if err == nil {
			// Whatever notation, the result is what the quantity "<got>Mi" holds, rounded up.
			if q, qerr := resource.ParseQuantity(strings.TrimSpace(s)); qerr == nil && !sparkMemory.MatchString(strings.TrimSpace(s)) {
				if f := q.AsApproximateFloat64() / mib; float64(got) < f || float64(got) > f+1 {
					t.Fatalf("ParseMemoryMiB(%q) = %d MiB, quantity is %f MiB", s, got, f)
				}
			}
		}
		if n == 0 {
			return
		}
		m := int64(n)
		for _, c := range []struct {
			s    string
			want int64
		}{
			{fmt.Sprint(n), m}, {fmt.Sprintf("%dm", n), m}, {fmt.Sprintf("%dMB", n), m}, {fmt.Sprintf("%dMi", n), m},
			{fmt.Sprintf("%dg", n), m * 1024}, {fmt.Sprintf("%dGi", n), m * 1024}, {fmt.Sprintf("%dT", n), m * 1024 * 1024},
			{fmt.Sprintf("%dk", n), (m + 1023) / 1024}, {fmt.Sprintf("%dKi", n), (m + 1023) / 1024},
		} {
			if c.want > (1<<62)/mib {
				if _, err := ParseMemoryMiB(c.s); err == nil {
					t.Fatalf("ParseMemoryMiB(%q) accepted more than 2^62 bytes", c.s)
				}
				continue
			}
			if got, err := ParseMemoryMiB(c.s); err != nil || got != c.want {
				t.Fatalf("ParseMemoryMiB(%q) = %d, %v; want %d", c.s, got, err, c.want)
			}
		}
	})
}

// FuzzResolve: Resolve never panics on any NAME, namespace, memory, size, labels, --conf or
// properties file; what it accepts builds objects whose names and labels the API server
// accepts, a spark.properties that reads back exactly, and the keys kubectl sparkha owns.
func FuzzResolve(f *testing.F) {
	f.Add("stream", "streaming", "4g", "2Gi", "10Gi", "team=data", "spark.sql.shuffle.partitions=64", []byte("spark.executor.instances=2\n"))
	f.Add("a", "default", "512", "", "", "", "spark.driver.memoryOverhead=1g", []byte(""))
	f.Add("Stream", "ns", "4x", "1", "0", "a=b,c", "spark.master=local", []byte("spark.app.name=x\n"))
	f.Add(strings.Repeat("a", MaxNameLength), "n", "1e9", "1P", "1Ei", "k=", "x=y", []byte("=\n"))
	f.Add(strings.Repeat("a", MaxNameLength+1), "n", "", "", "", "", "spark.driver.cores=0", []byte("spark.kubernetes.memoryOverheadFactor=0.5\n"))
	f.Add("x-", "ns", "1t", "1k", "1", "spark-role=driver", "spark.kubernetes.driver.job.backofflimit=-1", []byte("spark.driver.memory 8g\n"))
	f.Fuzz(func(t *testing.T, name, ns, driverMem, execMem, checkpointSize, labels, conf string, props []byte) {
		in := Input{
			Name: name, Namespace: ns, Image: "apache/spark:4.0.0", MainClass: "org.example.Main",
			AppResource: "local:///opt/app.jar", AppID: "spark-0123456789abcdef0123456789abcdef",
			DriverMemory: driverMem, ExecutorMemory: execMem, CheckpointSize: checkpointSize, Labels: labels,
			Conf: []string{conf}, PropertiesFile: "f.conf", PropertiesData: props, NodeLostTimeout: 60 * time.Second,
		}
		app, err := Resolve(in)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if errs := validation.IsDNS1035Label(app.Name); len(errs) > 0 || len(app.Name) > MaxNameLength {
			t.Fatalf("accepted NAME %q: %v", app.Name, errs)
		}
		if app.DriverMemoryMiB < 1 || app.DriverOverheadMiB < 1 || app.DriverCores < 1 || app.BackoffLimit < 0 {
			t.Fatalf("accepted %+v", app)
		}
		objs := Build(app, "")
		if errs := validation.IsDNS1035Label(objs.Service.Name); len(errs) > 0 {
			t.Fatalf("Service name %q: %v", objs.Service.Name, errs)
		}
		for _, n := range []string{objs.Job.Name, objs.ConfigMap.Name} {
			if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
				t.Fatalf("object name %q: %v", n, errs)
			}
		}
		if objs.Checkpoint != nil {
			if errs := validation.IsDNS1123Subdomain(objs.Checkpoint.Name); len(errs) > 0 {
				t.Fatalf("claim name %q: %v", objs.Checkpoint.Name, errs)
			}
			if q := objs.Checkpoint.Spec.Resources.Requests["storage"]; q.Sign() <= 0 {
				t.Fatalf("claim size %s", q.String())
			}
		}
		for k, v := range objs.Job.Spec.Template.Labels {
			if errs := validation.IsQualifiedName(k); len(errs) > 0 {
				t.Fatalf("label key %q: %v", k, errs)
			}
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				t.Fatalf("label %s=%q: %v", k, v, errs)
			}
		}
		for k, want := range map[string]string{
			"spark.master": KubernetesMasterInPod, "spark.submit.deployMode": "cluster", "spark.kubernetes.namespace": ns,
			"spark.driver.memory": strconv.FormatInt(app.DriverMemoryMiB, 10) + "m", "spark.driver.port": "7078",
		} {
			if got := app.Properties[k]; got != want {
				t.Fatalf("property %s = %q, want %q", k, got, want)
			}
		}
		for _, k := range []string{"spark.app.id", "spark.kubernetes.driver.pod.name", "spark.kubernetes.executor.podNamePrefix"} {
			if _, ok := app.Properties[k]; ok {
				t.Fatalf("reserved key %s in spark.properties", k)
			}
		}
		text := objs.ConfigMap.Data[SparkConfFile]
		_, back, err := ParsePropertiesFile("rendered", strings.NewReader(text))
		if err != nil {
			t.Fatalf("spark.properties does not read back: %v\n%s", err, text)
		}
		for k, v := range app.Properties {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				continue
			}
			if back[k].value != v {
				t.Fatalf("spark.properties %s: wrote %q, read back %q", k, v, back[k].value)
			}
		}
	})
}
