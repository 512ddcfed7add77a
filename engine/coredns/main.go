// Command coredns is CoreDNS with the plugins kubeadm's Corefile names and no others, for the real-node tests'
// CoreDNS image (tests/realnodes). Upstream's main imports every plugin (core/plugin), the cloud DNS providers' SDKs
// among them, which quadruples the build; the order the plugins run in is CoreDNS's own (core/dnsserver's
// directives), whatever is imported. Built by scripts/realnodes-tools with the release's modfile (v1.X.Y.mod).
package main

import (
	"github.com/coredns/coredns/coremain"

	// kubeadm's Corefile (cmd/kubeadm/app/phases/addons/dns): errors, health, ready, kubernetes, prometheus,
	// forward, cache, loop, reload, loadbalance; log for debugging a test.
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func main() {
	coremain.Run()
}
