"""Issue 6: no webhook lost, none applied twice, whatever happens to the processes.

5,000 distinct signed deliveries (Messenger messages, echoes, deliveries, reads, reactions;
WhatsApp messages and statuses) for the sandbox's Pages and WhatsApp number go to a served
API process (``server.py serve``) with ``server.py worker`` processes and the scheduler
(sweepers every 2 s) on a private redis-server. First a fault-free reference run: each
delivery posted once, in order. Then the faulted run on a fresh database: each delivery
posted 1-3 times, 20 % of them out of order, a worker SIGKILLed (and replaced) every 2 s,
and Redis killed and restarted (empty) once. The final state (messages, statuses,
reactions, conversations and unread counts, contacts) must equal the reference's.

Needs PostgreSQL (BENCH_DATABASE_URL; its schema is dropped and rebuilt): the workers are
separate processes writing at once, and SQLite has one writer and no way to survive a
writer being SIGKILLed mid-transaction across processes with this load; and redis-server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select, text

from bench.processes import PrivateRedis, ServerProcess, WorkerPool, free_port, redis_available
from bench.report import Figure
from bench.webhook_traffic import WhatsAppPerson, World, generate, wamid
from domain.database import create_engine, create_session_factory, is_sqlite
from domain.models import (
    Contact,
    Conversation,
    Message,
    Page,
    WebhookEvent,
    WebhookEventStatus,
    WhatsAppAccount,
)
from domain.services.connections import add_meta_token
from domain.services.identity import ensure_user
from domain.services.webhooks.handlers import provisional_id
from graph_client.sandbox import Sandbox, SandboxConfig, create_sandbox_app
from graph_client.signature import sign_payload_sha256
from migrations.runner import upgrade_engine
from server import build_runtime, close_runtime
from settings import DEV_META_APP_ID, DEV_META_APP_SECRET, Settings

# BENCH_WEBHOOK_DELIVERIES makes a quicker local run (the figure is 5,000).
DELIVERIES = int(os.environ.get("BENCH_WEBHOOK_DELIVERIES", "5000"))
REORDERED, KILL_EVERY, WORKERS = 0.20, 2.0, 4
PEOPLE_PER_PAGE, WA_PEOPLE, WA_SENT_EACH = 40, 30, 2
POSTERS, SETTLE_TIMEOUT = 16, max(300.0, DELIVERIES * 0.12)
# The processes sweep every 2 s and re-queue what waited 5 s; an event about a message
# not stored yet waits for it as long as the run can last.
RECOVERY_ENV = {
    "SWEEP_INTERVAL_SECONDS": "2",
    "WEBHOOK_RETRY_AFTER_SECONDS": "5",
    # Only the sweepers: a periodic sync passing by would change the state under test.
    "SCHEDULER_JOBS": "webhook-sweeper,sync-run-sweeper",
    "WEBHOOK_DEFER_SECONDS": "900",
    "LOG_LEVEL": "WARNING",
}


@dataclass
class RunResult:
    state: dict[str, dict[Any, Any]]
    stored: int
    seconds: float
    posts: int = 0
    kills: int = 0
    redis_restarts: int = 0


async def run() -> list[Figure]:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url or is_sqlite(url):
        print(
            "webhook_loss skipped: needs PostgreSQL in BENCH_DATABASE_URL (its workers are "
            "separate processes writing at once; SQLite has a single writer)",
            flush=True,
        )
        return []
    if not redis_available():
        print("webhook_loss skipped: needs redis-server on PATH (a private one is started)")
        return []
    log_dir = Path(tempfile.mkdtemp(prefix="webhook_loss-"))
    async with _sandbox() as (sandbox, graph_url):
        world = _world(sandbox)
        start_ms = int((time.time() - 86400) * 1000)
        bodies = generate(world, DELIVERIES, seed=6, start_ms=start_ms)
        # The WhatsApp messages the statuses are about were sent an hour before the traffic.
        world.sent_at = datetime.fromtimestamp(start_ms // 1000 - 3600, UTC)
        reference = await _run(url, graph_url, sandbox, world, bodies, log_dir, faults=False)
        faulted = await _run(url, graph_url, sandbox, world, bodies, log_dir, faults=True)
    lost, twice, mismatched, compared = compare(reference.state, faulted.state)
    _write_differences(log_dir / "differences.txt", reference.state, faulted.state)
    lost += DELIVERIES - faulted.stored  # a delivery not even in the inbox
    ok = lost == 0 and twice == 0 and mismatched == 0
    if ok:
        shutil.rmtree(log_dir, ignore_errors=True)
    else:
        print(f"webhook_loss: differing rows and process logs in {log_dir}", flush=True)
    detail = (
        f"{faulted.posts} posts of {DELIVERIES} deliveries, {faulted.kills} workers killed, "
        f"Redis restarted {faulted.redis_restarts}x; settled in {faulted.seconds:.0f}s "
        f"(reference {reference.seconds:.0f}s)"
    )
    return [
        Figure("webhook_loss.lost", float(lost), "<= 0", f"{lost} lost; {detail}"),
        Figure("webhook_loss.applied_twice", float(twice), "<= 0", f"{twice} applied twice"),
        Figure(
            "webhook_loss.state_mismatches",
            float(mismatched),
            "<= 0",
            f"{mismatched} of {compared} rows differ from the fault-free run",
        ),
    ]


# --- the fake Meta ---------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _sandbox() -> AsyncIterator[tuple[Sandbox, str]]:
    """The sandbox served on its own port in this process: every metasync process calls it
    over HTTP (page tokens, profiles), as they would call Meta."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sandbox = create_sandbox_app(
        SandboxConfig(
            app_id=DEV_META_APP_ID, app_secret=DEV_META_APP_SECRET,
            public_base_url=base, tick_interval_seconds=0,
            conversations_calls_per_second=1000, auto_receipts=False,
        )
    )  # fmt: skip
    sandbox.seed({"pages": 2, "instagram_accounts": 0, "conversations_per_page": PEOPLE_PER_PAGE,
                  "ig_conversations_per_page": 0, "messages_per_conversation": 1,
                  "posts_per_page": 0, "whatsapp_accounts": 1, "subscribed": True})  # fmt: skip
    config = uvicorn.Config(sandbox, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    try:
        yield sandbox, base
    finally:
        server.should_exit = True
        await task
        await sandbox.aclose()


def _world(sandbox: Sandbox) -> World:
    store = sandbox.store
    pages = {
        page.id: [c.person_id for c in page.conversations if c.platform == "messenger"]
        for page in store.pages()
    }
    waba = sandbox.info()["whatsapp_business_accounts"][0]
    number = waba["phone_numbers"][0]
    rng = random.Random(9)
    people = [
        WhatsAppPerson(
            wa_id=f"1555{rng.randrange(10**7):07d}",
            name=f"WhatsApp Person {i}",
            outbound=[wamid(rng) for _ in range(WA_SENT_EACH)],
        )
        for i in range(WA_PEOPLE)
    ]
    return World(pages, waba["id"], number["id"], number["display_phone_number"], people)


# --- one run -----------------------------------------------------------------------------


async def _run(
    url: str,
    graph_url: str,
    sandbox: Sandbox,
    world: World,
    bodies: list[bytes],
    log_dir: Path,
    *,
    faults: bool,
) -> RunResult:
    name = "faulted" if faults else "reference"
    redis = PrivateRedis()
    redis.start()
    env = {"DATABASE_URL": url, "REDIS_URL": redis.url, "META_GRAPH_URL": graph_url,
           **RECOVERY_ENV}  # fmt: skip
    await _fresh_database(url)
    await _connect(env, sandbox, world)
    port = free_port()
    api = ServerProcess(["serve", "--port", str(port)], env, log_dir / f"{name}-api.log").start()
    scheduler = ServerProcess(["scheduler"], env, log_dir / f"{name}-scheduler.log").start()
    (log_dir / name).mkdir(exist_ok=True)
    pool = WorkerPool(WORKERS, env, log_dir / name, seed=3)
    try:
        await asyncio.to_thread(api.wait_listening, port)
        started = time.perf_counter()
        plan = _faulted_plan(bodies) if faults else list(bodies)
        progress = {"done": 0}
        chaos = asyncio.create_task(_chaos(pool, redis, len(plan), progress)) if faults else None
        posts = await _post_all(f"http://127.0.0.1:{port}/webhooks/meta", plan, progress)
        posted = time.perf_counter() - started
        stored = await _settle(url, len(bodies))
        seconds = time.perf_counter() - started
        print(f"webhook_loss {name}: posted in {posted:.0f}s, settled in {seconds:.0f}s",
              file=sys.stderr, flush=True)  # fmt: skip
        if chaos is not None:
            chaos.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chaos
        state = await snapshot(url)
    finally:
        pool.stop()
        scheduler.stop()
        api.stop()
        redis.stop()
    return RunResult(state, stored, seconds, posts, pool.kills, redis.restarts)


async def _fresh_database(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await upgrade_engine(engine)
    finally:
        await engine.dispose()


async def _connect(env: dict[str, str], sandbox: Sandbox, world: World) -> None:
    """One organization holding the sandbox user's Pages and WhatsApp account, and the
    messages it sent on WhatsApp earlier (the statuses in the traffic are about them)."""
    settings = Settings.model_validate(env)
    runtime = build_runtime(settings)
    try:
        services = runtime.services
        async with services.uow() as uow:
            principal = await ensure_user(uow, "bench@example.com", "Bench")
            await uow.commit()
        await add_meta_token(
            services.uow(), services.meta, services.vault,
            organization_id=principal.organization_id, user_id=principal.user_id,
            label="bench", token=sandbox.info()["demo_user"]["access_token"],
            now=services.clock.now(),
        )  # fmt: skip
        async with services.uow() as uow:
            account = (
                await uow.session.execute(
                    select(WhatsAppAccount).where(WhatsAppAccount.waba_id == world.waba_id)
                )
            ).scalar_one()
            sent_at = world.sent_at
            for person in world.wa_people:
                contact = Contact(
                    id=uuid.uuid4(), organization_id=principal.organization_id,
                    whatsapp_account_id=account.id, platform="whatsapp",
                    platform_user_id=person.wa_id, name=person.name, meta_name=person.name,
                )  # fmt: skip
                conversation = Conversation(
                    id=uuid.uuid4(), organization_id=principal.organization_id,
                    whatsapp_account_id=account.id, contact_id=contact.id, platform="whatsapp",
                    meta_conversation_id=provisional_id(world.waba_id, "whatsapp", person.wa_id),
                    updated_time=sent_at,
                )  # fmt: skip
                uow.session.add_all([contact, conversation])
                await uow.session.flush()
                for message_id in person.outbound:
                    uow.session.add(Message(
                        id=uuid.uuid4(), organization_id=principal.organization_id,
                        conversation_id=conversation.id, meta_message_id=message_id,
                        direction="outbound", status="sent", text="Your order shipped",
                        created_time=sent_at, recipient_id=person.wa_id,
                    ))  # fmt: skip
            await uow.commit()
    finally:
        await close_runtime(runtime)


def _faulted_plan(bodies: list[bytes]) -> list[bytes]:
    """Each delivery 1-3 times (Meta retries, or delivers twice); 20 % of them moved up to
    200 places earlier or later; the copies land later, as Meta's retries do."""
    rng = random.Random(66)
    order = list(bodies)
    for index in rng.sample(range(len(order)), int(len(order) * REORDERED)):
        body = order[index]
        order.remove(body)
        order.insert(max(0, min(len(order), index + rng.randint(-200, 200))), body)
    plan = list(order)
    for position, body in enumerate(order):
        for _ in range(rng.choice((0, 1, 2)) if rng.random() < 0.5 else 0):
            plan.insert(rng.randint(position, len(plan)), body)
    return plan


async def _chaos(
    pool: WorkerPool, redis: PrivateRedis, total: int, progress: dict[str, int]
) -> None:
    """A worker SIGKILLed every 2 s (and replaced) while another one works; Redis killed
    once, while deliveries are arriving, and started again empty 2 s later."""
    restarted = False
    while True:
        await asyncio.sleep(KILL_EVERY)
        await asyncio.to_thread(pool.kill_one)
        if not restarted and progress["done"] >= total // 2:
            restarted = True
            await asyncio.to_thread(redis.restart, 2.0)


async def _post_all(url: str, plan: list[bytes], progress: dict[str, int]) -> int:
    """Post every body of the plan (a few at a time, in plan order), each until Meta would
    count it delivered: an answer of 200."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in plan:
        queue.put_nowait(body)
    posts = 0

    async def poster(client: httpx.AsyncClient) -> None:
        nonlocal posts
        while not queue.empty():
            body = queue.get_nowait()
            headers = {"X-Hub-Signature-256": sign_payload_sha256(body, DEV_META_APP_SECRET)}
            while True:
                posts += 1
                try:
                    response = await client.post(url, content=body, headers=headers)
                    if response.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.5)  # Meta retries a failed delivery later
            progress["done"] += 1

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(poster(client) for _ in range(POSTERS)))
    return posts


async def _settle(url: str, expected: int) -> int:
    """Wait until every stored delivery is applied (none left "received"); returns how many
    distinct deliveries the inbox holds."""
    engine = create_engine(url)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    try:
        while True:
            async with engine.connect() as conn:
                stored = int((await conn.execute(select(func.count(WebhookEvent.id)))).scalar_one())
                waiting = int(
                    (
                        await conn.execute(
                            select(func.count(WebhookEvent.id)).where(
                                WebhookEvent.status == WebhookEventStatus.RECEIVED.value
                            )
                        )
                    ).scalar_one()
                )
            if (stored >= expected and waiting == 0) or time.monotonic() > deadline:
                return stored
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


# --- comparing -------------------------------------------------------------------------


async def snapshot(url: str) -> dict[str, dict[Any, Any]]:
    """The state a user sees, by Meta's ids (database ids differ between runs)."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as conn:
            owners = {
                row.id: row.meta_page_id
                for row in await conn.execute(select(Page.id, Page.meta_page_id))
            }
            owners |= {
                row.id: row.waba_id
                for row in await conn.execute(select(WhatsAppAccount.id, WhatsAppAccount.waba_id))
            }
            contacts = {
                row.id: (owners[row.page_id or row.whatsapp_account_id], row.platform_user_id)
                for row in await conn.execute(
                    select(
                        Contact.id,
                        Contact.page_id,
                        Contact.whatsapp_account_id,
                        Contact.platform_user_id,
                    )
                )
            }
            contact_state = {
                contacts[row.id]: (row.name, row.meta_name, row.picture_url)
                for row in await conn.execute(
                    select(Contact.id, Contact.name, Contact.meta_name, Contact.picture_url)
                )
            }
            conversations: dict[Any, Any] = {}
            people: dict[uuid.UUID, Any] = {}
            for row in (await conn.execute(select(Conversation))).scalars():
                people[row.id] = contacts.get(row.contact_id)
                conversations[people[row.id]] = (
                    row.unread_count, row.snippet, row.updated_time,
                    row.read_watermark, row.delivery_watermark,
                )  # fmt: skip
            messages = {
                row.meta_message_id: _message_state(people[row.conversation_id], row)
                for row in (await conn.execute(select(Message))).scalars()
            }
    finally:
        await engine.dispose()
    return {"contacts": contact_state, "conversations": conversations, "messages": messages}


def _message_state(conversation: Any, row: Message) -> tuple[Any, ...]:
    return (
        conversation, row.direction, row.status, row.text,
        tuple(str(a) for a in row.attachments), row.reply_to_meta_id,
        tuple(sorted(str(r) for r in row.reactions)), row.created_time, str(row.error),
    )  # fmt: skip


def _write_differences(
    path: Path, reference: dict[str, dict[Any, Any]], faulted: dict[str, dict[Any, Any]]
) -> None:
    """Every differing row, reference then faulted, for whoever reads a missed figure."""
    with path.open("w") as out:
        for table, want in reference.items():
            got = faulted[table]
            for key in sorted(set(want) | set(got), key=str):
                if want.get(key) != got.get(key):
                    out.write(f"{table} {key}\n  reference {want.get(key)}\n")
                    out.write(f"  faulted   {got.get(key)}\n")


def compare(
    reference: dict[str, dict[Any, Any]], faulted: dict[str, dict[Any, Any]]
) -> tuple[int, int, int, int]:
    """(lost, applied twice, other differences, rows compared). Lost: rows of the reference
    missing. Applied twice: unread counts above the reference's (an inbound message counted
    again) and reactions beyond it. Differences: any other changed or extra row."""
    lost = twice = mismatched = compared = 0
    for table, want in reference.items():
        got = faulted[table]
        compared += len(want)
        lost += sum(1 for key in want if key not in got)
        mismatched += sum(1 for key in got if key not in want)
        for key, value in want.items():
            if key not in got or got[key] == value:
                continue
            if table == "conversations" and got[key][0] > value[0]:
                twice += got[key][0] - value[0]
            elif table == "messages" and len(got[key][6]) > len(value[6]):
                twice += len(got[key][6]) - len(value[6])
            else:
                mismatched += 1
    return lost, twice, mismatched, compared
