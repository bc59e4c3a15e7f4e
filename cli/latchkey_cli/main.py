"""latchkey: S3 keys and client configuration from the command line."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from typing import Any
from urllib.parse import urlencode

from latchkey_cli import configure as conf
from latchkey_cli import credentials as creds
from latchkey_cli import inifile, usage
from latchkey_cli import scope as scopes
from latchkey_cli.session import Api, CliError, login, logout

PROJECT = re.compile(r"^[0-9]{3,20}$")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="latchkey", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    lg = sub.add_parser("login", help="log in with a code approved in any browser")
    lg.add_argument("--server", default=os.environ.get("LATCHKEY_URL"), help="the Latchkey site (or LATCHKEY_URL)")
    sub.add_parser("logout", help="forget the saved login")
    sub.add_parser("projects", help="your projects, quota and usage")
    u = sub.add_parser("usage", help="a project's usage history: every point of a range")
    u.add_argument("--project", "-p", required=True)
    u.add_argument("--range", default="30d", help="7d, 30d or 1y (default 30d)")
    u.add_argument("--csv", action="store_true", help="the web page's CSV (time in UTC, bytes, objects)")
    u.add_argument("--bucket", "-b", dest="one_bucket", help="one bucket's points only")
    keys = sub.add_parser("keys", help="your keys").add_subparsers(dest="action", required=True)
    for name in ("list", "create", "extend", "delete", "show"):
        k = keys.add_parser(name)
        k.add_argument("--project", "-p", required=True)
        if name in ("extend", "delete", "show"):
            k.add_argument("access_key_id")
        if name in ("create", "extend"):
            k.add_argument("--hours", type=int, required=True)
        if name == "create":
            k.add_argument("--description", "-d", required=True)
            scopes.add_options(k)
        if name == "show":
            k.add_argument("--plain", action="store_true", help="access and secret key on one line")
    cr = sub.add_parser(
        "credentials",
        help="a key as AWS credential_process JSON, renewed before it ends",
        description="Prints the AWS credential_process JSON for a key of the project, kept (secret included, "
        "mode 0600) in ~/.config/latchkey/credentials/ and reused until it is --renew-minutes from its end; "
        "then a new key replaces it and the old one is deleted.",
    )
    cr.add_argument("--project", "-p", required=True)
    cr.add_argument("--hours", type=int, default=8, help="how long each new key lasts (default 8)")
    _renew_option(cr)
    scopes.add_options(cr)
    c = sub.add_parser("configure", help="make a key and write it into rclone, s3cmd and aws configs")
    c.add_argument("--project", "-p", required=True)
    c.add_argument("--client", help="comma-separated: rclone, s3cmd, aws (default all; aws with --credential-process)")
    c.add_argument("--hours", type=int, default=8)
    c.add_argument("--endpoint", help="an endpoint name the site offers")
    c.add_argument(
        "--credential-process",
        action="store_true",
        help="write an aws profile that runs `latchkey credentials` (keys renewed, no secret in ~/.aws)",
    )
    _renew_option(c)
    scopes.add_options(c)
    c.add_argument("--remove", action="store_true", help="remove what configure wrote and revoke its key")
    return p


def _renew_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--renew-minutes",
        type=int,
        default=None,
        help=f"make a new key when the cached one has this little time left (default {creds.RENEW_MINUTES})",
    )


def _program() -> str:
    """This command's absolute path, for a credential_process line that works from any directory."""
    here = os.path.abspath(sys.argv[0])
    if os.path.basename(here) == "latchkey" and os.access(here, os.X_OK):
        return here
    found = shutil.which("latchkey")
    if not found:
        raise CliError("Cannot find the latchkey command on PATH to write into the profile.")
    return os.path.abspath(found)


def _process_command(args: argparse.Namespace, scope: scopes.Scope | None) -> list[str]:
    renew = [] if args.renew_minutes is None else ["--renew-minutes", str(args.renew_minutes)]
    command = [_program(), "credentials", "-p", args.project, "--hours", str(args.hours)]
    return command + renew + scopes.arguments(scope)


def _table(rows: list[list[Any]]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def _size(value: Any) -> str:
    return "-" if value is None else usage.size(value)


def run(args: argparse.Namespace) -> str:
    if args.command == "login":
        if not args.server:
            raise CliError("Name the site: latchkey login --server https://your-latchkey-site")
        return f"Logged in to {login(args.server, say=lambda m: print(m, flush=True))}."
    if args.command == "logout":
        logout()
        return "Logged out."
    if getattr(args, "project", None) is not None and not PROJECT.match(args.project):
        raise CliError(f"--project {args.project!r}: a project is its number, 3 to 20 digits.")
    scope = scopes.parse(read_only=args.read_only, buckets=args.bucket) if hasattr(args, "bucket") else None
    if args.command == "configure" and args.renew_minutes is not None and not args.credential_process:
        raise CliError("--renew-minutes goes with --credential-process.")
    api = Api()
    if args.command == "projects":
        rows = [["PROJECT", "TITLE", "ROLE", "USED", "QUOTA"]] + [
            [p["number"], p["title"], p["role"], _size(p["usage_bytes"]), _size(p["quota_bytes"])]
            for p in api.call("GET", "projects/")
        ]
        return _table(rows)
    if args.command == "usage":
        query = {"range": args.range, **({"bucket": args.one_bucket} if args.one_bucket else {})}
        history = api.call("GET", f"projects/{args.project}/usage/?{urlencode(query)}")
        return usage.as_csv(history) if args.csv else usage.as_table(history, _table)
    if args.command == "configure":
        if args.remove:
            return "\n".join(conf.remove(api, project=args.project))
        clients = conf.parse_clients(args.client, credential_process=args.credential_process)
        process = _process_command(args, scope) if args.credential_process else None
        lines = conf.configure(
            api,
            project=args.project,
            clients=clients,
            hours=args.hours,
            endpoint=args.endpoint,
            scope=scope,
            process=process,
        )
        return "Written:\n  " + "\n  ".join(lines)
    if args.command == "credentials":
        renew = creds.RENEW_MINUTES if args.renew_minutes is None else args.renew_minutes
        answer = creds.credentials(api, project=args.project, scope=scope, hours=args.hours, renew_minutes=renew)
        return json.dumps(answer)
    base = f"projects/{args.project}/keys/"
    if args.action == "list":
        keys = api.call("GET", base)
        rows = [["ACCESS KEY", "EXPIRES", "SCOPE", "DESCRIPTION"]] + [
            [k["access_key_id"], k["expires_at"], scopes.label(k.get("scope")), k["description"]] for k in keys
        ]
        return _table(rows) if keys else "No active keys."
    if args.action == "create":
        made = api.call("POST", base, scopes.key_body(description=args.description, hours=args.hours, scope=scope))
        return f"{made['key']['access_key_id']} {made['secret_key']}\n(the secret is shown only now)"
    if args.action == "extend":
        key = api.call("POST", f"{base}{args.access_key_id}/extend/", {"hours": args.hours})
        return f"{key['access_key_id']} now expires {key['expires_at']}"
    if args.action == "delete":
        api.call("DELETE", f"{base}{args.access_key_id}/")
        return f"{args.access_key_id} deleted."
    shown = api.call("POST", f"{base}{args.access_key_id}/reveal/", {})
    if args.plain:
        return f"{shown['key']['access_key_id']} {shown['secret_key']}"
    return f"access key: {shown['key']['access_key_id']}\nsecret key: {shown['secret_key']}"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        print(run(args))
    except (CliError, inifile.ConfigFileError) as exc:
        print(f"latchkey: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
