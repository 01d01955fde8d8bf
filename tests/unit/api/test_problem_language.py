"""Problem details speak Chinese under Accept-Language: zh and English otherwise;
the reason code never changes."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.problems import ProblemError, install, language_of
from events.reasons import REASON_TEXTS, Reason, Rejection


def _client() -> TestClient:
    app = FastAPI()
    install(app)

    @app.get("/refused")
    def refused() -> None:
        raise ProblemError.of_rejection(
            Rejection(
                Reason.UNKNOWN_REFERENCE,
                "data.finding names 'x', which is not an earlier event",
                {"field": "data.finding"},
            )
        )

    return TestClient(app)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "en"),
        ("en", "en"),
        ("zh", "zh"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr, zh;q=0.5", "zh"),
        ("zh;q=0, en", "en"),
    ],
)
def test_language_of(header: str | None, lang: str) -> None:
    assert language_of(header) == lang


def test_chinese_and_english_problems_share_the_code() -> None:
    client = _client()
    zh = client.get("/refused", headers={"Accept-Language": "zh-CN"})
    en = client.get("/refused", headers={"Accept-Language": "en"})
    plain = client.get("/refused")
    assert zh.status_code == en.status_code == 422
    assert zh.json()["code"] == en.json()["code"] == "unknown-reference"
    assert zh.headers["content-language"] == "zh" and en.headers["content-language"] == "en"
    text = REASON_TEXTS[Reason.UNKNOWN_REFERENCE]
    assert (zh.json()["title"], zh.json()["detail"]) == (text.title.zh, text.detail_zh)
    assert zh.json()["detail_en"].startswith("data.finding names 'x'")
    assert zh.json()["field"] == en.json()["field"] == "data.finding"
    assert en.json()["title"] == "Unknown reference"
    assert en.json()["detail"].startswith("data.finding names 'x'")
    assert plain.json() == en.json()


def test_an_unknown_endpoint_in_chinese() -> None:
    body = _client().get("/nowhere", headers={"Accept-Language": "zh"}).json()
    assert (body["code"], body["title"]) == ("not-found", "未找到")
    assert "/nowhere" in body["detail_en"]
