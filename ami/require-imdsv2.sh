#!/bin/sh
# Runs where Packer runs, after the build: marks the new AMI as IMDSv2-only
# (instances launched from it refuse metadata requests without a session
# token). Needs the AWS CLI v2 and ec2:ModifyImageAttribute.
set -eu

ami=$(sed -n 's/.*"artifact_id": *"[^":]*:\(ami-[0-9a-f]*\)".*/\1/p' packer-manifest.json | tail -n 1)
if [ -z "$ami" ]; then
    echo "require-imdsv2: no AMI id in packer-manifest.json" >&2
    exit 1
fi
aws ec2 modify-image-attribute --region "$AWS_REGION" --image-id "$ami" --imds-support v2.0
echo "require-imdsv2: $ami now requires IMDSv2"
