#!/usr/bin/env python3
"""PostgreSQL and Redis for `make run`, `make test` and `make bench`: choose, start, stop.

Each of the two servers is chosen on its own, in this order:
  1. DATABASE_URL / REDIS_URL from the environment;
  2. (test and bench only) a server on the standard local port that lets us in without a password;
  3. a private server under var/services/<mode>/, started from the Debian binaries.
DUCHAA_PRIVATE_SERVICES=1 skips 1 and 2, so the private path can be exercised on any machine.

Subcommands:
  ensure [--mode M]       start what is needed, print `export VAR=...` lines, leave servers running
  run --mode M -- CMD...  the same, run CMD with that environment, then stop the private servers
  stop [--remove]         stop every private server of this checkout (--remove: also their data
                          when it lives outside var/)
  packages PKG...         apt-get install the Debian packages that are missing (root only)

Only the standard library is imported at the top: `packages` runs before the venv exists.
"""

import argparse
import base64
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
SERVICES = VAR / "services"
# Redis database per mode, so tests never flush what `make run` queued on a shared server.
REDIS_DB = {"run": 0, "bench": 14, "test": 15}
APP_ROLE = "duchaa"
# When we are root, private servers run as this system user: initdb refuses to run as root.
SERVICE_USER = "duchaa"
# Relocation target when the service user cannot reach the checkout (e.g. /work is 0700).
# Not /var/tmp: tmpfiles.d ages files out of it, which would corrupt an idle cluster.
RELOCATED = Path("/var/lib/duchaa")
PG_PORT = 5432  # only names the socket file; the private cluster listens on no TCP port


class Failure(Exception):
    """Something the user has to fix; shown as one line."""


def log(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr, flush=True)


# --- Debian packages -----------------------------------------------------------------------


def missing_packages(names: list[str]) -> list[str]:
    if not shutil.which("dpkg-query"):
        return []  # not Debian: the caller finds out from the missing binary instead
    missing = []
    for name in names:
        status = subprocess.run(
            ["dpkg-query", "-W", "-f=${db:Status-Status}", name], capture_output=True, text=True
        )
        if status.stdout.strip() != "installed":
            missing.append(name)
    return missing


def install_packages(names: list[str]) -> None:
    missing = missing_packages(names)
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Failure(f"missing Debian packages; as root run: apt-get install {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    stamp = VAR / "apt-updated"
    # One `apt-get update` per hour is enough even when several steps install packages.
    if not stamp.exists() or time.time() - stamp.stat().st_mtime > 3600:
        subprocess.run(["apt-get", "update"], check=True, env=env, stdin=subprocess.DEVNULL)
        VAR.mkdir(exist_ok=True)
        stamp.touch()
    log(f"installing {' '.join(missing)}")
    subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", *missing],
        check=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def pg_bindir() -> Path | None:
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    found.sort(key=lambda bindir: int(bindir.parent.name) if bindir.parent.name.isdigit() else 0)
    return found[-1] if found else None


def ensure_binaries(postgres: bool, redis: bool) -> None:
    wanted = {
        "postgresql": postgres and pg_bindir() is None,
        "redis-server": redis and shutil.which("redis-server") is None,
    }
    needed = [name for name, missing in wanted.items() if missing]
    if not needed:
        return
    install_packages(needed)
    if (postgres and pg_bindir() is None) or (redis and not shutil.which("redis-server")):
        raise Failure(f"no server binaries; as root run: apt-get install {' '.join(needed)}")


# --- who runs the private servers, and where -------------------------------------------------


def service_user() -> str | None:
    """None means: run them as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        log(f"creating system user {SERVICE_USER} to own the private servers")
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
        )
    return SERVICE_USER


def as_user(user: str | None, argv: list) -> list[str]:
    argv = [str(arg) for arg in argv]
    return ["runuser", "-u", user, "--", *argv] if user else argv


def owner_of(path: Path) -> str | None:
    """The user to act as on an existing private server, for `stop` (which must not create one)."""
    uid = path.stat().st_uid
    return pwd.getpwuid(uid).pw_name if os.geteuid() == 0 and uid != 0 else None


def give_to(path: Path, user: str | None) -> None:
    if user:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def reachable(user: str | None, path: Path) -> bool:
    if not user:
        return os.access(path, os.W_OK | os.X_OK)
    probe = subprocess.run(as_user(user, ["test", "-w", path, "-a", "-x", path]), cwd="/")
    return probe.returncode == 0


def sock_dir(home: Path) -> Path:
    return home / "sock"


def instance_home(mode: str, user: str | None) -> Path:
    """var/services/<mode>, or a directory elsewhere that var/services/<mode> links to."""
    link = SERVICES / mode
    if link.is_symlink() and not link.exists():
        link.unlink()  # its relocated target was deleted: start afresh
    if link.is_symlink() or link.is_dir():
        return link.resolve()
    SERVICES.mkdir(parents=True, exist_ok=True)
    # sun_path holds 107 bytes; PostgreSQL's socket is <sockdir>/.s.PGSQL.5432.
    if len(str(sock_dir(link) / f".s.PGSQL.{PG_PORT}")) <= 100:
        link.mkdir(mode=0o700)
        give_to(link, user)
        if reachable(user, link):
            return link
        link.rmdir()
    if os.geteuid() != 0:
        raise Failure(
            f"checkout path too long for a unix socket ({ROOT}); move it or set "
            "DATABASE_URL and REDIS_URL"
        )
    digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    home = RELOCATED / digest / mode
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)
    give_to(home, user)
    if not reachable(user, home):
        raise Failure(f"user {user} cannot write {home}")
    link.symlink_to(home)
    log(f"{ROOT} is out of {user}'s reach or too long a path: private servers live in {home}")
    return home


def write_file(path: Path, text: str, user: str | None) -> None:
    """Config and passwords: readable by the service user and nobody else, from the start."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    path.chmod(0o600)  # O_CREAT's mode does not apply to a file that already existed
    give_to(path, user)


def run_checked(argv: list[str], what: str, log_file: Path | None = None) -> None:
    # cwd /: the service user may not be allowed into the checkout.
    result = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd="/")
    if result.returncode != 0:
        detail = (result.stdout + result.stderr).strip()
        if log_file and log_file.exists():
            detail += "\n" + "\n".join(log_file.read_text(errors="replace").splitlines()[-20:])
        raise Failure(f"{what} failed:\n{detail}")


