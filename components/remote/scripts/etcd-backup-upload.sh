#!/bin/sh
# Runs in the etcd backup pod after the rotation: copies the newest snapshot to the cluster's S3 bucket under
# <cluster>/<node>/. The bucket is versioned and encrypted; the node's instance profile allows only this prefix.
# Environment: BACKUP_DIR, BUCKET, PREFIX, NODE_NAME.
set -eu

latest=$(cat "$BACKUP_DIR/latest")
aws s3 cp --only-show-errors --sse AES256 "$BACKUP_DIR/$latest" "s3://$BUCKET/$PREFIX/$NODE_NAME/$latest"
echo "etcd-backup: uploaded $latest to s3://$BUCKET/$PREFIX/$NODE_NAME/"
