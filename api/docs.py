"""The API's own documentation, served by `lfr serve` and readable with no network beyond it.

`/schema` (and `/schema/swagger`) is Swagger UI; `/schema/openapi.json` is the document it
reads. Swagger UI's files come from the `swagger-ui-py` package (PyPI), pinned in
requirements/runtime.txt and installed by set-up, and are served from `/schema/static/`:
nothing is fetched from a CDN at run time, so the page works on an air-gapped police network.
It runs under the app's Content-Security-Policy unchanged (`script-src 'self'`, `style-src
'self'`): no inline script (the initialiser is a served file, `docs-init.js`), and Swagger UI
sets its few inline styles through the DOM, which the policy allows.

Any other path under `/schema` (`/schema/redoc`, `/schema/elements`, ...) answers a problem
(404, application/problem+json) like every other error of the API.

The document itself is completed here (`describe_document`): each component carries its
class's docstring, the figures declared in `projections/` get the field descriptions kept
beside their re-export in `api/schemas/statistics.py` and `api/schemas/operations.py`, and each
event shape's `topic` tag is described.
"""

from __future__ import annotations

import html
import importlib.util
import inspect
import re
import threading
from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.params import FromPath
from litestar.router import Router

# The PyPI distribution that ships Swagger UI's dist files (set-up installs it, pinned in
# requirements/runtime.txt), and the import name of the folder it installs them under.
SWAGGER_UI_DISTRIBUTION = "swagger-ui-py"
SWAGGER_UI_PACKAGE = "swagger_ui"

# The only files served under /schema/static/, with their media types: Swagger UI's, from the
# package, and our own two.
PACKAGE_ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

INIT_JS = b"""\
// Starts Swagger UI on the element that names the OpenAPI document (a served file, not an
// inline script: the Content-Security-Policy allows scripts from this origin only).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root) {
    return;
  }
  if (typeof window.SwaggerUIBundle !== "function") {
    var missing = document.getElementById("docs-missing");
    if (missing) {
      missing.hidden = false;
    }
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    filter: true,
    tryItOutEnabled: false,
    // Never keep a bearer token in the browser's storage; never ask an online validator.
    persistAuthorization: false,
    validatorUrl: null
  });
})();
"""

DOCS_CSS = b"""\
body { margin: 0; background: #fafafa; }
.docs-missing { margin: 2rem; font-family: sans-serif; max-width: 48rem; }
"""

OWN_ASSETS: dict[str, tuple[bytes, str]] = {
    "docs-init.js": (INIT_JS, "text/javascript"),
    "docs.css": (DOCS_CSS, "text/css"),
}


