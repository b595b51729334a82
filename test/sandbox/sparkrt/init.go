package sparkrt

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// Init is PID 1 of a container's PID namespace, as tini is in Spark's image (the entrypoint
// runs `tini -s -- CMD`): it runs args as its child, passes the signals a runtime sends
// (SIGTERM first) on to it, reaps whatever is orphaned in the namespace, and exits as the child
// did, 128+N if a signal N ended it (krallin/tini src/tini.c, reap_zombies).
//
// It also makes the container die with its machine. The JVM cannot be PID 1 itself: the
// parent-death signal unshare --kill-child gives PID 1 is cleared when the credentials change
// (prctl(2), PR_SET_PDEATHSIG), and the image's user is set on the way to the JVM, so a killed
// machine left its driver running. Init keeps root's credentials and the signal: when the
// machine's process dies, unshare dies, Init gets SIGKILL, and the kernel kills every other
// process of the namespace with it.
func Init(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "container-init: no command")
		return 2
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "container-init: %v\n", err)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return 127
		}
		return 126
	}
	child := cmd.Process.Pid
	go func() {
		for s := range signals {
			_ = syscall.Kill(child, s.(syscall.Signal))
		}
	}()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return 1
		}
		if pid != child {
			continue // an orphan of the namespace, reaped
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}
