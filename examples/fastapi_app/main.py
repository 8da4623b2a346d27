"""A small but realistic FastAPI app, unchanged from what would run behind uvicorn.

Everything a FastAPI user reaches for: pydantic models and JSON CRUD, a resource created in
lifespan, a dependency, file upload and binary download, cookies, a redirect, an SSE
stream, and the OpenAPI docs (which work under the Tencent stage prefix ``/release``).
"""

import asyncio
import hashlib
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any, Optional

from fastapi import Depends, FastAPI, File, HTTPException, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, Field

# --------------------------------------------------------------------------------------------
# The resource lifespan creates: a tiny thread-safe store standing in for a database pool


class ItemIn(BaseModel):
    """What a client sends to create or replace an item."""

    name: str = Field(min_length=1, max_length=50)
    price: float = Field(ge=0)
    tags: list[str] = []


class Item(ItemIn):
    """An item as stored and returned."""

    id: int


class ItemStore:
    """In-memory items; created once per process by the lifespan handler."""

    def __init__(self) -> None:
        self._items: dict[int, Item] = {1: Item(id=1, name="tea", price=12.5, tags=["green"])}
        self._next_id = 2
        self._lock = threading.Lock()
        self.created_at = time.time()

    def all(self) -> list[Item]:
        with self._lock:
            return list(self._items.values())

    def get(self, item_id: int) -> Item:
        with self._lock:
            item = self._items.get(item_id)
        if item is None:
            raise HTTPException(status_code=404, detail=f"no item {item_id}")
        return item

    def add(self, data: ItemIn) -> Item:
        with self._lock:
            item = Item(id=self._next_id, **data.model_dump())
            self._items[item.id] = item
            self._next_id += 1
        return item

    def replace(self, item_id: int, data: ItemIn) -> Item:
        self.get(item_id)
        item = Item(id=item_id, **data.model_dump())
        with self._lock:
            self._items[item_id] = item
        return item

    def delete(self, item_id: int) -> None:
        with self._lock:
            if self._items.pop(item_id, None) is None:
                raise HTTPException(status_code=404, detail=f"no item {item_id}")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Runs once per process (not per invocation): open the store, close it at exit."""
    store = ItemStore()
    yield {"store": store}


app = FastAPI(title="faas_bridge FastAPI demo", version="1.0", lifespan=lifespan)


_fallback_store: Optional[ItemStore] = None


def get_store(request: Request) -> ItemStore:
    """The store lifespan created; a process-wide one when lifespan was switched off."""
    global _fallback_store
    state: Any = request.state  # the lifespan's dict, as attributes
    store: Optional[ItemStore] = getattr(state, "store", None)
    if store is None:
        if _fallback_store is None:
            _fallback_store = ItemStore()
        store = _fallback_store
    return store


Store = Annotated[ItemStore, Depends(get_store)]


# --------------------------------------------------------------------------------------------
# A dependency reading what the platform passed


class PlatformInfo(BaseModel):
    """Where this request came from, read from the scope keys faas_bridge adds."""

    platform: Optional[str]
    request_id: Optional[str]
    function_name: Optional[str]
    time_limit_s: Optional[float]
    client: Optional[str]


def platform_info(request: Request) -> PlatformInfo:
    scope = request.scope
    context = scope.get("faas_bridge.context")
    if isinstance(context, Mapping):  # Tencent SCF and CloudBase: a dict
        name = context.get("function_name")
        limit_ms = context.get("time_limit_in_ms")
        limit = limit_ms / 1000 if isinstance(limit_ms, (int, float)) else None
    else:  # Alibaba FC: an object
        function = getattr(context, "function", None)
        name = getattr(function, "name", None)
        limit = getattr(function, "timeout", None)
    return PlatformInfo(
        platform=scope.get("faas_bridge.platform"),
        request_id=scope.get("faas_bridge.request_id") or None,
        function_name=name,
        time_limit_s=limit,
        client=request.client.host if request.client else None,
    )


Platform = Annotated[PlatformInfo, Depends(platform_info)]


# --------------------------------------------------------------------------------------------
# Routes


@app.get("/", response_class=HTMLResponse)
def home(request: Request, info: Platform) -> str:
    return (
        "<!doctype html><title>faas_bridge FastAPI demo</title>"
        f"<p>Hello from {info.platform or 'a plain server'}."
        f" <a href='{request.url_for('list_items').path}'>items</a>"
        f" <a href='{request.scope.get('root_path', '')}/docs'>API docs</a></p>"
    )


@app.get("/api/whoami")
def whoami(info: Platform) -> PlatformInfo:
    return info


@app.get("/api/items")
def list_items(store: Store, tag: Optional[str] = None) -> list[Item]:
    return [item for item in store.all() if tag is None or tag in item.tags]


@app.post("/api/items", status_code=201)
def create_item(data: ItemIn, store: Store, request: Request, response: Response) -> Item:
    item = store.add(data)
    response.headers["Location"] = request.url_for("get_item", item_id=item.id).path
    return item


@app.get("/api/items/{item_id}")
def get_item(item_id: int, store: Store) -> Item:
    return store.get(item_id)


@app.put("/api/items/{item_id}")
def replace_item(item_id: int, data: ItemIn, store: Store) -> Item:
    return store.replace(item_id, data)


@app.delete("/api/items/{item_id}", status_code=204)
def delete_item(item_id: int, store: Store) -> Response:
    store.delete(item_id)
    return Response(status_code=204)


@app.post("/upload")
async def upload(file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    content = await file.read()
    return {
        "filename": file.filename,
        "content_type": file.content_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }


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


@app.get("/download/pixel.png")
def download() -> Response:
    return Response(
        tiny_png(),
        media_type="image/png",
        headers={"Content-Disposition": 'attachment; filename="pixel.png"'},
    )


@app.post("/login")
def login(user: str, response: Response) -> dict[str, str]:
    response.set_cookie("session", f"s-{user}", httponly=True, samesite="lax")
    response.set_cookie("theme", "dark", max_age=3600)
    return {"user": user}


@app.get("/me")
def me(request: Request) -> dict[str, Optional[str]]:
    session = request.cookies.get("session")
    return {"user": session[2:] if session else None, "theme": request.cookies.get("theme")}


@app.get("/go")
def go(request: Request) -> RedirectResponse:
    return RedirectResponse(request.url_for("list_items").path, status_code=302)


@app.get("/events")
async def events(count: int = 3, interval: float = 0.01) -> StreamingResponse:
    """Server-sent events. In event mode the whole stream arrives as one response; with
    ``count=0`` it never ends and the invocation's deadline cuts it (see the README)."""

    async def stream() -> AsyncIterator[str]:
        n = 0
        while count == 0 or n < count:
            yield f"id: {n}\nevent: tick\ndata: {n}\n\n"
            n += 1
            await asyncio.sleep(interval)

    return StreamingResponse(stream(), media_type="text/event-stream")


@app.get("/boom")
def boom() -> None:
    raise RuntimeError("an unhandled error, to show the 500 the client gets")
