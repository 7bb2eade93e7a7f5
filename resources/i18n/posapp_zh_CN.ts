<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>BuyerKeypad</name>
    <message>
        <location filename="../../posapp/ui/keypad.py" line="+46"/>
        <source>Type your mobile number</source>
        <translation>请输入您的手机号</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Delete the last digit</source>
        <translation>删除最后一位</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <location line="+62"/>
        <source>That is already %1 digits.</source>
        <translation>已经输入了 %1 位。</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Type your mobile number first.</source>
        <translation>请先输入手机号。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>A mobile number here has %1 digits.</source>
        <translation>手机号应为 %1 位。</translation>
    </message>
</context>
<context>
    <name>BuyerKeypadPanel</name>
    <message>
        <location filename="../../posapp/ui/panels/buyer_keypad.py" line="+83"/>
        <source>The customer types their phone on the customer display (Esc cancels).</source>
        <translation>顾客正在客显屏上输入手机号（Esc 取消）。</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>The customer&apos;s keypad was cancelled.</source>
        <translation>已取消顾客的手机号输入。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Nobody typed a phone in time: the keypad closed. F11 opens it again.</source>
        <translation>顾客未及时输入手机号，键盘已关闭。按 F11 重新打开。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The customer typed %1: looking it up…</source>
        <translation>顾客输入了 %1，正在查询…</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Not known at this store: asking HQ…</source>
        <translation>本店没有此会员：正在询问总部…</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Member recognised by the phone they typed: %1.</source>
        <translation>已按顾客输入的手机号识别会员：%1。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 is not a member yet: the customer decides on each consent.</source>
        <translation>%1 还不是会员：每一项同意都由顾客自己决定。</translation>
    </message>
</context>
<context>
    <name>CandidateModel</name>
    <message>
        <location filename="../../posapp/ui/models.py" line="+119"/>
        <source>Member code</source>
        <translation>会员码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Phone</source>
        <translation>手机号</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rung</source>
        <translation>等级</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Visits</source>
        <translation>到店次数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Spent</source>
        <translation>累计消费</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Last visit</source>
        <translation>最近到店</translation>
    </message>
</context>
<context>
    <name>CardPanel</name>
    <message>
        <location filename="../../posapp/ui/panels/card.py" line="+99"/>
        <source>Member</source>
        <translation>会员</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>(no name)</source>
        <translation>（未留姓名）</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Visits %1 · spent %2 · last visit %3 · guide %4</source>
        <translation>到店 %1 次 · 累计消费 %2 · 最近到店 %3 · 导购 %4</translation>
    </message>
    <message>
        <location line="+14"/>
        <location line="+32"/>
        <source>Next step: %1</source>
        <translation>下一步：%1</translation>
    </message>
    <message>
        <location line="-29"/>
        <source>Member since %1 at %2</source>
        <translation>%1 于%2入会</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Member of another store — not verified offline</source>
        <translation>其他门店的会员 — 离线未验证</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The sale is recorded with this code; HQ credits it after sync.</source>
        <translation>销售将带此会员码记录，同步后由总部计入该会员。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Customer</source>
        <translation>顾客</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Walk-in</source>
        <translation>散客</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>invite to join</source>
        <translation>邀请入会</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Scan the member first: this is for a member on screen.</source>
        <translation>请先识别会员：此操作只对屏幕上的会员有效。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>The full phone shows for 30 seconds and was recorded as revealed.</source>
        <translation>完整手机号将显示 30 秒，本次查看已记录。</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Asked HQ for the new guide; it shows after the next sync.</source>
        <translation>已向总部申请更换导购，下次同步后生效。</translation>
    </message>
</context>
<context>
    <name>CounterApp</name>
    <message>
        <location filename="../../posapp/ui/app.py" line="+193"/>
        <source>The POS intake could not start: %1</source>
        <translation>POS 数据接入无法启动：%1</translation>
    </message>
