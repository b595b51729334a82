package submit

import (
	"bytes"
	"fmt"
	"strings"
)

// ReadProperties reads the Spark properties of a ConfigMap's file (name says which, in
// errors) as Spark's loader does: the spark.properties spark-submit writes for its driver.
func ReadProperties(name string, data []byte) (map[string]string, error) {
	_, entries, err := ParsePropertiesFile(name, bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := make(map[string]string, len(entries))
	for k, e := range entries {
		out[k] = e.value
	}
	return out, nil
}

// RuleFor returns the rule of a Spark key: an exact rule of KeyRules, else the longest
// matching prefix rule; false for the keys only the driver reads.
func RuleFor(key string) (KeyRule, bool) { return ruleFor(key) }

// ClientOnly says whether key is read by spark-submit on the submitting machine only (its
// connection to the API server, its wait for the app, its upload of client files): once the
// driver runs, it means nothing.
func ClientOnly(key string) bool {
	for _, p := range []string{"spark.kubernetes.authenticate.submission.", "spark.kubernetes.submission."} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	switch key {
	case "spark.kubernetes.report.interval", "spark.kubernetes.context", "spark.kubernetes.trust.certificates",
		"spark.kubernetes.file.upload.path", "spark.kubernetes.appKillPodDeletionGracePeriod":
		return true
	}
	return false
}
