// Package version holds the build information of kubectl-sparkha.
//
// The variables are stamped at link time with -ldflags -X, for example:
//
//	go build -ldflags "\
//	  -X github.com/kubectl-sparkha/kubectl-sparkha/pkg/version.Version=v0.1.0 \
//	  -X github.com/kubectl-sparkha/kubectl-sparkha/pkg/version.Commit=$(git rev-parse HEAD) \
//	  -X github.com/kubectl-sparkha/kubectl-sparkha/pkg/version.Date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
//	  ./cmd/kubectl-sparkha
package version

import "runtime"

// Set with -ldflags -X (see the package comment). The defaults mark a development build.
var (
	Version = "dev"
	Commit  = "unknown"
	Date    = "unknown"
)

// Info is the build information printed by `kubectl sparkha version`.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the build information of this binary.
func Get() Info {
	return Info{
		Version:   Version,
		Commit:    Commit,
		Date:      Date,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
}
