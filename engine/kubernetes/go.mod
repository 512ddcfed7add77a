// The module root of engine/kubernetes. Each Kubernetes release builds with its own modfile (go build
// -modfile=v1.X.Y.mod, written by tools/kubernetes_modfile.py): see main.go.
module k8splatform/engine/kubernetes

go 1.26.0
