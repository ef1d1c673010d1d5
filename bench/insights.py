"""Benchmark of the insights query API and export on PostgreSQL.

Loads 1,000,000 events across 20 organizations (COPY; reused on a re-run), then measures the API's
p50/p95 latency through Django's test client with an API key for four typical queries, checks
that each query's plan stays on an index, and exports 100,000 rows in a subprocess to measure
throughput and peak memory (RSS).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lanyard_insights_bench .venv/bin/python bench/insights.py

The last line is `events=… p95_ms_max=… export_rows_per_s=… export_peak_mb=…`.
Targets: every p95 under 50 ms, export peak memory under 150 MB.
"""

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lanyard_insights_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TOTAL = 1_000_000
ORGS = 20
BIG_ORG_EVENTS = 200_000  # one organization large enough to export 100,000 rows from
USERS_PER_ORG = 200
DAYS = 120
EXPORT_ROWS = 100_000
RUNS = 100
SLUG = "bench-insights-{:02d}"
USER_AGENT = "Mozilla/5.0 (bench)"

EVENT_TYPES = [
    ("sso_auth", "sso", 30),
    ("user_update_provision", "scim", 12),
    ("user_create_provision", "scim", 6),
    ("user_lookup_provision", "scim", 8),
    ("user_deprovision", "scim", 2),
    ("user_update", "directory", 10),
    ("user_create", "directory", 4),
    ("user_suspend", "directory", 1),
    ("user_reactivate", "directory", 1),
    ("group_member_add", "directory", 5),
    ("group_member_remove", "directory", 2),
    ("application_group_bind", "sso", 1),
    ("portal_login", "portal", 15),
    ("user_password_set", "directory", 2),
    ("idm_integration_update", "scim", 1),
]


def ensure_database() -> None:
    """Create the benchmark database if it does not exist yet."""
    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    admin_url = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False


def organizations():
    from directory.models import Organization

    return [
        Organization.objects.get_or_create(slug=SLUG.format(i), defaults={"name": f"Bench {i:02d}"})[0]
        for i in range(1, ORGS + 1)
    ]


def _event_rows(org_id: int, count: int, now: datetime, rng: random.Random):
    names, services, weights = zip(*[(n, s, w) for n, s, w in EVENT_TYPES], strict=True)
    indexes = list(range(len(names)))
    span = DAYS * 86400
    for _ in range(count):
        i = rng.choices(indexes, weights)[0]
        user = rng.randrange(USERS_PER_ORG)
        ok = rng.random() > 0.03
        stamp = now - timedelta(seconds=rng.random() * span)
        target = rng.randrange(USERS_PER_ORG)
        event_type = names[i]
        resource_type = "application" if event_type.startswith(("sso", "application", "idm")) else "user"
        yield (
            org_id,
            stamp,
            event_type,
            services[i],
            ok,
            "user" if event_type in ("sso_auth", "portal_login") else "admin",
            str(org_id * 1000 + user),
            f"user{user}@org{org_id}.bench",
            resource_type,
            str(target % 12 if resource_type == "application" else org_id * 1000 + target),
            f"app-{target % 12}" if resource_type == "application" else f"user{target}@org{org_id}.bench",
            f"10.{org_id}.{user % 250}.{target % 250}",
            USER_AGENT,
            "ok" if ok else f"{event_type} failed for user{target}: 409 from ClickUp",
            "[]",
            str(uuid.UUID(int=rng.getrandbits(128))),
        )


COLUMNS = (
    "organization_id, timestamp, event_type, service, success, initiator_type, initiator_id, initiator_email, "
    "resource_type, resource_id, resource_name, client_ip, user_agent, message, changes, correlation_id"
)


def bench_events(orgs) -> int:
    """How many loaded benchmark events there are (API-key events the run itself records are not counted)."""
    from insights.models import Event

    return Event.objects.filter(organization__in=orgs, user_agent=USER_AGENT).count()


