"""Where stored results live: the local disk (one machine) or an S3-compatible bucket (several machines).

Results are the only files the product writes, so Django's default storage holds them. Setting
`AWS_STORAGE_BUCKET_NAME` switches it to django-storages' S3 backend; everything that reads a result goes through
the storage API (`executions.results.reader.local_file` downloads to a temporary file when the storage has no
local path), so pages, downloads, charts, comparisons and run-set tables work the same on both.
"""

from __future__ import annotations

LOCAL = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def results_storage(env) -> dict:
    """The STORAGES["default"] entry for the environment `env` (a django-environ Env)."""
    bucket = env.str("AWS_STORAGE_BUCKET_NAME", default="")
    if not bucket:
        return LOCAL
    return s3_storage(
        bucket,
        endpoint_url=env.str("AWS_S3_ENDPOINT_URL", default="") or None,
        region_name=env.str("AWS_S3_REGION_NAME", default="") or None,
        location=env.str("AWS_LOCATION", default=""),
    )


def s3_storage(bucket: str, *, endpoint_url=None, region_name=None, location="") -> dict:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region_name,
            "location": location,
            # Never replace an object: ingest and the Parquet rebuild rely on a second save getting a new name
            # (FileSystemStorage's behaviour), which is how two workers racing on one result keep the first file.
            "file_overwrite": False,
            # Results are served through our own owner-scoped views, never by a signed bucket URL.
            "querystring_auth": False,
            "default_acl": None,
        },
    }
