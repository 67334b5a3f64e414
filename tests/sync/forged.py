"""Bundles an enrolled device could send with its own, real key: well signed, well encrypted,
each revision's id the true hash of its content and signed by its author (the sender) with its
real key, and one thing in them hostile.

Every entry of FORGED is (name, the bundle, the words its one-line refusal must hold). The
sender's store holds the reference data and one activity (tests/sync/test_bundle.py's `pair`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from dxfield.store.engine import Store
from tests.sync.corpus import (
    Pair,
    bundle,
    held_revisions,
    rehash,
    resealed,
    sender_revisions,
    signed,
)

__all__ = ["FORGED", "forged", "last_activity", "lines_with", "organization_under", "rehash"]

A_UUID = "0190c9a1-0000-7000-8000-00000000beef"


def last_activity(pair: Pair) -> dict[str, Any]:
    """The sender's activity revision, as its bundle carries it (with its signature)."""
    return next(r for r in reversed(sender_revisions(pair)) if r["entity"] == "activity")


def lines_with(pair: Pair, *extra: dict[str, Any], replace: bool = True) -> list[dict[str, Any]]:
    """The bundle's revisions: the sender's, its activity replaced by (or joined with)
    `extra`."""
    revisions = sender_revisions(pair)
    if replace:
        activity = last_activity(pair)
        revisions = [r for r in revisions if r["rev_id"] != activity["rev_id"]]
    revisions += list(extra)
    return revisions


def forged(pair: Pair, *, top: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
           drop: tuple[str, ...] = (), rehashed: bool = True) -> bytes:  # fmt: skip
    """A bundle of the sender's revisions with its activity changed (`top`: the revision's own
    fields; `data`: its record; `drop`: record fields taken out), signed again by the sender
    with its real key, its id made to match (`rehashed`) or left as it was."""
    revision = last_activity(pair)
    content = {k: v for k, v in {**revision["data"], **(data or {})}.items() if k not in drop}
    changed = {**revision, "data": content, **(top or {})}
    made = resealed(changed, pair.sender) if rehashed else signed(changed, pair.sender)
    return bundle(pair, lines_with(pair, made))


def organization_under(activity: dict[str, Any], name: str, by: Store) -> dict[str, Any]:
    """An organization revision under the activity's id (two kinds of record under one id),
    by the activity's author `by`, signed with its real key."""
    return resealed(
        {
            **activity,
            "entity": "organization",
            "data": {
                "kind": "community",
                "name": name,
                "kana": None,
                "code": None,
                "parent_id": None,
                "created_at": activity["data"]["created_at"],
            },
        },
        by,
    )


def _organization_with_the_activitys_id(pair: Pair) -> bytes:
    activity = last_activity(pair)
    return bundle(
        pair,
        lines_with(pair, activity, organization_under(activity, "なりすまし自治会", pair.sender)),
    )


def _a_child_of_another_record(pair: Pair) -> bytes:
    """A second version of the activity whose parent is a version of some organization."""
    organization = next(r for r in held_revisions(pair.sender) if r["entity"] == "organization")
    activity = last_activity(pair)
    child = resealed(
        {**activity, "generation": 2, "parents": [organization["rev_id"]]}, pair.sender
    )
    return bundle(pair, lines_with(pair, activity, child))


def _deep(pair: Pair) -> bytes:
    return bundle(pair, ["[" * 5000 + "]" * 5000])


def _proof(pair: Pair, **proofs: Any) -> bytes:
    """The sender's activity with `proofs` (signature, attestation) in place of its own."""
    revision = {k: v for k, v in last_activity(pair).items() if k != "signature"}
    return bundle(pair, lines_with(pair, {**revision, **proofs}))


def _both_proofs(pair: Pair) -> bytes:
    """Its author's signature and an attestation besides (by the same key): one proof only."""
    revision = last_activity(pair)
    attestation = signed(revision, pair.receiver)["signature"]
    return bundle(pair, lines_with(pair, {**revision, "attestation": attestation}))


SHORT = base64.b64encode(bytes(32)).decode()


def template(pair: Pair, *, entity_id: str | None = None, **data: Any) -> dict[str, Any]:
    """A note template revision by the sender, signed with its real key: the meeting's unless
    `data` says otherwise, under its kind's id unless `entity_id` is given."""
    from dxfield.store.ids import note_template_id

    activity = last_activity(pair)
    content = {"kind": "meeting", "text": "## 日時\n\n", **data}
    return resealed(
        {
            **activity,
            "entity": "note_template",
            "entity_id": entity_id or note_template_id(str(content["kind"])),
            "data": {**content, "created_at": activity["data"]["created_at"]},
        },
        pair.sender,
    )


def _template_id(kind: str) -> str:
    from dxfield.store.ids import note_template_id

    return note_template_id(kind)


