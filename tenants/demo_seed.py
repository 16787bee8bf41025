"""The demo tenants' sample site (``lendstack demo seed``): members, money, loans in every state, news, a banner.

Everything goes through the product's own services, as people would have done it:
members are created and verified as ``lendstack member create`` does, money
comes in through the sandbox gateway's checkout and signed callback, loans are
applied for, reviewed, bid on and disbursed, a borrower withdraws through the
sandbox payout, and close of day runs day after day until installments fall
due — one collected (paybacks received), one settling its loan, one left
unpaid (overdue) — and a fundraising deadline passes (failed). Loans open for
bids, one in final review and one waiting for the first review are made on the
last business date, so they stay open.

The demo's business date therefore ends past the manifest's (a month and a few
days later); ``tenant apply`` never moves it back.

Seeding is one transaction, recorded as a ``demo.seed`` entry in the audit
log: a second run finds it and changes nothing. A tenant holding loans the
seed did not make is refused, so a real site is never filled with samples.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa

ASSETS = Path(__file__).resolve().parent / "demo_assets"
ACTOR = "operator:demo-seed"
ACTION = "demo.seed"


class SeedRefused(ValueError):
    """The tenant cannot be seeded (unknown to the seed, not a demo, holds its own loans); the reason says why."""


@dataclass(frozen=True)
class Person:
    key: str  # the seed's own name for the person: "borrower1", "lender2" …
    phone: str
    name: str
    id_number: str
    card: str = ""  # a bank card number, for those who withdraw


@dataclass(frozen=True)
class LoanPlan:
    key: str
    borrower: str
    title: str
    purpose: str
    amount: str
    rate: str
    months: int
    bids: tuple[tuple[str, str], ...] = ()  # (lender key, amount)
    fundraising_days: int = 20


@dataclass(frozen=True)
class SiteText:
    news: tuple[tuple[str, str, str], ...]  # (title, summary, body)
    banner_title: str
    banner: str  # file name in demo_assets
    media: tuple[tuple[str, str, str, str], ...] = ()  # (title, outlet, link, summary)
    industry: tuple[tuple[str, str, str], ...] = ()  # (title, summary, body)


# The page templates' placeholders as the demo fills them (the same details in each language).
_DETAILS = (
    (
        ("【公司全稱】", "【公司全称】", "[company name]"),
        ("鼎信示範科技有限公司", "鼎信示范科技有限公司", "Demo Lending Ltd."),
    ),
    (
        ("【公司地址】", "【公司地址】", "[company address]"),
        ("示範市中山路 1 號", "示范市中山路 1 号", "1 Demo Street, Demo City"),
    ),
    (("【客服電話】", "【客服电话】", "[hotline]"), ("400-000-0000",) * 3),
    (("【客服郵箱】", "【客服邮箱】", "[support email]"), ("support@demo.localhost",) * 3),
    (
        ("【ICP備案號】", "【ICP备案号】", "[registration number]"),
        ("示範網站，無備案", "示范网站，无备案", "demo site, none"),
    ),
    (
        ("【存管銀行】", "【存管银行】", "[custodian bank]"),
        ("沙盒存管銀行", "沙盒存管银行", "the sandbox custody bank"),
    ),
    (("【擔保機構】", "【担保机构】", "[guarantor]"), ("示範擔保公司", "示范担保公司", "the demo guarantor")),
    (("【比例】", "【比例】", "[percentage]"), ("1%",) * 3),
    (("【罰息利率】", "【罚息利率】", "[penalty rate]"), ("每日 0.05%", "每日 0.05%", "0.05% a day")),
    (
        ("【適用法律】", "【适用法律】", "[governing law]"),
        ("中華人民共和國法律", "中华人民共和国法律", "the law of the PRC"),
    ),
    (
        ("【管轄法院】", "【管辖法院】", "[court]"),
        ("平台所在地法院", "平台所在地法院", "the court where the platform is based"),
    ),
)


def _filled(text: str) -> str:
    for placeholders, values in _DETAILS:
        for placeholder, value in zip(placeholders, values):
            text = text.replace(placeholder, value)
    return text


def _resident_id(prefix: str, n: int) -> str:
    """A valid mainland resident ID (ISO 7064 MOD 11-2 check character) from a 14-digit prefix and ``n``."""
    body = f"{prefix}{n:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def _luhn(prefix: str) -> str:
    """``prefix`` with the Luhn check digit appended."""
    digits = [int(d) for d in prefix][::-1]
    total = sum(sum(divmod(d * 2, 10)) if i % 2 == 0 else d for i, d in enumerate(digits))
    return prefix + str((10 - total % 10) % 10)


# The same story on both sites, in each site's language, currency and identity papers. Amounts are in the
# site's currency and fit both sites' credit-loan bounds (demo 1,000–300,000; acme 500–50,000, 24 months).
_FUNDING = {
    "lender1": "60000",
    "lender2": "40000",
    "lender3": "20000",
    "member": "20000",
    "borrower2": "500",
}  # borrower2 tops up for the interest and fee of its one-month loan
_CREDIT_LINE = "60000"


def _plans(t: dict) -> dict[str, tuple[LoanPlan, ...]]:
    """The loans, by when they are made: ``start`` (then closed through days) and ``end`` (left open)."""
    start = (
        LoanPlan(
            "repaying",
            "borrower1",
            t["repaying"],
            t["repaying_why"],
            "30000",
            "9.6",
            12,
            (("lender1", "15000"), ("lender2", "10000"), ("lender3", "5000")),
        ),
        LoanPlan(
            "settled",
            "borrower2",
            t["settled"],
            t["settled_why"],
            "6000",
            "8.4",
            1,
            (("lender1", "3000"), ("lender2", "3000")),
        ),
        LoanPlan(
            "overdue",
            "borrower3",
            t["overdue"],
            t["overdue_why"],
            "8000",
            "12",
            6,
            (("lender1", "5000"), ("lender3", "3000")),
        ),
        LoanPlan(
            "failed",
            "borrower4",
            t["failed"],
            t["failed_why"],
            "10000",
            "10.8",
            12,
            (("lender2", "3000"),),
            fundraising_days=5,
        ),
    )
    end = (
        LoanPlan("open_new", "borrower4", t["open_new"], t["open_new_why"], "20000", "10.2", 12),
        LoanPlan(
            "open_part",
            "borrower2",
            t["open_part"],
            t["open_part_why"],
            "15000",
            "9",
            6,
            (("lender1", "4000"), ("lender3", "2000")),
        ),
        LoanPlan(
            "open_most",
            "borrower1",
            t["open_most"],
            t["open_most_why"],
            "10000",
            "11.4",
            9,
            (("lender1", "3000"), ("lender2", "3500"), ("member", "2000")),
        ),
        LoanPlan(
            "full", "borrower4", t["full"], t["full_why"], "8000", "9.6", 6, (("lender2", "5000"), ("lender1", "3000"))
        ),
        LoanPlan("submitted", "borrower2", t["submitted"], t["submitted_why"], "12000", "10.8", 12),
    )
    return {"start": start, "end": end}


_DEMO_PEOPLE = (
    Person("borrower1", "13900000001", "陳志明", _resident_id("31010419850312", 11)),
    Person("borrower2", "13900000002", "林美玲", _resident_id("44030519900621", 22)),
    Person("borrower3", "13900000003", "張建國", _resident_id("51010719780905", 33), _luhn("622202100112340001")),
    Person("borrower4", "13900000004", "黃淑芬", _resident_id("33010619880217", 44)),
    Person("lender1", "13900000011", "李家豪", _resident_id("11010819750430", 55), _luhn("622202100112340011")),
    Person("lender2", "13900000012", "吳雅婷", _resident_id("32010219920718", 66)),
    Person("lender3", "13900000013", "周俊傑", _resident_id("42010619830122", 77), _luhn("622202100112340013")),
)
_DEMO_MEMBER = Person("member", "13800138000", "王小明", "11010519491231002X")
_DEMO_PENDING = Person("pending", "13900000021", "蔡宜君", _resident_id("35020319950803", 88))

_DEMO_TEXT = {
    "repaying": "餐廳廚房設備更新借款",
    "repaying_why": "更換冷藏櫃與爐具，提升出餐效率。",
    "settled": "網店年貨備貨週轉",
    "settled_why": "農曆年前備貨，一個月內以銷貨款還清。",
    "overdue": "貨車維修週轉金",
    "overdue_why": "物流車輛大修與換胎。",
    "failed": "手作工坊擴充資金",
    "failed_why": "增購陶藝窯爐。",
    "open_new": "咖啡門市擴點資金",
    "open_new_why": "第二家門市裝修與設備。",
    "open_part": "花店春季備貨週轉",
    "open_part_why": "春季花材與包材採購。",
    "open_most": "職業培訓學費借款",
    "open_most_why": "報讀一年期的電工證照課程。",
    "full": "民宿客房翻新借款",
    "full_why": "三間客房更換寢具與空調。",
    "submitted": "烘焙坊設備採購",
    "submitted_why": "購置商用烤箱與攪拌機。",
}
_DEMO_SITE = SiteText(
    news=(
        (
            "示範站上線：歡迎體驗鼎信網貸",
            "這是一個示範網站：所有會員、借款與金額均為示範資料。",
            (
                "這是 Lendstack 的示範網站，所有會員、借款項目與金額都是示範資料，不涉及真實資金。\n\n"
                "您可以註冊或使用示範會員登入，透過沙盒支付充值、出借、提現，體驗完整流程。"
            ),
        ),
        (
            "出借前請先了解風險",
            "出借有風險：借款人可能逾期或無法還款。",
            (
                "每個借款項目都會標示利率、期限與還款方式。借款人可能逾期或無法還款，"
                "請分散出借，只使用可承受損失的資金。"
            ),
        ),
    ),
    banner_title="安心出借，輕鬆借款",
    banner="demo-banner.png",
    media=(
        (
            "示範站獲選年度最佳體驗平台",
            "示範財經日報",
            "https://example.com/demo-award",
            "報道介紹示範站的出借流程和資訊公開。",
        ),
    ),
    industry=(
        (
            "網絡借貸資訊披露指引更新",
            "新指引要求平台按月公布逾期率和借款餘額。",
            "新指引要求平台**按月**公布逾期率、借款餘額和出借人數量。\n\n本站的平台數據頁面已按新指引更新。",
        ),
    ),
)

_ACME_PEOPLE = (
    Person("borrower1", "+12025550101", "Daniel Carter", "X10000101"),
    Person("borrower2", "+12025550102", "Maria Lopez", "X10000102"),
    Person("borrower3", "+12025550103", "James Nguyen", "X10000103", _luhn("411111111111101")),
    Person("borrower4", "+12025550104", "Emily Brooks", "X10000104"),
    Person("lender1", "+12025550111", "Robert Hayes", "X10000111", _luhn("411111111111111")),
    Person("lender2", "+12025550112", "Linda Park", "X10000112"),
    Person("lender3", "+12025550113", "Samuel Reed", "X10000113", _luhn("411111111111113")),
)
_ACME_PENDING = Person("pending", "+12025550121", "Grace Turner", "X10000121")

_ACME_TEXT = {
    "repaying": "Restaurant kitchen refit",
    "repaying_why": "New refrigeration and a range for a family diner.",
    "settled": "Holiday stock for an online shop",
    "settled_why": "Seasonal stock, repaid from its sales in a month.",
    "overdue": "Delivery van repair",
    "overdue_why": "Engine overhaul and new tyres.",
    "failed": "Pottery studio kiln",
    "failed_why": "A second kiln for a pottery studio.",
    "open_new": "Second coffee shop fit-out",
    "open_new_why": "Fit-out and equipment for a second location.",
    "open_part": "Florist spring stock",
    "open_part_why": "Spring flowers and packaging.",
    "open_most": "Electrician training course",
    "open_most_why": "Tuition for a one-year licence course.",
    "full": "Guest house room refresh",
    "full_why": "Bedding and air conditioning for three rooms.",
    "submitted": "Bakery equipment",
    "submitted_why": "A commercial oven and a mixer.",
}
_ACME_SITE = SiteText(
    news=(
        (
            "Welcome to the Acme Lending demo",
            "This is a demo site: every member, loan and amount is sample data.",
            (
                "This is a Lendstack demo site. Every member, loan and amount here is sample data; no real money "
                "moves.\n\nSign up, recharge through the sandbox gateway, invest and withdraw to try the whole story."
            ),
        ),
        (
            "Know the risks before you invest",
            "Borrowers may pay late or not at all.",
            (
                "Each loan shows its rate, term and repayment method. Borrowers may pay late or not at all: spread "
                "your money over several loans and invest only what you can afford to lose."
            ),
        ),
    ),
    banner_title="Fair loans, funded by people",
    banner="acme-banner.png",
    media=(
        (
            "Acme Lending among the year's friendliest platforms",
            "Demo Business Daily",
            "https://example.com/acme-award",
            "The article looks at how Acme Lending shows each loan's full cost.",
        ),
    ),
    industry=(
        (
            "Disclosure rules for lending platforms updated",
            "Platforms now publish overdue rates and outstanding loans every month.",
            "Platforms now publish **every month** their overdue rate, outstanding loans and number of lenders."
            "\n\nOur platform figures page follows the new rules.",
        ),
    ),
)

SEEDS = {
    "demo": {
        "people": _DEMO_PEOPLE,
        "member": _DEMO_MEMBER,
        "pending": _DEMO_PENDING,
        "loans": _plans(_DEMO_TEXT),
        "site": _DEMO_SITE,
    },
    "acme": {
        "people": _ACME_PEOPLE,
        "member": None,
        "pending": _ACME_PENDING,
        "loans": _plans(_ACME_TEXT),
        "site": _ACME_SITE,
    },
}
DAYS_PAST_DUE = 4  # how late the overdue installment is when the seed ends


def seeded(session, tenant) -> bool:
    """Whether the demo seed already ran for ``tenant`` (its ``demo.seed`` audit entry)."""
    from core.accounts.models import AuditEvent

    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.tenant_id == tenant.id, AuditEvent.action == ACTION)
        )
        > 0
    )


class _Seeder:
    """One tenant's seed: the session, the tenant, its plugins and the people made so far."""

    def __init__(self, session, tenant, plugins, settings, password: str):
        self.session, self.tenant, self.plugins, self.settings = session, tenant, plugins, settings
        self.password = password
        self.people: dict = {}
        self.cards: dict = {}  # member id → the id of the bank card the seed bound
        self.loans: dict = {}

    @property
    def hooks(self):
        # built afresh: the per-tenant caller reads the tenant as it is now (its business date)
        return self.plugins.for_tenant(self.tenant)

    # -- members ---------------------------------------------------------------

    def member(self, person: Person, *, verified: bool = True):
        """The person's member account, created (and verified) when missing."""
        from core.loans import set_credit_line
        from core.members.services import (
            add_card,
            clean_phone,
            create_member,
            find_member,
        )

        existing = find_member(self.session, self.tenant, clean_phone(self.tenant, person.phone))
        if existing is not None:
            if verified and not existing.is_verified:
                raise SeedRefused(f"member {person.phone} exists and is not verified")
            self.people[person.key] = existing
            return existing
        member = create_member(
            self.session,
            self.tenant,
            phone=person.phone,
            password=self.password,
            legal_name=person.name,
            id_number=person.id_number,
            verified=verified,
        )
        if verified and person.key.startswith("borrower"):
            set_credit_line(member, _CREDIT_LINE, self.tenant.currency, "A")
        if person.card:
            self.cards[member.id] = add_card(
                self.session, self.tenant, member, bank_name=self._bank(), holder_name=person.name, number=person.card
            ).id
        self.people[person.key] = member
        return member

    def _bank(self) -> str:
        return "中國工商銀行" if self.tenant.currency == "CNY" else "First Demo Bank"

    # -- money -------------------------------------------------------------------

    def recharge(self, member, amount: str) -> None:
        """A recharge through the sandbox gateway: its checkout started, its signed "paid" callback applied."""
        from core.payments import gateways
        from core.payments.models import CallbackRecord
        from core.payments.services import apply_payment_callback, start_recharge

        gateway = gateways(self.hooks).get("sandbox")
        if gateway is None:
            raise SeedRefused("the sandbox gateway is not enabled (with its secret) in the tenant's manifest")
        payment, _instruction = start_recharge(
            self.session, self.tenant, self.hooks, member, "sandbox", amount, "/account/recharge/REFERENCE"
        )
        body, headers = gateway.callback_body(payment.reference, True, amount, self.tenant.currency)
        verdict, reason = apply_payment_callback(
            self.session, self.tenant, gateway.verify_callback(body, headers), "sandbox"
        )
        self.session.add(
            CallbackRecord(
                tenant_id=self.tenant.id,
                gateway="sandbox",
                kind="payment",
                reference=payment.reference,
                verdict=verdict,
                reason=reason,
                body=body.decode(),
                address="console",
            )
        )

    def withdraw_everything(self, member) -> None:
        """The member withdraws their whole available balance to their card; a cashier approves the payout."""
        from core.ledger import Ledger, Wallet
        from core.money import Money
        from core.payments.services import approve_withdrawal, request_withdrawal

        available = Wallet(Ledger(self.session, self.tenant.id), member.id, self.tenant.currency).funds().available
        withdrawal = request_withdrawal(
            self.session,
            self.tenant,
            self.hooks,
            member,
            self.cards[member.id],
            str(Money(available, self.tenant.currency).amount),
        )
        approve_withdrawal(self.session, self.tenant, self.hooks, withdrawal, by=ACTOR)

    # -- loans -------------------------------------------------------------------

    def loan(self, plan: LoanPlan):
        """Apply, pass the first review, and place the plan's bids (a loan bid to its amount becomes full)."""
        from core import loans

        form = {
            "loan_type": "credit",
            "title": plan.title,
            "purpose": plan.purpose,
            "amount": plan.amount,
            "annual_rate_percent": plan.rate,
            "term_months": str(plan.months),
            "repayment_method": "equal_installment",
            "fundraising_days": str(plan.fundraising_days),
        }
        loan = loans.apply(self.session, self.tenant, self.hooks, self.people[plan.borrower], form)
        self.loans[plan.key] = loan
        if plan.key == "submitted":
            return loan
        loans.review(self.session, self.tenant, self.hooks, loan, approve=True, reason="", by=ACTOR)
        for n, (lender, amount) in enumerate(plan.bids):
            loans.place_bid(
                self.session,
                self.tenant,
                self.hooks,
                loan.id,
                self.people[lender],
                amount,
                key=f"demo:{loan.number}:{n}",
            )
        return loan

    def disburse(self, key: str) -> None:
        from core import loans

        loans.final_review(self.session, self.tenant, self.hooks, self.loans[key], approve=True, reason="", by=ACTOR)

    def close_days_through(self, last: dt.date) -> int:
        """Close of day for every business date up to ``last``, as ``lendstack jobs close-of-day`` does."""
        from core import loans

        closed = 0
        while self.tenant.business_date <= last:
            loans.close_of_day(self.session, self.tenant, self.tenant.business_date, hooks=self.hooks)
            closed += 1
        return closed

    # -- content -----------------------------------------------------------------

    def content(self, site: SiteText) -> None:
        """Articles in each section, the built-in pages with the demo's details, and a banner (its picture
        checked by its bytes, like an upload) — all written, reviewed and published as staff would."""
        from core.content import review
        from core.content.defaults import ensure_defaults
        from core.content.models import ContentItem, Section
        from core.content.services import Editor, save

        ensure_defaults(self.session, self.tenant)
        mine = Section.tenant_id == self.tenant.id
        sections = {s.code: s for s in self.session.scalars(sa.select(Section).where(mine, Section.code.is_not(None)))}
        editor, locale = Editor(None, ACTOR, writes=True, designs=True), self.tenant.default_locale

        def publish(form: dict, **where) -> None:
            item = save(self.session, self.tenant, self.settings, form, editor=editor, **where)
            review.submit(item)
            review.approve(item, None)
            review.publish(item)

        for title, summary, body in site.news:
            publish({"title": title, "summary": summary, "body": body, "locale": locale}, section=sections["news"])
        for title, outlet, link, summary in site.media:
            form = {"title": title, "source": outlet, "link_url": link, "summary": summary, "locale": locale}
            publish(form, section=sections["media"])
        for title, summary, body in site.industry:
            publish({"title": title, "summary": summary, "body": body, "locale": locale}, section=sections["industry"])
        pages = self.session.scalars(
            sa.select(ContentItem)
            .where(ContentItem.tenant_id == self.tenant.id, ContentItem.kind == "page")
            .order_by(ContentItem.id)
        )
        for page in pages.all():
            form = {"title": page.title, "body": _filled(page.body), "locale": page.locale, "slug": page.slug}
            publish(form | {"position": str(page.position)}, item=page)
        with (ASSETS / site.banner).open("rb") as picture:
            form = {"title": site.banner_title, "link_url": "/invest", "locale": locale}
            publish(form, banner=True, cover=SimpleNamespace(file=picture, type="image/png"))