</context>
<context>
    <name>CounterTab</name>
    <message>
        <location filename="../../posapp/ui/panels/counter_tab.py" line="+79"/>
        <source>Member recognised.</source>
        <translation>已识别会员。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Member of another store: not verified offline.</source>
        <translation>其他门店的会员：离线未验证。</translation>
    </message>
</context>
<context>
    <name>CounterWindow</name>
    <message>
        <location filename="../../posapp/ui/counter_window.py" line="+126"/>
        <source>posapp counter</source>
        <translation>posapp 收银台</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Keyboard help</source>
        <translation>快捷键帮助</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Go to the sale</source>
        <translation>转到销售</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Enrol a member</source>
        <translation>办理入会</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Record the sale</source>
        <translation>记录销售</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose the guide who served</source>
        <translation>选择服务的导购</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show or switch the invite QR</source>
        <translation>显示 / 切换邀请二维码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Print the invite</source>
        <translation>打印邀请二维码</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The customer types their phone on the display</source>
        <translation>顾客在客显屏上输入手机号</translation>
    </message>
    <message>
        <location line="-4"/>
        <source>Reveal the full phone (manager)</source>
        <translation>显示完整手机号（店长）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ask HQ for another guide (manager)</source>
        <translation>申请更换导购（店长）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Sync now</source>
        <translation>立即同步</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Settings (manager)</source>
        <translation>设置（店长）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Lock the counter</source>
        <translation>锁定收银台</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Sign out</source>
        <translation>退出登录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Clear the customer</source>
        <translation>清除当前顾客</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The counter</source>
        <translation>收银台</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>My customers (follow-ups)</source>
        <translation>我的顾客（回访）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Dashboard (manager)</source>
        <translation>店长看板（店长）</translation>
    </message>
    <message>
        <location line="+74"/>
        <source>Locked. Sign in to go on.</source>
        <translation>已锁定，请登录后继续。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Signed out.</source>
        <translation>已退出登录。</translation>
    </message>
    <message>
        <location line="-156"/>
        <source>Counter</source>
        <translation>收银台</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>My customers</source>
        <translation>我的顾客</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Dashboard</source>
        <translation>店长看板</translation>
    </message>
</context>
<context>
    <name>CustomerDisplay</name>
    <message>
        <location filename="../../posapp/ui/customer_display.py" line="+35"/>
        <location line="+53"/>
        <source>Welcome</source>
        <translation>欢迎光临</translation>
    </message>
    <message>
        <location line="-2"/>
        <source>Welcome to %1</source>
        <translation>欢迎光临 %1</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Thank you, one moment</source>
        <translation>谢谢，请稍候</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Welcome back</source>
        <translation>欢迎回来</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Welcome, you are now a member</source>
        <translation>欢迎，您已成为会员</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Thank you for joining</source>
        <translation>感谢您的加入</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>Dear %1</source>
        <translation>尊敬的%1</translation>
    </message>
</context>
<context>
    <name>CustomersModel</name>
    <message>
        <location filename="../../posapp/ui/models.py" line="+24"/>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Member code</source>
        <translation>会员码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Phone</source>
        <translation>手机号</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Rung</source>
        <translation>等级</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>WeCom</source>
        <translation>企微</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Last visit</source>
        <translation>最近到店</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Spent</source>
        <translation>累计消费</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Repurchases</source>
        <translation>复购次数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Referrals</source>
        <translation>推荐人数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Due</source>
        <translation>待回访</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Next follow-up</source>
        <translation>下次回访</translation>
    </message>
    <message>
        <location line="-29"/>
        <source>No consent to contact by a guide: no follow-ups.</source>
        <translation>顾客未同意导购联系：不安排回访。</translation>
    </message>
