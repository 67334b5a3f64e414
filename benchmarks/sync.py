"""Sync's figures for dxfield's performance suite (`benchmarks/run.py --only sync`).

A sender store of N synthetic activities, written by the store's bulk path (which signs each
revision with the sender's key), and a receiver that trusts it (cards exchanged both ways). The
bundle is what a user makes and takes: `dxfield export` and `dxfield import`, the CLI as a
process (`sys.executable -m dxfield`), from and to a real file. Each figure's baseline is
measured in the same run, on the same rows, in this process, timed from its first read or
connection to its last write (the CLI's own start-up counts against dxfield):

- sync_import: `dxfield --data-dir RECEIVER import BUNDLE` into an empty store (reference data
  only) vs the SUM of two baselines: plain `sqlite3` executemany of the same rows it writes
  (the revisions with their signatures, the activity rows, the search rows, prepared
  beforehand) into the same schema, one transaction, the same pragmas, then the full-text index
  of those search rows by the store's one statement (the section checks that both wrote as
  many rows in each table, the index's included); and PyNaCl
  (`VerifyKey.verify`) verifying the same number of signatures, over the same messages, alone.
  Target <= 1.3.
- sync_reimport: the same command on the same bundle again (it must change nothing: no new or
  updated record, the same dump) vs the same sum. Target <= 1.
- sync_export: `dxfield --data-dir SENDER export --full` vs reading the same revision rows
  (those the bundle carries) with `sqlite3` and writing each with a plain `json.dumps` to a
  JSON Lines file; medians of three interleaved runs. Target <= 2.
- sync_size: the bundle's bytes vs that JSON Lines file's. Target <= 0.5.

Attachments (issue 19), `measure_blob_sync`: a sender with PHOTOS photos of PHOTO_BYTES each
(random bytes: as incompressible as JPEG; the records and the blob files are made directly, no
re-encoding) on one activity, and an empty receiver:

- sync_blobs_export: `dxfield export --full` as a process vs a small Python script, as a process
  too, that copies the same files into one file while encrypting them with the same stream
  construction as the bundle (libsodium's secretstream XChaCha20-Poly1305 through PyNaCl, in
  pieces of the bundle's chunk size, each with its 4-byte length), and fsyncs it as the export
  does. Medians of interleaved runs. Target <= 1.5.
- sync_blobs_import: `dxfield import` of that bundle into the empty receiver vs the same script
  the other way: the encrypted file decrypted back into one file per photo, each fsynced (as the
  import's staging does). Target <= 1.5.
- sync_blobs_export_rss, sync_blobs_import_rss: each command's peak resident memory (its own,
  through `os.wait4` in a small launcher) vs a fixed 200 MB. Target <= 1.

The figures are wall times. Each time figure's note also gives both sides' CPU seconds (this
process's and those of the processes it waited for): on a shared machine the wall times follow
the load of the moment, the CPU times much less.

    uv run python benchmarks/sync.py N     # this section alone, its figures as JSON
"""

from __future__ import annotations

import base64
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.signing import VerifyKey

from dxfield.store import maintenance, revisions
from dxfield.store.authorship import SIGNATURE_PREFIX
from dxfield.store.engine import Store
from dxfield.store.merge import check_signed_revision
from dxfield.store.search_index import body_for
from dxfield.sync import container
from dxfield.sync.keys import card_text, device_keys, own_card, parse_card, trust_card
from run import Figure, bulk_load, figure, raw_load, synthetic_activities

EXPORT_RUNS = 3


@dataclass(frozen=True)
class Timed:
    """A job's wall time, and its CPU time: this process's and that of the processes it ran
    and waited for (the machine is shared: the CPU time says how much of the wall time was
    the job's own work)."""

    wall: float
    cpu: float
    result: Any = None


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _timed(action: Any) -> Timed:
    cpu, began = _cpu(), time.perf_counter()
    result = action()
    return Timed(time.perf_counter() - began, _cpu() - cpu, result)


def _cpu_note(ours: float, theirs: float) -> str:
    return (
        f"CPU {ours:.3f}s vs {theirs:.3f}s, ratio {ours / theirs if theirs else float('inf'):.3f}"
    )


def _introduce(a: Store, b: Store) -> None:
    trust_card(a, parse_card(card_text(own_card(b))))
    trust_card(b, parse_card(card_text(own_card(a))))


