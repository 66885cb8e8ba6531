"""``kring solve``'s setting options, generated from the settings' fields.

Each run setting is declared once, as a ``matching`` ``Field`` (run-level ones and every
registered rule's); :class:`SettingsCommand` turns each into an option (``max_per_gemeente``
-> ``--max-per-gemeente``, ``affinity`` weights -> ``--affinity-need``...) whose value is
checked by ``matching.check_value``, the very check ``RunSettings`` applies, with the
field's help text (English; Dutch with ``--lang nl``).  The options are made when ``solve``
parses its arguments, so ``kring --help`` stays fast (no ``matching`` import) and a rule
registered before the call has its option.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperOption

SETTINGS = "kring.settings"
"""``ctx.meta`` key of the settings given on the command line (name -> value)."""
ALIASES: dict[str, tuple[str, ...]] = {"max_pair_km": ("--max-km",),
                                       "time_limit_s": ("--time-limit",)}  # fmt: skip
"""Older option names that keep working."""
PANEL = ("Run settings", "Instellingen van de run")
"""Help panel of the generated options (English, Dutch)."""


def _num(bound: float) -> str:
    return f"{int(bound):,}" if float(bound).is_integer() else f"{bound:g}"


def _bounds(field: Any) -> str:
    if field.ge is not None and field.le is not None:
        return f"{_num(field.ge)}-{_num(field.le)}"
    low = f">{_num(field.gt)}" if field.gt is not None else None
    low = f">={_num(field.ge)}" if field.ge is not None else low
    high = f"<={_num(field.le)}" if field.le is not None else None
    return ", ".join(b for b in (low, high) if b)


class FieldValue:
    """Turns a command-line text into one setting's value, checked against its field.

    Used as the option's callback: a value that does not fit is a usage error (exit 2)
    naming the setting.
    """

    def __init__(self, field: Any, name: str, weight: bool = False) -> None:
        self.field, self.setting, self.weight = field, name, weight

    def parse(self, raw: str) -> Any:
        """The text as the field's type (``none``: off, for a nullable field)."""
        kind = self.field.type
        if self.field.nullable and raw.lower() == "none" and "none" not in self.field.choices:
            return None
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            if raw.lower() not in ("true", "false", "yes", "no", "ja", "nee", "1", "0"):
                raise ValueError(raw)
            return raw.lower() in ("true", "yes", "ja", "1")
        if kind == "list[str]":
            return [part.strip() for part in raw.split(",") if part.strip()]
        return raw

    def __call__(self, ctx: typer.Context, param: Any, value: str | None) -> Any:
        """The checked value (``None`` when not given)."""
        from matching import SettingsError, check_value

        if value is None:
            return None
        try:
            parsed = self.parse(value)
        except ValueError:
            problem = f"{self.setting}: {value!r} is not a {self.field.type}"
            raise typer.BadParameter(problem) from None
        try:
            return check_value(self.field, parsed)
        except SettingsError as exc:
            raise typer.BadParameter(f"{self.setting}: {exc.reason}") from None

    @property
    def metavar(self) -> str:
        """``[a|b]`` for choices, else the value type in capitals."""
        if self.field.choices:
            return "[" + "|".join(self.field.choices) + "]"
        return {"list[str]": "A,B"}.get(self.field.type, self.field.type.upper())


def _help(field: Any, lang: str) -> str:
    text = field.nl if lang == "nl" else field.en
    extra = [_bounds(field)] if _bounds(field) else []
    if field.default is not None:
        shown = field.default
        shown = ",".join(shown) if isinstance(shown, list | tuple) else shown
        extra.append(("standaard " if lang == "nl" else "default ") + str(shown))
    return text + (f" [{'; '.join(extra)}]" if extra else "")


def _option(value: FieldValue, lang: str) -> TyperOption:
    name = value.setting
    decls = [f"--{name.replace('_', '-')}", *ALIASES.get(name, ()), name]
    option = TyperOption(param_decls=decls, type=str, default=None, callback=value,
                         metavar=value.metavar, help=_help(value.field, lang),
                         rich_help_panel=PANEL[lang == "nl"])  # fmt: skip
    option.setting = value  # type: ignore[attr-defined]
    return option


def setting_options(lang: str = "en") -> list[TyperOption]:
    """One option per setting field (affinity weights as ``--affinity-<weight>``).

    Parameters
    ----------
    lang
        Language of the help texts: ``en`` or ``nl``.

    Returns
    -------
    list of TyperOption
        Options whose parameter name is the setting's (``affinity_<weight>`` for weights);
        not given: ``None`` (the setting's default applies).
    """
    from matching import AFFINITY_FIELDS, setting_fields

    named = [(f, f.name, False) for f in setting_fields()]
    named += [(f, f"affinity_{f.name}", True) for f in AFFINITY_FIELDS]
    return [
        _option(FieldValue(field, name, weight), lang) for field, name, weight in named
    ]  # fmt: skip


def _lang_of(args: list[str]) -> str:
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return "en"


class SettingsCommand(TyperCommand):
    """A typer command with an option per setting field, made when it parses its arguments.

    The values given reach the command as ``ctx.meta[SETTINGS]`` (setting name -> value,
    affinity weights as a nested ``affinity`` mapping), ready for ``RunSettings.from_dict``.
    """

    _generated: tuple[str, ...] = ()

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        """Generate the setting options (help in the ``--lang`` asked), then parse."""
        self.params = [p for p in self.params if p.name not in self._generated]
        options = setting_options(_lang_of(args))
        self._generated = tuple(str(o.name) for o in options)
        at = next((i for i, p in enumerate(self.params) if p.name == "lang"), len(self.params))
        self.params[at:at] = options
        return super().parse_args(ctx, args)

    def invoke(self, ctx: typer.Context) -> Any:
        """Move the setting values out of the parameters into ``ctx.meta[SETTINGS]``."""
        given: dict[str, Any] = {}
        for param in self.params:
            if param.name not in self._generated:
                continue
            value = ctx.params.pop(param.name, None)
            if value is None:
                continue
            setting = getattr(param, "setting", None)
            if setting is not None and setting.weight:
                given.setdefault("affinity", {})[setting.field.name] = value
            else:
                given[param.name] = value
        ctx.meta[SETTINGS] = given
        return super().invoke(ctx)
