"""The container of bundle format 2: a signed header, then chunks, read and written as streams.

The layout (docs/bundle-format.md §4 is its specification):

    DXFIELD-BUNDLE 2\\n            the magic line, with the format version
    {header JSON}\\n               sender, recipient, encryption, chunk size and count, and the
                                   SHA-256 of every chunk (the manifest); at most 4 MiB
    signature                      64 bytes: Ed25519 by the sender over the two lines above
    chunk*                         4-byte big-endian length, then that many bytes

The plain text, cut into chunks of `chunk_bytes` (the last may be shorter), is a sequence of
**members**: a JSON line saying what follows (`manifest`, `roster`, `revisions`, `blob`), then
its content. Each chunk is compressed on its own (zlib) and, when encrypted, sealed with
libsodium's secretstream under a key sealed to the recipient (`crypto_box_seal`); the last chunk
carries `TAG_FINAL`. Member boundaries and chunk boundaries are independent.

Reading is strict and bounded in memory whatever the file's size: the header's signature is
checked before any chunk is read, the chunks' lengths and the end of the file before any chunk
is decrypted, and each chunk against its hash before it is decrypted; a blob comes out as pieces
of at most one chunk, its hash checked when its last byte has been read. A refusal is one
`BundleError` line. The reader writes nothing; its caller must read every member (to the end of
the generator) before it keeps any of them: only then is the whole file checked.

`dxfield.sync.bundle` writes and reads bundles through it (what the members mean, who may send
them, which revisions are taken); this module knows only the container. It gathers the names of
three: `container_write` writes, `container_read` reads, and `container_base` holds what both
know of the format (its constants and limits, its error codes, the members), so that neither
imports the other.
"""

from dxfield.sync.container_base import (
    CHUNK_BYTES,
    COMPRESSION,
    COMPRESSION_LEVEL,
    FORMAT_VERSION,
    MAGIC_LINE,
    MAX_BLOB_BYTES,
    MAX_CHUNKS,
    MAX_HEADER_BYTES,
    MAX_MEMBER_BYTES,
    MAX_MEMBER_ITEMS,
    MAX_MEMBER_REVISIONS,
    MAX_ROSTER_BYTES,
    MAX_ROSTER_ITEMS,
    MEMBER_KINDS,
    PROBLEMS,
    SAMPLE_BYTES,
    Blob,
    Manifest,
    Member,
    Revisions,
    Roster,
    stored_chunk_limit,
)
from dxfield.sync.container_read import (
    ContainerReader,
    Header,
    VerifyKeyLookup,
    read_container,
)
from dxfield.sync.container_write import (
    Written,
    member_stream,
    write_container,
    write_stream,
)

__all__ = [
    "CHUNK_BYTES",
    "COMPRESSION",
    "COMPRESSION_LEVEL",
    "FORMAT_VERSION",
    "MAGIC_LINE",
    "MAX_BLOB_BYTES",
    "MAX_CHUNKS",
    "MAX_HEADER_BYTES",
    "MAX_MEMBER_BYTES",
    "MAX_MEMBER_ITEMS",
    "MAX_MEMBER_REVISIONS",
    "MAX_ROSTER_BYTES",
    "MAX_ROSTER_ITEMS",
    "MEMBER_KINDS",
    "PROBLEMS",
    "SAMPLE_BYTES",
    "Blob",
    "ContainerReader",
    "Header",
    "Manifest",
    "Member",
    "Revisions",
    "Roster",
    "VerifyKeyLookup",
    "Written",
    "member_stream",
    "read_container",
    "stored_chunk_limit",
    "write_container",
    "write_stream",
]