def _cli_env(workdir: Path) -> dict[str, str]:
    """The environment the CLI runs in: English, its own config folder, nothing of dxfield's
    from outside (no data folder, no hub), bytecode cached as on a person's machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DXFIELD_")}
    # A person's dxfield starts from cached bytecode after its first run; a machine that sets
    # PYTHONDONTWRITEBYTECODE (CI images do) would have every run compile ~300 modules again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(DXFIELD_LANG="en", DXFIELD_CONFIG_DIR=str(workdir / "sync-config"))
    return env


def _cli(env: dict[str, str], data_dir: Path, *args: str) -> Any:
    """`dxfield --data-dir DATA_DIR ARGS... --json` as a process; its JSON answer."""
    result = subprocess.run(
        [sys.executable, "-m", "dxfield", "--data-dir", str(data_dir), *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dxfield {' '.join(args)} failed:\n{result.stderr}{result.stdout}")
    return json.loads(result.stdout)


def _plain_export(path: Path, device_id: str, out: Path) -> None:
    """The export baseline: the rows of the revisions the bundle carries (the sender's, all
    signed), read with sqlite3, one json.dumps each, to a file."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    with out.open("w", encoding="utf-8") as handle:
        for row in conn.execute("SELECT * FROM revision WHERE device_id = ?", (device_id,)):
            handle.write(json.dumps(dict(row), ensure_ascii=False) + "\n")
    conn.close()


def _bundle_rows(
    receiver: Store, sender: Store, bundle: Path
) -> list[tuple[dict[str, Any], bytes]]:
    """The revisions of `bundle` as the import inserts them, each with its digest (what its
    signature signs), read and checked here once, outside any timing."""
    key = VerifyKey(base64.b64decode(own_card(sender).signing_key))
    out: list[tuple[dict[str, Any], bytes]] = []
    members = container.read_container(
        bundle,
        lambda sender_id, _chain: key if sender_id == sender.device.id else None,
        receiver.device.id,
        device_keys(receiver).encryption,
    )
    for member in members:
        if isinstance(member, container.Revisions):
            out.extend(check_signed_revision(line) for line in member.lines)
    return out


def _raw_rows(checked: list[dict[str, Any]]) -> dict[str, tuple[str, list[tuple[Any, ...]]]]:
    """The rows an import writes, as plain INSERT statements (the import baseline's first half)."""
    table = revisions.table_for("activity")
    revision_rows, activity_rows, search_rows = [], [], []
    columns = [c.name for c in table.columns]
    for r in checked:
        revision_rows.append(
            (
                r["rev_id"], r["entity"], r["entity_id"], r["generation"],
                json.dumps(r["parents"]), r["hlc"], r["device_id"], int(r["deleted"]),
                r["data"], 1, 0, r["signature"], r["attestation"],
            )
        )  # fmt: skip
        if r["entity"] != "activity":
            continue
        data = json.loads(r["data"])
        row = revisions.materialized_row(table, r, data)
        activity_rows.append(
            tuple(
                json.dumps(row[c], ensure_ascii=False)
                if isinstance(row.get(c), list | dict)
                else (row[c].isoformat() if hasattr(row.get(c), "isoformat") else row.get(c))
                for c in columns
            )
        )
        search_rows.append(("activity", r["entity_id"], body_for("activity", data)))
    marks = ",".join("?" * len(columns))
    return {
        "revision": (
            "INSERT INTO revision (rev_id, entity, entity_id, generation, parents, hlc, "
            "device_id, deleted, data, leaf, clock_skew, signature, attestation) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            revision_rows,
        ),
        "activity": (
            f"INSERT INTO activity ({', '.join(columns)}) VALUES ({marks})",
            activity_rows,
        ),
        "search_text": (
            "INSERT INTO search_text (entity, entity_id, body) VALUES (?,?,?)",
            search_rows,
        ),
    }


# search_fts_docsize: a row per document the full-text index holds (search_fts itself, an
# external-content table, would count search_text's rows).
_COUNTED = ("revision", "activity", "search_text", "search_fts_docsize")


def _same_rows(receiver_dir: Path, baseline_path: Path) -> None:
    """The baseline wrote what the import wrote: as many rows in each table, the full-text
    index included (a baseline that skips work the store must do is no baseline)."""
    with Store.open(receiver_dir) as receiver:
        path = receiver.path
    counts = []
    for database in (path, baseline_path):
        conn = sqlite3.connect(database)
        counts.append(
            {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _COUNTED}
        )
        conn.close()
    assert counts[0] == counts[1], f"the import wrote {counts[0]}, the baseline {counts[1]}"