</context>
<context>
    <name>CustomersTab</name>
    <message>
        <location filename="../../posapp/ui/customers_tab.py" line="+103"/>
        <source>Filter by name or member code</source>
        <translation>按姓名或会员码筛选</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Follow-ups due only</source>
        <translation>只看待回访</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Not WeCom contacts yet</source>
        <translation>仅看未加企业微信</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Follow-up done: 1 WeCom · 2 phone · 3 in store, then R reached · N no answer · V visit planned · X not interested</source>
        <translation>完成回访：1 企业微信 · 2 电话 · 3 到店，再按 R 已联系 · N 未接通 · V 约好到店 · X 无意向</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>You are on WeCom: customers can add you from the guide QR.</source>
        <translation>您已接入企业微信：顾客可扫导购码添加您。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>You are not on WeCom yet: ask HQ to set your WeCom account.</source>
        <translation>您尚未接入企业微信：请联系总部设置您的企业微信账号。</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>Follow-up recorded for %1.</source>
        <translation>已记录对 %1 的回访。</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>%1: %2 visits, %3 repurchases, %4 referrals, lifetime %5</source>
        <translation>%1：到店 %2 次，复购 %3 次，推荐 %4 人，累计消费 %5</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>No consent to contact by a guide: no follow-ups.</source>
        <translation>顾客未同意导购联系：不安排回访。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>overdue</source>
        <translation>已逾期</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>due</source>
        <translation>今日到期</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Not a WeCom contact yet: 2 phone or 3 in store.</source>
        <translation>还不是企业微信联系人：请用 2 电话或 3 到店。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Then the outcome: R, N, V or X.</source>
        <translation>再按结果：R、N、V 或 X。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>First how: 1 WeCom, 2 phone, 3 in store.</source>
        <translation>先选方式：1 企业微信，2 电话，3 到店。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This customer has no follow-up due.</source>
        <translation>这位顾客没有待办回访。</translation>
    </message>
</context>
<context>
    <name>DashboardTab</name>
    <message>
        <location filename="../../posapp/ui/dashboard_tab.py" line="+62"/>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This week</source>
        <translation>本周</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Custom days</source>
        <translation>自选日期</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <location line="+9"/>
        <location line="+144"/>
        <location filename="../../posapp/ui/dashboard_tables.py" line="+36"/>
        <location line="+16"/>
        <source>Capture rate</source>
        <translation>会员识别率</translation>
    </message>
    <message>
        <location line="-143"/>
        <location filename="../../posapp/ui/dashboard_tables.py" line="-18"/>
        <location line="+16"/>
        <source>Sales</source>
        <translation>销售笔数</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../posapp/ui/dashboard_tables.py" line="-12"/>
        <location line="+15"/>
        <source>New members</source>
        <translation>新增会员</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../posapp/ui/dashboard_tables.py" line="+3"/>
        <source>Repurchase rate</source>
        <translation>复购率</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../posapp/ui/dashboard_tables.py" line="-15"/>
        <location line="+16"/>
        <source>Follow-ups done</source>
        <translation>完成回访</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../posapp/ui/dashboard_tables.py" line="+1"/>
        <source>Waiting to sync</source>
        <translation>待同步</translation>
    </message>
    <message>
        <location line="+10"/>
        <location filename="../../posapp/ui/dashboard_tables.py" line="-37"/>
        <source>Capture rate by day</source>
        <translation>每日会员识别率</translation>
    </message>
    <message>
        <location filename="../../posapp/ui/dashboard_tables.py" line="-1"/>
        <source>Summary</source>
        <translation>汇总</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Capture rate by person at the till</source>
        <translation>各收银人员会员识别率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New members by how they joined</source>
        <translation>新增会员（按入会方式）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New members by guide</source>
        <translation>新增会员（按导购）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Members by rung</source>
        <translation>会员阶梯分布</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Follow-ups by guide</source>
        <translation>回访（按导购）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Figure</source>
        <translation>指标</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Day</source>
        <translation>日期</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Guide</source>
        <translation>导购</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>With a known member</source>
        <translation>识别出会员</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>How they joined</source>
        <translation>入会方式</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Rung</source>
        <translation>等级</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Members</source>
        <translation>会员数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>WeCom</source>
        <translation>企业微信</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Phone</source>
        <translation>电话</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>In store</source>
        <translation>到店</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>First day</source>
        <translation>起始日</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Last day</source>
        <translation>截止日</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Sales with a known member</source>
        <translation>识别出会员的销售笔数</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Members who bought</source>
        <translation>有消费的会员</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Members who bought again</source>
        <translation>复购会员</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Time zone</source>
        <translation>时区</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>at the counter</source>
        <translation>收银台入会</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>by scanning the QR</source>
        <translation>扫码入会</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no one</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../../posapp/ui/dashboard_tab.py" line="+3"/>
        <source>Capture rate by cashier</source>
        <translation>各收银员会员识别率</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Table</source>
        <translation>明细表</translation>
    </message>
    <message>
        <location line="+43"/>
        <source>Counting…</source>
        <translation>正在统计…</translation>
    </message>
    <message>
        <location line="+80"/>
        <source>Export the dashboard to</source>
        <translation>导出看板到</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>%1 CSV files written to %2</source>
        <translation>已导出 %1 个 CSV 文件到 %2</translation>
    </message>
