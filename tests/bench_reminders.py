"""Benchmark: planning one reminder pass over 100,000 activities and 1,000 users.

Run `.venv/bin/python tests/bench_reminders.py`. It prints figures; it is not a test (no
timing is asserted anywhere). The target is a pass planned in under a second.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from scheduler.plan import plan
from storage.db import create_db_engine, session_scope, upgrade
from storage.models import Activity, LearnerCount, Member
from storage.pars import rules
from storage.reminders import OpenWork, Person, Snapshot, load_snapshot

ACTIVITIES, USERS = 100_000, 1_000
TEAM = "TBENCH"
ZONES = ["America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles", None]
CHICAGO = ZoneInfo("America/Chicago")


def people(rng: random.Random) -> dict[str, Person]:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    return {
        f"U{n:05d}": Person(f"U{n:05d}", rng.choice(ZONES), True, rng.random() > 0.05, True, now)
        for n in range(USERS)
    }


def works(rng: random.Random) -> list[OpenWork]:
    found = []
    for pk in range(ACTIVITIES):
        end = date(2025, 1, 1) + timedelta(days=rng.randrange(455))
        found.append(
            OpenWork(
                pk=pk,
                activity_id=f"A-{pk}",
                title=f"Activity {pk}",
                format="rss",
                owner=f"U{rng.randrange(USERS):05d}",
                start=end - timedelta(days=200),
                end=end,
                status=rules.Status.READY_TO_CLOSE,
                missing=("learners_physician",),
                snoozed_until=None,
            )
        )
    return found


def time_plans(snapshot: Snapshot) -> None:
    for label, moment in [
        ("Monday 9:00 Chicago, weekly", datetime(2026, 3, 23, 9, 0, tzinfo=CHICAGO)),
        ("Deadline day, daily", datetime(2026, 3, 31, 12, 0, tzinfo=CHICAGO)),
        ("Tuesday 9:00, quiet", datetime(2026, 3, 10, 9, 0, tzinfo=CHICAGO)),
    ]:
        start = time.perf_counter()
        due = plan(snapshot, moment)
        elapsed = time.perf_counter() - start
        named = sum(len(r.activities) for r in due)
        print(
            f"  plan at {label:<30} {elapsed * 1000:8.1f} ms  {len(due):5d} DMs  {named:6d} named"
        )


def bench_pure() -> None:
    rng = random.Random(7)
    snapshot = Snapshot(
        team_id=TEAM,
        zone="America/Chicago",
        digest_channel="C0DIGEST",
        deadlines={},
        people=people(rng),
        ended=works(rng),
    )
    print(f"Pure planning, {ACTIVITIES:,} open activities, {USERS:,} users:")
    time_plans(snapshot)


def bench_database() -> None:
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        now = datetime(2026, 1, 1, tzinfo=UTC)
        rows = []
        for pk in range(1, ACTIVITIES + 1):
            end = date(2025, 1, 1) + timedelta(days=rng.randrange(455))
            rows.append(
                {
                    "id": pk,
                    "team_id": TEAM,
                    "activity_id": f"A-{pk}",
                    "title": f"Act {pk}",
                    "format": "rss",
                    "start_date": end - timedelta(days=200),
                    "end_date": end,
                    "owner_user_id": f"U{rng.randrange(USERS):05d}",
                    "created_at": now,
                    "created_by": "U0",
                    "updated_at": now,
                    "updated_by": "U0",
                    "version": 1,
                    "closed_at": now if rng.random() < 0.4 else None,
                }
            )
        counts = [
            {
                "team_id": TEAM,
                "activity_pk": pk,
                "category": c,
                "count": 10,
                "as_of": date(2025, 12, 31),
                "recorded_by": "U0",
                "recorded_at": now,
            }
            for pk in range(1, ACTIVITIES + 1, 3)
            for c in ("physician", "other")
        ]
        members = [
            {
                "team_id": TEAM,
                "user_id": f"U{n:05d}",
                "used_bot": True,
                "reminders": True,
                "first_seen": now,
                "tz": rng.choice(ZONES),
                "is_guest": False,
                "is_deleted": False,
                "profile_checked_at": datetime(2026, 3, 23, 12, tzinfo=UTC),
            }
            for n in range(USERS)
        ]
        with engine.begin() as connection:
            connection.execute(sa.insert(Activity.__table__), rows)  # type: ignore[attr-defined]
            connection.execute(sa.insert(LearnerCount.__table__), counts)  # type: ignore[attr-defined]
            connection.execute(sa.insert(Member.__table__), members)  # type: ignore[attr-defined]
        moment = datetime(2026, 3, 23, 9, 0, tzinfo=CHICAGO)
        start = time.perf_counter()
        with session_scope(engine) as session:
            snapshot = load_snapshot(
                session=session, team_id=TEAM, default_zone="America/Chicago", instant=moment
            )
        loaded = time.perf_counter() - start
        print(
            f"SQLite, {ACTIVITIES:,} activities (60% open), {USERS:,} users: loading the "
            f"snapshot took {loaded * 1000:.0f} ms ({len(snapshot.ended):,} open and ended)"
        )
        time_plans(snapshot)
        engine.dispose()


if __name__ == "__main__":
    bench_pure()
    bench_database()
