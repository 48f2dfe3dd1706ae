// etcd server built from the Go module proxy (scripts/setup/build-etcd.sh):
// the main of upstream's etcd binary for the server, without etcdctl/etcdutl.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
