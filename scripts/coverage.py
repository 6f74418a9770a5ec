#!/usr/bin/env python3
"""How much of each cloud's KMS API a running emulator answers.

Calls every operation of the Huawei SDK (the table in ../shared/spec/huawei-sdk-operations.md:
method and path) with alice's demo token, and every operation of botocore's KMS model with
alice's SigV4-signed request, each with an empty body, and counts the operations the emulator
knows: any answer but "not an action of this service" (Huawei KMS.0201 / the gateway's
APIGW.0101) or UnknownOperationException. Validation errors count as known: the operation
exists and refused the empty body. UnsupportedOperationException (an operation the emulator
names out of scope) is counted apart.

Run: python3 scripts/coverage.py http://127.0.0.1:8080 [--spec ../shared/spec/huawei-sdk-operations.md]
with botocore importable (clients/aws/.venv/bin/python has it).
"""

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request

PROJECT = "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"
KEY_ID = "00000000-0000-4000-8000-000000000000"
TOKEN = "demo-token-alice"
ACCESS_KEY = ("DEMOALICEACCESSKEY01", "demo-alice-secret-key-0000000000000001")


def http(method, url, headers, body):
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def huawei(base, spec):
    rows = []
    for line in open(spec):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[1] not in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            continue
        name, method, path = cells[0], cells[1], cells[2]
        path = path.replace("{key_id}", KEY_ID).replace("{key}", "env")
        path = path.replace("{resource_instances}", "resource_instances")
        path = path.replace("{version_id}", "v1.0")
        path = re.sub(r"\{[a-z_]+\}", "x", path.replace("{project_id}", PROJECT))
        url = base + (path if path.startswith("/") else f"/v1.0/{PROJECT}/kms/{path}")
        body = b"{}" if method in ("POST", "PUT", "PATCH", "DELETE") else None
        status, text = http(method, url, {"X-Auth-Token": TOKEN, "Content-Type": "application/json"}, body)
        # 405 KMS.0215 to an SDK operation means the emulator does not serve it on that method.
        unknown = any(code in text for code in ("KMS.0201", "APIGW.0101", "KMS.0215"))
        unsupported = "EMULATOR.0501" in text
        rows.append((name, status, "unknown" if unknown else "unsupported" if unsupported else "known"))
    return rows


def aws(base):
    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    model = botocore.session.get_session().get_service_model("kms")
    credentials = Credentials(*ACCESS_KEY)
    rows = []
    for name in model.operation_names:
        request = AWSRequest(
            method="POST",
            url=base + "/",
            data=b"{}",
            headers={
                "X-Amz-Target": f"TrentService.{name}",
                "Content-Type": "application/x-amz-json-1.1",
            },
        )
        SigV4Auth(credentials, "kms", "eu-de").add_auth(request)
        status, text = http("POST", base + "/", dict(request.headers.items()), b"{}")
        kind = "known"
        if "UnknownOperationException" in text:
            kind = "unknown"
        elif "UnsupportedOperationException" in text:
            kind = "unsupported"
        rows.append((name, status, kind))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--spec", default=os.path.join(here, "..", "..", "shared", "spec", "huawei-sdk-operations.md"))
    parser.add_argument("--json", action="store_true", help="print every operation's result as JSON")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    report = {"huawei": huawei(base, args.spec), "aws": aws(base)}
    if args.json:
        print(json.dumps(report, indent=1))
    for cloud, rows in report.items():
        counts = {k: sum(1 for r in rows if r[2] == k) for k in ("known", "unsupported", "unknown")}
        print(
            f"{cloud}: {counts['known'] + counts['unsupported']} of {len(rows)} answered "
            f"({counts['known']} served, {counts['unsupported']} answered not supported); "
            f"unknown: {', '.join(r[0] for r in rows if r[2] == 'unknown') or 'none'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
