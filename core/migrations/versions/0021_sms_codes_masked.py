"""one-time codes never stored readably

Revision ID: 0021
Revises: 0020

Messages that carry a one-time code keep it only masked (``******``) in the
text and parameters every reader sees; the text to deliver is held in the new
``sealed`` column (core.db.SealedJSON: encrypted) until delivery is settled.
Codes already stored are masked here: messages of a code purpose
(``code.register``, ``code.reset``) or of the ``verification_code`` template.
A message still queued loses its code — it expired within ten minutes anyway.
"""

import json
import re

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

MASK = "******"
SIX_DIGITS = re.compile(r"(?<!\d)\d{6}(?!\d)")  # the platform's codes are 6 digits


def mask_text(text: str, code: str | None) -> str:
    """``text`` with ``code`` (when known) and any other 6-digit run masked."""
    if code:
        text = text.replace(code, MASK)
    return SIX_DIGITS.sub(MASK, text)


def _params(value) -> dict:
    if isinstance(value, str):
        value = json.loads(value or "{}")
    return dict(value or {})


def mask_sms(connection) -> None:
    sms = sa.table(
        "sms_messages",
        sa.column("id", sa.Integer),
        sa.column("body", sa.Text),
        sa.column("purpose", sa.String),
        sa.column("template", sa.String),
        sa.column("params", sa.JSON),
    )
    rows = connection.execute(
        sa.select(sms.c.id, sms.c.body, sms.c.params).where(
            sa.or_(sms.c.purpose.like("code.%"), sms.c.template == "verification_code")
        )
    ).all()
    for row in rows:
        params = _params(row.params)
        code = params.get("code")
        if "code" in params:
            params["code"] = MASK
        connection.execute(
            sa.update(sms).where(sms.c.id == row.id).values(body=mask_text(row.body or "", code), params=params)
        )


def mask_mail(connection) -> None:
    mail = sa.table(
        "mail_messages", sa.column("id", sa.Integer), sa.column("body", sa.Text), sa.column("purpose", sa.String)
    )
    rows = connection.execute(sa.select(mail.c.id, mail.c.body).where(mail.c.purpose.like("code.%"))).all()
    for row in rows:
        connection.execute(sa.update(mail).where(mail.c.id == row.id).values(body=mask_text(row.body or "", None)))


def upgrade():
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.Text(), nullable=True))
    with op.batch_alter_table('mail_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.Text(), nullable=True))
    connection = op.get_bind()
    mask_sms(connection)
    mask_mail(connection)


def downgrade():
    # The codes masked by the upgrade are gone for good (as they should be); only the column goes.
    with op.batch_alter_table('mail_messages', schema=None) as batch_op:
        batch_op.drop_column('sealed')
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.drop_column('sealed')
