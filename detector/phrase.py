"""Sentences a report can be read in, in any language.

A check writes its summary as a ``Phrase``: an English template with named placeholders (the
gettext message id, marked for extraction by the ``phrase`` call) and the values to fill in.
The Report keeps the phrase beside the English sentence, so a renderer can translate the
template and fill in the same values (service/i18n.py); nothing else in the Report is prose.
A value may itself be a phrase (a clause chosen by the check), translated the same way."""

from collections.abc import Callable
from typing import Union

from pydantic import BaseModel, ConfigDict

Value = Union[str, int, float, "Phrase"]


class Phrase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str  # the English template, str.format style: "{count} frames ({share:.0%})"
    args: dict[str, Value] = {}

    def render(self, translate: Callable[[str], str] = str) -> str:
        """The sentence, its template (and every clause's) passed through ``translate``."""
        values = {
            k: v.render(translate) if isinstance(v, Phrase) else v for k, v in self.args.items()
        }
        return translate(self.text).format(**values)

    def __str__(self) -> str:
        return self.render()


def phrase(text: str, /, **args: Value) -> Phrase:
    """A translatable sentence; ``pybabel extract -k phrase`` finds ``text``."""
    return Phrase(text=text, args=args)


def join(parts: list[Phrase]) -> Phrase:
    """Clauses in a list, "a; b; c", the separator translated with them."""
    if len(parts) == 1:
        return parts[0]
    return phrase("{first}; {rest}", first=parts[0], rest=join(parts[1:]))