</context>
<context>
    <name>EnrolDialog</name>
    <message>
        <location filename="../../posapp/ui/enrol_dialog.py" line="+72"/>
        <source>Enrol a member</source>
        <translation>办理入会</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Mobile number</source>
        <translation>手机号码</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Typed by the customer on their keypad</source>
        <translation>由顾客在键盘上输入</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Optional</source>
        <translation>选填</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>YYYY-MM-DD, optional</source>
        <translation>如 1990-05-20，选填</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>no guide</source>
        <translation>无导购</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>A guardian consents (customers under 14)</source>
        <translation>监护人同意（未满 14 周岁的顾客）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Privacy notice version %1 (%2)</source>
        <translation>隐私政策 第 %1 版（%2）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Read the notice</source>
        <translation>查看隐私政策</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Show it on the customer display</source>
        <translation>在客显屏上给顾客看</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>This sale of %1, receipt %2, will be credited to the new member</source>
        <translation>这笔 %1 的销售（小票 %2）将计入新会员名下</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Phone</source>
        <translation>手机号</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Birthday</source>
        <translation>生日</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Guide</source>
        <translation>导购</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Enrol</source>
        <translation>入会</translation>
    </message>
    <message>
        <location line="+40"/>
        <source>Enter a phone number.</source>
        <translation>请输入手机号。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Write the birthday as YYYY-MM-DD.</source>
        <translation>生日请写成 年-月-日，如 1990-05-20。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Membership needs the customer&apos;s consent: tick it only if they agree.</source>
        <translation>入会须顾客本人同意：顾客同意后才能勾选。</translation>
    </message>
</context>
<context>
    <name>EnrolPanel</name>
    <message>
        <location filename="../../posapp/ui/panels/enrol.py" line="+83"/>
        <source>Enrolled: member code %1</source>
        <translation>入会成功，会员码 %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Already a member.</source>
        <translation>已经是会员。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Sale %1 of %2 is now theirs.</source>
        <translation>小票 %1（%2）已计入该会员。</translation>
    </message>
</context>
<context>
    <name>GuidePicker</name>
    <message>
        <location filename="../../posapp/ui/panels/card.py" line="-163"/>
        <source>Another guide</source>
        <translation>更换导购</translation>
    </message>
</context>
<context>
    <name>InvitePanel</name>
    <message>
        <location filename="../../posapp/ui/panels/invite.py" line="+30"/>
        <source>Invite</source>
        <translation>邀请二维码</translation>
    </message>
    <message>
        <location line="+64"/>
        <source>This is the only QR for this customer.</source>
        <translation>这位顾客只有这一个二维码。</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>No invite QR to print yet: F6 shows one.</source>
        <translation>还没有可打印的邀请二维码：按 F6 显示。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>No receipt printer is set up (settings).</source>
        <translation>未设置小票打印机（请在设置中配置）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Printing…</source>
        <translation>正在打印…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Not printed: %1 The invite stays on screen; F7 tries again.</source>
        <translation>未打印：%1 邀请二维码仍在屏幕上，按 F7 重试。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Printed.</source>
        <translation>已打印。</translation>
    </message>