def load(orgs) -> float:
    """COPY the events in (indexes dropped during the load and rebuilt after); returns seconds taken."""
    from django.db import connection

    from insights.models import Event

    org_ids = [o.pk for o in orgs]
    if bench_events(orgs) == TOTAL:
        return 0.0
    started = time.perf_counter()
    Event.objects.filter(organization_id__in=org_ids).delete()
    rng = random.Random(6)
    now = datetime.now(UTC)
    per_org = [BIG_ORG_EVENTS] + [(TOTAL - BIG_ORG_EVENTS) // (ORGS - 1)] * (ORGS - 1)
    per_org[-1] += TOTAL - sum(per_org)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'insights_event' "
            "AND indexname NOT LIKE '%%pkey'"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        raw = cursor.cursor
        for org_id, count in zip(org_ids, per_org, strict=True):
            with raw.copy(f"COPY insights_event ({COLUMNS}) FROM STDIN") as copy:
                for row in _event_rows(org_id, count, now, rng):
                    copy.write_row(row)
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE insights_event")
    return time.perf_counter() - started


def api_keys(orgs) -> dict[int, str]:
    from insights import services
    from insights.models import ApiKey

    ApiKey.objects.filter(organization__in=orgs, name="bench").delete()
    return {o.pk: services.api_key_create(organization=o, name="bench")[1] for o in orgs}


def scenarios(now: datetime):
    """(name, params for an organization) of the four measured queries."""
    return [
        ("org_last_24h", lambda org_id: {"start": (now - timedelta(hours=24)).isoformat()}),
        ("type_30d", lambda org_id: {"start": (now - timedelta(days=30)).isoformat(), "event_type": "user_create"}),
        (
            "user_90d",
            lambda org_id: {"start": (now - timedelta(days=90)).isoformat(), "initiator": str(org_id * 1000 + 17)},
        ),
        ("failed_30d", lambda org_id: {"start": (now - timedelta(days=30)).isoformat(), "success": "false"}),
    ]


def explain(org_id: int, params: dict) -> str:
    """The plan of the API's page query for these parameters; fails loudly on a sequential scan."""
    from django.http import QueryDict

    from insights import selectors

    query = selectors.event_query_parse(params=QueryDict(urlencode(params)))
    events = selectors.events_filter(organization_id=org_id, query=query).values(*selectors.EVENT_FIELDS)[:101]
    plan = events.explain()
    if "Seq Scan" in plan:
        raise SystemExit(f"sequential scan for {params}:\n{plan}")
    return next(line.strip() for line in plan.splitlines() if "Index" in line)


def measure(orgs, keys) -> dict[str, tuple[float, float]]:
    from django.test import Client

    client = Client()
    now = datetime.now(UTC)
    results = {}
    for name, params_for in scenarios(now):
        print(f"{name}: {explain(orgs[0].pk, params_for(orgs[0].pk))}", flush=True)
        timings = []
        for run in range(RUNS + 10):
            org = orgs[run % len(orgs)]
            started = time.perf_counter()
            response = client.get(
                "/api/insights/events", params_for(org.pk), HTTP_AUTHORIZATION=f"Bearer {keys[org.pk]}"
            )
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.content
            if run >= 10:  # the first runs warm caches and connections
                timings.append(elapsed)
        timings.sort()
        p50, p95 = statistics.median(timings), timings[int(len(timings) * 0.95) - 1]
        print(f"{name}: p50_ms={p50:.1f} p95_ms={p95:.1f} rows={len(response.json()['events'])}", flush=True)
        results[name] = (p50, p95)
    return results


def measure_admin(org) -> float:
    """p95 of the admin event list of the largest organization, unfiltered and filtered (printed, not a target)."""
    from django.contrib.auth.models import Group
    from django.test import Client

    from directory.models import User
    from directory.roles import ADMINISTRATOR

    admin_user, _ = User.objects.get_or_create(
        email=f"admin@{org.slug}.bench", defaults={"organization": org, "username": "bench-admin", "is_staff": True}
    )
    admin_user.groups.add(Group.objects.get(name=ADMINISTRATOR))
    client = Client()
    client.force_login(admin_user)
    worst = 0.0
    for label, params in (
        ("all", {}),
        ("failed_sso", {"success__exact": "0", "service": "sso"}),
        ("last_24h", {"when": "24h"}),
        ("type", {"event_type": "user_create_provision"}),
        ("search_email", {"q": f"user17@org{org.pk}.bench"}),
        ("search_text", {"q": "409"}),
    ):
        timings = []
        for run in range(25):
            started = time.perf_counter()
            response = client.get("/admin/insights/event/", params)
            assert response.status_code == 200
            if run >= 5:
                timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"admin list {label}: p50_ms={statistics.median(timings):.1f} p95_ms={p95:.1f}", flush=True)
        worst = max(worst, p95)
    return worst


def export_start(org_id: int) -> str:
    """The timestamp from which the organization's newest EXPORT_ROWS events begin."""
    from insights.models import Event

    row = (
        Event.objects.filter(organization_id=org_id).order_by("-timestamp", "-id").values("timestamp")[EXPORT_ROWS - 1]
    )
    return row["timestamp"].isoformat()


def export_child(key: str, start: str, export_format: str) -> None:
    """Subprocess: stream one export, print rows, seconds and peak RSS as JSON."""
    setup_django()
    from django.test import Client

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    response = Client().get(
        "/api/insights/events/export",
        {"start": start, "format": export_format},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    rows = size = 0
    for chunk in response.streaming_content:
        rows += chunk.count(b"\n")
        size += len(chunk)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    header = 1 if export_format == "csv" else 0
    print(
        json.dumps({"rows": rows - header, "seconds": seconds, "peak_mb": peak, "baseline_mb": baseline, "bytes": size})
    )


def export(key: str, start: str, export_format: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--export-child", key, start, export_format],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    ensure_database()
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, skip_checks=True)
    orgs = organizations()
    seconds = load(orgs)
    total = bench_events(orgs)
    print(f"loaded events={total} in {seconds:.1f}s" if seconds else f"reusing events={total}", flush=True)
    keys = api_keys(orgs)
    results = measure(orgs, keys)
    measure_admin(orgs[0])
    start = export_start(orgs[0].pk)
    exports = {fmt: export(keys[orgs[0].pk], start, fmt) for fmt in ("jsonl", "csv")}
    for fmt, figures in exports.items():
        print(
            f"export {fmt}: rows={figures['rows']} seconds={figures['seconds']:.2f} "
            f"rss_baseline_mb={figures['baseline_mb']:.0f} rss_peak_mb={figures['peak_mb']:.0f} "
            f"bytes={figures['bytes']}",
            flush=True,
        )
    p95_max = max(p95 for _, p95 in results.values())
    rows_per_s = min(f["rows"] / f["seconds"] for f in exports.values())
    peak_mb = max(f["peak_mb"] for f in exports.values())
    print(f"events={total} p95_ms_max={p95_max:.1f} export_rows_per_s={rows_per_s:.0f} export_peak_mb={peak_mb:.0f}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--export-child":
        export_child(*sys.argv[2:])
    else:
        main()
