"""A real sshd on a loopback port with pam_jwtrev as its PAM auth and
account module, driven by paramiko: a JWT as the SSH password.

sshd runs in a private mount namespace: tmpfs /run for its privilege
separation directory, a tmpfs /dev whose /dev/log is a test syslog sink,
and the scratch folder's service files bound over /etc/pam.d, so the real
libpam reads them and nothing of the host changes.  (pam_wrapper is not
used here: sshd empties the environment of its keyboard-interactive PAM
child, and pam_wrapper would then swallow the module's syslog lines.)
Users come from nss_wrapper.  Checks: password login with an ES256 token; keyboard-interactive
login with a > 1.5 KB RS512 token (which the password method cannot carry);
JWT_CLAIM_sub in the session; another user's token, a plain password and a
revoked token refused; no part of any token in sshd's log or syslog.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "pam"))
import jwtmaker  # noqa: E402

import paramiko  # noqa: E402

ISS = "https://id.example"
PASSWD = """root:x:0:0:root:/root:/bin/sh
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
alice:x:1000:1000:Alice:{s}/home/alice:/bin/sh
bob:x:1001:1001:Bob:{s}/home/bob:/bin/sh
"""
GROUP = """root:x:0:
nogroup:x:65534:
alice:x:1000:
bob:x:1001:
"""
SSHD_CONFIG = """Port {port}
ListenAddress 127.0.0.1
HostKey {s}/hostkey
PidFile {s}/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PubkeyAuthentication no
PermitRootLogin no
StrictModes no
MaxAuthTries 20
PrintMotd no
LogLevel VERBOSE
"""
PAM_SSHD = """auth     required {mod} config={s}/pam.conf
account  required {mod} config={s}/pam.conf
session  required pam_permit.so
password required pam_deny.so
"""
PAM_CONF = """# pam_jwtrev for the sshd test
key={s}/keys/jwks.json
alg=ES256,RS512
iss={iss}
aud_from_service
db={s}/db
export_claims=sub,role
"""
# The namespace: tmpfs /run and /dev (device nodes bound from the host's),
# the syslog sink on /dev/log, then sshd in the foreground.
INSIDE = """set -e
mount -t tmpfs tmpfs /run
mkdir -m 755 /run/sshd
mkdir -p {s}/hostdev
mount --rbind /dev {s}/hostdev
mount -t tmpfs -o mode=755 tmpfs /dev
for d in null zero full random urandom tty ptmx; do
    touch /dev/$d
    mount --bind {s}/hostdev/$d /dev/$d
done
mkdir /dev/pts
mount --rbind {s}/hostdev/pts /dev/pts
mount --bind {s}/pam.d /etc/pam.d
/usr/bin/python3 {srcdir}/tests/pam/syslogd.py /dev/log {s}/syslog &
while [ ! -e {s}/syslog ]; do sleep 0.05; done
exec env LD_PRELOAD=libnss_wrapper.so \\
    NSS_WRAPPER_PASSWD={s}/passwd NSS_WRAPPER_GROUP={s}/group \\
    /usr/sbin/sshd -D -e -f {s}/sshd_config -E {s}/sshd.log
