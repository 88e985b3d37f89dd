"""An S3 bucket (or any S3-compatible store) as a publish target, through boto3."""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Sequence
from typing import Any

import boto3
import botocore.session
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)

from pipeline.config import PublishConfig
from pipeline.errors import PublishError, PublishObjectError
from pipeline.publish.store import MIB, Listed, Upload

log = logging.getLogger(__name__)

DELETE_BATCH = 1000
CORS_RULES: dict[str, Any] = {
    "CORSRules": [
        {
            "AllowedMethods": ["GET", "HEAD"],
            "AllowedOrigins": ["*"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "Content-Length", "Content-Type"],
            "MaxAgeSeconds": 86400,
        }
    ]
}

# Errors after which no further request can succeed: stop the job instead of failing every
# object one by one.
_FATAL_CODES = frozenset(
    {
        "AccessDenied",
        "AllAccessDisabled",
        "ExpiredToken",
        "InvalidAccessKeyId",
        "InvalidToken",
        "NoSuchBucket",
        "SignatureDoesNotMatch",
        "403",
    }
)


def _lean_session() -> botocore.session.Session:
    """A botocore session whose responses keep timestamps as text.

    Publishing never reads a LastModified, and parsing one per listed key with dateutil
    costs more than the rest of a listing (the AWS CLI does the same for its output).
    """
    session = botocore.session.get_session()
    factory = session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=str)
    return session


def _md5_b64(md5_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(md5_hex)).decode("ascii")


