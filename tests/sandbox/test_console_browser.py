"""The web console in a real headless Chromium (Debian's chromium + chromium-driver, through
Selenium) against the real sandbox: executions run in containers started by the admin, pages
are read and clicked as a user would. Screenshots go to $SKIFF_CONSOLE_SHOTS (default
/tmp/skiff-console-shots), never into git."""
from __future__ import annotations

import json
import os
import shutil
import textwrap
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from flyteidl.admin import execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2

from sandbox.console import process as console_process
from sandbox.console.access import read_console
from sandbox.registry import read_package, register_package
from sandbox.storage import ObjectStore
from sandbox.store import open_store
from sdk.compile.package import write_package
from sandbox.admin.client_config import local_channel

pytestmark = pytest.mark.sandbox

SHOTS = Path(os.environ.get("SKIFF_CONSOLE_SHOTS", "/tmp/skiff-console-shots"))
PROJECT, DOMAIN = "default", "development"
FLOW = textwrap.dedent('''
    import os
    import time
    from datetime import timedelta

    from sdk import Directory, File, LaunchPlan, approve, task, wait_for_input, workflow


    @task
    def slow_print(lines: int, pause: float) -> int:
        for i in range(lines):
            print(f"line {i}", flush=True)
            time.sleep(pause)
        return lines


    @task(retries=1)
    def flaky(x: int) -> int:
        if os.environ["FLYTE_ATTEMPT_NUMBER"] == "0":
            raise RuntimeError("the first attempt fails on purpose")
        return x * 10


    @task(cache=True, cache_version="1")
    def add(a: int, b: int) -> int:
        return a + b


    @task
    def nap(seconds: int) -> int:
        time.sleep(seconds)
        return seconds


    @workflow
    def chain(n: int = 2, pause: float = 0.2) -> int:
        a = slow_print(lines=n, pause=pause)
        return add(a=a, b=flaky(x=a))


    @workflow
    def gated(x: int = 4) -> int:
        y = add(a=x, b=1)
        ok = approve(y, "go", timeout=timedelta(minutes=10))
        bump = wait_for_input("bump", timeout=timedelta(minutes=10), expected_type=int)
        return add(a=ok, b=bump)


    @task
    def boom(x: int) -> int:
        raise ValueError(f"no good: {x}")


    @workflow
    def fragile(x: int = 1) -> int:
        return boom(x=add(a=x, b=1))


    @workflow
    def sleepy(seconds: int = 300) -> int:
        return nap(seconds=seconds)


    @task
    def describe(f: File, d: Directory) -> str:
        with open(f) as handle:
            text = handle.read().strip()
        return f"{text.upper()} {','.join(sorted(os.listdir(d)))}"


    @workflow
    def described(f: File, d: Directory) -> str:
        return describe(f=f, d=d)


    LaunchPlan.get_or_create(chain, name="chain_lp", default_inputs={"n": 3})
    LaunchPlan.get_or_create(described, name="describe_lp")
''')


@pytest.fixture(scope="module")
def flow(sandbox_home, tmp_path_factory):
    """consoleflow's entities registered in default/development under a fresh version."""
    root = tmp_path_factory.mktemp("consoleflow")
    (root / "consoleflow.py").write_text(FLOW)
    out = root / "consoleflow.tgz"
    write_package([str(root / "consoleflow.py")], sandbox_home.runtime_image, str(out))
    version = "v" + uuid.uuid4().hex[:8]
    store = open_store(sandbox_home.database_url)
    register_package(store, ObjectStore.from_state(sandbox_home), read_package(out), PROJECT,
                     DOMAIN, version)
    return version


@pytest.fixture(scope="module")
def console(sandbox_home):
    record = read_console(sandbox_home.home)
    assert console_process.is_running(sandbox_home.home), "sandbox up starts the console"
    return f"http://127.0.0.1:{record['port']}", record["token"]


