// CoreDNS with only the plugins a sealed cluster needs (no forward: nothing upstream). The
// plugin order puts template after kubernetes, so a `template ANY ANY { rcode NXDOMAIN }`
// catch-all answers names outside the cluster zones (otherwise SERVFAIL: no next plugin).
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/template"
	_ "github.com/coredns/coredns/plugin/whoami"
)

func init() {
	dnsserver.Directives = []string{"reload", "ready", "health", "errors", "log", "cache", "hosts", "kubernetes", "template", "loop", "whoami"}
}

func main() { coremain.Run() }
