"""Node's certificate object (``tlsSocket.getPeerCertificate()``) from Python's ``ssl``.

Node describes a peer certificate as a plain object: ``subject`` and
``issuer`` keyed by OpenSSL's short names (``CN``, ``O``, ``OU``, ``C``,
``ST``, ``L``; a name given twice becomes a list), ``subjectaltname`` as
OpenSSL prints it (``"DNS:localhost, IP Address:127.0.0.1"``), ``valid_from``
/ ``valid_to`` in OpenSSL's date format, ``serialNumber`` in upper-case hex,
``fingerprint`` / ``fingerprint256`` / ``fingerprint512`` (SHA-1/256/512 of
the DER bytes, upper-case hex pairs joined by ``:``) and ``raw`` (the DER
bytes). Python's ``SSLObject.getpeercert()`` decodes a certificate only once
it was verified; for an unverified peer (``reject_unauthorized=False``) the
DER bytes are decoded by the same OpenSSL routine through
``ssl._ssl._test_decode_cert``, CPython's own helper. Node's key fields
(``modulus``, ``exponent``, ``pubkey``, ``bits``, ``ext_key_usage``,
``infoAccess``, ``ca``) are not given: Python's ``ssl`` does not expose them.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import tempfile
from typing import Any

__all__ = ["node_certificate"]

#: OpenSSL's long attribute names (Python's) to the short ones Node uses as keys.
_SHORT_NAMES = {
    "commonName": "CN",
    "countryName": "C",
    "stateOrProvinceName": "ST",
    "localityName": "L",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "streetAddress": "street",
    "domainComponent": "DC",
    "userId": "UID",
    "surname": "SN",
    "givenName": "GN",
}


def _name(rdns: Any) -> dict[str, Any]:
    """A distinguished name as Node's object: short keys, a repeated key as a list."""
    out: dict[str, Any] = {}
    for rdn in rdns or ():
        for key, value in rdn:
            key = _SHORT_NAMES.get(key, key)
            if key in out:
                prev = out[key]
                out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
            else:
                out[key] = value
    return out


def _fingerprint(der: bytes, algorithm: str) -> str:
    digest = hashlib.new(algorithm, der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _decode_der(der: bytes) -> dict[str, Any]:
    """OpenSSL's decoding of an unverified certificate (CPython's ``_test_decode_cert``)."""
    decode = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decode is None:
        return {}
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(ssl.DER_cert_to_PEM_cert(der))
        decoded: dict[str, Any] = decode(path)
        return decoded
    except (OSError, ValueError, ssl.SSLError):
        return {}
    finally:
        os.unlink(path)


def node_certificate(ssl_object: Any) -> dict[str, Any]:
    """The peer certificate of ``ssl_object`` (an ``SSLObject`` or a trio ``SSLStream``)
    as Node's ``getPeerCertificate()`` object; ``{}`` when the peer sent none."""
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return {}
    info = ssl_object.getpeercert() or _decode_der(der)
    cert: dict[str, Any] = {}
    if "subject" in info:
        cert["subject"] = _name(info["subject"])
    if "issuer" in info:
        cert["issuer"] = _name(info["issuer"])
    alt = info.get("subjectAltName")
    if alt:
        cert["subjectaltname"] = ", ".join(f"{kind}:{value}" for kind, value in alt)
    if "notBefore" in info:
        cert["valid_from"] = info["notBefore"]
    if "notAfter" in info:
        cert["valid_to"] = info["notAfter"]
    if "serialNumber" in info:
        cert["serialNumber"] = info["serialNumber"].upper()
    cert["fingerprint"] = _fingerprint(der, "sha1")
    cert["fingerprint256"] = _fingerprint(der, "sha256")
    cert["fingerprint512"] = _fingerprint(der, "sha512")
    cert["raw"] = der
    return cert