</context>
<context>
    <name>KeypadDialog</name>
    <message>
        <location filename="../../posapp/ui/keypad.py" line="+31"/>
        <source>The customer types their phone</source>
        <translation>顾客输入手机号</translation>
    </message>
</context>
<context>
    <name>ManagerConfirm</name>
    <message>
        <location filename="../../posapp/ui/panels/session.py" line="+22"/>
        <source>Manager confirmation</source>
        <translation>店长确认</translation>
    </message>
</context>
<context>
    <name>SalePanel</name>
    <message>
        <location filename="../../posapp/ui/panels/sale.py" line="+37"/>
        <source>Sale</source>
        <translation>销售</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Receipt number</source>
        <translation>小票号</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Amount, e.g. 128.00</source>
        <translation>金额，如 128.00</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Record sale (F4)</source>
        <translation>记录销售 (F4)</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Receipt</source>
        <translation>小票号</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Amount</source>
        <translation>金额</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Served by (F5)</source>
        <translation>服务导购（F5）</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>no guide</source>
        <translation>无导购</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Served by %1.</source>
        <translation>服务导购：%1。</translation>
    </message>
    <message>
        <location line="+85"/>
        <source>Sale %1 of %2 was already recorded</source>
        <translation>这笔销售已记录过：小票 %1，金额 %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Sale %1 of %2 recorded for a member of another store (HQ credits it)</source>
        <translation>已记录其他门店会员的销售：小票 %1，金额 %2（由总部计入）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Sale %1 of %2 recorded for a walk-in</source>
        <translation>已记录散客销售：小票 %1，金额 %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Sale %1 of %2 recorded for %3</source>
        <translation>已记录%3的销售：小票 %1，金额 %2</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>the member</source>
        <translation>会员</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>(a free gift)</source>
        <translation>（赠品）</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>From the POS: sale %1 of %2</source>
        <translation>来自 POS：小票 %1，金额 %2</translation>
    </message>
</context>
<context>
    <name>ScanPanel</name>
    <message>
        <location filename="../../posapp/ui/panels/scan.py" line="+36"/>
        <source>Scan a member code, or type a phone, its last four digits or a name</source>
        <translation>扫会员码，或输入手机号、手机尾号后四位、姓名</translation>
    </message>
    <message numerus="yes">
        <location line="+68"/>
        <source>%n match(es): arrows, then Enter</source>
        <translation>
            <numerusform>找到 %n 位：方向键选择，回车确认</numerusform>
        </translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Not a member yet. F3 enrols this phone.</source>
        <translation>还不是会员。按 F3 用这个手机号入会。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No member found.</source>
        <translation>未找到会员。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>HQ could not be asked: served as a walk-in.</source>
        <translation>无法询问总部：按散客接待。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Not known at this store: asking HQ…</source>
        <translation>本店没有此会员：正在询问总部…</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../posapp/ui/settings_dialog.py" line="+35"/>
        <source>Counter settings</source>
        <translation>收银台设置</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>As the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location line="+8"/>
        <source> min</source>
        <translation> 分钟</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>No receipt printer</source>
        <translation>不用小票打印机</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Network (TCP 9100)</source>
        <translation>网络（TCP 9100）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>USB</source>
        <translation>USB</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Serial port</source>
        <translation>串口</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>network: host[:port] · usb: vendor:product (hex) · serial: /dev/ttyUSB0</source>
        <translation>网络：主机[:端口] · USB：厂商:产品（十六进制） · 串口：/dev/ttyUSB0</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>A new language shows after the app restarts.</source>
        <translation>新语言在重启应用后生效。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Lock after idle</source>
        <translation>空闲自动锁定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Receipt printer</source>
        <translation>小票打印机</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Printer address</source>
        <translation>打印机地址</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Type the printer&apos;s address.</source>
        <translation>请输入打印机地址。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The port must be a number from 1 to 65535.</source>
        <translation>端口须为 1 到 65535 之间的数字。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Write the USB ids as vendor:product in hex, e.g. 0416:5011.</source>
        <translation>USB 编号请写成 厂商:产品（十六进制），如 0416:5011。</translation>
    </message>
