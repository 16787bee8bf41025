"""State machines: one status enum and one transition table per lifecycle.

A lifecycle (a loan, a bid, a recharge, a withdrawal …) names its states in a
``StrEnum`` — members equal their strings, so the database column, templates,
label tables and JSON keep the same values — and says in one table which
changes are allowed::

    class BidStatus(StrEnum):
        FROZEN = "frozen"
        ACCEPTED = "accepted"
        REFUNDED = "refunded"

    BIDS = StateMachine("bid", BidStatus, {
        BidStatus.FROZEN: {BidStatus.ACCEPTED, BidStatus.REFUNDED},
    }, initial=BidStatus.FROZEN)

    BIDS.move(bid, BidStatus.ACCEPTED)   # checked against the table, then set
    BIDS.can(bid, BidStatus.REFUNDED)    # False once accepted

Every status change goes through :meth:`StateMachine.move`; a change the table
does not allow raises :class:`core.domain.InvalidTransition` and changes
nothing. A state missing from the table's keys is final. Bulk updates keep to
the table by selecting only rows in :meth:`StateMachine.sources_of` the new
state. Services still check their own preconditions first and refuse with
the message a person can act on; the table is the last word, so a path that
forgets a check cannot reach a state the lifecycle does not have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from .domain import InvalidTransition
from .i18n import _

S = TypeVar("S", bound=StrEnum)


class StateMachine(Generic[S]):
    """One lifecycle: its states (``states``, a ``StrEnum``), its ``initial`` state and the allowed changes."""

    def __init__(self, name: str, states: type[S], transitions: Mapping[S, Iterable[S]], initial: S):
        self.name, self.states, self.initial = name, states, states(initial)
        self.transitions: dict[S, frozenset[S]] = {state: frozenset() for state in states}
        for source, targets in transitions.items():
            # states(...) refuses a value the enum does not have: a typo in a table fails at import
            self.transitions[states(source)] = frozenset(states(target) for target in targets)

    def __repr__(self) -> str:
        return f"<StateMachine {self.name}>"

    def targets_of(self, source: str) -> frozenset[S]:
        """The states ``source`` may change to (empty: ``source`` is final)."""
        return self.transitions[self.states(source)]

    def sources_of(self, target: str) -> frozenset[S]:
        """The states that may change to ``target``: the ``WHERE status IN (...)`` of a bulk update."""
        target = self.states(target)
        return frozenset(source for source, targets in self.transitions.items() if target in targets)

    def final_states(self) -> frozenset[S]:
        """The states nothing leaves."""
        return frozenset(state for state, targets in self.transitions.items() if not targets)

    def allows(self, source: str, target: str) -> bool:
        """Whether the table allows ``source`` → ``target`` (an unknown state allows nothing)."""
        try:
            return self.states(target) in self.targets_of(source)
        except ValueError:
            return False

    def can(self, obj, to: str, attribute: str = "status") -> bool:
        """Whether ``obj`` (its ``attribute`` holding the current state) may move to ``to`` now."""
        return self.allows(getattr(obj, attribute), to)

    def move(self, obj, to: str, attribute: str = "status") -> S:
        """Set ``obj``'s ``attribute`` to ``to`` if the table allows the change from its current state.

        Raises :class:`~core.domain.InvalidTransition` (field: ``attribute``) and changes nothing otherwise;
        moving to the state it is already in is refused too, unless the table lists it.
        Returns the new state.
        """
        current = getattr(obj, attribute)
        if not self.allows(current, to):
            # ``machine`` is for logs and tests: the message a person reads names the two states only
            raise InvalidTransition(
                attribute,
                _(
                    "This is ${current} now and cannot become ${target}.",
                    mapping={"machine": self.name, "current": str(current), "target": str(to)},
                ),
            )
        target = self.states(to)
        setattr(obj, attribute, target)
        return target

    def table(self) -> dict[str, list[str]]:
        """The transition table as plain strings, sources in the enum's order and targets sorted (for docs)."""
        return {str(source): sorted(str(target) for target in targets) for source, targets in self.transitions.items()}
