"""Alembic environment: the engine comes from the app (``core.migrate``)."""

from alembic import context

import core.models  # noqa: F401  (every table registered on Base.metadata)
from core.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
