"""Renders every console page in headless Chromium and checks what a person would see.

Usage: check.py BASE_URL PROJECT HW_KEY HW_GRANT AWS_KEY AWS_GRANT (run by check.sh).
For each page: the DOM after its script ran (--dump-dom with a virtual time budget longer
than the refresh period, so the page has re-read itself at least once) must hold the seeded
ids, aliases and grant rows, and nothing the hostile key description tried to inject; the
screenshot must have the window's size and not be blank (many colours, no colour covering
nearly all of it). Prints one line per page and "N passed, N failed" last.
"""

import os
import re
import subprocess
import sys
import tempfile
import time

from PIL import Image

WIDTH, HEIGHT = 1400, 900
BASE, PROJECT, HW_KEY, HW_GRANT, AWS_KEY, AWS_GRANT = sys.argv[1:7]
SHOTS = os.environ.get("KMS_CONSOLE_SHOTS") or tempfile.mkdtemp()
os.makedirs(SHOTS, exist_ok=True)
BOB, CAROL = "b0b00000000000000000000000000002", "ca401000000000000000000000000003"
CONSOLE = BASE + "/_emulator/console"

FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    f"--window-size={WIDTH},{HEIGHT}",
    f"--user-data-dir={tempfile.mkdtemp()}",
]


def chromium(*args):
    result = subprocess.run(
        ["chromium", *FLAGS, *args], capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise AssertionError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


def dom_after_refresh(url):
    # 6.5 s of virtual time: the page's script re-reads the page every 5 s.
    return chromium("--virtual-time-budget=6500", "--dump-dom", url)


def screenshot(url, name):
    path = os.path.join(SHOTS, name + ".png")
    chromium(f"--screenshot={path}", url)
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        assert rgb.size == (WIDTH, HEIGHT), f"{name}: screenshot is {rgb.size}"
        colours = rgb.getcolors(maxcolors=WIDTH * HEIGHT)
    dominant = max(count for count, _ in colours) / (WIDTH * HEIGHT)
    assert len(colours) > 40, f"{name}: only {len(colours)} colours: blank?"
    assert dominant < 0.97, f"{name}: one colour covers {dominant:.1%}: blank?"
    return path, len(colours)


def refreshed(dom, name):
    match = re.search(r'id="refreshed" data-count="(\d+)"', dom)
    assert match and int(match.group(1)) >= 1, f"{name}: the page did not refresh itself"


def not_injected(dom, name):
    assert "data-pwned" not in dom, f"{name}: the hostile description's onerror ran"
    assert "<title>pwned" not in dom, f"{name}: the hostile description's script ran"
    assert '<img src="x"' not in dom and "<img src=x" not in dom, f"{name}: an img was injected"


def has(dom, name, *needles):
    for needle in needles:
        assert needle in dom, f"{name}: {needle!r} is not on the page"


def lacks(dom, name, *needles):
    for needle in needles:
        assert needle not in dom, f"{name}: {needle!r} should not be on the page"


def overview(dom):
    has(dom, "overview", PROJECT, "111122223333", 'id="projects"', "enabled")
    assert re.search(r"\b2 keys, 2 grants", dom), "overview: the census does not say 2 keys, 2 grants"


def keys(dom):
    has(dom, "keys", HW_KEY, AWS_KEY, "console-orders", "alias/console-payments")
    # The description is shown as text: escaped in the serialized DOM.
    has(dom, "keys", "&lt;script&gt;document.title=\"pwned\"&lt;/script&gt;")
    not_injected(dom, "keys")


def hw_key(dom):
    has(dom, "huawei key", f'data-grant-id="{HW_GRANT}"', "orders-app", BOB, CAROL,
        "describe-key, encrypt-data, decrypt-data", ">huawei<")
    not_injected(dom, "huawei key")


def aws_key(dom):
    has(dom, "aws key", f'data-grant-id="{AWS_GRANT}"', "alias/console-payments",
        "EncryptionContextSubset", "arn:aws:iam::444455556666:user/frank", ">aws<")


def audit(dom):
    has(dom, "audit", "grant-created", "key-use-denied", HW_GRANT, AWS_GRANT)


def audit_denied(dom):
    has(dom, "audit (denied)", "key-use-denied", '<option selected="">denied</option>')
    lacks(dom, "audit (denied)", 'class="record allowed"')
    assert 'class="record denied"' in dom, "audit (denied): no refusal listed"


PAGES = [
    ("overview", CONSOLE, overview),
    ("keys", CONSOLE + "/keys", keys),
    ("key-huawei", f"{CONSOLE}/keys/{HW_KEY}", hw_key),
    ("key-aws", f"{CONSOLE}/keys/{AWS_KEY}", aws_key),
    ("audit", CONSOLE + "/audit", audit),
    ("audit-denied", f"{CONSOLE}/audit?project={PROJECT}&outcome=denied", audit_denied),
]

passed = failed = 0
for name, url, check in PAGES:
    started = time.monotonic()
    try:
        dom = dom_after_refresh(url)
        refreshed(dom, name)
        check(dom)
        path, colours = screenshot(url, name)
        passed += 1
        print(f"ok   {name}: {url} ({colours} colours in {path}, {time.monotonic() - started:.1f} s)")
    except AssertionError as error:
        failed += 1
        print(f"FAIL {name}: {error}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
