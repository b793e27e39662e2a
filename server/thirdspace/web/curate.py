"""The authoring API under /api/curate: scenes, drafts, revisions, publishing, assets and reviews.

Every write to a draft names the revision it was based on in ``If-Match`` (the
draft's ``ETag``, ``"rN"``); a write based on an older revision gets 412 with
the current revision, and a write without ``If-Match`` gets 428. Each accepted
write is a new revision; nothing is overwritten.

The store is awaited (it runs in threads) and asset work runs in the asset worker
processes: when they are all busy and their queue is full, a request that needs one
gets 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from thirdspace.assets.checks import ImportLimits, ImportRefused
from thirdspace.assets.generators import GenerationRequest, GeneratorError, HttpGenerator, RecipeGenerator
from thirdspace.assets.library import AssetError
from thirdspace.assets.manifest import build_manifest
from thirdspace.assets.provenance import GENERATED_TYPES, SOURCE_TYPES
from thirdspace.assets.recipes import RECIPES, RecipeError
from thirdspace.chat import glossary
from thirdspace.chat.translate import TranslationError
from thirdspace.scenes import editing
from thirdspace.scenes.editing import EditError
from thirdspace.scenes.model import SceneError, text_problem, validate
from thirdspace.services.assets import AssetJobFailed, AssetWorkersBusy, WorkerStopped
from thirdspace.store import Conflict, Duplicate, NotFound, SceneRecord, User, now
from thirdspace.web.auth import http_error, require
from thirdspace.web.http import json_response, read_json, spooled_body
from thirdspace.web.keys import ASSETS, DB, PUBLISHER, ROOMS, SETTINGS

ETAG = re.compile(r'^"r(\d{1,9})"$')
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
MAX_NUMBER = 2**31 - 1  # revision and review numbers (SQLite integers; anything larger names nothing)


def is_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_NUMBER


ASSET_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def etag(revision: int) -> str:
    return f'"r{revision}"'


def if_match(request: web.Request) -> int:
    header = request.headers.get("If-Match")
    if header is None:
        raise http_error(428, "send If-Match with the draft's ETag (\"rN\") so that no one's change is overwritten", "If-Match")
    match = ETAG.match(header.strip())
    if match is None:
        raise http_error(412, 'If-Match must be a draft ETag such as "r12"', "If-Match")
    return int(match.group(1))


async def scene_record(request: web.Request) -> SceneRecord:
    try:
        return await request.app[DB].scene(request.match_info["scene_id"])
    except NotFound:
        raise http_error(404, f"no scene {request.match_info['scene_id']!r}", "scene_id") from None


async def draft_response(request: web.Request, status: int = 200, extra: dict[str, Any] | None = None) -> web.Response:
    record = await scene_record(request)
    document = (await request.app[DB].revision(record.id, record.draft_revision))["document"]
    reply = {"scene": record.public(), "revision": record.draft_revision, "document": document, **(extra or {})}
    response = json_response(reply, status)
    response.headers["ETag"] = etag(record.draft_revision)
    return response


async def check_document(document: Any) -> dict[str, Any]:
    """The document, validated against the scene schema in a thread (milliseconds for a large scene: not on the loop)."""
    try:
        return (await asyncio.to_thread(validate, document)).document
    except SceneError as err:
        issues = [{"path": issue.path, "reason": issue.reason} for issue in err.issues]
        raise http_error(422, issues[0]["reason"], issues[0]["path"], issues=issues) from None


async def write(
    request: web.Request, user: User, document: dict[str, Any], message: str, extra: dict[str, Any] | None = None
) -> web.Response:
    """Validate and store a new draft revision on top of If-Match; tell the draft's watchers."""
    record = await scene_record(request)
    base = if_match(request)
    document = await check_document(document)
    if document["id"] != record.id:
        raise http_error(422, "a scene's id cannot change; copy the scene instead", "$.id")
    try:
        updated = await request.app[DB].write_draft(record.id, base, document, user.name, message)
    except Conflict as err:
        raise stale(err) from None
    request.app[ROOMS].notify_draft(
        record.id, {"type": "draft", "scene": record.id, "revision": updated.draft_revision, "author": user.name}
    )
    return await draft_response(request, extra=extra)


