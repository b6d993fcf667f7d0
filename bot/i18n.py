"""Every message a user reads, in English and Japanese: `t(key, locale, **params)`.

Keys are the `Refusal` keys of bot.core, the reasons the verification layer gives for an image (ImageRejected,
match verdicts, registry decisions) plus the replies of the adapters (Discord, web). A locale starting
with "ja" gets Japanese, anything else English. A missing parameter never raises: it shows as `{name}`,
a list parameter becomes one bullet line per item, and a `Text` parameter is translated into the same language."""
from __future__ import annotations

from bot.l10n import Plural, choose

LANGUAGES = ("en", "ja")

MESSAGES: dict[str, tuple[str, str]] = {  # a counting message is a Plural (bot.l10n): Babel picks its form
    # --- refusals from bot.core -----------------------------------------------------------------------
    "user.banned": ("You can't use mimic: your account is banned.",
                    "アカウントが利用停止されているため、mimic を使えません。"),
    "user.not_found": ("I don't know that person yet.", "そのユーザーはまだ登録されていません。"),
    "permission.moderator_only": ("Only moderators can do that (Manage Server permission or the moderator role).",
                                  "この操作はモデレーター（サーバー管理権限またはモデレーターロール）のみ可能です。"),
    "maker.bad_name": ("A maker name is 2–32 characters: lowercase letters, digits, - and _, starting with a "
                       "letter or digit.",
                       "メーカー名は2〜32文字の小文字英数字と - _ で、英数字で始めてください。"),
    "maker.no_images": ("Attach at least one of your artworks, or choose “from my posts”.",
                        "作品を1枚以上添付するか、「自分の投稿から」を選んでください。"),
    "maker.too_many_images": (Plural("limit", one="At most {limit} image per maker.",
                                      other="At most {limit} images per maker."), "メーカー1つにつき画像は{limit}枚までです。"),
    "maker.not_verified": ("First link your social account with `/verify start`: a maker can only learn from "
                           "art you have posted.",
                           "まず `/verify start` でSNSアカウントを連携してください。メーカーはあなたが投稿した作品からのみ学習します。"),
    "maker.name_taken": ("The name “{name}” is taken: please choose another.",
                         "「{name}」という名前は使われています。別の名前を選んでください。"),
    "maker.quota": (Plural("limit", one="You already have {limit} maker, the free limit. Revoke it with "
                                        "`/maker revoke` to make room.",
                           other="You already have {limit} makers, the free limit. Revoke one with `/maker revoke` "
                                 "to make room."),
                    "無料枠のメーカー{limit}個をすでに持っています。`/maker revoke` で1つ取り消すと作成できます。"),
    "maker.others_art": ("Some images match artwork that belongs to another artist or is marked “No AI "
                         "learning”, so nothing was created:\n{details}",
                         "他の作家の作品、または「AI学習禁止」の作品と一致する画像があるため、作成しませんでした:\n{details}"),
    "maker.nothing_accepted": ("None of the images could be matched to your posts, so nothing was created:\n"
                               "{details}",
                               "どの画像もあなたの投稿と一致しなかったため、作成しませんでした:\n{details}"),
    "maker.not_found": ("There is no maker called “{name}”.", "「{name}」というメーカーはありません。"),
    "maker.not_owner": ("Only the artist who made this maker can do that.",
                        "この操作はメーカーを作った作家本人のみ可能です。"),
    "maker.already_revoked": ("“{name}” is already revoked.", "「{name}」はすでに取り消されています。"),
    "maker.bad_usage": ("Usage must be not_allowed, personal or commercial.",
                        "利用範囲は not_allowed・personal・commercial のいずれかです。"),
    "maker.bad_visibility": ("Visibility must be public, unlisted or private.",
                             "公開範囲は public・unlisted・private のいずれかです。"),
    "maker.bad_limit": ("The daily limit must be between 0 and 1000 (0 = the server default).",
                        "1日の上限は0〜1000で指定してください（0はサーバーの既定値）。"),
    "review.not_pending": ("“{name}” is not waiting for review.", "「{name}」は審査待ちではありません。"),
    "generate.prompt_too_long": ("The prompt is too long: at most {limit} characters.",
                                 "プロンプトが長すぎます（最大{limit}文字）。"),
    "generate.bad_count": (Plural("limit", one="You can ask for {limit} image at a time.",
                                   other="You can ask for 1 to {limit} images at a time."), "一度に生成できるのは1〜{limit}枚です。"),
    "generate.bad_seed": ("The seed must be a whole number from 0 to 4294967295.",
                          "シードは0〜4294967295の整数で指定してください。"),
    "generate.maker_revoked": ("“{name}” is no longer available: the artist revoked it or it was taken down.",
                               "「{name}」は作家による取り消し、または削除により利用できません。"),
    "generate.maker_not_ready": ("“{name}” is not ready yet ({status}).", "「{name}」はまだ準備中です（{status}）。"),
    "generate.usage_not_allowed": ("The artist keeps “{name}” for their own use only.",
                                   "「{name}」は作家本人のみが使えるメーカーです。"),
    "generate.quota": (Plural("limit", one="You have used {used} of your {limit} image for today. Please come back "
                                           "tomorrow.",
                              other="You have used {used} of your {limit} images for today. Please come back "
                                    "tomorrow."),
                       "本日の上限{limit}枚のうち{used}枚を使いました。また明日お試しください。"),
    "generation.not_found": ("There is no result #{id}.", "結果 #{id} は見つかりません。"),
    "generation.not_yours": ("Only the person who requested this result can delete it.",
                             "この結果を削除できるのはリクエストした本人のみです。"),
    "generation.locked": ("Results stay up for 48 hours so the artist's credit can be checked; you can delete "
                          "this one after {until} UTC. A moderator can remove it sooner if something is wrong.",
                          "作家のクレジットを確認できるよう、結果は48時間削除できません。{until}（UTC）以降に削除できます。"
                          "問題がある場合はモデレーターが早めに削除できます。"),
    "image.rejected": ("That file can't be used: {reason}", "そのファイルは使えません: {reason}"),
    # why an image was not used: verification.imaging (English as its `reason`), matching, registry
    "image.unreadable_file": ("the file {name} could not be read", "ファイル {name} を読み込めませんでした"),
    "image.is_folder": ("{name} is a folder, not an image file", "{name} はフォルダーです。画像ファイルではありません"),
    "image.is_pipe": ("{name} is a pipe (FIFO), not an image file",
                      "{name} は名前付きパイプです。画像ファイルではありません"),
    "image.is_device": ("{name} is a device or another special file, not an image file",
                        "{name} はデバイスか特殊ファイルです。画像ファイルではありません"),
    "image.too_large": ("the file is {size_mb} MB; the limit is {limit_mb} MB",
                        "ファイルが {size_mb} MB あります（上限は {limit_mb} MB です）"),
    "image.empty": ("the file is empty (0 bytes)", "ファイルが空です（0 バイト）"),
    "image.svg": ("SVG vector files are not accepted; please upload a PNG or JPEG export",
                  "SVG（ベクター形式）のファイルには対応していません。PNG か JPEG に書き出してからアップロードしてください"),
    "image.decompression_bomb": ("the image is {megapixels} megapixels, far beyond the limit of {limit_mp} "
                                 "megapixels (decompression bomb suspected)",
                                 "画像が {megapixels} メガピクセルもあり、上限の {limit_mp} メガピクセルを大きく超えています"
                                 "（展開すると巨大になる不正なファイルの疑いがあります）"),
    "image.decompression_bomb_unsized": ("the image is far beyond the limit of {limit_mp} megapixels "
                                         "(decompression bomb suspected)",
                                         "画像が上限の {limit_mp} メガピクセルを大きく超えています"
                                         "（展開すると巨大になる不正なファイルの疑いがあります）"),
    "image.not_an_image": ("this is not an image we can read (PNG, JPEG, GIF, WebP, BMP or TIFF expected)",
                           "読み込める画像ファイルではありません（PNG・JPEG・GIF・WebP・BMP・TIFF に対応しています）"),
    "image.no_pixels": ("the image has no pixels", "画像にピクセルがありません"),
    "image.side_too_long": ("the image is {width}×{height} pixels; sides longer than {max_side} are not accepted",
                            "画像が {width}×{height} ピクセルあります。一辺が {max_side} ピクセルを超える画像には"
                            "対応していません"),
    "image.too_many_pixels": ("the image is {width}×{height} = {megapixels} megapixels; the limit is {limit_mp} "
                              "megapixels",
                              "画像が {width}×{height}（{megapixels} メガピクセル）あります。上限は {limit_mp} "
                              "メガピクセルです"),
    "image.too_small": ("the image is only {width}×{height} pixels, too small to compare",
                        "画像が {width}×{height} ピクセルしかなく、小さすぎて照合できません"),
    "image.animated": ("animated images are not accepted; please upload a still image (PNG or JPEG)",
                       "アニメーション画像には対応していません。静止画（PNG または JPEG）をアップロードしてください"),
    "image.corrupt": ("the image file is truncated or corrupt", "画像ファイルが途中で切れているか、壊れています"),
    "image.untraceable": ("this image can't be read for a trace", "この画像からはトレースを読み取れません"),
    "upload.line": ("{filename}: {reason}", "{filename}: {reason}"),
    "match.duplicate": ("the same work is already among these images", "同じ作品がすでに含まれています"),
    "protect.no_files": ("Please add at least one image of your work.", "作品の画像を1枚以上追加してください。"),
    "protect.too_many_files": ("At most {limit} files at a time.", "一度に登録できるのは{limit}ファイルまでです。"),
    "match.no_index": ("no posted images are indexed for your account yet",
                       "あなたのアカウントの投稿画像はまだ登録されていません"),
    "match.empty_portfolio": ("there are no posted images to compare with", "照合できる投稿画像がありません"),
    "match.none": ("none of your posted images matches it (the closest differs by {phash}/64 pHash bits)",
                   "あなたの投稿画像のどれとも一致しませんでした（最も近い画像との差は pHash で {phash}/64 ビット）"),
    "match.hash": ("matches {post} (pHash distance {phash}/64)", "{post} と一致しました（pHash 距離 {phash}/64）"),
    "match.geometry": (Plural("inliers", one="is a part or a version of {post} ({inliers} matching feature in one "
                                             "geometry, pixel correlation {correlation})",
                              other="is a part or a version of {post} ({inliers} matching features in one geometry, "
                                    "pixel correlation {correlation})"),
                       "{post} の一部または別バージョンです（幾何的に整合する特徴点 {inliers} 個、画素相関 {correlation}）"),
    "match.posted": ("posted in {post}", "{post} に投稿済みです"),
    "registry.clear": ("no registered work of another artist matches this image",
                       "他の作家の登録作品とは一致しませんでした"),
    "registry.own_no_ai": ("you listed this work as No AI learning, so it cannot be used",
                           "この作品はあなたが「AI学習禁止」に登録しているため使えません"),
    "registry.no_ai": ("this work is on the No AI learning list", "この作品は「AI学習禁止」に登録されています"),
    "registry.someone_elses": ("this work was posted by another artist", "この作品は他の作家が投稿したものです"),
    "registry.disputed": ("this work is disputed: a moderator will decide whose it is",
                          "この作品は所有者の確認中です。モデレーターが判断します"),
    "provenance.no_ai_training": ("the file's own metadata forbids AI training ({source}: {value})",
                                  "ファイル自身のメタデータがAI学習を禁止しています（{source}: {value}）"),
    "provenance.other_creator": ("the file names its creator as “{creator}” ({source}), who is not one of your "
                                 "linked accounts; a moderator can allow it (file {sha})",
                                 "ファイルには作者として「{creator}」と記録されています（{source}）。あなたの連携アカウントでは"
                                 "ありません。モデレーターが許可できます（ファイル {sha}）"),
    "provenance.generated": ("the file says it was made by AI ({source}), and generated images are never used for "
                             "training",
                             "このファイルはAIによる生成物と記録されています（{source}）。生成画像は学習に使いません"),
    "provenance.creator_matches": ("the file names you as its creator ({source})",
                                   "ファイルの作者情報があなたと一致します（{source}）"),
    "provenance.bad_file": ("Name the file by the first {length} or more hex digits of its sha256, as the refusal "
                            "showed.", "拒否メッセージに表示された sha256 の先頭{length}桁以上の16進数でファイルを指定してください。"),
    "provenance.allowed": ("Allowed: file {sha} may now be used by {user}.", "許可しました: {user} はファイル {sha} "
                           "を使えます。"),
    "remake.provenance": ("That image can't be remade: {reason}.", "その画像はリメイクできません: {reason}。"),
    "provenance.supported": ("{reason}; {support}", "{reason}。{support}"),
    "ownership.lost": ("An artist posted a work you had claimed earlier than you did, so it is theirs now: your "
                       "post {post}, theirs {other} ({date}). Makers that learned from it are suspended: {makers}. "
                       "You can make a new maker from the works that remain yours, or `/contest` this with the link "
                       "of your post if it is wrong.",
                       "あなたが登録していた作品を、別の作家があなたより前に投稿していたため、その作家のものになりました。"
                       "あなたの投稿 {post}、相手の投稿 {other}（{date}）。この作品で学習したメーカーは停止されました: {makers}。"
                       "あなたのものとして残る作品から新しいメーカーを作れます。誤りであれば投稿のリンクを添えて `/contest` "
                       "してください。"),
    "ownership.won": ("Your post {post} ({date}) is the earliest of a work someone else had claimed: it is yours "
                      "now, and nothing was recorded against you.",
                      "あなたの投稿 {post}（{date}）が、他の人が登録していた作品の最も早い投稿でした。作品はあなたのものに"
                      "なり、あなたに対する記録は残りません。"),
    "dispute.opened": ("The dates can't tell who posted a work first (your post {post}), so moderators will decide "
                       "(dispute {id}). Until then the work is used by nobody new.",
                       "作品を先に投稿したのがどちらか日時では判断できないため（あなたの投稿 {post}）、モデレーターが判断します"
                       "（申し立て {id}）。それまで作品は新たに使えません。"),
    "dispute.kept": ("Moderators decided dispute {id}: the work stays with the artist who held it.",
                     "申し立て {id} の判断: 作品は元の作家のものとして残ります。"),
    "dispute.moved": ("Moderators decided dispute {id}: the work goes to the artist who showed the other post.",
                      "申し立て {id} の判断: 作品はもう一方の投稿を示した作家のものになります。"),
    "dispute.contested": ("Your claim on a work ({post}) was contested: moderators will look at both posts "
                          "(dispute {id}).",
                          "あなたの作品（{post}）について異議が出されました。モデレーターが両方の投稿を確認します（申し立て {id}）。"),
    "dispute.not_found": ("There is no dispute {id}.", "申し立て {id} はありません。"),
    "dispute.not_open": ("Dispute {id} is already decided.", "申し立て {id} はすでに判断済みです。"),
    "dispute.bad_decision": ("Decide with move or keep.", "move か keep で判断してください。"),
    "dispute.empty": ("No dispute waits for a decision.", "判断待ちの申し立てはありません。"),
    "dispute.entry": ("**Dispute {id}** ({origin}), work {artwork}\n• holder {holder}: {holder_post} — {holder_date}\n"
                      "• claimant {claimant}: {claimant_post} — {claimant_date}\n{note}",
                      "**申し立て {id}**（{origin}）作品 {artwork}\n• 保持者 {holder}: {holder_post} — {holder_date}\n"
                      "• 申立人 {claimant}: {claimant_post} — {claimant_date}\n{note}"),
    "dispute.decided": ("Dispute {id}: {decision}. Suspended makers: {makers}.",
                        "申し立て {id}: {decision}。停止したメーカー: {makers}"),
    "contest.no_reason": ("Please say why the claim is wrong.", "理由を書いてください。"),
    "contest.no_claim": ("None of your posts meets another claim at {post}.",
                         "{post} について他の登録と重なるあなたの投稿はありません。"),
    "contest.already_open": ("Dispute {id} is already waiting for moderators.", "申し立て {id} はすでにモデレーターの"
                             "判断待ちです。"),
    "contest.already_yours": ("The work of {post} is already yours.", "{post} の作品はすでにあなたのものです。"),
    "contest.filed": ("Contest sent: moderators will look at both posts (dispute {id}).",
                      "異議を送りました。モデレーターが両方の投稿を確認します（申し立て {id}）。"),
    "maker.not_suspended": ("“{name}” is not suspended.", "「{name}」は停止中ではありません。"),
    "maker.still_others": ("“{name}” still learned from works that belong to another artist, so it can't be "
                           "restored.", "「{name}」は他の作家の作品から学習しているため、復元できません。"),
    "maker.settled": ("“{name}” is now {status}.", "「{name}」は {status} になりました。"),
    "generate.maker_suspended": ("“{name}” is suspended: it learned from a work that turned out to be another "
                                 "artist's. Moderators will decide.",
                                 "「{name}」は停止中です。他の作家の作品から学習していたためです。モデレーターが判断します。"),
    "verify.moved": (Plural("count", one="{count} work you posted earlier than its holder is yours now.",
                            other="{count} works you posted earlier than their holders are yours now."),
                     "あなたが先に投稿していた作品 {count} 件があなたのものになりました。"),
    "verify.disputed": (Plural("count", one="{count} work has unclear dates: moderators will decide.",
                               other="{count} works have unclear dates: moderators will decide."),
                        "日時で判断できない作品 {count} 件はモデレーターが判断します。"),
    "remake.protected": ("That image is marked “No AI learning” by its artist, so it can't be remade.",
                         "その画像は作家により「AI学習禁止」に指定されているため、リメイクできません。"),
    "remake.others_art": ("That image is another artist's work, so only they can remake it.",
                          "その画像は他の作家の作品のため、リメイクできるのは作家本人のみです。"),
    "report.bad_target": ("You can report a result, a maker, an artwork or a user.",
                          "通報できるのは結果・メーカー・作品・ユーザーです。"),
    "report.no_reason": ("Please say what is wrong.", "通報の理由を入力してください。"),
    "report.not_found": ("There is no report #{id}.", "通報 #{id} は見つかりません。"),
    "report.target_missing": ("I can't find what you are reporting.", "通報対象が見つかりません。"),
    "takedown.bad_target": ("You can take down a result or a maker.", "削除できるのは結果またはメーカーです。"),
    "server.bad_setting": ("Unknown server setting: {name}.", "不明なサーバー設定です: {name}"),
    "ban.self": ("You can't ban yourself.", "自分自身を利用停止にはできません。"),
    # verification (bot.core.accounts)
    "verify.platform_disabled": ("{platform} verification is not available on this server right now.",
                                 "現在このサーバーでは {platform} の認証を利用できません。"),
    "verify.failed": ("The account could not be verified: {detail}",
                      "アカウントを確認できませんでした（詳細は英語）: {detail}"),
    "verify.bad_platform": ("Choose X, Bluesky or Mastodon.", "X・Bluesky・Mastodon から選んでください。"),
    "verify.bad_handle": ("That doesn't look like a handle.", "ハンドル名の形式が正しくありません。"),
    "verify.account_not_found": ("I can't find the account {handle}.", "アカウント {handle} が見つかりません。"),
    "verify.no_challenge": ("Start with `/verify start` first.", "先に `/verify start` を実行してください。"),
    "verify.expired": ("Your code expired: run `/verify start` again for a new one.",
                       "コードの有効期限が切れました。`/verify start` をもう一度実行してください。"),
    "verify.code_not_found": ("I couldn't find the code in your bio or recent posts yet. Put it there, wait a "
                              "minute, then try `/verify check` again.",
                              "プロフィールや最近の投稿にコードが見つかりません。コードを掲載して少し待ってから、"
                              "もう一度 `/verify check` を実行してください。"),
    "verify.protected": ("The {platform} account {handle} is protected, so its posts can't be read publicly. Make "
                         "its posts public, then try again.",
                         "{platform} のアカウント {handle} は非公開のため、投稿を確認できません。投稿を公開してから"
                         "もう一度お試しください。"),
    "verify.already_linked": ("That account is already linked to someone else.",
                              "そのアカウントはすでに別のユーザーと連携されています。"),
    "verify.provider_unavailable": ("{platform} can't be reached right now. Please try again later.",
                                    "現在 {platform} に接続できません。しばらくしてからお試しください。"),
    "verify.rate_limited": ("{platform} asked us to slow down. Please try again in a few minutes.",
                            "{platform} の利用制限中です。数分後にお試しください。"),
    "verify.rate_limited_until": ("{platform} asked us to slow down. Please try again after {until} UTC.",
                                  "{platform} の利用制限中です。{until}（UTC）以降にお試しください。"),
    "verify.usage_cap": ("The bot's {platform} app has used up its monthly API usage cap (a limit on the bot's "
                         "app, not on you), so {platform} can't be read until the cap resets with the app's next "
                         "monthly billing period. Please tell an administrator; trying again sooner won't help.",
                         "ボットの {platform} アプリが月間のAPI利用上限に達しました（あなたではなくボットのアプリの"
                         "上限です）。アプリの次の月間請求期間で上限がリセットされるまで {platform} を読み込めません。"
                         "管理者にお知らせください。すぐに再試行しても解決しません。"),
    "verify.access_tier": ("The bot's {platform} app isn't allowed to use this part of the {platform} API "
                           "({endpoint}): its access tier doesn't include it. Please tell an administrator: the "
                           "app needs an access level that includes it, in the developer portal.",
                           "ボットの {platform} アプリのアクセスレベルには、この {platform} API（{endpoint}）が"
                           "含まれていません。管理者にお知らせください。開発者ポータルで、これを含むアクセスレベルに"
                           "変更する必要があります。"),
    "verify.suspended": ("The {platform} account {handle} has been suspended by its server, so it can't be "
                         "verified or read.",
                         "{platform} のアカウント {handle} はサーバーによって凍結されているため、確認も読み込みも"
                         "できません。"),
    # --- replies ----------------------------------------------------------------------------------------
    "error.generic": ("Sorry, something went wrong on our side. Please try again in a moment.",
                      "申し訳ありません、問題が発生しました。少し時間をおいてお試しください。"),
    "error.refused": ("Sorry, that can't be done ({key}).", "申し訳ありません、その操作はできません（{key}）。"),
    "error.restarting": ("mimic is restarting: please try again in a minute. Nothing was changed.",
                         "mimic は再起動中です。1分ほどしてからもう一度お試しください。変更は何も行われていません。"),
    "error.guild_only": ("Please use this command in a server.", "このコマンドはサーバー内で使ってください。"),
    "error.cooldown": ("You're asking for images quickly — please wait {seconds} s before the next request. "
                       "Thank you for your patience!",
                       "リクエストが続いています。次のリクエストまで{seconds}秒ほどお待ちください。ご協力ありがとうございます！"),
    "upload.too_big": ("“{filename}” is too big ({size_mb} MB); the limit is {limit_mb} MB.",
                       "「{filename}」が大きすぎます（{size_mb} MB、上限 {limit_mb} MB）。"),
    "upload.not_image": ("“{filename}” is not an image.", "「{filename}」は画像ではありません。"),
    "upload.failed": ("I couldn't download “{filename}” from Discord. Please attach it again.",
                      "「{filename}」を取得できませんでした。もう一度添付してください。"),
    "verify.started": (Plural("minutes", one="To prove that **{handle}** on {platform} is yours, put this code in its "
                                             "bio or in a public post:\n`{code}`\nThen run `/verify check` (the code "
                                             "expires in {minutes} minute).",
                              other="To prove that **{handle}** on {platform} is yours, put this code in its bio or "
                                    "in a public post:\n`{code}`\nThen run `/verify check` (the code expires in "
                                    "{minutes} minutes)."),
                       "{platform} の **{handle}** があなたのものであることを確認するため、次のコードをプロフィールか"
                       "公開投稿に掲載してください:\n`{code}`\nその後 `/verify check` を実行してください（有効期限 {minutes} 分）。"),
    "verify.linked": (Plural("indexed", one="Linked **{handle}** on {platform}. {indexed} of your posted images is "
                                            "registered as yours; you can remove the code now.",
                             other="Linked **{handle}** on {platform}. {indexed} of your posted images are registered "
                                   "as yours; you can remove the code now."),
                      "{platform} の **{handle}** を連携しました。投稿画像 {indexed} 枚をあなたの作品として登録しました。"
                      "コードは削除して構いません。"),
    "verify.status_none": ("No linked accounts yet: start with `/verify start`.",
                           "連携済みのアカウントはまだありません。`/verify start` から始めてください。"),
    "verify.status_line": (Plural("artworks", one="• {platform}: **{handle}** ({artworks} artwork)",
                                  other="• {platform}: **{handle}** ({artworks} artworks)"),
                           "• {platform}: **{handle}**（作品 {artworks} 件）"),
    "verify.status_pending": ("Waiting for the code `{code}` on {platform} **{handle}**.",
                              "{platform} の **{handle}** でコード `{code}` の掲載を待っています。"),
    "review.waiting": ("New maker **{name}** by {artist} waits for review: moderators, see `/review queue`.",
                       "{artist} さんの新しいメーカー **{name}** が審査待ちです。モデレーターの方は `/review queue` "
                       "をご確認ください。"),
    "maker.created_review": (Plural("accepted", one="Maker **{name}** is waiting for a moderator's review "
                                                    "({accepted} image accepted).",
                                    other="Maker **{name}** is waiting for a moderator's review ({accepted} images "
                                          "accepted)."),
                             "メーカー **{name}** はモデレーターの審査待ちです（採用画像 {accepted} 枚）。"),
    "maker.created_training": (Plural("accepted", one="Maker **{name}** is queued for training (position {position}, "
                                                      "{accepted} image accepted).",
                                      other="Maker **{name}** is queued for training (position {position}, "
                                            "{accepted} images accepted)."),
                               "メーカー **{name}** の学習を受け付けました（待ち順 {position}、採用画像 {accepted} 枚）。"),
    "maker.rejected_images": ("Not used:\n{details}", "使用しなかった画像:\n{details}"),
    "maker.training_progress": ("Training **{name}**: step {step}/{total}.", "**{name}** を学習中: {step}/{total} ステップ"),
    "maker.ready": ("Maker **{name}** by {artist} is ready! Try it with `/generate maker:{name}`.",
                    "{artist} さんのメーカー **{name}** が使えるようになりました！ `/generate maker:{name}` でどうぞ。"),
    "maker.ready_private": ("Your maker **{name}** is ready.", "メーカー **{name}** の準備ができました。"),
    "maker.training_images": ("Training images of **{name}** (all posted by {artist}):",
                              "**{name}** の学習画像（すべて {artist} さんの投稿）:"),
    "maker.training_failed": ("Training **{name}** failed. A moderator can look into it.",
                              "**{name}** の学習に失敗しました。モデレーターが確認します。"),
    "maker.training_cancelled": ("Training **{name}** was stopped.", "**{name}** の学習は中止されました。"),
    "maker.settings_saved": ("**{name}**: usage {usage}, visibility {visibility}, daily limit {limit}.",
                             "**{name}**: 利用範囲 {usage}、公開範囲 {visibility}、1日の上限 {limit}。"),
    "maker.list_empty": ("No makers yet.", "メーカーはまだありません。"),
    "protect.posts_done": (Plural("count", one="{count} of your posted works is now on the No AI learning list: "
                                               "nobody can train on it or remake it, you included.",
                                  other="{count} of your posted works are now on the No AI learning list: nobody can "
                                        "train on them or remake them, you included."),
                           "投稿作品{count}点を「AI学習禁止」に登録しました。あなたを含め、誰も学習やリメイクに使えません。"),
    "protect.files_done": (Plural("count", one="{count} work is now on the No AI learning list.",
                                  other="{count} works are now on the No AI learning list."),
                           "{count}点の作品を「AI学習禁止」に登録しました。"),
    "protect.refused": ("Not added:\n{details}", "登録できなかったもの:\n{details}"),
    "maker.list_line": ("• **{name}** — {status}, {usage}", "• **{name}** — {status}、{usage}"),
    "maker.revoked": ("**{name}** is revoked: its queued and running jobs were stopped and its model deleted.",
                      "**{name}** を取り消しました。待機中・実行中のジョブを停止し、モデルを削除しました。"),
    "generate.queued": ("Queued **{name}** — position {position} in the queue. The result will be posted in {channel}.",
                        "**{name}** を受け付けました（待ち順 {position}）。結果は {channel} に投稿されます。"),
    "generate.running": ("Generating with **{name}**…", "**{name}** で生成中…"),
    "generate.posted": ("Done! Your result is in {link}", "完成しました！ 結果はこちら: {link}"),
    "generate.failed": ("Sorry, generating #{id} failed. Please try again.",
                        "申し訳ありません、#{id} の生成に失敗しました。もう一度お試しください。"),
    "generate.cancelled": ("#{id} was cancelled: {reason}", "#{id} は中止されました: {reason}"),
    "result.title": ("{maker} by {artist}", "{artist} さんの {maker}"),
    "result.prompt": ("Prompt", "プロンプト"),
    "result.usage": ("Usage", "利用範囲"),
    "result.trace": ("Trace id", "トレースID"),
    "result.requested_by": ("Requested by", "リクエスト"),
    "result.number": ("Result", "結果"),
    "result.credit": ("Style by **{artist}**, with their consent", "画風: **{artist}** さん（本人の同意あり）"),
    "result.page": ("🔗 Gallery page: {url}", "🔗 ギャラリーのページ: {url}"),
    "result.lock": ("🔒 Stays up until {until} ({hours} hours), so the artist's credit can be checked",
                    "🔒 作家のクレジットを確認できるよう、{until} まで（{hours}時間）削除できません"),
    "result.image_alt": ("{maker} by {artist}, image {number}", "{artist} さんの {maker}（{number}枚目）"),
    "upload.form_files": ("Your artworks {first}–{last}", "あなたの作品 {first}〜{last}"),
    "upload.form_files_hint": ("Up to 10 images you posted on your linked account",
                               "連携アカウントに投稿した画像を10枚まで"),
    "maker.form_title": ("New maker: {name}", "新しいメーカー: {name}"),
    "maker.form_posts": ("Use my linked account's posts", "連携アカウントの投稿を使う"),
    "maker.form_posts_hint": ("Add your recent posted images (up to 30 in all)",
                              "最近の投稿画像を加えます（合計30枚まで）"),
    "protect.form_title": ("Keep works out of AI learning", "作品をAI学習から守る"),
    "maker.choice": ("{name} — {artist} · {usage}", "{name} — {artist} · {usage}"),
    "maker.choice_own": ("{name} — {status}", "{name} — {status}"),
    "result.too_big": ("(an image was too large to attach here)", "（添付できない大きさの画像がありました）"),
    "usage.not_allowed": ("🔒 artist only", "🔒 作家専用"),
    "usage.personal": ("🏠 personal use", "🏠 個人利用のみ"),
    "usage.commercial": ("💼 commercial use OK", "💼 商用利用可"),
    "button.reroll": ("Reroll", "もう一度"),
    "button.variations": ("Variations", "バリエーション"),
    "button.report": ("Report", "通報"),
    "button.delete": ("Delete", "削除"),
    "button.previous": ("Previous", "前へ"),
    "button.next": ("Next", "次へ"),
    "report.modal_title": ("Report this result", "この結果を通報"),
    "report.modal_reason": ("What is wrong?", "何が問題ですか？"),
    "report.filed": ("Thank you: report #{id} was sent to the moderators.",
                     "ありがとうございます。通報 #{id} をモデレーターに送りました。"),
    "report.bad_reference": ("Give a result number (like 42), a result's message link, or a maker name.",
                             "結果番号（例: 42）、結果メッセージのリンク、またはメーカー名を指定してください。"),
    "delete.done": ("Result #{id} was deleted.", "結果 #{id} を削除しました。"),
    "trace.found": ("This image is result #{id}, made with **{maker}** by {artist} (trace id `{trace}`).",
                    "この画像は {artist} さんの **{maker}** で作られた結果 #{id} です（トレースID `{trace}`）。"),
    "trace.unknown_id": ("This image carries trace id `{trace}`, but no result here matches it.",
                         "この画像にはトレースID `{trace}` がありますが、一致する結果はここにありません。"),
    "trace.none": ("No mimic trace found in this image, and it matches no result made here.",
                   "この画像から mimic のトレースは見つからず、ここで作られた結果とも一致しませんでした。"),
    "trace.by_content": ("This copy had lost its invisible trace (cropped or edited): it was recognised by comparing "
                         "the picture itself with the results made here.",
                         "このコピーからは見えないトレースが失われていました（切り抜きや加工）。ここで作られた結果と絵そのもの"
                         "を照合して見つけました。"),
    "gallery.empty": ("The gallery is empty for now.", "ギャラリーはまだ空です。"),
    "gallery.gone": ("(removed)", "（削除済み）"),
    "gallery.page": ("Gallery — {first}–{last}", "ギャラリー — {first}〜{last}"),
    "artist.none": ("{user} has no linked accounts or public makers.", "{user} さんには連携アカウントも公開メーカーもありません。"),
    "artist.title": ("Artist {user}", "作家 {user}"),
    "artist.accounts": ("Accounts", "アカウント"),
    "artist.makers": ("Makers", "メーカー"),
    "review.empty": ("Nothing waits for review.", "審査待ちはありません。"),
    "review.line": (Plural("images", one="• **{name}** by {artist} — {images} image",
                           other="• **{name}** by {artist} — {images} images"), "• {artist} さんの **{name}** — 画像 {images} 枚"),
    "review.approved": ("Approved **{name}**: training is queued (position {position}).",
                        "**{name}** を承認しました。学習を受け付けました（待ち順 {position}）。"),
    "review.rejected": ("Rejected **{name}**.", "**{name}** を却下しました。"),
    "takedown.done": ("Taken down: {what}.", "削除しました: {what}"),
    "ban.done": ("{user} is banned.", "{user} さんを利用停止にしました。"),
    "server.settings": ("Gallery channel: {gallery}\nReview required: {review}\nPublish training images: {publish}\n"
                        "Daily images per fan: {quota}\nModerator role: {role}",
                        "ギャラリーチャンネル: {gallery}\n審査必須: {review}\n学習画像の公開: {publish}\n"
                        "ファンごとの1日の上限: {quota}\nモデレーターロール: {role}"),
    "server.default": ("default", "既定値"),
    # --- the operator's command line and data rights -------------------------------------------------------
    "admin.user_ambiguous": ("More than one person is called “{name}”: give their id (mimic admin users).",
                             "「{name}」という名前の人が複数います。ID で指定してください（mimic admin users）。"),
    "export.not_found": ("That export is gone: please ask for a new one.",
                         "その書き出しはもうありません。もう一度書き出してください。"),
    "export.not_yours": ("That export belongs to someone else.", "その書き出しはほかの人のものです。"),
    "export.not_ready": ("That export is not ready yet.", "その書き出しはまだできていません。"),
    "unban.not_banned": ("That person is not banned.", "その人は利用停止されていません。"),
    "admin.revoked": ("Revoked {name}: its queued and running jobs were stopped and its model deleted.",
                      "{name} を取り消しました。待機中・実行中の処理を止め、モデルを削除しました。"),
    "admin.unbanned": ("{user} may use mimic again.", "{user} さんの利用停止を解除しました。"),
    "admin.exported": ("Exported everything stored about {user} to {path} ({size} bytes).",
                       "{user} さんについて保存しているすべてを {path} に書き出しました（{size} バイト）。"),
    "admin.cannot_write": ("Cannot write {path}: {reason}.", "{path} に書き込めません: {reason}"),
    "admin.erase_confirm": ("Deleting {user}'s account cannot be undone: add --yes to confirm.",
                            "{user} さんのアカウント削除は元に戻せません。確認のため --yes を付けてください。"),
    "admin.erased": ("Deleted {user}'s account: {makers} maker(s) revoked, {files} stored file(s) deleted; "
                     "registry fingerprints, tombstones and incident records without personal text are kept.",
                     "{user} さんのアカウントを削除しました。メーカー {makers} 件を取り消し、保存ファイル {files} 件を"
                     "削除しました。登録済みの作品指紋、取り消し表示、個人的な文を除いた記録は残します。"),
    "yes": ("yes", "はい"),
    "no": ("no", "いいえ"),
    # --- the web gallery's pages (bot/web: templates call `_(key)`, views i18n.text) ---------------------
    "site.name": ("mimic gallery", "mimic ギャラリー"),
    "site.tagline": ("Consent-first style models: every maker is trained only on its artist's own, verified art.",
                     "同意にもとづくスタイルモデル：各メーカーは、本人確認済みの作者自身の作品だけで学習しています。"),
    "nav.home": ("Home", "ホーム"),
    "nav.makers": ("Makers", "メーカー"),
    "nav.generations": ("Generations", "生成画像"),
    "nav.remakes": ("Remakes", "リメイク"),
    "nav.artists": ("Artists", "作者"),
    "nav.trace": ("Trace an image", "画像を照会"),
    "nav.label": ("Main", "メイン"),
    "lang.switch": ("日本語", "English"),
    "lang.switch_label": ("Read this page in Japanese", "このページを英語で表示"),
    "skip": ("Skip to content", "本文へ移動"),
    "home.latest": ("Latest images", "最新の画像"),
    "home.makers": ("Makers", "メーカー"),
    "makers.title": ("Makers", "メーカー"),
    "makers.empty": ("No makers yet.", "メーカーはまだありません。"),
    "maker.by": ("by {artist}", "作者：{artist}"),
    "maker.samples": ("Samples", "サンプル"),
    "maker.training": ("Training images", "学習画像"),
    "maker.training_note": ("Every image this maker was trained on, as our policy requires. Each was checked to "
                            "have been posted on the artist's verified account.",
                            "規約にもとづき、このメーカーの学習に使われた画像をすべて公開しています。どの画像も作者の確認済みアカウントに投稿されたものであることを確認済みです。"),
    "maker.training_hidden": ("The server this maker belongs to does not publish its training images.",
                              "このメーカーが属するサーバーは学習画像を公開していません。"),
    "maker.no_samples": ("No samples yet.", "サンプルはまだありません。"),
    "maker.generations": (Plural("count", one="{count} image made",
                                          other="{count} images made"),
                          "{count} 件"),
    "maker.accounts": ("Verified accounts", "確認済みアカウント"),
    "maker.trigger": ("Trigger word", "トリガーワード"),
    "maker.report": ("Report this maker", "このメーカーを通報"),
    "maker.see_images": ("Images made with this maker", "このメーカーで作られた画像"),
    "status.ready": ("Ready", "公開中"),
    "status.training": ("Training", "学習中"),
    "status.revoked": ("Revoked", "取り下げ済み"),
    "status.taken_down": ("Taken down", "削除済み"),
    "web.usage.not_allowed": ("Artist only", "作者のみ"),
    "web.usage.personal": ("Personal use", "個人利用可"),
    "web.usage.commercial": ("Commercial use", "商用利用可"),
    "usage.label": ("Usage scope", "利用範囲"),
    "usage.help.not_allowed": ("Only the artist may generate with this maker.", "このメーカーで生成できるのは作者本人だけです。"),
    "usage.help.personal": ("Images may be used for personal, non-commercial purposes.", "個人的・非商用の目的で利用できます。"),
    "usage.help.commercial": ("Images may be used commercially, with credit to the artist.", "作者のクレジットを表示すれば商用利用できます。"),
    "tomb.title": ("Withdrawn", "取り下げ済み"),
    "tomb.maker_revoked": ("The artist revoked this maker. Its images are no longer shown.",
                           "作者がこのメーカーを取り下げました。画像は表示されません。"),
    "tomb.maker_taken_down": ("This maker was taken down by the moderators. Its images are no longer shown.",
                              "このメーカーはモデレーターにより削除されました。画像は表示されません。"),
    "tomb.maker_suspended": ("This maker is suspended: it learned from a work that turned out to be another "
                             "artist's. Its images are no longer shown.",
                             "このメーカーは停止中です。他の作家の作品から学習していたためです。画像は表示されません。"),
    "status.suspended": ("Suspended", "停止中"),
    "tomb.taken_down": ("This image was taken down.", "この画像は削除されました。"),
    "tomb.alt": ("Withdrawn image", "取り下げられた画像"),
    "gens.title": ("Generations", "生成画像"),
    "remakes.title": ("Remakes", "リメイク"),
    "gens.empty": ("Nothing here yet.", "まだ何もありません。"),
    "gen.title": ("Image #{id}", "画像 #{id}"),
    "gen.alt": ("Image made with {maker}, in the style of {artist}: {prompt}",
                "{maker}（{artist} のスタイル）で作られた画像：{prompt}"),
    "gen.thumb_alt": ("{maker} by {artist}: {prompt}", "{artist} の {maker}：{prompt}"),
    "gen.credit": ("Credit", "クレジット"),
    "gen.credit_text": ("Style of {artist}, maker {maker}", "{artist} のスタイル、メーカー {maker}"),
    "gen.prompt": ("Prompt", "プロンプト"),
    "gen.time": ("Made", "作成日時"),
    "gen.trace": ("Trace id", "トレースID"),
    "gen.kind": ("Kind", "種類"),
    "gen.kind.txt2img": ("Generation", "生成"),
    "gen.kind.remake": ("Remake", "リメイク"),
    "gen.lock": ("Deletion lock", "削除ロック"),
    "gen.locked_until": ("The requester cannot delete this image until {until}.", "依頼者は {until} までこの画像を削除できません。"),
    "gen.lock_over": ("The 48-hour lock ended on {until}.", "48時間のロックは {until} に終了しました。"),
    "gen.no_lock": ("No lock recorded.", "ロックの記録はありません。"),
    "gen.pending": ("This image is still being made.", "この画像はまだ生成中です。"),
    "gen.failed": ("This generation did not finish.", "この生成は完了しませんでした。"),
    "gen.view": ("Open image #{id}", "画像 #{id} を開く"),
    "gen.full": ("Full size", "原寸で表示"),
    "report.title": ("Report", "通報"),
    "report.reason": ("What is wrong?", "どのような問題がありますか？"),
    "report.reason_help": ("Tell the moderators what you noticed (for example: someone else's art, hurtful "
                           "content). Up to 1000 characters.",
                           "気づいたことをモデレーターにお知らせください（例：他人の作品、人を傷つける内容）。1000文字まで。"),
    "report.submit": ("Send report", "通報する"),
    "report.thanks": ("Thank you. Your report is in the moderators' review queue.",
                      "ありがとうございます。通報はモデレーターの確認待ちに追加されました。"),
    "artists.title": ("Artists", "作者"),
    "artists.empty": ("No verified artists yet.", "確認済みの作者はまだいません。"),
    "artists.makers": ("Makers", "メーカー"),
    "artists.no_makers": ("No public makers.", "公開中のメーカーはありません。"),
    "trace.title": ("Trace an image", "画像を照会"),
    "trace.intro": ("Upload a copy of an image to learn whether it was made here, and with which maker. The "
                    "invisible watermark survives resizing and most re-compression; a copy that was cropped or "
                    "edited beyond that is recognised by the picture itself.",
                    "画像をアップロードすると、ここで作られたものかどうか、どのメーカーで作られたかがわかります。見えない透かしは縮小や再圧縮にもほぼ耐えます。切り抜きや加工で透かしが失われたコピーも、絵そのも"
                    "のを照合して見つけます。"),
    "trace.file": ("Image file", "画像ファイル"),
    "trace.file_help": ("PNG, JPEG, WebP, GIF, BMP or TIFF, up to {limit}.", "PNG・JPEG・WebP・GIF・BMP・TIFF、{limit} まで。"),
    "trace.submit": ("Trace", "照会する"),
    "web.trace.found": ("This image was made here.", "この画像はここで作られました。"),
    "trace.found_gone": ("This image was made here; it has since been withdrawn.", "この画像はここで作られましたが、現在は取り下げられています。"),
    "trace.not_found": ("No mimic watermark was found in this image, and it matches no picture made here. It was "
                        "probably not made here, or it was altered too much to tell.",
                        "この画像から mimic の透かしは見つからず、ここで作られた画像とも一致しませんでした。ここで作られたものではないか、判別できないほど加工されています。"),
    "web.trace.by_content": ("This copy had lost its invisible watermark (cropped or edited): it was recognised by "
                             "comparing the picture itself with the images made here.",
                             "このコピーからは見えない透かしが失われていました（切り抜きや加工）。ここで作られた画像と絵そのものを照合して見つけました。"),
    "web.trace.unknown_id": ("A mimic watermark was found (trace id {trace_id}), but no image with that id is "
                             "public here.",
                             "mimic の透かし（トレースID {trace_id}）が見つかりましたが、該当する公開画像はありません。"),
    "trace.open": ("Open its page", "ページを開く"),
    "error.too_big": ("That file is too large: the limit is {limit}.", "ファイルが大きすぎます。上限は {limit} です。"),
    "error.no_file": ("Please choose an image file.", "画像ファイルを選んでください。"),
    "error.rate": ("Too many requests from your address. Please wait a minute and try again.",
                   "このアドレスからのリクエストが多すぎます。1分ほど待ってからもう一度お試しください。"),
    "error.csrf": ("This form has expired or did not come from this site. Please reload the page and try again.",
                   "このフォームは期限切れか、このサイトから送信されたものではありません。ページを再読み込みしてもう一度お試しください。"),
    "error.404.title": ("Not found", "見つかりません"),
    "error.404.body": ("There is nothing at this address.", "このアドレスには何もありません。"),
    "error.500.title": ("Something went wrong", "問題が発生しました"),
    "error.500.body": ("The page could not be shown. Please try again later.", "ページを表示できませんでした。しばらくしてからもう一度お試しください。"),
    "error.bad_request": ("This request could not be read: its address or headers are too long or malformed.",
                          "このリクエストを読み取れませんでした。アドレスかヘッダーが長すぎるか、形式が正しくありません。"),
    "error.generic.title": ("Request refused", "リクエストを処理できません"),
    "error.back": ("Back to the gallery", "ギャラリーに戻る"),
    "page.prev": ("Previous", "前へ"),
    "page.next": ("Next", "次へ"),
    "page.of": ("Page {page} of {pages}", "{page} / {pages} ページ"),
    "page.n": ("Page {page}", "{page} ページ目"),
    "page.label": ("Pages", "ページ"),
    "refusal.generic": ("The request could not be completed.", "リクエストを完了できませんでした。"),
    "share.gen_title": ("Image #{id} in the style of {artist} (maker {maker})",
                        "{artist} さんの画風の画像 #{id}（メーカー {maker}）"),
    "share.gen_desc": ("{usage}: {usage_help} Credit: {artist}, maker {maker}.",
                       "{usage}：{usage_help} クレジット：{artist}、メーカー {maker}。"),
    "share.maker_title": ("{maker}: a style maker by {artist}", "{artist} さんの画風メーカー「{maker}」"),
    "share.maker_desc": ("{usage}: {usage_help} Trained only on {artist}'s own, verified art.",
                         "{usage}：{usage_help} {artist} さん本人の確認済みの作品だけで学習しています。"),
    "share.artist_title": ("{artist} on mimic gallery", "{artist} さん — mimic ギャラリー"),
    "share.artist_desc": ("Verified artist. Makers: {makers}.", "確認済みの作者。メーカー：{makers}。"),
    "share.withdrawn": ("Withdrawn: {reason}", "取り下げ済み：{reason}"),
    "feed.label": ("Atom feed", "Atom フィード"),
    "feed.maker_title": ("Images made with {maker} (style of {artist})", "{maker}（{artist} さんの画風）で作られた画像"),
    "feed.artist_title": ("Images in the style of {artist}", "{artist} さんの画風の画像"),
    "artist.no_makers": ("No public makers.", "公開中のメーカーはありません。"),
    "nav.me": ("My page", "マイページ"),
    "nav.signin": ("Sign in with Discord", "Discord でサインイン"),
    "nav.signout": ("Sign out", "サインアウト"),
    "signin.disabled": ("Signing in is not set up on this gallery.", "このギャラリーではサインインが設定されていません。"),
    "signin.state": ("This sign-in did not start here, or took too long. Please sign in again.",
                     "このサインインはここで始まったものではないか、時間がかかりすぎました。もう一度サインインしてください。"),
    "signin.cancelled": ("You cancelled signing in on Discord.", "Discord でサインインを取り消しました。"),
    "signin.failed": ("Discord did not confirm your sign-in. Please try again in a moment.",
                      "Discord でサインインを確認できませんでした。少し待ってからもう一度お試しください。"),
    "error.forbidden.title": ("Not yours", "ほかの人のものです"),
    "me.not_yours": ("This belongs to another person: only its owner can see or change it.",
                     "これはほかの人のものです。見たり変更したりできるのは持ち主だけです。"),
    "me.signed_out": ("Please sign in first.", "先にサインインしてください。"),
    "me.title": ("My page", "マイページ"),
    "me.signed_in_as": ("Signed in as {name}.", "{name} としてサインインしています。"),
    "me.makers": ("My makers", "自分のメーカー"),
    "me.no_makers": ("You have no makers.", "メーカーはまだありません。"),
    "me.maker": ("Maker", "メーカー"),
    "me.status": ("Status", "状態"),
    "me.visibility": ("Visibility", "公開範囲"),
    "me.open_reports": ("Open reports", "未対応の通報"),
    "me.status.draft": ("Draft", "下書き"),
    "me.status.pending_review": ("Waiting for review", "審査待ち"),
    "me.status.training": ("Training", "学習中"),
    "me.status.ready": ("Ready", "利用可能"),
    "me.status.failed": ("Training failed", "学習失敗"),
    "me.status.rejected": ("Rejected", "却下"),
    "me.status.revoked": ("Revoked", "取り下げ済み"),
    "me.status.taken_down": ("Taken down", "削除済み"),
    "visibility.public": ("Public", "公開"),
    "visibility.unlisted": ("Unlisted (usable by name)", "限定公開（名前で利用可）"),
    "visibility.private": ("Private (only you)", "非公開（自分だけ）"),
    "me.requests": ("My requests", "自分のリクエスト"),
    "me.no_requests": ("You have not asked for any images.", "まだ画像をリクエストしていません。"),
    "me.job.queued": ("queued", "待機中"),
    "me.job.running": ("being made", "作成中"),
    "me.job.done": ("done", "完了"),
    "me.job.failed": ("failed", "失敗"),
    "me.job.cancelled": ("cancelled", "取り消し"),
    "me.withdraw": ("Withdraw", "取り下げる"),
    "me.withdrawn": ("Withdrawn", "取り下げ済み"),
    "me.settings": ("Usage scope and visibility", "利用範囲と公開範囲"),
    "me.save": ("Save", "保存"),
    "me.revoke.link": ("Revoke this maker…", "このメーカーを取り下げる…"),
    "me.revoke.title": ("Revoke {name}?", "{name} を取り下げますか？"),
    "me.revoke.body": ("Revoking stops every queued and running job at once and deletes the model. The {images} "
                       "image(s) made with it stay listed as withdrawn, without their pictures. This cannot be "
                       "undone.",
                       "取り下げると、待機中・実行中の処理をすぐに止め、モデルを削除します。これまでに作られた {images} 件の画像は、画像なしの「取り下げ済み」として残ります。元に戻せません。"),
    "me.revoke.button": ("Revoke for good", "取り下げる（元に戻せません）"),
    "me.confirm": ("I understand", "理解しました"),
    "me.cancel": ("Cancel", "やめる"),
    "me.reports_about_maker": ("Reports about this maker", "このメーカーへの通報"),
    "me.made": ("Every image made with this maker", "このメーカーで作られたすべての画像"),
    "me.nothing_made": ("Nothing has been made with this maker yet.", "このメーカーではまだ何も作られていません。"),
    "me.no_training": ("No training images.", "学習画像はありません。"),
    "me.requester": ("Asked by", "依頼者"),
    "me.deleted_account": ("a deleted account", "削除されたアカウント"),
    "me.report.open": ("Open report", "未対応の通報"),
    "me.report.upheld": ("Upheld report", "認められた通報"),
    "me.report.dismissed": ("Dismissed report", "却下された通報"),
    "me.done.saved": ("Saved.", "保存しました。"),
    "me.done.revoked": ("Revoked: the maker is off and its model is deleted.", "取り下げました。メーカーは止まり、モデルは削除されました。"),
    "me.done.withdrawn": ("The request is withdrawn.", "リクエストを取り下げました。"),
    "me.data": ("My data", "自分のデータ"),
    "me.export.help": ("Download everything stored about you: one zip with a JSON document (your account, linked "
                       "accounts, artworks and their hashes, makers, jobs, images made, reports, audit events) and "
                       "your images.",
                       "保存されているあなたのデータをすべてダウンロードできます。JSON "
                       "文書（アカウント、連携アカウント、作品とそのハッシュ、メーカー、処理、作られた画像、通報、監査記録）と画像を1つの zip にまとめます。"),
    "me.export.button": ("Export my data", "データを書き出す"),
    "me.export.queued": ("Your export is waiting for a worker…", "書き出しは処理の順番を待っています…"),
    "me.export.running": ("Your export is being built: {done} of {total} images…", "書き出し中です: 画像 {total} 枚中 {done} 枚…"),
    "me.export.done": ("Your export is ready ({size}).", "書き出しができました（{size}）。"),
    "me.export.download": ("Download the zip", "zip をダウンロード"),
    "me.export.failed": ("Your export could not be built. Please ask again.", "書き出しができませんでした。もう一度お試しください。"),
    "me.done.export": ("Your export has started; this page follows it.", "書き出しを始めました。このページで進み具合がわかります。"),
    "me.delete.link": ("Delete my account…", "アカウントを削除する…"),
    "me.delete.title": ("Delete your account?", "アカウントを削除しますか？"),
    "me.delete.body": ("Your {count} active maker(s) will be revoked at once; their models, your training images, "
                       "your artwork copies, the images you asked for and your name and linked accounts are "
                       "deleted. This cannot be undone.",
                       "有効なメーカー {count} 件をすぐに取り下げ、そのモデル、学習画像、作品のコピー、あなたが依頼した画像、名前と連携アカウントを削除します。元に戻せません。"),
    "me.delete.keeps": ("Kept, because moderation needs it:", "モデレーションに必要なため、次のものは残ります:"),
    "me.delete.keeps.fingerprints": ("the registry fingerprints of your works and the public posts that prove them "
                                     "(so nobody else can claim or train on them)",
                                     "あなたの作品の登録指紋と、それを証明する公開投稿のアドレス（ほかの人が自分の作品として登録したり学習したりできないように）"),
    "me.delete.keeps.tombstones": ("your makers' names, as withdrawn tombstones", "メーカー名（取り下げ済みの表示として）"),
    "me.delete.keeps.trace": ("fingerprints of generated images, so copies found elsewhere still trace",
                              "生成画像の指紋（ほかの場所で見つかったコピーをたどれるように）"),
    "me.delete.keeps.records": ("reports and moderation records, without any text you wrote",
                                "通報とモデレーションの記録（あなたが書いた文は除きます）"),
    "me.delete.keeps.ban": ("a ban, if there is one (your Discord id then stays with it)",
                            "利用停止がある場合はその記録（そのとき Discord ID も残ります）"),
    "me.delete.button": ("Delete my account", "アカウントを削除する"),
    "me.deleted.title": ("Account deleted", "アカウントを削除しました"),
    "me.deleted.body": ("Your account is deleted and you are signed out.", "アカウントを削除し、サインアウトしました。"),
    "me.disputes": ("Disputes about my works", "自分の作品についての申し立て"),
    "me.disputes.help": ("When another verified account shows a post of the same work, the earliest public post "
                         "owns it; when the dates cannot tell, moderators decide. You can contest a decision with "
                         "/contest in Discord and the link of your post.",
                         "同じ作品の投稿をほかの認証済みアカウントが示したときは、いちばん早い公開投稿の持ち主のものになります。"
                         "日付で決められないときはモデレーターが判断します。判断に異議があれば、Discord で自分の投稿のリンクを"
                         "添えて /contest を使ってください。"),
    "me.disputes.none": ("No dispute involves your works.", "あなたの作品についての申し立てはありません。"),
    "me.dispute": ("Dispute {id}", "申し立て {id}"),
    "me.dispute.mine": ("Your post", "あなたの投稿"),
    "me.dispute.theirs": ("The other post", "相手の投稿"),
    "me.dispute.state": ("State", "状態"),
    "me.dispute.now": ("The work is now", "作品の現在の持ち主"),
    "me.dispute.opened": ("Opened", "開始"),
    "me.dispute.decided_at": ("Decided", "判断"),
    "me.dispute.state.open": ("Open: the dates could not decide, a moderator will", "判断待ち: 日付で決められないため、モデレーターが判断します"),
    "me.dispute.state.contested": ("Contested: waiting for a moderator", "異議申し立て中: モデレーターの判断待ち"),
    "me.dispute.state.moved": ("Decided: moved to the account that claimed it", "判断済み: 主張したアカウントに移りました"),
    "me.dispute.state.kept": ("Decided: kept by the account that held it", "判断済み: 持っていたアカウントのままです"),
    "me.dispute.state.refused": ("Decided by the dates: the earlier post keeps it", "日付で決定: 早い投稿の持ち主のままです"),
    "me.dispute.yours": ("yours", "あなた"),
    "me.dispute.not_yours": ("the other artist's", "相手の作者"),
    "me.dispute.no_date": ("no date", "日付なし"),
    "footer": ("Images made here carry a visible credit and an invisible trace id.",
               "ここで作られた画像には、見えるクレジットと見えないトレースIDが入っています。"),
}


