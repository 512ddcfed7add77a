"""The S3 bucket etcd snapshots are copied to: private, encrypted, versioned, old versions expiring; the control
planes may only put objects under the cluster's prefix.

The snapshots outlive the cluster: `pulumi destroy` leaves the bucket and its settings in the account (a versioned
bucket that holds objects cannot be deleted, and a cluster destroyed by mistake is restored from it), and in prod
they are protected, so that destroy stops before them unless asked (docs/teardown.md)."""

from __future__ import annotations

import json
from typing import Callable

import pulumi
import pulumi_aws as aws

from components.aws.tags import resource_tags
from components.settings import Settings

# Versions replaced or deleted are kept this long, so a bad snapshot or a deletion can be undone.
NONCURRENT_DAYS = 30


class BackupBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]

    def __init__(self, name: str, s: Settings, writer_role: aws.iam.Role, prefix: str,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:aws:BackupBucket", name, None, opts)
        # The bucket and what keeps it private, encrypted, versioned and expiring stay on destroy; the role's
        # permission goes with the role.
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True, protect=s.tier == "prod")
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(name, bucket_prefix=f"{s.cluster_name}-etcd-",
                               tags=resource_tags(s, name, "backup"), opts=kept)
        aws.s3.BucketPublicAccessBlock(f"{name}-private", bucket=bucket.id, block_public_acls=True,
                                       block_public_policy=True, ignore_public_acls=True,
                                       restrict_public_buckets=True, opts=kept)
        aws.s3.BucketServerSideEncryptionConfiguration(f"{name}-encryption", bucket=bucket.id, rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"))], opts=kept)
        aws.s3.BucketVersioning(f"{name}-versioning", bucket=bucket.id,
                                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                                    status="Enabled"), opts=kept)
        aws.s3.BucketLifecycleConfiguration(f"{name}-expiry", bucket=bucket.id, rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-old-versions", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{prefix}/"),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=NONCURRENT_DAYS))], opts=kept)
        aws.iam.RolePolicy(f"{name}-put", role=writer_role.name, policy=bucket.arn.apply(lambda arn: json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": f"{arn}/{prefix}/*"}],
        })), opts=child)
        self.bucket_name = bucket.bucket
        self.register_outputs({"bucket": self.bucket_name})


def etcd_backup_store(s: Settings, writer_role: aws.iam.Role) -> Callable[[], pulumi.Output[str]]:
    """What the infrastructure seam hands the add-ons: declares the bucket when etcd backups ask for one, and
    gives its name. The add-ons never see an AWS type."""
    name = s.cluster_name
    return lambda: BackupBucket(f"{name}-etcd-backups", s, writer_role, prefix=name).bucket_name
