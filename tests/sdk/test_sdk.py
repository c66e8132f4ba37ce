"""The published Usergrid Node.js SDK (npm usergrid@0.10.11), installed at
run time into build/sdk (kept between runs) and driven unmodified against
a real server: entities, collections and paging, users, groups,
connections, activities and feeds, and logging in (a wrong password refused,
/users/me, logout, revoked tokens)."""
import os
import subprocess

from harness import Server, check

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SDK_DIR = os.path.join(ROOT, "build", "sdk")


def install(version):
    mod = os.path.join(SDK_DIR, "node_modules", "usergrid", "package.json")
    if os.path.exists(mod) and ('"version": "%s"' % version) in open(mod).read():
        return
    os.makedirs(SDK_DIR, exist_ok=True)
    p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent",
                        "--prefix", SDK_DIR, "usergrid@" + version],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "npm install usergrid@%s: %s" % (version, p.stderr[-2000:]))


def test_usergrid_sdk_0_10_11():
    install("0.10.11")
    with Server(bootstrap="sdk-org/sdk-app") as s:
        env = dict(os.environ, NODE_PATH=os.path.join(SDK_DIR, "node_modules"))
        p = subprocess.run(["node", os.path.join(HERE, "sdk010.js"),
                            "http://127.0.0.1:%d" % s.port, "sdk-org", "sdk-app"],
                           capture_output=True, text=True, env=env, timeout=120)
        check(p.returncode == 0, "the SDK run failed:\n" + p.stdout[-2000:] + p.stderr[-3000:])
