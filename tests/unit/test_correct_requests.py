"""The correction page's request rules: which hosts are this machine, what a Save must hold."""

from __future__ import annotations

import pytest

from pipeline.publish.correct import _parse, is_loopback
from pipeline.publish.corrections import CorrectionError


@pytest.mark.parametrize(
    ("host", "local"),
    [
        pytest.param("127.0.0.1", True, id="ipv4"),
        pytest.param("127.0.1.1", True, id="ipv4-other-loopback"),
        pytest.param("localhost", True, id="name"),
        pytest.param("::1", True, id="ipv6"),
        pytest.param("[::1]", True, id="ipv6-bracketed"),
        pytest.param("0.0.0.0", False, id="any"),
        pytest.param("192.168.1.20", False, id="lan"),
        pytest.param("localhost.attacker.example", False, id="lookalike"),
        pytest.param("127.0.0.1.attacker.example", False, id="lookalike-address"),
    ],
)
def test_loopback_hosts(host: str, local: bool) -> None:
    assert is_loopback(host) is local


def test_a_save_request_gives_the_editor_and_texts_by_line_id() -> None:
    body = '{"editor": "Kim", "lines": [{"id": "l1", "text": "가"}, {"id": "l2", "text": ""}]}'
    assert _parse(body.encode()) == ("Kim", {"l1": "가", "l2": ""})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"\xff", "not a Save request", id="not-utf8"),
        pytest.param(b"[]", "not a Save request", id="not-an-object"),
        pytest.param(b'{"editor": "Kim"}', "not a Save request", id="no-lines"),
        pytest.param(b'{"editor": 1, "lines": []}', "must be strings", id="editor-number"),
        pytest.param(
            b'{"editor": "K", "lines": [{"id": "l1", "text": 5}]}', "must be strings", id="text"
        ),
    ],
)
def test_a_malformed_save_request_is_400(body: bytes, message: str) -> None:
    with pytest.raises(CorrectionError, match=message) as caught:
        _parse(body)
    assert caught.value.status == 400