@pytest.fixture(scope="module")
def browser(console):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.fail("chromium and chromium-driver are missing: run scripts/setup.sh")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1440,1000", "--no-proxy-server", "--disable-extensions",
                 "--disable-background-networking", "--disable-component-update"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    SHOTS.mkdir(parents=True, exist_ok=True)
    base, token = console
    driver.get(f"{base}/login?token={token}&next=/executions")
    try:
        yield driver
    finally:
        driver.quit()


def js_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE"]


def wait_for(predicate, timeout=90.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - the element may be redrawn under us
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def click_once(driver, element_id: str, timeout=60.0) -> None:
    """Click the button once it is there. Tried again only when the click surely did not
    happen (the button was redrawn under it, or covered): clicking a relaunch twice would
    start two executions."""
    from selenium.common.exceptions import (
        ElementClickInterceptedException, NoSuchElementException,
        StaleElementReferenceException,
    )

    deadline = time.monotonic() + timeout
    while True:
        try:
            driver.find_element("id", element_id).click()
            return
        except (StaleElementReferenceException, ElementClickInterceptedException,
                NoSuchElementException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def launch(sandbox_home, name: str, version: str, **inputs) -> str:
    """Create an execution through the sandbox's admin (as flytekit would); its id."""
    import grpc
    from flyteidl.service import admin_pb2_grpc

    literals = literals_pb2.LiteralMap()
    for key, value in inputs.items():
        if isinstance(value, float):
            literals.literals[key].scalar.primitive.float_value = value
        else:
            literals.literals[key].scalar.primitive.integer = value
    lp = identifier_pb2.Identifier(resource_type=3, project=PROJECT, domain=DOMAIN, name=name,
                                   version=version)
    with local_channel(sandbox_home) as channel:
        response = admin_pb2_grpc.AdminServiceStub(channel).CreateExecution(
            execution_pb2.ExecutionCreateRequest(
                project=PROJECT, domain=DOMAIN, inputs=literals,
                spec=execution_pb2.ExecutionSpec(launch_plan=lp)))
    return response.id.name


def terminate(sandbox_home, execution_id: str) -> None:
    import grpc
    from flyteidl.service import admin_pb2_grpc

    with local_channel(sandbox_home) as channel:
        admin_pb2_grpc.AdminServiceStub(channel).TerminateExecution(
            execution_pb2.ExecutionTerminateRequest(
                id=identifier_pb2.WorkflowExecutionIdentifier(
                    project=PROJECT, domain=DOMAIN, name=execution_id), cause="test done"))


def store_of(sandbox_home):
    return open_store(sandbox_home.database_url)


def node_class(driver, node_id: str) -> str:
    return driver.find_element("css selector", f'#dag g.node[data-id="{node_id}"]') \
        .get_attribute("class")


# ---- access ------------------------------------------------------------------------------


def test_nothing_answers_without_the_token(console, browser):
    base, token = console
    for path in ("/", "/executions", "/api/executions", "/static/app.js", "/api/cache"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + path, timeout=10)
        assert refused.value.code == 401, path
    with pytest.raises(urllib.error.HTTPError) as wrong:
        urllib.request.urlopen(f"{base}/login?token=not-{token}", timeout=10)
    assert wrong.value.code == 401
    # A logged-in browser's cookie without the page's CSRF header (a cross-site form) is refused.
    cookie = browser.get_cookie("skiff_console")
    assert cookie and cookie["httpOnly"]
    request = urllib.request.Request(f"{base}/api/cache/clear", data=b'{"task": "x"}',
                                     method="POST",
                                     headers={"Cookie": f"skiff_console={cookie['value']}",
                                              "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as forged:
        urllib.request.urlopen(request, timeout=10)
    assert forged.value.code == 403
    # A foreign Host header (DNS rebinding) is refused even with the cookie.
    request = urllib.request.Request(f"{base}/api/executions", headers={
        "Cookie": f"skiff_console={cookie['value']}", "Host": "evil.example:80"})
    with pytest.raises(urllib.error.HTTPError) as rebound:
        urllib.request.urlopen(request, timeout=10)
    assert rebound.value.code == 403
    # The login link redirected to a URL without the token.
    assert token not in browser.current_url
    # A browser without the cookie gets the refusal, not the page.
    browser.delete_all_cookies()
    browser.get(f"{base}/executions")
    assert "not logged in" in browser.find_element("tag name", "body").text
    assert not browser.find_elements("id", "main")
    browser.get_log("browser")  # the refused page's 401 is expected: not a script error
    browser.get(f"{base}/login?token={token}&next=/executions")
    wait_for(lambda: browser.find_element("id", "executions"), what="the list after login")


# ---- executions list, launch form, live DAG, timeline, outputs ----------------------------


def test_launch_from_the_form_runs_live_dag_timeline_and_outputs(sandbox_home, flow, console,
                                                                  browser):
    base, _ = console
    browser.get(f"{base}/executions")
    wait_for(lambda: browser.find_element("id", "executions"), what="the executions table")
    # A fresh execution shows up in the open list without a reload.
    browser.execute_script("window.__noReload = 1")
    fresh = launch(sandbox_home, "consoleflow.chain", flow, n=1, pause=0.1)
    wait_for(lambda: browser.find_elements("css selector", f'tr[data-id="{fresh}"]'),
             what="the fresh execution in the list")
    assert browser.execute_script("return window.__noReload") == 1
    shot(browser, "01-executions")

    browser.get(f"{base}/launch/{PROJECT}/{DOMAIN}/chain_lp?version={flow}")
    form = wait_for(lambda: browser.find_element("id", "launch-form"), what="the launch form")
    n_field = form.find_element("name", "n")
    assert n_field.get_attribute("value") == "3"  # the launch plan's default
    assert form.find_element("name", "pause").get_attribute("type") == "number"
    n_field.clear()
    n_field.send_keys("4")
    pause = form.find_element("name", "pause")
    pause.clear()
    pause.send_keys("1.0")
    shot(browser, "02-launch-form")
    browser.find_element("id", "launch").click()
    wait_for(lambda: "/executions/" in browser.current_url, what="the new execution's page")
    execution_id = browser.current_url.rstrip("/").rsplit("/", 1)[-1]
    browser.execute_script("window.__noReload = 1")

    # Drawn while n0 still runs (it prints for 4 s), then coloured by the page's own polling.
    first = wait_for(lambda: node_class(browser, "n0"), what="the DAG")
    assert "succeeded" not in first, first
    wait_for(lambda: "running" in node_class(browser, "n0"), timeout=60,
             what="n0 running on the DAG")
    shot(browser, "03-dag-running")
    wait_for(lambda: "succeeded" in node_class(browser, "n0"), timeout=120,
             what="n0 turning green")
    wait_for(lambda: browser.find_element("css selector", "#execution-state .badge")
             .get_attribute("data-state") == "succeeded", timeout=120,
             what="the execution succeeding")
    assert "succeeded" in node_class(browser, "n2") and "succeeded" in node_class(browser, "n1")
    assert browser.execute_script("return window.__noReload") == 1, "the page reloaded"
    shot(browser, "04-dag-succeeded")

    # One bar per attempt: flaky (n1) failed once, then succeeded.
    browser.find_element("css selector", 'button[data-tab="Timeline"]').click()
    bars = wait_for(lambda: browser.find_elements("css selector",
                                                  "#timeline rect.bar:not(.queued)"),
                    what="timeline bars")
    by_node: dict[str, list[str]] = {}
    for bar in bars:
        by_node.setdefault(bar.get_attribute("data-node"), []).append(
            bar.get_attribute("class"))
    assert sorted(by_node) == ["n0", "n1", "n2"]
    assert by_node["n1"] == ["bar failed", "bar succeeded"]
    assert len(by_node["n0"]) == 1 and len(by_node["n2"]) == 1
    # Each bar's tooltip says how its container ended.
    tips = [bar.find_element("tag name", "title").get_attribute("textContent")
            for bar in bars if bar.get_attribute("data-node") == "n1"]
    assert "failed" in tips[0] and "(user error, exit " in tips[0], tips
    assert "(exit 0)" in tips[1], tips
    shot(browser, "05-timeline")

    browser.find_element("css selector", 'button[data-tab="Inputs & outputs"]').click()
    outputs = browser.find_element("id", "outputs").text
    assert "o0" in outputs and "44" in outputs  # 4 + 4 * 10
    inputs = browser.find_element("id", "inputs").text
    assert "pause" in inputs and "float" in inputs
    shot(browser, "06-io")
    assert store_of(sandbox_home).execution(execution_id).state == "succeeded"

    # The flaky node's page: one row per attempt with its exit status.
    browser.get(f"{base}/executions/{execution_id}/nodes/n1")
    rows = wait_for(lambda: browser.find_elements("css selector", "#attempts tbody tr"),
                    what="the attempts table")
    statuses = [row.find_element("css selector", "td.exit-status").text for row in rows]
    assert statuses[0].startswith("user error, exit ") and statuses[1] == "exit 0", statuses
    shot(browser, "06b-node-attempts")
    assert js_errors(browser) == []


# ---- a node's logs while it runs -----------------------------------------------------------


def test_log_lines_appear_while_the_task_runs(sandbox_home, flow, console, browser):
    base, _ = console
    store = store_of(sandbox_home)
    execution_id = launch(sandbox_home, "consoleflow.chain", flow, n=8, pause=1.0)
    wait_for(lambda: (store.node(execution_id, "n0") or None) and
             store.node(execution_id, "n0").state == "running", what="n0 running")
    browser.get(f"{base}/executions/{execution_id}/nodes/n0")
    browser.execute_script("window.__noReload = 1")
    logs = wait_for(lambda: browser.find_element("id", "logs"), what="the logs panel")
    wait_for(lambda: "line 1" in logs.text, what="the first lines")
    # Seen while the container still prints: the node has not finished.
    assert store.node(execution_id, "n0").state == "running"
    assert "line 7" not in logs.text
    shot(browser, "07-logs-live")
    wait_for(lambda: "line 7" in logs.text, timeout=60, what="the last line")
    assert browser.execute_script("return window.__noReload") == 1
    assert logs.text.count("line 3") == 1  # appended, never repeated
    wait_for(lambda: browser.find_element("css selector", "#node-state .badge")
             .get_attribute("data-state") == "succeeded", timeout=60, what="n0 succeeding")
    assert "attempt 0" in logs.text
    assert js_errors(browser) == []


# ---- a gate approved from the page ---------------------------------------------------------


def test_a_gate_is_approved_from_the_page(sandbox_home, flow, console, browser):
    base, _ = console
    store = store_of(sandbox_home)
    execution_id = launch(sandbox_home, "consoleflow.gated", flow, x=4)
    gate_id = "n1"
    wait_for(lambda: (store.node(execution_id, gate_id) or None) and
             store.node(execution_id, gate_id).state == "waiting", what="the gate waiting")
    browser.get(f"{base}/executions/{execution_id}/nodes/{gate_id}")
    button = wait_for(lambda: browser.find_element("id", "approve"), what="the approve button")
    shot(browser, "08-gate")
    button.click()
    wait_for(lambda: store.node(execution_id, gate_id).state == "succeeded",
             what="the approval passing")
    # The signal gate takes a typed value from the page.
    browser.get(f"{base}/executions/{execution_id}/nodes/n2")
    value = wait_for(lambda: browser.find_element("id", "signal-value"), what="the signal form")
    value.send_keys("7")
    browser.find_element("id", "signal").click()
    wait_for(lambda: store.execution(execution_id).state == "succeeded", timeout=90,
             what="the gated execution succeeding")
    from sdk.types.display import literal_map_to_plain

    outputs = literals_pb2.LiteralMap.FromString(store.execution(execution_id).outputs)
    assert literal_map_to_plain(outputs) == {"o0": 12}
    assert js_errors(browser) == []


# ---- terminate -----------------------------------------------------------------------------


def test_terminate_from_the_page_stops_the_containers(sandbox_home, flow, console, browser):
    import docker

    base, _ = console
    store = store_of(sandbox_home)
    execution_id = launch(sandbox_home, "consoleflow.sleepy", flow, seconds=300)
    wait_for(lambda: (store.node(execution_id, "n0") or None) and
             store.node(execution_id, "n0").container_id, what="nap's container")
    client = docker.from_env()
    label = {"label": f"skiff.execution={execution_id}"}
    wait_for(lambda: client.containers.list(filters=label), what="the task's container running")
    browser.get(f"{base}/executions/{execution_id}")
    wait_for(lambda: "running" in node_class(browser, "n0"), what="nap running on the DAG")
    click_once(browser, "terminate")
    browser.switch_to.alert.accept()
    wait_for(lambda: browser.find_element("css selector", "#execution-state .badge")
             .get_attribute("data-state") == "aborted", timeout=60, what="aborted on the page")
    shot(browser, "09-terminated")
    wait_for(lambda: not client.containers.list(filters=label), timeout=30,
             what="the containers stopping")
    assert store.execution(execution_id).state == "aborted"
    assert browser.find_element("id", "recover").get_attribute("disabled") is not None
    # Relaunch from the page, double-clicked as an impatient user would: ONE new execution
    # of the same launch plan, version and inputs. (A click sent twice once relaunched twice;
    # the test then watched the one it had not navigated to: the "second terminate" flake.)
    def sleepers():
        return {e.id for e in store.executions(10_000) if e.workflow == "consoleflow.sleepy"}

    before = sleepers()
    relaunch = wait_for(lambda: browser.find_element("id", "relaunch"), what="relaunch")
    browser.execute_script("arguments[0].click(); arguments[0].click();", relaunch)
    wait_for(lambda: execution_id not in browser.current_url, what="the relaunched page")
    again = browser.current_url.rstrip("/").rsplit("/", 1)[-1]
    relaunched = store.execution(again)
    assert relaunched.workflow == "consoleflow.sleepy" and relaunched.version == flow
    assert relaunched.inputs == store.execution(execution_id).inputs
    # A second Terminate, on the relaunched execution's page, stops it too.
    wait_for(lambda: "running" in node_class(browser, "n0"), what="the relaunch running")
    assert sleepers() - before == {again}
    click_once(browser, "terminate")
    browser.switch_to.alert.accept()
    wait_for(lambda: store.execution(again).state == "aborted", timeout=60,
             what="the relaunch aborted")
    wait_for(lambda: browser.find_element("css selector", "#execution-state .badge")
             .get_attribute("data-state") == "aborted", timeout=60,
             what="the relaunch aborted on the page")
    wait_for(lambda: not client.containers.list(filters={
        "label": f"skiff.execution={again}"}), timeout=30, what="its containers stopping")
    assert js_errors(browser) == []


# ---- the other pages -----------------------------------------------------------------------


def test_entities_cache_and_reproductions_pages_draw(sandbox_home, flow, console, browser):
    import grpc

    from sandbox.admin.gen import sandbox_pb2, sandbox_pb2_grpc

    base, _ = console
    store = store_of(sandbox_home)
    green = next(e for e in store.executions(200)
                 if e.workflow == "consoleflow.chain" and e.state == "succeeded")
    # What `skiff promote` and `skiff reproduce` record through Skiff's API.
    with local_channel(sandbox_home) as channel:
        api = sandbox_pb2_grpc.SandboxServiceStub(channel)
        api.CreatePromotion(sandbox_pb2.CreatePromotionRequest(promotion=sandbox_pb2.PromotionRecord(
            project=PROJECT, name="consoleflow.chain", version=flow, from_domain=DOMAIN,
            to_domain="staging", evidence_execution=green.id,
            entities=["workflow:consoleflow.chain", "launch_plan:chain_lp"])))
        api.CreateReproduction(sandbox_pb2.CreateReproductionRequest(
            reproduction=sandbox_pb2.ReproductionRecord(
                source=f"{PROJECT}/{DOMAIN}/remote-{flow}", local_execution=green.id,
                identical=False, diff=f"n2: o0 differs ({flow})")))
    browser.get(f"{base}/entities?project={PROJECT}&domain={DOMAIN}")
    table = wait_for(lambda: browser.find_element("id", "entities"), what="the entities table")
    assert "consoleflow.chain" in table.text and "chain_lp" in table.text
    browser.find_element("link text", "consoleflow.chain").click()
    versions = wait_for(lambda: browser.find_element("id", "versions"), what="its versions")
    assert flow in versions.text
    assert "development → staging" in versions.text and green.id in versions.text
    shot(browser, "10-entity")
    # The cache: consoleflow.add's entries, cleared from the page.
    store = store_of(sandbox_home)
    assert store.cache_entries("consoleflow.add")
    browser.get(f"{base}/cache")
    row = wait_for(lambda: browser.find_element("css selector",
                                                'tr[data-task="consoleflow.add"]'),
                   what="add's cache row")
    shot(browser, "11-cache")
    row.find_element("tag name", "button").click()
    browser.switch_to.alert.accept()
    wait_for(lambda: not browser.find_elements("css selector",
                                               'tr[data-task="consoleflow.add"]'),
             what="the row going")
    assert store.cache_entries("consoleflow.add") == []
    browser.get(f"{base}/reproductions")
    table = wait_for(lambda: browser.find_element("id", "reproductions"), what="reproductions")
    assert f"remote-{flow}" in table.text and "differs" in table.text.lower()
    table.find_element("tag name", "summary").click()
    assert f"n2: o0 differs ({flow})" in table.text
    assert js_errors(browser) == []


def test_status_and_skiff_ui_give_the_console(sandbox_home, flow, console, browser):
    import subprocess
    import sys

    base, token = console
    skiff = str(Path(sys.executable).parent / "skiff")
    status = subprocess.run([skiff, "sandbox", "status", "--json"],
                            capture_output=True, text=True, env=dict(os.environ,
                                                                     SKIFF_HOME=sandbox_home.home))
    assert json.loads(status.stdout)["console"] == base + "/"
    assert token not in status.stdout  # the token is only in the login link
    ui = subprocess.run([skiff, "ui", "--print-only", "someid"],
                        capture_output=True, text=True,
                        env=dict(os.environ, SKIFF_HOME=sandbox_home.home))
    assert ui.returncode == 0, ui.stderr
    link = ui.stdout.strip()
    assert link.startswith(base + "/login?token=") and "next=/executions/someid" in link
    browser.get(link)
    wait_for(lambda: browser.current_url == f"{base}/executions/someid", what="the redirect")
    wait_for(lambda: "does not exist" in browser.find_element("css selector", "main").text,
             what="the unknown execution's message")
    browser.get_log("browser")  # that page's 404 is expected: not a script error


def test_recover_from_the_page_keeps_what_succeeded(sandbox_home, flow, console, browser):
    base, _ = console
    store = store_of(sandbox_home)
    failed = launch(sandbox_home, "consoleflow.fragile", flow, x=1)
    wait_for(lambda: store.execution(failed).state == "failed", what="fragile failing")
    browser.get(f"{base}/executions/{failed}")
    error = wait_for(lambda: browser.find_element("id", "execution-error"), what="the error")
    assert "ValueError: no good: 2" in error.text and "Traceback" in error.text
    click_once(browser, "recover")
    wait_for(lambda: failed not in browser.current_url, what="the recovered execution's page")
    recovered = browser.current_url.rstrip("/").rsplit("/", 1)[-1]
    wait_for(lambda: f"recovered of\n{failed}" in browser.find_element(
        "css selector", ".summary").text.lower(), what="the recovered-of link")
    wait_for(lambda: store.execution(recovered).state == "failed", what="it failing again")
    # n0 (add) was copied from the failed execution, not run again: no container, no inputs.pb.
    kept = store.node(recovered, "n0")
    assert kept.state in ("succeeded", "cached") and kept.container_id is None
    assert js_errors(browser) == []


# ---- File and Directory inputs uploaded from the launch form -------------------------------


def test_launch_with_an_uploaded_file_and_directory(sandbox_home, flow, console, browser,
                                                    tmp_path):
    import http.client

    base, _ = console
    store = store_of(sandbox_home)
    (tmp_path / "note.txt").write_text("hello from the form\n")
    folder = tmp_path / "samples"
    folder.mkdir()
    (folder / "a.csv").write_text("1\n")
    (folder / "b.csv").write_text("2\n")
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as handle:  # sparse: the browser reads only its size
        handle.truncate(65 * 1024 * 1024)

    browser.get(f"{base}/launch/{PROJECT}/{DOMAIN}/describe_lp?version={flow}")
    form = wait_for(lambda: browser.find_element("id", "launch-form"), what="the launch form")
    file_chooser = form.find_element("name", "f.upload")
    # Too large: refused with a clear message before anything is sent.
    file_chooser.send_keys(str(huge))
    form.find_element("name", "d.upload").send_keys(str(folder))
    browser.find_element("id", "launch").click()
    error = wait_for(lambda: browser.find_element("id", "launch-error"), what="the size error")
    assert "huge.bin" in error.text and "up to 64 MiB" in error.text and "s3://" in error.text
    file_chooser.clear()
    file_chooser.send_keys(str(tmp_path / "note.txt"))
    shot(browser, "12-launch-upload")
    browser.find_element("id", "launch").click()
    wait_for(lambda: "/executions/" in browser.current_url, what="the new execution's page")
    execution_id = browser.current_url.rstrip("/").rsplit("/", 1)[-1]
    wait_for(lambda: store.execution(execution_id).state in ("succeeded", "failed"),
             timeout=120, what="the described execution ending")
    assert store.execution(execution_id).state == "succeeded", \
        store.execution(execution_id).error
    wait_for(lambda: browser.find_element("css selector", "#execution-state .badge")
             .get_attribute("data-state") == "succeeded", what="succeeded on the page")
    browser.find_element("css selector", 'button[data-tab="Inputs & outputs"]').click()
    outputs = wait_for(lambda: browser.find_element("id", "outputs").text, what="outputs")
    assert "HELLO FROM THE FORM a.csv,b.csv" in outputs
    inputs = browser.find_element("id", "inputs").text
    prefix = f"s3://{sandbox_home.bucket}/raw/{PROJECT}/{DOMAIN}/console-uploads/"
    assert f"{prefix}" in inputs and "note.txt" in inputs and "/samples" in inputs
    shot(browser, "13-upload-outputs")
    assert js_errors(browser) == []

    # The server refuses too large or odd uploads itself, without reading them.
    cookie = browser.get_cookie("skiff_console")["value"]
    csrf = browser.find_element("css selector", "meta[name=csrf]").get_attribute("content")
    port = int(base.rsplit(":", 1)[1])
    for name, length, status, words in (
            ("big.bin", 65 * 1024 * 1024, 413, "up to 64 MiB"),
            ("../escape.txt", 3, 400, "not a plain relative file name")):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.putrequest("POST", f"/api/upload?name={name}&project={PROJECT}"
                                      f"&domain={DOMAIN}")
        for header, value in (("Cookie", f"skiff_console={cookie}"), ("X-Skiff-CSRF", csrf),
                              ("Origin", base), ("Content-Length", str(length)),
                              ("Content-Type", "application/octet-stream")):
            connection.putheader(header, value)
        connection.endheaders()
        response = connection.getresponse()
        body = json.loads(response.read())
        connection.close()
        assert response.status == status and words in body["error"], (name, body)
