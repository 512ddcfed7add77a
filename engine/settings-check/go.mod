// Wrapper module of ours: a test tool that reads settings with the parsers that read them after us (the Pulumi
// CLI's YAML library, the CronJob controller's cron parser, apimachinery's name validation); scripts/engine-tools
// builds it.
module k8splatform/engine/settings-check

go 1.26.0

require (
	github.com/robfig/cron/v3 v3.0.1
	gopkg.in/yaml.v3 v3.0.1
	k8s.io/apimachinery v0.37.2
)

require (
	github.com/go-logr/logr v1.4.3 // indirect
	github.com/kr/text v0.2.0 // indirect
	k8s.io/klog/v2 v2.140.0 // indirect
	k8s.io/utils v0.0.0-20260626114624-be93311217bd // indirect
)
