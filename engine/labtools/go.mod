// Small programs of ours for the real-node tests' images (tests/realnodes): pause, the pod sandbox's process,
// and probe, a test workload (HTTP server, DNS lookup, HTTP client). Standard library only.
module k8splatform/engine/labtools

go 1.26.0
