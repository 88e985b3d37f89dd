"""The search services as an AWS Lambda function behind a function URL, beside a static S3 site.

S3 cannot answer ``?q=``; one small function can. Package the ``pipeline`` code with its
dependencies and the site's index files, set the handler to
``pipeline.search.aws_lambda.handler``, give the function a function URL (auth type NONE),
and set ``search.url`` to that URL before building the site, so the manifests declare it:

- ``PIPELINE_SEARCH_INDEX``: the folder of the index files inside the package (default:
  ``index`` beside the code, ``$LAMBDA_TASK_ROOT/index``), laid out as in the output folder.
- ``PIPELINE_SEARCH_ROOT_PATH``: the path the function is reached under, when a CloudFront
  distribution sends ``/search/*`` of the site's domain to it (``/search``); empty for the
  function URL itself.

The function adds the CORS headers itself: leave the function URL's own CORS setting off, or
browsers see the headers twice. Events are function URL events (payload format 2.0):
``rawPath``, ``rawQueryString`` exactly as the client sent it, ``requestContext.http.method``
and ``requestContext.domainName``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.search.indexes import folder_from, open_service
from pipeline.search.service import SearchService, error

log = logging.getLogger(__name__)

ENV_ROOT_PATH = "PIPELINE_SEARCH_ROOT_PATH"
DEFAULT_INDEX = "index"

_services: dict[Path, SearchService] = {}


def _service(folder: Path) -> SearchService:
    """The service over ``folder``, opened once per execution environment."""
    if folder not in _services:
        _services[folder] = open_service(folder)
    return _services[folder]


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """Answer one function URL request.

    Args:
        event: The function URL event (payload format 2.0).
        context: The Lambda context (unused).

    Returns:
        The function URL response: ``statusCode``, ``headers``, ``body`` (JSON text).

    """
    environ = os.environ
    request = event.get("requestContext", {})
    method = str(request.get("http", {}).get("method", "GET")).upper()
    host = request.get("domainName") or event.get("headers", {}).get("host", "localhost")
    default = Path(environ.get("LAMBDA_TASK_ROOT", ".")) / DEFAULT_INDEX
    try:
        service = _service(folder_from(environ, default))
    except (ValueError, OSError) as exc:
        log.error("search index: %s", exc)
        response = error(503, str(exc))
    else:
        response = service.answer(
            method,
            str(event.get("rawPath") or "/"),
            str(event.get("rawQueryString") or "").encode("utf-8"),
            root=environ.get(ENV_ROOT_PATH, ""),
            host=str(host),
            scheme="https",
        )
    return {
        "statusCode": response.status,
        "headers": dict(response.headers()),
        "body": "" if method == "HEAD" else response.body.decode("utf-8"),
        "isBase64Encoded": False,
    }