"""

n = 0
failed = 0


def ok(cond, desc):
    global n, failed
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, desc))
    if not cond:
        failed += 1
    sys.stdout.flush()
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def setup(s):
    os.chmod(s, 0o755)  # users' homes are below it
    jwtmaker.make_keys(os.path.join(s, "keys"))
    for user, uid in (("alice", 1000), ("bob", 1001)):
        home = os.path.join(s, "home", user)
        os.makedirs(home)
        os.chown(home, uid, uid)
    os.chmod(os.path.join(s, "home"), 0o755)
    write(os.path.join(s, "passwd"), PASSWD.format(s=s))
    write(os.path.join(s, "group"), GROUP)
    os.makedirs(os.path.join(s, "pam.d"))
    write(os.path.join(s, "pam.d", "sshd"),
          PAM_SSHD.format(mod=os.environ["PAM_JWTREV"], s=s))
    write(os.path.join(s, "pam.d", "other"), "auth required pam_deny.so\n")
    write(os.path.join(s, "pam.conf"), PAM_CONF.format(s=s, iss=ISS))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                    "-f", os.path.join(s, "hostkey")], check=True)
    subprocess.run([os.environ["JWTREV"], "--db", os.path.join(s, "db"),
                    "init"], check=True, stdout=subprocess.DEVNULL)
    write(os.path.join(s, "inside.sh"), INSIDE.format(
        s=s, srcdir=os.environ["top_srcdir"]))


def start_sshd(s, port):
    """sshd on port, or None when it exited (the port may have been taken
    since free_port: a client's ephemeral port, another test's server).
    sshd writes its pid file once it listens, so another server on the
    port is never mistaken for ours."""
    write(os.path.join(s, "sshd_config"), SSHD_CONFIG.format(s=s, port=port))
    pidfile = os.path.join(s, "sshd.pid")
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    log = open(os.path.join(s, "sshd.stderr"), "w")
    proc = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh",
         os.path.join(s, "inside.sh")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 15
    while time.time() < deadline and proc.poll() is None:
        try:
            if os.path.exists(pidfile):
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return proc
        except OSError:
            pass
        time.sleep(0.1)
    stop_sshd(proc)
    return None


def stop_sshd(proc):
    """Stop sshd and the syslog sink of its namespace (one process group;
    the sink outlives an sshd that exited on its own)."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def token(s, keyname, alg, kid, claims):
    base = {"iss": ISS, "aud": "sshd", "exp": "@+600", "iat": "@-5"}
    base.update(claims)
    return jwtmaker.sign(os.path.join(s, "keys"), keyname, alg,
                         {"kid": kid}, base)


def connect(port):
    t = paramiko.Transport(("127.0.0.1", port))
    t.start_client(timeout=10)
    return t


def run(t, command):
    """Run command in a session of the authenticated transport t."""
    ch = t.open_session(timeout=10)
    ch.exec_command(command)
    out = b""
    while True:
        data = ch.recv(65536)
        if not data:
            break
        out += data
    ch.close()
    return out.decode("utf-8", "replace")


def login(port, user, secret, method, command=None):
    """(authenticated, output of command or None)."""
    t = connect(port)
    try:
        if method == "password":
            t.auth_password(user, secret, fallback=False)
        else:
            t.auth_interactive(user, lambda title, instr, prompts:
                               [secret for _ in prompts])
        return True, run(t, command) if command else None
    except paramiko.AuthenticationException:
        return False, None
    finally:
        t.close()


def main():
    for var in ("PAM_JWTREV", "JWTREV", "top_srcdir"):
        ok(var in os.environ, "harness provides $" + var)
    ok(os.path.exists("/usr/sbin/sshd"), "openssh-server is installed")
    s = tempfile.mkdtemp()
    proc = None
    try:
        setup(s)
        for _ in range(3):
            port = free_port()
            proc = start_sshd(s, port)
            if proc is not None:
                break
        if ok(proc is not None, "sshd listens on 127.0.0.1:%d" % port):
            scenarios(s, port)
    finally:
        stop_sshd(proc)
        check_logs(s)
        if failed:
            show_logs(s)
        shutil.rmtree(s, ignore_errors=True)
    print("1..%d" % n)


