// The module root of engine/coredns (main.go). Each CoreDNS release builds with its own modfile (go build
// -modfile=v1.X.Y.mod, written by tools/test_modfiles.py).
module k8splatform/engine/coredns

go 1.26.0