def _verify_all(key: VerifyKey, signed: list[tuple[bytes, bytes]]) -> None:
    """The import baseline's second half: PyNaCl verifying each signature, nothing else."""
    for message, signature in signed:
        key.verify(message, signature)


def measure_sync(workdir: Path, records: int) -> list[Figure]:
    """The four sync figures over a bundle of `records` activities."""
    env = _cli_env(workdir)
    sender_dir, receiver_dir = workdir / "sync-sender", workdir / "sync-receiver"
    bundle, plain = workdir / "full.dxb", workdir / "plain.jsonl"
    with (
        Store.open(sender_dir, device_name="sender") as sender,
        Store.open(receiver_dir, device_name="receiver") as receiver,
        Store.open(workdir / "sync-baseline", device_name="baseline") as baseline_store,
    ):
        _introduce(sender, receiver)
        bulk_load(sender, synthetic_activities(records))
        sender_id, sender_path, baseline_path = sender.device.id, sender.path, baseline_store.path

    # sync_export / sync_size: `dxfield export` as a process vs a plain JSON Lines dump.
    # Exports are quick and noisy: medians of interleaved runs.
    export = ("export", "--to", str(bundle), "--recipient", "receiver", "--full")
    ours: list[Timed] = []
    theirs: list[Timed] = []
    for _ in range(EXPORT_RUNS):
        ours.append(_timed(lambda: _cli(env, sender_dir, *export)))
        written = ours[-1].result
        assert (written["revisions"], written["unsent"]) == (records, 0), written
        theirs.append(_timed(lambda: _plain_export(sender_path, sender_id, plain)))
    export_time = statistics.median(t.wall for t in ours)
    plain_time = statistics.median(t.wall for t in theirs)
    export_note = _cpu_note(
        statistics.median(t.cpu for t in ours), statistics.median(t.cpu for t in theirs)
    )

    # The import's baselines, on the rows the bundle brings (read and checked once, untimed).
    with (
        Store.open(sender_dir) as sender,
        Store.open(receiver_dir) as receiver,
    ):
        checked = _bundle_rows(receiver, sender, bundle)
        key = VerifyKey(base64.b64decode(own_card(sender).signing_key))
    assert len(checked) == records, len(checked)
    signed = [
        (SIGNATURE_PREFIX + found, base64.b64decode(row["signature"])) for row, found in checked
    ]
    rows = _raw_rows([row for row, _ in checked])
    del checked
    raw = _timed(lambda: raw_load(baseline_path, rows))
    rows.clear()
    verify = _timed(lambda: _verify_all(key, signed))
    signed.clear()
    baseline, baseline_cpu = raw.wall + verify.wall, raw.cpu + verify.cpu

    # sync_import / sync_reimport: `dxfield import` as a process, twice.
    first = _timed(lambda: _cli(env, receiver_dir, "import", str(bundle)))
    (taken,) = first.result
    assert taken["revisions"] == records and taken["new"] >= records, taken
    with Store.open(receiver_dir) as receiver:
        before = maintenance.dump(receiver)
    _same_rows(receiver_dir, baseline_path)
    again = _timed(lambda: _cli(env, receiver_dir, "import", str(bundle)))
    (retaken,) = again.result
    assert (retaken["new"], retaken["updated"]) == (0, 0), retaken
    with Store.open(receiver_dir) as receiver:
        assert maintenance.dump(receiver) == before, "the re-import changed the store"

    parts = f"executemany {raw.wall:.3f}s + PyNaCl verify {verify.wall:.3f}s"
    return [
        figure(
            "sync_import",
            first.wall,
            baseline,
            1.3,
            note=f"{parts}; {_cpu_note(first.cpu, baseline_cpu)}",
        ),
        figure(
            "sync_reimport",
            again.wall,
            baseline,
            1.0,
            note=f"{parts}; {_cpu_note(again.cpu, baseline_cpu)}",
        ),
        figure("sync_export", export_time, plain_time, 2.0, note=export_note),
        figure("sync_size", bundle.stat().st_size, plain.stat().st_size, 0.5, "B"),
    ]


