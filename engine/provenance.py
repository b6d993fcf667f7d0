"""Provenance metadata for generated images: an IPTC/XMP packet and a signed C2PA manifest.

XMP: ``Iptc4xmpExt:DigitalSourceType`` = IPTC's ``trainedAlgorithmicMedia`` (what platforms read to label AI
images), the credit, creator tool, prompt and our trace id, in a PNG ``iTXt`` chunk ``XML:com.adobe.xmp`` or a
JPEG APP1 segment.

C2PA: a manifest with a ``c2pa.created`` action whose ``digitalSourceType`` is ``trainedAlgorithmicMedia`` and an
``org.mimic.generation`` assertion (trace id, artist, maker), signed with ES256 by the operator's key. When the
operator configures no key (``C2PA_CERT`` / ``C2PA_KEY``), ``ensure_signing_identity`` creates one on first run
under ``<var_dir>/c2pa/``: a local root CA (its private key is thrown away once it has issued the signing
certificate) and an end-entity certificate with digitalSignature usage and the emailProtection and
documentSigning extended usages that C2PA requires. Validators (contentcredentials.org/verify, c2patool) then
report the manifest as intact but **untrusted** (``signingCredential.untrusted``) because that root is on no
trust list: the bytes are still tamper-evident, but only a certificate issued by a CA on the C2PA trust list
makes the signer's identity trusted. To use one, set C2PA_CERT (PEM chain, end-entity first) and C2PA_KEY.

All of this is CPU work and blocking: engine/finalize.py runs it, in a thread (asyncio.to_thread).
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import os
import re
import secrets
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from data.embedded import c2pa_context, c2pa_store, xmp_packet
from data.settings import ConfigError

log = logging.getLogger(__name__)

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
GENERATION_ASSERTION = "org.mimic.generation"
MIMIC_NS = "https://mimic.invalid/ns/1.0/"  # our own XMP namespace for the trace id and names

_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "mimic": MIMIC_NS,
}
# our field name -> (XMP property, value kind); "alt" = rdf:Alt language alternative
_XMP_FIELDS = {
    "digital_source_type": ("Iptc4xmpExt:DigitalSourceType", "text"),
    "generator": ("xmp:CreatorTool", "text"),
    "ai_system": ("Iptc4xmpExt:AISystemUsed", "text"),
    "prompt": ("Iptc4xmpExt:AIPromptInformation", "text"),
    "credit": ("photoshop:Credit", "text"),
    "title": ("dc:title", "alt"),
    "description": ("dc:description", "alt"),
    "created": ("xmp:CreateDate", "text"),
    "trace_id": ("mimic:TraceId", "text"),
    "artist": ("mimic:Artist", "text"),
    "maker": ("mimic:Maker", "text"),
}
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class ProvenanceError(Exception):
    """Signing or reading provenance failed; the message is safe to show."""


# --- XMP ---------------------------------------------------------------------------------------------------


def build_xmp(fields: dict) -> str:
    """An XMP packet for ``fields`` (keys of _XMP_FIELDS); digital_source_type defaults to trainedAlgorithmicMedia."""
    unknown = set(fields) - set(_XMP_FIELDS)
    if unknown:
        raise ValueError(f"unknown XMP fields: {sorted(unknown)}")
    values = {"digital_source_type": TRAINED_ALGORITHMIC_MEDIA, **fields}
    lines = []
    for key, (prop, kind) in _XMP_FIELDS.items():
        value = values.get(key)
        if value is None or value == "":
            continue
        text = escape(_CONTROL_CHARS.sub("", str(value)))
        if kind == "alt":
            lines.append(f'   <{prop}><rdf:Alt><rdf:li xml:lang="x-default">{text}</rdf:li></rdf:Alt></{prop}>')
        else:
            lines.append(f"   <{prop}>{text}</{prop}>")
    declarations = "\n    ".join(f'xmlns:{p}="{u}"' for p, u in _NS.items() if p not in ("x", "rdf"))
    body = "\n".join(lines)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        f'<x:xmpmeta xmlns:x="{_NS["x"]}">\n'
        f' <rdf:RDF xmlns:rdf="{_NS["rdf"]}">\n'
        f'  <rdf:Description rdf:about=""\n    {declarations}>\n{body}\n  </rdf:Description>\n'
        " </rdf:RDF>\n</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


def encode_png(img: Image.Image, *, xmp_fields: dict, compress_level: int = 6) -> bytes:
    """PNG bytes of ``img`` with the XMP packet in an uncompressed iTXt chunk (placed before the pixels)."""
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", build_xmp(xmp_fields), zip=False)
    buf = io.BytesIO()
    img.save(buf, "PNG", pnginfo=info, compress_level=compress_level)
    return buf.getvalue()


def encode_jpeg(img: Image.Image, *, xmp_fields: dict, quality: int = 90) -> bytes:
    """JPEG bytes of ``img`` with the XMP packet in an APP1 segment."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality, xmp=build_xmp(xmp_fields).encode("utf-8"))
    return buf.getvalue()