def scenarios(s, port):
    tokens = []
    es = token(s, "es256.key", "ES256", "es1", {"sub": "alice", "jti": "ssh-1"})
    tokens.append(es)
    good, out = login(port, "alice", es, "password", "env")
    ok(good, "password method: ES256 token (%d bytes) logs alice in" % len(es))
    ok(out is not None and "JWT_CLAIM_sub=alice" in out.splitlines(),
       "JWT_CLAIM_sub=alice in the session's environment")

    big = token(s, "rs3072.key", "RS512", "rs5",
                {"sub": "alice", "role": "operator", "jti": "ssh-2",
                 "groups": ["g%03d" % i for i in range(120)]})
    tokens.append(big)
    ok(len(big) > 1536, "RS512 token is %d bytes (> 1.5 KB)" % len(big))
    good, out = login(port, "alice", big, "kbd", "env")
    ok(good, "keyboard-interactive: the RS512 token logs alice in")
    ok(out is not None and "JWT_CLAIM_role=operator" in out.splitlines(),
       "keyboard-interactive: claims reach the session")
    good, _ = login(port, "alice", big, "password")
    ok(not good, "password method: sshd refuses the %d-byte token "
       "(its 1024-byte limit)" % len(big))

    bobs = token(s, "es256.key", "ES256", "es1", {"sub": "bob"})
    tokens.append(bobs)
    good, _ = login(port, "alice", bobs, "password")
    ok(not good, "bob's token as alice's password: refused")
    good, _ = login(port, "bob", bobs, "kbd")
    ok(good, "bob's token for bob: accepted")
    good, _ = login(port, "alice", "correct horse battery staple", "password")
    ok(not good, "a plain password: refused")
    good, _ = login(port, "alice", "hunter2", "kbd")
    ok(not good, "a plain password over keyboard-interactive: refused")

    rev = token(s, "es256.key", "ES256", "es1", {"sub": "alice", "jti": "ssh-3"})
    tokens.append(rev)
    good, _ = login(port, "alice", rev, "password")
    ok(good, "a token accepted before its revocation")
    r = subprocess.run([os.environ["JWTREV"], "--db", os.path.join(s, "db"),
                        "revoke", "-"], input=rev.encode(),
                       stdout=subprocess.DEVNULL)
    ok(r.returncode == 0, "jwtrev revoke")
    good, _ = login(port, "alice", rev, "password")
    ok(not good, "the revoked token: refused")
    good, _ = login(port, "alice", rev, "kbd")
    ok(not good, "the revoked token over keyboard-interactive: refused")
    with open(os.path.join(s, "tokens"), "w") as f:
        f.write("\n".join(tokens))


def show_logs(s):
    """After a failure: the tail of each log, as TAP comments."""
    for name in ("sshd.stderr", "sshd.log", "syslog"):
        try:
            with open(os.path.join(s, name), errors="replace") as f:
                lines = f.read().splitlines()[-25:]
        except OSError as e:
            lines = ["(%s)" % e]
        print("# --- %s" % name)
        for line in lines:
            print("#   " + line)


def check_logs(s):
    """No token segment in anything sshd or PAM logged."""
    try:
        with open(os.path.join(s, "tokens")) as f:
            tokens = f.read().split()
        logs = ""
        for name in ("sshd.log", "sshd.stderr", "syslog"):
            with open(os.path.join(s, name), errors="replace") as f:
                logs += f.read()
    except OSError as e:
        ok(False, "logs readable: %s" % e)
        return
    ok("pam_jwtrev(sshd:auth)" in logs and "result=success" in logs,
       "pam_jwtrev's decisions are in syslog")
    ok('pam_jwtrev(sshd:account): service="sshd" user="alice" '
       'result=success reason=ok id="jti=ssh-2"' in logs,
       "keyboard-interactive: the account step re-checked the token")
    ok("pam_jwtrev(sshd:account)" in logs and "jti=ssh-1" in logs,
       "password method: the account step re-checked the token")
    ok(not re.search(r"^<8[0-3]>", logs, re.M),
       "no authpriv message at priority err or above (PAM noise)")
    ok("reason=revoked" in logs and "reason=user_mismatch" in logs
       and "reason=malformed" in logs, "the refusals are logged with reasons")
    leaked = [t for t in tokens for seg in t.split(".")[1:] if seg in logs]
    ok(tokens and not leaked, "no token payload or signature in sshd's log "
       "or syslog")


if __name__ == "__main__":
    main()
