"""axe-core (vendored from the npm registry in tests/e2e/static, never a CDN) and the
no-sideways-scroll check, run on a Playwright page as it stands."""

from pathlib import Path

AXE = Path(__file__).resolve().parent / "static" / "axe.min.js"
BLOCKING = {"serious", "critical"}
_source = None


def axe_violations(page, context: str = "document") -> list[str]:
    """Serious and critical axe-core violations on the page (or within `context`)."""
    global _source
    if _source is None:
        _source = AXE.read_text(encoding="utf-8")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_source)  # evaluated, not a <script>: no CSP or network involved
    result = page.evaluate(
        "async (selector) => await axe.run(selector === 'document' ? document : document.querySelector(selector),"
        " {resultTypes: ['violations']})",
        context,
    )
    found = []
    for violation in result["violations"]:
        if violation["impact"] in BLOCKING:
            targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
    return found


def sideways_overflow(page) -> int:
    """How many CSS pixels the page scrolls sideways (0 when it fits the window)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


def overflowing_elements(page, limit: int = 3) -> list[str]:
    """The deepest elements reaching past the window's right edge, to say what to fix."""
    return page.evaluate(
        """(limit) => {
          const out = [];
          for (const el of document.querySelectorAll("body *")) {
            const r = el.getBoundingClientRect();
            if (r.width && r.right > window.innerWidth + 0.5 &&
                ![...el.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5)) {
              out.push(el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ?
                "." + el.className.trim().split(/\\s+/).join(".") : "") + " → " + Math.round(r.right) + "px");
              if (out.length >= limit) break;
            }
          }
          return out;
        }""",
        limit,
    )
