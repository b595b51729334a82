// Package scale is the scale benchmark (BenchmarkScale, run by `make bench`):
// `kubectl sparkha inspect -A` against the raw kubectl gather on one sandbox
// grown to 10, 100 and 1,000 nodes.
//
//	cluster.go, objects.go  the population of the cluster, through the API
//	measure.go              one command's wall time, peak RSS and requests
//	                        (through harness.CountingProxy), and profiles
//	report.go               the table and the generated part of docs/benchmarks.md
//	inprocess.go            the only use of the plugin's packages
package scale
