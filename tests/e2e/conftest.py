"""Browser tests: Playwright's sync API drives Debian's Chromium against pytest-django's live_server.

One browser per test session; a fresh context (cookies, storage) per test. There is no browser download on these
machines: the system Chromium at /usr/bin/chromium is used, and its absence is a skip (a failure in CI).
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body are still
# synchronous and safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
# The README's images: written only when UPDATE_SCREENSHOTS=1 (`make screenshots`), from the tests that take them.
README_SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(autouse=True)
def role_groups(transactional_db):
    """The role groups of migration 0002, again: live_server's transactional tests flush the database after
    each test, data migrations included."""
    from django.contrib.auth.models import Group, Permission

    from plan_admin.roles import sync_role_groups

    sync_role_groups(Group, Permission)


# What Chromium writes to the console when the Content-Security-Policy blocks something.
CSP_VIOLATION_MARKERS = ("Content Security Policy", "Content-Security-Policy")

# Reported from the page itself, so that a violation is seen even when Chromium logs nothing for it.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`Content Security Policy violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
                + ` at ${event.sourceFile || document.location.href}:${event.lineNumber}`);
});
"""


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser page; the test fails if the page logs any Content-Security-Policy violation."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if any(marker in message.text for marker in CSP_VIOLATION_MARKERS)
            else None
        ),
    )
    page.csp_violations = violations
    yield page
    context.close()
    outcome = getattr(request.node, "rep_call", None)
    if outcome is None or outcome.passed:
        assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so the `page` fixture knows whether the test itself passed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def screenshot():
    """Save a full-page screenshot to test-artifacts/screenshots/<name>.png and return its path.

    `readme=True` marks one of the README's images: with UPDATE_SCREENSHOTS=1 it is also written to
    docs/screenshots/<name>.png (`make screenshots`); otherwise docs/ is never touched.
    """

    def take(page, name: str, *, readme: bool = False) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if readme and os.environ.get("UPDATE_SCREENSHOTS") == "1":
            README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (README_SCREENSHOTS / f"{name}.png").write_bytes(path.read_bytes())
        return path

    return take
