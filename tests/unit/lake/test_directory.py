"""LocalLakeStorage beyond the shared port suite (tests/component/lake/test_storage.py)."""

from __future__ import annotations

import threading
from pathlib import Path

from glucosestream.lake.directory import TEMPORARY_PREFIX, LocalLakeStorage


def test_a_reader_sees_the_old_or_the_new_object_never_a_part(tmp_path: Path) -> None:
    storage = LocalLakeStorage(tmp_path / "lake", "gs-test-lake")
    old, new = b"a" * 1_000_000, b"b" * 1_000_000
    storage.write_bytes("pipeline_state/elt.json", old)
    seen: set[bytes] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(storage.read_bytes("pipeline_state/elt.json"))

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(20):
        storage.write_bytes("pipeline_state/elt.json", new)
        storage.write_bytes("pipeline_state/elt.json", old)
    done.set()
    reader.join()
    assert seen <= {old, new}


def test_deleting_the_last_object_of_a_folder_removes_the_folder_as_on_s3(tmp_path: Path) -> None:
    storage = LocalLakeStorage(tmp_path / "lake", "gs-test-lake")
    storage.write_bytes("marts/agp_profile/period_end=2024-03-14/part-0.parquet", b"x")
    storage.write_bytes("marts/agp_profile/period_end=2024-03-15/part-0.parquet", b"x")
    storage.delete(["marts/agp_profile/period_end=2024-03-14/part-0.parquet"])
    assert not (tmp_path / "lake" / "marts/agp_profile/period_end=2024-03-14").exists()
    assert (tmp_path / "lake" / "marts/agp_profile/period_end=2024-03-15").is_dir()


def test_temporaries_of_a_write_in_progress_are_never_listed(tmp_path: Path) -> None:
    storage = LocalLakeStorage(tmp_path / "lake", "gs-test-lake")
    storage.write_bytes("pipeline_state/elt.json", b"{}")
    (tmp_path / "lake" / "pipeline_state" / ".gs-lake-0123").write_bytes(b"{")
    assert [o.key for o in storage.list("")] == ["pipeline_state/elt.json"]


def test_remove_temporaries_deletes_a_crash_s_leftovers_under_the_prefix_only(
    tmp_path: Path,
) -> None:
    storage = LocalLakeStorage(tmp_path / "lake", "gs-test-lake")
    storage.write_bytes("raw/readings/dt=2026-01-05/hour=00/a.parquet", b"PAR1")
    storage.write_bytes("marts/agp_profile/part-0.parquet", b"PAR1")
    hour = tmp_path / "lake/raw/readings/dt=2026-01-05/hour=00"
    (hour / f"{TEMPORARY_PREFIX}dead").write_bytes(b"PA")
    (hour / ".keep").write_bytes(b"")  # hidden, but not a temporary of ours
    other = tmp_path / "lake/marts/agp_profile" / f"{TEMPORARY_PREFIX}in-progress"
    other.write_bytes(b"PA")
    assert storage.remove_temporaries("raw/readings/") == 1
    assert sorted(p.name for p in hour.iterdir()) == [".keep", "a.parquet"]
    assert other.exists()
    assert storage.remove_temporaries("errors/readings/") == 0  # no such folder yet
