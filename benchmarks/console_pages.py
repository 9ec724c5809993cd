"""How fast the web console's pages are with thousands of executions and a 500-node workflow.

    python benchmarks/console_pages.py [--executions 5000] [--nodes 500]

Brings a sandbox up in a temporary SKIFF_HOME, registers a generated workflow of N task nodes
(20 parallel chains), stores thousands of finished executions (rows written straight into the
store: no containers run) and one execution of the big workflow with every node succeeded,
then times the JSON API (median of 7 calls) and, in headless Chromium, the time from
navigation to a drawn page (median of 5 loads). Also prints a baseline measured in the same
run: the API answering its smallest request (/api/projects). Numbers on a shared machine are
noisy: read the ratios.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import big_workflow_source  # noqa: E402


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=5000)
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--shots", help="save a screenshot of each page into this directory")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="skiff-console-bench-"))
    os.environ["SKIFF_HOME"] = str(home)
    from flyteidl.core import literals_pb2

    from sandbox import services
    from sandbox.console.access import read_console
    from sandbox.registry import read_package, register_package
    from sandbox.storage import ObjectStore
    from sandbox.store import open_store
    from sdk.compile.package import write_package

    state = services.up(home)
    try:
        src = home / "src"
        src.mkdir()
        (src / "bigflow.py").write_text(big_workflow_source(args.nodes))
        write_package([str(src / "bigflow.py")], state.runtime_image, str(home / "big.tgz"))
        store = open_store(state.database_url)
        reg = register_package(store, ObjectStore.from_state(state),
                               read_package(str(home / "big.tgz")), "default", "development",
                               "v1")
        from sandbox.engine.launch import load_plan

        empty = literals_pb2.LiteralMap().SerializeToString()
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        with store.transaction() as cursor:
            for i in range(args.executions):
                store.add_execution(cursor, id=f"bench{i:06d}", project="default",
                                    domain="development", launch_plan="bigflow.big",
                                    target_kind=2, workflow="bigflow.big", version=reg.version,
                                    inputs=empty, node_tasks={})
                cursor.execute("UPDATE executions SET state = ?, created_at = ?, started_at = ?, "
                               "ended_at = ? WHERE id = ?",
                               ("succeeded" if i % 7 else "failed",
                                now - dt.timedelta(seconds=args.executions - i),
                                now - dt.timedelta(seconds=args.executions - i),
                                now - dt.timedelta(seconds=args.executions - i - 3),
                                f"bench{i:06d}"))
        record = store.execution("bench000000")
        plan = load_plan(store, record)
        big_id = "bigrun"
        with store.transaction() as cursor:
            store.add_execution(cursor, id=big_id, project="default", domain="development",
                                launch_plan="bigflow.big", target_kind=2, workflow="bigflow.big",
                                version=reg.version, inputs=empty,
                                node_tasks={n: plan.task_name(node) for n, node in plan.nodes.items()})
            for i, node_id in enumerate(plan.nodes):
                start = now - dt.timedelta(seconds=600 - i)
                cursor.execute("UPDATE node_executions SET state = 'succeeded', started_at = ?, "
                               "ended_at = ?, duration = 1.0 WHERE execution_id = ? AND "
                               "node_id = ?", (start, start + dt.timedelta(seconds=1), big_id,
                                               node_id))
            cursor.execute("UPDATE executions SET state = 'succeeded', started_at = ?, "
                           "ended_at = ? WHERE id = ?",
                           (now - dt.timedelta(seconds=600), now, big_id))
        print(f"{args.executions} executions stored; workflow of {len(plan.nodes)} nodes")

        console = read_console(home)
        base = f"http://127.0.0.1:{console['port']}"
        from sandbox.console.access import session_value

        # what the login link's redirect sets; urllib would not carry it across the redirect
        cookie = f"skiff_console={session_value(console['token'])}"

        def get(path):
            request = urllib.request.Request(base + path, headers={"Cookie": cookie})
            return urllib.request.urlopen(request, timeout=60).read()

        rows = [
            ("baseline /api/projects", "/api/projects"),
            ("executions list, page 1 (50 rows)", "/api/executions?page=1&size=50"),
            ("executions list, last page", f"/api/executions?page={args.executions // 50}&size=50"),
            ("executions list, filtered by state+name", "/api/executions?state=failed&workflow=big"),
            (f"execution page data ({len(plan.nodes)}-node DAG)", f"/api/executions/{big_id}"),
            (f"live node states ({len(plan.nodes)} nodes)", f"/api/executions/{big_id}/states"),
        ]
        get(rows[4][1])  # compile the closure once, as a first visitor would
        baseline = None
        print(f"{'API call':<48} {'median ms':>10} {'x baseline':>10}")
        for label, path in rows:
            ms = median_ms(lambda: get(path), 7)
            baseline = baseline or ms
            print(f"{label:<48} {ms:>10.1f} {ms / baseline:>10.1f}")

        chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
        if chromium and driver_path:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service

            options = webdriver.ChromeOptions()
            options.binary_location = chromium
            for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--window-size=1440,1000", "--no-proxy-server"):
                options.add_argument(flag)
            driver = webdriver.Chrome(service=Service(driver_path), options=options)
            try:
                driver.get(f"{base}/login?token={console['token']}&next=/executions")
                pages = [("executions list", "/executions", "#executions tbody tr"),
                         (f"execution page, {len(plan.nodes)}-node DAG drawn",
                          f"/executions/{big_id}", "#dag svg g.node"),
                         ("execution timeline tab", f"/executions/{big_id}", "#timeline rect.bar")]
                print(f"{'page in Chromium (navigation to drawn)':<48} {'median ms':>10}")
                for label, path, selector in pages:
                    def load():
                        driver.get(base + path)
                        deadline = time.monotonic() + 60
                        if "timeline" in selector:
                            while not driver.find_elements("css selector", "#dag svg"):
                                time.sleep(0.01)
                            driver.find_element("css selector",
                                                'button[data-tab="Timeline"]').click()
                        while not driver.find_elements("css selector", selector):
                            if time.monotonic() > deadline:
                                raise SystemExit(f"{label}: nothing drawn")
                            time.sleep(0.01)
                    print(f"{label:<48} {median_ms(load, 5):>10.1f}")
                    if args.shots:
                        Path(args.shots).mkdir(parents=True, exist_ok=True)
                        driver.save_screenshot(str(Path(args.shots) / f"{label[:20]}.png"))
            finally:
                driver.quit()
    finally:
        services.down(home)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
