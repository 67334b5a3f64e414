"""Proofs of authorship verified a batch at a time, in helper processes (`authors.Checking`).

Verifying an Ed25519 signature is libsodium's work, which lets go of Python's lock; but a
thread doing it must take that lock back after each of them from a main thread busy checking the
next page's rows, and waits for it: measured on two cores, a thread verified only while the
main thread waited, so that a bundle's check of 100,000 revisions took as long as checking and
verifying one after the other (28.7 s, 17.2 s without verifying). A helper process has no
share in that lock.

A helper is `python -m dxfield.sync.verifying`: it reads batches pickled on its stdin and
answers each, in order, on its stdout. Not multiprocessing's pool: its workers start by
importing the parent's main script again (a caller's script without a main guard would run its
import twice), and outlive a parent that is killed. This one imports only this module and
PyNaCl, ignores Ctrl-C (the import it serves stops, and says why), and ends when its stdin does:
when the import closes it, or dies.
"""

from __future__ import annotations

import base64
import contextlib
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from queue import SimpleQueue
from threading import Thread
from typing import IO

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

Job = tuple[tuple[bytes, ...], bytes, object]
"""One proof to verify: the keys any of which may have made it (raw 32 bytes each), the message
it proves, and the proof as the bundle carries it (base64 of 64 bytes, unchecked)."""


def verifies(key: bytes, message: bytes, proof: object) -> bool:
    """Whether `proof` is the signature of `message` by `key`."""
    if not isinstance(proof, str):
        return False
    try:
        signature = base64.b64decode(proof, validate=True)
        crypto_sign_open(signature + message, key)
    except (ValueError, BadSignatureError):
        return False
    return len(signature) == 64


def failing(jobs: Sequence[Job]) -> list[int]:
    """The positions of the jobs whose proof none of their keys verifies (in order)."""
    return [
        n
        for n, (keys, message, proof) in enumerate(jobs)
        if not any(verifies(key, message, proof) for key in keys)
    ]


class Helper:
    """One helper process, fed batches of jobs (`send`) by a thread of its own, so that the
    import never waits to hand one over; `receive` gives the answers in the order sent.
    Either raises `HelperGone` once the process is gone."""

    def __init__(self) -> None:
        package = str(Path(__file__).resolve().parents[2])  # where `dxfield` is imported from
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [package, *filter(None, [os.environ.get("PYTHONPATH")])]
        )}  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._batches: SimpleQueue[list[Job] | None] = SimpleQueue()
        self._feeder = Thread(target=self._feed, name="dxfield-verifying", daemon=True)
        self._feeder.start()

    def send(self, jobs: list[Job]) -> None:
        self._batches.put(jobs)

    def receive(self) -> list[int]:
        """The answer to the oldest batch not received yet (waiting for it)."""
        out = self.process.stdout
        try:
            found = pickle.load(out) if out is not None else None
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            raise HelperGone from exc
        if not isinstance(found, list):
            raise HelperGone
        return found

    def close(self) -> None:
        """End the process (what it was sent and not received is dropped: its answers go
        nowhere, which ends it too)."""
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._batches.put(None)
        self._feeder.join()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _feed(self) -> None:
        stream = self.process.stdin
        assert stream is not None
        try:
            while (jobs := self._batches.get()) is not None:
                pickle.dump(jobs, stream, pickle.HIGHEST_PROTOCOL)
                stream.flush()
        except OSError:  # the process is gone: `receive` says so
            pass
        finally:
            with contextlib.suppress(OSError):
                stream.close()  # its end of input: the process ends


class HelperGone(Exception):
    """A helper process ended before it answered (killed, out of memory)."""


def _serve(given: IO[bytes], answers: IO[bytes]) -> None:
    while True:
        try:
            jobs = pickle.load(given)
        except EOFError:  # the import is done with this helper, or gone
            return
        pickle.dump(failing(jobs), answers, pickle.HIGHEST_PROTOCOL)
        answers.flush()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the import's to handle
    with contextlib.suppress(OSError):  # the import gone while this answered
        _serve(sys.stdin.buffer, sys.stdout.buffer)
