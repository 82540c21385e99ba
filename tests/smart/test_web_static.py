"""The page's bundle at /app/: served with a strict Content-Security-Policy when built, a 503 page when not."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cds_service.web.static import content_security_policy, mount_app


def _client(static_dir: Path, development: bool = False) -> TestClient:
    app = FastAPI()
    mount_app(app, development=development, static_dir=static_dir)
    return TestClient(app)


def test_the_built_page_is_served_with_scripts_only_from_this_origin(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>CRS timeline</title>")
    (tmp_path / "launch.html").write_text("<!doctype html><title>launch</title>")
    response = _client(tmp_path).get("/app/")
    assert response.status_code == 200 and "CRS timeline" in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "http://127.0.0.1" not in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert _client(tmp_path).get("/app/launch.html").status_code == 200


def test_without_a_bundle_the_app_answers_503_saying_how_to_build_it(tmp_path: Path) -> None:
    response = _client(tmp_path).get("/app/launch.html")
    assert response.status_code == 503
    assert "not built" in response.text and "npm" in response.text


def test_the_root_redirects_to_the_app(tmp_path: Path) -> None:
    response = _client(tmp_path).get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/app/"


def test_development_lets_the_page_reach_a_loopback_fhir_server() -> None:
    assert "http://127.0.0.1:*" in content_security_policy(development=True)
    assert "http://127.0.0.1:*" not in content_security_policy(development=False)


def test_the_page_query_string_never_reaches_the_access_log(tmp_path: Path) -> None:
    """The SMART code and launch id ride in the query; the scope uvicorn logs from is cleared of it."""
    import anyio

    from cds_service.web.static import SecurityHeaders

    seen: list[bytes] = []

    async def page(scope, receive, send) -> None:
        seen.append(scope["query_string"])

    scope = {"type": "http", "path": "/app/index.html", "query_string": b"code=secret&state=s", "headers": []}
    anyio.run(SecurityHeaders(page, "default-src 'none'"), scope, None, None)
    assert seen == [b""] and scope["query_string"] == b""
