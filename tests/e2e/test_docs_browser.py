"""/docs, /docs/events and /partner/docs in a real browser, with no network beyond loopback.

Debian's chromium (``make browser`` installs it; ``make test`` depends on that) runs
headless against the stack's gateway and prints the DOM once the page has settled
(``--dump-dom`` after a virtual-time budget: the budget runs out early when the page is
idle, so the dump waits for Swagger UI to fetch /openapi.json and draw, no longer).

Every host name but 127.0.0.1 resolves to nothing and every non-loopback connection goes
to a proxy that refuses, so a page that needed a CDN would show no operations and fail
here, whether or not the machine has the internet. A missing browser is a failure, not a
skip: the claim under test is that /docs works, and an unrun test does not show that.
"""

from __future__ import annotations

import asyncio
import shutil
from html.parser import HTMLParser
from pathlib import Path

import httpx

from relacja_contracts import ALL_TOPICS, EVENT_TYPES
from relacja_devstack import Stack

from .gateway_support import closed_port

# One page takes 2-10 s (a 2-core machine, shared); a browser that hangs fails the test
# here rather than stalling the suite.
CHROMIUM_TIMEOUT_SECONDS = 60


class _RenderedOperations(HTMLParser):
    """(method, path) of every operation Swagger UI drew: an ``opblock opblock-<method>``
    block holds a summary whose path element carries ``data-path``."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.operations: set[tuple[str, str]] = set()
        self._method = ""
        self.feed(dom)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if "opblock" in classes:
            self._method = next((c.removeprefix("opblock-") for c in classes if c.startswith("opblock-")), "")
        if "opblock-summary-path" in classes and values.get("data-path"):
            self.operations.add((self._method, values["data-path"] or ""))


async def _rendered_dom(url: str, profile: Path) -> str:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed: run `make browser` (make test does)"
    process = await asyncio.create_subprocess_exec(
        chromium,
        "--headless",
        "--no-sandbox",  # runs as root in CI, where chromium's sandbox refuses to start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        # Loopback bypasses a proxy by default; everything else meets a closed port.
        f"--proxy-server=http://127.0.0.1:{closed_port()}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), CHROMIUM_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode(errors="replace")[-2000:]
    return stdout.decode()


async def test_docs_lists_the_operations_in_a_browser_offline(
    stack: Stack, anonymous: httpx.AsyncClient, tmp_path: Path
) -> None:
    document = (await anonymous.get("/openapi.json", params={"refresh": "true"})).json()
    assert document["info"]["x-missing-services"] == []  # the browser gets the whole suite
    expected = {(method, path) for path, item in document["paths"].items() for method in item}
    dom = await _rendered_dom(f"{stack.gateway_url}/docs", tmp_path / "docs")
    rendered = _RenderedOperations(dom).operations
    assert {("post", "/api/v1/customers"), ("get", "/api/v1/customers/{customer_id}/360")} <= rendered
    assert rendered == expected, (expected - rendered, rendered - expected)
    assert 'href="/docs/events"' in dom


async def test_the_event_catalogue_in_a_browser_offline(stack: Stack, tmp_path: Path) -> None:
    dom = await _rendered_dom(f"{stack.gateway_url}/docs/events", tmp_path / "events")
    for event_type in EVENT_TYPES:
        assert f'<code class="event-type">{event_type}</code>' in dom
    for topic in ALL_TOPICS:
        assert f'<code class="event-topic">{topic.name}</code>' in dom
    assert 'href="/docs"' in dom


async def test_partner_docs_list_the_partner_operations_in_a_browser_offline(
    stack: Stack, anonymous: httpx.AsyncClient, tmp_path: Path
) -> None:
    document = (await anonymous.get("/partner/openapi.json", params={"refresh": "true"})).json()
    assert document["info"]["x-missing-services"] == []
    expected = {(method, path) for path, item in document["paths"].items() for method in item}
    assert ("get", "/partner/v1/feeds/{agreement_id}/events") in expected
    assert all(path.startswith("/partner/v1/") for _, path in expected)
    dom = await _rendered_dom(f"{stack.gateway_url}/partner/docs", tmp_path / "partner")
    rendered = _RenderedOperations(dom).operations
    webhooks = {(method, name) for name, item in document["webhooks"].items() for method in item}
    assert rendered - webhooks == expected, (expected - rendered, rendered - expected)
    assert "standardwebhooks" in dom and "PartnerEvent" in dom  # the prose and the records