def swagger_ui_dir() -> Path | None:
    """The folder of Swagger UI's dist files, or None when the package is not installed.

    Found without importing the package (its own code is not needed, nor its imports)."""
    spec = importlib.util.find_spec(SWAGGER_UI_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


class _Assets:
    """The served files, read once each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, bytes] = {}

    def get(self, name: str) -> tuple[bytes, str]:
        if name in OWN_ASSETS:
            return OWN_ASSETS[name]
        media_type = PACKAGE_ASSETS.get(name)
        if media_type is None:
            raise NotFoundException(
                "no such documentation file: the documentation's files are "
                + ", ".join(sorted([*OWN_ASSETS, *PACKAGE_ASSETS]))
            )
        with self._lock:
            content = self._cache.get(name)
            if content is None:
                folder = swagger_ui_dir()
                if folder is None:
                    raise NotFoundException(
                        f"Swagger UI's files are not installed on this server: install "
                        f"{SWAGGER_UI_DISTRIBUTION} as pinned in requirements/runtime.txt "
                        "(make setup does)"
                    )
                content = (folder / name).read_bytes()
                self._cache[name] = content
        return content, media_type


ASSETS = _Assets()


@get(
    "/static/{name:str}",
    sync_to_thread=False,
    include_in_schema=False,
    name="lfr-docs-asset",
)
def docs_asset(name: FromPath[str]) -> Response[bytes]:
    content, media_type = ASSETS.get(name)
    return Response(
        content, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"}
    )


def refuse_unknown_schema_path(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard of the /schema router: Litestar answers a path under /schema that no plugin
    serves with an HTML page; this API answers it with a problem, like every other 404."""
    from litestar._openapi.plugin import handle_schema_path_not_found

    if getattr(handler, "fn", None) is handle_schema_path_not_found:
        raise NotFoundException(
            "no documentation here: the API's documentation is Swagger UI at /schema, the "
            "OpenAPI document /schema/openapi.json"
        )


class OfflineSwaggerRenderPlugin(OpenAPIRenderPlugin):
    """Swagger UI from files this server serves itself (see the module's docstring)."""

    def __init__(self, *, path: str | list[str] = "/swagger", title: str | None = None) -> None:
        self._root = "/schema"
        self._title = title
        super().__init__(path=path, favicon="", style="")

    def receive_router(self, router: Router) -> None:
        self._root = router.path.rstrip("/")
        router.register(docs_asset)
        router.guards = [*(router.guards or ()), refuse_unknown_schema_path]

    def asset_url(self, name: str) -> str:
        return f"{self._root}/static/{name}"

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(self._title or str(openapi_schema["info"]["title"]) + " API")
        openapi_url = html.escape(self.get_openapi_json_route(request))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{self.asset_url("favicon-32x32.png")}">
<link rel="stylesheet" href="{self.asset_url("swagger-ui.css")}">
<link rel="stylesheet" href="{self.asset_url("docs.css")}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<div id="docs-missing" class="docs-missing" hidden>
<h1>{title}</h1>
<p>Swagger UI's files are not installed on this server (the package
{SWAGGER_UI_DISTRIBUTION}, pinned in requirements/runtime.txt, installed by
<code>make setup</code>).
The OpenAPI document itself is at <a href="{openapi_url}">{openapi_url}</a>.</p>
</div>
<noscript><p class="docs-missing">This page needs JavaScript. The OpenAPI document is at
<a href="{openapi_url}">{openapi_url}</a>.</p></noscript>
<script src="{self.asset_url("swagger-ui-bundle.js")}"></script>
<script src="{self.asset_url("docs-init.js")}"></script>
</body>
</html>
""".encode()


# --- descriptions written into the document ----------------------------------------------------

FieldDescriptions = Mapping[type[msgspec.Struct], Mapping[str, str]]
FieldEnums = Mapping[type[msgspec.Struct], Mapping[str, Iterable[str | None]]]


def _with_subclasses(classes: Iterable[type[Any]]) -> set[type[Any]]:
    found: set[type[Any]] = set()
    todo = list(classes)
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.add(cls)
            todo.extend(cls.__subclasses__())
    return found


def _inherited(table: Mapping[type[Any], Mapping[str, Any]], cls: type[Any], field: str) -> Any:
    for base in cls.__mro__:
        if field in table.get(base, {}):
            return table[base][field]
    return None


def project_types() -> dict[str, type[Any]]:
    """The project's structs and enums by name, as Litestar names their components (a name
    two classes share is left out)."""
    found: dict[str, type[Any] | None] = {}
    for cls in _with_subclasses([msgspec.Struct, Enum]):
        if not cls.__module__.startswith("lfr_ledger."):
            continue
        name = cls.__name__
        found[name] = cls if found.get(name, cls) is cls else None
    return {name: cls for name, cls in found.items() if cls is not None}


def _paragraphs(docstring: str) -> str:
    """A docstring as Markdown paragraphs: its source line breaks are not the reader's."""
    return re.sub(r"(?<!\n)\n(?!\n)", " ", inspect.cleandoc(docstring))


