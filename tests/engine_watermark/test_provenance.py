"""XMP and C2PA on the final image: present, carrying trainedAlgorithmicMedia, signed by our key, tamper-evident."""
from __future__ import annotations

import io
import stat

import pytest
from PIL import Image

from data.settings import ConfigError
from engine import provenance as pv
from engine.finalize import finalize_image
from engine.invisible_mark import read_trace_id

from .images import shapes
from .pngbytes import chunks, strip_chunks, tamper_pixels

TRACE_ID = 31_415_926_535


@pytest.fixture(scope="module")
def final_png(signing_var_dir) -> bytes:
    return finalize_image(shapes(64), trace_id=TRACE_ID, artist="aoi_art", maker="Aoi soft",
                             prompt='a cat & "friends" <3', generator="mimic test / tiny", var_dir=signing_var_dir)


def test_final_image_is_a_marked_png(final_png):
    img = Image.open(io.BytesIO(final_png))
    assert img.format == "PNG" and min(img.size) >= 512
    assert read_trace_id(img) == TRACE_ID


def test_xmp_carries_trained_algorithmic_media_and_the_credit(final_png):
    assert b"XML:com.adobe.xmp" in final_png  # the standard iTXt keyword
    xmp = pv.read_xmp(final_png)
    assert xmp["digital_source_type"] == pv.TRAINED_ALGORITHMIC_MEDIA
    assert xmp["trace_id"] == TRACE_ID
    assert xmp["credit"] == "AI · Aoi soft by @aoi_art"
    assert xmp["prompt"] == 'a cat & "friends" <3'  # escaped on the way in, intact on the way out
    assert xmp["generator"] == "mimic test / tiny"
    # Pillow, an independent reader, sees the same packet
    assert pv.TRAINED_ALGORITHMIC_MEDIA in Image.open(io.BytesIO(final_png)).info["XML:com.adobe.xmp"]


def test_c2pa_manifest_is_signed_by_our_certificate(final_png, signing_identity):
    store = pv.read_c2pa(final_png, "image/png")
    assert store is not None
    assert store["validation_state"] == "Valid"  # intact; "Trusted" needs a CA on the C2PA trust list
    assert store["status_codes"] == ["signingCredential.untrusted"]  # only the local root is unknown
    success = {s["code"] for s in store["validation_results"]["activeManifest"]["success"]}
    assert {"claimSignature.validated", "assertion.dataHash.match"} <= success
    manifest = store["manifest"]
    assert manifest["signature_info"]["common_name"] == "mimic signer"
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert actions[0]["action"] == "c2pa.created"
    assert actions[0]["digitalSourceType"] == pv.TRAINED_ALGORITHMIC_MEDIA
    assert store["generation"] == {"trace_id": TRACE_ID, "artist": "aoi_art", "maker": "Aoi soft"}


def test_tampered_pixels_invalidate_the_manifest(final_png):
    tampered = tamper_pixels(final_png)
    assert Image.open(io.BytesIO(tampered)).tobytes() != Image.open(io.BytesIO(final_png)).tobytes()
    store = pv.read_c2pa(tampered)
    assert store is not None and store["validation_state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in store["status_codes"]


def test_stripped_or_missing_manifest_reads_as_none(final_png):
    assert pv.read_c2pa(strip_chunks(final_png, b"caBX")) is None
    assert pv.read_c2pa(b"not an image at all") is None
    assert pv.read_c2pa(b"\x89PNG\r\n\x1a\n garbage") is None
    assert pv.read_xmp(b"no packet here") == {}
    assert pv.read_xmp(b'<x:xmpmeta><!DOCTYPE x [<!ENTITY a "b">]></x:xmpmeta>') == {}


def test_jpeg_with_xmp_and_c2pa(signing_identity):
    cert, key = signing_identity
    jpeg = pv.encode_jpeg(shapes(256), xmp_fields={"trace_id": 7, "artist": "aoi", "maker": "Aoi"})
    assert pv.read_xmp(jpeg)["digital_source_type"] == pv.TRAINED_ALGORITHMIC_MEDIA
    signed = pv.sign_c2pa(jpeg, "image/jpeg", title="t.jpg", generator="g", trace_id=7, artist="aoi",
                          maker="Aoi", cert_path=cert, key_path=key)
    store = pv.read_c2pa(signed)
    assert store["validation_state"] == "Valid" and store["generation"]["trace_id"] == 7
    assert pv.read_xmp(signed)["trace_id"] == 7  # signing keeps our APP1 packet


def test_local_identity_is_created_once_and_private(tmp_path):
    cert, key = pv.ensure_signing_identity(None, None, tmp_path)
    assert cert.read_bytes().count(b"BEGIN CERTIFICATE") == 2  # signer + local root
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    assert pv.ensure_signing_identity(None, None, tmp_path) == (cert, key)
    assert key.read_bytes() == before


def test_configured_identity_is_used_and_checked(tmp_path, signing_identity):
    cert, key = signing_identity
    assert pv.ensure_signing_identity(cert, key, tmp_path) == (cert, key)
    assert not (tmp_path / "c2pa").exists()
    with pytest.raises(ConfigError, match="together"):
        pv.ensure_signing_identity(cert, None, tmp_path)
    with pytest.raises(ConfigError, match="C2PA_KEY"):
        pv.ensure_signing_identity(cert, tmp_path / "missing.pem", tmp_path)


def test_a_bad_key_is_a_clear_error(tmp_path, signing_identity):
    cert, _ = signing_identity
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    png = pv.encode_png(shapes(64), xmp_fields={})
    with pytest.raises(pv.ProvenanceError, match="C2PA signing failed"):
        pv.sign_c2pa(png, "image/png", title="t", generator="g", trace_id=1, artist="a", maker="m",
                     cert_path=cert, key_path=bad)


def test_unknown_xmp_fields_are_refused():
    with pytest.raises(ValueError, match="unknown XMP"):
        pv.build_xmp({"tracid": 1})


def test_xmp_chunk_precedes_pixels(final_png):
    kinds = [k for k, _ in chunks(final_png)]
    assert kinds.index(b"iTXt") < kinds.index(b"IDAT")


def test_reading_never_fetches_a_remote_manifest(signing_identity):
    """An upload may point at a remote manifest URL; the stock reader would fetch it (SSRF), ours must not."""
    import http.server
    import threading

    import c2pa

    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cert, key = signing_identity
        manifest = {"claim_generator_info": [{"name": "elsewhere"}], "title": "t", "format": "image/png",
                    "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [
                        {"action": "c2pa.created", "digitalSourceType": pv.TRAINED_ALGORITHMIC_MEDIA}]}}]}
        info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, cert.read_bytes(), key.read_bytes(), None)
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
            builder.set_no_embed()
            builder.set_remote_url(f"http://127.0.0.1:{server.server_port}/manifest.c2pa")
            out = io.BytesIO()
            builder.sign(signer, "image/png", io.BytesIO(pv.encode_png(shapes(100), xmp_fields={})), out)
        assert pv.read_c2pa(out.getvalue()) is None
        assert requests == []
    finally:
        server.shutdown()
        server.server_close()
