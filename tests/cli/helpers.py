"""Run the ``assay`` command: in this process (fast) or as the installed console script.

``run_cli`` calls the same entry point the console script calls (``assay.cli.main:main``)
in this process, with what a child process would have: its own stdout and stderr
(text), ``COLUMNS=200``, ``NO_COLOR=1``, no ``ASSAY_DEBUG``, ``cwd``, the interpreter's
default warning filters with warnings printed on stderr, and the exit status
``sys.exit`` gives (an exception that escapes ``main`` is a traceback on stderr and
status 1, as Python does). It saves starting Python and importing the stack for every
case (about 3 s each on a loaded machine).

``run_cli_subprocess`` runs the installed ``assay`` script in a child process; every
command keeps at least one test through it so the real entry point stays tested.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import traceback
import warnings
from pathlib import Path
from unittest import mock

# The warning filters of a fresh interpreter (no -W, no PYTHONWARNINGS): what a child
# process starts with, so a warning the command prints there is printed here too.
_FRESH_FILTERS = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, None),
    ("ignore", PendingDeprecationWarning, None),
    ("ignore", ImportWarning, None),
    ("ignore", ResourceWarning, None),
)


def _child_env() -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("ASSAY_DEBUG", None)
    return env


def _script() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m``."""
    script = Path(sys.executable).with_name("assay")
    if script.is_file():
        return [str(script)]
    found = shutil.which("assay")
    return [found] if found else [sys.executable, "-m", "assay.cli.main"]


def run_cli_subprocess(*args: str | Path, cwd: Path | None = None, timeout: int = 300):
    """The installed ``assay`` console script in a child process."""
    return subprocess.run(
        [*_script(), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_child_env(),
        timeout=timeout,
    )


def _stream() -> io.TextIOWrapper:
    """A text stream over bytes, like a pipe's (``.buffer`` works; not a terminal)."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    """What ``subprocess.run(text=True)`` gives: decoded, universal newlines."""
    stream.flush()
    data = stream.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]
    return data.replace("\r\n", "\n").replace("\r", "\n")


def _show_on_stderr(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def run_cli(
    *args: str | Path, cwd: Path | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    """``assay ARGS`` through its entry point in this process (see the module docstring);
    ``timeout`` is accepted for the subprocess signature and not enforced."""
    from assay.cli import _governance
    from assay.cli import main as cli

    argv = [str(a) for a in args]
    stdout, stderr = _stream(), _stream()
    consoles = (cli.out, cli.err, _governance.out, _governance.err)
    returncode = 0
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, _child_env(), clear=True))
        stack.enter_context(mock.patch.object(sys, "argv", ["assay", *argv]))
        # Click names the program from argv[0], or 'python -m PACKAGE' when __main__ is a
        # package's (pytest's is): as the console script, it is 'assay'
        main_module = sys.modules["__main__"]
        stack.enter_context(mock.patch.object(main_module, "__package__", None, create=True))
        stack.enter_context(mock.patch.object(sys, "stdout", stdout))
        stack.enter_context(mock.patch.object(sys, "stderr", stderr))
        for console in consoles:  # width and colour were fixed when the module was imported
            stack.enter_context(mock.patch.object(console, "_width", 200))
            stack.enter_context(mock.patch.object(console, "no_color", True))
        stack.enter_context(warnings.catch_warnings())
        warnings.resetwarnings()
        for action, category, module in reversed(_FRESH_FILTERS):
            warnings.filterwarnings(action, category=category, module=module or "")
        warnings.showwarning = _show_on_stderr
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code
            if code is None:
                returncode = 0
            elif isinstance(code, int):
                returncode = code
            else:
                print(code, file=sys.stderr)
                returncode = 1
        except Exception:  # what Python prints for an uncaught exception
            traceback.print_exc(file=sys.stderr)
            returncode = 1
    return subprocess.CompletedProcess(["assay", *argv], returncode, _text(stdout), _text(stderr))
