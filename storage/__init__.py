"""The only package that talks to Ceph: admin operations (rgwadmin) and S3 (boto3)."""
