// The module root of engine/etcd. Each etcd release builds with its own modfile (go build -modfile=v3.X.Y.mod,
// written by tools/test_modfiles.py): etcd, etcdctl and etcdutl from their own modules, for the real-node tests'
// etcd image (tests/realnodes).
module k8splatform/engine/etcd

go 1.26.0
