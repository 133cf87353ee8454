"""The saga console in a real headless browser (Debian's chromium and chromedriver, driven by selenium)."""
from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from api_gateway.auth import issue_token
from devstack.procs import free_port
from devstack.threaded import ThreadedServer
from tests.integration.gateway_fixtures import SECRET, Gateway, eager_sagas, failed_saga, gateway  # noqa: F401

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage")


@pytest.fixture()
def browser() -> Iterator[Any]:
    """A headless chromium under chromedriver; skipped only where Debian's packages are not installed."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("chromium and chromium-driver are not installed (`python -m devstack system` installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    session.set_page_load_timeout(60)
    yield session
    session.quit()


@pytest.fixture()
def console_url(gateway: Gateway) -> Iterator[str]:
    """The test gateway served over real HTTP on a loopback port."""
    server = ThreadedServer(gateway.client.application, free_port())
    server.start()
    yield server.url
    server.stop()


def _go(browser: Any, element_id: str | None = None, css_class: str | None = None) -> None:
    """Click a link or button and wait until the next page replaced this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = browser.find_element(By.TAG_NAME, "html")
    target = browser.find_element(By.ID, element_id) if element_id else browser.find_element(By.CLASS_NAME, css_class)
    target.click()

    def replaced(_: Any) -> bool:
        # Mid-navigation chromium may answer "node does not belong to the document" instead of a
        # stale-element error: both mean the old page is gone.
        try:
            page.is_enabled()
        except WebDriverException:
            return True
        return False

    WebDriverWait(browser, 30).until(replaced)


def test_an_operator_finds_a_failed_saga_reads_its_attempts_and_retries_it(
        gateway: Gateway, live_participants: Any, rewire: Callable[..., Any], browser: Any,
        console_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    completed = gateway.place_order(gateway.create_user("customer")).get_json()["saga_id"]
    failed = failed_saga(gateway, live_participants, rewire)

    browser.get(f"{console_url}/console/")
    browser.find_element(By.ID, "token").send_keys(issue_token(gateway.admin.user_id, "admin", SECRET))
    _go(browser, "sign-in")
    listed = [link.text for link in browser.find_elements(By.CLASS_NAME, "saga-link")]
    assert listed == [failed, completed]

    Select(browser.find_element(By.ID, "filter-status")).select_by_value("FAILED")
    _go(browser, "apply-filters")
    assert [link.text for link in browser.find_elements(By.CLASS_NAME, "saga-link")] == [failed]

    _go(browser, css_class="saga-link")
    assert browser.find_element(By.ID, "saga-status").text == "FAILED"
    attempts = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                for row in browser.find_elements(By.CLASS_NAME, "attempt")]
    first, undo = attempts[0], attempts[-1]
    assert first[:5] == ["create_order", "action", "1", "1", "FAILED (outcome unknown)"]
    assert "503" in first[8] and first[9] == f"{failed}:create_order:action"
    assert undo[:2] == ["create_order", "compensation"] and undo[4].startswith("FAILED")

    _go(browser, "retry")  # the order service is back

    assert "Retry started" in browser.find_element(By.ID, "notice").text
    assert browser.find_element(By.ID, "saga-status").text == "COMPENSATED"
    rows = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in browser.find_elements(By.CLASS_NAME, "attempt")]
    assert rows[-1][:5] == ["create_order", "compensation", "2", "1", "DONE"], "round 2 undid the order"
    assert not browser.find_elements(By.ID, "retry")
