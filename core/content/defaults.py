"""What every tenant's content centre starts with: the built-in sections and the page templates.

A tenant gets them each time its manifest is applied, when they are missing (a new site, or one made before
the content centre), so its pages only read; a site not applied since reads them made once, under its row
lock, the first time its content is read (:func:`ensure_defaults`). The pages begin as drafts in each of the
tenant's languages, with the operator's details left as placeholders in brackets (【公司全稱】,
[company name]): an editor fills them in and a reviewer publishes them. A built-in section or page is made
once: renamed, moved or hidden it stays as the staff left it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from .. import events
from .models import ITEMS, ContentItem, ContentVersion, Section

ACTOR = "system"


@dataclass(frozen=True)
class DefaultSection:
    code: str
    slug: str
    names: dict
    in_menu: bool = False
    in_footer: bool = False


DEFAULT_SECTIONS = (
    DefaultSection("news", "news", {"zh_Hant": "新聞中心", "zh_Hans": "新闻中心", "en": "News"}, in_menu=True),
    DefaultSection(
        "media", "media", {"zh_Hant": "媒體報道", "zh_Hans": "媒体报道", "en": "In the media"}, in_menu=True
    ),
    DefaultSection("industry", "industry", {"zh_Hant": "行業新聞", "zh_Hans": "行业新闻", "en": "Industry news"}),
    DefaultSection(
        "pages", "pages", {"zh_Hant": "平台信息", "zh_Hans": "平台信息", "en": "About the platform"}, False, True
    ),
)

_ABOUT = {
    "zh_Hant": (
        "關於我們",
        "{site}是【公司全稱】運營的網絡借貸信息中介平台，為出借人和借款人提供信息發布、撮合和資金存管對接服務。\n\n"
        "## 我們做甚麼\n\n- 審核借款人的身份、收入和借款用途\n- 公開每筆借款的利率、期限和還款方式\n"
        "- 按期收回借款並分配給出借人\n\n## 公司信息\n\n註冊地址：【公司地址】  \n備案號：【ICP備案號】",
    ),
    "zh_Hans": (
        "关于我们",
        "{site}是【公司全称】运营的网络借贷信息中介平台，为出借人和借款人提供信息发布、撮合和资金存管对接服务。\n\n"
        "## 我们做什么\n\n- 审核借款人的身份、收入和借款用途\n- 公开每笔借款的利率、期限和还款方式\n"
        "- 按期收回借款并分配给出借人\n\n## 公司信息\n\n注册地址：【公司地址】  \n备案号：【ICP备案号】",
    ),
    "en": (
        "About us",
        "{site} is an online lending platform run by [company name]. We publish loan requests, match lenders "
        "with borrowers and collect repayments for lenders.\n\n## What we do\n\n"
        "- check each borrower's identity, income and purpose\n- show every loan's rate, term and repayment method\n"
        "- collect repayments on time and pay them out to lenders\n\n## Company\n\n"
        "Registered address: [company address]  \nRegistration number: [registration number]",
    ),
}
_SECURITY = {
    "zh_Hant": (
        "安全保障",
        "## 資金安全\n\n出借人和借款人的資金存放於【存管銀行】的存管帳戶，平台不觸碰用戶資金。\n\n"
        "## 借款審核\n\n每筆借款經過初審和復審兩道審核；擔保標由【擔保機構】提供擔保。\n\n"
        "## 風險準備金\n\n平台按借款金額的【比例】計提風險準備金，逾期借款可按規則墊付。\n\n"
        "## 帳戶安全\n\n登錄密碼加密保存；後台人員以雙重驗證登錄，每項操作留有記錄。",
    ),
    "zh_Hans": (
        "安全保障",
        "## 资金安全\n\n出借人和借款人的资金存放于【存管银行】的存管账户，平台不触碰用户资金。\n\n"
        "## 借款审核\n\n每笔借款经过初审和复审两道审核；担保标由【担保机构】提供担保。\n\n"
        "## 风险准备金\n\n平台按借款金额的【比例】计提风险准备金，逾期借款可按规则垫付。\n\n"
        "## 账户安全\n\n登录密码加密保存；后台人员以双重验证登录，每项操作留有记录。",
    ),
    "en": (
        "Security",
        "## Your money\n\nLenders' and borrowers' funds are held in a custody account at [custodian bank]; "
        "the platform never holds them itself.\n\n## Loan review\n\nEvery loan passes a first and a final "
        "review; guaranteed loans are backed by [guarantor].\n\n## Risk reserve\n\nThe platform sets aside "
        "[percentage] of each loan in a risk reserve, which can advance overdue installments under its rules.\n\n"
        "## Your account\n\nPasswords are stored hashed; staff sign in with a second factor and every action "
        "they take is recorded.",
    ),
}
_GUIDE = {
    "zh_Hant": (
        "新手指引",
        "1. **註冊**：用手機號碼註冊並設定密碼。\n2. **實名認證**：在「我的帳戶」完成實名認證，綁定本人銀行卡。\n"
        "3. **充值**：選擇支付方式充值到帳戶餘額。\n4. **出借**：在「我要出借」選擇借款，閱讀借款詳情和"
        "《出借人風險提示》後投標。\n5. **回款**：借款人還款後，本息自動回到您的帳戶，可隨時提現。\n\n"
        "有疑問請聯繫客服：【客服電話】。",
    ),
    "zh_Hans": (
        "新手指引",
        "1. **注册**：用手机号码注册并设定密码。\n2. **实名认证**：在「我的账户」完成实名认证，绑定本人银行卡。\n"
        "3. **充值**：选择支付方式充值到账户余额。\n4. **出借**：在「我要出借」选择借款，阅读借款详情和"
        "《出借人风险提示》后投标。\n5. **回款**：借款人还款后，本息自动回到您的账户，可随时提现。\n\n"
        "有疑问请联系客服：【客服电话】。",
    ),
    "en": (
        "Getting started",
        "1. **Register** with your mobile number and choose a password.\n"
        "2. **Verify your identity** under My account and add a bank card in your own name.\n"
        "3. **Add funds** with one of the payment methods offered.\n"
        "4. **Lend**: choose a loan under Invest, read its details and the risk notice for lenders, then bid.\n"
        "5. **Get repaid**: repayments reach your balance as borrowers pay; withdraw whenever you like.\n\n"
        "Questions? Call us on [hotline].",
    ),
}
_CONTACT = {
    "zh_Hant": (
        "聯繫我們",
        "- 客服熱線：【客服電話】（工作日 9:00–18:00）\n- 電子郵件：【客服郵箱】\n- 地址：【公司地址】\n\n"
        "您也可以在幫助中心給我們留言，我們會在一個工作日內回覆。",
    ),
    "zh_Hans": (
        "联系我们",
        "- 客服热线：【客服电话】（工作日 9:00–18:00）\n- 电子邮件：【客服邮箱】\n- 地址：【公司地址】\n\n"
        "您也可以在帮助中心给我们留言，我们会在一个工作日内回复。",
    ),
    "en": (
        "Contact us",
        "- Hotline: [hotline] (working days 9:00–18:00)\n- Email: [support email]\n- Address: [company address]\n\n"
        "You can also leave us a message in the help centre; we answer within one working day.",
    ),
}
_TERMS = {
    "zh_Hant": (
        "用戶註冊協議",
        "本協議由您與【公司全稱】（「{site}」）訂立。註冊即表示您已閱讀並同意以下條款。\n\n"
        "## 一、帳戶\n\n您應提供真實、準確的身份信息，並妥善保管密碼；以您帳戶進行的操作視為您本人的行為。\n\n"
        "## 二、服務\n\n平台為出借人和借款人提供信息中介服務，不承諾出借本金和收益。\n\n"
        "## 三、禁止行為\n\n不得冒用他人身份、洗錢或從事其他違法活動。\n\n"
        "## 四、協議變更\n\n協議變更後將在網站公布，並在您下次登錄時請您重新確認。\n\n"
        "## 五、爭議解決\n\n本協議適用【適用法律】；爭議由【管轄法院】管轄。",
    ),
    "zh_Hans": (
        "用户注册协议",
        "本协议由您与【公司全称】（「{site}」）订立。注册即表示您已阅读并同意以下条款。\n\n"
        "## 一、账户\n\n您应提供真实、准确的身份信息，并妥善保管密码；以您账户进行的操作视为您本人的行为。\n\n"
        "## 二、服务\n\n平台为出借人和借款人提供信息中介服务，不承诺出借本金和收益。\n\n"
        "## 三、禁止行为\n\n不得冒用他人身份、洗钱或从事其他违法活动。\n\n"
        "## 四、协议变更\n\n协议变更后将在网站公布，并在您下次登录时请您重新确认。\n\n"
        "## 五、争议解决\n\n本协议适用【适用法律】；争议由【管辖法院】管辖。",
    ),
    "en": (
        "User registration agreement",
        "This agreement is between you and [company name] (\"{site}\"). By registering you accept it.\n\n"
        "## 1. Your account\n\nGive true and accurate identity details and keep your password safe; what is "
        "done with your account is taken as done by you.\n\n## 2. The service\n\nThe platform brings lenders "
        "and borrowers together; it does not guarantee principal or returns.\n\n## 3. Not allowed\n\n"
        "Using another person's identity, money laundering or any other unlawful use.\n\n## 4. Changes\n\n"
        "A changed agreement is published on the site and you are asked to accept it at your next sign-in.\n\n"
        "## 5. Disputes\n\nThis agreement is governed by [governing law]; disputes go to [court].",
    ),
}
_PRIVACY = {
    "zh_Hant": (
        "隱私政策",
        "## 我們收集的信息\n\n手機號碼、姓名、身份證號碼、銀行卡和交易記錄，用於實名認證、資金結算和法律要求的留存。\n\n"
        "## 我們如何使用\n\n僅用於提供本平台服務、風險控制和履行法律義務；不出售您的個人信息。\n\n"
        "## 共享\n\n僅在完成支付（支付機構、存管銀行）或法律要求時共享必要信息。\n\n"
        "## 您的權利\n\n您可以查閱、更正您的信息，或聯繫【客服郵箱】註銷帳戶。",
    ),
    "zh_Hans": (
        "隐私政策",
        "## 我们收集的信息\n\n手机号码、姓名、身份证号码、银行卡和交易记录，用于实名认证、资金结算和法律要求的留存。\n\n"
        "## 我们如何使用\n\n仅用于提供本平台服务、风险控制和履行法律义务；不出售您的个人信息。\n\n"
        "## 共享\n\n仅在完成支付（支付机构、存管银行）或法律要求时共享必要信息。\n\n"
        "## 您的权利\n\n您可以查阅、更正您的信息，或联系【客服邮箱】注销账户。",
    ),
    "en": (
        "Privacy policy",
        "## What we collect\n\nYour mobile number, name, ID number, bank cards and transactions: for identity "
        "checks, settling payments and the records the law requires.\n\n## How we use it\n\nOnly to run this "
        "platform, manage risk and meet legal duties; we never sell personal data.\n\n## Sharing\n\nOnly what "
        "a payment needs (payment institutions, the custodian bank) or the law requires.\n\n## Your rights\n\n"
        "See and correct your details, or write to [support email] to close your account.",
    ),
}
_LOAN_AGREEMENT = {
    "zh_Hant": (
        "借款協議",
        "協議編號：{{loan_number}}\n\n借款人：{{borrower_name}}  \n出借人：見附表  \n居間方：【公司全稱】\n\n"
        "## 第一條 借款\n\n借款金額 {{amount}}，年利率 {{annual_rate}}，期限 {{term}}，還款方式 {{repayment_method}}。\n\n"
        "## 第二條 還款\n\n借款人應按還款計劃按期足額還款；逾期按【罰息利率】計收罰息。\n\n"
        "## 第三條 其他\n\n本協議自借款放款之日起生效。",
    ),
    "zh_Hans": (
        "借款协议",
        "协议编号：{{loan_number}}\n\n借款人：{{borrower_name}}  \n出借人：见附表  \n居间方：【公司全称】\n\n"
        "## 第一条 借款\n\n借款金额 {{amount}}，年利率 {{annual_rate}}，期限 {{term}}，还款方式 {{repayment_method}}。\n\n"
        "## 第二条 还款\n\n借款人应按还款计划按期足额还款；逾期按【罚息利率】计收罚息。\n\n"
        "## 第三条 其他\n\n本协议自借款放款之日起生效。",
    ),
    "en": (
        "Loan agreement",
        "Agreement number: {{loan_number}}\n\nBorrower: {{borrower_name}}  \nLenders: see the schedule  \n"
        "Intermediary: [company name]\n\n## 1. The loan\n\nAmount {{amount}} at {{annual_rate}} a year for "
        "{{term}}, repaid by {{repayment_method}}.\n\n## 2. Repayment\n\nThe borrower repays each installment in "
        "full on its due date; an overdue installment bears penalty interest at [penalty rate].\n\n"
        "## 3. Start\n\nThis agreement takes effect when the loan is disbursed.",
    ),
}
_LENDER_RISK = {
    "zh_Hant": (
        "出借人風險提示",
        "出借有風險，請謹慎決策。\n\n- **信用風險**：借款人可能無法按期還款，您可能損失部分或全部本金和利息。\n"
        "- **流動性風險**：出借資金在借款到期前不能提前收回。\n- **政策風險**：法律法規變化可能影響平台和借款。\n\n"
        "平台不承諾保本保息。請只用您能承受損失的閒置資金出借。",
    ),
    "zh_Hans": (
        "出借人风险提示",
        "出借有风险，请谨慎决策。\n\n- **信用风险**：借款人可能无法按期还款，您可能损失部分或全部本金和利息。\n"
        "- **流动性风险**：出借资金在借款到期前不能提前收回。\n- **政策风险**：法律法规变化可能影响平台和借款。\n\n"
        "平台不承诺保本保息。请只用您能承受损失的闲置资金出借。",
    ),
    "en": (
        "Risk notice for lenders",
        "Lending involves risk: decide with care.\n\n- **Credit risk**: a borrower may not repay on time; you may "
        "lose some or all of the principal and interest.\n- **Liquidity risk**: money lent cannot be taken back "
        "before the loan ends.\n- **Policy risk**: changes in law may affect the platform and its loans.\n\n"
        "The platform does not guarantee principal or returns. Lend only money you can afford to lose.",
    ),
}

PAGE_TEMPLATES = {
    "about": _ABOUT,
    "security": _SECURITY,
    "guide": _GUIDE,
    "contact": _CONTACT,
    "terms": _TERMS,
    "privacy": _PRIVACY,
    "loan-agreement": _LOAN_AGREEMENT,
    "lender-risk": _LENDER_RISK,
}
"""The built-in pages by their address (``/pages/<slug>``, also their ``template``): (title, Markdown) per language."""


def _section(tenant_id: int, default: DefaultSection, position: int) -> Section:
    return Section(
        tenant_id=tenant_id,
        code=default.code,
        kind=default.code,
        slug=default.slug,
        names=dict(default.names),
        position=position,
        in_menu=default.in_menu,
        in_footer=default.in_footer,
    )


def _pages(session, tenant, section: Section) -> None:
    site = tenant.brand("site_title", tenant.name, tenant.default_locale)
    for position, (slug, texts) in enumerate(PAGE_TEMPLATES.items()):
        for locale in tenant.locales:
            if locale not in texts:
                continue
            title, body = texts[locale]
            body = body.replace("{site}", site)
            item = ContentItem(
                tenant_id=tenant.id,
                section=section,
                kind="page",
                slug=slug,
                template=slug,
                locale=locale,
                title=title,
                body=body,
                position=position,
                status=ITEMS.initial.value,
                author=ACTOR,
                version=1,
            )
            session.add(item)
            session.flush()
            session.add(
                ContentVersion(tenant_id=tenant.id, item_id=item.id, number=1, title=title, body=body, saved_by=ACTOR)
            )


def ensure_defaults(session, tenant) -> None:
    """Make the built-in sections (and, with the pages section, the page templates) the tenant lacks.

    Cheap when nothing is missing (one query). Takes the tenant's row lock first when it has to write, so
    two first visits cannot make the sections twice.
    """
    from ..tenancy.models import Tenant

    query = sa.select(Section.code).where(Section.tenant_id == tenant.id, Section.code.is_not(None))
    if len(set(session.scalars(query))) >= len(DEFAULT_SECTIONS):
        return
    # NO KEY UPDATE: serialises first visits without holding up rows that merely refer to the tenant.
    session.scalars(sa.select(Tenant.id).where(Tenant.id == tenant.id).with_for_update(key_share=True)).first()
    have = set(session.scalars(query))
    for position, default in enumerate(DEFAULT_SECTIONS):
        if default.code in have:
            continue
        section = _section(tenant.id, default, position)
        session.add(section)
        session.flush()
        if default.code == "pages":
            _pages(session, tenant, section)
    session.flush()


@events.listen("lendstack_tenant_applied")
def _default_sections(session, tenant_id, tenant, created):
    """A site starts with the built-in sections and the page templates; one made before the content centre gets
    them the next time its settings are applied (idempotent: nothing is made twice)."""
    ensure_defaults(session, tenant)
