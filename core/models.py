"""Imports every model module so that ``Base.metadata`` knows all tables (migrations, tests), and the
domains' invariants that ``ledger verify`` checks beside the ledger's own."""

from . import notification_triggers  # noqa: F401 - members told of loan and money events; VIP points
from .accounts.models import AuditEvent, AuthSession, Operator, OrgUnit, Role, StaffGroup, StaffUser  # noqa: F401
from .accounts.welcome import WelcomeToken  # noqa: F401
from .chat.models import CannedReply, Chat, ChatAgent, ChatMessage, OfficeHours  # noqa: F401
from .community.models import Board, CommunitySettings, Post, Report, Topic  # noqa: F401
from .content.models import ContentItem, ContentVersion, Section  # noqa: F401
from .credit.alerts.models import Alert, AlertRule  # noqa: F401
from .credit.applications.models import CreditApplication, CreditProduct  # noqa: F401
from .credit.classification.models import ClassChange, ClassProposal, ClassSnapshot, LoanRisk  # noqa: F401
from .credit.contracts.models import Contract, Disbursement, FundInjection, LendingFund  # noqa: F401
from .credit.customers.models import Customer  # noqa: F401
from .credit.rating.models import ModelVersion, Rating, RatingModel  # noqa: F401
from .credit.repayments.models import OfflineRepayment  # noqa: F401
from .help.models import FaqCategory, FaqQuestion, FaqVote, Thread  # noqa: F401
from .idempotency import IdempotencyKey  # noqa: F401
from .ledger.models import LedgerAccount, LedgerTransfer  # noqa: F401
from .loans import integrity  # noqa: F401 - invariants 5–7 (bids, schedules, disbursements)
from .loans.agreement import LoanAgreement  # noqa: F401
from .loans.autoinvest import AutoInvestRule  # noqa: F401
from .loans.guarantors import Guarantor  # noqa: F401
from .loans.models import Bid, ClosedDay, Installment, Loan, LoanEvent, Payback  # noqa: F401
from .loans.schedule_jobs import ReminderSent  # noqa: F401
from .mail import MailMessage  # noqa: F401
from .members.agreements import MemberAgreement  # noqa: F401
from .members.models import BankCard, Member, MemberDocument, Message, PointsEntry, VerificationCode, Violation  # noqa: F401
from .numbering import COUNTERS  # noqa: F401
from .payments.models import Adjustment, CallbackRecord, Payment, Withdrawal  # noqa: F401
from .payments.reserve import ReserveRequest  # noqa: F401
from .sms import SmsMessage  # noqa: F401
from .sms_templates import SmsTemplate  # noqa: F401
from .tenancy.models import Tenant, TenantHost, TenantPlugin, TenantVersion  # noqa: F401
from .uploads import TenantFile  # noqa: F401