class S3Target:
    """A bucket (and key prefix) reached through boto3 with one client per thread."""

    def __init__(self, bucket: str, prefix: str, cfg: PublishConfig, *, session: Any = None):
        self.bucket = bucket
        self._prefix = prefix
        self.endpoint_url = cfg.endpoint_url
        try:
            self._session = session or boto3.session.Session(
                profile_name=cfg.profile, region_name=cfg.region, botocore_session=_lean_session()
            )
        except ProfileNotFound:
            raise PublishError(
                f"AWS profile {cfg.profile!r} not found (fix publish.profile or AWS_PROFILE)"
            ) from None
        # Integrity comes from Content-MD5 on every single-part PUT; botocore's default
        # trailing CRC checksums are left off because several S3-compatible stores reject them.
        # Our requests are built from checked values, so botocore need not validate each one.
        self._config = BotoConfig(
            retries={"mode": "standard", "max_attempts": cfg.max_attempts},
            max_pool_connections=cfg.threads,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=10,
            parameter_validation=False,
            read_timeout=120,
        )
        self.transfer = TransferConfig(
            multipart_threshold=cfg.multipart_threshold_mb * MIB,
            multipart_chunksize=cfg.multipart_chunk_mb * MIB,
            max_concurrency=min(cfg.threads, 8),
            preferred_transfer_client="classic",
        )
        self.multipart_threshold = cfg.multipart_threshold_mb * MIB
        self._local = threading.local()
        self._lock = threading.Lock()

    @property
    def ident(self) -> str:
        """``s3://bucket/prefix``, plus the endpoint when it is not AWS."""
        where = f"s3://{self.bucket}/{self._prefix}"
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where

    @property
    def prefix(self) -> str:
        """Key prefix of the output folder's root."""
        return self._prefix

    @property
    def headers_stored(self) -> bool:
        """Each object keeps the Content-Type and Cache-Control it was put with."""
        return True

    def client(self) -> Any:
        """Return this thread's S3 client (created from the shared session under a lock)."""
        client = getattr(self._local, "client", None)
        if client is None:
            with self._lock:
                client = self._session.client(
                    "s3", endpoint_url=self.endpoint_url, config=self._config
                )
            self._local.client = client
        return client

    # -- errors ----------------------------------------------------------------------------------
    def _fatal(self, exc: Exception) -> PublishError:
        """Turn an error that stops the whole job into a one-line PublishError."""
        where = f"s3://{self.bucket}"
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return PublishError(
                f"{where}: no AWS credentials found (set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE / publish.profile)"
            )
        if isinstance(exc, EndpointConnectionError):
            return PublishError(f"{where}: cannot connect to {exc.kwargs.get('endpoint_url')}")
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("404", "NoSuchBucket"):
                return PublishError(
                    f"{where}: bucket {self.bucket!r} does not exist "
                    "(create it, or fix --to / publish.target)"
                )
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return PublishError(
                    f"{where}: access denied ({code}); check the credentials "
                    "(AWS_ACCESS_KEY_ID / AWS_PROFILE / publish.profile) and the bucket policy"
                )
            if code in ("301", "PermanentRedirect", "AuthorizationHeaderMalformed"):
                return PublishError(f"{where}: the bucket is in another region; set publish.region")
            return PublishError(f"{where}: {code or status}: {err.get('Message', '')}".rstrip(": "))
        return PublishError(f"{where}: {exc}")

    def _is_fatal(self, exc: Exception) -> bool:
        if isinstance(exc, ClientError):
            return str(exc.response.get("Error", {}).get("Code", "")) in _FATAL_CODES
        return isinstance(
            exc, NoCredentialsError | PartialCredentialsError | EndpointConnectionError
        )

    def _object_error(self, key: str, exc: Exception) -> PublishError | PublishObjectError:
        if self._is_fatal(exc):
            return self._fatal(exc)
        return PublishObjectError(f"{key}: {exc}")

    # -- operations ------------------------------------------------------------------------------
    def check(self) -> None:
        """Ask for the bucket (HeadBucket); map every failure to one line.

        Raises:
            PublishError: No credentials, wrong credentials, missing bucket, no connection.

        """
        try:
            self.client().head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise self._fatal(exc) from None

    def put(self, upload: Upload) -> str:
        """Upload one object (multipart above the threshold); return its ETag.

        Raises:
            PublishError: A job-level failure (credentials, bucket gone).
            PublishObjectError: This object failed after the configured retries.

        """
        extra = {"ContentType": upload.content_type, "CacheControl": upload.cache_control}
        try:
            if upload.data is not None:
                resp = self.client().put_object(
                    Bucket=self.bucket,
                    Key=upload.key,
                    Body=upload.data,
                    ContentMD5=_md5_b64(upload.md5),
                    **extra,
                )
                return str(resp["ETag"]).strip('"')
            self.client().upload_file(
                str(upload.path), self.bucket, upload.key, ExtraArgs=extra, Config=self.transfer
            )
            head = self.client().head_object(Bucket=self.bucket, Key=upload.key)
            return str(head["ETag"]).strip('"')
        except (BotoCoreError, ClientError) as exc:
            raise self._object_error(upload.key, exc) from None
        except S3UploadFailedError as exc:
            # upload_file wraps a failed multipart upload in its own exception type.
            raise PublishObjectError(f"{upload.key}: {exc}") from None

    def exists(self, key: str) -> bool:
        """HEAD the object.

        Raises:
            PublishError: Access denied (HEAD of a missing key without s3:ListBucket is 403).
            PublishObjectError: Any other failure after retries.

        """
        try:
            self.client().head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey"):
                return False
            raise self._object_error(key, exc) from None
        except BotoCoreError as exc:
            raise self._object_error(key, exc) from None
        return True

    def list_keys(self, prefix: str) -> dict[str, Listed]:
        """List every key under ``prefix`` with its size and ETag (ListObjectsV2, 1000 a page).

        Raises:
            PublishError: The listing failed.

        """
        found: dict[str, Listed] = {}
        try:
            pages = self.client().get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", ()):
                    etag = str(obj.get("ETag", "")).strip('"')
                    found[obj["Key"]] = Listed(int(obj["Size"]), etag)
        except (BotoCoreError, ClientError) as exc:
            raise self._fatal(exc) from None
        return found

    def stored_md5(self, key: str) -> str:
        """The object's ETag (HEAD); listings already carry it, so the job never needs this.

        Raises:
            PublishError: A job-level failure.
            PublishObjectError: The request failed.

        """
        try:
            head = self.client().head_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise self._object_error(key, exc) from None
        return str(head["ETag"]).strip('"')

    def delete(self, keys: Sequence[str]) -> None:
        """Delete objects, 1000 a request.

        Raises:
            PublishError: A request failed or the store refused some keys.

        """
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            try:
                resp = self.client().delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )
            except (BotoCoreError, ClientError) as exc:
                raise self._fatal(exc) from None
            errors = resp.get("Errors", [])
            if errors:
                first = errors[0]
                raise PublishError(
                    f"s3://{self.bucket}: could not delete {len(errors)} object(s), e.g. "
                    f"{first.get('Key')}: {first.get('Code')} {first.get('Message', '')}".rstrip()
                )

    def set_cors(self) -> None:
        """Set the bucket CORS rule viewers need: GET and HEAD from any origin.

        Raises:
            PublishError: The store refused.

        """
        try:
            self.client().put_bucket_cors(Bucket=self.bucket, CORSConfiguration=CORS_RULES)
        except (BotoCoreError, ClientError) as exc:
            raise self._fatal(exc) from None