</context>
<context>
    <name>SettingsPanel</name>
    <message>
        <location filename="../../posapp/ui/panels/settings.py" line="+43"/>
        <source>Settings saved.</source>
        <translation>设置已保存。</translation>
    </message>
</context>
<context>
    <name>SignInPage</name>
    <message>
        <location filename="../../posapp/ui/sign_in.py" line="+37"/>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>PIN, then Enter</source>
        <translation>输入 PIN 码，按回车</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>No staff can sign in yet: register this counter with HQ (posapp register) and let it sync.</source>
        <translation>还没有可登录的员工：请先在总部注册本收银台（posapp register），并完成同步。</translation>
    </message>
</context>
<context>
    <name>Startup</name>
    <message>
        <location filename="../../posapp/ui/startup.py" line="+47"/>
        <source>This database was written by a newer posapp (schema %1). Install that version or a newer one. Nothing was changed.</source>
        <translation>此数据库由更新版本的 posapp 写入（数据库版本 %1）。请安装该版本或更新的版本。数据未作任何改动。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The update could not convert the database (schema %1 to %2): it was put back exactly as it was before the update, from the backup %3. No sale was lost. Install the previous posapp version again, or call support.</source>
        <translation>本次更新未能转换数据库（版本 %1 → %2），已从更新前的备份 %3 原样恢复，没有丢失任何销售记录。请重新安装之前的 posapp 版本，或联系技术支持。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>this computer has no key for it</source>
        <translation>本机没有它的密钥</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the key kept on this computer does not open it</source>
        <translation>本机保存的密钥打不开它</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The local data in %1 cannot be read with this computer&apos;s key (%2). Nothing was changed. Start clean to set the unreadable file aside (it is kept, not deleted) and fetch members and staff from HQ again after registering this counter. Sales not yet sent to HQ stay in the unreadable file.</source>
        <translation>本机的密钥无法读取 %1 中的本地数据（%2）。数据未作任何改动。选择“重新开始”会把无法读取的文件移到一旁（保留，不删除），重新登记本收银台后再从总部取回会员和员工。尚未发送到总部的销售记录仍留在该文件中。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>The database cannot be opened: %1</source>
        <translation>数据库无法打开：%1</translation>
    </message>
    <message>
        <location line="+9"/>
        <location line="+9"/>
        <source>posapp cannot start</source>
        <translation>posapp 无法启动</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Start clean</source>
        <translation>重新开始</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
</context>
<context>
    <name>SyncPanel</name>
    <message>
        <location filename="../../posapp/ui/panels/sync_status.py" line="+34"/>
        <source>This counter is not registered with HQ: there is nothing to sync.</source>
        <translation>本收银台尚未在总部注册，无需同步。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Syncing…</source>
        <translation>正在同步…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Syncing with HQ…</source>
        <translation>正在与总部同步…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Not registered with HQ</source>
        <translation>未在总部注册</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Online</source>
        <translation>在线</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+30"/>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message numerus="yes">
        <location line="-28"/>
        <source>%n pending</source>
        <translation>
            <numerusform>%n 条待同步</numerusform>
        </translation>
    </message>
    <message>
        <location line="+3"/>
        <source>oldest %1 min</source>
        <translation>最早一条已等 %1 分钟</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>last sync %1</source>
        <translation>上次同步 %1</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>check the clock: %1 s off HQ</source>
        <translation>请检查时钟：与总部相差 %1 秒</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Synced with HQ: %1 sent, %2 received.</source>
        <translation>已与总部同步：上传 %1 条，接收 %2 条。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>HQ could not be reached; nothing is lost and it tries again by itself.</source>
        <translation>无法连接总部；数据不会丢失，稍后会自动重试。</translation>
    </message>
