"""The OpenAPI explorer at ``/docs`` and the reference at ``/redoc``, served from this
machine (no CDN).

FastAPI's own ``/docs`` page loads Swagger UI's script and stylesheet from a CDN,
so on an offline network it shows a blank page. Here the same page points at the
Swagger UI files shipped in the ``swagger-ui-bundle-v2`` package (Swagger UI 5,
which renders OpenAPI 3.1), mounted at ``/docs/assets``. ``create_app`` builds the
FastAPI app with ``docs_url=None, redoc_url=None`` and calls :func:`install`.
``/redoc`` is ReDoc's standalone bundle, vendored in ``api/static/vendor/redoc``
(its README names the version), without the Google web fonts FastAPI's page asks for.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

__all__ = ["ASSETS", "REDOC_JS", "install"]

ASSETS = "/docs/assets"
"""Where Swagger UI's own files are served."""
REDOC_JS = "/static/vendor/redoc/redoc.standalone.js"
"""ReDoc's standalone bundle (the app serves ``api/static`` at ``/static``)."""


def install(app: FastAPI) -> None:
    """Serve ``GET /docs`` (Swagger UI over ``app.openapi_url``) and its assets, and
    ``GET /redoc`` (ReDoc over the same document)."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )

    @app.get("/redoc", include_in_schema=False, response_class=HTMLResponse)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API reference",
            redoc_js_url=REDOC_JS,
            redoc_favicon_url=f"{ASSETS}/favicon-32x32.png",
            with_google_fonts=False,
        )

    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
