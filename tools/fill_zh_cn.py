"""Write the Chinese into ``resources/i18n/posapp_zh_CN.ts`` after ``pyside6-lupdate``.

``make translations`` runs lupdate (which adds new strings as unfinished) and then this
script, which sets every translation from ``ZH`` below. A source string with no entry here
is an error: the script names it and exits 1, so a new UI string cannot ship in English by
accident. Add it to ``ZH`` (words from ``shared/GLOSSARY.md``) and run it again.

Only the ``<translation>`` elements are rewritten; everything else stays as lupdate wrote it.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from pathlib import Path
from xml.sax.saxutils import escape

# English source text → Chinese. One entry serves every context that uses the text; put a
# (context, source) key in BY_CONTEXT when one context needs other words.
ZH: dict[str, str] = {
    # -- the dashboard as a manager reads it
    "Summary": "汇总",
    "Capture rate by person at the till": "各收银人员会员识别率",
    "New members by how they joined": "新增会员（按入会方式）",
    "New members by guide": "新增会员（按导购）",
    "Members by rung": "会员阶梯分布",
    "Follow-ups by guide": "回访（按导购）",
    "Figure": "指标",
    "Value": "数值",
    "Day": "日期",
    "With a known member": "识别出会员",
    "How they joined": "入会方式",
    "Members": "会员数",
    "WeCom": "企业微信",
    "In store": "到店",
    "First day": "起始日",
    "Last day": "截止日",
    "Sales with a known member": "识别出会员的销售笔数",
    "Members who bought": "有消费的会员",
    "Members who bought again": "复购会员",
    "at the counter": "收银台入会",
    "by scanning the QR": "扫码入会",
    "no one": "无",
    # -- a real till: the walk-in's sale, the display after joining
    "Scan the member first: this is for a member on screen.": "请先识别会员：此操作只对屏幕上的会员有效。",
    "No invite QR to print yet: F6 shows one.": "还没有可打印的邀请二维码：按 F6 显示。",
    "Show it on the customer display": "在客显屏上给顾客看",
    "Dear %1": "尊敬的%1",
    "The phone number has at most %1 characters; this has %2.": "手机号最多 %1 个字符，当前有 %2 个。",
    "A mobile number has %1 digits; this has %2 (too few digits).": "手机号应为 %1 位，当前只有 %2 位（位数不足）。",
    "A mobile number has %1 digits; this has %2 (too many digits).": "手机号应为 %1 位，当前有 %2 位（位数过多）。",
    "A phone, member code or name has at most %1 characters; this has %2.": "手机号、会员码或姓名最多 %1 个字符，当前有 %2 个。",
    "An amount has at most %1 characters; this has %2.": "金额最多 %1 个字符，当前有 %2 个。",
    "A receipt number has at most %1 characters; this has %2.": "小票号最多 %1 个字符，当前有 %2 个。",
    "A name has at most %1 characters; this has %2.": "姓名最多 %1 个字符，当前有 %2 个。",
    "At most %1 characters here.": "此处最多 %1 个字符。",
    "This counter is not registered with HQ: there is nothing to sync.": "本收银台尚未在总部注册，无需同步。",
    "Syncing with HQ…": "正在与总部同步…",
    "Synced with HQ: %1 sent, %2 received.": "已与总部同步：上传 %1 条，接收 %2 条。",
    "HQ could not be reached; nothing is lost and it tries again by itself.": "无法连接总部；数据不会丢失，稍后会自动重试。",
    "This is the only QR for this customer.": "这位顾客只有这一个二维码。",
    "The full phone shows for 30 seconds and was recorded as revealed.": "完整手机号将显示 30 秒，本次查看已记录。",
    "Follow-up recorded for %1.": "已记录对 %1 的回访。",
    "¥0.00 is recorded only as a free gift: type the amount paid, or press F4 again to record this gift.": "¥0.00 只能作为赠品记录：请输入实收金额，或再按 F4 记为赠品。",
    "(a free gift)": "（赠品）",
    "Choose the guide who served": "选择服务的导购",
    "Served by %1.": "服务导购：%1。",
    "Served by (F5)": "服务导购（F5）",
    "no guide": "无导购",
    "This sale of %1, receipt %2, will be credited to the new member": "这笔 %1 的销售（小票 %2）将计入新会员名下",
    "Sale %1 of %2 is now theirs.": "小票 %1（%2）已计入该会员。",
    "Welcome, you are now a member": "欢迎，您已成为会员",
    "Thank you for joining": "感谢您的加入",
    "Customers under 14 can join only with a guardian's consent.": "未满 14 周岁的顾客须经监护人同意才能入会。",
    "A guardian consents (customers under 14)": "监护人同意（未满 14 周岁的顾客）",
    "Ask HQ for another guide (manager)": "申请更换导购（店长）",
    "Asked HQ for the new guide; it shows after the next sync.": "已向总部申请更换导购，下次同步后生效。",
    "Another guide": "更换导购",
    # -- the manager's dashboard
    "Dashboard (manager)": "店长看板（店长）",
    "Dashboard": "店长看板",
    "Counting…": "正在统计…",
    "Today": "今天",
    "This week": "本周",
    "Custom days": "自选日期",
    "Export CSV…": "导出 CSV…",
    "Capture rate": "会员识别率",
    "Sales": "销售笔数",
    "New members": "新增会员",
    "Repurchase rate": "复购率",
    "Follow-ups done": "完成回访",
    "Waiting to sync": "待同步",
    "Time zone": "时区",
    "Capture rate by day": "每日会员识别率",
    "Capture rate by cashier": "各收银员会员识别率",
    "Table": "明细表",
    "Export the dashboard to": "导出看板到",
    "%1 CSV files written to %2": "已导出 %1 个 CSV 文件到 %2",
    # -- the guide's "My customers" tab
    "The counter": "收银台",
    "My customers (follow-ups)": "我的顾客（回访）",
    "Counter": "收银台",
    "My customers": "我的顾客",
    "Follow-up recorded.": "已记录回访。",
    "Repurchases": "复购次数",
    "Referrals": "推荐人数",
    "Due": "待回访",
    "Next follow-up": "下次回访",
    "No consent to contact by a guide: no follow-ups.": "顾客未同意导购联系：不安排回访。",
    "Filter by name or member code": "按姓名或会员码筛选",
    "Follow-ups due only": "只看待回访",
    "Follow-up done: 1 WeCom · 2 phone · 3 in store, then R reached · N no answer · V visit planned · X not interested": "完成回访：1 企业微信 · 2 电话 · 3 到店，再按 R 已联系 · N 未接通 · V 约好到店 · X 无意向",
    "%1: %2 visits, %3 repurchases, %4 referrals, lifetime %5": "%1：到店 %2 次，复购 %3 次，推荐 %4 人，累计消费 %5",
    "overdue": "已逾期",
    "due": "今日到期",
    "Then the outcome: R, N, V or X.": "再按结果：R、N、V 或 X。",
    "First how: 1 WeCom, 2 phone, 3 in store.": "先选方式：1 企业微信，2 电话，3 到店。",
    "Not a WeCom contact yet: 2 phone or 3 in store.": "还不是企业微信联系人：请用 2 电话或 3 到店。",
    "You are on WeCom: customers can add you from the guide QR.": "您已接入企业微信：顾客可扫导购码添加您。",
    "You are not on WeCom yet: ask HQ to set your WeCom account.": "您尚未接入企业微信：请联系总部设置您的企业微信账号。",
    "This customer has no follow-up due.": "这位顾客没有待办回访。",
    "thank-you": "感谢回访",
    "care check": "关怀回访",
    "repurchase reminder": "复购提醒",
    "birthday": "生日祝福",
    "win-back": "流失挽回",
    # -- the candidate list's columns
    "Member code": "会员码",
    "Phone": "手机号",
    "Name": "姓名",
    "Rung": "等级",
    "Visits": "到店次数",
    "Spent": "累计消费",
    "Last visit": "最近到店",
    # -- the counter window
    "posapp counter": "posapp 收银台",
    "Scan a member code, or type a phone, its last four digits or a name": (
        "扫会员码，或输入手机号、手机尾号后四位、姓名"
    ),
    "Customer": "顾客",
    "Sale": "销售",
    "Receipt number": "小票号",
    "Amount, e.g. 128.00": "金额，如 128.00",
    "Record sale (F4)": "记录销售 (F4)",
    "Receipt": "小票号",
    "Amount": "金额",
    "Invite": "邀请二维码",
    "Keyboard help": "快捷键帮助",
    "Go to the sale": "转到销售",
    "Enrol a member": "办理入会",
    "Record the sale": "记录销售",
    "Show or switch the invite QR": "显示 / 切换邀请二维码",
    "Print the invite": "打印邀请二维码",
    "Reveal the full phone (manager)": "显示完整手机号（店长）",
    "Sync now": "立即同步",
    "Lock the counter": "锁定收银台",
    "Sign out": "退出登录",
    "Clear the customer": "清除当前顾客",
    "Locked. Sign in to go on.": "已锁定，请登录后继续。",
    "Signed out.": "已退出登录。",
    "%n match(es): arrows, then Enter": "找到 %n 位：方向键选择，回车确认",
    "Not a member yet. F3 enrols this phone.": "还不是会员。按 F3 用这个手机号入会。",
    "No member found.": "未找到会员。",
    "Not known at this store: asking HQ…": "本店没有此会员：正在询问总部…",
    "HQ could not be asked: served as a walk-in.": "无法询问总部：按散客接待。",
    "Member since %1 at %2": "%1 于%2入会",
    "Member": "会员",
    "(no name)": "（未留姓名）",
    "Visits %1 · spent %2 · last visit %3 · guide %4": (
        "到店 %1 次 · 累计消费 %2 · 最近到店 %3 · 导购 %4"
    ),
    "Next step: %1": "下一步：%1",
    "Member recognised.": "已识别会员。",
    "Walk-in": "散客",
    "invite to join": "邀请入会",
    "Sale %1 of %2 recorded for a walk-in": "已记录散客销售：小票 %1，金额 %2",
    "Sale %1 of %2 recorded for %3": "已记录%3的销售：小票 %1，金额 %2",
    "the member": "会员",
    "Sale %1 of %2 was already recorded": "这笔销售已记录过：小票 %1，金额 %2",
    "From the POS: sale %1 of %2": "来自 POS：小票 %1，金额 %2",
    "No receipt printer is set up (settings).": "未设置小票打印机（请在设置中配置）。",
    "Printing…": "正在打印…",
    "Printed.": "已打印。",
    "Not printed: %1 The invite stays on screen; F7 tries again.": (
        "未打印：%1 邀请二维码仍在屏幕上，按 F7 重试。"
    ),
    "Enrolled: member code %1": "入会成功，会员码 %1",
    "Already a member.": "已经是会员。",
    "Syncing…": "正在同步…",
    "Not registered with HQ": "未在总部注册",
    "Online": "在线",
    "Offline": "离线",
    "%n pending": "%n 条待同步",
    "oldest %1 min": "最早一条已等 %1 分钟",
    "last sync %1": "上次同步 %1",
    "check the clock: %1 s off HQ": "请检查时钟：与总部相差 %1 秒",
    "Keyboard": "快捷键",
    "Manager confirmation": "店长确认",
    "Settings (manager)": "设置（店长）",
    "Settings saved.": "设置已保存。",
    "The POS intake could not start: %1": "POS 数据接入无法启动：%1",
    "Demo PINs: manager %1, guide %2, cashier %3": "演示 PIN 码：店长 %1，导购 %2，收银员 %3",
    # -- counter settings (店长)
    "Counter settings": "收银台设置",
    "As the system": "跟随系统",
    " min": " 分钟",
    "No receipt printer": "不用小票打印机",
    "Network (TCP 9100)": "网络（TCP 9100）",
    "USB": "USB",
    "Serial port": "串口",
    "network: host[:port] · usb: vendor:product (hex) · serial: /dev/ttyUSB0": (
        "网络：主机[:端口] · USB：厂商:产品（十六进制） · 串口：/dev/ttyUSB0"
    ),
    "A new language shows after the app restarts.": "新语言在重启应用后生效。",
    "Language": "语言",
    "Lock after idle": "空闲自动锁定",
    "Receipt printer": "小票打印机",
    "Printer address": "打印机地址",
    "Type the printer's address.": "请输入打印机地址。",
    "The port must be a number from 1 to 65535.": "端口须为 1 到 65535 之间的数字。",
    "Write the USB ids as vendor:product in hex, e.g. 0416:5011.": (
        "USB 编号请写成 厂商:产品（十六进制），如 0416:5011。"
    ),
    # -- the customer display (客显屏)
    "Welcome": "欢迎光临",
    "Welcome to %1": "欢迎光临 %1",
    "Welcome back": "欢迎回来",
    # -- enrol
    "Mobile number": "手机号码",
    "Optional": "选填",
    "YYYY-MM-DD, optional": "如 1990-05-20，选填",
    "Privacy notice version %1 (%2)": "隐私政策 第 %1 版（%2）",
    "Read the notice": "查看隐私政策",
    "Birthday": "生日",
    "Guide": "导购",
    "Enrol": "入会",
    "Write the birthday as YYYY-MM-DD.": "生日请写成 年-月-日，如 1990-05-20。",
    # -- sign in
    "Sign in": "登录",
    "PIN, then Enter": "输入 PIN 码，按回车",
    "No staff can sign in yet: register this counter with HQ (posapp register) and let it sync.": (
        "还没有可登录的员工：请先在总部注册本收银台（posapp register），并完成同步。"
    ),
    # -- errors
    "Enter a phone number.": "请输入手机号。",
    "The phone number has too few digits.": "手机号位数不够。",
    "The phone number has too many digits.": "手机号位数太多。",
    "The phone number contains a character that is not a digit.": "手机号里有非数字的字符。",
    "The phone number has letters or an extension.": "手机号里有字母或分机号。",
    "The phone number has an unknown country code.": "手机号的国家 / 地区代码无法识别。",
    "This is not a phone number.": "这不是手机号。",
    "No such mobile number exists.": "没有这个手机号段，请核对。",
    "Only mobile numbers can be used (this is a landline).": "只能用手机号（这是固定电话）。",
    "That is too long for a phone, code or name.": "输入太长，不像手机号、会员码或姓名。",
    "The scan was garbled: scan it again.": "扫码内容有误，请重新扫描。",
    "Member code failed its check digit: scan it again.": "会员码校验不通过，请重新扫描。",
    "Membership needs the customer's consent: tick it only if they agree.": (
        "入会须顾客本人同意：顾客同意后才能勾选。"
    ),
    "The amount is not a number.": "金额不是数字。",
    "The amount cannot be negative.": "金额不能为负数。",
    "The amount is too large.": "金额太大。",
    "The amount is too long.": "金额位数太多。",
    "Amounts have at most two decimals.": "金额最多两位小数。",
    "Enter the receipt number.": "请输入小票号。",
    "The receipt number is too long.": "小票号太长。",
    "Receipt numbers hold only letters, digits and . _ / -": ("小票号只能包含字母、数字和 . _ / -"),
    "The name is too long.": "姓名太长。",
    "The name contains a hidden control character.": "姓名里有看不见的控制字符。",
    "The birthday is in the future.": "生日不能晚于今天。",
    "The birthday is too far in the past.": "生日太早，请核对。",
    "Wrong PIN: %1 tries left.": "PIN 码错误，还可以再试 %1 次。",
    "Too many wrong PINs: locked for %1 minutes.": "PIN 码错误次数过多，已锁定 %1 分钟。",
    "Too many wrong PINs: try again in %1 minute(s).": "PIN 码错误次数过多，请 %1 分钟后再试。",
    "Only a store manager may do this. The attempt was recorded.": (
        "只有店长可以这样操作。本次尝试已记录。"
    ),
    "Some sales and members have not reached HQ yet: sync first, or ask a manager.": (
        "还有销售和会员没有同步到总部：请先同步，或请店长确认。"
    ),
    "No receipt printer is set up (F10, settings).": "未设置小票打印机（按 F10 进入设置）。",
    "The printer does not answer: is it on, plugged in and online?": (
        "打印机没有响应：请检查是否开机、接好线并在线。"
    ),
    "The printer is out of paper.": "打印机缺纸。",
    "The printer settings are not usable: check them in settings (F10).": (
        "打印机设置有误：请在设置（F10）中检查。"
    ),
    "The printer stopped part-way.": "打印中途停止了。",
    "Something went wrong; nothing was lost. Details: %1": "出了点问题，数据没有丢失。详情：%1",
    # -- words (shared/GLOSSARY.md)
    "walk-in": "散客",
    "member": "会员",
    "regular": "老顾客",
    "super-member": "超级会员",
    "mini-program": "小程序",
    "micro-mall": "微商城",
    "app": "品牌 App",
    "contact your guide": "导购联系",
    "Scan to join as a member": "扫码入会",
    "Scan to shop our micro-mall": "扫码逛微商城",
    "Scan to get the app": "扫码下载品牌 App",
    "Scan to add your guide": "扫码添加您的专属导购",
    "Your referral code: friends scan to join": "您的推荐码：好友扫码即可入会",
    "Membership (required)": "入会（必选）",
    "Marketing messages": "营销信息",
    "Contact by my guide": "导购联系",
    "cashier": "收银员",
    "guide": "导购",
    "store manager": "店长",
    # -- before the window: a database that cannot be used (posapp/ui/startup.py)
    "posapp cannot start": "posapp 无法启动",
    "This database was written by a newer posapp (schema %1). Install that version or a "
    "newer one. Nothing was changed.": "此数据库由更新版本的 posapp 写入（数据库版本 %1）。"
    "请安装该版本或更新的版本。数据未作任何改动。",
    "The update could not convert the database (schema %1 to %2): it was put back exactly "
    "as it was before the update, from the backup %3. No sale was lost. Install the previous "
    "posapp version again, or call support.": "本次更新未能转换数据库（版本 %1 → %2），"
    "已从更新前的备份 %3 原样恢复，没有丢失任何销售记录。请重新安装之前的 posapp 版本，"
    "或联系技术支持。",
    "The database cannot be opened: %1": "数据库无法打开：%1",
    "this computer has no key for it": "本机没有它的密钥",
    "the key kept on this computer does not open it": "本机保存的密钥打不开它",
    "The local data in %1 cannot be read with this computer's key (%2). Nothing was changed. "
    "Start clean to set the unreadable file aside (it is kept, not deleted) and fetch members "
    "and staff from HQ again after registering this counter. Sales not yet sent to HQ stay in "
    "the unreadable file.": "本机的密钥无法读取 %1 中的本地数据（%2）。数据未作任何改动。"
    "选择“重新开始”会把无法读取的文件移到一旁（保留，不删除），重新登记本收银台后再从总部取回"
    "会员和员工。尚未发送到总部的销售记录仍留在该文件中。",
    "Start clean": "重新开始",
    "Quit": "退出",
    # -- the buyer types their own phone (F11): the customer display's keypad, the counter's lines
    "Type your mobile number": "请输入您的手机号",
    "Clear": "清除",
    "Delete the last digit": "删除最后一位",
    "OK": "确定",
    "That is already %1 digits.": "已经输入了 %1 位。",
    "Type your mobile number first.": "请先输入手机号。",
    "A mobile number here has %1 digits.": "手机号应为 %1 位。",
    "The customer types their phone on the customer display (Esc cancels).": "顾客正在客显屏上输入手机号（Esc 取消）。",
    "The customer's keypad was cancelled.": "已取消顾客的手机号输入。",
    "Nobody typed a phone in time: the keypad closed. F11 opens it again.": "顾客未及时输入手机号，键盘已关闭。按 F11 重新打开。",
    "The customer typed %1: looking it up…": "顾客输入了 %1，正在查询…",
    "Member recognised by the phone they typed: %1.": "已按顾客输入的手机号识别会员：%1。",
    "%1 is not a member yet: the customer decides on each consent.": "%1 还不是会员：每一项同意都由顾客自己决定。",
    "The customer types their phone on the display": "顾客在客显屏上输入手机号",
    "Thank you, one moment": "谢谢，请稍候",
    "Typed by the customer on their keypad": "由顾客在键盘上输入",
    "The customer types their phone": "顾客输入手机号",
    # -- another store's member code scanned offline (issue 15)
    "Member of another store — not verified offline": "其他门店的会员 — 离线未验证",
    "The sale is recorded with this code; HQ credits it after sync.": (
        "销售将带此会员码记录，同步后由总部计入该会员。"
    ),
    "Member of another store: not verified offline.": "其他门店的会员：离线未验证。",
    "Sale %1 of %2 recorded for a member of another store (HQ credits it)": (
        "已记录其他门店会员的销售：小票 %1，金额 %2（由总部计入）"
    ),
    # WeCom (企业微信): whether the member is their guide's contact, as HQ last said.
    "WeCom contact of %1 since %2": "自 %2 起为 %1 的企业微信好友",
    "Not a WeCom contact yet": "尚未添加企业微信",
    "a guide": "导购",
    "Not WeCom contacts yet": "仅看未加企业微信",
    # Rung history (HQ's record of each move on the ladder), in My customers.
    "Rung history:": "阶梯变化：",
    "joined": "入会",
    "membership consent": "会员同意",
    "guide assigned": "分配导购",
    "guide removed": "取消导购",
    "referral": "转介绍",
    "purchases": "消费次数",
    "no visit for a long time": "长期未到店",
    "ladder rules changed": "阶梯规则调整",
}

BY_CONTEXT: dict[tuple[str, str], str] = {
    # In the enrol form the label sits beside the phone field; "手机号" reads better there.
    ("EnrolDialog", "Phone"): "手机号",
    # A follow-up made by telephone, beside WeCom and in store.
    ("DashboardTab", "Phone"): "电话",
    # My customers' narrow WeCom column: the short form every guide uses.
    ("CustomersModel", "WeCom"): "企微",
}

PLACEHOLDER = re.compile(r"%(?:n|L?\d+)")
CONTEXT = re.compile(r"<context>\s*<name>(.*?)</name>(.*?)</context>", re.S)
MESSAGE = re.compile(r"(<message(?P<attrs>[^>]*)>)(?P<body>.*?)(</message>)", re.S)
SOURCE = re.compile(r"<source>(.*?)</source>", re.S)
TRANSLATION = re.compile(
    r"(?P<indent>[ \t]*)<translation(?P<attrs>[^>]*?)(?:/>|>.*?</translation>)", re.S
)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def chinese_for(context: str, source: str) -> str | None:
    return BY_CONTEXT.get((context, source), ZH.get(source))


def _translation_xml(indent: str, text: str, *, numerus: bool) -> str:
    if not numerus:
        return f"{indent}<translation>{escape(text)}</translation>"
    # Chinese has one plural form.
    return (
        f"{indent}<translation>\n{indent}    <numerusform>{escape(text)}</numerusform>\n"
        f"{indent}</translation>"
    )


def fill(ts_text: str) -> tuple[str, list[str], set[str]]:
    """The .ts text with every translation set; the problems found; the sources used."""
    problems: list[str] = []
    used: set[str] = set()

    def one_context(context_match: re.Match[str]) -> str:
        context = html.unescape(context_match.group(1))

        def one_message(message: re.Match[str]) -> str:
            body = message.group("body")
            source_match = SOURCE.search(body)
            if source_match is None:
                return message.group(0)
            source = html.unescape(source_match.group(1))
            numerus = 'numerus="yes"' in message.group("attrs")
            if 'type="vanished"' in body or 'type="obsolete"' in body:
                return message.group(0)
            chinese = chinese_for(context, source)
            if chinese is None:
                problems.append(f"no Chinese for [{context}] {source!r}")
                return message.group(0)
            if not chinese.strip():
                problems.append(f"empty Chinese for [{context}] {source!r}")
            if placeholders(chinese) != placeholders(source):
                problems.append(
                    f"placeholders differ for [{context}] {source!r}: "
                    f"{placeholders(source)} vs {placeholders(chinese)}"
                )
            used.add(source)
            new_body, count = TRANSLATION.subn(
                lambda t: _translation_xml(t.group("indent"), chinese, numerus=numerus), body, 1
            )
            if count != 1:
                problems.append(f"no <translation> element for [{context}] {source!r}")
            return message.group(1) + new_body + message.group(4)

        whole = context_match.group(0)
        start = context_match.start(2) - context_match.start(0)
        end = context_match.end(2) - context_match.start(0)
        return whole[:start] + MESSAGE.sub(one_message, whole[start:end]) + whole[end:]

    return CONTEXT.sub(one_context, ts_text), problems, used


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ts", type=Path, help="resources/i18n/posapp_zh_CN.ts")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    before = args.ts.read_text(encoding="utf-8")
    after, problems, used = fill(before)
    if problems:
        for problem in problems:
            sys.stderr.write(f"fill_zh_cn: {problem}\n")
        sys.stderr.write(
            f"fill_zh_cn: {len(problems)} problem(s); add the Chinese to ZH in {__file__}\n"
        )
        return 1
    unused = sorted(set(ZH) - used)
    if unused:
        sys.stderr.write(f"fill_zh_cn: note: {len(unused)} entries not in the .ts: {unused}\n")
    if args.check:
        if after != before:
            sys.stderr.write(f"fill_zh_cn: {args.ts} is not filled: run 'make translations'\n")
            return 1
        return 0
    if after != before:
        args.ts.write_text(after, encoding="utf-8")
    sys.stdout.write(f"fill_zh_cn: {len(used)} source texts translated in {args.ts}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