</context>
<context>
    <name>demo</name>
    <message>
        <location filename="../../posapp/ui/app.py" line="+59"/>
        <source>Demo PINs: manager %1, guide %2, cashier %3</source>
        <translation>演示 PIN 码：店长 %1，导购 %2，收银员 %3</translation>
    </message>
</context>
<context>
    <name>errors</name>
    <message>
        <location filename="../../posapp/ui/words.py" line="+20"/>
        <source>Something went wrong; nothing was lost. Details: %1</source>
        <translation>出了点问题，数据没有丢失。详情：%1</translation>
    </message>
    <message>
        <location line="+51"/>
        <source>Enter a phone number.</source>
        <translation>请输入手机号。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The phone number has too few digits.</source>
        <translation>手机号位数不够。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>The phone number contains a character that is not a digit.</source>
        <translation>手机号里有非数字的字符。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The phone number has letters or an extension.</source>
        <translation>手机号里有字母或分机号。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The phone number has an unknown country code.</source>
        <translation>手机号的国家 / 地区代码无法识别。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This is not a phone number.</source>
        <translation>这不是手机号。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No such mobile number exists.</source>
        <translation>没有这个手机号段，请核对。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Only mobile numbers can be used (this is a landline).</source>
        <translation>只能用手机号（这是固定电话）。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The scan was garbled: scan it again.</source>
        <translation>扫码内容有误，请重新扫描。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Member code failed its check digit: scan it again.</source>
        <translation>会员码校验不通过，请重新扫描。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Membership needs the customer&apos;s consent: tick it only if they agree.</source>
        <translation>入会须顾客本人同意：顾客同意后才能勾选。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Customers under 14 can join only with a guardian&apos;s consent.</source>
        <translation>未满 14 周岁的顾客须经监护人同意才能入会。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The amount is not a number.</source>
        <translation>金额不是数字。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The amount cannot be negative.</source>
        <translation>金额不能为负数。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>¥0.00 is recorded only as a free gift: type the amount paid, or press F4 again to record this gift.</source>
        <translation>¥0.00 只能作为赠品记录：请输入实收金额，或再按 F4 记为赠品。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The amount is too large.</source>
        <translation>金额太大。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Amounts have at most two decimals.</source>
        <translation>金额最多两位小数。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Enter the receipt number.</source>
        <translation>请输入小票号。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Receipt numbers hold only letters, digits and . _ / -</source>
        <translation>小票号只能包含字母、数字和 . _ / -</translation>
    </message>
    <message>
        <location line="-54"/>
        <source>The phone number has at most %1 characters; this has %2.</source>
        <translation>手机号最多 %1 个字符，当前有 %2 个。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A mobile number has %1 digits; this has %2 (too few digits).</source>
        <translation>手机号应为 %1 位，当前只有 %2 位（位数不足）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A mobile number has %1 digits; this has %2 (too many digits).</source>
        <translation>手机号应为 %1 位，当前有 %2 位（位数过多）。</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>A phone, member code or name has at most %1 characters; this has %2.</source>
        <translation>手机号、会员码或姓名最多 %1 个字符，当前有 %2 个。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>An amount has at most %1 characters; this has %2.</source>
        <translation>金额最多 %1 个字符，当前有 %2 个。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>A receipt number has at most %1 characters; this has %2.</source>
        <translation>小票号最多 %1 个字符，当前有 %2 个。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>A name has at most %1 characters; this has %2.</source>
        <translation>姓名最多 %1 个字符，当前有 %2 个。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The name contains a hidden control character.</source>
        <translation>姓名里有看不见的控制字符。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The birthday is in the future.</source>
        <translation>生日不能晚于今天。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The birthday is too far in the past.</source>
        <translation>生日太早，请核对。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Wrong PIN: %1 tries left.</source>
        <translation>PIN 码错误，还可以再试 %1 次。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Too many wrong PINs: locked for %1 minutes.</source>
        <translation>PIN 码错误次数过多，已锁定 %1 分钟。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Too many wrong PINs: try again in %1 minute(s).</source>
        <translation>PIN 码错误次数过多，请 %1 分钟后再试。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Only a store manager may do this. The attempt was recorded.</source>
        <translation>只有店长可以这样操作。本次尝试已记录。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>No receipt printer is set up (F10, settings).</source>
        <translation>未设置小票打印机（按 F10 进入设置）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The printer settings are not usable: check them in settings (F10).</source>
        <translation>打印机设置有误：请在设置（F10）中检查。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The printer does not answer: is it on, plugged in and online?</source>
        <translation>打印机没有响应：请检查是否开机、接好线并在线。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The printer is out of paper.</source>
        <translation>打印机缺纸。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The printer stopped part-way.</source>
        <translation>打印中途停止了。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Some sales and members have not reached HQ yet: sync first, or ask a manager.</source>
        <translation>还有销售和会员没有同步到总部：请先同步，或请店长确认。</translation>
    </message>