def _template_without_kind(pair: Pair) -> bytes:
    made = template(pair)
    data = {k: v for k, v in made["data"].items() if k != "kind"}
    return bundle(
        pair, lines_with(pair, last_activity(pair), resealed({**made, "data": data}, pair.sender))
    )


def _with_template(pair: Pair, **changes: Any) -> bytes:
    """The sender's revisions and one hostile note template besides (the rest is sound)."""
    return bundle(pair, lines_with(pair, last_activity(pair), template(pair, **changes)))


def purge(
    pair: Pair, *, entity_id: str | None = None, top: dict[str, Any] | None = None, **data: Any
) -> dict[str, Any]:
    """A purge revision by the sender (a laptop, never the hub), signed with its real key: of the
    attachment A_UUID unless `data` says otherwise, under its attachment's id unless `entity_id`
    is given; `top`: the revision's own fields."""
    from dxfield.store.ids import purge_id

    activity = last_activity(pair)
    content = {"attachment_id": A_UUID, "sha256": "ab" * 32, "reason": "依頼", **data}
    return resealed(
        {
            **activity,
            "entity": "purge",
            "entity_id": entity_id or purge_id(str(content["attachment_id"])),
            "data": {**content, "created_at": activity["data"]["created_at"]},
            **(top or {}),
        },
        pair.sender,
    )


def _with_purge(pair: Pair, **changes: Any) -> bytes:
    """The sender's revisions and one purge besides (the rest is sound)."""
    return bundle(pair, lines_with(pair, last_activity(pair), purge(pair, **changes)))


def _with_attachment(pair: Pair, **data: Any) -> bytes:
    """The sender's revisions and one attachment of its activity besides, well signed, its
    content as `data` says (a PDF's by default): what a hostile laptop sends to have a file
    opened on another's computer under a name it chose."""
    activity = last_activity(pair)
    content = {
        "owner_type": "activity",
        "owner_id": activity["entity_id"],
        "file_name": "議事録.pdf",
        "media_type": "application/pdf",
        "size": 10,
        "sha256": "ab" * 32,
        "caption": "",
        "taken_at": None,
        **data,
    }
    attachment = resealed(
        {
            **activity,
            "entity": "attachment",
            "entity_id": A_UUID,
            "data": {**content, "created_at": activity["data"]["created_at"]},
        },
        pair.sender,
    )
    return bundle(pair, lines_with(pair, activity, attachment))


def _attachment_named(name: str, media_type: str) -> Callable[[Pair], bytes]:
    return lambda pair: _with_attachment(pair, file_name=name, media_type=media_type)


STAMPS = [
    " 9999999999999-000000",
    "9999999999999-000000 ",
    "zzz",
    "",
    "１７３２５８０８００００００-000000",
    "+173258080000-000000",
    "99999999999999-000000",
    "1732580800000-0000000",
    "1732580800000_000000",
    "1732580800000-00000a",
    1732580800000,
    None,
    ["1732580800000-000000"],
]

