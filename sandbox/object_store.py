"""An S3-compatible object store on loopback (moto's standalone server) for run storage in tests,
the local distributed Airflow and the scale bench: what a cloud bucket is in production.

``ObjectStore.env`` is what a deployment sets to use one: the AWS SDKs' variables and
``NEWSETL_DATA_DIR=s3://bucket/prefix``.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

MOTO_SERVER = str(Path(sys.executable).with_name("moto_server"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ObjectStore:
    endpoint: str
    process: subprocess.Popen
    credentials: dict[str, str] = field(default_factory=lambda: {
        "AWS_ACCESS_KEY_ID": "newsetl-test", "AWS_SECRET_ACCESS_KEY": secrets.token_hex(16),
        "AWS_DEFAULT_REGION": "us-east-1"})

    def env(self, bucket: str, prefix: str = "news") -> dict[str, str]:
        """The variables that make ``s3://bucket/prefix`` the run storage."""
        return {"AWS_ENDPOINT_URL": self.endpoint, **self.credentials, "NEWSETL_DATA_DIR": f"s3://{bucket}/{prefix}"}

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.credentials["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.credentials["AWS_SECRET_ACCESS_KEY"],
                            region_name=self.credentials["AWS_DEFAULT_REGION"])

    def new_bucket(self, name: str | None = None) -> str:
        name = name or f"runs-{secrets.token_hex(4)}"
        self.client().create_bucket(Bucket=name)  # no location constraint: the server refuses one
        return name

    def keys(self, bucket: str) -> dict[str, int]:
        """Every object of ``bucket``: key → size."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {item["Key"]: item["Size"] for page in pages for item in page.get("Contents", [])}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ObjectStore:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_object_store(log: Path | None = None, timeout: float = 30) -> ObjectStore:
    """Start the server on a free loopback port; returns once it answers."""
    port = _free_port()
    if log:
        log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen([MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env={**os.environ, "MOTO_CALL_RESET_API": "false"})
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ChildProcessError(f"the object store exited ({process.returncode}){f'; see {log}' if log else ''}")
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                return ObjectStore(endpoint, process)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise TimeoutError(f"the object store did not answer on {endpoint} within {timeout:.0f} s")