def read_xmp(data: bytes) -> dict:
    """The XMP fields we know (see _XMP_FIELDS) found in PNG/JPEG/any bytes; {} when there is no usable packet.

    ``trace_id`` comes back as an int. Reads the raw bytes (no pixel decoding), so it works on any container
    that stores the packet uncompressed, as PNG iTXt (ours), JPEG APP1 and WebP do."""
    packet = xmp_packet(data)
    if packet is None:
        return {}
    try:
        root = ET.fromstring(packet)
    except ET.ParseError:
        return {}
    by_tag = {}
    for key, (prop, _) in _XMP_FIELDS.items():
        prefix, local = prop.split(":")
        by_tag[f"{{{_NS[prefix]}}}{local}"] = key
    found: dict = {}
    for desc in root.iter(f"{{{_NS['rdf']}}}Description"):
        for attr, value in desc.attrib.items():  # XMP may store simple properties as attributes
            if attr in by_tag:
                found.setdefault(by_tag[attr], value)
        for child in desc:
            if child.tag in by_tag:
                li = child.find(f".//{{{_NS['rdf']}}}li")
                text = (li.text if li is not None else child.text) or ""
                found.setdefault(by_tag[child.tag], text.strip())
    if "trace_id" in found:
        try:
            found["trace_id"] = int(found["trace_id"])
        except ValueError:
            del found["trace_id"]
    return found


# --- signing identity --------------------------------------------------------------------------------------


def ensure_signing_identity(cert_path: Path | None, key_path: Path | None, var_dir: Path) -> tuple[Path, Path]:
    """The (certificate chain PEM, private key PEM) to sign with: the configured pair, else a local one.

    The local pair lives in ``<var_dir>/c2pa/`` and is created once (atomically, so concurrent workers agree)."""
    if cert_path or key_path:
        if not (cert_path and key_path):
            raise ConfigError("C2PA_CERT and C2PA_KEY must be set together (or neither, for a local key)")
        for name, path in (("C2PA_CERT", cert_path), ("C2PA_KEY", key_path)):
            if not Path(path).is_file():
                raise ConfigError(f"{name}: no file at {path}")
        return Path(cert_path), Path(key_path)
    home = Path(var_dir) / "c2pa"
    cert, key = home / "signer-chain.pem", home / "signer-key.pem"
    if cert.is_file() and key.is_file():
        return cert, key
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = home.parent / f".c2pa-{secrets.token_hex(6)}"
    staging.mkdir(mode=0o700)
    chain_pem, key_pem = _new_local_identity()
    (staging / "signer-chain.pem").write_bytes(chain_pem)
    fd = os.open(staging / "signer-key.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    try:
        staging.rename(home)
        log.warning("created a local C2PA signing key in %s; validators will show it as untrusted until "
                    "C2PA_CERT/C2PA_KEY point at a CA-issued certificate", home)
    except OSError:  # another worker won the race: use its pair
        for child in staging.iterdir():
            child.unlink()
        staging.rmdir()
    return cert, key


def _new_local_identity() -> tuple[bytes, bytes]:
    """A throwaway root CA and an ES256 end-entity certificate meeting C2PA's signer profile."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=3650)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mimic operator (local, untrusted)")])

    def usage(**on: bool) -> x509.KeyUsage:
        flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                               "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
        return x509.KeyUsage(**{**flags, **on})

    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder().subject_name(name("mimic local root")).issuer_name(name("mimic local root"))
        .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        x509.CertificateBuilder().subject_name(name("mimic signer")).issuer_name(root.subject)
        .public_key(signer_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION,
                                              x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")]),  # documentSigning
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain = signer.public_bytes(pem) + root.public_bytes(pem)
    key = signer_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return chain, key


# --- C2PA --------------------------------------------------------------------------------------------------


def _c2pa_context():
    # no embedded thumbnail: the signed image is its own preview, and a thumbnail would add ~30 KB
    return c2pa_context(builder={"thumbnail": {"enabled": False}})


def sign_c2pa(image_bytes: bytes, mime: str, *, title: str, generator: str, trace_id: int, artist: str,
              maker: str, cert_path: Path, key_path: Path) -> bytes:
    """``image_bytes`` with an embedded C2PA manifest (created by a trained model), signed ES256."""
    import c2pa

    manifest = {
        "claim_generator_info": [{"name": "mimic", "version": _mimic_version()}],
        "title": title,
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": [{
                "action": "c2pa.created",
                "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                "softwareAgent": {"name": generator},
            }]}},
            {"label": GENERATION_ASSERTION, "data": {"trace_id": int(trace_id), "artist": artist, "maker": maker}},
        ],
    }
    try:
        info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, Path(cert_path).read_bytes(),
                                   Path(key_path).read_bytes(), None)
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest, context=_c2pa_context()) as builder:
            out = io.BytesIO()
            builder.sign(signer, mime, io.BytesIO(image_bytes), out)
            return out.getvalue()
    except (c2pa.C2paError, OSError) as exc:
        raise ProvenanceError(f"C2PA signing failed ({type(exc).__name__}); check C2PA_CERT/C2PA_KEY") from exc


def read_c2pa(data: bytes, mime: str | None = None) -> dict | None:
    """The C2PA manifest store in ``data`` as a dict, or None when there is none (or it cannot be parsed).

    Keys: ``active_manifest`` (label), ``manifests``, ``validation_status`` (problems; our local key shows
    ``signingCredential.untrusted``), ``validation_results``, ``validation_state`` ("Valid", "Invalid", ...),
    plus our conveniences ``manifest`` (the active one), ``generation`` (our assertion's data or None) and
    ``status_codes`` (the failure codes)."""
    store = c2pa_store(data, mime)
    if store is None:
        return None
    manifest = store["manifest"]
    store["generation"] = None
    for assertion in (manifest or {}).get("assertions", []):
        if assertion.get("label") == GENERATION_ASSERTION:
            store["generation"] = assertion.get("data")
    store["status_codes"] = [s.get("code") for s in store.get("validation_status") or []]
    return store


def _mimic_version() -> str:
    try:
        return version("mimic")
    except PackageNotFoundError:
        return "0.1.0"
