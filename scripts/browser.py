#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol on a pipe (no extra packages),
for the tests of `broadside serve`.

  browser.py click URL ID        opens URL, clicks the element #ID, prints the page's text after
  browser.py watch URL JS SECS   opens URL, prints the value of JS every 0.25 s for SECS seconds
                                 (the page may reload itself meanwhile)
  browser.py measure URL WIDTH JS [PNG]
                                 opens URL in a viewport WIDTH px wide (a phone's below 600: the
                                 window itself cannot be narrower than 500 px), prints the value of
                                 JS once the page has loaded, and saves a screenshot to PNG
"""
import base64, fcntl, json, os, subprocess, sys, tempfile, time

class Browser:
    def __init__(self):
        ours_to_chrome, self.write_fd = os.pipe()
        self.read_fd, chrome_to_ours = os.pipe()
        # Chromium reads commands on fd 3 and writes answers on fd 4; moved above 10 first
        # so that placing one cannot overwrite the other.
        high = lambda fd: (fcntl.fcntl(fd, fcntl.F_DUPFD, 10), os.close(fd))[0]
        ours_to_chrome, chrome_to_ours = high(ours_to_chrome), high(chrome_to_ours)
        def fds():
            os.dup2(ours_to_chrome, 3)
            os.dup2(chrome_to_ours, 4)
        self.profile = tempfile.TemporaryDirectory()
        self.process = subprocess.Popen(
            ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--user-data-dir=" + self.profile.name, "--no-first-run", "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(ours_to_chrome)
        os.close(chrome_to_ours)
        self.buffer = b""
        self.next_id = 0

    def call(self, method, session=None, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self.buffer:
                chunk = os.read(self.read_fd, 65536)
                if not chunk:
                    raise SystemExit("chromium closed the pipe")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise SystemExit(f"{method}: {answer['error']}")
                return answer["result"]

    def open(self, url):
        target = self.call("Target.createTarget", url=url)["targetId"]
        return self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def evaluate(self, session, expression):
        result = self.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, session, expression, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if self.evaluate(session, expression):
                    return True
            except SystemExit:
                pass
            time.sleep(0.1)
        return False

    def close(self):
        self.process.kill()
        self.process.wait()

def main():
    browser = Browser()
    try:
        command, url = sys.argv[1], sys.argv[2]
        if command == "measure":
            width = int(sys.argv[3])
            session = browser.open("about:blank")
            browser.call("Emulation.setDeviceMetricsOverride", session, width=width, height=844, deviceScaleFactor=1, mobile=width < 600)
            browser.call("Page.navigate", session, url=url)
            time.sleep(0.2)
            if not browser.wait_for(session, "document.readyState === 'complete' && location.href !== 'about:blank'"):
                raise SystemExit(f"{url} did not load")
            print(json.dumps(browser.evaluate(session, sys.argv[4])))
            if len(sys.argv) > 5:
                shot = browser.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True)
                open(sys.argv[5], "wb").write(base64.b64decode(shot["data"]))
            return
        session = browser.open(url)
        if command == "click":
            element = json.dumps(sys.argv[3])
            if not browser.wait_for(session, f"document.readyState === 'complete' && !!document.getElementById({element})"):
                raise SystemExit(f"no #{sys.argv[3]} on {url}")
            browser.evaluate(session, f"document.getElementById({element}).click()")
            time.sleep(0.2)
            browser.wait_for(session, f"document.readyState === 'complete' && !document.getElementById({element})")
            print(browser.evaluate(session, "document.body.innerText"))
        elif command == "watch":
            deadline = time.time() + float(sys.argv[4])
            while time.time() < deadline:
                try:
                    print(browser.evaluate(session, sys.argv[3]), flush=True)
                except SystemExit:
                    print(None, flush=True)   # between a reload's unload and load
                time.sleep(0.25)
    finally:
        browser.close()

if __name__ == "__main__":
    main()
