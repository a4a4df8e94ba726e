"""Security headers on every response, cookie flags under HTTPS, and the reverse proxy.

- Headers: a Content-Security-Policy without inline script or style and with
  ``frame-ancestors 'none'``, ``nosniff``, ``no-referrer`` (a QR URL carries an access code:
  it must never leak to another site in a Referer), and HSTS only on a request that really
  came over HTTPS (sent over plain HTTP a browser ignores it; sent on a development server it
  would pin ``localhost`` to HTTPS).
- ``HTTPS=1``: session and remember-me cookies get the ``Secure`` flag and URLs built outside
  a request use ``https``. ``HttpOnly`` and ``SameSite=Lax`` are always on (config).
- ``PROXY_COUNT=N`` (the number of reverse proxies in front of the app, usually 1): trust
  that many ``X-Forwarded-For/-Proto/-Host/-Prefix`` hops (werkzeug's ProxyFix), so rate limits
  key on the client's address rather than the proxy's, and HTTPS behind a TLS-terminating
  proxy is recognised. Without it the headers are ignored: anyone can send them.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


def _headers(response: Response) -> Response:
    h = response.headers
    # A view may set its own value (say a looser CSP); ours go in where it did not. One look
    # at the names already there, rather than a scan of them per header (setdefault).
    present = {name.lower() for name, _ in h.items()}
    h.extend([(name, value) for name, value in HEADERS if name.lower() not in present])
    if request.is_secure and "strict-transport-security" not in present:
        h["Strict-Transport-Security"] = HSTS
    return response


def configure_https(app: Flask) -> None:
    """``HTTPS`` on: cookies only travel over TLS, and external URLs say https."""
    if not app.config.get("HTTPS"):
        return
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["PREFERRED_URL_SCHEME"] = "https"


def configure_proxy(app: Flask) -> None:
    """Trust ``PROXY_COUNT`` reverse proxies' forwarding headers (none by default)."""
    hops = int(app.config.get("PROXY_COUNT") or 0)
    if hops < 0:
        raise RuntimeError("PROXY_COUNT must be 0 or more (the number of proxies in front).")
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )


def init_app(app: Flask) -> None:
    configure_https(app)
    configure_proxy(app)
    app.after_request(_headers)