PHOTOS = 200
PHOTO_BYTES = 3_000_000
BLOB_RUNS = 3
RSS_LIMIT_MB = 200.0

_MEASURED = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
open(sys.argv[1], "w").write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Runs a command and writes its peak memory (ru_maxrss, KiB) to a file: the command is forked
from this small launcher, not from the benchmark's process (Linux counts the parent's memory in a
forked child's peak)."""

_BASELINE = r"""
import base64, os, sys
from nacl import bindings
from nacl.public import PublicKey, SealedBox
SS = "crypto_secretstream_xchacha20poly1305_"
PIECE = 1 << 20
def push(out_path, key_b64, files):
    key = getattr(bindings, SS + "keygen")()
    state = getattr(bindings, SS + "state")()
    header = getattr(bindings, SS + "init_push")(state, key)
    sealed = SealedBox(PublicKey(base64.b64decode(key_b64))).encrypt(key)
    with open(out_path, "wb") as out:
        out.write(sealed + header)
        for n, name in enumerate(files):
            last = n == len(files) - 1
            with open(name, "rb") as source:
                piece = source.read(PIECE)
                while piece:
                    following = source.read(PIECE)
                    tag = getattr(bindings, SS + ("TAG_FINAL" if last and not following else "TAG_MESSAGE"))
                    sealed_piece = getattr(bindings, SS + "push")(state, piece, None, tag)
                    out.write(len(sealed_piece).to_bytes(4, "big") + sealed_piece)
                    piece = following
        out.flush()
        os.fsync(out.fileno())
def pull(in_path, private_b64, folder, sizes):
    from nacl.public import PrivateKey
    with open(in_path, "rb") as source:
        sealed = source.read(32 + 48 + 24)
        key = SealedBox(PrivateKey(base64.b64decode(private_b64))).decrypt(sealed[:80])
        state = getattr(bindings, SS + "state")()
        getattr(bindings, SS + "init_pull")(state, sealed[80:], key)
        for n, size in enumerate(sizes):
            with open(os.path.join(folder, str(n)), "wb") as out:
                left = size
                while left:
                    length = int.from_bytes(source.read(4), "big")
                    plain, _ = getattr(bindings, SS + "pull")(state, source.read(length), None)
                    out.write(plain)
                    left -= len(plain)
                out.flush()
                os.fsync(out.fileno())
if sys.argv[1] == "push":
    push(sys.argv[2], sys.argv[3], sys.argv[4:])
else:
    pull(sys.argv[2], sys.argv[3], sys.argv[4], [int(s) for s in sys.argv[5:]])
"""
"""The attachments' baselines: copy + encrypt (push) and decrypt + copy (pull) with secretstream,
one piece of the bundle's chunk size at a time."""


@dataclass(frozen=True)
class Ran:
    """One measured process: its wall time, its peak resident memory (MB) and its CPU time."""

    wall: float
    peak_mb: float
    out: str
    cpu: float = 0.0


def _measured(argv: list[str], env: dict[str, str], workdir: Path) -> Ran:
    peak = workdir / "peak.txt"
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(peak), *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - began
    if result.returncode != 0:
        raise RuntimeError(f"{argv[:6]} failed:\n{result.stderr}{result.stdout}")
    maxrss, cpu = peak.read_text().split()
    return Ran(wall, int(maxrss) / 1024, result.stdout, float(cpu))


def _photos(store: Store, count: int, size: int) -> list[Path]:
    """`count` attachments of `size` random bytes on one new activity: the blob files written
    directly under their hashes, the records in one unit. Their files, in the order attached."""
    import hashlib

    from dxfield.store import blobs, records
    from dxfield.store.activities import ActivityInput, add_activity

    owner = add_activity(
        store,
        ActivityInput(
            title="ワークショップ", kind="workshop", date="2024-07-17", municipality="豊岡市"
        ),
    ).id
    paths = []
    with store.unit() as unit:
        for n in range(count):
            content = os.urandom(size)
            sha256 = hashlib.sha256(content).hexdigest()
            path = blobs.blob_path(store.data_dir, sha256)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            paths.append(path)
            records.ATTACHMENTS.create(
                unit,
                {
                    "owner_type": "activity",
                    "owner_id": owner,
                    "file_name": f"IMG_{n:04d}.jpg",
                    "media_type": "image/jpeg",
                    "size": size,
                    "sha256": sha256,
                    "caption": f"写真 {n}",
                },
            )
    return paths


