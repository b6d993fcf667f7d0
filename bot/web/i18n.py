"""Page strings of the web gallery in English and Japanese, and the choice of language for a request.

The choice: `?lang=` (remembered in a cookie), then the cookie, then Accept-Language, then English."""
from __future__ import annotations

from datetime import datetime, timezone

from bot.l10n import Plural, choose, format_datetime

LOCALES = ("en", "ja")
DEFAULT = "en"

STRINGS: dict[str, dict[str, str]] = {  # a counting string is a Plural (bot.l10n): Babel picks its form
    "en": {
        "site.name": "mimic gallery",
        "site.tagline": "Consent-first style models: every maker is trained only on its artist's own, verified art.",
        "nav.home": "Home", "nav.makers": "Makers", "nav.generations": "Generations", "nav.remakes": "Remakes",
        "nav.artists": "Artists", "nav.trace": "Trace an image", "nav.label": "Main",
        "lang.switch": "日本語", "lang.switch_label": "Read this page in Japanese",
        "skip": "Skip to content",
        "home.latest": "Latest images", "home.makers": "Makers",
        "makers.title": "Makers", "makers.empty": "No makers yet.",
        "maker.by": "by {artist}", "maker.samples": "Samples", "maker.training": "Training images",
        "maker.training_note": "Every image this maker was trained on, as our policy requires. Each was checked to "
                               "have been posted on the artist's verified account.",
        "maker.training_hidden": "The server this maker belongs to does not publish its training images.",
        "maker.no_samples": "No samples yet.", "maker.generations": Plural("count", one="{count} image made", other="{count} images made"),
        "maker.accounts": "Verified accounts", "maker.trigger": "Trigger word",
        "maker.report": "Report this maker", "maker.see_images": "Images made with this maker",
        "status.ready": "Ready", "status.training": "Training", "status.revoked": "Revoked",
        "status.taken_down": "Taken down",
        "usage.not_allowed": "Artist only", "usage.personal": "Personal use", "usage.commercial": "Commercial use",
        "usage.label": "Usage scope",
        "usage.help.not_allowed": "Only the artist may generate with this maker.",
        "usage.help.personal": "Images may be used for personal, non-commercial purposes.",
        "usage.help.commercial": "Images may be used commercially, with credit to the artist.",
        "tomb.title": "Withdrawn",
        "tomb.maker_revoked": "The artist revoked this maker. Its images are no longer shown.",
        "tomb.maker_taken_down": "This maker was taken down by the moderators. Its images are no longer shown.",
        "tomb.maker_suspended": "This maker is suspended: it learned from a work that turned out to be another "
                                "artist's. Its images are no longer shown.",
        "status.suspended": "Suspended",
        "tomb.taken_down": "This image was taken down.",
        "tomb.alt": "Withdrawn image",
        "gens.title": "Generations", "remakes.title": "Remakes", "gens.empty": "Nothing here yet.",
        "gen.title": "Image #{id}", "gen.alt": "Image made with {maker}, in the style of {artist}: {prompt}",
        "gen.thumb_alt": "{maker} by {artist}: {prompt}",
        "gen.credit": "Credit", "gen.credit_text": "Style of {artist}, maker {maker}",
        "gen.prompt": "Prompt", "gen.time": "Made", "gen.trace": "Trace id", "gen.kind": "Kind",
        "gen.kind.txt2img": "Generation", "gen.kind.remake": "Remake",
        "gen.lock": "Deletion lock",
        "gen.locked_until": "The requester cannot delete this image until {until}.",
        "gen.lock_over": "The 48-hour lock ended on {until}.",
        "gen.no_lock": "No lock recorded.",
        "gen.pending": "This image is still being made.", "gen.failed": "This generation did not finish.",
        "gen.view": "Open image #{id}", "gen.full": "Full size",
        "report.title": "Report", "report.reason": "What is wrong?",
        "report.reason_help": "Tell the moderators what you noticed (for example: someone else's art, "
                              "hurtful content). Up to 1000 characters.",
        "report.submit": "Send report",
        "report.thanks": "Thank you. Your report is in the moderators' review queue.",
        "artists.title": "Artists", "artists.empty": "No verified artists yet.",
        "artists.makers": "Makers", "artists.no_makers": "No public makers.",
        "trace.title": "Trace an image",
        "trace.intro": "Upload a copy of an image to learn whether it was made here, and with which maker. "
                       "The invisible watermark survives resizing and most re-compression; a copy that was "
                       "cropped or edited beyond that is recognised by the picture itself.",
        "trace.file": "Image file", "trace.file_help": "PNG, JPEG, WebP, GIF, BMP or TIFF, up to {limit}.",
        "trace.submit": "Trace",
        "trace.found": "This image was made here.", "trace.found_gone": "This image was made here; it has "
                                                                         "since been withdrawn.",
        "trace.not_found": "No mimic watermark was found in this image, and it matches no picture made here. It "
                           "was probably not made here, or it was altered too much to tell.",
        "trace.by_content": "This copy had lost its invisible watermark (cropped or edited): it was recognised by "
                            "comparing the picture itself with the images made here.",
        "trace.unknown_id": "A mimic watermark was found (trace id {trace_id}), but no image with that id is "
                            "public here.",
        "trace.open": "Open its page",
        "error.too_big": "That file is too large: the limit is {limit}.",
        "error.no_file": "Please choose an image file.",
        "error.rate": "Too many requests from your address. Please wait a minute and try again.",
        "error.csrf": "This form has expired or did not come from this site. Please reload the page and try "
                      "again.",
        "error.404.title": "Not found", "error.404.body": "There is nothing at this address.",
        "error.500.title": "Something went wrong",
        "error.500.body": "The page could not be shown. Please try again later.",
        "error.bad_request": "This request could not be read: its address or headers are too long or malformed.",
        "error.generic.title": "Request refused", "error.back": "Back to the gallery",
        "page.prev": "Previous", "page.next": "Next", "page.of": "Page {page} of {pages}", "page.n": "Page {page}",
        "page.label": "Pages",
        "refusal.report.no_reason": "Please say what is wrong.",
        "refusal.report.bad_target": "That cannot be reported.",
        "refusal.report.target_missing": "That item no longer exists.",
        "refusal.image.rejected": "That file could not be read as an image: {reason}.",
        "refusal.generic": "The request could not be completed.",
        "share.gen_title": "Image #{id} in the style of {artist} (maker {maker})",
        "share.gen_desc": "{usage}: {usage_help} Credit: {artist}, maker {maker}.",
        "share.maker_title": "{maker}: a style maker by {artist}",
        "share.maker_desc": "{usage}: {usage_help} Trained only on {artist}'s own, verified art.",
        "share.artist_title": "{artist} on mimic gallery",
        "share.artist_desc": "Verified artist. Makers: {makers}.",
        "share.withdrawn": "Withdrawn: {reason}",
        "feed.label": "Atom feed", "feed.maker_title": "Images made with {maker} (style of {artist})",
        "feed.artist_title": "Images in the style of {artist}",
        "artist.makers": "Makers", "artist.no_makers": "No public makers.",
        # signing in, and the signed-in person's own pages (bot/web/signin.py, bot/web/owner.py)
        "nav.me": "My page", "nav.signin": "Sign in with Discord", "nav.signout": "Sign out",
        "signin.disabled": "Signing in is not set up on this gallery.",
        "signin.state": "This sign-in did not start here, or took too long. Please sign in again.",
        "signin.cancelled": "You cancelled signing in on Discord.",
        "signin.failed": "Discord did not confirm your sign-in. Please try again in a moment.",
        "error.forbidden.title": "Not yours",
        "me.not_yours": "This belongs to another person: only its owner can see or change it.",
        "me.signed_out": "Please sign in first.",
        "me.title": "My page", "me.signed_in_as": "Signed in as {name}.",
        "me.makers": "My makers", "me.no_makers": "You have no makers.", "me.maker": "Maker",
        "me.status": "Status", "me.visibility": "Visibility", "me.open_reports": "Open reports",
        "me.status.draft": "Draft", "me.status.pending_review": "Waiting for review", "me.status.training": "Training",
        "me.status.ready": "Ready", "me.status.failed": "Training failed", "me.status.rejected": "Rejected",
        "me.status.revoked": "Revoked", "me.status.taken_down": "Taken down",
        "visibility.public": "Public", "visibility.unlisted": "Unlisted (usable by name)",
        "visibility.private": "Private (only you)",
        "me.requests": "My requests", "me.no_requests": "You have not asked for any images.",
        "me.job.queued": "queued", "me.job.running": "being made", "me.job.done": "done", "me.job.failed": "failed",
        "me.job.cancelled": "cancelled",
        "me.withdraw": "Withdraw", "me.withdrawn": "Withdrawn",
        "me.settings": "Usage scope and visibility", "me.save": "Save",
        "me.revoke.link": "Revoke this maker…",
        "me.revoke.title": "Revoke {name}?",
        "me.revoke.body": "Revoking stops every queued and running job at once and deletes the model. The {images} "
                          "image(s) made with it stay listed as withdrawn, without their pictures. This cannot be "
                          "undone.",
        "me.revoke.button": "Revoke for good",
        "me.confirm": "I understand", "me.cancel": "Cancel",
        "me.reports_about_maker": "Reports about this maker", "me.made": "Every image made with this maker",
        "me.nothing_made": "Nothing has been made with this maker yet.", "me.no_training": "No training images.",
        "me.requester": "Asked by", "me.deleted_account": "a deleted account",
        "me.report.open": "Open report", "me.report.upheld": "Upheld report", "me.report.dismissed": "Dismissed report",
        "me.done.saved": "Saved.", "me.done.revoked": "Revoked: the maker is off and its model is deleted.",
        "me.done.withdrawn": "The request is withdrawn.",
        "me.data": "My data",
        "me.export.help": "Download everything stored about you: one zip with a JSON document (your account, "
                          "linked accounts, artworks and their hashes, makers, jobs, images made, reports, audit "
                          "events) and your images.",
        "me.export.button": "Export my data",
        "me.export.queued": "Your export is waiting for a worker…",
        "me.export.running": "Your export is being built: {done} of {total} images…",
        "me.export.done": "Your export is ready ({size}).", "me.export.download": "Download the zip",
        "me.export.failed": "Your export could not be built. Please ask again.",
        "me.done.export": "Your export has started; this page follows it.",
        "me.delete.link": "Delete my account…",
        "me.delete.title": "Delete your account?",
        "me.delete.body": "Your {count} active maker(s) will be revoked at once; their models, your training images, "
                          "your artwork copies, the images you asked for and your name and linked accounts are "
                          "deleted. This cannot be undone.",
        "me.delete.keeps": "Kept, because moderation needs it:",
        "me.delete.keeps.fingerprints": "the registry fingerprints of your works and the public posts that prove them "
                                        "(so nobody else can claim or train on them)",
        "me.delete.keeps.tombstones": "your makers' names, as withdrawn tombstones",
        "me.delete.keeps.trace": "fingerprints of generated images, so copies found elsewhere still trace",
        "me.delete.keeps.records": "reports and moderation records, without any text you wrote",
        "me.delete.keeps.ban": "a ban, if there is one (your Discord id then stays with it)",
        "me.delete.button": "Delete my account",
        "me.deleted.title": "Account deleted",
        "me.deleted.body": "Your account is deleted and you are signed out.",
        "me.disputes": "Disputes about my works",
        "me.disputes.help": "When another verified account shows a post of the same work, the earliest public post "
                            "owns it; when the dates cannot tell, moderators decide. You can contest a decision with "
                            "/contest in Discord and the link of your post.",
        "me.disputes.none": "No dispute involves your works.",
        "me.dispute": "Dispute {id}", "me.dispute.mine": "Your post", "me.dispute.theirs": "The other post",
        "me.dispute.state": "State", "me.dispute.now": "The work is now",
        "me.dispute.opened": "Opened", "me.dispute.decided_at": "Decided",
        "me.dispute.state.open": "Open: the dates could not decide, a moderator will",
        "me.dispute.state.contested": "Contested: waiting for a moderator",
        "me.dispute.state.moved": "Decided: moved to the account that claimed it",
        "me.dispute.state.kept": "Decided: kept by the account that held it",
        "me.dispute.state.refused": "Decided by the dates: the earlier post keeps it",
        "me.dispute.yours": "yours", "me.dispute.not_yours": "the other artist's",
        "me.dispute.no_date": "no date",
        "footer": "Images made here carry a visible credit and an invisible trace id.",
    },
    "ja": {
        "site.name": "mimic ギャラリー",
        "site.tagline": "同意にもとづくスタイルモデル：各メーカーは、本人確認済みの作者自身の作品だけで学習しています。",
        "nav.home": "ホーム", "nav.makers": "メーカー", "nav.generations": "生成画像", "nav.remakes": "リメイク",
        "nav.artists": "作者", "nav.trace": "画像を照会", "nav.label": "メイン",
        "lang.switch": "English", "lang.switch_label": "このページを英語で表示",
        "skip": "本文へ移動",
        "home.latest": "最新の画像", "home.makers": "メーカー",
        "makers.title": "メーカー", "makers.empty": "メーカーはまだありません。",
        "maker.by": "作者：{artist}", "maker.samples": "サンプル", "maker.training": "学習画像",
        "maker.training_note": "規約にもとづき、このメーカーの学習に使われた画像をすべて公開しています。"
                               "どの画像も作者の確認済みアカウントに投稿されたものであることを確認済みです。",
        "maker.training_hidden": "このメーカーが属するサーバーは学習画像を公開していません。",
        "maker.no_samples": "サンプルはまだありません。", "maker.generations": "{count} 件",
        "maker.accounts": "確認済みアカウント", "maker.trigger": "トリガーワード",
        "maker.report": "このメーカーを通報", "maker.see_images": "このメーカーで作られた画像",
        "status.ready": "公開中", "status.training": "学習中", "status.revoked": "取り下げ済み",
        "status.taken_down": "削除済み",
        "usage.not_allowed": "作者のみ", "usage.personal": "個人利用可", "usage.commercial": "商用利用可",
        "usage.label": "利用範囲",
        "usage.help.not_allowed": "このメーカーで生成できるのは作者本人だけです。",
        "usage.help.personal": "個人的・非商用の目的で利用できます。",
        "usage.help.commercial": "作者のクレジットを表示すれば商用利用できます。",
        "tomb.title": "取り下げ済み",
        "tomb.maker_revoked": "作者がこのメーカーを取り下げました。画像は表示されません。",
        "tomb.maker_taken_down": "このメーカーはモデレーターにより削除されました。画像は表示されません。",
        "tomb.maker_suspended": "このメーカーは停止中です。他の作家の作品から学習していたためです。画像は表示されません。",
        "status.suspended": "停止中",
        "tomb.taken_down": "この画像は削除されました。",
        "tomb.alt": "取り下げられた画像",
        "gens.title": "生成画像", "remakes.title": "リメイク", "gens.empty": "まだ何もありません。",
        "gen.title": "画像 #{id}", "gen.alt": "{maker}（{artist} のスタイル）で作られた画像：{prompt}",
        "gen.thumb_alt": "{artist} の {maker}：{prompt}",
        "gen.credit": "クレジット", "gen.credit_text": "{artist} のスタイル、メーカー {maker}",
        "gen.prompt": "プロンプト", "gen.time": "作成日時", "gen.trace": "トレースID", "gen.kind": "種類",
        "gen.kind.txt2img": "生成", "gen.kind.remake": "リメイク",
        "gen.lock": "削除ロック",
        "gen.locked_until": "依頼者は {until} までこの画像を削除できません。",
        "gen.lock_over": "48時間のロックは {until} に終了しました。",
        "gen.no_lock": "ロックの記録はありません。",
        "gen.pending": "この画像はまだ生成中です。", "gen.failed": "この生成は完了しませんでした。",
        "gen.view": "画像 #{id} を開く", "gen.full": "原寸で表示",
        "report.title": "通報", "report.reason": "どのような問題がありますか？",
        "report.reason_help": "気づいたことをモデレーターにお知らせください（例：他人の作品、人を傷つける内容）。"
                              "1000文字まで。",
        "report.submit": "通報する",
        "report.thanks": "ありがとうございます。通報はモデレーターの確認待ちに追加されました。",
        "artists.title": "作者", "artists.empty": "確認済みの作者はまだいません。",
        "artists.makers": "メーカー", "artists.no_makers": "公開中のメーカーはありません。",
        "trace.title": "画像を照会",
        "trace.intro": "画像をアップロードすると、ここで作られたものかどうか、どのメーカーで作られたかがわかります。"
                       "見えない透かしは縮小や再圧縮にもほぼ耐えます。切り抜きや加工で透かしが失われたコピーも、絵そのもの"
                       "を照合して見つけます。",
        "trace.file": "画像ファイル", "trace.file_help": "PNG・JPEG・WebP・GIF・BMP・TIFF、{limit} まで。",
        "trace.submit": "照会する",
        "trace.found": "この画像はここで作られました。",
        "trace.found_gone": "この画像はここで作られましたが、現在は取り下げられています。",
        "trace.not_found": "この画像から mimic の透かしは見つからず、ここで作られた画像とも一致しませんでした。"
                           "ここで作られたものではないか、判別できないほど加工されています。",
        "trace.by_content": "このコピーからは見えない透かしが失われていました（切り抜きや加工）。ここで作られた画像と"
                            "絵そのものを照合して見つけました。",
        "trace.unknown_id": "mimic の透かし（トレースID {trace_id}）が見つかりましたが、該当する公開画像はありません。",
        "trace.open": "ページを開く",
        "error.too_big": "ファイルが大きすぎます。上限は {limit} です。",
        "error.no_file": "画像ファイルを選んでください。",
        "error.rate": "このアドレスからのリクエストが多すぎます。1分ほど待ってからもう一度お試しください。",
        "error.csrf": "このフォームは期限切れか、このサイトから送信されたものではありません。"
                      "ページを再読み込みしてもう一度お試しください。",
        "error.404.title": "見つかりません", "error.404.body": "このアドレスには何もありません。",
        "error.500.title": "問題が発生しました",
        "error.500.body": "ページを表示できませんでした。しばらくしてからもう一度お試しください。",
        "error.bad_request": "このリクエストを読み取れませんでした。アドレスかヘッダーが長すぎるか、形式が正しくありません。",
        "error.generic.title": "リクエストを処理できません", "error.back": "ギャラリーに戻る",
        "page.prev": "前へ", "page.next": "次へ", "page.of": "{page} / {pages} ページ", "page.n": "{page} ページ目",
        "page.label": "ページ",
        "refusal.report.no_reason": "問題の内容を入力してください。",
        "refusal.report.bad_target": "これは通報できません。",
        "refusal.report.target_missing": "対象はすでに存在しません。",
        "refusal.image.rejected": "このファイルは画像として読み込めませんでした：{reason}。",
        "refusal.generic": "リクエストを完了できませんでした。",
        "share.gen_title": "{artist} さんの画風の画像 #{id}（メーカー {maker}）",
        "share.gen_desc": "{usage}：{usage_help} クレジット：{artist}、メーカー {maker}。",
        "share.maker_title": "{artist} さんの画風メーカー「{maker}」",
        "share.maker_desc": "{usage}：{usage_help} {artist} さん本人の確認済みの作品だけで学習しています。",
        "share.artist_title": "{artist} さん — mimic ギャラリー",
        "share.artist_desc": "確認済みの作者。メーカー：{makers}。",
        "share.withdrawn": "取り下げ済み：{reason}",
        "feed.label": "Atom フィード", "feed.maker_title": "{maker}（{artist} さんの画風）で作られた画像",
        "feed.artist_title": "{artist} さんの画風の画像",
        "artist.makers": "メーカー", "artist.no_makers": "公開中のメーカーはありません。",
        "nav.me": "マイページ", "nav.signin": "Discord でサインイン", "nav.signout": "サインアウト",
        "signin.disabled": "このギャラリーではサインインが設定されていません。",
        "signin.state": "このサインインはここで始まったものではないか、時間がかかりすぎました。もう一度サインインしてください。",
        "signin.cancelled": "Discord でサインインを取り消しました。",
        "signin.failed": "Discord でサインインを確認できませんでした。少し待ってからもう一度お試しください。",
        "error.forbidden.title": "ほかの人のものです",
        "me.not_yours": "これはほかの人のものです。見たり変更したりできるのは持ち主だけです。",
        "me.signed_out": "先にサインインしてください。",
        "me.title": "マイページ", "me.signed_in_as": "{name} としてサインインしています。",
        "me.makers": "自分のメーカー", "me.no_makers": "メーカーはまだありません。", "me.maker": "メーカー",
        "me.status": "状態", "me.visibility": "公開範囲", "me.open_reports": "未対応の通報",
        "me.status.draft": "下書き", "me.status.pending_review": "審査待ち", "me.status.training": "学習中",
        "me.status.ready": "利用可能", "me.status.failed": "学習失敗", "me.status.rejected": "却下",
        "me.status.revoked": "取り下げ済み", "me.status.taken_down": "削除済み",
        "visibility.public": "公開", "visibility.unlisted": "限定公開（名前で利用可）",
        "visibility.private": "非公開（自分だけ）",
        "me.requests": "自分のリクエスト", "me.no_requests": "まだ画像をリクエストしていません。",
        "me.job.queued": "待機中", "me.job.running": "作成中", "me.job.done": "完了", "me.job.failed": "失敗",
        "me.job.cancelled": "取り消し",
        "me.withdraw": "取り下げる", "me.withdrawn": "取り下げ済み",
        "me.settings": "利用範囲と公開範囲", "me.save": "保存",
        "me.revoke.link": "このメーカーを取り下げる…",
        "me.revoke.title": "{name} を取り下げますか？",
        "me.revoke.body": "取り下げると、待機中・実行中の処理をすぐに止め、モデルを削除します。これまでに作られた "
                          "{images} 件の画像は、画像なしの「取り下げ済み」として残ります。元に戻せません。",
        "me.revoke.button": "取り下げる（元に戻せません）",
        "me.confirm": "理解しました", "me.cancel": "やめる",
        "me.reports_about_maker": "このメーカーへの通報", "me.made": "このメーカーで作られたすべての画像",
        "me.nothing_made": "このメーカーではまだ何も作られていません。", "me.no_training": "学習画像はありません。",
        "me.requester": "依頼者", "me.deleted_account": "削除されたアカウント",
        "me.report.open": "未対応の通報", "me.report.upheld": "認められた通報", "me.report.dismissed": "却下された通報",
        "me.done.saved": "保存しました。", "me.done.revoked": "取り下げました。メーカーは止まり、モデルは削除されました。",
        "me.done.withdrawn": "リクエストを取り下げました。",
        "me.data": "自分のデータ",
        "me.export.help": "保存されているあなたのデータをすべてダウンロードできます。JSON 文書（アカウント、連携アカウント、"
                          "作品とそのハッシュ、メーカー、処理、作られた画像、通報、監査記録）と画像を1つの zip にまとめます。",
        "me.export.button": "データを書き出す",
        "me.export.queued": "書き出しは処理の順番を待っています…",
        "me.export.running": "書き出し中です: 画像 {total} 枚中 {done} 枚…",
        "me.export.done": "書き出しができました（{size}）。", "me.export.download": "zip をダウンロード",
        "me.export.failed": "書き出しができませんでした。もう一度お試しください。",
        "me.done.export": "書き出しを始めました。このページで進み具合がわかります。",
        "me.delete.link": "アカウントを削除する…",
        "me.delete.title": "アカウントを削除しますか？",
        "me.delete.body": "有効なメーカー {count} 件をすぐに取り下げ、そのモデル、学習画像、作品のコピー、あなたが依頼した画像、"
                          "名前と連携アカウントを削除します。元に戻せません。",
        "me.delete.keeps": "モデレーションに必要なため、次のものは残ります:",
        "me.delete.keeps.fingerprints": "あなたの作品の登録指紋と、それを証明する公開投稿のアドレス（ほかの人が自分の作品として"
                                        "登録したり学習したりできないように）",
        "me.delete.keeps.tombstones": "メーカー名（取り下げ済みの表示として）",
        "me.delete.keeps.trace": "生成画像の指紋（ほかの場所で見つかったコピーをたどれるように）",
        "me.delete.keeps.records": "通報とモデレーションの記録（あなたが書いた文は除きます）",
        "me.delete.keeps.ban": "利用停止がある場合はその記録（そのとき Discord ID も残ります）",
        "me.delete.button": "アカウントを削除する",
        "me.deleted.title": "アカウントを削除しました",
        "me.deleted.body": "アカウントを削除し、サインアウトしました。",
        "me.disputes": "自分の作品についての申し立て",
        "me.disputes.help": "同じ作品の投稿をほかの認証済みアカウントが示したときは、いちばん早い公開投稿の持ち主のものになります。"
                            "日付で決められないときはモデレーターが判断します。判断に異議があれば、Discord で自分の投稿のリンクを"
                            "添えて /contest を使ってください。",
        "me.disputes.none": "あなたの作品についての申し立てはありません。",
        "me.dispute": "申し立て {id}", "me.dispute.mine": "あなたの投稿", "me.dispute.theirs": "相手の投稿",
        "me.dispute.state": "状態", "me.dispute.now": "作品の現在の持ち主",
        "me.dispute.opened": "開始", "me.dispute.decided_at": "判断",
        "me.dispute.state.open": "判断待ち: 日付で決められないため、モデレーターが判断します",
        "me.dispute.state.contested": "異議申し立て中: モデレーターの判断待ち",
        "me.dispute.state.moved": "判断済み: 主張したアカウントに移りました",
        "me.dispute.state.kept": "判断済み: 持っていたアカウントのままです",
        "me.dispute.state.refused": "日付で決定: 早い投稿の持ち主のままです",
        "me.dispute.yours": "あなた", "me.dispute.not_yours": "相手の作者",
        "me.dispute.no_date": "日付なし",
        "footer": "ここで作られた画像には、見えるクレジットと見えないトレースIDが入っています。",
    },
}