def _accept_agreements(session, tenant) -> None:
    """The demo's members accepted the agreements the seed just published, as they would have when registering
    (and bidding): the sample site opens on their accounts, not on the new-agreements page."""
    from core.members import agreements
    from core.members.models import Member

    for member in session.scalars(sa.select(Member).where(Member.tenant_id == tenant.id)):
        items = agreements.pending(session, tenant, member.id, agreements.PAGES, tenant.default_locale)
        agreements.record(session, member, items, "demo seed")


def seed(session, tenant, plugins, settings, *, password: str | None = None) -> dict:
    """Fill ``tenant`` with the demo's sample site; what was made (``{"seeded": False}``: it was already).

    ``plugins``: the install's plugin registry; ``settings``: its ``AppSettings``
    (content images go under its ``var_dir``); ``password``: the seeded members'
    sign-in password (default: a random one nobody knows). Raises
    :class:`SeedRefused` for a tenant the seed has no story for or that holds
    loans of its own, and the services' own errors for anything they refuse.
    """
    from core import audit, loans
    from core.payments.services import request_withdrawal

    from .credit_seed import seed_credit

    story = SEEDS.get(tenant.slug)
    if story is None:
        raise SeedRefused(f"there is no demo story for tenant {tenant.slug!r} (only {', '.join(sorted(SEEDS))})")
    if seeded(session, tenant):
        return {"seeded": False, "business_date": tenant.business_date.isoformat()}
    if session.scalar(sa.select(sa.func.count()).select_from(loans.Loan)):
        raise SeedRefused(f"tenant {tenant.slug!r} already has loans: the demo seed fills only a new demo site")
    seeder = _Seeder(session, tenant, plugins, settings, password or secrets.token_urlsafe(24))
    started = tenant.business_date
    for person in story["people"] + ((story["member"],) if story["member"] else ()):
        seeder.member(person)
    seeder.member(story["pending"], verified=False)  # waits in the verification queue
    for key, amount in _FUNDING.items():
        if key in seeder.people:
            seeder.recharge(seeder.people[key], amount)

    for plan in story["loans"]["start"]:
        seeder.loan(plan)
    for key in ("repaying", "settled", "overdue"):
        seeder.disburse(key)
    seeder.withdraw_everything(seeder.people["borrower3"])  # so its first installment goes unpaid
    due = seeder.loans["overdue"].installments[0].due_date
    closed = seeder.close_days_through(due + dt.timedelta(days=DAYS_PAST_DUE))

    for plan in story["loans"]["end"]:  # a site without the README's member leaves its bid out
        seeder.loan(replace(plan, bids=tuple(bid for bid in plan.bids if bid[0] in seeder.people)))
    lender = seeder.people["lender3"]
    request_withdrawal(session, tenant, seeder.hooks, lender, seeder.cards[lender.id], "1000")  # waits for a cashier
    seeder.content(story["site"])
    _accept_agreements(session, tenant)
    credit = seed_credit(session, tenant, seeder.hooks, seeder.people, actor=ACTOR)

    summary = {
        "seeded": True,
        "members": len(seeder.people),
        "closed_days": closed,
        "from": started.isoformat(),
        "business_date": tenant.business_date.isoformat(),
        "loans": {key: str(loan.status) for key, loan in seeder.loans.items()},
        "credit": credit,
    }
    audit.record_cli(session, ACTION, "tenant", tenant.id, None, summary, tenant_id=tenant.id, actor=ACTOR)
    return summary
