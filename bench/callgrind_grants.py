# The driver of bench/callgrind_grants.sh: Huawei create-grant then revoke-grant over one keep-alive connection,
# with a callgrind dump (callgrind_control -d) after the warm-up and after each phase (pid 0: no dumps, only markers).
import http.client, json, sys, subprocess, time
port = int(sys.argv[1]); pid = sys.argv[2]; n = int(sys.argv[3]); out = sys.argv[4]
P = "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"
BOB = "b0b00000000000000000000000000002"; CAROL = "ca401000000000000000000000000003"
c = http.client.HTTPConnection("127.0.0.1", port)
def call(action, body, tok="demo-token-alice"):
    c.request("POST", f"/v1.0/{P}/kms/{action}", json.dumps(body), {"X-Auth-Token": tok, "Content-Type": "application/json"})
    r = c.getresponse(); d = r.read()
    if r.status >= 300: raise SystemExit(f"{action} {r.status} {d}")
    return json.loads(d) if d else {}
def dump(tag):
    if pid == "0": print("MARK", tag, flush=True); return
    subprocess.run(["callgrind_control", "-d", tag, pid], check=True, stdout=subprocess.DEVNULL)
print("MARK start", flush=True)
keys = [call("create-key", {"key_alias": f"prof-{i}-{time.time_ns()}"})["key_info"]["key_id"] for i in range(40)]
def grant(k):
    return call("create-grant", {"key_id": k, "grantee_principal": BOB, "operations": ["encrypt-data", "decrypt-data"], "retiring_principal": CAROL, "name": "bench"})["grant_id"]
warm = [(keys[i % 40], grant(keys[i % 40])) for i in range(100)]
for k, g in warm[:50]: call("revoke-grant", {"key_id": k, "grant_id": g})
dump("warm")
made = [(keys[i % 40], grant(keys[i % 40])) for i in range(n)]
dump("create")
for k, g in made: call("revoke-grant", {"key_id": k, "grant_id": g})
dump("revoke")
print("ok")
