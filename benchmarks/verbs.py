"""Light verbs for dxfield's performance suite (`benchmarks/run.py --only verbs`).

A person types a short command and waits for its answer: most of what that costs is starting
Python and importing. Each figure is the CPU time (user + system, from `os.wait4` through the
tables section's launcher) of the whole process, the median of `repeats` interleaved runs,
against a hello-world Typer app (`run.HELLO_TYPER`) run the same way, in the same environment,
with compiled bytecode for both: each command runs once first with bytecode writing on
(`sync._cli_env`; this machine sets PYTHONDONTWRITEBYTECODE, a person's does not). CPU time,
not wall time: on a shared machine it follows the job rather than the load of the moment. The
store holds N activities (the one `import-table` filled in the tables section when it ran,
otherwise set up through the store's bulk path: set-up, not a figure). Each note gives the
median wall times and the peak memory of both.

- verb_activity_list: `dxfield --data-dir D activity list --limit 10` (the text table). Target
  <= 2.2.
- verb_search_json: `dxfield --data-dir D search 農業 --json`. Target <= 2.2.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from run import HELLO_TYPER, Figure, figure
from sync import _cli_env
from tables import MB, Ran, dxfield, measured

VERBS = {
    "verb_activity_list": ("activity", "list", "--limit", "10"),
    "verb_search_json": ("search", "農業", "--json"),
}
TARGET = 2.2


def _note(ours: list[Ran], hello: list[Ran]) -> str:
    def wall(runs: list[Ran]) -> float:
        return statistics.median(r.wall for r in runs)

    return (
        f"hello-world Typer app; wall {wall(ours):.3f}s vs {wall(hello):.3f}s; "
        f"peak {max(r.peak for r in ours) / MB:.0f} MB vs {max(r.peak for r in hello) / MB:.0f} MB"
    )


def measure_verbs(
    workdir: Path, records: int, repeats: int = 5, built: Path | None = None
) -> list[Figure]:
    """The verbs' figures on a store of `records` activities (`built`, or one set up here)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = _cli_env(workdir)
    logs = workdir / "logs"
    store = built
    if store is None:
        from dxfield.store.engine import Store
        from run import bulk_load, synthetic_activities

        store = workdir / "verbs-store"
        with Store.open(store) as opened:
            bulk_load(opened, synthetic_activities(records))
    commands = {name: dxfield(store, *args) for name, args in VERBS.items()}
    hello_command = [sys.executable, "-c", HELLO_TYPER]
    for command in (*commands.values(), hello_command):  # bytecode written, caches warm
        measured(command, env, logs)
    runs: dict[str, list[Ran]] = {name: [] for name in commands}
    hello: list[Ran] = []
    for _ in range(max(repeats, 1)):
        for name, command in commands.items():
            runs[name].append(measured(command, env, logs))
        hello.append(measured(hello_command, env, logs))
    found = json.loads(runs["verb_search_json"][0].out)
    if not found:
        raise RuntimeError("search 農業 found nothing")
    hello_cpu = statistics.median(r.cpu for r in hello)
    return [
        figure(
            name,
            statistics.median(r.cpu for r in ran),
            hello_cpu,
            TARGET,
            note=_note(ran, hello),
        )
        for name, ran in runs.items()
    ]


def main() -> None:  # pragma: no cover - a convenience: `python benchmarks/verbs.py N`
    """Run the section alone and print its figures as JSON."""
    import tempfile
    from dataclasses import asdict

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory(prefix="dxfield-bench-verbs-") as tmp:
        print(json.dumps([asdict(f) for f in measure_verbs(Path(tmp), count)], indent=2))


if __name__ == "__main__":
    main()
