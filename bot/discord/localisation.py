"""Japanese names and descriptions of the slash commands, served to discord.py through a Translator.

Command strings are written in English in the cogs; discord.py turns every one into a `locale_str`, and the
translator answers for Japanese by looking the English text up here. Names (commands, groups, options) and
descriptions live in separate tables because Discord validates them differently (names: lowercase, no
spaces, at most 32 characters)."""
from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

NAMES_JA: dict[str, str] = {
    # commands and groups
    "verify": "認証", "start": "開始", "check": "確認", "status": "状態",
    "maker": "メーカー", "create": "作成", "settings": "設定", "list": "一覧", "revoke": "取り消し",
    "generate": "生成", "remake": "リメイク", "gallery": "ギャラリー", "artist": "作家", "report": "通報",
    "trace": "追跡", "review": "審査", "queue": "審査待ち", "approve": "承認", "reject": "却下",
    "takedown": "削除", "ban": "利用停止", "server": "サーバー",
    "protect": "ai学習禁止", "posts": "投稿", "files": "ファイル",
    "disputes": "申し立て一覧", "decide": "判断", "suspended": "停止中", "settle": "停止の処置",
    "allow_file": "ファイル許可", "contest": "異議",
    # options
    "platform": "サービス", "handle": "ハンドル", "name": "名前", "from_posts": "投稿から",
    "usage": "利用範囲", "visibility": "公開範囲", "daily_limit": "1日の上限", "mine": "自分のみ",
    "prompt": "プロンプト", "count": "枚数", "seed": "シード", "image": "画像", "user": "ユーザー",
    "target": "対象", "reason": "理由", "gallery_channel": "ギャラリーチャンネル",
    "dispute": "申し立て番号", "decision": "判断内容", "note": "メモ", "post": "投稿リンク", "file": "ファイル",
    "review_required": "審査必須", "publish_training_images": "学習画像の公開", "moderator_role": "モデレーターロール",
}