</context>
<context>
    <name>keys</name>
    <message>
        <location filename="../../posapp/ui/keys.py" line="+44"/>
        <source>Keyboard</source>
        <translation>快捷键</translation>
    </message>
</context>
<context>
    <name>limits</name>
    <message>
        <location filename="../../posapp/ui/limits.py" line="+17"/>
        <source>At most %1 characters here.</source>
        <translation>此处最多 %1 个字符。</translation>
    </message>
</context>
<context>
    <name>words</name>
    <message>
        <location filename="../../posapp/ui/words.py" line="-135"/>
        <source>walk-in</source>
        <translation>散客</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>member</source>
        <translation>会员</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>regular</source>
        <translation>老顾客</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>super-member</source>
        <translation>超级会员</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>joined</source>
        <translation>入会</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>membership consent</source>
        <translation>会员同意</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>guide assigned</source>
        <translation>分配导购</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>guide removed</source>
        <translation>取消导购</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>referral</source>
        <translation>转介绍</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>purchases</source>
        <translation>消费次数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no visit for a long time</source>
        <translation>长期未到店</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>ladder rules changed</source>
        <translation>阶梯规则调整</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Rung history:</source>
        <translation>阶梯变化：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>mini-program</source>
        <translation>小程序</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>micro-mall</source>
        <translation>微商城</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>app</source>
        <translation>品牌 App</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>contact your guide</source>
        <translation>导购联系</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Scan to join as a member</source>
        <translation>扫码入会</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Scan to shop our micro-mall</source>
        <translation>扫码逛微商城</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Scan to get the app</source>
        <translation>扫码下载品牌 App</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Scan to add your guide</source>
        <translation>扫码添加您的专属导购</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Your referral code: friends scan to join</source>
        <translation>您的推荐码：好友扫码即可入会</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Membership (required)</source>
        <translation>入会（必选）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Marketing messages</source>
        <translation>营销信息</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Contact by my guide</source>
        <translation>导购联系</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>cashier</source>
        <translation>收银员</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>guide</source>
        <translation>导购</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>store manager</source>
        <translation>店长</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>thank-you</source>
        <translation>感谢回访</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>care check</source>
        <translation>关怀回访</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>repurchase reminder</source>
        <translation>复购提醒</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>birthday</source>
        <translation>生日祝福</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>win-back</source>
        <translation>流失挽回</translation>
    </message>
    <message>
        <location line="+162"/>
        <source>WeCom contact of %1 since %2</source>
        <translation>自 %2 起为 %1 的企业微信好友</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Not a WeCom contact yet</source>
        <translation>尚未添加企业微信</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>a guide</source>
        <translation>导购</translation>
    </message>
</context>
</TS>
