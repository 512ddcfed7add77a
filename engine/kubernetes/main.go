// Command kube is the Kubernetes node and control-plane programs of one release in one executable, for the
// real-node tests (tests/realnodes): it runs as the program its name says (kubeadm, kubelet, kubectl,
// kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy), through symlinks or the first argument.
// One link instead of seven saves minutes of a cold build and hundreds of MB, and one image layer serves the
// four control-plane images. Built by scripts/realnodes-tools with the release's modfile (v1.XX.Y.mod), which
// pins k8s.io/kubernetes and its staging modules at that release.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	_ "time/tzdata" // CronJob time zones, as kube-apiserver and kube-controller-manager have them

	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubectl "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubeadm "k8s.io/kubernetes/cmd/kubeadm/app"
	kubeadmerrors "k8s.io/kubernetes/cmd/kubeadm/app/util/errors"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

// Each program as its own main runs it: its command run by component-base's cli, or kubeadm's own runner.
var programs = map[string]func() int{
	"kube-apiserver":          func() int { return cli.Run(apiserver.NewAPIServerCommand()) },
	"kube-controller-manager": func() int { return cli.Run(controllermanager.NewControllerManagerCommand()) },
	"kube-scheduler":          func() int { return cli.Run(scheduler.NewSchedulerCommand()) },
	"kube-proxy":              func() int { return cli.Run(proxy.NewProxyCommand()) },
	"kubelet":                 func() int { return cli.Run(kubelet.NewKubeletCommand(context.Background())) },
	"kubeadm": func() int {
		kubeadmerrors.HandleError(kubeadm.Run()) // exits on an error
		return 0
	},
	"kubectl": func() int {
		logs.GlogSetter(kubectl.GetLogVerbosity(os.Args)) //nolint:errcheck
		command := kubectl.NewDefaultKubectlCommand()
		if err := cli.RunNoErrOutput(command); err != nil {
			kubectlutil.CheckErr(err)
		}
		return 0
	},
}

func main() {
	name := filepath.Base(os.Args[0])
	if _, ok := programs[name]; !ok && len(os.Args) > 1 {
		// `kube kubeadm version`: the program as the first argument.
		name = os.Args[1]
		os.Args = append([]string{name}, os.Args[2:]...)
	}
	run, ok := programs[name]
	if !ok {
		names := make([]string, 0, len(programs))
		for program := range programs {
			names = append(names, program)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "kube: run me as one of %s (a symlink of that name, or the first argument)\n",
			strings.Join(names, ", "))
		os.Exit(2)
	}
	os.Exit(run())
}
