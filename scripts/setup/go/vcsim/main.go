// Opsdeck's vCenter simulator command.
//
// govmomi's own `vcsim` command lives in a nested Go module (vcsim/go.mod with
// `replace github.com/vmware/govmomi => ../`) that the Go module proxy does not
// serve, so `go install github.com/vmware/govmomi/vcsim@vX` cannot work. The
// simulator itself is a library in the main govmomi module, which the proxy
// does serve; this small command wraps it. build-vcsim.sh builds it against a
// pinned govmomi version.
//
// Flags mirror upstream vcsim where they overlap (-l, -username, -password,
// -dc, -cluster, -host, -vm, ...). Extra: -E writes KEY=VALUE lines atomically
// to a file once the server is listening (readiness signal), -cert-out writes
// the serving certificate (PEM) so clients can pin/verify it. -delay and
// -method-delay (as upstream) hold SOAP calls back, e.g. to keep a call in
// flight while a test takes the server down.
package main

import (
	"crypto/tls"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/vmware/govmomi/simulator"

	// Optional endpoints (REST/vAPI: tags, content library, PBM, lookup, ...),
	// registered by their init() functions.
	_ "github.com/vmware/govmomi/cns/simulator"
	_ "github.com/vmware/govmomi/eam/simulator"
	_ "github.com/vmware/govmomi/lookup/simulator"
	_ "github.com/vmware/govmomi/pbm/simulator"
	_ "github.com/vmware/govmomi/ssoadmin/simulator"
	_ "github.com/vmware/govmomi/sts/simulator"
	_ "github.com/vmware/govmomi/vapi/appliance/simulator"
	_ "github.com/vmware/govmomi/vapi/cis/tasks/simulator"
	_ "github.com/vmware/govmomi/vapi/cluster/simulator"
	_ "github.com/vmware/govmomi/vapi/namespace/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
	_ "github.com/vmware/govmomi/vapi/vm/simulator"
	_ "github.com/vmware/govmomi/vsan/simulator"
)

var buildVersion = "dev"

func main() {
	model := simulator.VPX()

	flag.IntVar(&model.Datacenter, "dc", model.Datacenter, "datacenters")
	flag.IntVar(&model.Cluster, "cluster", model.Cluster, "clusters per datacenter")
	flag.IntVar(&model.ClusterHost, "host", model.ClusterHost, "hosts per cluster")
	flag.IntVar(&model.Host, "standalone-host", model.Host, "standalone hosts per datacenter")
	flag.IntVar(&model.Datastore, "ds", model.Datastore, "local datastores")
	flag.IntVar(&model.Machine, "vm", model.Machine, "virtual machines per resource pool")
	flag.IntVar(&model.Pool, "pool", model.Pool, "resource pools per compute resource")
	flag.IntVar(&model.Folder, "folder", model.Folder, "folders")
	flag.IntVar(&model.Portgroup, "pg", model.Portgroup, "port groups")
	flag.BoolVar(&model.Autostart, "autostart", model.Autostart, "power on the model's VMs")
	esxMode := flag.Bool("esx", false, "simulate a standalone ESX host instead of vCenter")
	listen := flag.String("l", "127.0.0.1:8989", "listen address (port 0 = pick a free port)")
	user := flag.String("username", "", "only accept this user name (default: any non-empty user/password)")
	pass := flag.String("password", "", "password for -username")
	useTLS := flag.Bool("tls", true, "serve https")
	certFile := flag.String("tlscert", "", "TLS certificate (PEM); default: a built-in self-signed cert for 127.0.0.1")
	keyFile := flag.String("tlskey", "", "TLS key (PEM)")
	certOut := flag.String("cert-out", "", "write the serving certificate (PEM) to this file")
	envOut := flag.String("E", "-", "write KEY=VALUE lines here once listening ('-' = stdout)")
	flag.BoolVar(&simulator.Trace, "trace", false, "trace SOAP traffic to stderr")
	flag.IntVar(&model.DelayConfig.Delay, "delay", 0, "delay every SOAP call by this many milliseconds")
	methodDelay := flag.String("method-delay", "", "delay some SOAP calls: 'Method1:ms,Method2:ms' (e.g. PowerOnVM_Task:30000)")
	version := flag.Bool("version", false, "print version and exit")
	flag.Parse()

	if *version {
		fmt.Println("opsdeck vcsim, govmomi", buildVersion)
		return
	}
	if *methodDelay != "" {
		model.DelayConfig.MethodDelay = map[string]int{}
		for _, item := range strings.Split(*methodDelay, ",") {
			name, ms, ok := strings.Cut(item, ":")
			n, err := strconv.Atoi(ms)
			if !ok || err != nil || name == "" || n < 0 {
				log.Fatalf("-method-delay: %q is not Method:milliseconds", item)
			}
			model.DelayConfig.MethodDelay[name] = n
		}
	}
	if (*user == "") != (*pass == "") {
		log.Fatal("-username and -password must be given together")
	}

	if *esxMode {
		m := simulator.ESX()
		m.Datastore, m.Machine, m.Autostart, m.DelayConfig = model.Datastore, model.Machine, model.Autostart, model.DelayConfig
		model = m
	}
	model.ServiceContent.About.FullName += " (govmomi simulator)"

	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	defer model.Remove()

	u := &url.URL{Host: *listen}
	if *user != "" {
		// Any other user/password now fails Login with InvalidLogin.
		u.User = url.UserPassword(*user, *pass)
	}
	model.Service.Listen = u
	model.Service.RegisterEndpoints = true
	if *useTLS {
		model.Service.TLS = new(tls.Config)
		if *certFile != "" {
			c, err := tls.LoadX509KeyPair(*certFile, *keyFile)
			if err != nil {
				log.Fatal(err)
			}
			model.Service.TLS.Certificates = []tls.Certificate{c}
		}
	}

	s := model.Service.NewServer() // listening once this returns
	defer s.Close()

	if *useTLS && *certOut != "" {
		b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
		if err := writeAtomic(*certOut, b); err != nil {
			log.Fatal(err)
		}
	}

	env := fmt.Sprintf("VCSIM_URL=%s\nVCSIM_HOST=%s\nVCSIM_PID=%d\n", s.URL.String(), s.URL.Host, os.Getpid())
	if *envOut == "-" {
		fmt.Print(env)
	} else if err := writeAtomic(*envOut, []byte(env)); err != nil {
		log.Fatal(err)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err = tmp.Write(b); err == nil {
		err = tmp.Close()
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
