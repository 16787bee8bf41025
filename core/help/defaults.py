"""The FAQ every site starts with: two categories of questions that the site's own pages link to.

Each starter question has a ``key`` (``register``, ``verify``, ``recharge``, ``withdraw``) that stays when staff
reword it: the registration, recharge and withdrawal pages link to the question of their key in the reader's
language (:func:`question_for`), and to the help centre when the site has no such published question (deleted
or unpublished). A language of the site that has no FAQ category at all gets the starter categories when the
tenant's settings are applied (a new site, a language added); staff who want no FAQ in a language unpublish
its categories rather than delete them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from .. import events
from .models import FaqCategory, FaqQuestion


@dataclass(frozen=True)
class StarterQuestion:
    key: str
    texts: dict  # {locale: (question, answer in Markdown)}


@dataclass(frozen=True)
class StarterCategory:
    names: dict  # {locale: name}
    questions: tuple[StarterQuestion, ...]


_REGISTER = StarterQuestion(
    "register",
    {
        "zh_Hant": (
            "如何註冊？",
            "在註冊頁填寫手機號碼，輸入短信驗證碼並設定密碼，閱讀並勾選《用戶註冊協議》和《隱私政策》即可。"
            "網站提供郵箱註冊時，也可以用郵箱地址註冊。",
        ),
        "zh_Hans": (
            "如何注册？",
            "在注册页填写手机号码，输入短信验证码并设置密码，阅读并勾选《用户注册协议》和《隐私政策》即可。"
            "网站提供邮箱注册时，也可以用邮箱地址注册。",
        ),
        "en": (
            "How do I register?",
            "Give your mobile number on the registration page, enter the code we send by SMS and choose a "
            "password, then read and accept the terms of use and the privacy policy. Where the site offers it, "
            "you can register with an email address instead.",
        ),
    },
)
_VERIFY = StarterQuestion(
    "verify",
    {
        "zh_Hant": (
            "為甚麼要實名認證？",
            "出借、借款和提現前須完成實名認證（真實姓名和身份證號碼），並綁定本人名下的銀行卡。"
            "這是防範冒用身份和洗錢的法定要求，資料只用於核實身份。",
        ),
        "zh_Hans": (
            "为什么要实名认证？",
            "出借、借款和提现前须完成实名认证（真实姓名和身份证号码），并绑定本人名下的银行卡。"
            "这是防范冒用身份和洗钱的法定要求，资料只用于核实身份。",
        ),
        "en": (
            "Why must I verify my identity?",
            "Before you lend, borrow or withdraw, you verify your identity (your legal name and ID number) and "
            "bind a bank card in your own name. The law asks it to prevent identity theft and money laundering; "
            "your details are used only to check who you are.",
        ),
    },
)
_RECHARGE = StarterQuestion(
    "recharge",
    {
        "zh_Hant": (
            "充值多久到帳？",
            "在充值頁選擇支付方式並完成付款，支付機構確認後金額即計入可用餘額，通常只需幾分鐘。"
            "如已扣款卻未到帳，請留言告訴我們付款時間和金額。",
        ),
        "zh_Hans": (
            "充值多久到账？",
            "在充值页选择支付方式并完成付款，支付机构确认后金额即计入可用余额，通常只需几分钟。"
            "如已扣款却未到账，请留言告诉我们付款时间和金额。",
        ),
        "en": (
            "When does a recharge reach my balance?",
            "Choose a payment method on the recharge page and pay: the amount is added to your available "
            "balance as soon as the payment provider confirms the payment, usually within minutes. If you were "
            "charged but see no credit, leave us a message with the time and the amount.",
        ),
    },
)
_WITHDRAW = StarterQuestion(
    "withdraw",
    {
        "zh_Hant": (
            "如何提現？多久到帳？",
            "提現只能轉入您已綁定的本人銀行卡。申請後金額先凍結在您的帳戶中，處理完成後轉出；"
            "最低金額、每日限額和手續費在提現頁上列明。",
        ),
        "zh_Hans": (
            "如何提现？多久到账？",
            "提现只能转入您已绑定的本人银行卡。申请后金额先冻结在您的账户中，处理完成后转出；"
            "最低金额、每日限额和手续费在提现页上列明。",
        ),
        "en": (
            "How do I withdraw, and how long does it take?",
            "A withdrawal goes to a bank card in your own name that you have bound to your account. The amount "
            "is held in your account when you ask and sent to your card once the withdrawal is processed; the "
            "withdrawal page shows the smallest amount, the daily limit and the fee.",
        ),
    },
)

STARTER_FAQ = (
    StarterCategory({"zh_Hant": "註冊與認證", "zh_Hans": "注册与认证", "en": "Your account"}, (_REGISTER, _VERIFY)),
    StarterCategory(
        {"zh_Hant": "充值與提現", "zh_Hans": "充值与提现", "en": "Recharges and withdrawals"}, (_RECHARGE, _WITHDRAW)
    ),
)
"""The starter categories in their order, each question with its key and its text per language."""


def ensure_starter_faq(session, tenant) -> None:
    """Give each of the tenant's languages that has no FAQ category the starter categories and questions."""
    have = set(session.scalars(sa.select(FaqCategory.locale).where(FaqCategory.tenant_id == tenant.id).distinct()))
    for locale in tenant.locales:
        if locale in have:
            continue
        for position, starter in enumerate(STARTER_FAQ):
            if locale not in starter.names:
                continue
            category = FaqCategory(tenant_id=tenant.id, locale=locale, name=starter.names[locale], position=position)
            session.add(category)
            session.flush()
            for order, question in enumerate(starter.questions):
                text, answer = question.texts[locale]
                session.add(
                    FaqQuestion(
                        tenant_id=tenant.id,
                        category_id=category.id,
                        key=question.key,
                        question=text,
                        answer=answer,
                        position=order,
                        published=True,
                    )
                )
    session.flush()


@events.listen("lendstack_tenant_applied")
def _starter_faq(session, tenant_id, tenant, created):
    ensure_starter_faq(session, tenant)


def question_for(session, key: str, locale: str) -> FaqQuestion | None:
    """The tenant's published question ``key`` in ``locale`` (its first, should staff have given two that key)."""
    return session.scalars(
        sa.select(FaqQuestion)
        .join(FaqCategory)
        .where(
            FaqQuestion.key == key,
            FaqCategory.locale == locale,
            FaqQuestion.published.is_(True),
            FaqCategory.published.is_(True),
        )
        .order_by(FaqQuestion.id)
        .limit(1)
    ).first()
