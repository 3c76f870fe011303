"""Static files under content-hashed names, cached by browsers for a year, sent compressed.

Templates keep calling `url_for('static', filename='style.css')`; it answers
`/static/style.3f9a0c1d2e.css`, a name that changes whenever the file does, so the file can be
cached for good (`immutable`). The plain name still works (the service worker and the web app
manifest use it) and is revalidated on each use. Text files are compressed once per process, on
their first request, with Brotli or gzip, whichever the browser accepts (brotli first).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, abort, current_app, request
from werkzeug.wrappers import Response

try:  # a compiled module: gzip alone still serves every browser
    import brotli
except ImportError:  # pragma: no cover - brotli is a dependency
    brotli = None

YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={YEAR}, immutable"
REVALIDATE = "public, no-cache"
FAVICON_CACHE = "public, max-age=86400"
HASH_LENGTH = 10
# "style.3f9a0c1d2e.css" -> "style", "3f9a0c1d2e", ".css"
_HASHED = re.compile(rf"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})(?P<ext>\.[^./]+)$")
# Smaller than this, compression costs more than it saves.
MIN_COMPRESS = 512
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("image/vnd.microsoft.icon", ".ico")


@dataclass
class Asset:
    """One file of the static folder, read once."""

    name: str  # relative to the folder, with "/"
    data: bytes
    mtime: float
    digest: str = ""
    mimetype: str = "application/octet-stream"
    _encoded: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.digest = hashlib.sha256(self.data).hexdigest()[:HASH_LENGTH]
        guessed, _encoding = mimetypes.guess_type(self.name)
        self.mimetype = guessed or "application/octet-stream"

    @property
    def hashed_name(self) -> str:
        stem, dot, ext = self.name.rpartition(".")
        if not dot or "/" in ext:
            return f"{self.name}.{self.digest}"
        return f"{stem}.{self.digest}.{ext}"

    @property
    def compressible(self) -> bool:
        return len(self.data) >= MIN_COMPRESS and self.mimetype.startswith(_COMPRESSIBLE)

    def encoded(self, encoding: str) -> bytes:
        """The file compressed with `encoding` ("br" or "gzip"), made on first use."""
        if encoding not in self._encoded:
            if encoding == "br":
                self._encoded[encoding] = brotli.compress(self.data, quality=11)
            else:
                self._encoded[encoding] = gzip.compress(self.data, compresslevel=9, mtime=0)
        return self._encoded[encoding]


class Assets:
    """The static folder's files by name. In debug mode a file edited on disk is read again
    (and gets a new hash); otherwise each is read once per process."""

    def __init__(self, folder: str | Path, *, watch: bool = False):
        self.folder = Path(folder).resolve()
        self.watch = watch
        self._files: dict[str, Asset] = {}
        self._lock = threading.Lock()
        self._scanned = False

    def _scan(self) -> None:
        names = {
            path.relative_to(self.folder).as_posix(): path
            for path in self.folder.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        }
        files = {}
        for name, path in names.items():
            known = self._files.get(name)
            mtime = path.stat().st_mtime
            files[name] = (
                known if known and known.mtime == mtime else Asset(name, path.read_bytes(), mtime)
            )
        self._files = files
        self._scanned = True

    def get(self, name: str) -> Asset | None:
        with self._lock:
            if not self._scanned or (self.watch and self._changed(name)):
                self._scan()
            return self._files.get(name)

    def _changed(self, name: str) -> bool:
        known = self._files.get(name)
        path = self.folder / name
        try:
            mtime = path.stat().st_mtime
        except (OSError, ValueError):
            return known is not None
        return known is None or known.mtime != mtime

    def url_name(self, name: str) -> str:
        """The name `url_for('static', ...)` gives: hashed when the file exists."""
        asset = self.get(name)
        return asset.hashed_name if asset is not None else name


def _encoding_for(asset: Asset) -> str | None:
    if not asset.compressible:
        return None
    accepted = request.accept_encodings
    if brotli is not None and accepted["br"]:
        return "br"
    if accepted["gzip"]:
        return "gzip"
    return None


def send(asset: Asset, cache_control: str) -> Response:
    """The file, compressed if the browser takes it, with an ETag per encoding; answers 304
    to a browser that has it already."""
    encoding = _encoding_for(asset)
    data = asset.encoded(encoding) if encoding else asset.data
    response = Response(data, mimetype=asset.mimetype)
    if asset.compressible:
        response.vary.add("Accept-Encoding")
    if encoding:
        response.content_encoding = encoding
    response.set_etag(f"{asset.digest}-{encoding or 'identity'}")
    response.headers["Cache-Control"] = cache_control
    return response.make_conditional(request, accept_ranges=False)


def _assets() -> Assets:
    return current_app.extensions["assets"]


def serve_static(filename: str):
    """`/static/<filename>`: a hashed name of the current file for good, a plain name (or an
    outdated hash) revalidated on each use."""
    assets = _assets()
    asset = assets.get(filename)
    if asset is not None:
        return send(asset, REVALIDATE)
    match = _HASHED.match(filename)
    if match is None:
        abort(404)
    asset = assets.get(match["stem"] + match["ext"])
    if asset is None:
        abort(404)
    return send(asset, IMMUTABLE if match["hash"] == asset.digest else REVALIDATE)


def favicon():
    asset = _assets().get("favicon.ico")
    if asset is None:
        abort(404)
    return send(asset, FAVICON_CACHE)


def init_app(app: Flask) -> None:
    assets = Assets(app.static_folder, watch=app.debug or app.config.get("TEMPLATES_AUTO_RELOAD"))
    app.extensions["assets"] = assets
    # Flask made the "static" endpoint; the same URLs now go through serve_static.
    app.view_functions["static"] = serve_static
    app.add_url_rule("/favicon.ico", "favicon", favicon)

    @app.url_defaults
    def hashed_static_names(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = assets.url_name(values["filename"])
