"""What a file says about itself, on every upload and remake input: a file whose metadata forbids AI training, names
another creator, or says it was generated (our own outputs) is refused with a reason in the uploader's language;
a matching creator supports the verdict; a moderator can allow a file. Refused uploads leave nothing in the blob
store, and `prune_orphans` removes what earlier versions left."""
from __future__ import annotations

import io
import os
import time
from pathlib import Path

import c2pa
import pytest
from PIL import Image
from sqlmodel import select

from bot.core import Actor, Refusal
from bot.core.generations import request_generation
from bot.core.makers import Upload, create_maker
from bot.core.ownership import allow_file, prune_orphans
from bot.i18n import t
from data.models import Maker, MakerStatus
from engine.provenance import _c2pa_context, encode_png, ensure_signing_identity
from tests.core import test_disputes
from tests.core.test_disputes import ARTIST_DATES, link
from verification.provenance import creator_matches, identity_names, judge, read_provenance
from verification.synthetic import draw_illustration

PLUS = "http://ns.useplus.org/ldf/xmp/1.0/"
world = test_disputes.world  # the fake Bluesky with aoi, a thief and a moderator


def xmp(body: str) -> bytes:
    return (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:plus="{PLUS}" '
            f'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">{body}</rdf:Description></rdf:RDF>'
            "</x:xmpmeta>").encode()


def jpeg(img, *, meta: bytes | None = None, artist: str | None = None) -> bytes:
    buffer = io.BytesIO()
    exif = Image.Exif()
    if artist:
        exif[0x013B] = artist
    img.convert("RGB").save(buffer, "JPEG", quality=85, **({"xmp": meta} if meta else {}), exif=exif.tobytes())
    return buffer.getvalue()


def c2pa_signed(data: bytes, var_dir: Path, *, author: str, no_training: bool = False) -> bytes:
    cert, key = ensure_signing_identity(None, None, var_dir)
    assertions = [{"label": "c2pa.actions.v2", "data": {"actions": [{
                      "action": "c2pa.created",
                      "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation"}]}},
                  {"label": "stds.schema-org.CreativeWork",
                   "data": {"@context": "https://schema.org", "@type": "CreativeWork",
                            "author": [{"@type": "Person", "name": author}]}}]
    if no_training:
        assertions.append({"label": "cawg.training-mining",
                           "data": {"entries": {"cawg.ai_training": {"use": "notAllowed"}}}})
    manifest = {"claim_generator_info": [{"name": "paint app", "version": "1"}], "title": "art",
                "format": "image/jpeg", "assertions": assertions}
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, cert.read_bytes(), key.read_bytes(), None)
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest, context=_c2pa_context()) as builder:
        out = io.BytesIO()
        builder.sign(signer, "image/jpeg", io.BytesIO(data), out)
        return out.getvalue()


def stored(ctx) -> set[str]:
    return set(ctx.blobs.listing())


def test_reading_and_judging_metadata(tmp_path):
    img = draw_illustration(3, (128, 128))
    forbid = read_provenance(jpeg(img, meta=xmp(
        f"<plus:DataMining><rdf:Seq><rdf:li>{PLUS[:-len('xmp/1.0/')]}vocab/DMI-PROHIBITED-AIMLTRAINING</rdf:li>"
        "</rdf:Seq></plus:DataMining>")))
    assert [s.value for s in forbid.no_training] == ["DMI-PROHIBITED-AIMLTRAINING"]
    attr = read_provenance(jpeg(img, meta=xmp("").replace(b'rdf:about=""', b'rdf:about="" '
                                                          b'plus:DataMining="DMI-PROHIBITED-GENAIMLTRAINING"')))
    assert [s.value for s in attr.no_training] == ["DMI-PROHIBITED-GENAIMLTRAINING"]
    allowed = read_provenance(jpeg(img, meta=xmp("<plus:DataMining>DMI-ALLOWED</plus:DataMining>")))
    assert allowed.no_training == []
    creators = read_provenance(jpeg(img, artist="Kuro", meta=xmp(
        "<dc:creator><rdf:Seq><rdf:li>Kuro Tanaka</rdf:li></rdf:Seq></dc:creator>"
        "<photoshop:Credit>kuro studio</photoshop:Credit>")))
    assert {(s.source, s.value) for s in creators.creators} == {
        ("XMP dc:creator", "Kuro Tanaka"), ("XMP photoshop:Credit", "kuro studio"), ("EXIF Artist", "Kuro")}
    signed = read_provenance(c2pa_signed(jpeg(img), tmp_path, author="Kuro Tanaka", no_training=True))
    assert signed.c2pa and signed.c2pa_valid and signed.c2pa_signer
    assert [s.value for s in signed.creators] == ["Kuro Tanaka"] and signed.no_training
    ours = read_provenance(encode_png(img, xmp_fields={"credit": "aoi"}))
    assert [s.value for s in ours.generated] == ["trainedAlgorithmicMedia"]
    assert read_provenance(b"not an image at all").empty
    me = identity_names(["aoi.bsky.social", "@aoi_draws@mastodon.example"], ["Aoi"])
    assert creator_matches("© 2020 aoi_draws. All rights reserved.", me) and creator_matches("Aoi Tanaka", me)
    assert not creator_matches("Kuro Tanaka", me)
    assert judge(ours, me, training=False).allowed and not judge(ours, me, training=True).allowed


