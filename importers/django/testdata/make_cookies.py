#!/usr/bin/python3
"""Make Django signed-cookie sessions for the Go importer's tests.

Every cookie comes from Django itself: its signed_cookies SessionStore (the
backend's salt, the JSON serializer, zlib when it pays) or, for the cases the
store cannot make (another salt, a SHA-1 signature), its signing module. Each
case records what Django's own signing.loads says of the cookie at the
instant "at" (time mocked), next to what the importer must say ("expect"):
they differ only where a case's "note" says why.

Usage: /usr/bin/python3 make_cookies.py > django-cookies.json
(Debian's python3-django; the output names the Django version.)
"""

import json
import sys
import time
from unittest import mock

import django
from django.conf import settings

SECRET = "django-insecure-go-importer-test-key-0123456789abcdefghij"
OLD_SECRET = "django-insecure-the-key-before-rotation-9876543210zyxwvu"
SALT = "django.contrib.sessions.backends.signed_cookies"
MAX_AGE = 1209600  # SESSION_COOKIE_AGE's default, two weeks

settings.configure(
    SECRET_KEY=SECRET,
    INSTALLED_APPS=["django.contrib.sessions"],
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    USE_TZ=True,
)
django.setup()

from django.contrib.sessions.backends.signed_cookies import SessionStore  # noqa: E402
from django.core import signing  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

LOGGED_IN = {
    "_auth_user_id": "42",
    "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
    "_auth_user_hash": "5f4dcc3b5aa765d61d8327deb882cf99a1b2c3d4e5f60718293a4b5c6d7e8f90",
    "cart": [1, 2, 3],
    "greeting": "Grüße, 世界 \"quoted\" \\ </script>",
    "price": 12.5,
    "flags": {"beta": True, "none": None},
    "big": 9007199254740993,
}
LARGE = {"_auth_user_id": "7", "history": ["/products/%d/reviews?page=1" % i for i in range(40)]}


def store(values, secret=SECRET, expiry=None):
    """A cookie made by the signed_cookies SessionStore, as Django's
    SessionMiddleware sets it."""
    with override_settings(SECRET_KEY=secret):
        s = SessionStore()
        s.update(values)
        if expiry is not None:
            s.set_expiry(expiry)
        s.save()
        return s.session_key


def django_says(cookie, at, secret=SECRET, max_age=MAX_AGE, salt=SALT):
    """What Django's signing.loads, as the backend calls it, says at at."""
    with mock.patch("time.time", return_value=float(at)):
        try:
            signing.loads(cookie, key=secret, salt=salt, max_age=max_age)
        except signing.SignatureExpired:
            return "expired"
        except signing.BadSignature:
            return "invalid"
    return "ok"


def timestamp(cookie):
    return signing.b62_decode(cookie.split(":")[-2]) if hasattr(signing, "b62_decode") else \
        __import__("django.utils.baseconv", fromlist=["base62"]).base62.decode(cookie.split(":")[-2])


def flip(s, i):
    return s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:]


cases = []


def case(name, cookie, values, at_offset, expect, secret=SECRET, fallback=(), max_age=MAX_AGE,
         legacy_sha1=False, django_check=None, note=None):
    ts = int(timestamp(cookie))
    at = ts + at_offset
    said = django_says(cookie, at, **(django_check or {"secret": secret, "max_age": max_age}))
    if note is None and said != expect:
        sys.exit("case %s: Django says %s, the case expects %s" % (name, said, expect))
    cases.append({
        "name": name,
        "cookie": cookie,
        "config": {"secret_key": secret, "fallback_keys": list(fallback), "max_age": max_age,
                   "legacy_sha1": legacy_sha1},
        "timestamp": ts,
        "at": at,
        "expect": expect,
        "django": said,
        "compressed": cookie.startswith("."),
        "values": values if expect == "ok" else None,
        "note": note,
    })


plain = store(LOGGED_IN)
case("store, logged in", plain, LOGGED_IN, 60, "ok")
case("store, at SESSION_COOKIE_AGE", plain, LOGGED_IN, MAX_AGE, "ok")
case("store, past SESSION_COOKIE_AGE", plain, None, MAX_AGE + 1, "expired")
case("store, shorter SESSION_COOKIE_AGE", plain, None, 3601, "expired", max_age=3600)

large = store(LARGE)
assert large.startswith("."), "a large repetitive session is compressed"
case("store, compressed", large, LARGE, 60, "ok")

tiny = store({"n": 1})
assert not tiny.startswith("."), "a tiny session is not compressed"
case("store, not compressed", tiny, {"n": 1}, 0, "ok")

case("tampered payload", flip(plain, 3), None, 60, "invalid")
case("tampered compressed payload", flip(large, 10), None, 60, "invalid")
case("tampered signature", flip(plain, len(plain) - 5), None, 60, "invalid")
case("tampered timestamp", plain.rsplit(":", 2)[0] + ":" + flip(plain.rsplit(":", 2)[1], 0) + ":" +
     plain.rsplit(":", 1)[1], None, 60, "invalid")
case("another SECRET_KEY", plain, None, 60, "invalid", secret=OLD_SECRET)

before = store(LOGGED_IN, secret=OLD_SECRET)
case("SECRET_KEY_FALLBACKS", before, LOGGED_IN, 60, "ok", fallback=[OLD_SECRET],
     django_check={"secret": OLD_SECRET})
case("rotated key without fallback", before, None, 60, "invalid")

other_salt = signing.dumps(LOGGED_IN, compress=True)
case("signing.dumps with its default salt", other_salt, None, 60, "invalid")

sha1 = signing.TimestampSigner(key=SECRET, salt=SALT, algorithm="sha1").sign_object(LOGGED_IN, compress=True)
case("legacy SHA-1 signature", sha1, LOGGED_IN, 60, "ok", legacy_sha1=True,
     note="with LegacySHA1, as Django 3.1 and 3.2 accept it; Django 4.0 and later refuse it")
case("legacy SHA-1 signature, not accepted", sha1, None, 60, "invalid",
     note="Django 3.1 and 3.2 accept SHA-1 signatures; 4.0 and later refuse them, as the importer does by default")

short = store(LOGGED_IN, expiry=300)
short_values = dict(LOGGED_IN, _session_expiry=300)
case("set_expiry(300), within", short, short_values, 299, "ok")
case("set_expiry(300), past", short, None, 301, "expired",
     note="Django's backend does not check set_expiry on load (ticket 19201), but the cookie's Max-Age was 300: the browser dropped it")

json.dump({"django": django.get_version(), "made_at": int(time.time()), "cases": cases}, sys.stdout, indent=1,
          ensure_ascii=False)
sys.stdout.write("\n")
