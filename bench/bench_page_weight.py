"""Page weight: what a phone downloads to show 与我协作, the invitation page and the members' workspace, as served.

Each page is fetched through the app's own routes (Chalice's test client: the same handlers and headers as API
Gateway + Lambda), then every asset it links to. Sizes are printed raw and gzipped (level 6, what API Gateway's
compression and most CDNs use); the figure that matters is the raw total against the page's target (< 100 KB before gzip for the
contacts' pages, < 150 KB for the workspace and the admin console, which also load the WeUI subset; images excluded — the pages have none).
The ratio printed is total / target: below 1.0 passes.

    .venv/bin/python bench/bench_page_weight.py [--smoke]

It has no sizes to shrink: its smoke run (`--smoke`, taken for the same interface as the other benches) is the
whole bench, a second or two.
"""
from __future__ import annotations

import argparse
import gzip
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_DEFAULT_REGION", "ap-southeast-1")

KB = 1024
# title → (path, target in bytes). Every workspace path serves the same page; two depths are measured.
PAGES = {"external home": ("/mobile/wechat/external/home?tenantKey=tndemo0001", 100 * KB),
         "invitation": ("/mobile/wechat/external/invite?tenantKey=tndemo0001&token=x", 100 * KB),
         "workspace list": ("/directory/contacts?tenantKey=tndemo0001", 150 * KB),
         "workspace card": ("/directory/contacts/c-1?tenantKey=tndemo0001", 150 * KB),
         # the admin console: the workspace page plus admin.js, under the workspace's budget
         "admin console": ("/admin/console/settings?tenantKey=tndemo0001", 150 * KB),
         "admin tree": ("/admin/console/directory?tenantKey=tndemo0001", 150 * KB),
         "admin accounts": ("/admin/console/accounts?tenantKey=tndemo0001", 150 * KB)}
ASSETS = "/mobile/wechat/external/assets/"


def fetch(client, path: str) -> bytes:
    reply = client.http.get(path)
    if reply.status_code != 200:
        raise SystemExit(f"FAIL: GET {path} answered {reply.status_code}")
    return reply.body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="the same run: this bench is small already")
    parser.parse_args()
    from chalice.test import Client

    from app import app

    verdicts = []
    with Client(app, stage_name="local") as client:
        for title, (path, target) in PAGES.items():
            html = fetch(client, path)
            files = [(path.split("?")[0].rsplit("/", 1)[-1] + " (html)", html)]
            for name, version in re.findall(rb'(?:src|href)="(?:\.\./)*(?:mobile/wechat/external/)?assets/'
                                            rb'([a-z0-9.-]+)\?v=([0-9a-f]+)"', html):
                files.append((name.decode(), fetch(client, f"{ASSETS}{name.decode()}?v={version.decode()}")))
            print(f"== {title} page: {len(files)} requests")
            raw_total = gzip_total = 0
            for name, body in files:
                packed = len(gzip.compress(body, compresslevel=6))
                raw_total += len(body)
                gzip_total += packed
                print(f"  {name:<18} {len(body):>8,} B raw {packed:>8,} B gzipped")
            ratio = raw_total / target
            verdicts.append(ratio < 1)
            print(f"  {'total':<18} {raw_total:>8,} B raw {gzip_total:>8,} B gzipped "
                  f"({raw_total / 1024:.1f} KB raw, {gzip_total / 1024:.1f} KB gzipped)")
            print(f"  ratio raw total / target {target // KB} KB: {ratio:.2f} — {'meets' if ratio < 1 else 'MISSES'} "
                  "the target")
    if not all(verdicts):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
