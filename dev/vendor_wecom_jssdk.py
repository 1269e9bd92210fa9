"""Vendor WeCom's JS-SDK (`@wecom/jssdk`, the browser build that defines `window.ww`) into chalicelib/web.

    npm pack @wecom/jssdk                                    # writes wecom-jssdk-<version>.tgz (nothing is installed)
    .venv/bin/python -m dev.vendor_wecom_jssdk wecom-jssdk-<version>.tgz

Takes `dist/wecom.global.prod.js` (the minified IIFE build; the ES module builds need a bundler) and writes it as
chalicelib/web/wecom-jssdk.js under a one-line header naming the version, and the licence beside it as
wecom-jssdk.LICENSE.txt. The package declares the MIT licence (package.json) but ships no licence file, so the
licence text is MIT's with the copyright holder the package's repository names. Run it again to move to another
version.
"""
from __future__ import annotations

import argparse
import json
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "chalicelib" / "web" / "wecom-jssdk.js"
LICENCE_OUT = ROOT / "chalicelib" / "web" / "wecom-jssdk.LICENSE.txt"
BUILD = "package/dist/wecom.global.prod.js"
MIT = """MIT License

Copyright (c) Tencent WeCom (https://github.com/TencentWecom/wecom-jssdk)

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def build(tarball: Path) -> tuple[str, str]:
    """(the script, the licence text) from an `npm pack @wecom/jssdk` tarball."""
    with tarfile.open(tarball) as archive:
        def read(name: str) -> str:
            member = archive.extractfile(name)
            if member is None:
                raise SystemExit(f"{tarball} has no {name}")
            return member.read().decode("utf-8")

        package = json.loads(read("package/package.json"))
        if package.get("name") != "@wecom/jssdk" or package.get("license") != "MIT":
            raise SystemExit(f"{tarball} is not @wecom/jssdk under the MIT licence")
        script = read(BUILD)
    header = (f"/*! @wecom/jssdk {package['version']} (npm, {BUILD.removeprefix('package/')}), vendored by "
              "dev/vendor_wecom_jssdk.py. MIT licence: wecom-jssdk.LICENSE.txt */")
    return f"{header}\n{script.rstrip()}\n", MIT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", type=Path, help="the file `npm pack @wecom/jssdk` wrote")
    args = parser.parse_args()
    script, licence = build(args.tarball)
    OUT.write_text(script, encoding="utf-8")
    LICENCE_OUT.write_text(licence, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(script.encode()):,} bytes) and {LICENCE_OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
