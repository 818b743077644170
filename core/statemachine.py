"""Allowed moves between states, declared as data and used by the API, the pages and the admin alike."""

from collections.abc import Mapping

from core.words import with_article


class TransitionNotAllowed(Exception):
    """A move the state machine refuses. The message says why, in a sentence fit for the user."""


class StateMachine:
    def __init__(self, name: str, moves: Mapping[str, set[str]], labels: Mapping[str, str]):
        unknown = {target for targets in moves.values() for target in targets} - set(moves)
        if unknown:
            raise ValueError(f"{name} state machine moves to undeclared states: {sorted(unknown)}")
        self.name = name
        self.moves = {state: frozenset(targets) for state, targets in moves.items()}
        self.labels = labels

    def can(self, source: str, target: str) -> bool:
        return target in self.moves.get(source, ())

    def allowed_from(self, source: str) -> list[str]:
        return [state for state in self.moves if state in self.moves.get(source, ())]

    def check(self, source: str, target: str) -> None:
        if self.can(source, target):
            return
        allowed = self.allowed_from(source)
        if source == target:
            reason = f"The {self.name} is already {self.labels[source].lower()}."
        elif not allowed:
            reason = f"A {self.labels[source].lower()} {self.name} cannot change state any more."
        else:
            choices = ", ".join(self.labels[state].lower() for state in allowed)
            reason = (
                f"{with_article(self.name).capitalize()} cannot move from {self.labels[source].lower()} to "
                f"{self.labels[target].lower()}; from {self.labels[source].lower()} it can move to: {choices}."
            )
        raise TransitionNotAllowed(reason)
