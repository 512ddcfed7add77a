"""The default StorageClass: EBS CSI on AWS, local-path or a named class on bare metal."""
