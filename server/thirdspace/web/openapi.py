"""The OpenAPI 3.1 description of the HTTP API, served at /api/openapi.json.

Scene documents are described by the same JSON Schema the server validates
them with (``scenes/scene.schema.json``); recipe parameters by each recipe's
own schema, served from /api/recipes.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from thirdspace import __version__
from thirdspace.assets.provenance import SOURCE_TYPES
from thirdspace.scenes.model import schema as scene_schema

JSON = "application/json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Any], required: tuple[str, ...] = (), extra: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": extra}
    if required:
        out["required"] = list(required)
    return out


STRING, INTEGER, BOOLEAN, NUMBER = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
NULLABLE_INT = {"type": ["integer", "null"]}
NULLABLE_STRING = {"type": ["string", "null"]}
ANY_OBJECT = {"type": "object"}


def _scene_schemas() -> dict[str, Any]:
    """The scene schema with its $defs lifted into components (OpenAPI resolves refs from the document root)."""
    source = copy.deepcopy(scene_schema())
    definitions = source.pop("$defs", {})
    source.pop("$schema", None)
    source.pop("$id", None)

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (f"#/components/schemas/Scene_{v.split('/')[-1]}" if k == "$ref" else rewrite(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    out = {"SceneDocument": rewrite(source)}
    out.update({f"Scene_{name}": rewrite(definition) for name, definition in definitions.items()})
    return out


def _schemas() -> dict[str, Any]:
    user = obj({"id": INTEGER, "name": STRING, "role": {"enum": ["visitor", "guide", "curator", "admin"]}}, ("id", "name", "role"))
    record = obj(
        {"id": STRING, "draft_revision": INTEGER, "published_revision": NULLABLE_INT, "created_at": STRING},
        ("id", "draft_revision", "published_revision"),
    )
    revision_meta = {"revision": INTEGER, "author": STRING, "message": STRING, "created_at": STRING}
    review = obj(
        {
            "id": INTEGER,
            "kind": {"enum": ["asset", "text"]},
            "subject": STRING,
            "scene_id": NULLABLE_STRING,
            "detail": ANY_OBJECT,
            "status": {"enum": ["pending", "approved", "rejected"]},
            "created_by": STRING,
            "created_at": STRING,
            "decided_by": NULLABLE_STRING,
            "decided_at": NULLABLE_STRING,
            "note": NULLABLE_STRING,
        },
        ("id", "kind", "subject", "status"),
    )
    level = obj(
        {"level": INTEGER, "triangles": INTEGER, "size": INTEGER, "sha256": STRING, "url": STRING, "encoded": ANY_OBJECT},
        ("level", "size", "sha256", "url"),
    )
    return {
        **_scene_schemas(),
        "Error": obj(
            {
                "error": STRING,
                "field": STRING,
                "issues": {"type": "array", "items": obj({"path": STRING, "reason": STRING})},
                "current_revision": INTEGER,
                "retry_after_s": INTEGER,
            },
            ("error",),
        ),
        "User": user,
        "Session": obj({"user": {"anyOf": [user, {"type": "null"}]}, "csrf": NULLABLE_STRING}, ("user",)),
        "NewUser": obj({"user": user, "token": STRING}, ("user", "token")),
        "SceneRecord": record,
        "Draft": obj({"scene": record, "revision": INTEGER, "document": ref("SceneDocument")}, ("scene", "revision", "document")),
        "Revision": obj({**revision_meta, "document": ref("SceneDocument")}, ("revision", "document")),
        "RevisionList": obj(
            {"scene": record, "revisions": {"type": "array", "items": obj({**revision_meta, "published_at": NULLABLE_STRING})}},
            ("scene", "revisions"),
        ),
        "Diff": obj({"from": INTEGER, "to": INTEGER, "diff": ANY_OBJECT}, ("from", "to", "diff")),
        "Review": review,
        "AssetCreated": obj(
            {
                "id": STRING,
                "sha256": STRING,
                "status": {"enum": ["pending", "approved"]},
                "review": NULLABLE_INT,
                "record": ANY_OBJECT,
            },
            ("id", "sha256", "status"),
        ),
        "Level": level,
        "Provenance": obj({"generated": BOOLEAN, "digital_source_type": NULLABLE_STRING, "source_type": STRING}),
        "AssetRecord": obj(
            {
                "sha256": STRING,
                "size": INTEGER,
                "provenance": ref("Provenance"),
                "packet": ANY_OBJECT,
                "levels": {"type": "array", "items": level},
            },
            ("sha256", "provenance", "packet", "levels"),
        ),
        "Manifest": obj(
            {
                "scene": STRING,
                "spawn": {"type": "array", "items": NUMBER},
                "assets": {
                    "type": "array",
                    "items": obj({"id": STRING, "distance_m": NUMBER, "levels": {"type": "array", "items": level}}),
                },
                "bytes": obj({"lowest": INTEGER, "full": INTEGER}),
            },
            ("scene", "assets"),
        ),
        "LanguageReport": obj(
            {
                "scene": STRING,
                "default_language": STRING,
                "languages": {"type": "object", "additionalProperties": obj({"complete": BOOLEAN})},
            },
            ("scene", "default_language", "languages"),
        ),
        "Room": obj(
            {
                "id": STRING,
                "scene": STRING,
                "capacity": INTEGER,
                "locked": BOOLEAN,
                "visitors": {"type": "array", "items": obj({"id": INTEGER, "name": STRING, "muted": BOOLEAN})},
            },
            ("id", "scene", "visitors"),
        ),
    }


def body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema}}}


def ok(schema: dict[str, Any] | None, status: str = "200", description: str = "OK", headers: dict | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response["content"] = {JSON: {"schema": schema}}
    if headers:
        response["headers"] = headers
    return {status: response, "default": {"description": "An error naming the field at fault", "content": {JSON: {"schema": ref("Error")}}}}


def asset_work(responses: dict[str, Any]) -> dict[str, Any]:
    """A route that may need an asset worker: 503 with Retry-After when they are all busy and their queue is full."""
    busy = {
        "description": "The asset workers are busy and their queue is full: try again after Retry-After seconds",
        "headers": {"Retry-After": {"description": "Seconds to wait before trying again", "schema": INTEGER}},
        "content": {JSON: {"schema": ref("Error")}},
    }
    too_big = {
        "description": "Processing needs more memory or processor time than an asset worker may use (the error names the setting)",
        "content": {JSON: {"schema": ref("Error")}},
    }
    return {**responses, "413": too_big, "503": busy}


ETAG_HEADER = {"ETag": {"description": 'The draft revision, "rN"; send it back in If-Match', "schema": STRING}}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": 'The draft ETag ("rN") the change is based on: 412 if the draft has moved on, 428 if missing',
    "schema": {"type": "string", "pattern": '^"r[0-9]+"$'},
}


def path_param(name: str, description: str, schema: dict | None = None, example: Any = None) -> dict[str, Any]:
    out = {"name": name, "in": "path", "required": True, "description": description, "schema": schema or STRING}
    if example is not None:
        out["example"] = example
    return out


SCENE_ID = path_param("scene_id", "Scene id", example="gallery")
NODE_ID = path_param("node_id", "Node id", example="plinth-1")
ROOM_ID = path_param("room_id", "Room id, such as gallery-1", example="gallery-1")
SHA = path_param("sha256", "sha256 of an asset or one of its levels")
USER_ID = path_param("user_id", "A user's number (GET /api/admin/users)", INTEGER, 1)


def op(summary: str, responses: dict, *, tags: list[str], params: list | None = None, request: dict | None = None, roles: str = "") -> dict:
    out: dict[str, Any] = {"summary": summary, "tags": tags, "responses": responses}
    if roles:
        out["description"] = f"Needs the {roles} role."
        out["security"] = [{"bearer": []}, {"cookie": []}]
    if params:
        out["parameters"] = params
    if request:
        out["requestBody"] = request
    return out


def _paths() -> dict[str, Any]:
    curator, admin = "curator", "admin"
    node_fields = {"type": "object", "description": "Node fields to change; null removes an optional one", "additionalProperties": True}
    draft = ok(ref("Draft"), headers=ETAG_HEADER)
    glb = {"200": {"description": "Binary glTF", "content": {"model/gltf-binary": {"schema": {"type": "string", "format": "binary"}}}}}
    return {
        "/healthz": {"get": op("Liveness (in cluster mode, also whether Redis answers)", ok(obj({"status": STRING})), tags=["public"])},
        "/readyz": {
            "get": op(
                "Readiness: 503 while starting, draining or (cluster mode) without Redis",
                ok(obj({"status": STRING}))
                | ok(obj({"status": STRING, "problems": {"type": "array", "items": STRING}}), "503", "Not ready"),
                tags=["public"],
            )
        },
        "/api/scenes": {"get": op("Published scenes", ok(obj({"scenes": {"type": "array", "items": ANY_OBJECT}})), tags=["public"])},
        "/api/scenes/{scene_id}": {
            "get": op("A published scene as visitors see it", ok(obj({"scene": ref("SceneDocument")})), tags=["public"], params=[SCENE_ID])
        },
        "/api/scenes/{scene_id}/manifest": {
            "get": op("The assets a scene needs, nearest first", ok(ref("Manifest")), tags=["public"], params=[SCENE_ID])
        },
        "/api/scenes/{scene_id}/walk": {
            "get": op(
                "Where visitors may stand: the scene's walk grid, the one the server checks poses against "
                "(binary, docs/scene-format.md, Walkable space); 404 if the scene has none",
                {
                    "200": {
                        "description": "The walk grid",
                        "headers": {"ETag": {"description": "Send it back in If-None-Match: 304 while unchanged", "schema": STRING}},
                        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "304": {"description": "Not modified since the ETag sent in If-None-Match"},
                    **ok(None),
                },
                tags=["public"],
                params=[SCENE_ID],
            )  # fmt: skip
        },
        "/api/scenes/{scene_id}/languages": {
            "get": op(
                "Per language, which overlays and tour stops lack text, audio or captions",
                ok(ref("LanguageReport")),
                tags=["public"],
                params=[SCENE_ID],
            )  # fmt: skip
        },
        "/api/assets/{sha256}": {"get": op("An asset's provenance and levels", ok(ref("AssetRecord")), tags=["public"], params=[SHA])},
        "/api/recipes": {"get": op("Recipes and their parameter schemas", ok(obj({"recipes": {"type": "array"}})), tags=["public"])},
        "/api/session": {
            "post": op(
                "Sign in with a token: sets an HttpOnly session cookie",
                ok(ref("Session")),
                tags=["session"],
                request=body(obj({"token": STRING}, ("token",), extra=False)),
            ),  # fmt: skip
            "get": op("Who is signed in", ok(ref("Session")), tags=["session"]),
            "delete": {"summary": "Sign out", "tags": ["session"], "responses": {"204": {"description": "Signed out"}}},
        },
        "/api/curate/scenes": {
            "get": op(
                "Every scene with its draft and published revisions", ok(obj({"scenes": {"type": "array"}})), tags=["scenes"], roles=curator
            ),
            "post": op(
                "Create a scene from a document, or copy one",
                ok(ref("Draft"), "201", "Created", ETAG_HEADER),
                tags=["scenes"],
                roles=curator,
                request=body(obj({"document": ref("SceneDocument"), "copy_from": STRING, "id": STRING, "message": STRING}, extra=False)),
            ),
        },
        "/api/curate/scenes/{scene_id}": {
            "get": op("The draft", draft, tags=["scenes"], params=[SCENE_ID], roles=curator),
            "put": op(
                "Replace the draft",
                draft,
                tags=["scenes"],
                params=[SCENE_ID, IF_MATCH],
                roles=curator,
                request=body(obj({"document": ref("SceneDocument"), "message": STRING}, ("document",), extra=False)),
            ),  # fmt: skip
            "delete": op(
                "Take a scene down (kept in the store)",
                {"204": {"description": "Deleted"}, **ok(None)},
                tags=["scenes"],
                params=[SCENE_ID, IF_MATCH],
                roles=admin,
            ),  # fmt: skip
        },
        "/api/curate/scenes/{scene_id}/manifest": {
            "get": op(
                "The draft's assets, pending ones included",
                asset_work(ok(ref("Manifest"))),
                tags=["scenes"],
                params=[SCENE_ID],
                roles=curator,
            )
        },
        "/api/curate/scenes/{scene_id}/languages": {
            "get": op("The language report for the draft", ok(ref("LanguageReport")), tags=["scenes"], params=[SCENE_ID], roles=curator)
        },
        "/api/curate/scenes/{scene_id}/nodes": {
            "post": op(
                "Add a node (from the asset library, or from a recipe: a new pending asset)",
                asset_work(draft),
                tags=["nodes"],
                params=[SCENE_ID, IF_MATCH],
                roles=curator,
                request=body(
                    obj(
                        {"node": ANY_OBJECT, "recipe": obj({"name": STRING, "params": ANY_OBJECT, "seed": INTEGER}), "message": STRING},
                        ("node",),
                        extra=False,
                    )
                ),
            ),  # fmt: skip
        },
        "/api/curate/scenes/{scene_id}/nodes/{node_id}": {
            "patch": op(
                "Move, rotate, scale, reparent, re-asset or retitle a node",
                draft,
                tags=["nodes"],
                params=[SCENE_ID, NODE_ID, IF_MATCH],
                roles=curator,
                request=body(node_fields),
            ),  # fmt: skip
            "delete": op(
                "Remove a node and everything under it", draft, tags=["nodes"], params=[SCENE_ID, NODE_ID, IF_MATCH], roles=curator
            ),
        },
        "/api/curate/scenes/{scene_id}/texts": {
            "put": op(
                "Set (or with null remove) one text in one language",
                draft,
                tags=["nodes"],
                params=[SCENE_ID, IF_MATCH],
                roles=curator,
                request=body(
                    obj(
                        {"path": STRING, "language": STRING, "text": NULLABLE_STRING, "machine_translated": BOOLEAN, "message": STRING},
                        ("path", "language", "text"),
                        extra=False,
                    )
                ),
            ),  # fmt: skip
        },
        "/api/curate/scenes/{scene_id}/translations": {
            "post": op(
                "Machine-translate every text the draft (or the part under scope) lacks in a language: one new revision, "
                "each drafted text pending review (docs/assistance.md); 409 without a translation backend, 502 if it fails",
                ok(
                    obj(
                        {
                            "scene": ref("SceneRecord"),
                            "revision": INTEGER,
                            "document": ref("SceneDocument"),
                            "translation": obj(
                                {
                                    "language": STRING,
                                    "source": STRING,
                                    "drafted": {"type": "array", "items": ANY_OBJECT},
                                    "skipped": {"type": "array", "items": ANY_OBJECT},
                                },
                                ("language", "source", "drafted", "skipped"),
                            ),
                        },
                        ("scene", "revision", "document", "translation"),
                    ),
                    headers=ETAG_HEADER,
                ),
                tags=["nodes"],
                params=[SCENE_ID, IF_MATCH],
                roles=curator,
                request=body(obj({"language": STRING, "source": STRING, "scope": STRING, "message": STRING}, ("language",), extra=False)),
            ),  # fmt: skip
        },
        "/api/curate/scenes/{scene_id}/publish": {
            "post": op(
                "Publish the draft head (or an earlier revision): visitors get it at once",
                draft,
                tags=["revisions"],
                params=[SCENE_ID, IF_MATCH],
                roles=curator,
                request=body(obj({"revision": INTEGER}, extra=False), False),
            ),  # fmt: skip
        },
        "/api/curate/scenes/{scene_id}/revisions": {
            "get": op("Revision history, newest first", ok(ref("RevisionList")), tags=["revisions"], params=[SCENE_ID], roles=curator)
        },
        "/api/curate/scenes/{scene_id}/revisions/{number}": {
            "get": op(
                "One revision",
                ok(ref("Revision")),
                tags=["revisions"],
                roles=curator,
                params=[SCENE_ID, path_param("number", "Revision number", {"type": "integer", "minimum": 1}, 1)],
            ),  # fmt: skip
        },
        "/api/curate/scenes/{scene_id}/diff": {
            "get": op(
                "What changed between two revisions",
                ok(ref("Diff")),
                tags=["revisions"],
                roles=curator,
                params=[
                    SCENE_ID,
                    *({"name": n, "in": "query", "required": True, "schema": {"type": "integer", "minimum": 1}} for n in ("from", "to")),
                ],
            ),  # fmt: skip
        },
        "/api/curate/scenes/{scene_id}/rollback": {
            "post": op(
                "A new draft revision with an earlier revision's content (and publish it)",
                draft,
                tags=["revisions"],
                params=[SCENE_ID, IF_MATCH],
                roles=curator,
                request=body(obj({"revision": INTEGER, "publish": BOOLEAN}, ("revision",), extra=False)),
            ),  # fmt: skip
        },
        "/api/curate/assets": {
            "get": op(
                "The asset library and the recipes",
                ok(obj({"assets": {"type": "array"}, "recipes": {"type": "array"}})),
                tags=["assets"],
                roles=curator,
            ),  # fmt: skip
            "post": op(
                "Upload a GLB, or a zip with a .gltf and its files: checked, labelled, stored",
                asset_work(ok(ref("AssetCreated"), "201", "Stored")),
                tags=["assets"],
                roles=curator,
                params=[
                    {"name": "id", "in": "query", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"}},
                    {"name": "source_type", "in": "query", "required": False, "schema": {"enum": list(SOURCE_TYPES)}},
                    {"name": "title", "in": "query", "required": False, "schema": STRING},
                ],
                request={"required": True, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            ),
        },
        "/api/curate/assets/{asset_id}": {
            "get": op(
                "One asset with its levels' URLs (processed first if it is new): what the studio loads to size and place it",
                asset_work(
                    ok(
                        obj(
                            {"id": STRING, "sha256": STRING, "levels": {"type": "array"}, "provenance": ANY_OBJECT, "status": STRING},
                            ("id", "levels"),
                        )
                    )
                ),
                tags=["assets"],
                roles=curator,
                params=[path_param("asset_id", "Asset id", example="plinth")],
            ),  # fmt: skip
        },
        "/api/curate/assets/generate": {
            "post": op(
                "Generate an asset from a recipe or the text-to-3D service: it waits for review",
                asset_work(ok(ref("AssetCreated"), "201", "Stored")),
                tags=["assets"],
                roles=curator,
                request=body(
                    obj(
                        {
                            "recipe": obj({"name": STRING, "params": ANY_OBJECT, "seed": INTEGER}),
                            "prompt": STRING,
                            "seed": INTEGER,
                            "params": ANY_OBJECT,
                            "id": STRING,
                        },
                        extra=False,
                    )
                ),
            ),  # fmt: skip
        },
        "/api/curate/recipes/{name}/preview": {
            "post": op(
                "A recipe's GLB for a preview, not stored",
                asset_work({**glb, **ok(None)}),
                tags=["assets"],
                roles=curator,
                params=[path_param("name", "Recipe name", example="pagoda")],
                request=body(obj({"params": ANY_OBJECT, "seed": INTEGER}, extra=False), False),
            ),  # fmt: skip
        },
        "/api/curate/reviews": {
            "get": op(
                "The review queue and every decision",
                ok(obj({"reviews": {"type": "array", "items": ref("Review")}})),
                tags=["reviews"],
                roles=curator,
                params=[{"name": "status", "in": "query", "required": False, "schema": {"enum": ["pending", "approved", "rejected"]}}],
            ),  # fmt: skip
        },
        "/api/curate/reviews/{review_id}": {
            "post": op(
                "Approve or reject, with a note",
                ok(ref("Review")),
                tags=["reviews"],
                roles=curator,
                params=[path_param("review_id", "Review id", {"type": "integer"}, 1)],
                request=body(obj({"decision": {"enum": ["approve", "reject"]}, "note": STRING}, ("decision",), extra=False)),
            ),  # fmt: skip
        },
        "/api/admin/rooms": {
            "get": op(
                "Open rooms and who is in them", ok(obj({"rooms": {"type": "array", "items": ref("Room")}})), tags=["rooms"], roles=curator
            )
        },  # fmt: skip
        **{
            f"/api/admin/rooms/{{room_id}}/{action}": {
                "post": op(
                    summary,
                    ok(ANY_OBJECT),
                    tags=["rooms"],
                    roles=curator,
                    params=[ROOM_ID],
                    request=body(obj(fields, required, extra=False)),
                )
            }
            for action, summary, fields, required in (
                (
                    "mute",
                    "Mute or unmute a visitor's chat, voice or both, in every room of the scene, for some minutes",
                    {"visitor": INTEGER, "muted": BOOLEAN, "only": {"enum": ["chat", "voice"]}, "minutes": NUMBER},
                    ("visitor",),
                ),
                (
                    "kick",
                    "Remove a visitor; they cannot rejoin any room of the scene for some minutes",
                    {"visitor": INTEGER, "minutes": NUMBER},
                    ("visitor",),
                ),
                ("lock", "Lock (or unlock) a room: no one new joins it", {"locked": BOOLEAN}, ()),
                ("close", "Close a room, telling its visitors why", {"message": STRING}, ("message",)),
            )
        },
        "/api/admin/reports": {
            "get": op("Chat lines visitors reported, newest first", ok(obj({"reports": {"type": "array"}})), tags=["rooms"], roles=curator)
        },  # fmt: skip
        "/api/chat/languages": {
            "get": op(
                "The translation backend and the languages it has",
                ok(obj({"backend": STRING, "languages": {"type": "array"}})),
                tags=["public"],
            )  # fmt: skip
        },
        "/api/chat/phrases": {"get": op("Quick-chat phrases per language", ok(obj({"phrases": ANY_OBJECT})), tags=["public"])},
        "/api/admin/users": {
            "get": op("Users", ok(obj({"users": {"type": "array", "items": ref("User")}})), tags=["users"], roles=admin),
            "post": op(
                "Add a user; the token is shown once",
                ok(ref("NewUser"), "201", "Created"),
                tags=["users"],
                roles=admin,
                request=body(
                    obj({"name": STRING, "role": {"enum": ["visitor", "guide", "curator", "admin"]}}, ("name", "role"), extra=False)
                ),
            ),  # fmt: skip
        },
        "/api/admin/users/{user_id}": {
            "delete": op(
                "Remove a user: their token stops working, their sessions end and their connections close",
                {"204": {"description": "Removed"}, **ok(None)},
                tags=["users"],
                params=[USER_ID],
                roles=admin,
            ),
        },
        "/api/admin/users/{user_id}/revoke": {
            "post": op(
                "Revoke a user's token and end their sessions and connections; with new_token, a new token is shown once",
                ok(obj({"user": ref("User"), "revoked": BOOLEAN, "token": STRING})),
                tags=["users"],
                params=[USER_ID],
                roles=admin,
                request=body(obj({"new_token": BOOLEAN}, extra=False), required=False),
            ),
        },
    }


@cache
def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Third Space",
            "version": __version__,
            "description": "Scenes, assets and curation. Write requests carry `Authorization: Bearer TOKEN`, or the session "
            "cookie from POST /api/session plus its `X-CSRF-Token` header. Drafts change only with `If-Match`.",
        },
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "thirdspace_session"},
            },
        },
    }