# --- PostgreSQL ----------------------------------------------------------------------------


def pg_connect(**params):
    import psycopg

    return psycopg.connect(autocommit=True, connect_timeout=5, **params)


def ensure_app_role(conn, where: str) -> None:
    """The app's role must not be a superuser: the audit trail's REVOKE has to bind it."""
    from psycopg import sql

    role = sql.Identifier(APP_ROLE)
    row = conn.execute(
        "SELECT rolsuper, rolcanlogin, rolcreatedb FROM pg_roles WHERE rolname = %s", [APP_ROLE]
    ).fetchone()
    if row is None:
        # CREATEDB: pytest-django creates its test database as this role.
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(role))
    elif row[0]:
        raise Failure(f"role {APP_ROLE} on {where} is a superuser; the app must not be one")
    elif not (row[1] and row[2]):
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN CREATEDB").format(role))
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [APP_ROLE]).fetchone():
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(role, role))


def local_postgres() -> dict | None:
    """The standard local server, if it trusts `postgres` over TCP (Debian's default does not)."""
    import psycopg

    where = "127.0.0.1:5432"
    try:
        with pg_connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres") as conn:
            ensure_app_role(conn, where)
        pg_connect(host="127.0.0.1", port=5432, user=APP_ROLE, dbname=APP_ROLE).close()
    except psycopg.Error:  # not there, wants a password, `postgres` not a superuser: not ours
        return None
    except Failure as refused:
        log(f"not using {where}: {refused}")
        return None
    log(f"PostgreSQL: the local server on {where}")
    return {
        "DATABASE_URL": f"postgres://{APP_ROLE}@{where}/{APP_ROLE}",
        "DATABASE_ADMIN_URL": f"postgres://postgres@{where}/postgres",
    }


