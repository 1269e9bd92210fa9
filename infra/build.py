"""Render a stage for AWS: the CloudFormation (SAM) template and the Lambda package, reproducibly.

    python -m infra.build package --stage prod   # build/prod/package/{sam.json,deployment.zip}
    python -m infra.build merge --stage dev      # print only the merge template
    python -m infra.build lock                   # rewrite requirements.lock from requirements.txt

The package is built for the runtime, not for this machine: the runtime dependencies are the wheels pinned with
their hashes in `requirements.lock`, for Linux x86_64 and CPython 3.12 (`pip --platform manylinux2014_x86_64
--python-version 3.12 --only-binary=:all:`), whatever Python runs the build. Bytecode is compiled by a Python 3.12
interpreter when one is found (`PYTHON312`, `python3.12` on PATH, pyenv) as unchecked-hash .pyc files, which
Lambda's read-only /var/task uses as they are; without one a dev package ships sources only (each cold start then
compiles what it imports) and a prod package is refused. Of botocore's service models only those of the services
the functions call (`AWS_SERVICES`) are shipped; that installed tree is kept under `build/dependencies/<key of the
lock and the services>` and reused by the next build (`make clean` drops it). The zip's entries are sorted with fixed dates and
permissions, so two builds of the same commit produce the same bytes.

Deploy with `make deploy STAGE=...` (docs/deploy.md).
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from infra.resources import LAMBDA_RUNTIME, ROOT, chalice_config, finalise

STAGES = ("local", "dev", "prod")
PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = LAMBDA_RUNTIME.removeprefix("python")  # "3.12"
LOCK = ROOT / "requirements.lock"
DEPENDENCIES_CACHE = ROOT / "build" / "dependencies"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 6  # zlib's default: a quarter of level 9's time for a zip 0.7 % larger (11.6 MB against 11.5 MB)
APP_SOURCES = ("app.py", "chalicelib")
# The AWS services the functions make clients for (`chalicelib.core.aws.client`, PynamoDB's DynamoDB): the package
# keeps botocore's data for these alone.
AWS_SERVICES = ("dynamodb", "secretsmanager", "sqs", "ssm")


class BuildError(Exception):
    """A build prerequisite is missing; the message says what to do."""


def load_app(stage: str):
    """The Chalice app as `chalice package` sees it: imported with the stage's environment variables."""
    os.environ.update(chalice_config()["stages"][stage].get("environment_variables", {}))
    sys.path.insert(0, str(ROOT))
    import app

    return app.app


def render_merge_template(stage: str) -> str:
    from infra.resources import merge_template

    return json.dumps(merge_template(stage, load_app(stage)), indent=2, ensure_ascii=False)


def _pip(*args: str) -> None:
    answer = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                            capture_output=True, text=True)
    if answer.returncode != 0:
        raise BuildError(f"pip {args[0]} failed:\n{answer.stderr.strip()}")


def _target_wheels() -> list[str]:
    return ["--platform", PLATFORM, "--python-version", PYTHON_VERSION, "--implementation", "cp",
            "--only-binary=:all:"]


def write_lock(requirements: Path = ROOT / "requirements.txt", lock: Path = LOCK) -> None:
    """Resolve requirements.txt for the runtime's platform and pin every distribution with its wheel's hash."""
    report = lock.with_suffix(".report.json")
    try:
        _pip("install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report), *_target_wheels(),
             "-r", str(requirements))
        installs = json.loads(report.read_text())["install"]
    finally:
        report.unlink(missing_ok=True)
    lines = [f"# The runtime dependencies as deployed: {requirements.name} resolved for {LAMBDA_RUNTIME} on {PLATFORM},",
             "# one wheel each, with its hash. Regenerate with `make lock` after changing requirements.txt.", ""]
    for item in sorted(installs, key=lambda entry: entry["metadata"]["name"].lower()):
        digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
        lines.append(f"{item['metadata']['name']}=={item['metadata']['version']} --hash=sha256:{digest}")
    lock.write_text("\n".join(lines) + "\n")


def find_python312() -> str | None:
    """A Python 3.12 interpreter to compile the bytecode with, or None."""
    candidates = [os.environ.get("PYTHON312"), shutil.which("python3.12"), "/usr/bin/python3.12",
                  "/usr/local/bin/python3.12", *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")))]
    for candidate in filter(None, candidates):
        try:
            answer = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
                                    capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if answer.stdout.strip() == "True":
            return candidate
    return None


def _install_dependencies(target: Path) -> None:
    if not LOCK.exists():
        raise BuildError("requirements.lock is missing: run `make lock`")
    _pip("install", "--quiet", "--no-deps", "--no-compile", "--require-hashes", "--target", str(target),
         *_target_wheels(), "-r", str(LOCK))
    for leftover in list(target.glob("bin")) + list(target.rglob("__pycache__")):
        shutil.rmtree(leftover)


def _keep_used_botocore_data(tree: Path) -> None:
    """Remove botocore's models of the services no function calls. botocore's loader checks a service is known by
    listing every service directory of its data path, twice per session (service and endpoint-rule models): over
    the ~440 services a full botocore ships that is about a thousand directory listings and three thousand stats
    in each cold start, and 26 of the package's 27 MB."""
    data = tree / "botocore" / "data"
    missing = [service for service in AWS_SERVICES if not (data / service).is_dir()]
    if missing:
        raise BuildError(f"botocore has no data for {missing}: check AWS_SERVICES in infra/build.py")
    for entry in data.iterdir():
        if entry.is_dir() and entry.name not in AWS_SERVICES:
            shutil.rmtree(entry)


def _dependencies() -> Path:
    """The lock's wheels installed for the runtime, with only the used botocore data. Installing them, hashes
    checked, is most of a build's time, and the result depends only on the lock and the service list: it is built once
    per pair, under a key made of both, and published by an atomic rename so that concurrent builds never see half
    a tree."""
    key = hashlib.sha256(LOCK.read_bytes() + "\n".join(AWS_SERVICES).encode()).hexdigest()[:16]
    tree = DEPENDENCIES_CACHE / key
    if not tree.is_dir():
        DEPENDENCIES_CACHE.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=DEPENDENCIES_CACHE, prefix=".staging-"))
        try:
            _install_dependencies(staging)
            _keep_used_botocore_data(staging)
            staging.rename(tree)
        except OSError:
            if not tree.is_dir():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return tree


