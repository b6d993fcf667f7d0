from __future__ import annotations

import pytest

from bot.core import Refusal
from bot.core.generations import request_generation
from bot.core.makers import approve_maker, review_queue
from bot.core.moderation import (ban_user, file_report, open_reports, resolve_report, take_down,
                                 update_guild_settings)
from data.models import AuditEvent, Generation, Maker, MakerStatus, TrainingJob


async def test_reports_reach_the_review_queue_and_takedowns_uphold_them(core, people, ctx):
    gen_id = (await request_generation(core, people["fan"], "aoi", "x")).generation.id
    report = await file_report(core, people["artist"], "generation", gen_id, "not my style at all", source="web")
    assert [r.id for r in await open_reports(core, people["mod"])] == [report.id]
    with pytest.raises(Refusal, match="permission.moderator_only"):
        await open_reports(core, people["fan"])
    await take_down(core, people["mod"], "generation", gen_id, "reported")
    with ctx.db.session() as s:
        gen = s.get(Generation, gen_id)
        assert gen.taken_down and gen.status == "cancelled"
        actions = [e.action for e in s.query(AuditEvent).all()]
    assert await open_reports(core, people["mod"]) == []
    assert "takedown" in actions and "report.file" in actions


async def test_report_validation(core, people):
    with pytest.raises(Refusal, match="report.no_reason"):
        await file_report(core, people["fan"], "maker", people["maker_id"], "   ")
    with pytest.raises(Refusal, match="report.bad_target"):
        await file_report(core, people["fan"], "planet", 1, "why")
    with pytest.raises(Refusal, match="report.target_missing"):
        await file_report(core, people["fan"], "generation", 999, "why")


async def test_taking_down_a_maker_stops_its_queue(core, people, ctx):
    gen_id = (await request_generation(core, people["fan"], "aoi", "x")).generation.id
    with pytest.raises(Refusal, match="permission.moderator_only"):
        await take_down(core, people["fan"], "maker", people["maker_id"], "no")
    await take_down(core, people["mod"], "maker", people["maker_id"], "copied art")
    with ctx.db.session() as s:
        assert s.get(Maker, people["maker_id"]).status == "taken_down"
        assert s.get(Generation, gen_id).status == "cancelled"


async def test_bans_and_dismissed_reports(core, people):
    report = await file_report(core, None, "user", people["fan"].user_id, "system incident", source="system")
    resolved = await resolve_report(core, people["mod"], report.id, upheld=False, note="false alarm")
    assert resolved.status == "dismissed"
    with pytest.raises(Refusal, match="ban.self"):
        await ban_user(core, people["mod"], people["mod"].user_id, "oops")
    assert (await ban_user(core, people["mod"], people["fan"].user_id, "spam")).banned


async def test_review_policy_holds_new_makers_until_approved(core, people, ctx):
    with ctx.db.session() as s:
        maker = Maker(owner_id=people["artist"].user_id, name="pending", status=MakerStatus.pending_review.value)
        s.add(maker)
        s.commit()
    with pytest.raises(Refusal, match="permission.moderator_only"):
        await review_queue(core, people["fan"])
    assert [m.name for m in await review_queue(core, people["mod"])] == ["pending"]
    approved, position = await approve_maker(core, people["mod"], "pending")
    assert approved.status == "training" and position >= 1
    with ctx.db.session() as s:
        assert s.query(TrainingJob).filter(TrainingJob.maker_id == approved.id).count() == 1
    with pytest.raises(Refusal, match="review.not_pending"):
        await approve_maker(core, people["mod"], "pending")


async def test_server_settings_need_a_moderator(core, people):
    with pytest.raises(Refusal, match="permission.moderator_only"):
        await update_guild_settings(core, people["fan"], 42, gallery_channel_id=7)
    row = await update_guild_settings(core, people["mod"], 42, gallery_channel_id=7, review_required=False)
    assert (row.gallery_channel_id, row.review_required) == (7, False)
    with pytest.raises(Refusal, match="server.bad_setting"):
        await update_guild_settings(core, people["mod"], 42, owner="me")
