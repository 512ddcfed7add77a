"""etcd snapshots on every control plane, rotated, and copied to S3 on AWS."""
