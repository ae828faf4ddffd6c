"""The embedded server's process never outlives the extractor that started it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractor.embedded import die_with_parent

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not collected it


def test_a_child_started_through_the_guard_dies_when_its_parent_is_killed() -> None:
    starter = (
        "import subprocess, sys, time\n"
        "from extractor.embedded import die_with_parent\n"
        "child = subprocess.Popen(die_with_parent([sys.executable, '-c', "
        "'import time; time.sleep(120)']))\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    time.sleep(0.5)  # the guard has made way for the command by now
    assert alive(child)
    parent.kill()
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_the_guard_runs_the_command_itself() -> None:
    command = die_with_parent([sys.executable, "-c", "print('hello')"])
    assert command[-3:] == [sys.executable, "-c", "print('hello')"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout == "hello\n"
    assert str(os.getpid()) in command
