"""The nginx configuration in front of the app replicas, and the command that runs nginx on it.

nginx runs in the foreground (`daemon off`) with every path it writes (pid, temp folders) inside
one private folder, and its errors on stderr: nothing under /etc or /var is read or written.

What the configuration does, and why:
- Gradio behind a proxy (checked against gradio 6.31's route_utils.get_request_origin): its
  event streams must not be buffered (`proxy_buffering off`); it builds the app's public address
  as "http://" + X-Forwarded-Host, so that header must carry the port the browser used
  (`$http_host`, not `$host`, which drops it), and X-Forwarded-Proto must say "https" when TLS
  ends in front of nginx. It is served at "/", so no root_path is needed (one under a sub-path
  would need `root_path` in the app's launch). Upgrade/Connection are passed for websockets;
  otherwise Connection is cleared so connections to the replicas are kept alive.
- Stickiness: a Gradio session (the chat's state, its queue events and their result stream,
  all keyed by the session_hash the browser or gradio_client makes up) lives in one replica's
  memory, so every request of a session must reach the same replica. Every user here comes
  from 127.0.0.1, so the client address would put everyone on one replica. nginx gives each
  client a random cookie (`gist_route`, on its first response: the page for a browser,
  /config for gradio_client, which sends the cookies of that first response with every later
  request) and picks the replica by a consistent hash of it, which also keeps most sessions
  where they were when a replica joins or leaves. A client that keeps no cookies (curl) is
  hashed by its address instead, so its POST /gradio_api/call/ask and the GET of that
  event's result still meet on one replica. Hashing Gradio's session_hash itself would mean
  parsing request bodies (it is in the JSON of /queue/join) in nginx.
- POST /api/answer is stateless: its own upstream, round robin, and an answer interrupted by
  a failing replica is asked again of another one (`non_idempotent`: answering changes
  nothing).
- Passive failover: a replica that refuses a connection or times out is skipped for
  FAIL_TIMEOUT seconds (`max_fails=1`), and the request goes to the next one; for
  /api/answer, so is one answering 502/503. Gradio's POSTs (the queue join) are retried after
  a connection error too (`non_idempotent`): without it, a join sent on a kept-alive
  connection to a replica that had just died failed (nginx answered 502, which gradio_client
  reports as "Queue is full"; 4 of 423 requests after a kill). A dead replica is out of the
  hash for FAIL_TIMEOUT, so the session's result stream goes where the retry went. A live
  replica's own 503 (Gradio's queue is full) is passed on, not retried: the client is told to
  try again, and the sessions on that replica stay where their state is.
- Rate limit per client on the answering endpoints (POST /api/answer, and Gradio's queue
  join, /call/, /run/ and /api/ routes): `limit_req` keyed by the client address. Behind a
  TLS terminator or another proxy on this machine every client is 127.0.0.1, so the realip
  module takes the client's address from X-Forwarded-For, trusted from loopback only. Over
  the limit: 429 with a JSON message and Retry-After.
- No access log: patients' questions are health information (see README, Privacy).
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

from serving.json_api import MAX_BODY_BYTES

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
COOKIE = "gist_route"
FAIL_TIMEOUT = 10  # seconds a failed replica is left out before nginx tries it again
ANSWER_BODY = f"{MAX_BODY_BYTES // 1024}k"  # Contract 5: 413 for a body over 64 KB
# Gradio's chat event sends the whole conversation shown so far (each turn's answer as HTML),
# so its bodies grow with the conversation; 4 MB is hundreds of turns.
GRADIO_BODY = "4m"


@dataclass(frozen=True)
class Limits:
    """Answering requests per client: `rate` per second on average, `burst` at once."""

    rate: int = 5
    burst: int = 20


def _worker_user() -> str:
    """Started as root, nginx's workers drop to an unprivileged user; name it with its own
    group (nginx's default group "nobody" does not exist on Debian)."""
    if os.geteuid() != 0:
        return ""
    user = pwd.getpwnam("nobody")
    return f"user nobody {grp.getgrgid(user.pw_gid).gr_name};"


def _json_error(status: int, message: str) -> str:
    return f'default_type application/json;\nreturn {status} \'{{"error": "{message}"}}\';'


# A location proxied to a Gradio replica, the same replica for every request of a session.
GRADIO_PROXY = f"""client_max_body_size {GRADIO_BODY};
proxy_pass http://gist_sessions;
proxy_http_version 1.1;
proxy_set_header Host $http_host;
proxy_set_header Upgrade $http_upgrade;
proxy_set_header Connection $connection_upgrade;
proxy_set_header X-Forwarded-Host $http_host;
proxy_set_header X-Forwarded-Proto $scheme;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_buffering off;
proxy_cache off;
proxy_redirect off;
proxy_connect_timeout 2s;
proxy_read_timeout 1h;
proxy_next_upstream error timeout non_idempotent;
add_header Set-Cookie $gist_set_cookie;"""


def _block(text: str, depth: int) -> str:
    return textwrap.indent(text, "    " * depth).lstrip()


def render_config(
    prefix: Path, host: str, port: int, replica_ports: list[int], limits: Limits = Limits()
) -> str:
    """nginx.conf for nginx on host:port in front of replicas on 127.0.0.1:replica_ports."""
    servers = "\n".join(
        f"server 127.0.0.1:{p} max_fails=1 fail_timeout={FAIL_TIMEOUT}s;" for p in replica_ports
    )
    servers += "\nkeepalive 32;"
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    limit = f"limit_req zone=answers burst={limits.burst} nodelay;"
    too_many = "too many questions from this client at once; try again shortly"
    return f"""# Generated by serving/nginx.py for one `python -m serving.replicas` run.
daemon off;
master_process on;
worker_processes 1;
{_worker_user()}
pid {prefix}/nginx.pid;
error_log stderr error;

events {{
    worker_connections 4096;
}}

http {{
    access_log off;
    server_tokens off;
    default_type application/octet-stream;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    client_body_buffer_size 64k;

    # Who the client is: behind a proxy on this machine, the address it forwards.
    set_real_ip_from 127.0.0.1;
    set_real_ip_from ::1;
    real_ip_header X-Forwarded-For;

    # Only answering requests (POSTs) count against a client's rate; an empty key is not counted.
    map $request_method $answer_client {{
        POST $binary_remote_addr;
        default "";
    }}
    limit_req_zone $answer_client zone=answers:10m rate={limits.rate}r/s;
    limit_req_status 429;
    limit_req_log_level warn;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        "" "";
    }}
    # The stickiness key: the client's cookie, or its address until it has one.
    map $cookie_{COOKIE} $gist_route {{
        "" $remote_addr;
        default $cookie_{COOKIE};
    }}
    map $cookie_{COOKIE} $gist_set_cookie {{
        "" "{COOKIE}=$request_id; Path=/; HttpOnly; SameSite=Lax";
        default "";
    }}

    upstream gist_sessions {{
        hash $gist_route consistent;
        {_block(servers, 2)}
    }}
    upstream gist_stateless {{
        {_block(servers, 2)}
    }}

    server {{
        listen {listen};
        error_page 429 = @too_many;
        error_page 413 = @too_large;
        error_page 502 503 504 = @unavailable;

        location = /api/answer {{
            {limit}
            client_max_body_size {ANSWER_BODY};
            proxy_pass http://gist_stateless;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout http_502 http_503 non_idempotent;
        }}
        location ~ ^/gradio_api/(queue/join|call/|run/|api/) {{
            {limit}
            {_block(GRADIO_PROXY, 3)}
        }}
        location / {{
            {_block(GRADIO_PROXY, 3)}
        }}
        location @too_many {{
            add_header Retry-After 1 always;
            {_block(_json_error(429, too_many), 3)}
        }}
        location @too_large {{
            {_block(_json_error(413, "the request body is too large"), 3)}
        }}
        location @unavailable {{
            {_block(_json_error(503, "no replica is answering right now; try again shortly"), 3)}
        }}
    }}
}}
"""


def nginx_command(prefix: Path, config: str) -> list[str]:
    """Write `config` into `prefix` and check it; the command that runs nginx on it in the
    foreground. RuntimeError with nginx's own message if it is missing or refuses the config."""
    if not Path(NGINX).exists():
        raise RuntimeError("nginx is not installed: apt-get install -y nginx")
    prefix.mkdir(parents=True, exist_ok=True)
    prefix.chmod(0o755)  # its workers (an unprivileged user under root) write temp files here
    conf = prefix / "nginx.conf"
    conf.write_text(config, encoding="utf-8")
    command = [NGINX, "-p", str(prefix), "-c", str(conf), "-e", "stderr"]
    test = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True)
    if test.returncode:
        raise RuntimeError(f"nginx refused its configuration: {test.stderr.strip()}")
    return command