def measure_blob_sync(
    workdir: Path, photos: int = PHOTOS, size: int = PHOTO_BYTES, runs: int = BLOB_RUNS
) -> list[Figure]:
    """The attachments' figures (see the module's text): `photos` photos of `size` bytes."""
    import shutil

    from dxfield.sync.keys import device_keys

    env = _cli_env(workdir)
    root = workdir / "blob-sync"
    root.mkdir()
    sender_dir, receiver_dir = root / "sender", root / "receiver"
    with (
        Store.open(sender_dir, device_name="sender") as sender,
        Store.open(receiver_dir, device_name="receiver") as receiver,
    ):
        _introduce(sender, receiver)
        files = _photos(sender, photos, size)
        public = own_card(receiver).encryption_key
        private = base64.b64encode(bytes(device_keys(receiver).encryption)).decode()
    fresh = root / "receiver-empty"
    shutil.copytree(receiver_dir, fresh)
    bundle, plain = root / "photos.dxb", root / "photos.enc"
    python = sys.executable
    export = [
        "-m",
        "dxfield",
        "--data-dir",
        str(sender_dir),
        "export",
        "--to",
        str(bundle),
        "--recipient",
        "receiver",
        "--full",
        "--json",
    ]
    push = ["-c", _BASELINE, "push", str(plain), public, *map(str, files)]

    exports: list[Ran] = []
    pushes: list[Ran] = []
    for _ in range(runs):
        bundle.unlink(missing_ok=True)
        exports.append(_measured([python, *export], env, root))
        written = json.loads(exports[-1].out)
        assert (written["blobs"], written["missing_blobs"]) == (photos, 0), written
        pushes.append(_measured([python, *push], env, root))

    imports: list[Ran] = []
    pulls: list[Ran] = []
    sizes = [str(p.stat().st_size) for p in files]
    for _ in range(runs):
        shutil.rmtree(receiver_dir)
        shutil.copytree(fresh, receiver_dir)
        imports.append(
            _measured(
                [
                    python,
                    "-m",
                    "dxfield",
                    "--data-dir",
                    str(receiver_dir),
                    "import",
                    str(bundle),
                    "--json",
                ],
                env,
                root,
            )
        )
        (taken,) = json.loads(imports[-1].out)
        assert taken["blobs"] == photos, taken
        out = root / "pulled"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        pulls.append(
            _measured(
                [python, "-c", _BASELINE, "pull", str(plain), private, str(out), *sizes], env, root
            )
        )
    shutil.rmtree(root, ignore_errors=True)

    def median(ran: list[Ran]) -> float:
        return statistics.median(r.wall for r in ran)

    total = photos * size / 1e6
    note = f"{photos} photos, {total:.0f} MB; medians of {runs} interleaved runs"

    def cpu(ours: list[Ran], theirs: list[Ran]) -> str:
        return _cpu_note(
            statistics.median(r.cpu for r in ours), statistics.median(r.cpu for r in theirs)
        )

    return [
        figure(
            "sync_blobs_export",
            median(exports),
            median(pushes),
            1.5,
            note=f"copy + secretstream push + fsync, as a process; {note}; {cpu(exports, pushes)}",
        ),
        figure(
            "sync_blobs_import",
            median(imports),
            median(pulls),
            1.5,
            note=f"secretstream pull + copy + fsync each, as a process; {note}; {cpu(imports, pulls)}",
        ),
        figure("sync_blobs_export_rss", max(r.peak_mb for r in exports), RSS_LIMIT_MB, 1.0, "MB"),
        figure("sync_blobs_import_rss", max(r.peak_mb for r in imports), RSS_LIMIT_MB, 1.0, "MB"),
    ]


def main() -> None:  # pragma: no cover - a convenience: `python benchmarks/sync.py N`
    """Run the section alone and print its figures as JSON."""
    import tempfile
    from dataclasses import asdict

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory(prefix="dxfield-bench-sync-") as tmp:
        if sys.argv[2:3] == ["blobs"]:  # `python benchmarks/sync.py PHOTOS blobs`
            found = measure_blob_sync(Path(tmp), count)
        else:
            found = measure_sync(Path(tmp), count)
        print(json.dumps([asdict(f) for f in found], indent=2))


if __name__ == "__main__":
    main()
