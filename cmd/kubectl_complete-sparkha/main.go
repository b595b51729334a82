// Command kubectl_complete-sparkha lets kubectl complete the plugin: since kubectl 1.26,
// "kubectl sparkha <TAB>" runs kubectl_complete-sparkha from PATH with the words after
// "sparkha" and prints what it prints. It is the one-line shim cobra plugins use, as a tiny
// binary instead of a shell script so it also works on Windows:
//
//	kubectl sparkha __complete "$@"
//
// It runs the kubectl-sparkha kubectl would run (the first on PATH), else the one next to
// itself (the krew store, when this file is a symlink into it), else "kubectl sparkha".
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

const plugin = "kubectl-sparkha"

func main() {
	name, args := command(os.Args[1:])
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.ExitCode())
		}
		fmt.Fprintf(os.Stderr, "kubectl_complete-sparkha: %v\n", err)
		os.Exit(1)
	}
}

// command returns the program and arguments that print the completions of args.
func command(args []string) (string, []string) {
	complete := append([]string{"__complete"}, args...)
	if path, err := exec.LookPath(plugin); err == nil {
		return path, complete
	}
	if self, err := os.Executable(); err == nil {
		if self, err = filepath.EvalSymlinks(self); err == nil {
			sibling := filepath.Join(filepath.Dir(self), plugin)
			if runtime.GOOS == "windows" {
				sibling += ".exe"
			}
			if _, err := os.Stat(sibling); err == nil {
				return sibling, complete
			}
		}
	}
	return "kubectl", append([]string{"sparkha"}, complete...)
}
