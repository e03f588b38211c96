"""Headless Chromium driven over the DevTools protocol: open a page with a cookie set, wait until a
condition holds in the rendered DOM, keep a screenshot. A single-page app renders after its API
calls return, so the DOM is polled rather than read once."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--remote-debugging-port=0"]


class PageNotReady(AssertionError):
    pass


def capture(url: str, *, cookies: dict[str, str], ready: str, screenshot: Path, timeout: float = 60,
            size: tuple[int, int] = (1600, 1000)) -> str:
    """Open ``url`` with ``cookies``; once the JavaScript expression ``ready`` is truthy, save a PNG
    screenshot and return the page's text. The screenshot is kept even when the page never gets ready."""
    with tempfile.TemporaryDirectory() as profile:
        browser = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
                                    "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            port = _devtools_port(Path(profile), browser)
            return asyncio.run(_capture(port, url, cookies, ready, screenshot, timeout))
        finally:
            os.killpg(browser.pid, signal.SIGKILL)  # its renderer and helper processes too
            browser.wait()


def _devtools_port(profile: Path, browser: subprocess.Popen, timeout: float = 30) -> int:
    active = profile / "DevToolsActivePort"  # Chromium writes its chosen port here
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if browser.poll() is not None:
            raise RuntimeError(f"chromium exited ({browser.returncode}) before opening DevTools")
        if active.exists() and (lines := active.read_text().split()):
            return int(lines[0])
        time.sleep(0.1)
    raise TimeoutError("chromium opened no DevTools port")


async def _capture(port: int, url: str, cookies: dict[str, str], ready: str, screenshot: Path, timeout: float) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json") as response:
            page = next(target for target in await response.json() if target["type"] == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            calls = 0

            async def call(method: str, **params) -> dict:
                nonlocal calls
                calls += 1
                await ws.send_json({"id": calls, "method": method, "params": params})
                while True:  # events arrive in between; only the answer matters here
                    message = await ws.receive_json()
                    if message.get("id") == calls:
                        if "error" in message:
                            raise RuntimeError(f"{method}: {message['error']}")
                        return message["result"]

            async def evaluate(expression: str):
                return (await call("Runtime.evaluate", expression=expression, returnByValue=True))["result"].get("value")

            for name, value in cookies.items():
                await call("Network.setCookie", name=name, value=value, url=url, httpOnly=True)
            await call("Page.navigate", url=url)
            deadline = time.monotonic() + timeout
            while not (is_ready := await evaluate(ready)) and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            shot = await call("Page.captureScreenshot", format="png")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            text = await evaluate("document.body ? document.body.innerText : ''")
            if not is_ready:
                raise PageNotReady(f"{url}: not ready after {timeout:.0f} s ({ready}); screenshot {screenshot}; "
                                   f"page text:\n{text[:2000]}")
            return text