def text(locale: str, key: str, **params) -> str:
    locale = locale if locale in STRINGS else DEFAULT
    template = choose(STRINGS[locale].get(key) or STRINGS[DEFAULT].get(key) or key, locale, params)
    return template.format(**params) if params else str(template)


def pick_locale(query_lang: str | None, cookie_lang: str | None, accept_language: str) -> str:
    for choice in (query_lang, cookie_lang):
        if choice in LOCALES:
            return choice
    return negotiate(accept_language)


def negotiate(accept_language: str) -> str:
    """Best of our locales for an Accept-Language header (q-values honoured, regions ignored)."""
    best, best_q = DEFAULT, 0.0
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        base = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        q -= position * 1e-3  # earlier wins a tie
        if base in LOCALES and q > best_q:
            best, best_q = base, q
    return best


def refusal_text(locale: str, key: str, params: dict) -> str:
    """A use case's Refusal, in words: the bot's shared catalogue (bot.i18n) when it knows the key, else ours."""
    try:
        from bot.i18n import MESSAGES, t
    except ImportError:  # the gallery does not depend on the Discord adapter's catalogue being present
        MESSAGES, t = {}, None
    if t is not None and key in MESSAGES:
        try:
            return t(key, locale, **params)
        except (KeyError, IndexError, ValueError):
            pass
    ours = f"refusal.{key}"
    if ours in STRINGS[DEFAULT]:
        try:
            return text(locale, ours, **params)
        except (KeyError, IndexError, ValueError):
            pass
    return text(locale, "refusal.generic")


def format_time(value: datetime | None, locale: str) -> str:
    if value is None:
        return ""
    return format_datetime(iso_time(value), locale)


def iso_time(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def format_bytes(size: int, locale: str) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"
