"""A small but realistic Flask app, unchanged from what would run behind gunicorn."""

from __future__ import annotations

import gzip
import hashlib
import json
import struct
import time
import zlib
from typing import Any

from flask import (
    Flask,
    Response,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

app = Flask(__name__)
app.secret_key = "demo-only-not-a-secret"
app.json.ensure_ascii = False  # type: ignore[attr-defined]  # readable Chinese in JSON

ITEMS: dict[int, dict[str, Any]] = {1: {"id": 1, "name": "tea", "price": 12.5}}


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG image built in code, so the example needs no binary files."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        payload = kind + data
        return struct.pack(">I", len(data)) + payload + struct.pack(">I", zlib.crc32(payload))

    rows = b"".join(b"\x00" + b"\xff\x00\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@app.route("/", methods=["GET", "POST"])
def index() -> Any:
    if request.method == "POST":  # a webhook-style endpoint: acknowledge what arrived
        return jsonify(received=request.get_json(silent=True), bytes=len(request.get_data()))
    return (
        "<!doctype html><title>faas_bridge Flask demo</title>"
        f"<p>Hello from {request.environ.get('faas_bridge.platform', 'a plain server')}."
        f" <a href='{url_for('list_items')}'>items</a>"
        f" <a href='{url_for('chinese')}'>你好</a></p>"
    )


@app.get("/api/items")
def list_items() -> Any:
    return jsonify(sorted(ITEMS.values(), key=lambda item: item["id"]))


@app.post("/api/items")
def create_item() -> Any:
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return jsonify(error="expected a JSON object with a 'name'"), 422
    item_id = max(ITEMS, default=0) + 1
    ITEMS[item_id] = {"id": item_id, "name": data["name"], "price": data.get("price")}
    response = jsonify(ITEMS[item_id])
    response.status_code = 201
    response.headers["Location"] = url_for("get_item", item_id=item_id)
    return response


@app.get("/api/items/<int:item_id>")
def get_item(item_id: int) -> Any:
    if item_id not in ITEMS:
        return jsonify(error="not found"), 404
    return jsonify(ITEMS[item_id])


@app.delete("/api/items/<int:item_id>")
def delete_item(item_id: int) -> Any:
    ITEMS.pop(item_id, None)
    return "", 204


@app.route("/api/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def echo() -> Any:
    """What the app saw: handy to check an adapter keeps everything intact."""
    return jsonify(
        method=request.method,
        path=request.path,
        script_root=request.script_root,
        url=request.url,
        args={key: request.args.getlist(key) for key in request.args},
        cookies=request.cookies,
        remote_addr=request.remote_addr,
        content_type=request.content_type,
        body_sha256=hashlib.sha256(request.get_data()).hexdigest(),
        request_id=request.environ.get("faas_bridge.request_id"),
        platform=request.environ.get("faas_bridge.platform"),
    )


@app.post("/form")
def form() -> Any:
    return jsonify(fields=request.form.to_dict(flat=False))


@app.post("/upload")
def upload() -> Any:
    uploaded = request.files.get("file")
    data = uploaded.read() if uploaded is not None else request.get_data()
    name = uploaded.filename if uploaded is not None else None
    return jsonify(filename=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())


@app.put("/upload/<name>")
def upload_raw(name: str) -> Any:
    """A raw binary body (PUT), as the shipped ``binary_upload`` sample sends it."""
    data = request.get_data()
    return jsonify(name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())


@app.get("/商品/列表")
def product_list() -> Any:
    """A Chinese path with a repeated query key, as the shipped ``get_query`` sample sends."""
    return jsonify(
        path=request.path, tag=request.args.getlist("tag"), page=request.args.get("page")
    )


@app.get("/me")
def me() -> Any:
    """The cookies the client sent, as the shipped ``cookies`` sample sends them."""
    return jsonify(cookies=request.cookies)


@app.get("/download/pixel.png")
def download() -> Response:
    return Response(
        tiny_png(),
        mimetype="image/png",
        headers={"Content-Disposition": "attachment; filename=pixel.png"},
    )


@app.get("/login")
def login() -> Any:
    session["user"] = request.args.get("user", "guest")
    response = redirect(url_for("whoami"))
    response.set_cookie("theme", "dark", max_age=3600)
    response.set_cookie("lang", "zh-CN", httponly=True)
    return response


@app.get("/whoami")
def whoami() -> Any:
    return jsonify(user=session.get("user"), theme=request.cookies.get("theme"))


@app.get("/go")
def go() -> Any:
    return redirect(url_for("list_items"))


@app.get("/你好")
def chinese() -> Any:
    return jsonify(message="你好，世界", path=request.path)


@app.get("/compressed")
def compressed() -> Response:
    payload = json.dumps({"compressed": True, "items": list(ITEMS.values())}).encode()
    return Response(
        gzip.compress(payload),
        mimetype="application/json",
        headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
    )


@app.errorhandler(404)
def not_found(error: Exception) -> Any:
    return jsonify(error="no such route", method=request.method, path=request.path), 404


@app.get("/boom")
def boom() -> Any:
    raise RuntimeError("an app bug: this message must not reach the client")


@app.get("/events")
def events() -> Response:
    """Server-sent events: ``count`` ticks, ``interval`` seconds apart, each sent when produced.

    In web mode (``faas-bridge serve``) every tick reaches the browser as it is yielded; in
    event mode the platform gets the whole stream as one response once it has ended.
    """
    count = max(1, min(request.args.get("count", 5, type=int) or 5, 100))
    interval = max(0.0, min(request.args.get("interval", 1.0, type=float) or 0.0, 10.0))
    request_id = request.environ.get("faas_bridge.request_id") or ""

    def stream() -> Any:
        yield "retry: 3000\n\n"
        for n in range(1, count + 1):
            if n > 1:
                time.sleep(interval)
            tick = {"n": n, "of": count, "time": time.time(), "request_id": request_id}
            yield f"id: {n}\nevent: tick\ndata: {json.dumps(tick)}\n\n"
        yield "event: done\ndata: {}\n\n"

    return Response(
        stream(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@app.get("/events/page")
def events_page() -> str:
    """A page that reads ``/events`` with the browser's ``EventSource``."""
    return render_template("events.html", events_url=url_for("events"))
