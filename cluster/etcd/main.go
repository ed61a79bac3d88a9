// Command etcd is etcd v3.6 built from its published server module: etcd's own
// sub-module go.mod files use local replaces, so `go install` of etcd itself fails;
// these few lines run the same entry point (and take the same flags) as the etcd binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