DESCRIPTIONS_JA: dict[str, str] = {
    "Keep your works out of AI training": "あなたの作品をAI学習から守ります",
    "List every indexed post of your linked accounts as No AI learning":
        "連携アカウントの登録済み投稿をすべて「AI学習禁止」にします",
    "List uploaded artworks of yours as No AI learning": "アップロードした自作品を「AI学習禁止」にします",
    "Prove that a social account is yours": "SNSアカウントがあなたのものであることを証明します",
    "Get a code to put in your bio or a public post": "プロフィールか公開投稿に掲載するコードを発行します",
    "Check that the code is there and link the account": "コードの掲載を確認してアカウントを連携します",
    "Show your linked accounts": "連携済みのアカウントを表示します",
    "Where the account is": "アカウントのあるサービス",
    "Your handle, like @name": "ハンドル名（例: @name）",
    "Your style makers": "あなたの画風メーカー",
    "Create a maker from artworks you posted": "投稿済みの作品からメーカーを作成します",
    "A short name: lowercase letters, digits, - and _": "短い名前（小文字英数字と - _）",
    "Skip the upload form: use your linked account's recent posts":
        "アップロード画面を使わず、連携アカウントの最近の投稿を使います",
    "Change who may use your maker and how": "メーカーの利用者と利用方法を変更します",
    "The maker's name": "メーカーの名前",
    "What fans may do with the results": "ファンが結果をどう使えるか",
    "Who can find it": "誰が見つけられるか",
    "Images per fan per day (0 = the server default)": "ファン1人あたり1日の枚数（0はサーバーの既定値）",
    "List makers": "メーカーの一覧",
    "Only your own makers": "自分のメーカーのみ",
    "Revoke a maker: its jobs stop at once and its model is deleted": "メーカーを取り消します（ジョブは即停止、モデルは削除）",
    "Generate images with a maker": "メーカーで画像を生成します",
    "The maker to use": "使うメーカー",
    "What to draw": "描く内容",
    "How many images (1-4)": "枚数（1〜4）",
    "A seed, to repeat a result": "結果を再現するためのシード",
    "Redraw an image in a maker's style": "画像をメーカーの画風で描き直します",
    "The image to redraw (not someone else's artwork)": "描き直す画像（他人の作品は不可）",
    "What to change (optional)": "変えたい内容（任意）",
    "Browse recent results": "最近の結果を見ます",
    "Show an artist's accounts and makers": "作家のアカウントとメーカーを表示します",
    "The artist": "作家",
    "Report a result or a maker to the moderators": "結果やメーカーをモデレーターに通報します",
    "A result number, its message link, or a maker name": "結果番号、結果メッセージのリンク、またはメーカー名",
    "What is wrong": "何が問題か",
    "Find where an image made with mimic came from": "mimic で作られた画像の出どころを調べます",
    "The image to check": "調べる画像",
    "Moderators: makers waiting for review": "モデレーター: 審査待ちのメーカー",
    "Show the review queue": "審査待ちの一覧を表示します",
    "Approve a maker and start its training": "メーカーを承認して学習を開始します",
    "Reject a maker": "メーカーを却下します",
    "Moderators: remove a result or a maker": "モデレーター: 結果やメーカーを削除します",
    "Moderators: ban a user from mimic": "モデレーター: ユーザーの mimic 利用を停止します",
    "The user": "ユーザー",
    "Server settings": "サーバー設定",
    "Moderators: gallery channel, review policy, quotas": "モデレーター: ギャラリーチャンネル・審査方針・上限",
    "Where results are posted": "結果を投稿するチャンネル",
    "New makers need a moderator's approval": "新しいメーカーにモデレーターの承認を必須にします",
    "Post training images publicly when a maker is ready": "メーカー完成時に学習画像を公開します",
    "Images per fan per day (0 = the global default)": "ファン1人あたり1日の枚数（0は全体の既定値）",
    "Role whose members count as moderators": "モデレーターとして扱うロール",
    "Ownership disputes, both posts side by side": "作品の所有をめぐる申し立て（両方の投稿を並べて表示）",
    "A dispute number, to see its two images": "申し立て番号（2枚の画像を表示します）",
    "Decide a dispute: move the work to the claimant or keep it": "申し立てを判断します: 申立人に移すか、そのままにするか",
    "The dispute number": "申し立て番号",
    "move: to the claimant; keep: with the holder": "move: 申立人へ / keep: 保持者のまま",
    "Why (kept in the audit log)": "理由（監査ログに残ります）",
    "Makers suspended because a work was another artist's": "他の作家の作品だったため停止したメーカー",
    "End a suspension: restore the maker or delete its LoRA": "停止を終えます: メーカーを復元するか LoRA を削除します",
    "restore it, or delete its quarantined LoRA": "復元するか、隔離した LoRA を削除します",
    "Let a person use a file that its metadata refused": "メタデータで拒否されたファイルの利用を許可します",
    "The uploader": "アップロードした人",
    "The file's code from the refusal (sha256 digits)": "拒否メッセージにあるファイルのコード（sha256 の数字）",
    "Contest who owns a work, with the link of your post": "作品の所有について、あなたの投稿リンクを添えて異議を出します",
    "The link of your post of the work": "その作品のあなたの投稿のリンク",
    "Why the claim is wrong": "登録が誤っている理由",
}

CHOICES_JA: dict[str, str] = {
    "artist only": "作家のみ", "personal use": "個人利用", "commercial use": "商用利用",
    "public": "公開", "unlisted": "限定公開", "private": "非公開",
    "move": "移す", "keep": "そのまま", "restore": "復元", "delete": "削除",
}

_NAME_PLACES = {Where.command_name, Where.group_name, Where.parameter_name}
_DESCRIPTION_PLACES = {Where.command_description, Where.group_description, Where.parameter_description}


def translate_command_string(text: str, where: Where, locale: discord.Locale) -> str | None:
    if locale is not discord.Locale.japanese:
        return None
    if where in _NAME_PLACES:
        return NAMES_JA.get(text)
    if where in _DESCRIPTION_PLACES:
        return DESCRIPTIONS_JA.get(text)
    if where is Where.choice_name:
        return CHOICES_JA.get(text)
    return None


class MimicTranslator(app_commands.Translator):
    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContext) -> str | None:
        return translate_command_string(string.message, context.location, locale)
