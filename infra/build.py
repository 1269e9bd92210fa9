"""Render the infrastructure for a stage: the IAM policy files and the CloudFormation (SAM) package.

    python -m infra.build policies            # rewrite .chalice/policy-<stage>.json for every stage
    python -m infra.build package --stage dev # chalice package merged with infra.resources into build/<stage>/
    python -m infra.build merge --stage dev   # print only the merge template

Deploy the package with `aws cloudformation package` + `deploy` (see docs/operations.md).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from infra.resources import ROOT, chalice_config

STAGES = ("local", "dev", "prod")


def load_app(stage: str):
    """The Chalice app as `chalice package` sees it: imported with the stage's environment variables."""
    os.environ.update(chalice_config()["stages"][stage].get("environment_variables", {}))
    sys.path.insert(0, str(ROOT))
    import app

    return app.app


def policy_path(stage: str) -> Path:
    return ROOT / ".chalice" / f"policy-{stage}.json"


def render_policy(stage: str) -> str:
    from infra.policy import iam_policy

    return json.dumps(iam_policy(stage), indent=2) + "\n"


def write_policies() -> None:
    for stage in STAGES:
        policy_path(stage).write_text(render_policy(stage))
        print(f"wrote {policy_path(stage).relative_to(ROOT)}", flush=True)


def render_merge_template(stage: str) -> str:
    from infra.resources import merge_template

    return json.dumps(merge_template(stage, load_app(stage)), indent=2, ensure_ascii=False)


def package(stage: str, out_dir: Path) -> Path:
    """Run `chalice package` with our merge template; returns the SAM template's path.

    Both steps run in child processes: importing the app for a stage sets that stage's environment variables.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    merge_file = out_dir / "merge.json"
    env = dict(os.environ, AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION", "ap-southeast-1"))
    merge = subprocess.run([sys.executable, "-m", "infra.build", "merge", "--stage", stage],
                           cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    merge_file.write_text(merge.stdout)
    print(f"packaging stage {stage} into {out_dir} ...", flush=True)
    subprocess.run(
        [str(Path(sys.executable).parent / "chalice"), "package", "--stage", stage,
         "--merge-template", str(merge_file), str(out_dir / "package")],
        cwd=ROOT, env=env, check=True,
    )
    return out_dir / "package" / "sam.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["policies", "package", "merge"])
    parser.add_argument("--stage", choices=STAGES, default="dev")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.command == "policies":
        write_policies()
    elif args.command == "merge":
        print(render_merge_template(args.stage))
    else:
        print(package(args.stage, args.out or ROOT / "build" / args.stage))


if __name__ == "__main__":
    main()
