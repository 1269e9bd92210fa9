"""Vendor WeUI's CSS into chalicelib/web/weui.css: the widgets the member workspace uses, light theme, one licence header.

    npm pack weui@2.6.26                                     # writes weui-2.6.26.tgz (nothing is installed)
    .venv/bin/python -m dev.vendor_weui weui-2.6.26.tgz

WeUI ships each widget as its own minified file (dist/style/widget/...), each repeating the CSS variables it needs
for the light and both dark themes; the whole weui.min.css is 188 KB, more than a page may weigh. This keeps the base
and the widgets listed in WIDGETS, drops every rule already kept (the repeated variables) and the dark-theme rules
(app.css has no dark theme either), and the selectors naming a WeUI class no page script uses (`used_classes`: the
`weui-…` names in chalicelib/web/*.js; one ending in `_`, like `weui-btn_`, stands for every modifier it is joined
to), and writes one file under WeUI's own licence header; the licence text goes beside it as weui.LICENSE.txt. Run it
again to move to another WeUI version, or when a script starts using a WeUI class.
"""
from __future__ import annotations

import argparse
import re
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "chalicelib" / "web" / "weui.css"
LICENCE_OUT = ROOT / "chalicelib" / "web" / "weui.LICENSE.txt"
STYLE = "package/dist/style/"
WIDGETS = ("base/base", "widget/weui-cell/weui-cell", "widget/weui-cell/weui-cell-form",
           "widget/weui-button/weui-button", "widget/weui-searchbar/weui-searchbar", "widget/weui-tab/weui-tab",
           "widget/weui-tips/weui-badge")
HEADER = re.compile(r"^/\*!.*?\*/", re.S)
WEUI_CLASS = re.compile(r"weui-[A-Za-z0-9_-]*[A-Za-z0-9_]")


def top_level_rules(css: str) -> list[str]:
    """The file's top-level rules (an @media block is one rule), in order."""
    rules, depth, start = [], 0, 0
    for index, char in enumerate(css):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                rules.append(css[start:index + 1])
                start = index + 1
    return rules


def used_classes(scripts: Path = ROOT / "chalicelib" / "web") -> frozenset[str]:
    """Every WeUI class name the page scripts write (a trailing `_` marks a prefix joined to a modifier)."""
    return frozenset(name for script in sorted(scripts.glob("*.js"))
                     for name in WEUI_CLASS.findall(script.read_text(encoding="utf-8")))


def _is_used(name: str, used: frozenset[str]) -> bool:
    return name in used or any(prefix.endswith("_") and name.startswith(prefix) for prefix in used)


def keep_used(rule: str, used: frozenset[str]) -> str | None:
    """The rule with only the selectors whose WeUI classes the pages use (an at-rule: its inner rules, filtered),
    or None when nothing is left."""
    head, body = rule.split("{", 1)
    if head.startswith("@"):
        inner = [kept for kept in (keep_used(r, used) for r in top_level_rules(body[:-1])) if kept]
        return f"{head}{{{''.join(inner)}}}" if inner else None
    selectors = [selector for selector in head.split(",")
                 if all(_is_used(name, used) for name in WEUI_CLASS.findall(selector))]
    return f"{','.join(selectors)}{{{body}" if selectors else None


def is_dark(rule: str) -> bool:
    return 'data-weui-theme="dark"' in rule.split("{", 1)[0] or rule.startswith("@media (prefers-color-scheme:dark)")


def build(tarball: Path) -> tuple[str, str]:
    """(the subset's CSS, the licence text) from an `npm pack weui` tarball."""
    with tarfile.open(tarball) as archive:
        def read(name: str) -> str:
            member = archive.extractfile(name)
            if member is None:
                raise SystemExit(f"{tarball} has no {name}")
            return member.read().decode("utf-8")

        version = re.search(r'"version":\s*"([^"]+)"', read("package/package.json")).group(1)
        licence = read("package/LICENSE.txt")
        header, seen, kept, used = None, set(), [], used_classes()
        for widget in WIDGETS:
            css = read(f"{STYLE}{widget}.min.css")
            header = header or HEADER.match(css).group(0)
            for rule in top_level_rules(HEADER.sub("", css).strip()):
                if rule in seen or is_dark(rule):
                    continue
                seen.add(rule)
                if (used_rule := keep_used(rule, used)) is not None:
                    kept.append(used_rule)
    note = (f"/* Subset vendored by dev/vendor_weui.py from weui-{version}.tgz (npm): "
            f"{', '.join(w.rsplit('/', 1)[-1] for w in WIDGETS)}; light theme; the classes the pages use. "
            "Licence: weui.LICENSE.txt */")
    return f"{header}\n{note}\n{''.join(kept)}\n", licence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", type=Path, help="the file `npm pack weui` wrote")
    args = parser.parse_args()
    css, licence = build(args.tarball)
    OUT.write_text(css, encoding="utf-8")
    LICENCE_OUT.write_text(licence, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(css.encode()):,} bytes) and {LICENCE_OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
