"""``python -m mock_wechat --host 127.0.0.1 --port N [--appid ID --secret S]``

Serves the mock with werkzeug's threaded server and prints the base URL on the first line of
stdout (then the two idsvc settings that point at it).  ``--port 0`` picks a free port.
"""

from __future__ import annotations

import argparse
import signal
import sys

from mock_wechat import create_app
from mock_wechat.serving import make_mock_server


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m mock_wechat", description="Offline mock of WeChat web OAuth2 and the official-account API."
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    p.add_argument("--appid", help="default: $IDSVC_WECHAT_APPID or wx_dev_appid")
    p.add_argument("--secret", help="default: $IDSVC_WECHAT_SECRET or dev_secret")
    p.add_argument("--default-openid", default=None, help="openid when no header/cookie names one")
    p.add_argument(
        "--public-url",
        help="idsvc's public URL; its host is the allowed redirect_uri host "
        "(default: $IDSVC_PUBLIC_URL or http://127.0.0.1:8000)",
    )
    p.add_argument(
        "--redirect-host",
        action="append",
        dest="redirect_hosts",
        help="allowed redirect_uri host, like WeChat's 网页授权域名 (repeatable; replaces --public-url's host)",
    )
    p.add_argument(
        "--require-wechat-ua",
        action="store_true",
        help="refuse to authorise browsers without MicroMessenger in the User-Agent",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    extra = {"default_openid": args.default_openid} if args.default_openid else {}
    app = create_app(
        args.appid,
        args.secret,
        redirect_hosts=args.redirect_hosts,
        require_wechat_ua=args.require_wechat_ua,
        public_url=args.public_url,
        **extra,
    )
    server = make_mock_server(app, args.host, args.port)
    host = f"[{args.host}]" if ":" in args.host else args.host
    base = f"http://{host}:{server.port}"
    appid = app.extensions["mock_wechat"].config.appid
    print(base)
    print(f"IDSVC_WECHAT_API_BASE={base}/")
    print(f"IDSVC_WECHAT_OAUTH_BASE={base}/connect/")
    print(f"IDSVC_WECHAT_APPID={appid}")  # the secret is never printed
    print(f"redirect_uri hosts: {', '.join(sorted(app.extensions['mock_wechat'].config.redirect_hosts))}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
