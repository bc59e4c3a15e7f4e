"""Accessibility checks for the browser tests: axe-core (npm, served from tests/a11y, never a
CDN) run in the page; serious and critical WCAG 2.1 A/AA violations are returned."""

from __future__ import annotations

from typing import Any

from tests.support import ROOT

ARTIFACTS = ROOT / "test-artifacts"

AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
RUN = """async () => {
  const result = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']});
  return result.violations.filter(v => ['serious', 'critical'].includes(v.impact))
    .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`);
}"""


def serious_violations(page: Any) -> list[str]:
    """The page's context must be made with bypass_csp=True: axe is injected as a script."""
    page.add_script_tag(path=str(AXE))
    return list(page.evaluate(RUN))


def overflows(page: Any) -> bool:
    """True when the page is wider than the viewport (tables scroll inside their own wrapper)."""
    return bool(page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1"))


# The widths every page is checked at: a phone (375 x 812) and a desktop (1280 x 800).
WIDTHS = ((375, 812), (1280, 800))


def check_page(page: Any, name: str, problems: dict[str, list[str]]) -> None:
    """At each of WIDTHS, a full-page screenshot as test-artifacts/<name>-<width>.png, then axe
    and the width check; what they find goes into ``problems`` under ``name`` and the width. The
    page is left at the width it came with."""
    ARTIFACTS.mkdir(exist_ok=True)
    before = page.viewport_size
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        found = serious_violations(page)
        if overflows(page):
            found.append("wider than the screen")
        if found:
            problems[f"{name} at {width} px"] = found
    if before:
        page.set_viewport_size(before)
