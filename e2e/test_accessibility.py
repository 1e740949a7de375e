"""Every page of every role, on a desktop (1280 wide) and a phone (390 wide):
axe-core finds no serious or critical violation and no page scrolls sideways.

The pages come from the app's own routes (``flask routes``): every GET route
without parameters, and for each route with parameters one concrete URL taken
from the links on the pages already visited (or reached by the form that leads
there). A new route that no role can reach fails the test until it is added
here, so new pages are not forgotten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from e2e.conftest import (
    AXE_FAILING_IMPACTS,
    axe_violations,
    load_axe_on_every_page,
    sign_in,
)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

ROLES = [
    ("anonymous", None),
    # The demo customer owns (administers) their workspace.
    ("customer", "customer@example.com"),
    ("partner", "partner@example.com"),
    ("editor", "editor@example.com"),
    ("admin", "admin@example.com"),
]

# GET routes that answer something other than a page for a person to read.
NOT_PAGES = {
    "static", "observability.healthz", "observability.readyz", "observability.metrics",
    "search.suggest", "revenue.export", "revenue.export_summary", "collections.search",
    "storefront.screenshot", "editor.screenshot", "partner.screenshot_file",
    "storefront.icon", "storefront.generated_icon", "partner.icon_file",
    "findable.sitemap", "findable.sitemap_part", "findable.robots", "findable.favicon",
}
# Pages no journey of the demo catalog can reach, and why.
UNREACHABLE = {
    # Shown only while a payment provider has not confirmed a checkout yet; the
    # local provider confirms at once.
    "billing.checkout_pending",
}
# Routes whose only parameter is a token from a mail: an unknown token still
# renders a page (the "link is not valid" one), which is checked like any other.
TOKEN = "not-a-valid-token"
# A paid app without a trial by the demo partner: buying it gives the customer
# an install, a checkout and an invoice to look at.
PAID_SLUG = "payline-commissions"
# A paid app with a free trial: its consent page is still there after the purchase.
TRIAL_SLUG = "sequence-studio"


@dataclass
class Route:
    endpoint: str
    rule: str

    @property
    def pattern(self) -> re.Pattern:
        """The rule as a regular expression for paths (``<int:x>`` -> digits)."""
        parts = re.split(r"(<[^>]+>)", self.rule)
        regex = "".join(
            (r"\d+" if part.startswith("<int:") else r"[^/]+") if part.startswith("<")
            else re.escape(part) for part in parts)
        return re.compile(f"^{regex}$")

    @property
    def has_params(self) -> bool:
        return "<" in self.rule


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # "role width path" -> violations
    reached: set[str] = field(default_factory=set)  # endpoints with a page checked


def page_routes(live_server) -> list[Route]:
    """The app's GET routes that serve pages, from ``flask routes``."""
    output = live_server.flask("routes", "--sort", "rule").stdout
    routes = []
    for line in output.splitlines()[2:]:
        endpoint, methods, rule = re.match(r"^(\S+)\s+(.+?)\s+(/\S*)\s*$", line).groups()
        if "GET" in methods and endpoint not in NOT_PAGES and not endpoint.startswith("api."):
            routes.append(Route(endpoint, rule))
    assert routes, output
    return routes


def check_both_widths(page, label: str, findings: Findings) -> None:
    """axe and the sideways-scroll check on ``page`` (just loaded at desktop
    width), then reloaded at phone width, so what scripts set up on load for a
    phone is there too."""
    path = urlsplit(page.url).path
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        if viewport is PHONE:
            page.set_viewport_size(viewport)
            page.reload()
        failing = [v for v in axe_violations(page) if v["impact"] in AXE_FAILING_IMPACTS]
        findings.counts[f"{label} {name} {path}"] = len(failing)
        for violation in failing:
            findings.problems.append(
                f"{label} {name} {path}: {violation['impact']} {violation['id']} "
                f"({violation['help']}) -> {', '.join(violation['targets'][:3])}")
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]")
        if widths[0] > widths[1]:
            findings.problems.append(f"{label} {name} {path}: scrolls sideways "
                                     f"({widths[0]} px wide in a {widths[1]} px window)")
    page.set_viewport_size(DESKTOP)


def links_on(page) -> list[str]:
    return page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")


