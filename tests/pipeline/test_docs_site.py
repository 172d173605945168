"""The dbt docs site of a real run, as a person sees it: served by `shopflow docs` on
127.0.0.1 and rendered in headless Chromium (dbt docs is a single-page app), a mart's
lineage is followed page by page through the rendered "Depends On" sections down to its raw
source; the overview tells the story; every exposure's link, followed from its rendered page,
opens its page (the report and the project's docs are served beside the site)."""

from __future__ import annotations

import html
import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag, urljoin
from urllib.request import urlopen

import pytest
import typer
from typer.testing import CliRunner

from ingestion.cli.docs import DocsSiteError, docs, docs_server, site_mounts
from ingestion.settings import Settings
from tests.pipeline.support import chromium
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MART = "model.shopflow.mart_monthly_revenue"
FACT = "model.shopflow.fct_sales"
"""The revenue lineage runs through the sold lines (dim_date's, through the business clock, is
shorter)."""
SOURCE = "source.shopflow.ops.orders"


def chromium_dom(profile: Path, url: str) -> str:
    """The DOM headless Chromium rendered for ``url`` (the single-page app given time to run its
    scripts), scripts and styles left out."""
    dom = chromium(profile, "--virtual-time-budget=15000", "--dump-dom", url)
    dom = re.sub(r"<script\b.*?</script>", "", dom, flags=re.S)
    return re.sub(r"<style\b.*?</style>", "", dom, flags=re.S)


def page_url(site: str, unique_id: str) -> str:
    return f"{site}/#!/{unique_id.split('.')[0]}/{unique_id}"


def depends_on(dom: str) -> tuple[set[str], set[str]]:
    """The rendered "Depends On" section: the nodes its open tab links to, and the labels of
    its tabs (one per resource type: Models, Sources, Seeds, Macros...)."""
    start = dom.find('id="depends_on"')
    assert start >= 0, "the page has no Depends On section"
    end = dom.find("<section", start)
    section = dom[start : end if end >= 0 else len(dom)]
    nodes = set(re.findall(r'href="#!/[a-z_]+/([^"#?]+)"', section))
    tabs = {label.strip() for label in re.findall(r'ng-click="setType[^>]*>([^<]+)<', section)}
    return nodes, tabs


def shows_parent(dom: str, parent: str) -> bool:
    """True when the page's Depends On lists ``parent``: in the open tab, or (when another
    resource type's tab is open) under a tab of the parent's type, the parent being named in
    the page's rendered code."""
    nodes, tabs = depends_on(dom)
    if parent in nodes:
        return True
    kind = parent.split(".")[0]
    tab = {"model": "Models", "source": "Sources"}[kind]
    name = parent.split(".")[-1]
    return tab in tabs and re.search(rf"\b{re.escape(name)}\b", code_text(dom)) is not None


def code_text(dom: str) -> str:
    """The text of the page's code block (the model's SQL as dbt docs renders it)."""
    start = dom.find('id="code"')
    return re.sub(r"<[^>]+>", "", dom[start:]) if start >= 0 else ""


def lineage_path(manifest: dict, child: str, ancestor: str) -> list[str]:
    """The shortest chain of model and source parents from ``child`` up to ``ancestor`` in the
    manifest (a page's Depends On shows one resource type at a time: models first)."""
    previous: dict[str, str] = {}
    queue = deque([child])
    while queue:
        node = queue.popleft()
        if node == ancestor:
            path = [node]
            while path[-1] != child:
                path.append(previous[path[-1]])
            return path[::-1]
        for parent in manifest["parent_map"].get(node, []):
            if parent.split(".")[0] in {"model", "source"} and parent not in previous:
                previous[parent] = node
                queue.append(parent)
    raise AssertionError(f"{ancestor} is not upstream of {child} in the manifest")


@pytest.fixture(scope="module")
def site(built_warehouse: BuiltWarehouse) -> Iterator[str]:
    """The run's docs site (docs stage of `shopflow run`) served as `shopflow docs` serves it."""
    mounts = site_mounts(Settings.from_environment())
    server = docs_server(built_warehouse.target_dir, port=0, mounts=mounts)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_marts_lineage_leads_to_its_raw_source_in_the_rendered_site(
    site: str, built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    manifest = json.loads((built_warehouse.target_dir / "manifest.json").read_text())
    path = lineage_path(manifest, MART, FACT) + lineage_path(manifest, FACT, SOURCE)[1:]
    assert len(path) >= 4, path  # mart -> fact -> ... -> staging -> source
    for child, parent in itertools.pairwise(path):
        dom = chromium_dom(tmp_path / "profile", page_url(site, child))
        assert shows_parent(dom, parent), (
            f"{child}'s page does not show {parent} under Depends On: {depends_on(dom)}"
        )
    source_page = chromium_dom(tmp_path / "profile", page_url(site, SOURCE))
    assert "raw_ops" in source_page and ">orders<" in source_page


def test_the_overview_tells_the_story(site: str, tmp_path: Path) -> None:
    dom = chromium_dom(tmp_path / "profile", f"{site}/#!/overview")
    for words in ("Where to start", "mart_monthly_revenue_by_channel", "The business clock"):
        assert words in dom, words


def test_the_docs_command_generates_the_site(built_warehouse: BuiltWarehouse) -> None:
    index = built_warehouse.target_dir / "index.html"
    before = index.stat().st_mtime_ns
    command = typer.Typer()
    command.command()(docs)
    result = CliRunner().invoke(command, ["--no-serve"])
    assert result.exit_code == 0, result.output
    assert index.stat().st_mtime_ns > before
    assert "Generated the dbt docs" in result.output


def test_a_taken_port_is_one_sentence(built_warehouse: BuiltWarehouse) -> None:
    first = docs_server(built_warehouse.target_dir, port=0)
    try:
        with pytest.raises(DocsSiteError, match=r"^Port \d+ on 127.0.0.1 is taken .*--port\.$"):
            docs_server(built_warehouse.target_dir, port=first.server_port)
    finally:
        first.server_close()


def test_a_folder_without_docs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocsSiteError, match="No dbt docs in"):
        docs_server(tmp_path, port=0)


def heading_anchors(markdown: str) -> set[str]:
    """The anchors a markdown renderer gives the page's headings (GitHub's rule)."""
    titles = (line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#"))
    return {re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-") for title in titles}


def test_every_exposure_link_opens_its_page(
    site: str, built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    manifest = json.loads((built_warehouse.target_dir / "manifest.json").read_text())
    exposures = manifest["exposures"]
    assert len(exposures) >= 4
    for unique_id, exposure in exposures.items():
        url = exposure.get("url")
        assert url, f"{unique_id} has no url"
        dom = chromium_dom(tmp_path / "profile", page_url(site, unique_id))
        assert f'href="{html.escape(url)}"' in dom, f"{unique_id}: no link to {url} on its page"
        page, fragment = urldefrag(urljoin(f"{site}/", url))
        with urlopen(page, timeout=30) as response:  # the link as the browser resolves it
            assert response.status == 200, (unique_id, page)
            body = response.read().decode()
        if fragment and page.endswith(".html"):
            assert f'id="{fragment}"' in body, f"{unique_id}: {page} has no #{fragment}"
        elif fragment:
            assert fragment in heading_anchors(body), f"{unique_id}: {page} has no #{fragment}"
