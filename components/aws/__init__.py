"""AWS infrastructure: network, security groups and their firewall rules, machines and node pools, the bastion,
the API and ingress Network Load Balancers, IAM, the etcd backup bucket, and `AwsInfrastructure` that ties them.

May import: settings, sizing, the seams (host, versions) and its own modules; never baremetal, remote,
bootstrap or addons. It hands the next layer `Host` records and an `ApiEndpoint`, nothing AWS-typed except the
opaque backup-bucket factory of `infrastructure.Provisioned`.
"""