def visit_role(page, label: str, routes: list[Route], findings: Findings,
               extra_urls: list[str]) -> None:
    """Check every page ``label`` can reach: the routes without parameters, the
    ``extra_urls``, then one linked URL per route with parameters."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    todo = [route.rule for route in routes if not route.has_params]
    todo += [re.sub(r"<[^>]+>", TOKEN, route.rule) for route in routes
             if route.has_params and re.fullmatch(r"[^<]*<token>[^<]*", route.rule)]
    todo += extra_urls
    seen_paths: set[str] = set()
    error_pages: set[int] = set()
    covered: set[str] = set()
    while todo:
        url = todo.pop(0)
        response = page.goto(urljoin(origin, url))
        for route in routes:  # the route answered, whatever page it led to
            if route.pattern.match(urlsplit(urljoin(origin, url)).path):
                findings.reached.add(route.endpoint)
        if response and not response.headers.get("content-type", "").startswith("text/html"):
            continue  # a file (an icon, a sitemap), not a page
        path = urlsplit(page.url).path
        status = response.status if response else 200
        # A redirect (to sign-in, say) lands on a page already checked; an error page
        # ("not allowed") is checked once per role.
        if path in seen_paths or (status >= 400 and status in error_pages):
            continue
        seen_paths.add(path)
        if status >= 400:
            error_pages.add(status)
        check_both_widths(page, label, findings)
        for route in routes:
            if route.pattern.match(path):
                findings.reached.add(route.endpoint)
                covered.add(route.endpoint)
        for href in links_on(page):
            parts = urlsplit(href)
            if f"{parts.scheme}://{parts.netloc}" != origin:
                continue
            for route in routes:
                if (route.has_params and route.endpoint not in covered
                        and route.endpoint not in NOT_PAGES and route.pattern.match(parts.path)):
                    covered.add(route.endpoint)
                    todo.append(parts.path)


def buy_paid_app(page) -> list[str]:
    """As the customer: buy the paid app through the simulated checkout, so the
    billing and installed-app pages have something on them. Returns the URLs of
    the pages passed on the way that no link leads to."""
    page.goto(f"/apps/{PAID_SLUG}/install")
    page.locator("main form[method=post] button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/billing/local-checkout/"))
    checkout = page.url
    page.get_by_role("button", name="Pay (simulated)").click()
    page.wait_for_url(re.compile(r"/installed"))
    installed = page.url
    page.goto("/my/billing")
    page.get_by_role("button", name="Manage cards and invoices").click()
    page.wait_for_url(re.compile(r"/billing/local-portal/"))
    return [checkout, installed, page.url]


def start_payouts(page) -> list[str]:
    """As the partner: the simulated payouts onboarding page, and a test event
    sent to a listing's webhook (so there is a delivery to look at)."""
    page.goto("/partner/payouts")
    page.get_by_role("button", name=re.compile("Set up payouts|Continue setup")).click()
    page.wait_for_url(re.compile(r"/billing/local-onboarding/"))
    onboarding = page.url
    page.goto("/partner/")
    detail = next(path for path in map(lambda href: urlsplit(href).path, links_on(page))
                  if re.fullmatch(r"/partner/listings/\d+", path))
    page.goto(detail + "/webhooks")
    send = page.get_by_role("button", name="Send test event")
    if send.count():
        send.click()
        page.wait_for_load_state()
    return [onboarding, page.url]


def linked_from(page, urls: list[str], pattern: str) -> list[str]:
    """The first link matching ``pattern`` on any of ``urls`` (none when none has one)."""
    for url in urls:
        page.goto(url)
        for href in links_on(page):
            if re.search(pattern, urlsplit(href).path):
                return [urlsplit(href).path]
    return []


def test_every_page_of_every_role_passes_axe_and_fits_a_phone(browser, own_live_server):
    routes = page_routes(own_live_server)
    findings = Findings()
    # A recorded prune preview, so the editor has a run to open.
    own_live_server.flask("listings", "prune", "--dry-run")
    for label, email in ROLES:
        context = browser.new_context(base_url=own_live_server, viewport=DESKTOP)
        context.set_default_timeout(15_000)
        load_axe_on_every_page(context)
        page = context.new_page()
        if email:
            sign_in(page, email)
        else:
            page.goto("/")
        extra = [f"/apps/{PAID_SLUG}/reviews", f"/apps/{TRIAL_SLUG}/install"]
        if label == "customer":
            extra += buy_paid_app(page)
        elif label == "partner":
            extra += start_payouts(page)
            page.goto("/partner/")
            edits = [urlsplit(href).path + "/edit" for href in links_on(page)
                     if re.fullmatch(r"/partner/listings/\d+", urlsplit(href).path)]
            extra += linked_from(page, edits, r"^/partner/listings/\d+/plans/\d+$")
        visit_role(page, label, routes, findings, extra)
        context.close()

    unreached = sorted(route.endpoint for route in routes
                       if route.endpoint not in findings.reached | UNREACHABLE)
    summary = "\n".join(f"  {key}: {count}" for key, count in sorted(findings.counts.items()) if count)
    assert not findings.problems and not unreached, (
        f"{len(findings.problems)} problems on {len(findings.counts)} page checks:\n"
        + "\n".join(findings.problems) + "\nserious/critical per page:\n" + summary
        + f"\nno role reached these pages (link them, or add them here): {unreached}")


def listing_slugs(page) -> list[str]:
    """Every published app, from the search page's pages (all apps, newest first)."""
    slugs: list[str] = []
    number = 1
    while True:
        page.goto(f"/search?page={number}")
        found = page.eval_on_selector_all(
            ".search-results .search-result", "cards => cards.map(c => c.dataset.slug)")
        if not found:
            return slugs
        slugs += found
        number += 1


def test_on_a_phone_every_listing_shows_its_install_button_and_price_without_scrolling(page):
    page.set_viewport_size(PHONE)
    slugs = listing_slugs(page)
    assert len(slugs) >= 20, slugs
    below_the_fold = []
    for slug in slugs:
        page.goto(f"/apps/{slug}")
        aside = page.locator(".listing-aside")
        control = aside.locator("form button[type=submit], .install-state").first
        price = aside.locator("dt", has_text=re.compile(r"^\s*Price\s*$")).locator(
            "xpath=following-sibling::dd[1]")
        for name, element in (("install button", control), ("price", price)):
            box = element.bounding_box()
            if box is None or box["y"] < 0 or box["y"] + box["height"] > PHONE["height"]:
                below_the_fold.append(f"{slug}: {name} at {box}")
    assert not below_the_fold, below_the_fold
