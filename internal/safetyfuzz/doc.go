// Package safetyfuzz holds FuzzAnalyze, which crosses packages: random but well-formed
// snapshots through the analysis (pkg/analysis), the failover planner and the renderings
// (pkg/render), checking the safety properties that must hold whatever the cluster looks like.
// It has no code of its own; `make fuzz` runs it.
package safetyfuzz