def stale(err: Conflict) -> web.HTTPException:
    message = f"the draft has changed: it is at revision {err.current}; reload it and try again"
    error = http_error(412, message, "If-Match", current_revision=err.current)
    error.headers["ETag"] = etag(err.current)
    return error


async def current_draft(request: web.Request) -> dict[str, Any]:
    record = await scene_record(request)
    return (await request.app[DB].revision(record.id, record.draft_revision))["document"]


async def edit(request: web.Request, change) -> dict[str, Any]:
    document = await current_draft(request)
    try:
        return change(document)
    except EditError as err:
        raise http_error(err.status, err.message, err.path) from None


# -- scenes -------------------------------------------------------------------------------------


async def list_scenes(request: web.Request) -> web.Response:
    require(request, "curator")
    db = request.app[DB]
    out = []
    for record in await db.scenes():
        document = (await db.revision(record.id, record.draft_revision))["document"]
        out.append({**record.public(), "title": document["title"], "live": record.id in request.app[ROOMS].scenes})
    return json_response({"scenes": out})


async def create_scene(request: web.Request) -> web.Response:
    user = require(request, "curator")
    body = await read_json(request, {"document", "copy_from", "id", "message"})
    db = request.app[DB]
    if "copy_from" in body:
        source = body["copy_from"]
        if not isinstance(source, str) or not await db.scene_exists(source):
            raise http_error(404, f"no scene {source!r} to copy", "copy_from")
        try:
            document = (await db.revision(source, (await db.scene(source)).draft_revision))["document"]
        except NotFound:  # it exists but was taken down
            raise http_error(404, f"no scene {source!r} to copy", "copy_from") from None
        document = {**document, "id": body.get("id")}
        message = body.get("message") or f"copied from {source}"
    elif "document" in body:
        document = body["document"]
        message = body.get("message") or "created"
    else:
        raise http_error(400, "send a document, or copy_from with a new id", "document")
    document = await check_document(document)
    if not isinstance(message, str):
        raise http_error(400, "message must be a string", "message")
    try:
        await db.create_scene(document, user.name, message)
    except FileExistsError:
        raise http_error(409, f"there is already a scene {document['id']!r}", "$.id") from None
    request.match_info["scene_id"] = document["id"]
    return await draft_response(request, 201)


async def get_draft(request: web.Request) -> web.Response:
    require(request, "curator")
    return await draft_response(request)


async def draft_manifest(request: web.Request) -> web.Response:
    """The draft's assets, pending ones included (curators see what they are reviewing)."""
    require(request, "curator")
    document = await current_draft(request)
    library = request.app[ASSETS]
    assets, missing = [], []
    used = [n["asset"] for n in document["nodes"] if "asset" in n] + [o["asset"] for o in document.get("overlays", []) if "asset" in o]
    for asset_id in dict.fromkeys(used):
        try:
            with asset_work("scene_id"):
                assets.append(await library.resolve(asset_id, wait=False))
        except AssetError:
            missing.append(asset_id)
    manifest = build_manifest(document, assets)
    statuses = await request.app[DB].review_statuses("asset")
    for entry in manifest["assets"]:
        entry["status"] = statuses.get(entry["id"]) or "approved"
    return json_response({**manifest, "missing": missing})


async def draft_languages(request: web.Request) -> web.Response:
    """The language report for the draft (what the curator page shows while composing)."""
    from thirdspace.tours.languages import report, text_counts

    require(request, "curator")
    scene_id = request.match_info["scene_id"]
    document = await current_draft(request)
    statuses = await request.app[DB].review_statuses("text")
    counts = text_counts(document, lambda path, language, text: statuses.get(editing.text_subject(scene_id, path, language, text)))
    out = report(document)
    for language, entry in out["languages"].items():
        entry["texts"] = counts[language]
    return json_response({"scene": scene_id, **out})


async def replace_draft(request: web.Request) -> web.Response:
    user = require(request, "curator")
    body = await read_json(request, {"document", "message"})
    if "document" not in body:
        raise http_error(400, "document is required", "document")
    return await write(request, user, body["document"], _message(body, "edited"))


