"""``eligibility serve``: the JSON API and the intake page on a local server (uvicorn)."""

from __future__ import annotations

import ipaddress
import socket

import click

import eligibility

from ._shared import UserError, user_errors
from .main import rules_option


def is_loopback(host: str) -> bool:
    """Whether ``host`` can be reached only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port), or a one-line error."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise UserError(f"--host: cannot resolve '{host}': {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UserError(f"--port: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback only by default)."
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0: any free port)."
)
@rules_option
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Decision log: append each request's decision record to this JSON Lines file.",
)
@click.option(
    "--max-body",
    type=click.IntRange(min=1024),
    default=1 << 20,
    show_default=True,
    help="Largest request body in bytes (larger: 413).",
)
@click.option(
    "--max-batch",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Most cases in one POST /v1/batch (more: 413).",
)
@click.option("--access-log", is_flag=True, help="Print one line per request.")
@user_errors
def serve(
    host: str,
    port: int,
    rules_dir: str | None,
    log_path: str | None,
    max_body: int,
    max_batch: int,
    access_log: bool,
) -> None:
    """Serve the JSON API (/v1, OpenAPI at /openapi.json) and the intake page (/) until Ctrl+C.

    \b
    eligibility serve            # then open http://127.0.0.1:8000/
    """
    import uvicorn

    from .web import Limits, create_app
    from .web.app import LOOPBACK_NAMES, DecisionLog

    ruleset = eligibility.load_rules(rules_dir, extend=True)
    if not is_loopback(host):
        click.echo(
            f"warning: listening on {host}: other machines can reach this server, which has no "
            "authentication and no encryption; put it behind a proxy that has both",
            err=True,
        )
    log = None
    if log_path is not None:
        try:
            log = DecisionLog(log_path)
        except OSError as exc:
            raise UserError(f"--log: cannot write {log_path}: {exc.strerror}") from None
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    # bound to loopback, a request must name this machine (a page elsewhere cannot rebind its name here)
    hosts = LOOPBACK_NAMES | {host.lower()} if is_loopback(host) else None
    app = create_app(ruleset, log=log, limits=Limits(max_body=max_body, max_batch=max_batch), hosts=hosts)
    config = uvicorn.Config(
        app,
        log_level="info" if access_log else "warning",
        access_log=access_log,
        server_header=False,
        limit_concurrency=512,
        timeout_keep_alive=5,
    )
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"eligibility serve: http://{shown}:{bound}/  (API: /v1, OpenAPI: /openapi.json; Ctrl+C stops)"
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        if log is not None:
            log.close()


if __name__ == "__main__":  # python -m eligibility_cli.serve: the same command
    serve(prog_name="eligibility serve")