class Text:
    """A message put into words only where its reader's language is known: a parameter of another message (the
    reason inside a refusal, a line of a list) is translated along with it. str() gives the English."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, **params):
        self.key, self.params = key, params

    def __eq__(self, other) -> bool:
        return isinstance(other, Text) and (self.key, self.params) == (other.key, other.params)

    __hash__ = None

    def __repr__(self) -> str:
        return f"Text({self.key!r}, {self.params!r})"

    def __str__(self) -> str:
        return t(self.key, "en", **self.params)


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _render(value, locale: str | None) -> str:
    if isinstance(value, Text):
        return t(value.key, locale, **value.params)
    if isinstance(value, (list, tuple)):
        return "\n".join(f"• {_render(item, locale)}" for item in value) if value else "—"
    return str(value)


def language(locale: str | None) -> str:
    """"ja", "ja-JP" -> "ja"; everything else (en-US, fr, None) -> "en"."""
    return "ja" if str(locale or "").lower().startswith("ja") else "en"


def t(key: str, locale: str | None = "en", **params) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        entry = MESSAGES["error.refused"]
        params = {"key": key}
    lang = language(locale)
    text = choose(entry[LANGUAGES.index(lang)], lang, params)
    return text.format_map(_Params({k: _render(v, locale) for k, v in params.items()}))


__all__ = ["LANGUAGES", "MESSAGES", "Plural", "Text", "language", "t"]