async def delete_scene(request: web.Request) -> web.Response:
    require(request, "admin")
    record = await scene_record(request)
    base = if_match(request)
    try:
        await request.app[DB].delete_scene(record.id, base)
    except Conflict as err:
        raise stale(err) from None
    await request.app[PUBLISHER].unpublish(record.id, "this scene has been taken down")
    return web.Response(status=204)


def _message(body: dict[str, Any], default: str) -> str:
    message = body.get("message", default)
    if not isinstance(message, str) or len(message) > 500:
        raise http_error(400, "message must be a string of at most 500 characters", "message")
    return message or default


# -- nodes and texts ----------------------------------------------------------------------------


async def add_node(request: web.Request) -> web.Response:
    user = require(request, "curator")
    body = await read_json(request, {"node", "recipe", "message"})
    node = body.get("node")
    if not isinstance(node, dict):
        raise http_error(400, "node must be an object", "node")
    if "recipe" in body:
        node = {**node, "asset": (await generate_recipe_asset(request, user, body["recipe"]))["id"]}
    document = await edit(request, lambda doc: editing.add_node(doc, node))
    return await write(request, user, document, _message(body, f"added {node.get('id')}"))


async def update_node(request: web.Request) -> web.Response:
    user = require(request, "curator")
    node_id = request.match_info["node_id"]
    body = await read_json(request, None)
    message = _message(body, f"changed {node_id}")
    changes = {k: v for k, v in body.items() if k != "message"}
    document = await edit(request, lambda doc: editing.update_node(doc, node_id, changes))
    return await write(request, user, document, message)


async def remove_node(request: web.Request) -> web.Response:
    user = require(request, "curator")
    node_id = request.match_info["node_id"]
    document = await edit(request, lambda doc: editing.remove_node(doc, node_id))
    return await write(request, user, document, f"removed {node_id}")


async def set_text(request: web.Request) -> web.Response:
    user = require(request, "curator")
    body = await read_json(request, {"path", "language", "text", "machine_translated", "message"})
    path, language, text = body.get("path"), body.get("language"), body.get("text")
    if not isinstance(path, str):
        raise http_error(400, "path must be a string such as title or nodes.NODE.name", "path")
    if not isinstance(language, str) or not LANGUAGE_TAG.fullmatch(language):
        raise http_error(400, "language must be a BCP 47 tag", "language")
    if text is not None and not isinstance(text, str):
        raise http_error(400, "text must be a string, or null to remove it", "text")
    machine = body.get("machine_translated", False)
    if not isinstance(machine, bool):
        raise http_error(400, "machine_translated must be true or false", "machine_translated")
    document = await edit(request, lambda doc: editing.set_text(doc, path, language, text))
    if machine and text:  # queued before the text is stored, so that no publish in between shows it unreviewed
        scene_id = request.match_info["scene_id"]
        subject = editing.text_subject(scene_id, path, language, text)
        await request.app[DB].add_review("text", subject, {"path": path, "language": language, "text": text}, user.name, scene_id)
    return await write(request, user, document, _message(body, f"{path} [{language}]"))


