"""A real S3-compatible server for the tests: moto's server mode on loopback, one bucket per test.

Tests that store results in object storage talk to it over HTTP through boto3 and django-storages, exactly as
the product talks to S3 (or MinIO, R2, ...) in a two-machine deployment; nothing is patched in-process.
"""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass

# Credentials of the test server only: moto accepts any key.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "recomamp-test", "AWS_SECRET_ACCESS_KEY": "recomamp-test-secret"}  # noqa: S105
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def new_bucket(self) -> str:
        name = f"recomamp-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def env(self, bucket: str) -> dict[str, str]:
        """The environment a product process needs to keep its results in `bucket`."""
        return {
            **CREDENTIALS,
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_S3_REGION_NAME": REGION,
        }


def start_server():
    """Start moto's threaded server on a free loopback port; returns (server, S3Server)."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, S3Server(f"http://127.0.0.1:{port}")