def private_postgres(home: Path, user: str | None, mode: str) -> dict:
    bindir = pg_bindir()
    data, sock = home / "pg", sock_dir(home)
    if not (data / "PG_VERSION").exists():
        log(f"initdb {data}")
        # Superuser `postgres`, so the app's own role can be the unprivileged `duchaa`. Trust is
        # safe: the server listens only on a socket in a 0700 directory of its owner.
        run_checked(
            as_user(
                user,
                [
                    bindir / "initdb",
                    "-D",
                    data,
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
            ),
            "initdb",
        )
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude_if_exists = 'duchaa.conf'\n")
    sock.mkdir(mode=0o700, exist_ok=True)
    give_to(sock, user)
    # Rewritten at each start, so a moved checkout still gets its own socket directory.
    quoted = str(sock).replace("'", "''")
    settings = f"listen_addresses = ''\nunix_socket_directories = '{quoted}'\nport = {PG_PORT}\n"
    if mode == "test":
        # A throwaway cluster: durability buys nothing and costs seconds per test run.
        settings += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
    write_file(data / "duchaa.conf", settings, user)

    pg_ctl = bindir / "pg_ctl"
    if (
        subprocess.run(
            as_user(user, [pg_ctl, "status", "-D", data]), stdout=subprocess.DEVNULL, cwd="/"
        ).returncode
        != 0
    ):
        log(f"starting PostgreSQL in {data}")
        run_checked(
            as_user(user, [pg_ctl, "start", "-D", data, "-l", home / "pg.log", "-w", "-t", "60"]),
            "pg_ctl start",
            home / "pg.log",
        )
    with pg_connect(host=str(sock), port=PG_PORT, user="postgres", dbname="postgres") as conn:
        served = conn.execute("SHOW data_directory").fetchone()[0]
        if os.path.realpath(served) != os.path.realpath(data):
            raise Failure(f"the server on {sock} serves {served}, not {data}")
        ensure_app_role(conn, str(sock))
    log(f"PostgreSQL: private, socket in {sock}")
    return {
        "DATABASE_URL": f"postgres://{APP_ROLE}@/{APP_ROLE}?host={sock}",
        "DATABASE_ADMIN_URL": f"postgres://postgres@/postgres?host={sock}",
    }


def stop_postgres(home: Path) -> None:
    data, bindir = home / "pg", pg_bindir()
    if not (data / "PG_VERSION").exists() or bindir is None:
        return
    user = owner_of(data)
    if (
        subprocess.run(
            as_user(user, [bindir / "pg_ctl", "status", "-D", data]),
            stdout=subprocess.DEVNULL,
            cwd="/",
        ).returncode
        == 0
    ):
        log(f"stopping PostgreSQL in {data}")
        run_checked(
            as_user(user, [bindir / "pg_ctl", "stop", "-D", data, "-m", "fast", "-w"]),
            "pg_ctl stop",
        )


# --- Redis ---------------------------------------------------------------------------------
# Kombu (Celery's broker) has no `unix://` transport and redis-py no `redis+socket://`, and
# settings use one REDIS_URL for both: so the private Redis listens on a loopback port that
# was free when it started, behind a generated password.


def local_redis(db: int) -> str | None:
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError:
        return None
    log("Redis: the local server on 127.0.0.1:6379")
    return f"redis://127.0.0.1:6379/{db}"


def redis_pid(home: Path) -> int | None:
    """The pid in redis.pid, if that process is still a redis-server (pids get reused)."""
    try:
        pid = int((home / "redis.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"redis-server" in cmdline else None


def redis_is_ours(home: Path, state: dict) -> bool:
    import redis

    client = redis.Redis(
        host="127.0.0.1",
        port=state["port"],
        password=state["password"],
        socket_connect_timeout=2,
        socket_timeout=2,
    )
    try:
        served = client.config_get("dir").get("dir", "")
    except redis.RedisError:
        return False
    finally:
        client.close()
    return os.path.realpath(served) == os.path.realpath(home / "redis")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def private_redis(home: Path, user: str | None, mode: str) -> str:
    state_file = home / "redis.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    if not (redis_pid(home) and state and redis_is_ours(home, state)):
        if redis_pid(home):
            raise Failure(f"redis-server {redis_pid(home)} of {home} does not answer; stop it")
        (home / "redis").mkdir(mode=0o700, exist_ok=True)
        give_to(home / "redis", user)
        state = {"password": state.get("password") or secrets.token_hex(24)}
        for _attempt in range(3):  # another program may take the port before redis binds it
            state["port"] = free_port()
            conf = [
                "bind 127.0.0.1",
                f"port {state['port']}",
                "protected-mode yes",
                f"requirepass {state['password']}",
                "daemonize yes",
                f"pidfile {json.dumps(str(home / 'redis.pid'))}",
                f"logfile {json.dumps(str(home / 'redis.log'))}",
                f"dir {json.dumps(str(home / 'redis'))}",
            ]
            if mode == "test":
                conf += ['save ""', "appendonly no"]
            write_file(home / "redis.conf", "\n".join(conf) + "\n", user)
            write_file(state_file, json.dumps(state), user)
            log(f"starting Redis on 127.0.0.1:{state['port']}")
            run_checked(
                as_user(user, ["redis-server", home / "redis.conf"]),
                "redis-server",
                home / "redis.log",
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not redis_is_ours(home, state):
                time.sleep(0.1)
            if redis_is_ours(home, state):
                break
            stop_redis(home)
        else:
            raise Failure(f"private Redis did not start; see {home / 'redis.log'}")
    log(f"Redis: private, 127.0.0.1:{state['port']}, data in {home / 'redis'}")
    return f"redis://:{state['password']}@127.0.0.1:{state['port']}/{REDIS_DB[mode]}"


def stop_redis(home: Path) -> None:
    pid = redis_pid(home)
    if pid is None:
        return
    log(f"stopping Redis {pid}")
    os.kill(pid, signal.SIGTERM)  # redis saves its snapshot (if configured) and exits
    deadline = time.monotonic() + 30
    while redis_pid(home) == pid and time.monotonic() < deadline:
        time.sleep(0.1)
    if redis_pid(home) == pid:
        os.kill(pid, signal.SIGKILL)


# --- choosing ------------------------------------------------------------------------------


def _kept(name: str, make) -> str:
    """A value generated once and kept under var/ (private to the owner) for later runs."""
    path = VAR / name
    if not path.exists():
        VAR.mkdir(exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(make())
    return path.read_text().strip()


def secret_key(mode: str) -> str:
    if mode == "test":
        return secrets.token_urlsafe(50)  # tests must not depend on anyone's key
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    return _kept("secret_key", lambda: secrets.token_urlsafe(50))


def audit_keys(mode: str) -> dict[str, str]:
    """The audit trail's two keys (docs/AUDIT.md): the environment's, else generated like the
    secret key. The service refuses to start without them when DEBUG is off."""

    def new() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    keys = {}
    for name in ("AUDIT_HMAC_KEY", "AUDIT_SIGNING_KEY"):
        if os.environ.get(name):
            keys[name] = os.environ[name]
        else:
            keys[name] = new() if mode == "test" else _kept(name.lower(), new)
    return keys


def ensure(mode: str, homes: list[Path]) -> dict[str, str]:
    """The environment the app needs; each private home used is appended to `homes` at once,
    so an interrupted start can still be stopped."""
    env: dict[str, str] = {}
    redis_url = None
    if os.environ.get("DUCHAA_PRIVATE_SERVICES") != "1":
        if os.environ.get("DATABASE_URL"):
            env["DATABASE_URL"] = os.environ["DATABASE_URL"]
            log("PostgreSQL: DATABASE_URL from the environment")
        elif mode != "run":
            env.update(local_postgres() or {})
        if os.environ.get("REDIS_URL"):
            redis_url = os.environ["REDIS_URL"]
            log("Redis: REDIS_URL from the environment")
        elif mode != "run":
            redis_url = local_redis(REDIS_DB[mode])

    need_pg, need_redis = "DATABASE_URL" not in env, redis_url is None
    if need_pg or need_redis:
        ensure_binaries(postgres=need_pg, redis=need_redis)
        user = service_user()
        SERVICES.mkdir(parents=True, exist_ok=True)
        with (SERVICES / f"{mode}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two commands must not initdb the same directory
            home = instance_home(mode, user)
            homes.append(home)
            if need_pg:
                env.update(private_postgres(home, user, mode))
            if need_redis:
                redis_url = private_redis(home, user, mode)
    env["REDIS_URL"] = redis_url
    env["SECRET_KEY"] = secret_key(mode)
    env.update(audit_keys(mode))
    if mode == "test":
        env["FAST_PASSWORD_HASHER"] = "1"  # noqa: S105 - a switch, not a password
    return env


def stop(homes: list[Path]) -> None:
    for home in homes:
        stop_redis(home)
        stop_postgres(home)


def all_homes() -> list[Path]:
    if not SERVICES.is_dir():
        return []
    return [
        link.resolve() for link in sorted(SERVICES.iterdir()) if link.is_symlink() or link.is_dir()
    ]


def run_with_services(mode: str, argv: list[str]) -> int:
    homes: list[Path] = []
    try:
        env = ensure(mode, homes)
        venv_bin = str(Path(sys.executable).parent)
        child = subprocess.Popen(
            argv,
            env={**os.environ, **env, "PATH": venv_bin + os.pathsep + os.environ.get("PATH", "")},
        )
        # Ctrl-C reaches the child from the terminal by itself; a SIGTERM (make passes its own
        # on to us) would not, so forward that.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda signum, _frame: child.send_signal(signum))
        code = child.wait()
        return 128 - code if code < 0 else code
    finally:
        # These private servers belong to this command: leave nothing running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop(homes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ensure_cmd = commands.add_parser("ensure")
    ensure_cmd.add_argument("--mode", choices=REDIS_DB, default="run")
    run_cmd = commands.add_parser("run")
    run_cmd.add_argument("--mode", choices=REDIS_DB, required=True)
    run_cmd.add_argument("argv", nargs="+")
    stop_cmd = commands.add_parser("stop")
    stop_cmd.add_argument("--remove", action="store_true")
    packages_cmd = commands.add_parser("packages")
    packages_cmd.add_argument("names", nargs="+")
    args = parser.parse_args()

    try:
        if args.command == "ensure":
            for name, value in ensure(args.mode, []).items():
                print(f"export {name}={shlex.quote(value)}")
        elif args.command == "run":
            return run_with_services(args.mode, args.argv)
        elif args.command == "stop":
            stop(all_homes())
            if args.remove:
                for home in all_homes():
                    if home.is_relative_to(RELOCATED):
                        shutil.rmtree(home)
                        with contextlib.suppress(OSError):
                            home.parent.rmdir()
        else:
            install_packages(args.names)
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