def _language(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not LANGUAGE_TAG.fullmatch(value):
        raise http_error(400, f"{field} must be a BCP 47 tag such as sw or pt-BR", field)
    return value


async def draft_translations(request: web.Request) -> web.Response:
    """Machine-translate every text the draft (or one part of it) lacks in a language: one new revision,
    each text queued for review, so visitors see none of them until a person approves it."""
    user = require(request, "curator")
    body = await read_json(request, {"language", "source", "scope", "message"})
    target = _language(body, "language")
    scope = body.get("scope", "")
    if not isinstance(scope, str) or len(scope) > 300:
        raise http_error(400, "scope must be a text path or its start, such as nodes.pagoda or tours.silk-road", "scope")
    translations = request.app[ROOMS].translations
    if not translations.enabled:
        raise http_error(409, "no translation backend is configured: set translator (see docs/assistance.md)", "translator")
    record = await scene_record(request)
    base = if_match(request)
    if base != record.draft_revision:
        raise stale(Conflict(record.draft_revision))
    document = (await request.app[DB].revision(record.id, record.draft_revision))["document"]
    source = _language(body, "source") if "source" in body else document["default_language"]
    if source == target:
        raise http_error(400, f"the texts are already in {target}: choose another language than the source", "language")
    if scope and not any(editing.under(path, scope) for path, _ in editing.text_paths(document)):
        raise http_error(404, f"no text in the draft is at or under {scope!r}", "scope")
    wanted = editing.missing_texts(document, source, target, scope)
    terms = glossary.parse(document.get("chat", {}).get("glossary"))
    try:
        drafted = await translations.draft([text for _, text in wanted], source, target, terms)
    except TranslationError as err:
        raise http_error(502, f"the translation backend failed, nothing was changed: {err}", "translator") from None
    done: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    for (path, original), text in zip(wanted, drafted, strict=True):
        problem = "a glossary term did not come through the translation intact" if text is None else text_problem(text)
        if problem is None and text is not None:
            done.append({"path": path, "source_text": original, "text": text})
        else:
            skipped.append({"path": path, "reason": f"{problem}; write this one yourself"})

    def apply(document: dict[str, Any]) -> dict[str, Any]:  # a copy of the document per text: in a thread, not on the loop
        for item in done:
            document = editing.set_text(document, item["path"], target, item["text"])
        return document

    translation = {"language": target, "source": source, "drafted": done, "skipped": skipped}
    if not done:
        return await draft_response(request, extra={"translation": translation})
    document = await asyncio.to_thread(apply, document)
    for item in done:  # queued before the drafts are stored, so that no publish in between shows one unreviewed
        detail = {"path": item["path"], "language": target, "text": item["text"], "machine": True}
        detail |= {"source_language": source, "source_text": item["source_text"]}
        subject = editing.text_subject(record.id, item["path"], target, item["text"])
        await request.app[DB].add_review("text", subject, detail, user.name, record.id)
    message = _message(body, f"machine-translated {len(done)} texts into {target}")
    return await write(request, user, document, message, extra={"translation": translation})


# -- revisions ----------------------------------------------------------------------------------


async def publish(request: web.Request) -> web.Response:
    user = require(request, "curator")
    body = await read_json(request, {"revision"}, allow_empty=True)
    revision = body.get("revision")
    if revision is not None and not is_number(revision):
        raise http_error(400, "revision must be a revision number", "revision")
    record = await scene_record(request)
    try:
        await request.app[DB].publish(record.id, if_match(request), user.name, revision)
    except Conflict as err:
        raise stale(err) from None
    except NotFound:
        raise http_error(404, f"no revision {revision}", "revision") from None
    await request.app[PUBLISHER].refresh(record.id)
    return await draft_response(request)


async def list_revisions(request: web.Request) -> web.Response:
    require(request, "curator")
    record = await scene_record(request)
    try:
        revisions = await request.app[DB].revisions(record.id)
    except NotFound:  # taken down since
        raise http_error(404, f"no scene {record.id!r}", "scene_id") from None
    return json_response({"scene": record.public(), "revisions": revisions})


def _revision_number(value: str, field: str) -> int:
    if not value.isdigit() or not is_number(int(value)):
        raise http_error(400, f"{field} must be a revision number", field)
    return int(value)


async def _revision(request: web.Request, number: int, field: str) -> dict[str, Any]:
    record = await scene_record(request)
    try:
        return await request.app[DB].revision(record.id, number)
    except NotFound:
        raise http_error(404, f"no revision {number} of {record.id}", field) from None


async def get_revision(request: web.Request) -> web.Response:
    require(request, "curator")
    return json_response(await _revision(request, _revision_number(request.match_info["number"], "number"), "number"))


async def diff_revisions(request: web.Request) -> web.Response:
    require(request, "curator")
    before = await _revision(request, _revision_number(request.query.get("from", ""), "from"), "from")
    after = await _revision(request, _revision_number(request.query.get("to", ""), "to"), "to")
    return json_response({"from": before["revision"], "to": after["revision"], "diff": editing.diff(before["document"], after["document"])})


async def rollback(request: web.Request) -> web.Response:
    """A new draft revision with an earlier revision's content; published too if asked."""
    user = require(request, "curator")
    body = await read_json(request, {"revision", "publish"})
    number = body.get("revision")
    if not is_number(number):
        raise http_error(400, "revision must be a revision number", "revision")
    if not isinstance(body.get("publish", False), bool):
        raise http_error(400, "publish must be true or false", "publish")
    document = (await _revision(request, number, "revision"))["document"]
    response = await write(request, user, document, f"rolled back to revision {number}")
    if body.get("publish"):
        record = await scene_record(request)
        try:
            await request.app[DB].publish(record.id, record.draft_revision, user.name)
        except Conflict as err:  # another write came in between the roll-back and its publish
            raise stale(err) from None
        await request.app[PUBLISHER].refresh(record.id)
        response = await draft_response(request)
    return response


# -- assets and reviews -------------------------------------------------------------------------


@contextmanager
def asset_work(field: str) -> Iterator[None]:
    """Asset workers' failures as HTTP errors: 503 with Retry-After when busy, 413 past a limit, 500 if a worker died."""
    try:
        yield
    except AssetWorkersBusy as err:
        error = http_error(503, str(err), field, retry_after_s=err.retry_after_s)
        error.headers["Retry-After"] = str(err.retry_after_s)
        raise error from None
    except WorkerStopped as err:
        raise http_error(500, str(err), field) from None
    except AssetJobFailed as err:  # over the memory or processor-time limit: the model is too big to process here
        raise http_error(413, str(err), field) from None


async def list_assets(request: web.Request) -> web.Response:
    require(request, "curator")
    db, library = request.app[DB], request.app[ASSETS]
    out = [{"id": asset_id, "origin": "file", "status": "approved"} for asset_id in await library.file_ids()]
    statuses = await db.review_statuses("asset")
    for row in await db.assets():
        out.append(
            {
                "id": row["id"],
                "origin": row["origin"],
                "sha256": row["sha256"],
                "generated": bool(row["generated"]),
                "status": statuses.get(row["id"]) or "approved",
                "created_by": row["created_by"],
                "created_at": row["created_at"],
            }
        )
    return json_response({"assets": out, "recipes": [recipe.describe() for recipe in RECIPES.values()]})


async def get_asset(request: web.Request) -> web.Response:
    """One library asset as a manifest entry (its levels' URLs): what the curator page loads to size and place it."""
    require(request, "curator")
    asset_id = request.match_info["asset_id"]
    if not ASSET_ID.match(asset_id):
        raise http_error(404, f"no asset {asset_id!r}: an asset id is lower-case letters, digits, - and _", "asset_id")
    try:
        with asset_work("asset_id"):
            asset = await request.app[ASSETS].resolve(asset_id, wait=False)
    except AssetError as err:
        raise http_error(404, str(err), "asset_id") from None
    statuses = await request.app[DB].review_statuses("asset")
    status = statuses.get(asset.id) or "approved"
    levels, packet = asset.record["levels"], asset.record["provenance"]
    return json_response({"id": asset.id, "sha256": asset.sha256, "levels": levels, "provenance": packet, "status": status})


async def _new_asset_id(request: web.Request, wanted: Any, fallback: str) -> str:
    asset_id = wanted if wanted is not None else fallback
    if not isinstance(asset_id, str) or not ASSET_ID.match(asset_id):
        raise http_error(400, "id must be 1-64 lower-case letters, digits, '-' or '_'", "id")
    if await request.app[DB].asset(asset_id) is not None or asset_id in await request.app[ASSETS].file_ids():
        raise http_error(409, f"there is already an asset {asset_id!r}", "id")
    return asset_id


async def _register(
    request: web.Request, asset_id: str, record: dict[str, Any], origin: str, user: User, generated: bool
) -> dict[str, Any]:
    """Add a stored asset to the store's list (and to the review queue if generated)."""
    db = request.app[DB]
    try:
        await db.add_asset(asset_id, record["sha256"], origin, generated, user.name)
    except Duplicate:  # another request took the id while this one was being processed
        raise http_error(409, f"there is already an asset {asset_id!r}", "id") from None
    review = None
    if generated:
        detail = {"sha256": record["sha256"], "provenance": record["provenance"]}
        review = await db.add_review("asset", asset_id, detail, user.name)
    return {
        "id": asset_id,
        "sha256": record["sha256"],
        "status": "pending" if generated else "approved",
        "review": review,
        "record": record,
    }


async def _store_generated(request: web.Request, asset_id: str, glb: bytes, origin: str, user: User) -> dict[str, Any]:
    field = "recipe" if origin == "recipe" else "prompt"
    try:
        with asset_work(field):
            record = await request.app[ASSETS].ingest(glb)
    except ImportRefused as err:  # a level of detail built from it would not be valid
        raise http_error(422, str(err), field) from None
    return await _register(request, asset_id, record, origin, user, True)


async def generate_recipe_asset(request: web.Request, user: User, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise http_error(400, "recipe must be an object: {name, params, seed}", "recipe")
    name, params, seed = spec.get("name"), spec.get("params", {}), spec.get("seed", 0)
    try:
        with asset_work("recipe"):
            glb = await RecipeGenerator(request.app[ASSETS].run).generate(GenerationRequest(user.name, now(), name, params, seed))
    except RecipeError as err:
        raise http_error(400, err.message, f"recipe.{err.field}") from None
    except (GeneratorError, TypeError) as err:
        raise http_error(400, str(err), "recipe") from None
    asset_id = await _new_asset_id(request, spec.get("id"), f"{name}-{_short(glb)}")
    return await _store_generated(request, asset_id, glb, "recipe", user)


def _short(glb: bytes) -> str:
    return hashlib.sha256(glb).hexdigest()[:10]


async def generate_asset(request: web.Request) -> web.Response:
    """POST /api/curate/assets/generate: a recipe ({"recipe": {...}}) or the text-to-3D service ({"prompt"})."""
    user = require(request, "curator")
    body = await read_json(request, {"recipe", "prompt", "seed", "params", "id"})
    if "recipe" in body:
        spec = body["recipe"]
        if isinstance(spec, dict) and "id" in body:
            spec = {**spec, "id": body["id"]}
        return json_response(await generate_recipe_asset(request, user, spec), 201)
    url = request.app[SETTINGS].generator_url
    if "prompt" not in body:
        raise http_error(400, "send a recipe, or a prompt for the text-to-3D service", "recipe")
    if not url:
        raise http_error(400, "this server has no text-to-3D service configured (the generator_url setting)", "prompt")
    seed = body.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise http_error(400, "seed must be an integer", "seed")
    library = request.app[ASSETS]
    try:
        with asset_work("prompt"):
            glb = await HttpGenerator(url, limits=library.limits, run=library.run).generate(
                GenerationRequest(user.name, now(), None, body.get("params") or {}, seed, body["prompt"])
            )
    except GeneratorError as err:
        raise http_error(502, str(err), "prompt") from None
    asset_id = await _new_asset_id(request, body.get("id"), f"generated-{_short(glb)}")
    return json_response(await _store_generated(request, asset_id, glb, "service", user), 201)


async def upload_asset(request: web.Request) -> web.Response:
    """POST /api/curate/assets?id=ID&source_type=T with a GLB or zip body: checked, labelled, stored (in an asset worker)."""
    user = require(request, "curator")
    asset_id = await _new_asset_id(request, request.query.get("id"), "")
    source_type = request.query.get("source_type", "digitalCapture")
    if source_type not in SOURCE_TYPES:
        raise http_error(400, f"source_type must be one of {', '.join(SOURCE_TYPES)}", "source_type")
    library = request.app[ASSETS]
    limits: ImportLimits = library.limits
    # Spooled to a file under data_dir as it arrives (413 past the limit, counted while reading); the asset worker reads
    # the file, so the server never holds the body.
    async with spooled_body(request, limits.max_file_bytes, request.app[SETTINGS].data_dir / "uploads") as path:
        try:
            with asset_work("body"):
                record = await library.ingest_upload(path, source_type, user.name, now(), request.query.get("title"))
        except ImportRefused as err:
            raise http_error(422, err.message, err.field) from None
    return json_response(await _register(request, asset_id, record, "upload", user, source_type in GENERATED_TYPES), 201)


async def preview_recipe(request: web.Request) -> web.Response:
    """POST /api/curate/recipes/{name}/preview {"params", "seed"}: the GLB, not stored."""
    require(request, "curator")
    body = await read_json(request, {"params", "seed"}, allow_empty=True)
    name = request.match_info["name"]
    if name not in RECIPES:
        raise http_error(404, f"no recipe {name!r}", "name")
    seed = body.get("seed", 0)
    try:
        with asset_work("params"):
            glb = await request.app[ASSETS].build_glb(name, body.get("params"), seed if isinstance(seed, int) else -1, "preview", None)
    except RecipeError as err:
        raise http_error(400, err.message, err.field) from None
    return web.Response(body=glb, content_type="model/gltf-binary")


async def list_reviews(request: web.Request) -> web.Response:
    require(request, "curator")
    status = request.query.get("status")
    if status is not None and status not in ("pending", "approved", "rejected"):
        raise http_error(400, "status must be pending, approved or rejected", "status")
    return json_response({"reviews": await request.app[DB].reviews(status)})


async def decide_review(request: web.Request) -> web.Response:
    user = require(request, "curator")
    body = await read_json(request, {"decision", "note"})
    decision, note = body.get("decision"), body.get("note", "")
    if decision not in ("approve", "reject"):
        raise http_error(400, "decision must be approve or reject", "decision")
    if not isinstance(note, str) or len(note) > 2000:
        raise http_error(400, "note must be a string of at most 2000 characters", "note")
    review_id = request.match_info["review_id"]
    if not review_id.isdigit() or not is_number(int(review_id)):
        raise http_error(404, f"no review {review_id!r}", "review_id")
    try:
        review = await request.app[DB].decide(int(review_id), "approved" if decision == "approve" else "rejected", user.name, note)
    except NotFound:
        raise http_error(404, f"no review {review_id!r}", "review_id") from None
    publisher = request.app[PUBLISHER]
    if review["kind"] == "asset":  # any scene may use the asset, and one may become showable that was not
        await publisher.refresh_all()
    elif review["scene_id"] is not None:
        await publisher.refresh(review["scene_id"])
    return json_response(review)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/curate/scenes", list_scenes)
    r.add_post("/api/curate/scenes", create_scene)
    r.add_get("/api/curate/scenes/{scene_id}", get_draft)
    r.add_put("/api/curate/scenes/{scene_id}", replace_draft)
    r.add_get("/api/curate/scenes/{scene_id}/manifest", draft_manifest)
    r.add_get("/api/curate/scenes/{scene_id}/languages", draft_languages)
    r.add_delete("/api/curate/scenes/{scene_id}", delete_scene)
    r.add_post("/api/curate/scenes/{scene_id}/nodes", add_node)
    r.add_patch("/api/curate/scenes/{scene_id}/nodes/{node_id}", update_node)
    r.add_delete("/api/curate/scenes/{scene_id}/nodes/{node_id}", remove_node)
    r.add_put("/api/curate/scenes/{scene_id}/texts", set_text)
    r.add_post("/api/curate/scenes/{scene_id}/translations", draft_translations)
    r.add_post("/api/curate/scenes/{scene_id}/publish", publish)
    r.add_get("/api/curate/scenes/{scene_id}/revisions", list_revisions)
    r.add_get("/api/curate/scenes/{scene_id}/revisions/{number}", get_revision)
    r.add_get("/api/curate/scenes/{scene_id}/diff", diff_revisions)
    r.add_post("/api/curate/scenes/{scene_id}/rollback", rollback)
    r.add_get("/api/curate/assets", list_assets)
    r.add_post("/api/curate/assets", upload_asset)
    r.add_get("/api/curate/assets/{asset_id}", get_asset)
    r.add_post("/api/curate/assets/generate", generate_asset)
    r.add_post("/api/curate/recipes/{name}/preview", preview_recipe)
    r.add_get("/api/curate/reviews", list_reviews)
    r.add_post("/api/curate/reviews/{review_id}", decide_review)
