"""cdp.py -- a small client of the Chrome DevTools Protocol for the UI tests: starts a headless Chromium
with a fresh profile, drives one page (navigate, evaluate, wait for a condition, screenshot) and stops it.
Needs Debian's chromium and python3-websocket. Every wait is bounded."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
         "--window-size=1400,900", "--remote-debugging-port=0"]


class Browser:
    def __init__(self, binary="chromium", timeout=30):
        self.profile = tempfile.mkdtemp(prefix="mlf-chromium-")
        self.proc = subprocess.Popen([binary] + FLAGS + ["--user-data-dir=" + self.profile, "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + timeout
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            if time.time() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        pages = []
        while not pages:
            if time.time() > deadline:
                self.close()
                raise RuntimeError("chromium has no page")
            targets = json.load(urllib.request.urlopen("http://127.0.0.1:%s/json/list" % port, timeout=10))
            pages = [t for t in targets if t.get("type") == "page"]
            time.sleep(0.1)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=timeout,
                                              suppress_origin=True)
        self.next_id = 0
        self.events = []
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method, **params):
        """Sends one command and returns its result (events met on the way are kept)."""
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    def navigate(self, url):
        self.call("Page.navigate", url=url)

    def eval(self, expression):
        """The value of a JavaScript expression (promises awaited)."""
        r = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("JS error in %r: %s" % (expression, r["exceptionDetails"]))
        return r.get("result", {}).get("value")

    def wait(self, expression, timeout=20, what=None):
        """Waits until the expression is truthy; returns its value. Raises with the page's text on timeout."""
        deadline = time.time() + timeout
        while True:
            try:
                v = self.eval(expression)
            except RuntimeError:
                v = None
            if v is not None and v is not False and v != 0 and v != "":  # a DOM node comes back as {}
                return v
            if time.time() > deadline:
                body = self.eval("document.body ? document.body.innerText.slice(0, 2000) : ''")
                raise AssertionError("timed out waiting for %s\npage text:\n%s" % (what or expression, body))
            time.sleep(0.1)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