def _component_descriptions(schemas: dict[str, Any]) -> None:
    """Each struct's or enum's component is described by its class's docstring.

    Litestar writes the description (and examples) of the first property that refers to a
    component onto the component itself as well as beside the reference: left alone, the
    component would read as that one property. Its own docstring replaces it; a class without
    one leaves its component undescribed (its properties are)."""
    for name, cls in project_types().items():
        schema = schemas.get(name)
        if not isinstance(schema, dict):
            continue
        doc = _paragraphs(cls.__doc__) if cls.__doc__ else None
        if doc is None and issubclass(cls, Enum):
            doc = "One of: " + ", ".join(f"`{member.value}`" for member in cls)
        if doc:
            schema["description"] = doc
        else:
            schema.pop("description", None)
        if not issubclass(cls, Enum):
            schema.pop("examples", None)


# What may sit beside a reference once its `allOf` wrapper is gone: annotations only.
_ANNOTATIONS = frozenset({"description", "examples", "title", "default", "deprecated"})


def _plain_references(schemas: dict[str, Any]) -> None:
    """A property described beside a reference reads `{"$ref": ..., "description": ...}`.

    Litestar wraps such a reference as `{"allOf": [{"$ref": ...}], "description": ...}`;
    OpenAPI 3.1 (JSON Schema 2020-12) allows the annotations beside `$ref` itself, which every
    reader of the document, and every client that follows a `$ref`, understands."""
    for schema in schemas.values():
        for prop in (schema.get("properties") or {}).values():
            wrapped = prop.get("allOf")
            if (
                isinstance(wrapped, list)
                and len(wrapped) == 1
                and set(wrapped[0]) == {"$ref"}
                and set(prop) - {"allOf"} <= _ANNOTATIONS
            ):
                del prop["allOf"]
                prop["$ref"] = wrapped[0]["$ref"]


def describe_document(
    document: dict[str, Any], descriptions: FieldDescriptions, enums: FieldEnums
) -> None:
    """Fills in, in place, what the structs themselves cannot carry: each component's own
    description (its class's docstring), a described reference as a plain `$ref`, the
    descriptions (and closed lists) of the figures declared in `projections/`, looked up
    through each struct's bases, and the `topic` tag of each event shape. Never overwrites a
    property's own description. Idempotent: it runs on every render of the document."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    _component_descriptions(schemas)
    _plain_references(schemas)
    for cls in _with_subclasses([*descriptions, *enums]):
        schema = schemas.get(cls.__name__)
        if not isinstance(schema, dict):
            continue
        for name, prop in (schema.get("properties") or {}).items():
            text = _inherited(descriptions, cls, name)
            if text and "description" not in prop:
                prop["description"] = text
            values = _inherited(enums, cls, name)
            if values is not None and "enum" not in prop:
                prop["enum"] = list(values)
    for schema in schemas.values():
        tag = (schema.get("properties") or {}).get("topic")
        if not (isinstance(tag, dict) and "const" in tag):
            continue
        if "description" not in tag:
            tag["description"] = (
                f"The event's stored topic, which names this shape: `{tag['const']}`"
            )
        schema.setdefault(
            "description",
            f"An event of topic `{tag['const']}`: the envelope every event shares, and the "
            "event's own fields in `data`.",
        )


class DescribedJsonRenderPlugin(JsonRenderPlugin):
    """The OpenAPI document as JSON, with `describe_document` applied."""

    def __init__(self, descriptions: FieldDescriptions, enums: FieldEnums) -> None:
        self._descriptions = descriptions
        self._enums = enums
        super().__init__()

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        # Litestar keeps one dict per app: the first render fills it, the next find it filled.
        describe_document(openapi_schema, self._descriptions, self._enums)
        return super().render(request, openapi_schema)


__all__ = [
    "SWAGGER_UI_DISTRIBUTION",
    "DescribedJsonRenderPlugin",
    "OfflineSwaggerRenderPlugin",
    "describe_document",
    "swagger_ui_dir",
]