def _compile(tree: Path, python: str) -> None:
    """Bytecode for every module, checked against nothing at import (the package is immutable once deployed)."""
    subprocess.run([python, "-m", "compileall", "-q", "-j", "1", "--invalidation-mode", "unchecked-hash",
                    "-s", str(tree), "-p", "/var/task", str(tree)],
                   check=True, env={"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0"})


def _write_zip(tree: Path, zip_path: Path) -> None:
    """The same bytes for the same files: sorted entries, fixed dates and permissions."""
    files = sorted(path for path in tree.rglob("*") if path.is_file())
    zip_path.unlink(missing_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), date_time=ZIP_DATE)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=ZIP_LEVEL)


def _chalice_package(stage: str, out_dir: Path, merge_file: Path, env: dict) -> Path:
    """`chalice package` on a copy of the app with no requirements: Chalice contributes the template and its
    runtime module; the dependencies come from the lock instead of Chalice's own (host-Python) download."""
    source = out_dir / "source"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    shutil.copytree(ROOT / ".chalice", source / ".chalice", ignore=shutil.ignore_patterns("deployments", "venv"))
    shutil.copy2(ROOT / "app.py", source / "app.py")
    shutil.copytree(ROOT / "chalicelib", source / "chalicelib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (source / "requirements.txt").write_text("")
    package_dir = out_dir / "package"
    shutil.rmtree(package_dir, ignore_errors=True)
    subprocess.run([str(Path(sys.executable).parent / "chalice"), "package", "--stage", stage,
                    "--merge-template", str(merge_file), str(package_dir)],
                   cwd=source, env=env, check=True, stdout=subprocess.DEVNULL)
    return package_dir


def package(stage: str, out_dir: Path, *, allow_no_bytecode: bool | None = None) -> Path:
    """Build the stage's template and zip into `out_dir/package`; returns the SAM template's path.

    The merge template is rendered in a child process: importing the app for a stage sets that stage's environment.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    python312 = find_python312()
    if python312 is None and not (stage != "prod" if allow_no_bytecode is None else allow_no_bytecode):
        raise BuildError(f"no Python {PYTHON_VERSION} found to compile the {stage} package's bytecode: install it or "
                         "set PYTHON312=/path/to/python3.12")
    env = dict(os.environ, AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION", "ap-southeast-1"))
    merge = subprocess.run([sys.executable, "-m", "infra.build", "merge", "--stage", stage],
                           cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    merge_file = out_dir / "merge.json"
    merge_file.write_text(merge.stdout)
    print(f"packaging stage {stage} into {out_dir} ...", file=sys.stderr, flush=True)
    package_dir = _chalice_package(stage, out_dir, merge_file, env)
    sam = package_dir / "sam.json"
    sam.write_text(json.dumps(finalise(json.loads(sam.read_text())), indent=2, ensure_ascii=False) + "\n")
    tree = out_dir / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    with zipfile.ZipFile(package_dir / "deployment.zip") as chalice_zip:
        chalice_zip.extractall(tree)
    shutil.copytree(_dependencies(), tree, dirs_exist_ok=True)
    if python312:
        _compile(tree, python312)
    else:
        print(f"warning: no Python {PYTHON_VERSION} found: the package ships no bytecode", file=sys.stderr)
    _write_zip(tree, package_dir / "deployment.zip")
    shutil.rmtree(tree)
    shutil.rmtree(out_dir / "source")
    digest = hashlib.sha256((package_dir / "deployment.zip").read_bytes()).hexdigest()
    print(f"deployment.zip sha256 {digest} ({'with' if python312 else 'without'} {PYTHON_VERSION} bytecode)",
          file=sys.stderr, flush=True)
    return package_dir / "sam.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["package", "merge", "lock"])
    parser.add_argument("--stage", choices=STAGES, default="dev")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    try:
        if args.command == "lock":
            write_lock()
        elif args.command == "merge":
            print(render_merge_template(args.stage))
        else:
            print(package(args.stage, args.out or ROOT / "build" / args.stage))
    except BuildError as err:
        sys.exit(f"error: {err}")
    except subprocess.CalledProcessError as err:
        sys.exit(f"error: {' '.join(map(str, err.cmd[:3]))} ... failed with exit status {err.returncode}")


if __name__ == "__main__":
    main()
