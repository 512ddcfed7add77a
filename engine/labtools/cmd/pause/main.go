// Command pause holds a pod's namespaces, as registry.k8s.io/pause does: it does nothing until SIGINT or SIGTERM
// and reaps the children re-parented to it (it is PID 1 of the pod's PID namespace when that is shared). With -v
// (any case) it prints its version and exits 0, as upstream's pause.c does: `kubeadm upgrade plan` and `apply`
// check the cluster's health with a Job that runs the pause image with -v and must complete.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && strings.EqualFold(os.Args[1], "-v") {
		fmt.Println("pause.c k8s-platform-lab")
		return
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for received := range signals {
		if received != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