async def test_uploads_that_forbid_training_or_name_someone_else_are_refused_in_both_languages(world, ctx, tmp_path):
    core, fake, ids, drawings = world
    await link(core, fake, ids["aoi"], "aoi.bsky.social", drawings, ARTIST_DATES)
    aoi = Actor(user_id=ids["aoi"], locale="ja")
    before = stored(ctx)
    forbidding = jpeg(drawings[0], meta=xmp("<plus:DataMining>http://ns.useplus.org/ldf/vocab/"
                                            "DMI-PROHIBITED-AIMLTRAINING</plus:DataMining>"))
    someone_else = c2pa_signed(jpeg(drawings[1]), tmp_path, author="Kuro Tanaka")
    generated = encode_png(drawings[2], xmp_fields={"credit": "aoi"})
    with pytest.raises(Refusal) as refused:
        await create_maker(core, aoi, "aoi", [Upload("dmi.jpg", forbidding), Upload("c2pa.jpg", someone_else),
                                              Upload("ours.png", generated)])
    assert refused.value.key == "maker.nothing_accepted"
    details = refused.value.params["details"]
    english = [str(d) for d in details]
    assert english[0] == ("dmi.jpg: the file's own metadata forbids AI training (XMP plus:DataMining: "
                          "DMI-PROHIBITED-AIMLTRAINING)")
    assert english[1].startswith("c2pa.jpg: the file names its creator as “Kuro Tanaka” (C2PA (signed by ")
    assert "ours.png: the file says it was made by AI" in english[2]
    japanese = t(refused.value.key, "ja", **refused.value.params)
    assert "AI学習を禁止" in japanese and "「Kuro Tanaka」" in japanese and "生成画像は学習に使いません" in japanese
    assert stored(ctx) == before  # nothing of a refused upload was kept

    # a matching creator is supporting evidence; a moderator can allow the refused C2PA file
    mine = jpeg(drawings[3], artist="Aoi", meta=xmp("<dc:creator><rdf:Seq><rdf:li>aoi</rdf:li></rdf:Seq>"
                                                     "</dc:creator>"))
    sha = english[1].rsplit("(file ", 1)[1].rstrip(")")
    mod = Actor(user_id=ids["mod"], is_moderator=True)
    with pytest.raises(Refusal, match="permission.moderator_only"):
        await allow_file(core, aoi, ids["aoi"], sha)
    await allow_file(core, mod, ids["aoi"], sha, note="aoi's studio signs their files")
    created = await create_maker(core, aoi, "aoi", [Upload("mine.jpg", mine), Upload("c2pa.jpg", someone_else)])
    assert [c.filename for c in created.accepted] == ["mine.jpg", "c2pa.jpg"]
    assert "names the uploader as its creator (XMP dc:creator, EXIF Artist)" in created.accepted[0].reason
    assert "作者情報があなたと一致" in t(created.accepted[0].message.key, "ja", **created.accepted[0].message.params)


async def test_a_posted_ai_image_is_not_claimed_as_the_artists_work(world, ctx):
    core, fake, ids, drawings = world
    ours = encode_png(drawings[0], xmp_fields={"credit": "aoi"})  # a mimic result the artist shared
    result = await link(core, fake, ids["aoi"], "aoi.bsky.social", [ours, drawings[1]], ARTIST_DATES[:2])
    assert result.indexed == 1 and len(result.skipped) == 1 and "made by AI" in result.skipped[0]


async def test_a_remake_input_that_forbids_ai_use_is_refused(world, ctx):
    core, fake, ids, drawings = world
    with ctx.db.session() as s:
        s.add(Maker(owner_id=ids["aoi"], name="aoi-ready", status=MakerStatus.ready.value, lora_blob="x"))
        s.commit()
    fan = Actor(user_id=ids["thief"])
    forbidding = jpeg(draw_illustration(4040, (256, 256)), meta=xmp("<plus:DataMining>DMI-PROHIBITED"
                                                                    "</plus:DataMining>"))
    before = stored(ctx)
    with pytest.raises(Refusal) as refused:
        await request_generation(core, fan, "aoi-ready", "summer", source_image=forbidding)
    assert refused.value.key == "remake.provenance" and "DMI-PROHIBITED" in t(refused.value.key, "ja",
                                                                             **refused.value.params)
    assert stored(ctx) == before
    queued = await request_generation(core, fan, "aoi-ready", "summer",
                                      source_image=encode_png(draw_illustration(4041, (256, 256)), xmp_fields={}))
    assert queued.generation.source_blob  # a generated picture may be remade: it is not training


async def test_prune_orphans_removes_only_what_nothing_points_at(world, ctx):
    core, fake, ids, drawings = world
    await link(core, fake, ids["aoi"], "aoi.bsky.social", drawings[:2], ARTIST_DATES[:2])
    referenced = stored(ctx)
    orphan, fresh = ctx.blobs.put(b"a refused upload kept by an older version"), ctx.blobs.put(b"just stored")
    old = time.time() - 7200
    for digest in referenced | {orphan}:
        os.utime(ctx.blobs.path(digest), (old, old))
    listed = await prune_orphans(core)
    assert listed.orphans == [orphan] and not listed.deleted and ctx.blobs.exists(orphan)
    pruned = await prune_orphans(core, delete=True)
    assert pruned.orphans == [orphan] and not ctx.blobs.exists(orphan)
    assert all(ctx.blobs.exists(d) for d in referenced | {fresh})
    with ctx.db.session() as s:
        assert s.exec(select(Maker)).all() == []
