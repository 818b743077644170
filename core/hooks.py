"""Hooks: how a lower layer asks a higher one for something without importing it.

A lower app declares a `Hook`; a higher app registers a function into it in its AppConfig.ready(); the lower
app calls every registered function. Registering the same function twice keeps one (ready() may run twice in
tests)."""

from collections.abc import Callable, Iterator


class Hook:
    def __init__(self, name: str, doc: str = ""):
        self.name = name
        self.__doc__ = doc
        self._functions: list[Callable] = []

    def register(self, function: Callable) -> Callable:
        if function not in self._functions:
            self._functions.append(function)
        return function

    def __iter__(self) -> Iterator[Callable]:
        return iter(list(self._functions))

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._functions)} registered>"
