package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakePlugin writes a kubectl-sparkha that prints its arguments one a line, then :4, the way
// cobra's __complete prints completions and their directive.
func fakePlugin(t *testing.T, dir string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake plugin is a shell script")
	}
	path := filepath.Join(dir, "kubectl-sparkha")
	script := "#!/bin/sh\nfor a in \"$@\"; do echo \"arg:$a\"; done\necho :4\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCommandPrefersPluginOnPath(t *testing.T) {
	dir := t.TempDir()
	plugin := fakePlugin(t, dir)
	t.Setenv("PATH", dir)
	name, args := command([]string{"inspect", "cl"})
	if name != plugin || strings.Join(args, " ") != "__complete inspect cl" {
		t.Errorf("command = %s %q, want %s __complete inspect cl", name, args, plugin)
	}
	t.Setenv("PATH", t.TempDir())
	name, args = command([]string{""})
	if name != "kubectl" || strings.Join(args, "|") != "sparkha|__complete|" {
		t.Errorf("without a plugin on PATH or next to the shim: command = %s %q, want kubectl sparkha __complete \"\"", name, args)
	}
}

// TestKubectlPluginCompletion runs the real kubectl's plugin completion: kubectl finds the shim
// on PATH, which runs kubectl-sparkha __complete with the words after "sparkha".
func TestKubectlPluginCompletion(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not on PATH")
	}
	dir := t.TempDir()
	fakePlugin(t, dir)
	shim := filepath.Join(dir, "kubectl_complete-sparkha")
	if out, err := exec.Command("go", "build", "-o", shim, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(kubectl, "__complete", "sparkha", "inspect", "-n", "streaming", "cl")
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+filepath.Dir(kubectl))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl __complete: %v\n%s", err, out)
	}
	want := "arg:__complete\narg:inspect\narg:-n\narg:streaming\narg:cl\n:4\n"
	if string(out) != want {
		t.Errorf("kubectl __complete sparkha printed\n%s\nwant\n%s", out, want)
	}
}
