"""Helpers for the real-browser tests: find the system Chromium, open a page offline, run an
isolated JupyterLab.

Nothing here downloads a browser: the tests drive the system's Chromium (Debian's ``chromium``
package) through ``playwright`` with ``executable_path``. JupyterLab is started the README's way,
``python -m jupyter lab`` from the same environment as the package, on loopback with a random
token, in a temporary root directory, with its own config, data, runtime, settings and workspace
directories so that nothing of the user's Jupyter set-up takes part. An offline page may load
only ``file://`` and loopback URLs, as a reader's browser without a network would.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM_ENV = "AUDITORY_DEEPDREAM_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = ('install them with `apt-get install chromium` (or set AUDITORY_DEEPDREAM_CHROMIUM to a '
                'Chromium/Chrome executable) and `pip install -e ".[notebooks,test]"`')


def find_chromium() -> str | None:
    """The system Chromium: ``$AUDITORY_DEEPDREAM_CHROMIUM``, else the first of
    :data:`CHROMIUM_NAMES` on ``PATH``; None when there is none."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def missing_requirements() -> list[str]:
    """What the browser test needs and this environment lacks (empty when all is there)."""
    missing = []
    if find_chromium() is None:
        missing.append("a Chromium browser (`chromium` on PATH or $" + CHROMIUM_ENV + ")")
    for module, package in (("playwright.sync_api", "playwright"), ("jupyterlab", "jupyterlab"),
                            ("jupyterlab_widgets", "jupyterlab_widgets (ipywidgets' JupyterLab extension)"),
                            ("ipykernel", "ipykernel")):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    return missing


def require_browser_stack() -> None:
    """Skip the calling test without Chromium, playwright or JupyterLab; fail instead under CI."""
    import pytest

    missing = missing_requirements()
    if not missing:
        return
    message = f"the browser test needs {', '.join(missing)}; {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def offline_page(browser, **options):
    """A new page of a playwright ``browser`` that may load only ``file://`` and loopback URLs.

    Returns ``(page, blocked, errors)``: every other request is aborted and its URL appended to
    ``blocked``; page errors, and console errors other than the network error of a blocked
    request, are appended to ``errors`` as text. ``options`` go to ``browser.new_page``.
    """
    page = browser.new_page(**options)
    blocked: list[str] = []
    errors: list[str] = []

    def route(route):
        url = urlsplit(route.request.url)
        if url.scheme == "file" or url.hostname in LOOPBACK:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    def on_console(msg):
        if msg.type == "error" and not (msg.text.startswith("Failed to load resource")
                                        and msg.location.get("url") in blocked):
            errors.append(f"console.error: {msg.text} ({msg.location})")

    page.route("**/*", route)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    return page, blocked, errors


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# JupyterLab settings for the isolated user-settings directory: no news or update checks (they would
# reach the internet and pop up a question), nothing else changed.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


class JupyterLab:
    """A JupyterLab server on ``127.0.0.1`` serving ``root`` (a context manager).

    ``url(path)`` gives a browser address with the token; the server's log is in ``log_path``.
    Leaving the context shuts it down (REST shutdown, then SIGTERM, then SIGKILL of its process
    group), whatever happened inside.
    """

    def __init__(self, root: Path, home: Path, *, env: dict | None = None, start_timeout: float = 90):
        self.root = Path(root)
        self.home = Path(home)
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.start_timeout = start_timeout
        self.extra_env = dict(env or {})
        self.log_path = self.home / "jupyterlab.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}?token={self.token}"

    def _environment(self) -> dict:
        dirs = {name: self.home / sub for name, sub in (
            ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"), ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"), ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
            ("IPYTHONDIR", "ipython"))}
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        for name, settings in LAB_SETTINGS.items():
            path = dirs["JUPYTERLAB_SETTINGS_DIR"] / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings))
        env = {k: v for k, v in os.environ.items()
               if k not in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_TOKEN", "JUPYTER_PREFER_ENV_PATH")}
        env.update({k: str(v) for k, v in dirs.items()})
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env.update(self.extra_env)
        return env

    def start(self) -> JupyterLab:
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI containers often run as root; JupyterLab refuses without it
        env = self._environment()  # creates self.home and its directories
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with self._get("/api/status", timeout=2) as response:
                    json.load(response)
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not answer /api/status within {self.start_timeout:.0f} s:\n"
                                   f"{self.log_tail()}")
            time.sleep(0.25)

    def _get(self, path: str, *, method: str = "GET", timeout: float = 5):
        request = urllib.request.Request(self.base + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        return urllib.request.urlopen(request, timeout=timeout)

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:  # the server's own shutdown also shuts its kernels down
                self._get("/api/shutdown", method="POST", timeout=5).close()
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)  # its own session: only what it started
                    except ProcessLookupError:
                        pass
                    proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> JupyterLab:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