FORGED: list[tuple[str, Callable[[Pair], bytes], str]] = [
    ("kind-collision", _organization_with_the_activitys_id, "belongs to a"),
    *[
        (f"stamp-{n}", lambda p, s=stamp: forged(p, top={"hlc": s}), "not a clock stamp")
        for n, stamp in enumerate(STAMPS)
    ],
    ("created-at-words", lambda p: forged(p, data={"created_at": "yesterday"}), "with a zone"),
    (
        "created-at-without-zone",
        lambda p: forged(p, data={"created_at": "2024-07-17T09:00:00"}),
        "with a zone",
    ),
    ("created-at-number", lambda p: forged(p, data={"created_at": 1732580800}), "with a zone"),
    ("created-at-missing", lambda p: forged(p, drop=("created_at",)), "with a zone"),
    (
        "missing-parent",
        lambda p: forged(p, top={"generation": 2, "parents": ["1-" + "a" * 32]}),
        "neither in this store nor in the bundle",
    ),
    ("parent-of-another-record", _a_child_of_another_record, "a version of another record"),
    ("generation-without-parents", lambda p: forged(p, top={"generation": 5}), "does not follow"),
    ("generation-as-text", lambda p: forged(p, top={"generation": "1"}), "not a generation"),
    ("generation-as-bool", lambda p: forged(p, top={"generation": True}), "not a generation"),
    ("deleted-as-text", lambda p: forged(p, top={"deleted": "no"}), "not true or false"),
    ("deep-nesting", _deep, "nested too deeply"),
    ("huge-title", lambda p: forged(p, data={"title": "題" * 5000}), "too long"),
    ("huge-notes", lambda p: forged(p, data={"notes": "x" * 300_000}), "too long"),
    ("many-tags", lambda p: forged(p, data={"tags": [f"t{n}" for n in range(500)]}), "too long"),
    (
        "unknown-municipality",
        lambda p: forged(p, data={"municipality_id": A_UUID}),
        "neither in this store nor in the bundle",
    ),
    (
        "municipality-of-another-kind",
        lambda p: forged(p, data={"municipality_id": last_activity(p)["entity_id"]}),
        "neither in this store nor in the bundle",
    ),
    ("id-a-path", lambda p: forged(p, top={"entity_id": "../../etc/passwd"}), "is not an id"),
    (
        "id-with-escapes",
        lambda p: forged(p, top={"entity_id": "\x1b]0;pwned\x07"}),
        "is not an id",
    ),
    ("device-not-an-id", lambda p: forged(p, top={"device_id": "hub"}), "is not an id"),
    ("extra-field", lambda p: forged(p, top={"payload": "x"}), "not those of a version: payload"),
    (
        "missing-field",
        lambda p: bundle(
            p, lines_with(p, {k: v for k, v in last_activity(p).items() if k != "deleted"})
        ),
        "not those of a version: deleted",
    ),
    ("no-proof", lambda p: _proof(p), "carries neither its author's signature nor the hub's"),
    ("both-proofs", _both_proofs, "nor the hub's attestation, or both"),
    ("proof-not-base64", lambda p: _proof(p, signature="x"), "is not a signature"),
    ("proof-too-short", lambda p: _proof(p, signature=SHORT), "is not a signature"),
    ("attestation-not-base64", lambda p: _proof(p, attestation="?" * 88), "is not a signature"),
    ("unknown-record-field", lambda p: forged(p, data={"payload": "x" * 100}), "does not have"),
    ("not-as-written", lambda p: forged(p, data={"date": "R6.7.17"}), "not in the form"),
    ("bidi-title", lambda p: forged(p, data={"title": "\u202e会議"}), "control character"),
    ("unknown-kind", lambda p: forged(p, top={"entity": "device"}), "unknown kind"),
    (
        "wrong-id-for-content",
        lambda p: forged(p, data={"title": "書き換え"}, rehashed=False),
        "does not match its version id",
    ),
    ("not-an-object", lambda p: bundle(p, [json.dumps([1, 2])]), "not an object"),
    # A note template's id is its kind's (uuid5): any other would make a second template of one
    # kind, or one that every other store refuses.
    (
        "template-id-not-its-kinds",
        lambda p: _with_template(p, entity_id=A_UUID),
        "cannot be the id of this note template",
    ),
    (
        "template-id-of-another-kind",
        lambda p: _with_template(p, entity_id=_template_id("hearing")),
        "cannot be the id of this note template",
    ),
    (
        "template-unknown-kind",
        lambda p: _with_template(p, kind="party"),
        "kind: is not one of the allowed values",
    ),
    ("template-kind-missing", _template_without_kind, "kind: is required"),
    ("template-huge-text", lambda p: _with_template(p, text="x" * 300_000), "too long"),
    ("template-escape", lambda p: _with_template(p, text="\x1b[2J## 日時"), "control character"),
    ("template-not-as-written", lambda p: _with_template(p, text="a\r\nb"), "not in the form"),
    ("template-extra-field", lambda p: _with_template(p, title="x"), "does not have"),
    # A purge erases an attachment everywhere: only the hub writes one, once, under the id its
    # attachment gives it; a laptop's, however well signed, refuses the bundle.
    ("purge-by-a-laptop", lambda p: _with_purge(p), "is not the hub"),
    (
        "purge-id-not-its-attachments",
        lambda p: _with_purge(p, entity_id=A_UUID),
        "cannot be the id of this purge",
    ),
    ("purge-deleted", lambda p: _with_purge(p, top={"deleted": True}), "a purge is final"),
    (
        "purge-with-a-parent",
        lambda p: _with_purge(p, top={"generation": 2, "parents": ["1-" + "a" * 32]}),
        "a purge is final",
    ),
    ("purge-not-a-hash", lambda p: _with_purge(p, sha256="x" * 64), "is not a SHA-256"),
    ("purge-no-reason", lambda p: _with_purge(p, reason=""), "must not be empty"),
    ("purge-not-an-id", lambda p: _with_purge(p, attachment_id="../x"), "is not an attachment"),
    # The app opens a copy of an attachment under its name (`o`): no program, device, stream or
    # name the app takes for an erased file, whatever type the record says.
    *[
        (f"attachment-named-{n}", _attachment_named(name, kind), message)
        for n, (name, kind, message) in enumerate(
            [
                ("議事録.pdf.exe", "application/pdf", "does not end as a file of its type"),
                ("run.bat", "text/plain", "does not end as a file of its type"),
                ("x.hta", "image/jpeg", "does not end as a file of its type"),
                ("CON", "text/plain", "not a name every computer opens safely"),
                ("nul.txt", "text/plain", "not a name every computer opens safely"),
                ("a.pdf:evil", "application/pdf", "not a name every computer opens safely"),
                ("a.exe.", "application/pdf", "not a name every computer opens safely"),
                ("purged", "image/jpeg", "not a name every computer opens safely"),
            ]
        )
    ],
]
