"""Cold start of a packaged app with and without the byte-code ``faas-bridge package`` ships.

    python benchmarks/cold_start.py [--python 3.10] [--runs 15]

Builds the Flask and FastAPI examples with ``faas-bridge package`` for the target Python
(an interpreter of that version must be found, as for byte-code), unpacks each zip twice,
once as built and once with every ``__pycache__`` removed, and times ``import index`` in
fresh ``python -B -I -S`` processes from each copy: the clouds unpack code into a read-only
folder (``-B`` writes nothing, like it), so without shipped byte-code every cold start
compiles every module again. Prints the median of each and the ratio with/without;
targets: at most 0.5 for Flask, 0.6 for FastAPI. Plain timing, no plugin; runs alternate so
a busy machine slows both sides alike.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faas_bridge.package import build_package  # noqa: E402
from faas_bridge.package.deps import find_interpreter  # noqa: E402

TARGETS = {"flask_app": 0.5, "fastapi_app": 0.6}
TIMER = (
    "import sys, time; sys.path.insert(0, sys.argv[1]); start = time.perf_counter();"
    " import index; print(time.perf_counter() - start)"
)


def _unpack(archive: Path, folder: Path, *, bytecode: bool) -> Path:
    with zipfile.ZipFile(archive) as source:
        source.extractall(folder)
    if not bytecode:
        for cache in sorted(folder.rglob("__pycache__"), reverse=True):
            shutil.rmtree(cache)
    for path in folder.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)  # read-only, as on the clouds
    return folder


def _import_seconds(interpreter: str, folder: Path) -> float:
    completed = subprocess.run(
        [interpreter, "-B", "-I", "-S", "-c", TIMER, str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(completed.stdout.split()[-1])


def measure(example: str, python: str, interpreter: str, runs: int, work: Path) -> float:
    """Print the medians for one example; return the ratio with/without byte-code."""
    result = build_package(
        ROOT / "examples" / example,
        platform="tencent",
        python=python,
        output_path=work / f"{example}.zip",
    )
    with_pyc = _unpack(result.path, work / f"{example}-pyc", bytecode=True)
    without = _unpack(result.path, work / f"{example}-src", bytecode=False)
    timings: dict[bool, list[float]] = {True: [], False: []}
    _import_seconds(interpreter, with_pyc)  # warm the OS file cache for both copies
    _import_seconds(interpreter, without)
    for _ in range(runs):
        timings[True].append(_import_seconds(interpreter, with_pyc))
        timings[False].append(_import_seconds(interpreter, without))
    fast, slow = (statistics.median(timings[flag]) for flag in (True, False))
    ratio = fast / slow
    verdict = "ok" if ratio <= TARGETS[example] else "ABOVE TARGET"
    print(
        f"| {example} | {slow * 1000:.0f} ms | {fast * 1000:.0f} ms | {ratio:.2f}"
        f" | <= {TARGETS[example]} {verdict} |",
        flush=True,
    )
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.10", help="target Python (default 3.10)")
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per side")
    args = parser.parse_args(argv)
    interpreter = find_interpreter(args.python)
    if interpreter is None:
        print(f"no Python {args.python} interpreter found: nothing to measure", file=sys.stderr)
        return 1
    print(
        f"Cold `import index` from a read-only copy, Python {args.python}"
        f" ({interpreter}), median of {args.runs} fresh processes each\n"
    )
    print("| example | sources only | with byte-code | ratio | target |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="faas-bridge-cold-") as temp:
        try:
            for example in TARGETS:
                measure(example, args.python, interpreter, args.runs, Path(temp))
        finally:
            for path in Path(temp).rglob("*"):
                if path.is_dir():
                    path.chmod(0o755)  # so the temporary folder can be removed
    return 0


if __name__ == "__main__":
    sys.exit(main())
