"""What the writer and the reader of bundle format 2 share: the format's constants and limits,
the error codes both raise, and the members (the layout is described in `dxfield.sync.container`).

`container_write` writes a bundle and `container_read` reads one; each knows the other's bytes
only through what is defined here.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

from nacl import bindings

from dxfield.i18n import N_, problems
from dxfield.sync.wire import MAGIC, BundleError

FORMAT_VERSION = 2
MAGIC_LINE = MAGIC + str(FORMAT_VERSION).encode() + b"\n"
COMPRESSION = "zlib"

CHUNK_BYTES = 1 << 20
"""The plain text a chunk holds (the last may hold less); a header may ask for less, never more."""
MAX_HEADER_BYTES = 4 << 20
_CHUNKS_AHEAD = 8
"""Chunks compressed ahead of the one being written (each at most CHUNK_BYTES)."""
MAX_CHUNKS = 50_000
"""About 49 GiB of plain text; the header's 50,000 hashes stay well under its 4 MiB."""
MAX_BLOB_BYTES = MAX_CHUNKS * CHUNK_BYTES
MAX_MEMBER_REVISIONS = 50_000
MAX_MEMBER_BYTES = 64 << 20
"""A revisions member holds at most this many revisions in at most this many bytes of JSON (the
reader holds one member at a time; dxfield writes pages of 10,000 or 32 MiB, whichever is
first)."""
MAX_MEMBER_ITEMS = 2_000_000
"""...and at most about this many JSON values (counted before parsing, by their commas and
brackets): a megabyte of `{},{},…` would otherwise parse into hundreds of megabytes of objects."""
MAX_ROSTER_ITEMS = 1_500_000
"""The roster's line likewise: a million kept ids and ten thousand devices' cards fit."""
MAX_ROSTER_BYTES = 48 << 20
"""The roster's line: a revoked device's cut lists up to a million revision ids."""
COMPRESSION_LEVEL = 1
SAMPLE_BYTES = 8 << 10
"""A chunk whose samples of this size do not shrink by a tenth is stored (zlib level 0): photos
and PDFs do not compress, and level 1 would spend 30 ms a MiB learning so."""

_SS = "crypto_secretstream_xchacha20poly1305_"
_ABYTES: int = getattr(bindings, _SS + "ABYTES")
_HEADER_BYTES: int = getattr(bindings, _SS + "HEADERBYTES")
_KEY_BYTES: int = getattr(bindings, _SS + "KEYBYTES")
_TAG_MESSAGE: int = getattr(bindings, _SS + "TAG_MESSAGE")
_TAG_FINAL: int = getattr(bindings, _SS + "TAG_FINAL")
_LENGTH_BYTES = 4
_SHA256 = re.compile(r"[0-9a-f]{64}")

MEMBER_KINDS = ("manifest", "roster", "revisions", "blob")

PROBLEMS = problems(
    {
        "bundle.header_too_large": N_("bundle refused: the header is longer than {limit} bytes"),
        "bundle.bad_header": N_("bundle refused: the header's {part} is not valid"),
        "bundle.chunks_missing": N_(
            "bundle refused: the file ends after chunk {count} of {total} (it was cut short)"
        ),
        "bundle.chunk_cut": N_("bundle refused: the file is cut short inside chunk {number}"),
        "bundle.trailing_data": N_(
            "bundle refused: there is more after the last chunk (appended or damaged file)"
        ),
        "bundle.chunk_too_large": N_(
            "bundle refused: chunk {number} is larger than the limit ({limit} bytes)"
        ),
        "bundle.chunk_tampered": N_(
            "bundle refused: chunk {number} does not match its hash (altered or damaged file)"
        ),
        "bundle.chunks_reordered": N_(
            "bundle refused: chunk {number} is out of place (the chunks were reordered)"
        ),
        "bundle.chunk_undecryptable": N_("bundle refused: chunk {number} cannot be decrypted"),
        "bundle.stream_end": N_(
            "bundle refused: the encrypted stream does not end at its last chunk"
        ),
        "bundle.chunk_inflates": N_(
            "bundle refused: chunk {number} inflates beyond the size limit ({limit} bytes)"
        ),
        "bundle.member_not_json": N_("bundle refused: member {number}: is not valid JSON"),
        "bundle.unknown_member": N_(
            "bundle refused: member {number} is of a kind this dxfield does not know ({kind}); "
            "update dxfield"
        ),
        "bundle.bad_member": N_("bundle refused: member {number}: its {part} is not valid"),
        "bundle.member_too_large": N_(
            "bundle refused: member {number} holds more than a member may"
        ),
        "bundle.member_cut": N_("bundle refused: the contents end inside member {number}"),
        "bundle.roster_not_json": N_("bundle refused: member {number}: the roster is not JSON"),
        "bundle.blob_mismatch": N_(
            "bundle refused: the attachment {sha256} does not match its hash"
        ),
        "bundle.blob_changed": N_(
            "cannot write the bundle: the attachment {sha256} is not what its size and hash "
            "say (is the attachment store damaged?); nothing was written"
        ),
        "bundle.too_many_chunks": N_(
            "cannot write the bundle: it would be larger than {limit} chunks; nothing was written"
        ),
        "bundle.cannot_write": N_("cannot write {path} ({reason}); nothing was written"),
    }
)


# -- members -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """What the bundle holds (counts, `created_at`, `full`): its fields are the member line's."""

    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Roster:
    """The hub's signed roster (design §2), one JSON document."""

    document: Mapping[str, Any]


@dataclass(frozen=True)
class Revisions:
    """Revisions, one JSON object each: given as objects or as their JSON text (one line, str or
    UTF-8 bytes, as `outgoing.signed_lines_since` gives them) to the writer; read back as
    objects."""

    lines: Sequence[Any]


@dataclass(frozen=True)
class Blob:
    """An attachment's bytes, named only by their SHA-256 (hex) and size: `pieces` gives them.

    Read from a bundle, `pieces` is a one-pass stream out of the file: read it (or leave it, the
    reader then skips what is left) before asking for the next member. Its last piece is given
    only once the whole blob matched its hash; a mismatch raises instead."""

    sha256: str
    size: int
    pieces: Iterable[bytes] = field(repr=False)

    def copy_to(self, sink: IO[bytes]) -> None:
        """Write the blob's bytes into `sink` (a file open for writing), piece by piece."""
        for piece in self.pieces:
            sink.write(piece)


Member = Manifest | Roster | Revisions | Blob


@contextlib.contextmanager
def worker(name: str) -> Iterator[ThreadPoolExecutor]:
    """One worker thread, for work done beside a generator's: joined when the block ends, but
    only let go, not joined, when it ends by an exception or the generator's closing. A
    generator dropped unfinished is closed by the garbage collector, at any point of any thread
    (even one that is starting, holding the locks a thread's ending takes): joining a thread
    there can wait forever. What the let-go thread still does (a hash, a read) is dropped."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _refuse(code: str, **values: Any) -> BundleError:
    return BundleError(code, **values)


def stored_chunk_limit(chunk_bytes: int) -> int:
    """The most a chunk of `chunk_bytes` plain bytes may take in the file: zlib's bound for
    incompressible input (`compressBound`), plus secretstream's tag."""
    n = chunk_bytes
    return n + (n >> 12) + (n >> 14) + (n >> 25) + 13 + _ABYTES
