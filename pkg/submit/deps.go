package submit

import (
	"fmt"
	"net/url"
	"strings"
)

// dependencyKeys are the lists of files spark-submit uploads when they are on the client
// (BasicDriverFeatureStep.getAdditionalPodSystemProperties: JARS, FILES, ARCHIVES,
// SUBMIT_PYTHON_FILES).
var dependencyKeys = []string{"spark.jars", "spark.files", "spark.archives", "spark.submit.pyFiles"}

// isClientLocal says whether a URI names a file on the submitting machine, as
// KubernetesUtils.isLocalDependency does after Utils.resolveURI: no scheme, or file:. A
// Windows drive letter (C:\app.jar) is a path too.
func isClientLocal(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil {
		return !strings.Contains(uri, "://")
	}
	return u.Scheme == "" || u.Scheme == "file" || len(u.Scheme) == 1
}

func clientLocalError(what, uri string) error {
	return fmt.Errorf("%s %q is a path on this machine, which the driver pod cannot read: "+
		"build it into the image and give local:///path/in/image, or put it on storage the cluster reads "+
		"(s3a://, gs://, abfs://, hdfs://, https://); kubectl sparkha does not upload client files "+
		"(spark-submit would, to spark.kubernetes.file.upload.path)", what, uri)
}

// splitList splits a comma-separated Spark list, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// resolveDependencies refuses client-local files and returns the final spark.jars: for a JVM
// app, the user's list with APP_RESOURCE added, as the outer spark-submit adds it before it
// writes the driver's properties (SparkSubmit.scala: the in-pod spark-submit skips it, "the
// jar is already added in the previous spark-submit"). Python and R resources are not jars:
// the in-pod spark-submit hands them to PythonRunner/RRunner, and their extra files stay in
// spark.submit.pyFiles.
func resolveDependencies(conf map[string]confEntry, app *App) (jars string, err error) {
	if isClientLocal(app.AppResource) {
		return "", clientLocalError("APP_RESOURCE", app.AppResource)
	}
	for _, key := range dependencyKeys {
		e, ok := conf[key]
		if !ok {
			continue
		}
		for _, uri := range splitList(e.value) {
			if isClientLocal(uri) {
				return "", clientLocalError(fmt.Sprintf("%s entry in %s", key, e.source), uri)
			}
		}
	}
	list := splitList(conf["spark.jars"].value)
	if app.ResourceType == "java" && app.AppResource != "spark-internal" && !contains(list, app.AppResource) {
		list = append(list, app.AppResource)
	}
	return strings.Join(list, ","), nil
}
