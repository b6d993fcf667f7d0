"""`mimic verify-files`: match candidate files against a folder of timeline images. A stable contract.

    mimic verify-files --portfolio DIR --json CANDIDATE [CANDIDATE ...]
    python -m verification.verify_files --portfolio DIR --json CANDIDATE [CANDIDATE ...]

With --json, one JSON object per line per candidate, in the order given:
    {"candidate": "<path>", "verdict": "match" | "no_match" | "error", "matched": "<portfolio path>" | null,
     "score": <number 0..1, >= 0.5 exactly for matches>, "reason": "<text>"}
Exit status 0 unless the command itself fails (a missing portfolio folder: a message on stderr and status 2).
A candidate that cannot be read gets verdict "error" with a reason; unreadable portfolio images are skipped with
a warning on stderr. Images are hashed in parallel worker processes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Sequence, TextIO

from verification.hashing import Fingerprint, fingerprint
from verification.imaging import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, ImageRejected, load_image
from verification.matching import Portfolio, PortfolioEntry, Verdict, error_verdict, match

LOAD_SIDE = 2048  # images are decoded at most this large: hashing never needs more
PARALLEL_FROM = 6  # below this many files, worker start-up costs more than it saves


def _fingerprint_file(args: tuple[str, bool]) -> tuple[str, Fingerprint | None, str]:
    """(path, fingerprint or None, reason). Never raises: a bad file must not cost the rest of the batch."""
    path, candidate = args
    try:
        img = load_image(Path(path), max_pixels=DEFAULT_MAX_PIXELS, max_bytes=DEFAULT_MAX_BYTES, max_side=LOAD_SIDE)
        return path, fingerprint(img, candidate=candidate), ""
    except ImageRejected as exc:
        return path, None, exc.reason
    except MemoryError:
        return path, None, "the image is too large to process"
    except Exception as exc:  # a decoder bug on a hostile file: report it, keep going
        return path, None, f"the image could not be processed ({type(exc).__name__})"


def fingerprint_files(paths: Sequence[str], *, candidate: bool, workers: int) -> Iterator[tuple[str, Fingerprint | None, str]]:
    """(path, fingerprint or None, reason) in the order given, each as soon as it and those before it are done."""
    jobs = [(p, candidate) for p in paths]
    if workers <= 1 or len(jobs) < PARALLEL_FROM:
        yield from map(_fingerprint_file, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_fingerprint_file, jobs, chunksize=max(1, len(jobs) // (workers * 8)))


def portfolio_files(folder: Path) -> list[Path]:
    """Every regular, non-hidden file under `folder`, in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".")
                                                                          for part in p.relative_to(folder).parts))


def _line(candidate: str, verdict: Verdict, as_json: bool) -> str:
    if as_json:
        return json.dumps({"candidate": candidate, **verdict.as_dict()})  # ASCII-safe whatever the file names
    target = f" -> {verdict.matched}" if verdict.matched else ""
    return f"{candidate}: {verdict.verdict}{target} (score {verdict.score:.2f}): {verdict.reason}"


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def clear(self) -> None:
        pass


def run_verify_files(portfolio_dir: Path, candidates: list[Path], *, as_json: bool, out: TextIO,
                     err: TextIO | None = None, workers: int | None = None,
                     progress: Callable[[str, int], ContextManager] | None = None) -> int:
    """`progress(label, total)` gives a bar to follow the hashing with (the command line's draws on a terminal's
    stderr only, so the lines on stdout stay exactly the contract)."""
    err = err or sys.stderr
    progress = progress or (lambda label, total: _NoBar())
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    portfolio_dir = Path(portfolio_dir)
    if not portfolio_dir.is_dir():
        print(f"verify-files: the portfolio folder {portfolio_dir} does not exist or is not a folder", file=err)
        return 2
    files = [str(p) for p in portfolio_files(portfolio_dir)]
    entries = []
    with progress("hashing the portfolio", len(files)) as bar:
        for path, fp, reason in fingerprint_files(files, candidate=False, workers=workers):
            if fp is None:
                bar.clear()
                print(f"verify-files: skipping portfolio file {path}: {reason}", file=err)
            else:
                entries.append(PortfolioEntry(id=path, fingerprint=fp))
            bar.advance()
    if not entries:
        print(f"verify-files: warning: no usable images in {portfolio_dir}", file=err)
    portfolio = Portfolio(entries)
    names = [str(c) for c in candidates]
    with progress("checking candidates", len(names)) as bar:
        for path, fp, reason in fingerprint_files(names, candidate=True, workers=workers):
            if fp is None:
                verdict = error_verdict(reason)
            else:
                try:
                    verdict = match(fp, portfolio)
                except Exception as exc:  # keep the batch going; the reason says what happened
                    verdict = error_verdict(f"matching failed ({type(exc).__name__})")
            bar.clear()  # a terminal shows the bar below the lines, never through them
            print(_line(path, verdict, as_json), file=out, flush=True)
            bar.advance()
    return 0


def add_verify_files_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--portfolio", required=True, type=Path, metavar="DIR",
                        help="folder of images as they appear on the timeline")
    parser.add_argument("--json", action="store_true", dest="as_json", help="one JSON object per line per candidate")
    parser.add_argument("--workers", type=int, default=None, help="hashing processes (default: up to 2)")
    parser.add_argument("candidates", nargs="+", type=Path, metavar="CANDIDATE", help="image files to check")


def run_from_args(args: argparse.Namespace, out: TextIO | None = None,
                  progress: Callable[[str, int], ContextManager] | None = None) -> int:
    """What the `mimic verify-files` subcommand calls with its parsed arguments."""
    return run_verify_files(args.portfolio, list(args.candidates), as_json=args.as_json, out=out or sys.stdout,
                            workers=args.workers, progress=progress)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mimic verify-files", description=__doc__.splitlines()[0])
    add_verify_files_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
