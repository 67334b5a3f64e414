"""One user action, one transaction: the unit of work every service takes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dxfield.store import maintenance
from dxfield.store.activities import ActivityInput, add_activity, list_activities
from dxfield.store.engine import Store
from dxfield.store.followups import list_initiatives
from dxfield.store.records import ACTIVITIES, INITIATIVES
from dxfield.store.schema import REVISIONS


def test_services_compose_in_one_unit_and_roll_back_together(demo_store: Store) -> None:
    initiative = list_initiatives(demo_store)[0].initiative
    before = maintenance.dump(demo_store)
    with pytest.raises(RuntimeError), demo_store.unit() as unit:
        created = add_activity(
            unit, ActivityInput(title="一緒に", kind="meeting", date="2024-07-17",
                                initiative=initiative.id)
        )  # fmt: skip
        assert ACTIVITIES.get(unit, created.id).title == "一緒に"  # seen inside the unit
        INITIATIVES.delete(unit, initiative.id)
        raise RuntimeError("the action fails after both writes")
    assert maintenance.dump(demo_store) == before  # neither was kept


def test_a_reading_unit_cannot_write(store: Store) -> None:
    with store.unit(write=False) as unit, pytest.raises(RuntimeError, match="cannot write"):
        add_activity(unit, ActivityInput(title="x", kind="meeting", date="2024-07-17",
                                         municipality="豊岡市"))  # fmt: skip


def test_a_deletion_cannot_come_between_an_activitys_check_and_its_write(
    demo_store: Store, data_dir: Path
) -> None:
    """While one action holds its unit (checked the initiative, not yet written), a second
    writer, on another connection, waits; it deletes the initiative only after the activity is
    written, and the store stays sound."""
    initiative = list_initiatives(demo_store)[0].initiative
    checked = threading.Event()
    deleted_at: list[float] = []

    def delete_meanwhile() -> None:
        checked.wait(10)
        with Store.open(data_dir) as other:
            INITIATIVES.delete(other, initiative.id)
            deleted_at.append(time.monotonic())

    deleter = threading.Thread(target=delete_meanwhile)
    deleter.start()
    with demo_store.unit() as unit:
        assert not INITIATIVES.get(unit, initiative.id).deleted  # the check
        checked.set()
        time.sleep(0.5)  # the other writer has tried meanwhile, and waits
        assert not deleted_at
        created = add_activity(
            unit, ActivityInput(title="確認の後", kind="meeting", date="2024-07-17",
                                initiative=initiative.id)
        )  # fmt: skip
        written_at = time.monotonic()
    deleter.join(15)
    assert deleted_at and deleted_at[0] > written_at
    assert ACTIVITIES.get(demo_store, created.id).initiative_id == initiative.id
    assert INITIATIVES.get(demo_store, initiative.id, include_deleted=True).deleted
    assert maintenance.check(demo_store).ok


WRITER = """
import sys
from pathlib import Path
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
with Store.open(Path(sys.argv[1])) as store:
    for n in range(int(sys.argv[2])):
        add_activity(store, ActivityInput(title=f"{sys.argv[3]}-{n}", kind="meeting",
                                          date="2024-07-17", municipality="豊岡市"))
"""


def test_two_processes_writing_at_once_never_mint_the_same_stamp(data_dir: Path) -> None:
    with Store.open(data_dir):
        pass
    count = 150
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(data_dir), str(count), name])
        for name in ("a", "b")
    ]
    for writer in writers:
        assert writer.wait(120) == 0
    with Store.open(data_dir) as store:
        with store.unit(write=False) as unit:
            stamps = [
                row.hlc
                for row in unit.conn.execute(
                    REVISIONS.select().where(REVISIONS.c.entity == "activity")
                )
            ]
        assert len(stamps) == 2 * count
        assert len(set(stamps)) == len(stamps)
        assert len(list_activities(store, limit=1000)) == 2 * count
        assert maintenance.check(store).ok
